//! Campaign logic: who the hardship households are, making a campaign with one
//! visit per household, recording visits, progress figures and the sheet.
//!
//! Hardship households are case data: only the `org_admin`s of the org see a
//! campaign (the rule lives in [`visible_campaign`] and [`may_run`]).
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Months, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, TransactionTrait, Value,
};

use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::auth::phone::mask;
use crate::campaigns::dto::{Campaign, Done, NewCampaign, Visit};
use crate::cases::access::is_case_officer;
use crate::clock::{now_ms, rfc3339};
use crate::crypto::DataKey;
use crate::db::stmt;
use crate::entity::{campaign_visits, campaigns, orgs, users};
use crate::error::{AppError, AppResult};
use crate::export::Csv;
use crate::pagination::PageQuery;

/// Case statuses whose household counts as a current hardship household.
pub const LIVE_STATUSES: [&str; 4] = ["accepted", "in_progress", "resolved", "closed"];
/// Visits inserted per statement (well under SQLite's bound-parameter limit).
const INSERT_CHUNK: usize = 500;

/// Whether the caller runs campaigns of this org (its `org_admin`s only).
pub fn may_run(me: &AuthUser, org_id: i64) -> bool {
    is_case_officer(me, org_id)
}

/// A campaign the caller runs; anything else is 404.
pub async fn visible_campaign<C: ConnectionTrait>(
    db: &C,
    me: &AuthUser,
    id: i64,
) -> AppResult<campaigns::Model> {
    let c = campaigns::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if may_run(me, c.org_id) {
        Ok(c)
    } else {
        Err(AppError::NotFound)
    }
}

fn campaign_closed() -> AppError {
    AppError::Conflict("campaign_closed", "这次慰问活动已经结束，不能再修改".into())
}

/// One household to visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    /// The person.
    pub user_id: i64,
    /// Their latest qualifying hardship case.
    pub case_id: i64,
    /// That case's class.
    pub class: String,
}

/// The org's current hardship households: distinct applicants of its hardship
/// cases that have a class, are accepted or later (not rejected or withdrawn),
/// were filed since `since_ms`, and whose applicant still has an account; each
/// with the class and id of their latest such case.
pub async fn households<C: ConnectionTrait>(
    db: &C,
    org_id: i64,
    since_ms: i64,
) -> AppResult<Vec<Household>> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![org_id.into(), since_ms.into()];
    values.extend(LIVE_STATUSES.iter().map(|s| Value::from(*s)));
    let sql = format!(
        "SELECT c.id AS case_id, c.applicant_id, c.hardship_class \
         FROM cases c JOIN users u ON u.id = c.applicant_id \
         WHERE c.org_id = ? AND c.kind = 'hardship' AND c.hardship_class IS NOT NULL \
           AND c.created_at >= ? AND c.status IN ({}) AND u.deleted_at IS NULL \
         ORDER BY c.applicant_id, c.created_at DESC, c.id DESC",
        placeholders(LIVE_STATUSES.len())
    );
    let rows = db.query_all_raw(stmt(backend, &sql, values)).await?;
    let mut out: Vec<Household> = Vec::new();
    for r in rows {
        let user_id: i64 = r.try_get("", "applicant_id")?;
        if out.last().is_some_and(|h| h.user_id == user_id) {
            continue; // An older case of the same household.
        }
        out.push(Household {
            user_id,
            case_id: r.try_get("", "case_id")?,
            class: r.try_get("", "hardship_class")?,
        });
    }
    Ok(out)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Progress figures of one campaign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Visits done.
    pub done: i64,
    /// Money handed over (fen).
    pub money_fen: i64,
    /// Visits that brought goods.
    pub goods_count: i64,
}

/// Progress of several campaigns in one query.
pub async fn progress<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Progress>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT campaign_id, \
           CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done, \
           CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN COALESCE(amount_fen, 0) ELSE 0 END), 0) AS BIGINT) AS money_fen, \
           CAST(COALESCE(SUM(CASE WHEN status = 'done' AND goods IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS goods_count \
         FROM campaign_visits WHERE campaign_id IN ({}) GROUP BY campaign_id",
        placeholders(ids.len())
    );
    let values = ids.iter().map(|i| Value::from(*i)).collect();
    let rows = db
        .query_all_raw(stmt(db.get_database_backend(), &sql, values))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        out.insert(
            r.try_get::<i64>("", "campaign_id")?,
            Progress {
                done: r.try_get("", "done")?,
                money_fen: r.try_get("", "money_fen")?,
                goods_count: r.try_get("", "goods_count")?,
            },
        );
    }
    Ok(out)
}

/// The JSON of a campaign.
pub fn to_json(c: campaigns::Model, org_name: String, p: Progress) -> Campaign {
    let households = i64::from(c.households);
    Campaign {
        id: c.id,
        org_id: c.org_id,
        org_name,
        title: c.title,
        occasion: c.occasion,
        status: c.status,
        households,
        done: p.done,
        pending: households - p.done,
        money_fen: p.money_fen,
        goods_count: p.goods_count,
        created_at: rfc3339(c.created_at),
        closed_at: c.closed_at.map(rfc3339),
    }
}

async fn org_name<C: ConnectionTrait>(db: &C, org_id: i64) -> AppResult<String> {
    Ok(orgs::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default())
}

/// One campaign as JSON, with its progress.
pub async fn campaign_json<C: ConnectionTrait>(db: &C, c: campaigns::Model) -> AppResult<Campaign> {
    let p = progress(db, &[c.id]).await?;
    let name = org_name(db, c.org_id).await?;
    let p = p.get(&c.id).copied().unwrap_or_default();
    Ok(to_json(c, name, p))
}

/// The moment from which hardship cases count: twelve months ago.
pub fn households_since() -> i64 {
    let now = Utc::now();
    now.checked_sub_months(Months::new(12))
        .unwrap_or(now)
        .timestamp_millis()
}

/// Makes a campaign of a live org with one pending visit per current hardship
/// household, in the caller's transaction; none → 422 `no_hardship_households`.
pub async fn create<C: ConnectionTrait>(
    txn: &C,
    me: i64,
    org: &orgs::Model,
    c: NewCampaign,
    ip: Option<String>,
) -> AppResult<Campaign> {
    let homes = households(txn, org.id, households_since()).await?;
    if homes.is_empty() {
        return Err(AppError::rule(
            "no_hardship_households",
            "本组织近12个月没有已评定困难类别的困难职工，无法生成慰问名单",
        ));
    }
    let now = now_ms();
    let row = campaigns::Entity::insert(campaigns::ActiveModel {
        org_id: Set(org.id),
        title: Set(c.title),
        occasion: Set(c.occasion),
        status: Set("open".into()),
        households: Set(i32::try_from(homes.len()).unwrap_or(i32::MAX)),
        created_by: Set(Some(me)),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await?;
    for chunk in homes.chunks(INSERT_CHUNK) {
        campaign_visits::Entity::insert_many(chunk.iter().map(|h| campaign_visits::ActiveModel {
            campaign_id: Set(row.id),
            user_id: Set(h.user_id),
            case_id: Set(Some(h.case_id)),
            hardship_class: Set(h.class.clone()),
            status: Set("pending".into()),
            ..Default::default()
        }))
        .exec(txn)
        .await?;
    }
    audit::record(
        txn,
        Entry {
            actor: Some(me),
            action: "campaign.create",
            target: format!("campaign:{}", row.id),
            region_id: Some(org.region_id),
            ip,
            detail: Some(serde_json::json!({
                "org_id": org.id,
                "households": homes.len(),
            })),
        },
    )
    .await?;
    Ok(to_json(row, org.name.clone(), Progress::default()))
}

/// One page of an org's campaigns, newest first (`before`: ids below this).
pub async fn list(
    db: &DatabaseConnection,
    org_id: i64,
    page: &PageQuery,
) -> AppResult<Vec<Campaign>> {
    let q = campaigns::Entity::find().filter(campaigns::Column::OrgId.eq(org_id));
    let rows = page.descending(q, campaigns::Column::Id).all(db).await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let p = progress(db, &ids).await?;
    let name = org_name(db, org_id).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let pr = p.get(&c.id).copied().unwrap_or_default();
            to_json(c, name.clone(), pr)
        })
        .collect())
}

/// Closes an open campaign (409 `campaign_closed` when it already is); the change
/// and its audit entry commit together.
pub async fn close(
    db: &DatabaseConnection,
    me: i64,
    c: campaigns::Model,
    ip: Option<String>,
) -> AppResult<Campaign> {
    db.transaction::<_, Campaign, AppError>(|txn| {
        Box::pin(async move { close_in(txn, me, &c, ip).await })
    })
    .await
    .map_err(Into::into)
}

async fn close_in<C: ConnectionTrait>(
    txn: &C,
    me: i64,
    c: &campaigns::Model,
    ip: Option<String>,
) -> AppResult<Campaign> {
    let now = now_ms();
    let res = campaigns::Entity::update_many()
        .col_expr(campaigns::Column::Status, Expr::value("closed"))
        .col_expr(campaigns::Column::ClosedAt, Expr::value(now))
        .filter(campaigns::Column::Id.eq(c.id))
        .filter(campaigns::Column::Status.eq("open"))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(campaign_closed());
    }
    audit::record(
        txn,
        Entry {
            actor: Some(me),
            action: "campaign.close",
            target: format!("campaign:{}", c.id),
            region_id: audit::org_region(txn, c.org_id).await?,
            ip,
            detail: None,
        },
    )
    .await?;
    let row = campaigns::Entity::find_by_id(c.id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    campaign_json(txn, row).await
}

/// Users by id.
async fn people<C: ConnectionTrait>(
    db: &C,
    ids: Vec<i64>,
) -> AppResult<HashMap<i64, users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// Visits with the people named, in the order given.
async fn visits_json<C: ConnectionTrait>(
    db: &C,
    key: &DataKey,
    rows: Vec<campaign_visits::Model>,
) -> AppResult<Vec<Visit>> {
    let mut ids: Vec<i64> = rows.iter().map(|v| v.user_id).collect();
    ids.extend(rows.iter().filter_map(|v| v.done_by));
    let who = people(db, ids).await?;
    rows.into_iter()
        .map(|v| {
            let person = who.get(&v.user_id);
            Ok(Visit {
                id: v.id,
                user_id: v.user_id,
                name: person.and_then(|u| u.name.clone()),
                phone: person.and_then(|u| u.phone.as_deref().map(mask)),
                hardship_class: v.hardship_class,
                case_id: v.case_id,
                status: v.status,
                visited_on: v.visited_on,
                form: v.form,
                amount_fen: v.amount_fen,
                goods: v.goods,
                note: key.open_opt(v.note.as_deref())?,
                done_by_name: v
                    .done_by
                    .and_then(|id| who.get(&id))
                    .and_then(|u| u.name.clone()),
                done_at: v.done_at.map(rfc3339),
            })
        })
        .collect()
}

/// One page of a campaign's visits by id, optionally of one status.
pub async fn visits(
    db: &DatabaseConnection,
    key: &DataKey,
    campaign_id: i64,
    status: Option<&str>,
    page: &PageQuery,
) -> AppResult<Vec<Visit>> {
    let mut q =
        campaign_visits::Entity::find().filter(campaign_visits::Column::CampaignId.eq(campaign_id));
    if let Some(s) = status {
        q = q.filter(campaign_visits::Column::Status.eq(s));
    }
    let rows = page
        .ascending(q, campaign_visits::Column::Id)
        .all(db)
        .await?;
    visits_json(db, key, rows).await
}

/// Records a visit as done. The write is conditional on the visit being pending
/// and the campaign open, so of two officers marking it at once one wins and the
/// other gets 409 `already_done`. The visit and its audit entry commit together.
pub async fn mark_done(
    db: &DatabaseConnection,
    key: Arc<DataKey>,
    me: i64,
    c: campaigns::Model,
    visit_id: i64,
    d: Done,
    ip: Option<String>,
) -> AppResult<Visit> {
    db.transaction::<_, Visit, AppError>(|txn| {
        Box::pin(async move { mark_done_in(txn, &key, me, &c, visit_id, d, ip).await })
    })
    .await
    .map_err(Into::into)
}

async fn mark_done_in<C: ConnectionTrait>(
    txn: &C,
    key: &DataKey,
    me: i64,
    c: &campaigns::Model,
    visit_id: i64,
    d: Done,
    ip: Option<String>,
) -> AppResult<Visit> {
    let open_campaign = campaigns::Entity::find()
        .select_only()
        .column(campaigns::Column::Id)
        .filter(campaigns::Column::Id.eq(c.id))
        .filter(campaigns::Column::Status.eq("open"))
        .into_query();
    let res = campaign_visits::Entity::update_many()
        .col_expr(campaign_visits::Column::Status, Expr::value("done"))
        .col_expr(
            campaign_visits::Column::VisitedOn,
            Expr::value(d.visited_on.clone()),
        )
        .col_expr(campaign_visits::Column::Form, Expr::value(d.form.clone()))
        .col_expr(
            campaign_visits::Column::AmountFen,
            Expr::value(d.amount_fen),
        )
        .col_expr(campaign_visits::Column::Goods, Expr::value(d.goods.clone()))
        .col_expr(
            campaign_visits::Column::Note,
            Expr::value(key.seal_opt(d.note.as_deref())),
        )
        .col_expr(campaign_visits::Column::DoneBy, Expr::value(me))
        .col_expr(campaign_visits::Column::DoneAt, Expr::value(now_ms()))
        .filter(campaign_visits::Column::Id.eq(visit_id))
        .filter(campaign_visits::Column::CampaignId.eq(c.id))
        .filter(campaign_visits::Column::Status.eq("pending"))
        .filter(campaign_visits::Column::CampaignId.in_subquery(open_campaign))
        .exec(txn)
        .await?;
    let visit = campaign_visits::Entity::find_by_id(visit_id)
        .filter(campaign_visits::Column::CampaignId.eq(c.id))
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if res.rows_affected == 0 {
        let still_open = campaigns::Entity::find_by_id(c.id)
            .filter(campaigns::Column::Status.eq("open"))
            .one(txn)
            .await?
            .is_some();
        return Err(if !still_open {
            campaign_closed()
        } else {
            AppError::Conflict("already_done", "这户已经登记为走访过了".into())
        });
    }
    audit::record(
        txn,
        Entry {
            actor: Some(me),
            action: "campaign.visit.done",
            target: format!("campaign:{}", c.id),
            region_id: audit::org_region(txn, c.org_id).await?,
            ip,
            detail: Some(serde_json::json!({
                "visit_id": visit_id,
                "form": d.form,
                "amount_fen": d.amount_fen,
            })),
        },
    )
    .await?;
    visits_json(txn, key, vec![visit])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("visit view missing".into()))
}

fn class_zh(c: &str) -> &'static str {
    match c {
        "deep" => "深度困难",
        "relative" => "相对困难",
        "sudden" => "意外致困",
        _ => "其他",
    }
}

fn form_zh(f: &str) -> &'static str {
    match f {
        "money" => "慰问金",
        "goods" => "慰问品",
        "both" => "慰问金和慰问品",
        _ => "",
    }
}

/// Yuan with two decimals from fen.
fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The visit sheet (UTF-8 with BOM, Chinese headers), every visit by id; audited.
pub async fn visits_csv(
    db: &DatabaseConnection,
    key: &DataKey,
    me: i64,
    c: &campaigns::Model,
    ip: Option<String>,
) -> AppResult<Vec<u8>> {
    let rows = campaign_visits::Entity::find()
        .filter(campaign_visits::Column::CampaignId.eq(c.id))
        .order_by_asc(campaign_visits::Column::Id)
        .all(db)
        .await?;
    let visits = visits_json(db, key, rows).await?;
    let mut w = Csv::new(&[
        "姓名",
        "电话",
        "困难类别",
        "状态",
        "走访日期",
        "形式",
        "金额(元)",
        "物资",
        "备注",
    ])?;
    for v in &visits {
        w.line([
            v.name.clone().unwrap_or_default(),
            v.phone.clone().unwrap_or_default(),
            class_zh(&v.hardship_class).to_owned(),
            if v.status == "done" {
                "已走访"
            } else {
                "待走访"
            }
            .to_owned(),
            v.visited_on.clone().unwrap_or_default(),
            form_zh(v.form.as_deref().unwrap_or_default()).to_owned(),
            v.amount_fen.map(yuan).unwrap_or_default(),
            v.goods.clone().unwrap_or_default(),
            v.note.clone().unwrap_or_default(),
        ])?;
    }
    audit::record(
        db,
        Entry {
            actor: Some(me),
            action: "campaign.export",
            target: format!("campaign:{}", c.id),
            region_id: audit::org_region(db, c.org_id).await?,
            ip,
            detail: Some(serde_json::json!({ "rows": visits.len() })),
        },
    )
    .await?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_yuan() {
        assert_eq!(yuan(50_000), "500.00");
        assert_eq!(yuan(1), "0.01");
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(class_zh("deep"), "深度困难");
        assert_eq!(form_zh("both"), "慰问金和慰问品");
    }
}
