//! Organization rules: the form of an org against the units it lists, the join
//! code, the poster, suggestions and leaders. Access is decided in `access`; writes that read first run in one
//! transaction with their audit entry.
use std::collections::{HashMap, HashSet};

use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::clock::now_ms;
use crate::db::{like_contains, like_prefix};
use crate::entity::{leaders, memberships, org_units, orgs, regions, units, users};
use crate::error::{AppError, AppResult, on_unique};
use crate::orgs::access;
use crate::orgs::dto::{
    CreateOrg, JoinPolicy, Leader, Org, OrgForm, OrgPoster, OrgQuery, OrgType, SuggestedOrg,
    clean_text,
};
use crate::pagination::{Page, PageQuery};

/// Characters of a join code: digits and capitals without look-alikes (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 31^10 ≈ 2^49.5 codes.
const CODE_LEN: usize = 10;
/// At most this many units per org in one request.
pub const MAX_UNITS: usize = 500;

/// A fresh join code from the thread-local CSPRNG.
pub fn new_join_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// A validated `POST /orgs` body (units are checked against the database on insert).
pub struct NewOrg {
    /// Name.
    pub name: String,
    /// Type.
    pub org_type: OrgType,
    /// Form.
    pub form: OrgForm,
    /// Region.
    pub region_id: i64,
    /// Distinct unit ids in the order given.
    pub unit_ids: Vec<i64>,
    /// Join policy.
    pub join_policy: JoinPolicy,
}

impl NewOrg {
    /// Checks the fields that need no database.
    pub fn parse(body: CreateOrg) -> AppResult<NewOrg> {
        let name = clean_text(&body.name, 100, "invalid_name", "名称应为1到100个字")?;
        let org_type = OrgType::parse(&body.org_type)
            .ok_or_else(|| AppError::rule("invalid_type", "类型应为 union、league 或 women"))?;
        let form = OrgForm::parse(&body.form).ok_or_else(|| {
            AppError::rule(
                "invalid_form",
                "组建形式应为 single、joint、regional、industry 或 online",
            )
        })?;
        let join_policy = match body.join_policy.as_deref() {
            None => JoinPolicy::Approval,
            Some(p) => JoinPolicy::parse(p).ok_or_else(|| {
                AppError::rule("invalid_join_policy", "入会方式应为 open 或 approval")
            })?,
        };
        if body.unit_ids.len() > MAX_UNITS {
            return Err(AppError::rule(
                "too_many_units",
                "一个组织最多覆盖500个单位",
            ));
        }
        let mut seen = HashSet::new();
        if !body.unit_ids.iter().all(|id| seen.insert(*id)) {
            return Err(AppError::rule("duplicate_unit", "单位列表有重复"));
        }
        Ok(NewOrg {
            name,
            org_type,
            form,
            region_id: body.region_id,
            unit_ids: body.unit_ids,
            join_policy,
        })
    }
}

fn form_units_error(message: &str) -> AppError {
    AppError::rule("invalid_form_units", message)
}

/// The form rules of the org against its region and units.
pub fn check_form(form: OrgForm, region: &regions::Model, units: &[units::Model]) -> AppResult<()> {
    if units.is_empty() {
        return Err(form_units_error("至少要覆盖一个单位"));
    }
    match form {
        OrgForm::Single if units.len() != 1 => {
            Err(form_units_error("单独建立的组织只覆盖一个单位"))
        }
        OrgForm::Joint if units.len() < 2 => {
            Err(form_units_error("联合建立的组织至少覆盖两个单位"))
        }
        OrgForm::Regional if !matches!(region.kind.as_str(), "park" | "building" | "market") => {
            Err(AppError::rule(
                "invalid_form_region",
                "区域化组织只能建在园区、商务楼宇或商圈市场",
            ))
        }
        OrgForm::Industry if units.iter().filter(|u| u.kind == "association").count() != 1 => Err(
            form_units_error("依托行业协会的组织应恰好包含一个行业协会商会"),
        ),
        OrgForm::Online if units.iter().any(|u| u.kind != "platform") => {
            Err(form_units_error("网上组织只覆盖网络平台"))
        }
        _ => Ok(()),
    }
}

/// Sets up an org (no access check: the handler has asked the scope guard): the
/// checks, the rows and the audit entry run in one transaction.
pub async fn create(
    db: &DatabaseConnection,
    new: NewOrg,
    actor: i64,
    ip: Option<String>,
) -> AppResult<Org> {
    db.transaction::<_, Org, AppError>(|txn| {
        Box::pin(async move { insert(txn, new, Some(actor), ip).await })
    })
    .await
    .map_err(Into::into)
}

/// Checks units and form, then inserts the org and its units inside the caller's
/// transaction (no access check). Audited when `actor` is given.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    new: NewOrg,
    actor: Option<i64>,
    ip: Option<String>,
) -> AppResult<Org> {
    let region = regions::Entity::find_by_id(new.region_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::rule("invalid_region", "找不到这个区域"))?;
    let found = units::Entity::find()
        .filter(units::Column::Id.is_in(new.unit_ids.clone()))
        .all(db)
        .await?;
    if found.len() != new.unit_ids.len() {
        return Err(AppError::rule("invalid_unit", "找不到其中的单位"));
    }
    let unit_regions = regions::Entity::find()
        .filter(regions::Column::Id.is_in(found.iter().map(|u| u.region_id).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let inside = |u: &units::Model| {
        unit_regions
            .iter()
            .find(|r| r.id == u.region_id)
            .is_some_and(|r| r.path.starts_with(&region.path))
    };
    if !found.iter().all(inside) {
        return Err(AppError::rule(
            "unit_outside_region",
            "单位不在该组织所属区域内",
        ));
    }
    check_form(new.form, &region, &found)?;
    let mut code = new_join_code();
    // A clash among ~2^49 codes is next to impossible; look anyway.
    for _ in 0..5 {
        let taken = orgs::Entity::find()
            .filter(orgs::Column::JoinCode.eq(&code))
            .one(db)
            .await?
            .is_some();
        if !taken {
            break;
        }
        code = new_join_code();
    }
    let now = now_ms();
    let org = orgs::Entity::insert(orgs::ActiveModel {
        name: Set(new.name),
        org_type: Set(new.org_type.as_str().to_owned()),
        form: Set(new.form.as_str().to_owned()),
        region_id: Set(region.id),
        join_code: Set(code),
        join_policy: Set(new.join_policy.as_str().to_owned()),
        created_by: Set(actor),
        created_at: Set(now),
        updated_at: Set(now),
        dissolved_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| on_unique(e, "conflict", "请重试"))?;
    org_units::Entity::insert_many(new.unit_ids.iter().map(|u| org_units::ActiveModel {
        org_id: Set(org.id),
        unit_id: Set(*u),
    }))
    .exec_without_returning(db)
    .await?;
    if actor.is_some() {
        audit::record(
            db,
            Entry {
                actor,
                action: "org.create",
                target: format!("org:{}", org.id),
                region_id: Some(org.region_id),
                ip,
                detail: Some(serde_json::json!({
                    "name": org.name, "type": org.org_type, "form": org.form, "unit_ids": new.unit_ids,
                })),
            },
        )
        .await?;
    }
    Ok(view(org, new.unit_ids, true))
}

/// The API view; `show_code` only for the org's managers.
pub fn view(org: orgs::Model, unit_ids: Vec<i64>, show_code: bool) -> Org {
    Org {
        id: org.id,
        name: org.name,
        org_type: org.org_type,
        form: org.form,
        region_id: org.region_id,
        unit_ids,
        join_code: show_code.then_some(org.join_code),
        join_policy: org.join_policy,
    }
}

/// Unit ids per org, in id order.
pub async fn units_of<C: ConnectionTrait>(
    db: &C,
    org_ids: Vec<i64>,
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in org_units::Entity::find()
        .filter(org_units::Column::OrgId.is_in(org_ids))
        .order_by_asc(org_units::Column::UnitId)
        .all(db)
        .await?
    {
        out.entry(row.org_id).or_default().push(row.unit_id);
    }
    Ok(out)
}

/// Views of many orgs for one caller (join codes where they manage).
pub async fn views_for(
    db: &DatabaseConnection,
    me: &AuthUser,
    rows: Vec<orgs::Model>,
) -> AppResult<Vec<Org>> {
    let mut units = units_of(db, rows.iter().map(|o| o.id).collect()).await?;
    let paths = access::region_paths(db, rows.iter().map(|o| o.region_id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let show =
                access::manages_with_path(me, o.id, paths.get(&o.region_id).map(String::as_str));
            let ids = units.remove(&o.id).unwrap_or_default();
            view(o, ids, show)
        })
        .collect())
}

/// `GET /orgs`: live orgs by region subtree, unit, type and name.
pub async fn list(db: &DatabaseConnection, me: &AuthUser, q: &OrgQuery) -> AppResult<Page<Org>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let mut select = orgs::Entity::find().filter(orgs::Column::DissolvedAt.is_null());
    if let Some(t) = q.org_type.as_deref() {
        let t = OrgType::parse(t)
            .ok_or_else(|| AppError::bad_request("type 应为 union、league 或 women"))?;
        select = select.filter(orgs::Column::OrgType.eq(t.as_str()));
    }
    if let Some(term) = q.q.as_deref() {
        let term = term.trim();
        if !(1..=50).contains(&term.chars().count()) || term.chars().any(char::is_control) {
            return Err(AppError::bad_request("请输入1到50个字查找"));
        }
        select =
            select.filter(Expr::col((orgs::Entity, orgs::Column::Name)).like(like_contains(term)));
    }
    if let Some(region_id) = q.region_id {
        let Some(region) = regions::Entity::find_by_id(region_id).one(db).await? else {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        };
        select = select.filter(
            orgs::Column::RegionId.in_subquery(
                Query::select()
                    .column(regions::Column::Id)
                    .from(regions::Entity)
                    .and_where(Expr::col(regions::Column::Path).like(like_prefix(&region.path)))
                    .to_owned(),
            ),
        );
    }
    if let Some(unit_id) = q.unit_id {
        select = select.filter(
            orgs::Column::Id.in_subquery(
                Query::select()
                    .column(org_units::Column::OrgId)
                    .from(org_units::Entity)
                    .and_where(org_units::Column::UnitId.eq(unit_id))
                    .to_owned(),
            ),
        );
    }
    let rows = page.ascending(select, orgs::Column::Id).all(db).await?;
    let page = page.finish(rows, |o| o.id, |o| o);
    Ok(Page {
        items: views_for(db, me, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// `GET /orgs/by-code/{code}`: what the join poster shows.
pub async fn poster(db: &DatabaseConnection, code: &str) -> AppResult<OrgPoster> {
    let code = code.trim().to_ascii_uppercase();
    // Codes are ASCII letters and digits; anything else cannot match (and a NUL
    // would upset PostgreSQL).
    if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AppError::NotFound);
    }
    let org = orgs::Entity::find()
        .filter(orgs::Column::JoinCode.eq(code))
        .filter(orgs::Column::DissolvedAt.is_null())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let region_name = regions::Entity::find_by_id(org.region_id)
        .one(db)
        .await?
        .map(|r| r.name)
        .unwrap_or_default();
    let unit_ids = units_of(db, vec![org.id])
        .await?
        .remove(&org.id)
        .unwrap_or_default();
    let unit_names = units::Entity::find()
        .filter(units::Column::Id.is_in(unit_ids))
        .order_by_asc(units::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    Ok(OrgPoster {
        id: org.id,
        name: org.name,
        org_type: org.org_type,
        form: org.form,
        join_policy: org.join_policy,
        region_name,
        unit_names,
    })
}

/// The join URL a poster's QR code encodes.
pub fn join_url(public_url: &str, code: &str) -> String {
    format!("{}/join/{code}", public_url.trim_end_matches('/'))
}

/// An SVG QR code of `url`.
pub fn qr_svg(url: &str) -> AppResult<String> {
    let code =
        qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// Orgs of the caller's workplace, and online orgs of their platform.
pub async fn suggested(db: &DatabaseConnection, me: &AuthUser) -> AppResult<Vec<SuggestedOrg>> {
    let mut org_ids: Vec<i64> = vec![];
    if let Some(unit_id) = me.user.unit_id {
        org_ids.extend(
            org_units::Entity::find()
                .filter(org_units::Column::UnitId.eq(unit_id))
                .all(db)
                .await?
                .into_iter()
                .map(|r| r.org_id),
        );
    }
    if let Some(platform) = me
        .user
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let platform = platform.to_lowercase();
        // Platform units that some live online org lists; few enough to match in memory.
        let online: Vec<i64> = orgs::Entity::find()
            .filter(orgs::Column::Form.eq(OrgForm::Online.as_str()))
            .filter(orgs::Column::DissolvedAt.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
        let links = org_units::Entity::find()
            .filter(org_units::Column::OrgId.is_in(online))
            .all(db)
            .await?;
        let matching: HashSet<i64> = units::Entity::find()
            .filter(units::Column::Id.is_in(links.iter().map(|l| l.unit_id).collect::<Vec<_>>()))
            .filter(units::Column::Kind.eq("platform"))
            .all(db)
            .await?
            .into_iter()
            .filter(|u| {
                let name = u.name.to_lowercase();
                name.contains(&platform) || platform.contains(&name)
            })
            .map(|u| u.id)
            .collect();
        org_ids.extend(
            links
                .iter()
                .filter(|l| matching.contains(&l.unit_id))
                .map(|l| l.org_id),
        );
    }
    org_ids.sort_unstable();
    org_ids.dedup();
    let rows = orgs::Entity::find()
        .filter(orgs::Column::Id.is_in(org_ids.clone()))
        .filter(orgs::Column::DissolvedAt.is_null())
        .order_by_asc(orgs::Column::Id)
        .limit(100)
        .all(db)
        .await?;
    let statuses: HashMap<i64, String> = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(me.id()))
        .filter(memberships::Column::OrgId.is_in(org_ids))
        .filter(memberships::Column::Status.is_in(["pending", "active"]))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.org_id, m.status))
        .collect();
    let mut units = units_of(db, rows.iter().map(|o| o.id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|o| SuggestedOrg {
            member_status: statuses.get(&o.id).cloned(),
            unit_ids: units.remove(&o.id).unwrap_or_default(),
            id: o.id,
            name: o.name,
            org_type: o.org_type,
            form: o.form,
            region_id: o.region_id,
            join_policy: o.join_policy,
        })
        .collect())
}

/// Adds a leader: an active member, once per org (audited).
pub async fn add_leader(
    db: &DatabaseConnection,
    org: &orgs::Model,
    user_id: i64,
    position: String,
    actor: i64,
    ip: Option<String>,
) -> AppResult<Leader> {
    let org = org.clone();
    let row = db
        .transaction::<_, leaders::Model, AppError>(|txn| {
            Box::pin(async move {
                let active = memberships::Entity::find()
                    .filter(memberships::Column::OrgId.eq(org.id))
                    .filter(memberships::Column::UserId.eq(user_id))
                    .filter(memberships::Column::Status.eq("active"))
                    .one(txn)
                    .await?;
                if active.is_none() {
                    return Err(AppError::rule("not_member", "班子成员应是本组织的正式成员"));
                }
                let row = leaders::Entity::insert(leaders::ActiveModel {
                    org_id: Set(org.id),
                    user_id: Set(user_id),
                    position: Set(position),
                    created_at: Set(now_ms()),
                    ..Default::default()
                })
                .exec_with_returning(txn)
                .await
                .map_err(|e| on_unique(e, "already_leader", "此人已是班子成员"))?;
                audit::record(
                    txn,
                    Entry {
                        actor: Some(actor),
                        action: "org.leader.add",
                        target: format!("org:{}", org.id),
                        region_id: Some(org.region_id),
                        ip,
                        detail: Some(serde_json::json!({
                            "leader_id": row.id, "user_id": user_id, "position": row.position,
                        })),
                    },
                )
                .await?;
                Ok(row)
            })
        })
        .await?;
    let name = users::Entity::find_by_id(row.user_id)
        .one(db)
        .await?
        .and_then(|u| u.name);
    Ok(Leader {
        id: row.id,
        org_id: row.org_id,
        user_id: row.user_id,
        name,
        position: row.position,
    })
}

/// An org's leaders (names and positions only).
pub async fn leaders_of(
    db: &DatabaseConnection,
    org_id: i64,
    page: &PageQuery,
) -> AppResult<Page<Leader>> {
    let select = leaders::Entity::find().filter(leaders::Column::OrgId.eq(org_id));
    let rows = page.ascending(select, leaders::Column::Id).all(db).await?;
    let names: HashMap<i64, Option<String>> = users::Entity::find()
        .filter(users::Column::Id.is_in(rows.iter().map(|l| l.user_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(page.finish(
        rows,
        |l| l.id,
        |l| Leader {
            id: l.id,
            org_id: l.org_id,
            user_id: l.user_id,
            name: names.get(&l.user_id).cloned().flatten(),
            position: l.position,
        },
    ))
}

/// Removes a leader of the org (404 when it is not one of its leaders; audited).
pub async fn remove_leader(
    db: &DatabaseConnection,
    org: &orgs::Model,
    leader_id: i64,
    actor: i64,
    ip: Option<String>,
) -> AppResult<()> {
    let org = org.clone();
    db.transaction::<_, (), AppError>(|txn| {
        Box::pin(async move {
            let row = leaders::Entity::find_by_id(leader_id)
                .filter(leaders::Column::OrgId.eq(org.id))
                .one(txn)
                .await?
                .ok_or(AppError::NotFound)?;
            leaders::Entity::delete_by_id(row.id).exec(txn).await?;
            audit::record(
                txn,
                Entry {
                    actor: Some(actor),
                    action: "org.leader.remove",
                    target: format!("org:{}", org.id),
                    region_id: Some(org.region_id),
                    ip,
                    detail: Some(serde_json::json!({
                        "leader_id": row.id, "user_id": row.user_id, "position": row.position,
                    })),
                },
            )
            .await
        })
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_codes_are_ten_unambiguous_characters_and_differ() {
        let a = new_join_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(a.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert!(!a.contains(['0', 'O', '1', 'I', 'L']));
        let many: HashSet<String> = (0..1000).map(|_| new_join_code()).collect();
        assert_eq!(many.len(), 1000);
    }

    #[test]
    fn join_url_has_one_slash() {
        assert_eq!(
            join_url("https://q.example/", "ABC"),
            "https://q.example/join/ABC"
        );
    }
}
