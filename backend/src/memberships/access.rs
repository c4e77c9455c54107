//! Who may do what with a membership: its member may end it; the org's managers
//! (see [`crate::orgs::access::can_manage`]) may decide or end it; anyone else gets 404.
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::AuthUser;
use crate::entity::{memberships, orgs};
use crate::error::{AppError, AppResult};
use crate::orgs::access::{can_manage, live_org};

/// What the caller may do to a membership.
pub enum MembershipAccess {
    /// It is the caller's own.
    Member,
    /// The caller manages its org.
    Manager,
}

/// Loads a membership of a live org with the caller's standing; 404 when the
/// caller is neither its member nor a manager of its org. A manager's own
/// membership counts as their own (they leave it rather than remove themselves).
pub async fn membership_for(
    db: &DatabaseConnection,
    me: &AuthUser,
    id: i64,
) -> AppResult<(memberships::Model, orgs::Model, MembershipAccess)> {
    let m = memberships::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = live_org(db, m.org_id).await?;
    if m.user_id == me.id() {
        return Ok((m, org, MembershipAccess::Member));
    }
    if can_manage(db, me, &org).await? {
        return Ok((m, org, MembershipAccess::Manager));
    }
    Err(AppError::NotFound)
}

/// Whether the person is an active member of the org.
pub async fn is_active_member<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    org_id: i64,
) -> AppResult<bool> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .filter(memberships::Column::Status.eq("active"))
        .one(db)
        .await?
        .is_some())
}
