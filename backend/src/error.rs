//! One error type for the whole API. Its body is the one of API.md:
//! `{"error": {"code", "message"}}`; 5xx bodies are opaque and the cause is logged.
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a handler can answer with besides success.
#[derive(Debug)]
pub enum AppError {
    /// 400 `bad_request`: malformed body or query.
    BadRequest(String),
    /// 401 with a code (`unauthorized`, `invalid_code`).
    Unauthorized(&'static str, &'static str),
    /// 403 `forbidden` or a specific code.
    Forbidden(&'static str, &'static str),
    /// 404 `not_found`: missing or not visible to the caller.
    NotFound,
    /// 409 with a code.
    Conflict(&'static str, String),
    /// 410 with a code (`token_expired`).
    Gone(&'static str, &'static str),
    /// 413 `payload_too_large`.
    PayloadTooLarge,
    /// 415 `unsupported_media_type`.
    UnsupportedMediaType,
    /// 422 with a specific rule code.
    Unprocessable(&'static str, String),
    /// 422 `import_invalid`: the body also lists the bad rows of an uploaded file.
    ImportInvalid(String, Vec<RowError>),
    /// 429 with a code and the seconds to wait.
    TooMany(&'static str, &'static str, u64),
    /// 503 with a code: a dependency outside our control failed.
    Unavailable(&'static str, &'static str),
    /// 500: logged with its cause, answered opaquely.
    Internal(String),
}

/// The registry of error codes: every `code` the API answers with, its status and
/// what it means. The OpenAPI document lists these codes, a debug build refuses to
/// answer with one that is missing here, and a test scans the source for codes
/// that are used but not listed.
pub const CODES: &[(&str, u16, &str)] = &[
    ("already_cancelled", 409, "already cancelled"),
    ("already_done", 409, "already done"),
    ("already_granted", 409, "already granted"),
    ("already_leader", 409, "already leader"),
    ("already_member", 409, "already member"),
    ("already_signed_up", 409, "already signed up"),
    ("bad_request", 400, "malformed body, query or header"),
    ("campaign_closed", 409, "campaign closed"),
    ("cancelled", 409, "the activity is cancelled"),
    ("capacity_below_signups", 409, "capacity below signups"),
    ("case_closed", 409, "case closed"),
    ("code_locked", 429, "too many wrong codes; see Retry-After"),
    ("conflict", 409, "the record changed meanwhile"),
    ("consent_required", 422, "consent required"),
    ("duplicate_unit", 422, "duplicate unit"),
    ("empty_file", 422, "empty file"),
    ("forbidden", 403, "signed in but not allowed"),
    (
        "idempotency_key_reused",
        422,
        "the Idempotency-Key was used on another request",
    ),
    ("full", 409, "no places left"),
    (
        "gender_required",
        422,
        "women's organizations need gender female",
    ),
    (
        "import_invalid",
        422,
        "uploaded rows with problems (listed in rows)",
    ),
    ("internal", 500, "server fault (opaque, logged)"),
    ("invalid_address", 422, "address not valid"),
    ("invalid_amount", 422, "amount not valid"),
    ("invalid_audience", 422, "audience not valid"),
    ("invalid_birth_date", 422, "birth date not valid"),
    ("invalid_body", 422, "body not valid"),
    ("invalid_capacity", 422, "capacity not valid"),
    ("invalid_category", 422, "category not valid"),
    ("invalid_centre", 422, "centre not valid"),
    ("invalid_code", 401, "wrong or expired SMS code"),
    ("invalid_date", 422, "date not valid"),
    ("invalid_description", 422, "description not valid"),
    ("invalid_details", 422, "details not valid"),
    ("invalid_employee_count", 422, "employee count not valid"),
    ("invalid_form", 422, "form not valid"),
    ("invalid_form_region", 422, "form region not valid"),
    ("invalid_form_units", 422, "form units not valid"),
    ("invalid_gender", 422, "gender not valid"),
    ("invalid_goods", 422, "goods not valid"),
    ("invalid_hardship_class", 422, "hardship class not valid"),
    ("invalid_homes", 422, "homes not valid"),
    ("invalid_industry", 422, "industry not valid"),
    ("invalid_join_policy", 422, "join policy not valid"),
    ("invalid_kind", 422, "kind not valid"),
    ("invalid_level", 422, "level not valid"),
    ("invalid_method", 422, "method not valid"),
    ("invalid_name", 422, "name not valid"),
    ("invalid_note", 422, "note not valid"),
    ("invalid_occasion", 422, "occasion not valid"),
    ("invalid_org", 422, "org not valid"),
    ("invalid_parent", 422, "parent not valid"),
    ("invalid_phone", 422, "phone not valid"),
    ("invalid_platform", 422, "platform not valid"),
    ("invalid_position", 422, "position not valid"),
    ("invalid_reason", 422, "reason not valid"),
    ("invalid_region", 422, "region not valid"),
    ("invalid_region_code", 422, "region code not valid"),
    ("invalid_role", 422, "role not valid"),
    ("invalid_scope", 422, "scope not valid"),
    ("invalid_time", 422, "time not valid"),
    ("invalid_title", 422, "title not valid"),
    ("invalid_token", 422, "check-in token not valid"),
    (
        "invalid_transition",
        409,
        "not allowed from the current status",
    ),
    ("invalid_type", 422, "type not valid"),
    ("invalid_unit", 422, "unit not valid"),
    ("invalid_uscc", 422, "uscc not valid"),
    ("invalid_visited_on", 422, "visited on not valid"),
    ("league_age", 422, "league members are 14 to 28"),
    ("members_only", 403, "only for active members of the org"),
    ("no_hardship_households", 422, "no hardship households"),
    ("not_found", 404, "missing, or not visible to the caller"),
    ("not_hardship", 422, "not hardship"),
    ("not_member", 422, "not member"),
    ("not_open", 409, "not open for check-in or sign-up"),
    ("not_resolved", 409, "not resolved"),
    ("not_signed_up", 422, "sign-up required first"),
    ("note_required", 422, "note required"),
    ("payload_too_large", 413, "body or file too large"),
    ("payment_exists", 409, "payment exists"),
    ("profile_incomplete", 422, "name missing in the profile"),
    ("rate_limited", 429, "too many requests; see Retry-After"),
    ("region_exists", 409, "region exists"),
    ("sms_unavailable", 503, "the SMS gateway failed"),
    ("token_expired", 410, "check-in token expired"),
    ("too_many_attachments", 422, "too many attachments"),
    ("too_many_units", 422, "too many units"),
    ("unauthorized", 401, "no valid access token"),
    ("unit_outside_region", 422, "unit outside region"),
    ("unknown_person", 422, "unknown person"),
    ("unsupported_media_type", 415, "content type not accepted"),
    ("uscc_exists", 409, "uscc exists"),
];

/// Whether `code` is in [`CODES`].
pub fn is_registered(code: &str) -> bool {
    CODES.iter().any(|(c, _, _)| *c == code)
}

fn code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(CODES.iter().map(|(c, _, _)| *c)))
        .description(Some(
            "Stable machine-readable code (see the registry in error.rs)",
        ))
        .build()
}

/// Shortcut for handler results.
pub type AppResult<T> = Result<T, AppError>;

/// The error body of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// One problem in one cell of an uploaded file (rows as the spreadsheet shows them).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// Row number; the header is row 1.
    pub row: u32,
    /// Column key, e.g. `uscc`.
    pub column: String,
    /// What is wrong (zh-CN).
    pub reason: String,
}

/// `code` is stable snake_case for programs; `message` is for people (zh-CN).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    #[schema(schema_with = code_schema)]
    pub code: String,
    /// Human text in Chinese.
    pub message: String,
}

impl AppError {
    /// 422 helper.
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Unprocessable(code, message.into())
    }

    /// 400 helper.
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest(message.into())
    }

    fn code(&self) -> &str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized(c, _)
            | AppError::Forbidden(c, _)
            | AppError::Conflict(c, _)
            | AppError::Unprocessable(c, _)
            | AppError::Gone(c, _)
            | AppError::TooMany(c, _, _)
            | AppError::Unavailable(c, _) => c,
            AppError::NotFound => "not_found",
            AppError::ImportInvalid(..) => "import_invalid",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            AppError::BadRequest(m)
            | AppError::Conflict(_, m)
            | AppError::Unprocessable(_, m)
            | AppError::ImportInvalid(m, _) => m.clone(),
            AppError::Unauthorized(_, m)
            | AppError::Forbidden(_, m)
            | AppError::Gone(_, m)
            | AppError::TooMany(_, m, _)
            | AppError::Unavailable(_, m) => (*m).to_owned(),
            AppError::NotFound => "未找到".into(),
            AppError::PayloadTooLarge => "内容太大".into(),
            AppError::UnsupportedMediaType => "不支持的内容类型".into(),
            AppError::Internal(_) => "服务器出错了，请稍后再试".into(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(..) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(..) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(..) => StatusCode::CONFLICT,
            AppError::Gone(..) => StatusCode::GONE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable(..) | AppError::ImportInvalid(..) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::TooMany(..) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        debug_assert!(
            is_registered(self.code()),
            "error code {} is not in error::CODES",
            self.code()
        );
        if let AppError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        if let AppError::ImportInvalid(message, rows) = self {
            return res.json(serde_json::json!({
                "error": { "code": self.code(), "message": message, "rows": rows }
            }));
        }
        if let AppError::TooMany(_, _, secs) = self {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(*secs)));
        }
        if let AppError::Unauthorized(..) = self {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.message(),
            },
        })
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<sea_orm::TryGetError> for AppError {
    fn from(e: sea_orm::TryGetError) -> Self {
        AppError::Internal(format!("database: unexpected column value: {e:?}"))
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

/// Turns a unique-constraint violation into the given 409; anything else stays internal.
pub fn on_unique(e: sea_orm::DbErr, code: &'static str, message: &str) -> AppError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict(code, message.to_owned())
        }
        _ => e.into(),
    }
}

/// Request-parsing errors (JSON, path; queries in `extract::Query`) answer with the same body, and
/// never with serde's own text, which can echo internals.
pub fn json_config() -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req| {
            use actix_web::error::JsonPayloadError as E;
            let app = match err {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => AppError::PayloadTooLarge,
                E::ContentType => AppError::UnsupportedMediaType,
                _ => AppError::bad_request("请求内容格式不正确"),
            };
            app.into()
        })
}

/// Path-segment errors (e.g. a non-numeric id) as `not_found`: such a record cannot exist.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default().error_handler(|_err, _req| AppError::NotFound.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                // Unit tests may make up codes to test the machinery itself.
                let live = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.push((path.display().to_string(), live.to_owned()));
            }
        }
    }

    #[test]
    fn every_code_the_source_answers_with_is_registered() {
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        // Codes given to the error's constructors, to the helpers that pass one on
        // (`on_unique`, `clean_text`, `one_of`, `clean_long_text`, `Invalid`), and
        // the refusal enums' `code()` arms.
        let direct = regex::Regex::new(
            r#"(?s)(?:AppError::(?:Unauthorized|Forbidden|Conflict|Gone|Unprocessable|TooMany|Unavailable|rule)\(\s*|Invalid\(\s*)"([a-z_]+)""#,
        )
        .expect("regex");
        let helpers =
            regex::Regex::new(r"(?s)\b(?:on_unique|clean_text|one_of|clean_long_text)\(([^;]*?)\)")
                .expect("regex");
        let literal = regex::Regex::new(r#""([a-z]+(?:_[a-z]+)*)""#).expect("regex");
        let arms = regex::Regex::new(r#"Refusal::\w+ => "([a-z_]+)""#).expect("regex");
        let mut used = Vec::new();
        for (file, text) in &files {
            for c in direct.captures_iter(text).chain(arms.captures_iter(text)) {
                used.push((file.clone(), c[1].to_owned()));
            }
            for call in helpers.captures_iter(text) {
                for c in literal.captures_iter(&call[1]) {
                    used.push((file.clone(), c[1].to_owned()));
                }
            }
        }
        assert!(
            used.len() > 100,
            "the scan finds the codes ({})",
            used.len()
        );
        let missing: Vec<_> = used.iter().filter(|(_, c)| !is_registered(c)).collect();
        assert!(missing.is_empty(), "codes not in error::CODES: {missing:?}");
    }

    #[test]
    fn the_registry_has_each_code_once_in_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for (code, status, meaning) in CODES {
            assert!(seen.insert(code), "{code} twice");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!((400..600).contains(status), "{code}");
            assert!(!meaning.is_empty(), "{code}");
        }
    }

    #[test]
    fn an_unregistered_code_is_caught_by_the_scan_rule() {
        assert!(!is_registered("no_such_code"));
        assert!(is_registered("not_found") && is_registered("internal"));
    }
}
