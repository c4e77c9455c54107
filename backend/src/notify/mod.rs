//! Notifications: the in-app inbox and the SMS that goes with some of them.
//!
//! A notification is written in the same transaction as the change it reports
//! (a case moving on, a membership decided). Its row doubles as the SMS outbox:
//! `sms_status = 'pending'` until a sender delivers it, so a crash after the
//! commit delays the SMS but never loses it.
pub mod routes;
pub mod service;

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::clock::now_ms;
use crate::entity::notifications;
use crate::error::AppResult;

/// What to tell one person.
pub struct Notice {
    /// The person.
    pub user_id: i64,
    /// e.g. `case_status`, `membership_approved`, `membership_rejected`.
    pub kind: &'static str,
    /// Short title (zh-CN), shown in the inbox.
    pub title: String,
    /// One or two sentences (zh-CN). Never sensitive details: it may be sent by SMS.
    pub body: String,
    /// PWA path to open, e.g. `/cases/12`.
    pub link: Option<String>,
    /// Also send an SMS.
    pub sms: bool,
}

/// Writes the notification (inside the caller's transaction) and returns its id.
/// When `sms` is set the row waits in the outbox; call
/// [`service::kick`] after the commit to send it straight away.
pub async fn push<C: ConnectionTrait>(db: &C, n: Notice) -> AppResult<i64> {
    let now = now_ms();
    let res = notifications::Entity::insert(notifications::ActiveModel {
        user_id: Set(n.user_id),
        kind: Set(n.kind.to_owned()),
        title: Set(n.title),
        body: Set(n.body),
        link: Set(n.link),
        created_at: Set(now),
        read_at: Set(None),
        sms_status: Set(if n.sms { "pending" } else { "none" }.to_owned()),
        sms_attempts: Set(0),
        sms_next_at: Set(n.sms.then_some(now)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}
