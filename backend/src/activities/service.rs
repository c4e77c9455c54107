//! Activity logic on the database: creating, changing, cancelling and listing
//! activities; checks first, then one transaction. Centres, sign-ups and attendance
//! live beside it (`centres`, `signups`, `attendance`).

use rand::RngCore;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::activities::dto::{
    AUDIENCES, Activity, ActivityQuery, CreateActivity, KINDS, PatchActivity, check_capacity,
    check_span, one_of, parse_time,
};
use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::auth::scope::{RoleName, admin_region_ids, scoped_ids};
use crate::clock::now_ms;
use crate::db::like_contains;
use crate::entity::{activities, centres, memberships, orgs, regions};
use crate::error::{AppError, AppResult};
use crate::orgs::dto::clean_text;
use crate::pagination::PageQuery;

/// An activity checked at the edge.
pub struct NewActivity {
    /// Holding org.
    pub org_id: i64,
    /// Centre.
    pub centre_id: Option<i64>,
    title: String,
    description: Option<String>,
    kind: String,
    starts_at: i64,
    ends_at: i64,
    capacity: Option<i32>,
    signup_required: bool,
    audience: String,
}

fn description(raw: Option<String>) -> AppResult<Option<String>> {
    match raw {
        None => Ok(None),
        Some(d) if d.trim().is_empty() => Ok(None),
        Some(d) => {
            let t = d.trim();
            if t.chars().count() > 2000
                || t.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                return Err(AppError::rule(
                    "invalid_description",
                    "简介不能超过2000个字",
                ));
            }
            Ok(Some(t.to_owned()))
        }
    }
}

fn title(raw: &str) -> AppResult<String> {
    clean_text(raw, 100, "invalid_title", "标题应为1到100个字")
}

fn kind(raw: &str) -> AppResult<String> {
    one_of(
        raw,
        &KINDS,
        "invalid_kind",
        "kind 只能是 lecture、culture、competition、service、volunteer、meeting、other",
    )
}

fn audience(raw: &str) -> AppResult<String> {
    one_of(
        raw,
        &AUDIENCES,
        "invalid_audience",
        "audience 只能是 members 或 public",
    )
}

impl NewActivity {
    /// Checks every field (422 with the field's code).
    pub fn parse(b: CreateActivity) -> AppResult<NewActivity> {
        let starts_at = parse_time(&b.starts_at, "starts_at")?;
        let ends_at = parse_time(&b.ends_at, "ends_at")?;
        check_span(starts_at, ends_at)?;
        Ok(NewActivity {
            org_id: b.org_id,
            centre_id: b.centre_id,
            title: title(&b.title)?,
            description: description(b.description)?,
            kind: kind(&b.kind)?,
            starts_at,
            ends_at,
            capacity: b.capacity.map(check_capacity).transpose()?,
            signup_required: b.signup_required.unwrap_or(false),
            audience: audience(b.audience.as_deref().unwrap_or("members"))?,
        })
    }
}

fn checkin_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores an activity (with a fresh check-in key) and audits the write.
pub async fn create_activity<C: ConnectionTrait>(
    db: &C,
    actor: Option<i64>,
    a: NewActivity,
    region_id: Option<i64>,
    ip: Option<String>,
) -> AppResult<activities::Model> {
    let now = now_ms();
    let row = activities::Entity::insert(activities::ActiveModel {
        org_id: Set(a.org_id),
        centre_id: Set(a.centre_id),
        title: Set(a.title),
        description: Set(a.description),
        kind: Set(a.kind),
        starts_at: Set(a.starts_at),
        ends_at: Set(a.ends_at),
        capacity: Set(a.capacity),
        signup_required: Set(a.signup_required),
        audience: Set(a.audience),
        status: Set("scheduled".into()),
        checkin_key: Set(checkin_key()),
        signed_up: Set(0),
        checked_in: Set(0),
        created_by: Set(actor),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    audit::record(
        db,
        Entry {
            actor,
            action: "activity.create",
            target: format!("activity:{}", row.id),
            region_id,
            ip,
            detail: None,
        },
    )
    .await?;
    Ok(row)
}

/// Applies a patch: every field is checked before anything is written; the
/// capacity may not fall below the sign-ups (checked in the same statement).
pub async fn patch_activity(
    db: &DatabaseConnection,
    me: &AuthUser,
    current: activities::Model,
    p: PatchActivity,
    ip: Option<String>,
) -> AppResult<activities::Model> {
    let mut m = activities::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(current.id),
        ..Default::default()
    };
    if let Some(t) = &p.title {
        m.title = Set(title(t)?);
    }
    if let Some(d) = p.description.clone() {
        m.description = Set(description(d)?);
    }
    if let Some(k) = &p.kind {
        m.kind = Set(kind(k)?);
    }
    let starts_at = match &p.starts_at {
        Some(s) => parse_time(s, "starts_at")?,
        None => current.starts_at,
    };
    let ends_at = match &p.ends_at {
        Some(s) => parse_time(s, "ends_at")?,
        None => current.ends_at,
    };
    if p.starts_at.is_some() || p.ends_at.is_some() {
        check_span(starts_at, ends_at)?;
        m.starts_at = Set(starts_at);
        m.ends_at = Set(ends_at);
    }
    let capacity = match p.capacity {
        Some(c) => Some(c.map(check_capacity).transpose()?),
        None => None,
    };
    if let Some(s) = p.signup_required {
        m.signup_required = Set(s);
    }
    if let Some(a) = &p.audience {
        m.audience = Set(audience(a)?);
    }
    if let Some(c) = p.centre_id {
        if let Some(cid) = c
            && centres::Entity::find_by_id(cid).one(db).await?.is_none()
        {
            return Err(AppError::rule("invalid_centre", "找不到这个活动中心"));
        }
        m.centre_id = Set(c);
    }
    if current.status == "cancelled" {
        return Err(AppError::Conflict("cancelled", "活动已取消".into()));
    }
    m.updated_at = Set(now_ms());
    let txn = db.begin().await?;
    if let Some(cap) = capacity {
        // Conditional on the live counter so a sign-up racing the change can't overbook.
        let mut q = activities::Entity::update_many()
            .col_expr(activities::Column::Capacity, Expr::value(cap))
            .filter(activities::Column::Id.eq(current.id));
        if let Some(c) = cap {
            q = q.filter(activities::Column::SignedUp.lte(c));
        }
        if q.exec(&txn).await?.rows_affected == 0 {
            return Err(AppError::Conflict(
                "capacity_below_signups",
                "人数上限不能低于已报名人数".into(),
            ));
        }
    }
    activities::Entity::update_many()
        .set(m)
        .filter(activities::Column::Id.eq(current.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "activity.update",
            target: format!("activity:{}", current.id),
            region_id: audit::org_region(&txn, current.org_id).await?,
            ip,
            detail: None,
        },
    )
    .await?;
    let row = activities::Entity::find_by_id(current.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}

/// Cancels a scheduled activity (409 when it already is).
pub async fn cancel_activity(
    db: &DatabaseConnection,
    me: &AuthUser,
    id: i64,
    reason: String,
    ip: Option<String>,
) -> AppResult<activities::Model> {
    let txn = db.begin().await?;
    let n = activities::Entity::update_many()
        .col_expr(activities::Column::Status, Expr::value("cancelled"))
        .col_expr(activities::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(activities::Column::Id.eq(id))
        .filter(activities::Column::Status.eq("scheduled"))
        .exec(&txn)
        .await?
        .rows_affected;
    if n == 0 {
        return Err(AppError::Conflict("already_cancelled", "活动已取消".into()));
    }
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "activity.cancel",
            target: format!("activity:{id}"),
            region_id: audit::activity_region(&txn, id).await?,
            ip,
            detail: Some(serde_json::json!({ "reason": reason })),
        },
    )
    .await?;
    let row = activities::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}

/// `starts_at:id` of the last item of a page.
pub fn activity_cursor(a: &Activity) -> String {
    let ms = crate::clock::parse_rfc3339_ms(&a.starts_at).unwrap_or_default();
    format!("{ms}_{}", a.id)
}

fn parse_cursor(c: &str) -> AppResult<(i64, i64)> {
    let bad = || AppError::bad_request("cursor 不正确");
    let (s, i) = c.split_once('_').ok_or_else(bad)?;
    Ok((s.parse().map_err(|_| bad())?, i.parse().map_err(|_| bad())?))
}

/// Activities the caller may see, by `starts_at` then id, one row past the page
/// (the cursor is `starts_at_id`, read from `q`; only the page's limit is used).
pub async fn list_activities(
    db: &DatabaseConnection,
    me: &AuthUser,
    q: &ActivityQuery,
    page: &PageQuery,
) -> AppResult<Vec<activities::Model>> {
    let mut visible = Condition::any()
        .add(activities::Column::Audience.eq("public"))
        .add(
            activities::Column::OrgId.in_subquery(
                Query::select()
                    .column(memberships::Column::OrgId)
                    .from(memberships::Entity)
                    .and_where(memberships::Column::UserId.eq(me.id()))
                    .and_where(memberships::Column::Status.eq("active"))
                    .to_owned(),
            ),
        );
    let orgs_managed: Vec<i64> = scoped_ids(&me.roles, RoleName::OrgAdmin).collect();
    if !orgs_managed.is_empty() {
        visible = visible.add(activities::Column::OrgId.is_in(orgs_managed));
    }
    let kept: Vec<i64> = scoped_ids(&me.roles, RoleName::CentreAdmin).collect();
    if !kept.is_empty() {
        visible = visible.add(activities::Column::CentreId.is_in(kept));
    }
    let admin_regions: Vec<i64> = admin_region_ids(&me.roles).collect();
    if !admin_regions.is_empty() {
        let mut in_region = Condition::any();
        for r in &admin_regions {
            in_region = in_region.add(regions::Column::Path.like(like_contains(&format!("/{r}/"))));
        }
        let covered = Query::select()
            .column(regions::Column::Id)
            .from(regions::Entity)
            .cond_where(in_region)
            .to_owned();
        visible = visible
            .add(
                activities::Column::OrgId.in_subquery(
                    Query::select()
                        .column(orgs::Column::Id)
                        .from(orgs::Entity)
                        .and_where(orgs::Column::RegionId.in_subquery(covered.clone()))
                        .to_owned(),
                ),
            )
            .add(
                activities::Column::CentreId.in_subquery(
                    Query::select()
                        .column(centres::Column::Id)
                        .from(centres::Entity)
                        .and_where(centres::Column::RegionId.in_subquery(covered))
                        .to_owned(),
                ),
            );
    }
    let mut sel = activities::Entity::find().filter(visible);
    if let Some(o) = q.org_id {
        sel = sel.filter(activities::Column::OrgId.eq(o));
    }
    if let Some(c) = q.centre_id {
        sel = sel.filter(activities::Column::CentreId.eq(c));
    }
    if let Some(f) = &q.from {
        let f =
            parse_time(f, "from").map_err(|_| AppError::bad_request("from 应为 RFC 3339 时间"))?;
        sel = sel.filter(activities::Column::StartsAt.gte(f));
    }
    if let Some(t) = &q.to {
        let t = parse_time(t, "to").map_err(|_| AppError::bad_request("to 应为 RFC 3339 时间"))?;
        sel = sel.filter(activities::Column::StartsAt.lt(t));
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let (s, i) = parse_cursor(c)?;
        sel = sel.filter(
            Condition::any()
                .add(activities::Column::StartsAt.gt(s))
                .add(
                    Condition::all()
                        .add(activities::Column::StartsAt.eq(s))
                        .add(activities::Column::Id.gt(i)),
                ),
        );
    }
    Ok(sel
        .order_by_asc(activities::Column::StartsAt)
        .order_by_asc(activities::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}
