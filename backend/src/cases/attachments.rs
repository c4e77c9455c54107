//! Case attachments: a photo of a hospital bill, a PDF of a labour contract.
//!
//! Uploads are read up to 5 MiB and no further, judged by content (JPEG, PNG or
//! PDF), cleaned of metadata (see [`crate::cases::files`]), encrypted with the
//! data key and stored in the database under a random server name, so every
//! instance behind the balancer serves them. The client's file name is kept only
//! sealed, for display. Only the applicant and the case's officers reach them.
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::audit::{self, Entry, client_ip_of as ip};
use crate::auth::AuthUser;
use crate::cases::access::{Viewer, case_for};
use crate::cases::files::{self, FileKind};
use crate::cases::status::Status;
use crate::clock::{now_ms, rfc3339};
use crate::entity::{case_attachments, cases};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::export;
use crate::idempotency::{self, Work};
use crate::state::AppState;
use crate::upload::{self, Limit};

/// The largest file taken, in bytes (5 MiB).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most attachments on one case.
pub const MAX_PER_CASE: u64 = 10;
/// Longest client file name kept (characters).
const MAX_NAME_CHARS: usize = 100;
/// What an upload may be: the file, and room for the multipart framing around it.
const LIMIT: Limit = Limit {
    file_bytes: MAX_FILE_BYTES,
    framing_bytes: 16 * 1024,
};

/// Registers the attachment routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(upload_attachment).service(download_attachment);
}

/// An attachment as listed on a case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    /// Id.
    pub id: i64,
    /// image/jpeg, image/png or application/pdf, as judged from the content.
    pub content_type: String,
    /// Bytes stored (after metadata was removed).
    pub size: i64,
    /// The uploader's file name, cleaned; null when none was given.
    pub name: Option<String>,
    /// When it was uploaded.
    pub created_at: String,
    /// Where to download it.
    pub url: String,
}

impl Attachment {
    /// Builds the JSON from a row's columns and its opened name.
    pub fn new(
        case_id: i64,
        id: i64,
        content_type: String,
        size: i64,
        name: Option<String>,
        created_at: i64,
    ) -> Attachment {
        Attachment {
            id,
            content_type,
            size,
            name,
            created_at: rfc3339(created_at),
            url: url(case_id, id),
        }
    }
}

/// The download path of an attachment.
pub fn url(case_id: i64, id: i64) -> String {
    format!("/api/v1/cases/{case_id}/attachments/{id}")
}

/// The multipart form of an upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// One JPEG, PNG or PDF file of at most 5 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The client's file name as we keep it: no folders, no control characters,
/// at most 100 characters; `None` when nothing is left.
pub fn clean_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim().to_owned();
    (!name.is_empty()).then_some(name)
}

fn case_closed() -> AppError {
    AppError::Conflict("case_closed", "这个求助已经结束，不能再上传附件".into())
}

/// A cleaned, sealed file ready to store.
struct NewAttachment {
    case_id: i64,
    org_id: i64,
    by: i64,
    officer: bool,
    kind: FileKind,
    size: i64,
    sha256: String,
    data_enc: Vec<u8>,
    name: Option<String>,
    name_enc: Option<String>,
    ip: Option<String>,
}

/// Judges, cleans, hashes and seals an upload (CPU work, run off the async workers).
fn prepare(
    key: &crate::crypto::DataKey,
    bytes: &[u8],
) -> AppResult<(FileKind, i64, String, Vec<u8>)> {
    let (kind, clean) = files::clean(bytes)?;
    let sha = Sha256::digest(&clean)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok((kind, clean.len() as i64, sha, key.seal_bytes(&clean)))
}

/// Stores the file when the case is still open and has room; the case row is
/// touched first so that two uploads to one case queue behind each other and
/// the count cannot pass the limit.
async fn store<C: ConnectionTrait>(txn: &C, a: NewAttachment) -> AppResult<Attachment> {
    let now = now_ms();
    let touched = cases::Entity::update_many()
        .col_expr(cases::Column::UpdatedAt, Expr::value(now))
        .filter(cases::Column::Id.eq(a.case_id))
        .filter(cases::Column::Status.is_not_in(Status::finals().map(Status::as_str)))
        .exec(txn)
        .await?;
    if touched.rows_affected == 0 {
        return Err(case_closed());
    }
    let count = case_attachments::Entity::find()
        .select_only()
        .column(case_attachments::Column::Id)
        .filter(case_attachments::Column::CaseId.eq(a.case_id))
        .count(txn)
        .await?;
    if count >= MAX_PER_CASE {
        return Err(AppError::rule(
            "too_many_attachments",
            format!("一个求助最多上传{MAX_PER_CASE}个附件"),
        ));
    }
    let row = case_attachments::Entity::insert(case_attachments::ActiveModel {
        case_id: Set(a.case_id),
        uploaded_by: Set(a.by),
        storage_name: Set(uuid::Uuid::new_v4().simple().to_string()),
        content_type: Set(a.kind.content_type().to_owned()),
        size: Set(a.size),
        name_enc: Set(a.name_enc),
        sha256: Set(a.sha256),
        data_enc: Set(a.data_enc),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let id = row.last_insert_id;
    if a.officer {
        audit::record(
            txn,
            Entry {
                actor: Some(a.by),
                action: "case.attachment.create",
                target: format!("case:{}", a.case_id),
                region_id: audit::org_region(txn, a.org_id).await?,
                ip: a.ip,
                detail: Some(serde_json::json!({
                    "attachment_id": id,
                    "content_type": a.kind.content_type(),
                    "size": a.size,
                })),
            },
        )
        .await?;
    }
    Ok(Attachment::new(
        a.case_id,
        id,
        a.kind.content_type().to_owned(),
        a.size,
        a.name,
        now,
    ))
}

/// Attaches one file to a case (its applicant or its officers). The file is judged
/// by its content; JPEG and PNG metadata (EXIF, GPS, XMP, IPTC, comments, text) is
/// removed before it is stored encrypted. `Idempotency-Key` replays the first answer.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content_type = "multipart/form-data", content = AttachmentUpload),
    responses(
        (status = 201, body = Attachment),
        (status = 400, description = "Not multipart, no part `file`, or more than one part", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such case, or not the caller's to see", body = ErrorBody),
        (status = 409, description = "case_closed: withdrawn, rejected or closed", body = ErrorBody),
        (status = 413, description = "payload_too_large: more than 5 MiB", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: not a JPEG, PNG or PDF by content", body = ErrorBody),
        (status = 422, description = "empty_file, too_many_attachments (10 per case)", body = ErrorBody),
    )
)]
#[post("/cases/{id}/attachments")]
async fn upload_attachment(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    form: Multipart,
) -> AppResult<HttpResponse> {
    let (case, viewer) = case_for(&state.db, &me, id.into_inner()).await?;
    if Status::parse(&case.status).is_some_and(Status::is_final) {
        return Err(case_closed());
    }
    let key = idempotency::key_from(&req)?;
    let upload = upload::read_file(&req, form, LIMIT).await?;
    if upload.bytes.is_empty() {
        return Err(AppError::rule("empty_file", "文件是空的，请重新选择"));
    }
    let name = upload.name.as_deref().and_then(clean_name);
    let data_key = state.data_key.clone();
    let bytes = upload.bytes;
    let (kind, size, sha256, data_enc) = web::block(move || prepare(&data_key, &bytes))
        .await
        .map_err(|e| AppError::Internal(format!("attachment worker: {e}")))??;
    let new = NewAttachment {
        case_id: case.id,
        org_id: case.org_id,
        by: me.id(),
        officer: viewer == Viewer::Officer,
        kind,
        size,
        sha256,
        data_enc,
        name_enc: state.data_key.seal_opt(name.as_deref()),
        name,
        ip: ip(&req, &state),
    };
    // The key is bound to the file and its name, as a JSON body is bound to its fields.
    let print = idempotency::fingerprint_bytes(format!("{}:{:?}", new.sha256, new.name).as_bytes());
    req.extensions_mut()
        .insert(idempotency::BodyFingerprint(print));
    let work: Work<'_, Attachment> = Box::new(move |txn| Box::pin(store(txn, new)));
    idempotency::created(&state, &req, me.id(), key, work).await
}

/// The file, as stored (metadata removed), to the applicant or the case's
/// officers; an officer's download is audited.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("aid" = i64, Path)),
    responses(
        (status = 200, description = "The file, with its content type, as a download",
            content(("image/jpeg"), ("image/png"), ("application/pdf"))),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/cases/{id}/attachments/{aid}")]
async fn download_attachment(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (case_id, aid) = path.into_inner();
    let (case, viewer) = case_for(&state.db, &me, case_id).await?;
    let row = case_attachments::Entity::find_by_id(aid)
        .filter(case_attachments::Column::CaseId.eq(case.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (data_key, sealed) = (state.data_key.clone(), row.data_enc);
    let bytes = web::block(move || data_key.open_bytes(&sealed))
        .await
        .map_err(|e| AppError::Internal(format!("attachment worker: {e}")))??;
    if viewer == Viewer::Officer {
        audit::record(
            &state.db,
            Entry {
                actor: Some(me.id()),
                action: "case.attachment.read",
                target: format!("case:{}", case.id),
                region_id: audit::org_region(&state.db, case.org_id).await?,
                ip: ip(&req, &state),
                detail: Some(serde_json::json!({ "attachment_id": row.id })),
            },
        )
        .await?;
    }
    let ext = FileKind::from_content_type(&row.content_type).map_or("bin", FileKind::ext);
    Ok(export::attachment(
        &row.content_type,
        &format!("case-{}-{}.{ext}", case.id, row.id),
    )
    .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
    .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_folders_and_control_characters_and_are_bounded() {
        assert_eq!(clean_name("住院发票.jpg").as_deref(), Some("住院发票.jpg"));
        assert_eq!(
            clean_name("C:\\Users\\zhang\\病历.pdf").as_deref(),
            Some("病历.pdf")
        );
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name(" a\u{0}b\r\n.png ").as_deref(), Some("ab.png"));
        assert_eq!(clean_name("dir/"), None);
        assert_eq!(clean_name("   "), None);
        let long = "长".repeat(150);
        assert_eq!(clean_name(&long).map(|n| n.chars().count()), Some(100));
    }
}
