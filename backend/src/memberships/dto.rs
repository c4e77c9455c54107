//! Request and response types of the membership routes.
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Membership statuses; pending and active are "live".
pub const MEMBER_STATUSES: [&str; 5] = ["pending", "active", "rejected", "left", "removed"];

/// `POST /orgs/{id}/join`: an empty object.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {}

/// A membership.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    /// Id.
    pub id: i64,
    /// The org.
    pub org_id: i64,
    /// The person.
    pub user_id: i64,
    /// pending, active, rejected, left or removed.
    pub status: String,
}

/// `POST /memberships/{id}/reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, 1–500 characters (the applicant sees it).
    pub reason: String,
}

/// Optional body of `DELETE /memberships/{id}` when an officer removes someone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    /// Why, up to 500 characters.
    pub reason: Option<String>,
}

/// One of the caller's memberships.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyMembership {
    /// Membership id.
    pub id: i64,
    /// The org.
    pub org_id: i64,
    /// The caller.
    pub user_id: i64,
    /// pending, active, rejected, left or removed.
    pub status: String,
    /// The org's name.
    pub org_name: String,
    /// union, league or women.
    pub org_type: String,
    /// single, joint, regional, industry or online.
    pub org_form: String,
    /// When asked (RFC 3339).
    pub requested_at: String,
    /// When approved or rejected.
    pub decided_at: Option<String>,
    /// When it ended (left or removed).
    pub ended_at: Option<String>,
    /// Rejection or removal reason.
    pub reason: Option<String>,
}

/// A member as the org's officers see them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// Membership id.
    pub id: i64,
    /// The person.
    pub user_id: i64,
    /// Name.
    pub name: Option<String>,
    /// female, male or null.
    pub gender: Option<String>,
    /// In full: these officers cover the member (every read is audited).
    pub phone: Option<String>,
    /// pending, active, rejected, left or removed.
    pub status: String,
    /// When asked (RFC 3339).
    pub requested_at: String,
    /// When approved or rejected.
    pub decided_at: Option<String>,
    /// Rejection or removal reason.
    pub reason: Option<String>,
}

/// Filter of `GET /orgs/{id}/members`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MemberQuery {
    /// pending, active, rejected, left or removed.
    pub status: Option<String>,
    /// Page size (default 20, max 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}
