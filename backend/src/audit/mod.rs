//! The append-only audit log: every admin write and every read of another
//! person's private data. Nothing in the API updates or deletes an entry, and
//! the database refuses to (triggers of migration 8). Region admins read it
//! through `GET /audit` and `GET /audit.csv` ([`routes`]).
pub mod dto;
pub mod routes;
pub mod service;

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::clock::now_ms;
use crate::entity::{activities, audit_log, orgs};
use crate::error::AppResult;

/// One entry to append.
pub struct Entry<'a> {
    /// Who acted (None for the CLI).
    pub actor: Option<i64>,
    /// What they did, e.g. `role.grant`.
    pub action: &'a str,
    /// What it was done to, e.g. `user:5`.
    pub target: String,
    /// The region the target belongs to, for region-scoped reading.
    pub region_id: Option<i64>,
    /// The client address.
    pub ip: Option<String>,
    /// Extra facts as JSON.
    pub detail: Option<serde_json::Value>,
}

/// Appends an entry (inside the caller's transaction when given one).
pub async fn record<C: ConnectionTrait>(db: &C, e: Entry<'_>) -> AppResult<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        actor_user_id: Set(e.actor),
        action: Set(e.action.to_owned()),
        target: Set(e.target),
        region_id: Set(e.region_id),
        ip: Set(e.ip),
        detail: Set(e.detail.map(|d| d.to_string())),
        at: Set(now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The region of an org, which is the region an entry about its records belongs to.
pub async fn org_region<C: ConnectionTrait>(db: &C, org_id: i64) -> AppResult<Option<i64>> {
    Ok(orgs::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .map(|o| o.region_id))
}

/// The region of an activity (its org's), which is the region an entry about it belongs to.
pub async fn activity_region<C: ConnectionTrait>(
    db: &C,
    activity_id: i64,
) -> AppResult<Option<i64>> {
    match activities::Entity::find_by_id(activity_id).one(db).await? {
        Some(a) => org_region(db, a.org_id).await,
        None => Ok(None),
    }
}

/// The client's address as the audit log keeps it.
pub fn client_ip_of(
    req: &actix_web::HttpRequest,
    state: &crate::state::AppState,
) -> Option<String> {
    crate::auth::client_ip::client_ip(req, &state.settings.trusted_proxies).map(|i| i.to_string())
}
