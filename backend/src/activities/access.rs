//! Who may do what with centres and activities — the one place these rules live.
//!
//! - Creating a centre: an admin whose region covers the centre's region.
//! - Managing an activity (change, cancel, attendance, check-in QR): managers of
//!   its org (see [`crate::orgs::access::can_manage`]), a `centre_admin` of its
//!   centre, or an admin whose region covers the centre.
//! - Creating an activity: managers of the org, or a `centre_admin` of the centre
//!   named in it (centres are shared: a keeper may host any org's activity).
//! - Seeing an activity: its managers, active members of its org, and anyone
//!   logged in when the audience is `public`; everyone else gets 404.
//! - Taking part (sign-up, check-in): `public` — anyone logged in; `members` —
//!   active members of the org, else 403 `members_only`.
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::auth::AuthUser;
use crate::auth::scope::{RoleName, Scope, admin_covers_region};
use crate::entity::{activities, centres, orgs, roles};
use crate::error::{AppError, AppResult};
use crate::memberships::access::is_active_member;
use crate::orgs::access::{can_manage, is_org_admin};

/// Whether the grants include `centre_admin` of this centre.
pub fn is_centre_admin(grants: &[roles::Model], centre_id: i64) -> bool {
    grants.iter().any(|g| {
        g.role == RoleName::CentreAdmin.as_str()
            && Scope::parse(&g.scope)
                == Some(Scope {
                    kind: "centre",
                    id: centre_id,
                })
    })
}

/// Centre ids the user keeps.
pub fn centre_ids(grants: &[roles::Model]) -> Vec<i64> {
    grants
        .iter()
        .filter(|g| g.role == RoleName::CentreAdmin.as_str())
        .filter_map(|g| Scope::parse(&g.scope))
        .filter(|s| s.kind == "centre")
        .map(|s| s.id)
        .collect()
}

/// Org ids the user is `org_admin` of.
pub fn org_admin_ids(grants: &[roles::Model]) -> Vec<i64> {
    grants
        .iter()
        .filter(|g| g.role == RoleName::OrgAdmin.as_str())
        .filter_map(|g| Scope::parse(&g.scope))
        .filter(|s| s.kind == "org")
        .map(|s| s.id)
        .collect()
}

/// Whether the caller may create a centre in this region.
pub async fn can_create_centre(
    db: &DatabaseConnection,
    me: &AuthUser,
    region_id: i64,
) -> AppResult<bool> {
    admin_covers_region(db, &me.roles, region_id).await
}

/// Whether the caller may hold an activity of `org` (in `centre`, when given).
pub async fn can_create_activity(
    db: &DatabaseConnection,
    me: &AuthUser,
    org: &orgs::Model,
    centre: Option<&centres::Model>,
) -> AppResult<bool> {
    if can_manage(db, me, org).await? {
        return Ok(true);
    }
    Ok(centre.is_some_and(|c| is_centre_admin(&me.roles, c.id)))
}

/// Whether the caller manages the activity: managers of its org, the keeper of
/// its centre, or an admin covering the centre's region.
pub async fn activity_managers_can(
    db: &DatabaseConnection,
    me: &AuthUser,
    activity: &activities::Model,
) -> AppResult<bool> {
    if is_org_admin(&me.roles, activity.org_id) {
        return Ok(true);
    }
    if let Some(centre_id) = activity.centre_id
        && is_centre_admin(&me.roles, centre_id)
    {
        return Ok(true);
    }
    if let Some(org) = orgs::Entity::find_by_id(activity.org_id).one(db).await?
        && can_manage(db, me, &org).await?
    {
        return Ok(true);
    }
    if let Some(centre_id) = activity.centre_id
        && let Some(centre) = centres::Entity::find_by_id(centre_id).one(db).await?
    {
        return admin_covers_region(db, &me.roles, centre.region_id).await;
    }
    Ok(false)
}

/// Whether this person may take part (sign up, check in): 403 `members_only` if not.
pub async fn may_attend_user<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    activity: &activities::Model,
) -> AppResult<()> {
    if activity.audience == "public" || is_active_member(db, user_id, activity.org_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "members_only",
            "该活动仅限本组织会员参加",
        ))
    }
}

/// Whether the caller may take part (sign up, check in): 403 `members_only` if not.
pub async fn may_attend<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    activity: &activities::Model,
) -> AppResult<()> {
    may_attend_user(db, user.id(), activity).await
}

/// Whether the caller may see the activity at all.
pub async fn can_view(
    db: &DatabaseConnection,
    me: &AuthUser,
    activity: &activities::Model,
) -> AppResult<bool> {
    Ok(activity.audience == "public"
        || is_active_member(db, me.id(), activity.org_id).await?
        || activity_managers_can(db, me, activity).await?)
}

/// The activity if the caller may see it, else 404.
pub async fn visible_activity(
    db: &DatabaseConnection,
    me: &AuthUser,
    id: i64,
) -> AppResult<activities::Model> {
    let a = activities::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if can_view(db, me, &a).await? {
        Ok(a)
    } else {
        Err(AppError::NotFound)
    }
}

/// The activity if the caller manages it; 403 when they may only see it, 404 otherwise.
pub async fn managed_activity(
    db: &DatabaseConnection,
    me: &AuthUser,
    id: i64,
) -> AppResult<activities::Model> {
    let a = activities::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if activity_managers_can(db, me, &a).await? {
        return Ok(a);
    }
    if can_view(db, me, &a).await? {
        Err(AppError::Forbidden(
            "forbidden",
            "只有组织或活动中心的管理员可以管理活动",
        ))
    } else {
        Err(AppError::NotFound)
    }
}
