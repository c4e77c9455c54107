//! Service catalogue logic: who may offer, list and change services.
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::clock::now_ms;
use crate::entity::{memberships, orgs, services};
use crate::error::{AppError, AppResult};
use crate::orgs::access::{can_manage, live_org, manages_with_path, region_paths};
use crate::pagination::{Page, PageQuery};
use crate::services::dto::{
    CreateService, PatchService, Service, ServiceKind, ServiceQuery, parse_description, parse_title,
};

/// Orgs where the person holds an active membership.
pub async fn member_org_ids<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<HashSet<i64>> {
    Ok(memberships::Entity::find()
        .select_only()
        .column(memberships::Column::OrgId)
        .filter(memberships::Column::UserId.eq(user_id))
        .filter(memberships::Column::Status.eq("active"))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// A service with its live org, or 404.
pub async fn service_with_org<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<(services::Model, orgs::Model)> {
    let s = services::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = live_org(db, s.org_id).await?;
    Ok((s, org))
}

/// Offers a new service (the caller manages the org; checked by the route).
pub async fn create(
    db: &DatabaseConnection,
    me: &AuthUser,
    org: &orgs::Model,
    body: CreateService,
    ip: Option<String>,
) -> AppResult<services::Model> {
    let kind = ServiceKind::parse(body.kind.trim())?;
    let title = parse_title(&body.title)?;
    let description = parse_description(body.description.as_deref())?;
    let txn = db.begin().await?;
    let now = now_ms();
    let row = services::Entity::insert(services::ActiveModel {
        org_id: Set(org.id),
        kind: Set(kind.as_str().to_owned()),
        title: Set(title),
        description: Set(description),
        members_only: Set(body.members_only.unwrap_or(false)),
        active: Set(true),
        created_by: Set(Some(me.id())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "service.create",
            target: format!("service:{}", row.id),
            region_id: Some(org.region_id),
            ip,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Changes the fields sent (the caller manages the org; checked by the route).
pub async fn patch(
    db: &DatabaseConnection,
    me: &AuthUser,
    s: services::Model,
    org: &orgs::Model,
    body: PatchService,
    ip: Option<String>,
) -> AppResult<services::Model> {
    let mut am: services::ActiveModel = s.into();
    if let Some(t) = body.title.as_deref() {
        am.title = Set(parse_title(t)?);
    }
    if let Some(d) = body.description {
        am.description = Set(parse_description(d.as_deref())?);
    }
    if let Some(m) = body.members_only {
        am.members_only = Set(m);
    }
    if let Some(a) = body.active {
        am.active = Set(a);
    }
    am.updated_at = Set(now_ms());
    let txn = db.begin().await?;
    let row = services::Entity::update(am).exec(&txn).await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "service.update",
            target: format!("service:{}", row.id),
            region_id: Some(org.region_id),
            ip,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Services the caller may see, by id: active ones, plus inactive ones of an
/// org the caller manages when `org_id` names it.
pub async fn list(
    db: &DatabaseConnection,
    me: &AuthUser,
    q: &ServiceQuery,
) -> AppResult<Page<Service>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(
            ServiceKind::parse(k)
                .map_err(|_| AppError::bad_request("kind 不正确"))?
                .as_str(),
        ),
    };
    let member_of = member_org_ids(db, me.id()).await?;
    let mut include_inactive = false;
    if let Some(org_id) = q.org_id
        && let Some(org) = orgs::Entity::find_by_id(org_id).one(db).await?
    {
        include_inactive = can_manage(db, me, &org).await?;
    }
    let mut find = services::Entity::find();
    if let Some(org_id) = q.org_id {
        find = find.filter(services::Column::OrgId.eq(org_id));
    }
    if let Some(k) = kind {
        find = find.filter(services::Column::Kind.eq(k));
    }
    if q.mine == Some(true) {
        find = find.filter(services::Column::OrgId.is_in(member_of.iter().copied()));
    }
    if !include_inactive {
        find = find.filter(services::Column::Active.eq(true));
    }
    // Services of dissolved orgs are gone for everybody.
    find = find.filter(
        services::Column::OrgId.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(orgs::Column::Id)
                .from(orgs::Entity)
                .and_where(orgs::Column::DissolvedAt.is_null())
                .to_owned(),
        ),
    );
    let rows = page.ascending(find, services::Column::Id).all(db).await?;
    let names = org_names(db, rows.iter().map(|s| s.org_id).collect()).await?;
    Ok(page.finish(
        rows,
        |s| s.id,
        |s| {
            let name = names.get(&s.org_id).cloned().unwrap_or_default();
            let member = member_of.contains(&s.org_id);
            Service::new(s, name, member)
        },
    ))
}

async fn org_names(db: &DatabaseConnection, ids: Vec<i64>) -> AppResult<HashMap<i64, String>> {
    Ok(orgs::Entity::find()
        .select_only()
        .column(orgs::Column::Id)
        .column(orgs::Column::Name)
        .filter(orgs::Column::Id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// One service as the caller sees it: inactive ones only for the org's managers.
pub async fn visible(db: &DatabaseConnection, me: &AuthUser, id: i64) -> AppResult<Service> {
    let (s, org) = service_with_org(db, id).await?;
    if !s.active {
        let paths = region_paths(db, vec![org.region_id]).await?;
        if !manages_with_path(me, org.id, paths.get(&org.region_id).map(String::as_str)) {
            return Err(AppError::NotFound);
        }
    }
    let member = member_org_ids(db, me.id()).await?.contains(&org.id);
    Ok(Service::new(s, org.name, member))
}
