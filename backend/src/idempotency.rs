//! `Idempotency-Key`: the same key from the same user within 24 h answers with the
//! first response again and creates nothing new. The key row is written in the
//! same transaction as the work it guards, so either both are stored or neither;
//! a concurrent twin waits on the unique index and then replays the winner's answer.
use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde::Serialize;

use crate::clock::now_ms;
use crate::entity::idempotency_keys;
use crate::error::{AppError, AppResult};

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

fn replay(row: &idempotency_keys::Model) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(row.status as u16).unwrap_or(StatusCode::OK))
        .insert_header(("Idempotent-Replayed", "true"))
        .content_type("application/json")
        .body(row.body.clone())
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
    db: &DatabaseConnection,
    user_id: i64,
    key: Option<&str>,
) -> AppResult<Option<HttpResponse>> {
    let Some(key) = key else { return Ok(None) };
    // status 0: the twin is still working; `once` sorts that out.
    Ok(find(db, user_id, key)
        .await?
        .filter(|row| row.status != 0)
        .map(|row| replay(&row)))
}

/// [`once`] for the usual case: a `POST` that answers 201 with what `work` made,
/// keyed on this request's method and path.
pub async fn created<T: Serialize + Send>(
    db: &DatabaseConnection,
    req: &actix_web::HttpRequest,
    user_id: i64,
    key: Option<String>,
    work: Work<'_, T>,
) -> AppResult<HttpResponse> {
    let (method, path) = (req.method().as_str().to_owned(), req.path().to_owned());
    once(db, user_id, key, &method, &path, StatusCode::CREATED, work).await
}

/// Runs `work` once per (user, key) and answers `status` with its JSON; a repeat
/// gets the stored answer. Without a key the work simply runs.
pub async fn once<T: Serialize + Send>(
    db: &DatabaseConnection,
    user_id: i64,
    key: Option<String>,
    method: &str,
    path: &str,
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
        return Ok(replay(&row));
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
        method: Set(method.chars().take(8).collect()),
        path: Set(path.chars().take(255).collect()),
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
                Some(row) => Ok(replay(&row)),
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
        .col_expr(idempotency_keys::Column::Body, body.clone().into())
        .filter(idempotency_keys::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(body))
}
