//! Centre and activity logic on the database: checks first, then one transaction.
use std::collections::HashMap;

use rand::RngCore;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::activities::access::{centre_ids, org_admin_ids};
use crate::activities::dto::{
    AUDIENCES, Activity, ActivityQuery, AttendanceItem, CreateActivity, CreateCentre, HOMES, KINDS,
    PatchActivity, Signup, check_capacity, check_span, one_of, parse_time,
};
use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::auth::phone::mask;
use crate::auth::scope::{admin_region_ids, path_within};
use crate::clock::{now_ms, rfc3339};
use crate::entity::{
    activities, centres, checkins, memberships, orgs, regions, signups, units, users,
};
use crate::error::{AppError, AppResult, on_unique};
use crate::orgs::dto::clean_text;

/// A centre checked at the edge.
pub struct NewCentre {
    name: String,
    region_id: i64,
    address: String,
    homes: String,
    capacity: Option<i32>,
}

impl NewCentre {
    /// Checks every field (422 with the field's code).
    pub fn parse(b: CreateCentre) -> AppResult<NewCentre> {
        let name = clean_text(&b.name, 100, "invalid_name", "名称应为1到100个字")?;
        let address = clean_text(&b.address, 200, "invalid_address", "地址应为1到200个字")?;
        if b.homes.is_empty() || b.homes.len() > HOMES.len() {
            return Err(AppError::rule(
                "invalid_homes",
                "homes 应为 party、workers、youth、women 中的一个或几个",
            ));
        }
        let mut seen = Vec::new();
        for h in &b.homes {
            let h = one_of(
                h,
                &HOMES,
                "invalid_homes",
                "homes 只能是 party、workers、youth、women",
            )?;
            if seen.contains(&h) {
                return Err(AppError::rule("invalid_homes", "homes 不能重复"));
            }
            seen.push(h);
        }
        let capacity = b.capacity.map(check_capacity).transpose()?;
        Ok(NewCentre {
            name,
            region_id: b.region_id,
            address,
            homes: seen.join(","),
            capacity,
        })
    }

    /// The region it is for.
    pub fn region_id(&self) -> i64 {
        self.region_id
    }
}

/// Stores a centre and audits the write.
pub async fn create_centre(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: NewCentre,
    ip: Option<String>,
) -> AppResult<centres::Model> {
    let actor = me.id();
    let txn = db.begin().await?;
    let now = now_ms();
    let row = centres::Entity::insert(centres::ActiveModel {
        name: Set(c.name),
        region_id: Set(c.region_id),
        address: Set(c.address),
        homes: Set(c.homes),
        capacity: Set(c.capacity),
        created_by: Set(Some(actor)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(actor),
            action: "centre.create",
            target: format!("centre:{}", row.id),
            region_id: Some(row.region_id),
            ip,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Centres in a region's subtree (all when none is given), by id.
pub async fn list_centres(
    db: &DatabaseConnection,
    region_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> AppResult<Vec<centres::Model>> {
    let mut q = centres::Entity::find();
    if let Some(rid) = region_id {
        let region = regions::Entity::find_by_id(rid)
            .one(db)
            .await?
            .ok_or_else(|| AppError::rule("invalid_region", "找不到这个区域"))?;
        q = q.filter(
            centres::Column::RegionId.in_subquery(
                Query::select()
                    .column(regions::Column::Id)
                    .from(regions::Entity)
                    .and_where(regions::Column::Path.starts_with(&region.path))
                    .to_owned(),
            ),
        );
    }
    if let Some(a) = after {
        q = q.filter(centres::Column::Id.gt(a));
    }
    Ok(q.order_by_asc(centres::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

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
            region_id: None,
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
            region_id: None,
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

/// Activities the caller may see, by `starts_at` then id; `limit + 1` rows.
pub async fn list_activities(
    db: &DatabaseConnection,
    me: &AuthUser,
    q: &ActivityQuery,
    limit: u64,
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
    let orgs_managed = org_admin_ids(&me.roles);
    if !orgs_managed.is_empty() {
        visible = visible.add(activities::Column::OrgId.is_in(orgs_managed));
    }
    let kept = centre_ids(&me.roles);
    if !kept.is_empty() {
        visible = visible.add(activities::Column::CentreId.is_in(kept));
    }
    let admin_regions: Vec<i64> = admin_region_ids(&me.roles).collect();
    if !admin_regions.is_empty() {
        let mut in_region = Condition::any();
        for r in &admin_regions {
            in_region = in_region.add(regions::Column::Path.contains(format!("/{r}/")));
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
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Signs a person up inside the caller's transaction: the counter goes up only
/// while below capacity (0 rows: full or closed), then the row is inserted (a
/// live twin: `already_signed_up`, and the transaction rolls the counter back).
pub async fn sign_up(
    txn: &DatabaseTransaction,
    activity_id: i64,
    user_id: i64,
) -> AppResult<Signup> {
    let now = now_ms();
    let n = activities::Entity::update_many()
        .col_expr(
            activities::Column::SignedUp,
            Expr::col(activities::Column::SignedUp).add(1),
        )
        .filter(activities::Column::Id.eq(activity_id))
        .filter(activities::Column::Status.eq("scheduled"))
        .filter(activities::Column::EndsAt.gt(now))
        .filter(
            Condition::any()
                .add(activities::Column::Capacity.is_null())
                .add(
                    Expr::col(activities::Column::SignedUp)
                        .lt(Expr::col(activities::Column::Capacity)),
                ),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if n == 0 {
        let live = signups::Entity::find()
            .filter(signups::Column::ActivityId.eq(activity_id))
            .filter(signups::Column::UserId.eq(user_id))
            .filter(signups::Column::Status.eq("active"))
            .one(txn)
            .await?;
        if live.is_some() {
            return Err(already());
        }
        let a = activities::Entity::find_by_id(activity_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if a.status != "scheduled" || a.ends_at <= now {
            return Err(AppError::Conflict("not_open", "活动已取消或已结束".into()));
        }
        return Err(AppError::Conflict("full", "活动名额已满".into()));
    }
    let row = signups::Entity::insert(signups::ActiveModel {
        activity_id: Set(activity_id),
        user_id: Set(user_id),
        status: Set("active".into()),
        created_at: Set(now),
        cancelled_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await
    .map_err(|e| on_unique(e, "already_signed_up", "你已报名该活动"))?;
    Ok(Signup {
        id: row.id,
        activity_id,
        user_id,
        status: row.status,
    })
}

fn already() -> AppError {
    AppError::Conflict("already_signed_up", "你已报名该活动".into())
}

/// Cancels the caller's live sign-up and gives the place back, in one transaction.
pub async fn cancel_sign_up(
    db: &DatabaseConnection,
    activity_id: i64,
    user_id: i64,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let n = signups::Entity::update_many()
        .col_expr(signups::Column::Status, Expr::value("cancelled"))
        .col_expr(signups::Column::CancelledAt, Expr::value(now_ms()))
        .filter(signups::Column::ActivityId.eq(activity_id))
        .filter(signups::Column::UserId.eq(user_id))
        .filter(signups::Column::Status.eq("active"))
        .exec(&txn)
        .await?
        .rows_affected;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    activities::Entity::update_many()
        .col_expr(
            activities::Column::SignedUp,
            Expr::col(activities::Column::SignedUp).sub(1),
        )
        .filter(activities::Column::Id.eq(activity_id))
        .filter(activities::Column::SignedUp.gt(0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's sign-ups, newest first by id, with their activities.
pub async fn my_signups(
    db: &DatabaseConnection,
    user_id: i64,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Vec<(signups::Model, Option<activities::Model>)>> {
    let mut q = signups::Entity::find().filter(signups::Column::UserId.eq(user_id));
    if let Some(b) = before {
        q = q.filter(signups::Column::Id.lt(b));
    }
    let rows = q
        .order_by_desc(signups::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|s| s.activity_id).collect();
    let acts: HashMap<i64, activities::Model> = activities::Entity::find()
        .filter(activities::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(rows
        .into_iter()
        .map(|s| {
            let a = acts.get(&s.activity_id).cloned();
            (s, a)
        })
        .collect())
}

/// People by id, with whether the viewer may see each one's full phone (an
/// admin whose region covers the person's unit).
async fn people(
    db: &DatabaseConnection,
    me: &AuthUser,
    ids: Vec<i64>,
) -> AppResult<HashMap<i64, (users::Model, bool)>> {
    let found = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let admin_regions: Vec<i64> = admin_region_ids(&me.roles).collect();
    let mut unit_paths: HashMap<i64, String> = HashMap::new();
    if !admin_regions.is_empty() {
        let unit_ids: Vec<i64> = found.iter().filter_map(|u| u.unit_id).collect();
        let us = units::Entity::find()
            .filter(units::Column::Id.is_in(unit_ids))
            .all(db)
            .await?;
        let paths =
            crate::orgs::access::region_paths(db, us.iter().map(|u| u.region_id).collect()).await?;
        for u in us {
            if let Some(p) = paths.get(&u.region_id) {
                unit_paths.insert(u.id, p.clone());
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|u| {
            let full = u
                .unit_id
                .and_then(|id| unit_paths.get(&id))
                .is_some_and(|p| path_within(p, admin_regions.iter().copied()));
            (u.id, (u, full))
        })
        .collect())
}

fn phone_for(u: &users::Model, full: bool) -> Option<String> {
    u.phone
        .as_deref()
        .map(|p| if full { p.to_owned() } else { mask(p) })
}

/// One page of the check-ins of an activity (by id), with people; full phones shown
/// are audited.
pub async fn attendance(
    db: &DatabaseConnection,
    me: &AuthUser,
    activity_id: i64,
    after: Option<i64>,
    limit: u64,
    ip: Option<String>,
) -> AppResult<Vec<AttendanceItem>> {
    let mut q = checkins::Entity::find().filter(checkins::Column::ActivityId.eq(activity_id));
    if let Some(a) = after {
        q = q.filter(checkins::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(checkins::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let who = people(db, me, rows.iter().map(|c| c.user_id).collect()).await?;
    let shown: Vec<i64> = who
        .values()
        .filter(|(_, f)| *f)
        .map(|(u, _)| u.id)
        .collect();
    if !shown.is_empty() {
        audit::record(
            db,
            Entry {
                actor: Some(me.id()),
                action: "activity.attendance.read_phones",
                target: format!("activity:{activity_id}"),
                region_id: None,
                ip,
                detail: Some(serde_json::json!({ "user_ids": shown })),
            },
        )
        .await?;
    }
    Ok(rows
        .into_iter()
        .map(|c| {
            let person = who.get(&c.user_id);
            AttendanceItem {
                id: c.id,
                user_id: c.user_id,
                name: person.and_then(|(u, _)| u.name.clone()),
                phone: person.and_then(|(u, f)| phone_for(u, *f)),
                method: c.method,
                checked_in_at: rfc3339(c.checked_in_at),
                scanned_at: c.scanned_at.map(rfc3339),
                undone_at: c.undone_at.map(rfc3339),
                undo_reason: c.undo_reason,
            }
        })
        .collect())
}

/// The attendance sheet: every check-in, then every live sign-up who did not come.
pub async fn attendance_csv(
    db: &DatabaseConnection,
    me: &AuthUser,
    a: &activities::Model,
    ip: Option<String>,
) -> AppResult<Vec<u8>> {
    let checks = checkins::Entity::find()
        .filter(checkins::Column::ActivityId.eq(a.id))
        .order_by_asc(checkins::Column::Id)
        .all(db)
        .await?;
    let signed = signups::Entity::find()
        .filter(signups::Column::ActivityId.eq(a.id))
        .filter(signups::Column::Status.eq("active"))
        .order_by_asc(signups::Column::Id)
        .all(db)
        .await?;
    let mut ids: Vec<i64> = checks.iter().map(|c| c.user_id).collect();
    ids.extend(signed.iter().map(|s| s.user_id));
    let who = people(db, me, ids).await?;
    let signed_ids: std::collections::HashSet<i64> = signed.iter().map(|s| s.user_id).collect();
    let standing: std::collections::HashSet<i64> = checks
        .iter()
        .filter(|c| c.undone_at.is_none())
        .map(|c| c.user_id)
        .collect();
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let csv_err = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    w.write_record([
        "姓名",
        "手机号",
        "是否报名",
        "签到状态",
        "签到方式",
        "签到时间",
        "扫码时间",
        "撤销时间",
        "撤销原因",
    ])
    .map_err(csv_err)?;
    let method_zh = |m: &str| match m {
        "qr" => "扫码",
        "short_code" => "签到码",
        "manual" => "人工",
        _ => "其他",
    };
    for c in &checks {
        let (name, phone) = who
            .get(&c.user_id)
            .map(|(u, f)| {
                (
                    u.name.clone().unwrap_or_default(),
                    phone_for(u, *f).unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        w.write_record([
            name.as_str(),
            phone.as_str(),
            if signed_ids.contains(&c.user_id) {
                "是"
            } else {
                "否"
            },
            if c.undone_at.is_some() {
                "已撤销"
            } else {
                "已签到"
            },
            method_zh(&c.method),
            &rfc3339(c.checked_in_at),
            &c.scanned_at.map(rfc3339).unwrap_or_default(),
            &c.undone_at.map(rfc3339).unwrap_or_default(),
            c.undo_reason.as_deref().unwrap_or_default(),
        ])
        .map_err(csv_err)?;
    }
    for s in signed.iter().filter(|s| !standing.contains(&s.user_id)) {
        if checks.iter().any(|c| c.user_id == s.user_id) {
            continue; // Undone check-ins are already listed above.
        }
        let (name, phone) = who
            .get(&s.user_id)
            .map(|(u, f)| {
                (
                    u.name.clone().unwrap_or_default(),
                    phone_for(u, *f).unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        w.write_record([
            name.as_str(),
            phone.as_str(),
            "是",
            "未签到",
            "",
            "",
            "",
            "",
            "",
        ])
        .map_err(csv_err)?;
    }
    audit::record(
        db,
        Entry {
            actor: Some(me.id()),
            action: "activity.attendance.export",
            target: format!("activity:{}", a.id),
            region_id: None,
            ip,
            detail: None,
        },
    )
    .await?;
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))
}
