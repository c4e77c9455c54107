//! Inbox reads and SMS delivery from the outbox.
//!
//! Delivery is safe with several instances on one database: a sender first
//! *claims* a row with a conditional UPDATE (`sms_attempts` is the version:
//! `WHERE id = ? AND sms_status = 'pending' AND sms_attempts = <seen>`), which
//! also pushes `sms_next_at` a lease into the future; only the one whose UPDATE
//! changed the row sends. A sender that dies after its claim leaves the row to
//! be retried when the lease ends.
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::clock::{now_ms, rfc3339};
use crate::entity::{notifications, users};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

/// Tries per SMS before it is marked `failed`.
pub const MAX_ATTEMPTS: i32 = 5;

/// How long a claimed SMS is left to its sender before another may try
/// (well above the gateway timeout).
const LEASE_MS: i64 = 60_000;

/// Rows one sweep sends at most.
const SWEEP_BATCH: u64 = 50;

/// One notification as the inbox shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    /// Its id.
    pub id: i64,
    /// e.g. `case_status`, `case_new`, `case_message`, `membership_approved`, `membership_rejected`.
    pub kind: String,
    /// Short title.
    pub title: String,
    /// One or two sentences.
    pub body: String,
    /// PWA path to open.
    pub link: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; null while unread.
    pub read_at: Option<String>,
}

/// `GET /me/notifications` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `GET /me/notifications/unread-count` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    /// Unread notifications of the caller.
    pub unread: u64,
}

fn view(n: notifications::Model) -> Notification {
    Notification {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        link: n.link,
        created_at: rfc3339(n.created_at),
        read_at: n.read_at.map(rfc3339),
    }
}

/// The caller's notifications, newest first (the cursor means "ids below this").
pub async fn inbox<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    q: &InboxQuery,
) -> AppResult<Page<Notification>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let mut find = notifications::Entity::find().filter(notifications::Column::UserId.eq(user_id));
    if q.unread == Some(true) {
        find = find.filter(notifications::Column::ReadAt.is_null());
    }
    let rows = page
        .descending(find, notifications::Column::Id)
        .all(db)
        .await?;
    Ok(page.finish(rows, |n| n.id, view))
}

/// How many of the caller's notifications are unread.
pub async fn unread_count<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<u64> {
    Ok(notifications::Entity::find()
        .filter(notifications::Column::UserId.eq(user_id))
        .filter(notifications::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of the caller's notifications read; someone else's or a missing
/// one is 404. Reading it again keeps the first `read_at`.
pub async fn mark_read<C: ConnectionTrait>(db: &C, user_id: i64, id: i64) -> AppResult<()> {
    let res = notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(now_ms()))
        .filter(notifications::Column::Id.eq(id))
        .filter(notifications::Column::UserId.eq(user_id))
        .filter(notifications::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(());
    }
    let mine = notifications::Entity::find()
        .filter(notifications::Column::Id.eq(id))
        .filter(notifications::Column::UserId.eq(user_id))
        .count(db)
        .await?;
    if mine == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Marks every unread notification of the caller read.
pub async fn mark_all_read<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<()> {
    notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(now_ms()))
        .filter(notifications::Column::UserId.eq(user_id))
        .filter(notifications::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The SMS template of every notice and the words naming its event (zh-CN):
/// the text only says that something happened and asks the person to open 群家.
pub const SMS_TEMPLATE: &str = "notice";

/// What the SMS names for a kind of notification: never who, how much or why.
pub fn sms_event(kind: &str) -> &'static str {
    match kind {
        "membership_approved" | "membership_rejected" => "入会申请审核结果",
        "case_status" | "case_new" => "服务申请进展",
        "case_message" => "服务申请留言",
        _ => "新通知",
    }
}

/// Waiting time before try number `attempts + 1`, after `attempts` failures.
pub fn backoff_ms(interval_ms: u64, attempts: i32) -> i64 {
    let step = 4u64.saturating_pow(attempts.clamp(1, 10) as u32 - 1);
    let ms = interval_ms.saturating_mul(step).min(6 * 3600 * 1000);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Tries to send the pending SMS of these notifications now, in the background.
/// Whatever fails here is retried by the outbox sweeper.
pub fn kick(state: &AppState, ids: Vec<i64>) {
    if ids.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let rows = match notifications::Entity::find()
            .filter(notifications::Column::Id.is_in(ids))
            .filter(notifications::Column::SmsStatus.eq("pending"))
            .all(&state.db)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!("sms outbox: cannot read notifications to send: {e}");
                return;
            }
        };
        for n in rows {
            deliver(&state, n).await;
        }
    });
}

/// Sends every SMS that is due, once. Returns how many rows it looked at.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let rows = notifications::Entity::find()
        .filter(notifications::Column::SmsStatus.eq("pending"))
        .filter(notifications::Column::SmsNextAt.lte(now_ms()))
        .order_by_asc(notifications::Column::SmsNextAt)
        .limit(SWEEP_BATCH)
        .all(&state.db)
        .await?;
    let n = rows.len();
    for row in rows {
        deliver(state, row).await;
    }
    Ok(n)
}

/// Runs [`sweep`] every `outbox_interval_ms` until `stop` is closed (its
/// sender dropped), which happens when the server stops.
pub async fn sweeper(state: AppState, mut stop: tokio::sync::watch::Receiver<()>) {
    let every = Duration::from_millis(state.settings.outbox_interval_ms.max(10));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = sweep(&state).await {
            tracing::warn!("sms outbox sweep failed: {e}");
        }
    }
    tracing::debug!("sms outbox sweeper stopped");
}

/// Claims one row (seen as `n`), sends its SMS and records the outcome.
async fn deliver(state: &AppState, n: notifications::Model) {
    if let Err(e) = try_deliver(state, &n).await {
        tracing::warn!(notification = n.id, "sms outbox: {e}");
    }
}

fn still_ours(id: i64, attempts: i32) -> Condition {
    Condition::all()
        .add(notifications::Column::Id.eq(id))
        .add(notifications::Column::SmsStatus.eq("pending"))
        .add(notifications::Column::SmsAttempts.eq(attempts))
}

async fn try_deliver(state: &AppState, n: &notifications::Model) -> AppResult<()> {
    let now = now_ms();
    if n.sms_status != "pending" || n.sms_next_at.is_none_or(|at| at > now) {
        return Ok(());
    }
    let db = &state.db;
    let user = users::Entity::find_by_id(n.user_id).one(db).await?;
    let phone = user
        .filter(|u| u.deleted_at.is_none())
        .and_then(|u| u.phone);
    let Some(phone) = phone else {
        // Deleted or anonymised: nobody to text.
        notifications::Entity::update_many()
            .col_expr(notifications::Column::SmsStatus, Expr::value("none"))
            .col_expr(notifications::Column::SmsNextAt, Expr::value(None::<i64>))
            .filter(still_ours(n.id, n.sms_attempts))
            .exec(db)
            .await?;
        return Ok(());
    };
    // The claim: only one sender moves the row from this version to the next.
    let attempt = n.sms_attempts + 1;
    let claimed = notifications::Entity::update_many()
        .col_expr(notifications::Column::SmsAttempts, Expr::value(attempt))
        .col_expr(
            notifications::Column::SmsNextAt,
            Expr::value(now + LEASE_MS),
        )
        .filter(still_ours(n.id, n.sms_attempts))
        .filter(notifications::Column::SmsNextAt.lte(now))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(());
    }
    let sent = state
        .sms
        .send_notice(&phone, SMS_TEMPLATE, json!({ "event": sms_event(&n.kind) }))
        .await;
    let update = notifications::Entity::update_many().filter(still_ours(n.id, attempt));
    match sent {
        Ok(()) => {
            update
                .col_expr(notifications::Column::SmsStatus, Expr::value("sent"))
                .col_expr(notifications::Column::SmsNextAt, Expr::value(None::<i64>))
                .exec(db)
                .await?;
        }
        Err(reason) if attempt >= MAX_ATTEMPTS => {
            tracing::warn!(
                notification = n.id,
                "sms outbox: giving up after {attempt} attempts: {reason}"
            );
            update
                .col_expr(notifications::Column::SmsStatus, Expr::value("failed"))
                .col_expr(notifications::Column::SmsNextAt, Expr::value(None::<i64>))
                .exec(db)
                .await?;
        }
        Err(reason) => {
            let wait = backoff_ms(state.settings.outbox_interval_ms, attempt);
            tracing::info!(
                notification = n.id,
                "sms outbox: attempt {attempt} failed ({reason}); next in {wait} ms"
            );
            update
                .col_expr(
                    notifications::Column::SmsNextAt,
                    Expr::value(now_ms() + wait),
                )
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_four_times_per_failure_and_is_capped() {
        assert_eq!(backoff_ms(1000, 1), 1000);
        assert_eq!(backoff_ms(1000, 2), 4000);
        assert_eq!(backoff_ms(1000, 4), 64_000);
        assert_eq!(backoff_ms(u64::MAX, 4), 6 * 3600 * 1000);
    }

    #[test]
    fn sms_names_only_the_kind_of_event() {
        assert_eq!(sms_event("membership_rejected"), "入会申请审核结果");
        assert_eq!(sms_event("case_status"), "服务申请进展");
        assert_eq!(sms_event("something_else"), "新通知");
    }
}
