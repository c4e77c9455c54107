//! Who may do what with an organization — the one place these rules live.
//!
//! - Creating an org: an admin whose region covers the org's region (the scope guard
//!   [`crate::auth::scope::admin_region`], asked by the handler).
//! - Managing an org (join code and QR, members, approvals, leaders): an
//!   `org_admin` of that very org, or an admin whose region covers the org's region.
//! - Reading public org data (list, detail without join code, leaders): any logged-in user.
//! - A membership: its member may end it; the org's managers may decide or end it.
//!
//! Whoever may not manage an org learns nothing about its private records: 404.
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::AuthUser;
use crate::auth::scope::{RoleName, admin_covers_region, admin_region_ids, holds, path_within};
use crate::entity::{orgs, regions};
use crate::error::{AppError, AppResult};

/// Whether the caller manages the org (its org_admin, or a covering region admin).
pub async fn can_manage(
    db: &DatabaseConnection,
    me: &AuthUser,
    org: &orgs::Model,
) -> AppResult<bool> {
    Ok(holds(&me.roles, RoleName::OrgAdmin, org.id)
        || admin_covers_region(db, &me.roles, org.region_id).await?)
}

/// Same as [`can_manage`] for many orgs at once, given their regions' paths.
pub fn manages_with_path(me: &AuthUser, org_id: i64, region_path: Option<&str>) -> bool {
    holds(&me.roles, RoleName::OrgAdmin, org_id)
        || region_path.is_some_and(|p| path_within(p, admin_region_ids(&me.roles)))
}

/// A live (not dissolved) org, or 404.
pub async fn live_org<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<orgs::Model> {
    orgs::Entity::find_by_id(id)
        .filter(orgs::Column::DissolvedAt.is_null())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A live org the caller manages; anything else is 404.
pub async fn managed_org(
    db: &DatabaseConnection,
    me: &AuthUser,
    id: i64,
) -> AppResult<orgs::Model> {
    let org = live_org(db, id).await?;
    if can_manage(db, me, &org).await? {
        Ok(org)
    } else {
        Err(AppError::NotFound)
    }
}

/// Paths of regions by id, for checking many orgs at once.
pub async fn region_paths(
    db: &DatabaseConnection,
    region_ids: Vec<i64>,
) -> AppResult<std::collections::HashMap<i64, String>> {
    Ok(regions::Entity::find()
        .filter(regions::Column::Id.is_in(region_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.path))
        .collect())
}
