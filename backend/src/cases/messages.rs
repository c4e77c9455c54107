//! Messages between an applicant and the officers of the case.
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};

use crate::auth::AuthUser;
use crate::cases::dto::{Message, clean_long_text};
use crate::cases::service::officer_ids;
use crate::cases::status::Status;
use crate::clock::{now_ms, rfc3339};
use crate::crypto::DataKey;
use crate::entity::{case_messages, cases, services};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Notice};

/// Writes a message on an open case and tells the other side (in the app only).
pub async fn post_message(
    db: &DatabaseConnection,
    key: &DataKey,
    me: &AuthUser,
    c: &cases::Model,
    body: &str,
) -> AppResult<Message> {
    let body = clean_long_text(body, 2000, "invalid_body", "留言应为1到2000个字")?;
    if Status::parse(&c.status).is_none_or(Status::is_final) {
        return Err(AppError::Conflict(
            "case_closed",
            "这个求助已经结束，不能再留言".into(),
        ));
    }
    let now = now_ms();
    let txn = db.begin().await?;
    // Re-checked inside the transaction: the case may have closed since it was read.
    let live = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .and_then(|r| Status::parse(&r.status))
        .is_some_and(|s| !s.is_final());
    if !live {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "case_closed",
            "这个求助已经结束，不能再留言".into(),
        ));
    }
    let row = case_messages::Entity::insert(case_messages::ActiveModel {
        case_id: Set(c.id),
        author_id: Set(me.id()),
        body_enc: Set(key.seal(&body)),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    let title = services::Entity::find_by_id(c.service_id)
        .one(&txn)
        .await?
        .map(|s| s.title)
        .unwrap_or_default();
    let from_applicant = me.id() == c.applicant_id;
    let to: Vec<i64> = if from_applicant {
        officer_ids(&txn, c.org_id).await?
    } else {
        vec![c.applicant_id]
    };
    for user_id in to.into_iter().filter(|u| *u != me.id()) {
        notify::push(
            &txn,
            Notice {
                user_id,
                kind: "case_message",
                title: "求助有新留言".into(),
                body: format!("「{title}」有一条新留言，请登录查看。"),
                // Officers work the case on its officer page.
                link: Some(if from_applicant {
                    format!("/admin/cases/{}", c.id)
                } else {
                    format!("/cases/{}", c.id)
                }),
                sms: false,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Message {
        id: row.id,
        author_id: row.author_id,
        author_name: me.user.name.clone(),
        from_applicant,
        body,
        created_at: rfc3339(row.created_at),
    })
}
