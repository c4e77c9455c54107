//! Who may see and work a case — the one place these rules live.
//!
//! - A case is visible to its applicant and to the `org_admin`s of its org.
//!   Nobody else sees it, region admins included (they get counts only): 404.
//! - An officer who applied to their own org is the applicant of that case and
//!   cannot decide it.
//! - The applicant may only withdraw (before the case is accepted) and write messages.
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::auth::AuthUser;
use crate::auth::scope::{RoleName, holds};
use crate::entity::cases;
use crate::error::{AppError, AppResult};

/// The caller's standing on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The person who asked for help.
    Applicant,
    /// An `org_admin` of the case's org.
    Officer,
}

/// Whether the caller works the cases of this org.
pub fn is_case_officer(me: &AuthUser, org_id: i64) -> bool {
    holds(&me.roles, RoleName::OrgAdmin, org_id)
}

/// The caller's standing on this case, if any.
pub fn viewer_of(me: &AuthUser, case: &cases::Model) -> Option<Viewer> {
    if case.applicant_id == me.id() {
        Some(Viewer::Applicant)
    } else if is_case_officer(me, case.org_id) {
        Some(Viewer::Officer)
    } else {
        None
    }
}

/// Loads a case the caller may see, with their standing; anything else is 404.
pub async fn case_for<C: ConnectionTrait>(
    db: &C,
    me: &AuthUser,
    id: i64,
) -> AppResult<(cases::Model, Viewer)> {
    let case = cases::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let viewer = viewer_of(me, &case).ok_or(AppError::NotFound)?;
    Ok((case, viewer))
}

/// Loads a case the caller works as an officer; the applicant and everybody else get 404
/// (the applicant learns nothing new: they already know the case exists, but may not act).
pub async fn officer_case<C: ConnectionTrait>(
    db: &C,
    me: &AuthUser,
    id: i64,
) -> AppResult<cases::Model> {
    match case_for(db, me, id).await? {
        (case, Viewer::Officer) => Ok(case),
        (_, Viewer::Applicant) => Err(AppError::Forbidden(
            "forbidden",
            "只有该组织的管理员可以办理这个求助",
        )),
    }
}
