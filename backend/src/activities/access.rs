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
use crate::auth::scope::{RoleName, admin_covers_region, holds};
use crate::entity::{activities, centres, orgs};
use crate::error::{AppError, AppResult};
use crate::memberships::access::is_active_member;
use crate::orgs::access::can_manage;

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
    Ok(centre.is_some_and(|c| holds(&me.roles, RoleName::CentreAdmin, c.id)))
}

/// Whether the caller manages the activity: managers of its org, the keeper of
/// its centre, or an admin covering the centre's region.
pub async fn activity_managers_can(
    db: &DatabaseConnection,
    me: &AuthUser,
    activity: &activities::Model,
) -> AppResult<bool> {
    if holds(&me.roles, RoleName::OrgAdmin, activity.org_id) {
        return Ok(true);
    }
    if let Some(centre_id) = activity.centre_id
        && holds(&me.roles, RoleName::CentreAdmin, centre_id)
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

/// How [`managed_activity`] answers a caller who may see the activity but not manage it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Onlookers {
    /// 403: changing or cancelling an activity one can see is plainly not allowed.
    Forbidden,
    /// 404: check-in credentials and refused attempts are the managers' own; a member
    /// who asks for them learns nothing, not even that there is something to refuse.
    NotFound,
}

/// The activity if the caller manages it (the one rule: [`activity_managers_can`]);
/// a caller who may only see it gets what `onlookers` says, anyone else 404.
pub async fn managed_activity(
    db: &DatabaseConnection,
    me: &AuthUser,
    id: i64,
    onlookers: Onlookers,
) -> AppResult<activities::Model> {
    let a = activities::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if activity_managers_can(db, me, &a).await? {
        return Ok(a);
    }
    if onlookers == Onlookers::Forbidden && can_view(db, me, &a).await? {
        Err(AppError::Forbidden(
            "forbidden",
            "只有组织或活动中心的管理员可以管理活动",
        ))
    } else {
        Err(AppError::NotFound)
    }
}
