//! Working a case: status moves, the hardship class and the relief payment,
//! each checked in the UPDATE itself so that two officers cannot both act.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::Expr,
};

use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::cases::access::Viewer;
use crate::cases::dto::{
    PAYMENT_METHODS, RecordPayment, Transition, check_amount, clean_long_text,
    parse_hardship_class, parse_paid_on,
};
use crate::cases::service::HARDSHIP;
use crate::cases::status::{self, Refusal, Status};
use crate::clock::now_ms;
use crate::crypto::DataKey;
use crate::entity::{case_events, cases, services};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Notice};

/// A transition checked against the machine and the case.
pub struct Move {
    from: Status,
    to: Status,
    note: Option<String>,
    amount_granted_fen: Option<i64>,
    hardship_class: Option<&'static str>,
}

impl Move {
    /// Checks a requested move by `viewer` on `c` (403, 409 or 422 as API.md says).
    pub fn parse(c: &cases::Model, viewer: Viewer, b: Transition) -> AppResult<Move> {
        let from = Status::parse(&c.status)
            .ok_or_else(|| AppError::Internal(format!("case {} has status {}", c.id, c.status)))?;
        let to = Status::parse(b.to.trim())
            .ok_or_else(|| AppError::Conflict("invalid_transition", "没有这个状态".into()))?;
        match status::check(from, to, viewer) {
            Ok(()) => {}
            Err(Refusal::NotYours) => {
                return Err(AppError::Forbidden(
                    "forbidden",
                    "只有该组织的管理员可以办理这个求助",
                ));
            }
            Err(Refusal::Invalid) => {
                return Err(AppError::Conflict(
                    "invalid_transition",
                    format!("求助现在是“{}”，不能改为“{}”", from.label(), to.label()),
                ));
            }
        }
        let note = match b.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(clean_long_text(
                n,
                1000,
                "invalid_note",
                "备注不能超过1000个字",
            )?),
        };
        if to == Status::Rejected && note.is_none() {
            return Err(AppError::rule("note_required", "不受理时请写明原因"));
        }
        let hardship = c.kind == HARDSHIP;
        let amount_granted_fen = match (to, hardship, b.amount_granted_fen) {
            (Status::Resolved, true, Some(a)) => Some(check_amount(a, 0)?),
            (Status::Resolved, true, None) => {
                return Err(AppError::rule(
                    "invalid_amount",
                    "办结困难帮扶时请填写发放金额（0到10000000分）",
                ));
            }
            (_, _, Some(_)) => {
                return Err(AppError::rule(
                    "invalid_amount",
                    "只有办结困难帮扶时才填写发放金额",
                ));
            }
            (_, _, None) => None,
        };
        let hardship_class = match b.hardship_class.as_deref() {
            None => None,
            Some(_) if !hardship => {
                return Err(AppError::rule("not_hardship", "只有困难帮扶才有困难类别"));
            }
            Some(h) => Some(parse_hardship_class(h.trim())?),
        };
        Ok(Move {
            from,
            to,
            note,
            amount_granted_fen,
            hardship_class,
        })
    }
}

/// Makes the move if the case is still where it was read (two officers racing:
/// one wins, the other gets 409), records it, tells the applicant.
/// Returns the case and the notifications to send by SMS.
pub async fn transition(
    db: &DatabaseConnection,
    key: &DataKey,
    me: &AuthUser,
    c: cases::Model,
    viewer: Viewer,
    m: Move,
    ip: Option<String>,
) -> AppResult<(cases::Model, Vec<i64>)> {
    let now = now_ms();
    let txn = db.begin().await?;
    let mut upd = cases::Entity::update_many()
        .col_expr(cases::Column::Status, Expr::value(m.to.as_str()))
        .col_expr(cases::Column::UpdatedAt, Expr::value(now));
    if m.to == Status::Resolved {
        upd = upd.col_expr(cases::Column::ResolvedAt, Expr::value(now));
    }
    if let Some(a) = m.amount_granted_fen {
        upd = upd.col_expr(cases::Column::AmountGrantedFen, Expr::value(a));
    }
    if let Some(h) = m.hardship_class {
        upd = upd.col_expr(cases::Column::HardshipClass, Expr::value(h));
    }
    let done = upd
        .filter(cases::Column::Id.eq(c.id))
        .filter(cases::Column::Status.eq(m.from.as_str()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "invalid_transition",
            "求助状态刚刚被别人改过了，请刷新后再试".into(),
        ));
    }
    case_events::Entity::insert(case_events::ActiveModel {
        case_id: Set(c.id),
        from_status: Set(Some(m.from.as_str().to_owned())),
        to_status: Set(m.to.as_str().to_owned()),
        actor_id: Set(Some(me.id())),
        note_enc: Set(key.seal_opt(m.note.as_deref())),
        at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let mut sms = Vec::new();
    if viewer == Viewer::Officer {
        let title = services::Entity::find_by_id(c.service_id)
            .one(&txn)
            .await?
            .map(|s| s.title)
            .unwrap_or_default();
        sms.push(
            notify::push(
                &txn,
                Notice {
                    user_id: c.applicant_id,
                    kind: "case_status",
                    title: "求助进度更新".into(),
                    body: format!("你申请的「{title}」{}。请登录查看详情。", m.to.label()),
                    link: Some(format!("/cases/{}", c.id)),
                    sms: true,
                },
            )
            .await?,
        );
        audit::record(
            &txn,
            Entry {
                actor: Some(me.id()),
                action: "case.transition",
                target: format!("case:{}", c.id),
                region_id: audit::org_region(&txn, c.org_id).await?,
                ip,
                detail: Some(serde_json::json!({ "from": m.from.as_str(), "to": m.to.as_str() })),
            },
        )
        .await?;
    }
    let row = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok((row, sms))
}

/// Sets the hardship class of a hardship case (officer).
pub async fn set_class(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: cases::Model,
    class: &str,
    ip: Option<String>,
) -> AppResult<cases::Model> {
    if c.kind != HARDSHIP {
        return Err(AppError::rule("not_hardship", "只有困难帮扶才有困难类别"));
    }
    let class = parse_hardship_class(class.trim())?;
    let txn = db.begin().await?;
    cases::Entity::update_many()
        .col_expr(cases::Column::HardshipClass, Expr::value(class))
        .col_expr(cases::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(cases::Column::Id.eq(c.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "case.update",
            target: format!("case:{}", c.id),
            region_id: audit::org_region(&txn, c.org_id).await?,
            ip,
            detail: Some(serde_json::json!({ "hardship_class": class })),
        },
    )
    .await?;
    let row = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}

/// Records how a resolved hardship case was paid, once.
pub async fn record_payment(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: cases::Model,
    b: RecordPayment,
    ip: Option<String>,
) -> AppResult<cases::Model> {
    if c.kind != HARDSHIP {
        return Err(AppError::rule("not_hardship", "只有困难帮扶才能登记发放"));
    }
    let paid_on = parse_paid_on(&b.paid_on, crate::clock::today_shanghai())?;
    let method = PAYMENT_METHODS
        .into_iter()
        .find(|m| *m == b.method.trim())
        .ok_or_else(|| {
            AppError::rule(
                "invalid_method",
                "发放方式只能是 cash、bank_transfer、mobile、goods",
            )
        })?;
    let resolved = |s: &str| matches!(Status::parse(s), Some(Status::Resolved | Status::Closed));
    if !resolved(&c.status) {
        return Err(AppError::Conflict(
            "not_resolved",
            "求助办结后才能登记发放".into(),
        ));
    }
    if c.paid_on.is_some() {
        return Err(AppError::Conflict(
            "payment_exists",
            "已经登记过发放".into(),
        ));
    }
    let granted = c.amount_granted_fen.unwrap_or(0);
    if b.amount_fen < 1 || b.amount_fen > granted {
        return Err(AppError::rule(
            "invalid_amount",
            format!("发放金额应在1到批准金额{granted}分之间"),
        ));
    }
    let now = now_ms();
    let txn = db.begin().await?;
    let done = cases::Entity::update_many()
        .col_expr(cases::Column::PaidOn, Expr::value(paid_on.clone()))
        .col_expr(cases::Column::PaidMethod, Expr::value(method))
        .col_expr(cases::Column::PaidAmountFen, Expr::value(b.amount_fen))
        .col_expr(cases::Column::PaidBy, Expr::value(me.id()))
        .col_expr(cases::Column::PaidRecordedAt, Expr::value(now))
        .col_expr(cases::Column::UpdatedAt, Expr::value(now))
        .filter(cases::Column::Id.eq(c.id))
        .filter(cases::Column::PaidOn.is_null())
        .filter(cases::Column::Status.is_in([Status::Resolved.as_str(), Status::Closed.as_str()]))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "payment_exists",
            "已经登记过发放".into(),
        ));
    }
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "case.payment",
            target: format!("case:{}", c.id),
            region_id: audit::org_region(&txn, c.org_id).await?,
            ip,
            detail: Some(serde_json::json!({
                "paid_on": paid_on, "method": method, "amount_fen": b.amount_fen,
            })),
        },
    )
    .await?;
    let row = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}
