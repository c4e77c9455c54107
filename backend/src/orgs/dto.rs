//! Request and response types of the organization routes, and the parsed
//! kinds (`OrgType`, `OrgForm`, `JoinPolicy`) handlers receive already valid.
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// union, league or women.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgType {
    /// Trade union (工会).
    Union,
    /// Communist Youth League (共青团).
    League,
    /// Women's organization (妇联/妇女组织).
    Women,
}

impl OrgType {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<OrgType> {
        match s {
            "union" => Some(OrgType::Union),
            "league" => Some(OrgType::League),
            "women" => Some(OrgType::Women),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::Union => "union",
            OrgType::League => "league",
            OrgType::Women => "women",
        }
    }
}

/// single, joint, regional, industry or online.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgForm {
    /// One unit (单独建立).
    Single,
    /// Several small units together (联合).
    Joint,
    /// One org for a park, building or market (区域化).
    Regional,
    /// Built on an industry association (依托行业协会).
    Industry,
    /// For platform workers, joined and run online (网上群团组织).
    Online,
}

impl OrgForm {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<OrgForm> {
        match s {
            "single" => Some(OrgForm::Single),
            "joint" => Some(OrgForm::Joint),
            "regional" => Some(OrgForm::Regional),
            "industry" => Some(OrgForm::Industry),
            "online" => Some(OrgForm::Online),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgForm::Single => "single",
            OrgForm::Joint => "joint",
            OrgForm::Regional => "regional",
            OrgForm::Industry => "industry",
            OrgForm::Online => "online",
        }
    }
}

/// open (members are active at once) or approval (an officer decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinPolicy {
    /// Joining makes an active member.
    Open,
    /// Joining makes a pending request.
    Approval,
}

impl JoinPolicy {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<JoinPolicy> {
        match s {
            "open" => Some(JoinPolicy::Open),
            "approval" => Some(JoinPolicy::Approval),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JoinPolicy::Open => "open",
            JoinPolicy::Approval => "approval",
        }
    }
}

pub use crate::text::clean_text;

/// `POST /orgs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    /// Name, 1–100 characters.
    #[schema(example = "合肥智联电子科技有限公司工会")]
    pub name: String,
    /// union, league or women.
    #[serde(rename = "type")]
    #[schema(example = "union")]
    pub org_type: String,
    /// single, joint, regional, industry or online.
    #[schema(example = "single")]
    pub form: String,
    /// The region the org belongs to; the caller must administer it.
    pub region_id: i64,
    /// The units it covers, all inside the region's subtree.
    pub unit_ids: Vec<i64>,
    /// open or approval (default approval).
    #[schema(example = "approval")]
    pub join_policy: Option<String>,
}

/// A mass organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Org {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// union, league or women.
    #[serde(rename = "type")]
    pub org_type: String,
    /// single, joint, regional, industry or online.
    pub form: String,
    /// The region it belongs to.
    pub region_id: i64,
    /// The units it covers.
    pub unit_ids: Vec<i64>,
    /// Shown only to admins of the org; null for everyone else (the poster is the way in).
    pub join_code: Option<String>,
    /// open or approval.
    pub join_policy: String,
}

/// Filter of `GET /orgs`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OrgQuery {
    /// Orgs of this region's whole subtree.
    pub region_id: Option<i64>,
    /// Orgs that list this unit.
    pub unit_id: Option<i64>,
    /// union, league or women.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub org_type: Option<String>,
    /// Part of the name (1–50 characters).
    pub q: Option<String>,
    /// Page size (default 20, max 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// What a join poster page shows (public).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgPoster {
    /// Id (to join with).
    pub id: i64,
    /// Name.
    pub name: String,
    /// union, league or women.
    #[serde(rename = "type")]
    pub org_type: String,
    /// single, joint, regional, industry or online.
    pub form: String,
    /// open or approval.
    pub join_policy: String,
    /// The region's name.
    pub region_name: String,
    /// Names of the units it covers.
    pub unit_names: Vec<String>,
}

/// An org suggested to a worker, with where they stand.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestedOrg {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// union, league or women.
    #[serde(rename = "type")]
    pub org_type: String,
    /// single, joint, regional, industry or online.
    pub form: String,
    /// The region it belongs to.
    pub region_id: i64,
    /// The units it covers.
    pub unit_ids: Vec<i64>,
    /// open or approval.
    pub join_policy: String,
    /// The caller's live membership: null, pending or active.
    pub member_status: Option<String>,
}

/// `POST /orgs/{id}/leaders`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeader {
    /// An active member of the org.
    pub user_id: i64,
    /// Position, 1–50 characters (主席, 副主席, 委员…).
    #[schema(example = "主席")]
    pub position: String,
}

/// A leader (班子成员): public names and positions, no phones.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Leader {
    /// Leader id (for `DELETE`).
    pub id: i64,
    /// The org.
    pub org_id: i64,
    /// The person.
    pub user_id: i64,
    /// Name.
    pub name: Option<String>,
    /// Position.
    pub position: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_only_their_api_spelling() {
        for t in ["union", "league", "women"] {
            assert_eq!(OrgType::parse(t).map(OrgType::as_str), Some(t));
        }
        for f in ["single", "joint", "regional", "industry", "online"] {
            assert_eq!(OrgForm::parse(f).map(OrgForm::as_str), Some(f));
        }
        for p in ["open", "approval"] {
            assert_eq!(JoinPolicy::parse(p).map(JoinPolicy::as_str), Some(p));
        }
        assert_eq!(OrgType::parse("Union"), None);
        assert_eq!(OrgForm::parse(""), None);
        assert_eq!(JoinPolicy::parse("closed"), None);
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            clean_text("  主席 ", 50, "x", "m").ok().as_deref(),
            Some("主席")
        );
        assert!(clean_text("   ", 50, "x", "m").is_err());
        assert!(clean_text(&"字".repeat(51), 50, "x", "m").is_err());
        assert!(clean_text("a\u{0}b", 50, "x", "m").is_err());
    }
}
