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

/// Request-parsing errors (JSON, query, path) answer with the same body, and
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

/// Query-string errors as `bad_request`.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|_err, _req| AppError::bad_request("查询参数不正确").into())
}

/// Path-segment errors (e.g. a non-numeric id) as `not_found`: such a record cannot exist.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default().error_handler(|_err, _req| AppError::NotFound.into())
}
