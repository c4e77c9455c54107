//! `Idempotency-Key`: the same key from the same user on the same request (method,
//! path and body) within 24 h answers with the first response again and creates
//! nothing new; the same key on another request is 422 `idempotency_key_reused`.
//! The stored answer is sealed with the data key, like the case text it may hold. The key row is written in the
//! same transaction as the work it guards, so either both are stored or neither;
//! a concurrent twin waits on the unique index and then replays the winner's answer.
use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde::Serialize;

use crate::clock::now_ms;
use crate::crypto::DataKey;
use crate::entity::idempotency_keys;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long a key is remembered.
pub const KEY_TTL_MS: i64 = 24 * 3600 * 1000;
/// The header.
pub const HEADER: &str = "Idempotency-Key";

/// The work to do once: runs inside the transaction that also stores the key.
pub type Work<'a, T> = Box<
    dyn FnOnce(&DatabaseTransaction) -> Pin<Box<dyn Future<Output = AppResult<T>> + Send + '_>>
        + Send
        + 'a,
>;

/// Reads and checks the header: any printable string of 1–64 characters.
pub fn key_from(req: &HttpRequest) -> AppResult<Option<String>> {
    match req.headers().get(HEADER) {
        None => Ok(None),
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| {
                    !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| (0x21..0x7f).contains(&b))
                })
                .ok_or_else(|| AppError::bad_request("Idempotency-Key 应为1到64个可见字符"))?;
            Ok(Some(k.to_owned()))
        }
    }
}

/// The body's fingerprint, put on the request by the body extractors (JSON, the
/// upload reader) for [`Bound::of`].
#[derive(Clone, Debug)]
pub struct BodyFingerprint(pub String);

/// SHA-256 (hex) of a JSON value with its object keys in order, so that the same
/// fields in another order are the same body.
pub fn fingerprint_json(value: &serde_json::Value) -> String {
    fn canonical(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&map[k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(value, &mut text);
    fingerprint_bytes(text.as_bytes())
}

/// SHA-256 (hex) of raw body bytes (an uploaded file).
pub fn fingerprint_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The request a key is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// `POST`, …
    pub method: String,
    /// The path as the client sent it.
    pub path: String,
    /// [`BodyFingerprint`] of the body; empty for a request without one.
    pub body: String,
}

impl Bound {
    /// This request: its method, path and the fingerprint its body extractor left.
    pub fn of(req: &HttpRequest) -> Bound {
        Bound {
            method: req.method().as_str().chars().take(8).collect(),
            path: req.path().chars().take(255).collect(),
            body: req
                .extensions()
                .get::<BodyFingerprint>()
                .map(|f| f.0.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether a stored key belongs to this request (rows from before the body
    /// hash was kept are bound by method and path only).
    fn matches(&self, row: &idempotency_keys::Model) -> bool {
        row.method == self.method
            && row.path == self.path
            && (row.request_hash.is_empty() || row.request_hash == self.body)
    }
}

fn reused() -> AppError {
    AppError::rule(
        "idempotency_key_reused",
        "这个 Idempotency-Key 已用于另一个请求，请换一个",
    )
}

/// The stored answer again, or 422 when the key was used on another request.
fn replay(key: &DataKey, row: &idempotency_keys::Model, bound: &Bound) -> AppResult<HttpResponse> {
    if !bound.matches(row) {
        return Err(reused());
    }
    // Answers stored before they were sealed are plain JSON, which never starts with the prefix.
    let body = if row.body.starts_with(crate::crypto::TEXT_PREFIX) {
        key.open(&row.body)?
    } else {
        row.body.clone()
    };
    Ok(
        HttpResponse::build(StatusCode::from_u16(row.status as u16).unwrap_or(StatusCode::OK))
            .insert_header(("Idempotent-Replayed", "true"))
            .content_type("application/json")
            .body(body),
    )
}

async fn find(
    db: &DatabaseConnection,
    user_id: i64,
    key: &str,
) -> AppResult<Option<idempotency_keys::Model>> {
    Ok(idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::UserId.eq(user_id))
        .filter(idempotency_keys::Column::Key.eq(key))
        .filter(idempotency_keys::Column::CreatedAt.gt(now_ms() - KEY_TTL_MS))
        .one(db)
        .await?)
}

/// The stored answer for this (user, key), if the key was used within 24 h. For
/// handlers whose rules depend on the clock (a check-in token expires): a retry
/// of a request that succeeded gets its answer back even after the token has expired.
pub async fn replay_if_seen(
    state: &AppState,
    user_id: i64,
    key: Option<&str>,
    bound: &Bound,
) -> AppResult<Option<HttpResponse>> {
    let Some(key) = key else { return Ok(None) };
    // status 0: the twin is still working; `once` sorts that out.
    match find(&state.db, user_id, key).await? {
        Some(row) if row.status != 0 => replay(&state.data_key, &row, bound).map(Some),
        Some(row) if !bound.matches(&row) => Err(reused()),
        _ => Ok(None),
    }
}

/// [`once`] for the usual case: a `POST` that answers 201 with what `work` made,
/// the key bound to this request.
pub async fn created<T: Serialize + Send>(
    state: &AppState,
    req: &HttpRequest,
    user_id: i64,
    key: Option<String>,
    work: Work<'_, T>,
) -> AppResult<HttpResponse> {
    let bound = Bound::of(req);
    let db = &state.db;
    once(
        db,
        &state.data_key,
        user_id,
        key,
        &bound,
        StatusCode::CREATED,
        work,
    )
    .await
}

/// Runs `work` once per (user, key) and answers `status` with its JSON; a repeat
/// of the same request gets the stored answer, another request under the key 422.
/// Without a key the work simply runs. The answer is stored sealed with `seal`.
pub async fn once<T: Serialize + Send>(
    db: &DatabaseConnection,
    seal: &DataKey,
    user_id: i64,
    key: Option<String>,
    bound: &Bound,
    status: StatusCode,
    work: Work<'_, T>,
) -> AppResult<HttpResponse> {
    let Some(key) = key else {
        let txn = db.begin().await?;
        let value = work(&txn).await?;
        txn.commit().await?;
        return Ok(HttpResponse::build(status).json(value));
    };
    if let Some(row) = find(db, user_id, &key).await? {
        return replay(seal, &row, bound);
    }
    // A key older than its life may be used again.
    idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::UserId.eq(user_id))
        .filter(idempotency_keys::Column::Key.eq(&key))
        .filter(idempotency_keys::Column::CreatedAt.lte(now_ms() - KEY_TTL_MS))
        .exec(db)
        .await?;
    let txn = db.begin().await?;
    let claimed = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.clone()),
        method: Set(bound.method.chars().take(8).collect()),
        path: Set(bound.path.chars().take(255).collect()),
        request_hash: Set(bound.body.clone()),
        status: Set(0),
        body: Set(String::new()),
        created_at: Set(now_ms()),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await;
    let row = match claimed {
        Ok(row) => row,
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            txn.rollback().await?;
            // The twin committed first: answer as it did.
            return match find(db, user_id, &key).await? {
                Some(row) => replay(seal, &row, bound),
                None => Err(AppError::Conflict(
                    "conflict",
                    "请求正在处理，请稍后再试".into(),
                )),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let value = work(&txn).await?;
    let body =
        serde_json::to_string(&value).map_err(|e| AppError::Internal(format!("serialise: {e}")))?;
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::Status,
            i32::from(status.as_u16()).into(),
        )
        .col_expr(idempotency_keys::Column::Body, seal.seal(&body).into())
        .filter(idempotency_keys::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(body))
}
