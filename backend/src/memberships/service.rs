//! Membership rules: who may join (a name, league age, women only), the
//! officers' decisions, leaving and removal, and the lists of memberships.
//! Writes that read first run in one transaction with their audit entry.
use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};

use crate::audit::{self, Entry};
use crate::clock::age_on;
use crate::clock::{now_ms, rfc3339};
use crate::entity::{leaders, memberships, orgs, users};
use crate::error::{AppError, AppResult, on_unique};
use crate::memberships::dto::{Member, Membership, MyMembership};
use crate::orgs::dto::{JoinPolicy, OrgType};
use crate::pagination::{Page, PageQuery};

/// The joining rules of API.md, in order: a name; league age 14–28; women only.
pub fn check_joinable(org: &orgs::Model, user: &users::Model, today: NaiveDate) -> AppResult<()> {
    let incomplete = || AppError::rule("profile_incomplete", "请先在个人资料中填写姓名等信息");
    if user.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(incomplete());
    }
    match OrgType::parse(&org.org_type) {
        Some(OrgType::League) => {
            let birth = user.birth_date.ok_or_else(|| {
                AppError::rule("profile_incomplete", "加入共青团需先填写出生日期")
            })?;
            if !(14..=28).contains(&age_on(birth, today)) {
                return Err(AppError::rule("league_age", "共青团员应为14至28周岁"));
            }
        }
        Some(OrgType::Women) if user.gender.as_deref() != Some("female") => {
            return Err(AppError::rule("gender_required", "妇女组织只接收女性成员"));
        }
        _ => {}
    }
    Ok(())
}

/// Inserts the membership (pending, or active at once for open orgs); a second
/// live one answers 409 `already_member` through the partial unique index.
pub async fn join<C: ConnectionTrait>(
    db: &C,
    org: &orgs::Model,
    user_id: i64,
) -> AppResult<Membership> {
    let now = now_ms();
    let open = org.join_policy == JoinPolicy::Open.as_str();
    let m = memberships::Entity::insert(memberships::ActiveModel {
        org_id: Set(org.id),
        user_id: Set(user_id),
        status: Set(if open { "active" } else { "pending" }.to_owned()),
        reason: Set(None),
        requested_at: Set(now),
        decided_at: Set(open.then_some(now)),
        decided_by: Set(None),
        ended_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| on_unique(e, "already_member", "你已经加入或申请加入了这个组织"))?;
    Ok(membership_view(m))
}

/// The API view of a membership.
pub fn membership_view(m: memberships::Model) -> Membership {
    Membership {
        id: m.id,
        org_id: m.org_id,
        user_id: m.user_id,
        status: m.status,
    }
}

fn invalid_transition() -> AppError {
    AppError::Conflict("invalid_transition", "这个状态下不能这样操作".into())
}

/// A decision on a pending membership by one of the org's managers.
pub struct Decision {
    /// active (approve) or rejected.
    pub to: &'static str,
    /// For rejections.
    pub reason: Option<String>,
    /// Who decides.
    pub actor: i64,
    /// Their address.
    pub ip: Option<String>,
}

/// Approves or rejects a pending membership; any other status is 409. The
/// status is checked in the UPDATE itself, so two officers cannot both decide.
/// The person is told in the inbox and by SMS (queued in the same transaction).
pub async fn decide(
    state: &crate::state::AppState,
    m: memberships::Model,
    org: &orgs::Model,
    d: Decision,
) -> AppResult<Membership> {
    let region_id = org.region_id;
    let org_name = org.name.clone();
    let (out, notice) = state
        .db
        .transaction::<_, (memberships::Model, i64), AppError>(|txn| {
            Box::pin(async move {
                let now = now_ms();
                let res = memberships::Entity::update_many()
                    .col_expr(memberships::Column::Status, Expr::value(d.to))
                    .col_expr(memberships::Column::DecidedAt, Expr::value(now))
                    .col_expr(memberships::Column::DecidedBy, Expr::value(d.actor))
                    .col_expr(memberships::Column::Reason, Expr::value(d.reason.clone()))
                    .filter(memberships::Column::Id.eq(m.id))
                    .filter(memberships::Column::Status.eq("pending"))
                    .exec(txn)
                    .await?;
                if res.rows_affected == 0 {
                    return Err(invalid_transition());
                }
                audit::record(
                    txn,
                    Entry {
                        actor: Some(d.actor),
                        action: if d.to == "active" {
                            "membership.approve"
                        } else {
                            "membership.reject"
                        },
                        target: format!("membership:{}", m.id),
                        region_id: Some(region_id),
                        ip: d.ip,
                        detail: Some(serde_json::json!({
                            "org_id": m.org_id, "user_id": m.user_id, "reason": d.reason,
                        })),
                    },
                )
                .await?;
                let approved = d.to == "active";
                let notice = crate::notify::push(
                    txn,
                    crate::notify::Notice {
                        user_id: m.user_id,
                        kind: if approved {
                            "membership_approved"
                        } else {
                            "membership_rejected"
                        },
                        title: if approved {
                            "入会申请已通过"
                        } else {
                            "入会申请未通过"
                        }
                        .into(),
                        body: if approved {
                            format!("你加入“{org_name}”的申请已通过。")
                        } else {
                            format!("你加入“{org_name}”的申请未通过，可在“我的组织”中查看原因。")
                        },
                        link: Some("/orgs".into()),
                        sms: true,
                    },
                )
                .await?;
                let row = memberships::Entity::find_by_id(m.id)
                    .one(txn)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Ok((row, notice))
            })
        })
        .await?;
    crate::notify::service::kick(state, vec![notice]);
    Ok(membership_view(out))
}

/// Ends a live membership: `left` by its member, `removed` by a manager (audited).
/// The person's leader posts in the org end with it.
pub async fn end(
    db: &DatabaseConnection,
    m: memberships::Model,
    org: &orgs::Model,
    by_manager: Option<(i64, Option<String>, Option<String>)>,
) -> AppResult<()> {
    let region_id = org.region_id;
    db.transaction::<_, (), AppError>(|txn| {
        Box::pin(async move {
            let now = now_ms();
            let to = if by_manager.is_some() {
                "removed"
            } else {
                "left"
            };
            let mut update = memberships::Entity::update_many()
                .col_expr(memberships::Column::Status, Expr::value(to))
                .col_expr(memberships::Column::EndedAt, Expr::value(now));
            if let Some((_, Some(reason), _)) = &by_manager {
                update = update.col_expr(memberships::Column::Reason, Expr::value(reason.clone()));
            }
            let res = update
                .filter(memberships::Column::Id.eq(m.id))
                .filter(memberships::Column::Status.is_in(["pending", "active"]))
                .exec(txn)
                .await?;
            if res.rows_affected == 0 {
                return Err(invalid_transition());
            }
            leaders::Entity::delete_many()
                .filter(leaders::Column::OrgId.eq(m.org_id))
                .filter(leaders::Column::UserId.eq(m.user_id))
                .exec(txn)
                .await?;
            if let Some((actor, reason, ip)) = by_manager {
                audit::record(
                    txn,
                    Entry {
                        actor: Some(actor),
                        action: "membership.remove",
                        target: format!("membership:{}", m.id),
                        region_id: Some(region_id),
                        ip,
                        detail: Some(serde_json::json!({
                            "org_id": m.org_id, "user_id": m.user_id, "reason": reason,
                        })),
                    },
                )
                .await?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(())
}

/// The caller's memberships with their orgs' names.
pub async fn my_memberships(
    db: &DatabaseConnection,
    user_id: i64,
    page: &PageQuery,
) -> AppResult<Page<MyMembership>> {
    let select = memberships::Entity::find().filter(memberships::Column::UserId.eq(user_id));
    let rows = page
        .ascending(select, memberships::Column::Id)
        .all(db)
        .await?;
    let orgs: HashMap<i64, orgs::Model> = orgs::Entity::find()
        .filter(orgs::Column::Id.is_in(rows.iter().map(|m| m.org_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(page.finish(
        rows,
        |m| m.id,
        |m| {
            let org = orgs.get(&m.org_id);
            MyMembership {
                id: m.id,
                org_id: m.org_id,
                user_id: m.user_id,
                status: m.status,
                org_name: org.map(|o| o.name.clone()).unwrap_or_default(),
                org_type: org.map(|o| o.org_type.clone()).unwrap_or_default(),
                org_form: org.map(|o| o.form.clone()).unwrap_or_default(),
                requested_at: rfc3339(m.requested_at),
                decided_at: m.decided_at.map(rfc3339),
                ended_at: m.ended_at.map(rfc3339),
                reason: m.reason,
            }
        },
    ))
}

/// Members of an org for its managers, with full phones; the read is audited.
pub async fn members(
    db: &DatabaseConnection,
    org: &orgs::Model,
    status: Option<&str>,
    page: &PageQuery,
    actor: i64,
    ip: Option<String>,
) -> AppResult<Page<Member>> {
    let mut select = memberships::Entity::find().filter(memberships::Column::OrgId.eq(org.id));
    if let Some(s) = status {
        select = select.filter(memberships::Column::Status.eq(s));
    }
    let rows = page
        .ascending(select, memberships::Column::Id)
        .all(db)
        .await?;
    let people: HashMap<i64, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(rows.iter().map(|m| m.user_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let out = page.finish(
        rows,
        |m| m.id,
        |m| {
            let u = people.get(&m.user_id);
            Member {
                id: m.id,
                user_id: m.user_id,
                name: u.and_then(|u| u.name.clone()),
                gender: u.and_then(|u| u.gender.clone()),
                phone: u.and_then(|u| u.phone.clone()),
                status: m.status,
                requested_at: rfc3339(m.requested_at),
                decided_at: m.decided_at.map(rfc3339),
                reason: m.reason,
            }
        },
    );
    if !out.items.is_empty() {
        audit::record(
            db,
            Entry {
                actor: Some(actor),
                action: "org.members.read",
                target: format!("org:{}", org.id),
                region_id: Some(org.region_id),
                ip,
                detail: Some(serde_json::json!({
                    "user_ids": out.items.iter().map(|m| m.user_id).collect::<Vec<_>>(),
                })),
            },
        )
        .await?;
    }
    Ok(out)
}
