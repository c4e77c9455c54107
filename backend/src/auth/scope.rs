//! Roles, scopes and the one scope check: an admin of a region covers its whole subtree.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::{centres, orgs, regions, roles};
use crate::error::{AppError, AppResult};

/// The four roles of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Organization-department staff of a region.
    Admin,
    /// Officer of one mass organization.
    OrgAdmin,
    /// Keeper of one party-mass centre.
    CentreAdmin,
    /// A party organization receiving recommendations.
    PartyAdmin,
}

impl RoleName {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<RoleName> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Admin => "admin",
            RoleName::OrgAdmin => "org_admin",
            RoleName::CentreAdmin => "centre_admin",
            RoleName::PartyAdmin => "party_admin",
        }
    }

    /// The one kind of scope this role is granted on.
    pub fn scope_kind(self) -> &'static str {
        match self {
            RoleName::Admin => "region",
            RoleName::OrgAdmin => "org",
            RoleName::CentreAdmin => "centre",
            RoleName::PartyAdmin => "party_org",
        }
    }
}

/// `region:<id>`, `org:<id>`, `centre:<id>` or `party_org:<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// region, org, centre or party_org.
    pub kind: &'static str,
    /// Id of the scoped record.
    pub id: i64,
}

impl Scope {
    /// Parses `kind:id`.
    pub fn parse(s: &str) -> Option<Scope> {
        let (kind, digits) = s.split_once(':')?;
        let kind = ["region", "org", "centre", "party_org"]
            .into_iter()
            .find(|k| *k == kind)?;
        let id: i64 = digits.parse().ok()?;
        // Canonical digits only: no sign, no leading zero, no spaces.
        (id > 0 && id.to_string() == digits).then_some(Scope { kind, id })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// A role as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Role {
    /// admin, org_admin, centre_admin or party_admin.
    #[schema(example = "admin")]
    pub role: String,
    /// `region:<id>`, `org:<id>`, `centre:<id>` or `party_org:<id>`.
    #[schema(example = "region:1")]
    pub scope: String,
}

impl From<&roles::Model> for Role {
    fn from(m: &roles::Model) -> Self {
        Role {
            role: m.role.clone(),
            scope: m.scope.clone(),
        }
    }
}

/// Region ids the user administers (scopes of their `admin` roles).
pub fn admin_region_ids(grants: &[roles::Model]) -> impl Iterator<Item = i64> + '_ {
    grants
        .iter()
        .filter(|g| g.role == RoleName::Admin.as_str())
        .filter_map(|g| Scope::parse(&g.scope))
        .filter(|s| s.kind == "region")
        .map(|s| s.id)
}

/// Whether a region with this materialised path lies in the subtree of any of the regions.
pub fn path_within(path: &str, mut region_ids: impl Iterator<Item = i64>) -> bool {
    region_ids.any(|id| path.contains(&format!("/{id}/")))
}

/// The region a scope belongs to, for deciding which admins cover it.
/// Party organizations arrive with a later capability.
pub async fn scope_region(
    db: &DatabaseConnection,
    scope: Scope,
) -> AppResult<Option<regions::Model>> {
    match scope.kind {
        "region" => Ok(regions::Entity::find_by_id(scope.id).one(db).await?),
        "org" => match orgs::Entity::find_by_id(scope.id).one(db).await? {
            Some(org) => Ok(regions::Entity::find_by_id(org.region_id).one(db).await?),
            None => Ok(None),
        },
        "centre" => match centres::Entity::find_by_id(scope.id).one(db).await? {
            Some(centre) => Ok(regions::Entity::find_by_id(centre.region_id)
                .one(db)
                .await?),
            None => Ok(None),
        },
        _ => Err(AppError::rule("invalid_scope", "暂不支持该范围")),
    }
}

/// Whether the user's admin roles cover the region (the region itself or an ancestor).
pub async fn admin_covers_region(
    db: &DatabaseConnection,
    grants: &[roles::Model],
    region_id: i64,
) -> AppResult<bool> {
    if admin_region_ids(grants).next().is_none() {
        return Ok(false);
    }
    let Some(region) = regions::Entity::find()
        .filter(regions::Column::Id.eq(region_id))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    Ok(path_within(&region.path, admin_region_ids(grants)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(
            Scope::parse("region:12"),
            Some(Scope {
                kind: "region",
                id: 12
            })
        );
        assert_eq!(
            Scope::parse("party_org:3").map(|s| s.kind),
            Some("party_org")
        );
        for bad in [
            "region:",
            "region:0",
            "region:-1",
            "region:012",
            "city:1",
            "region:1x",
            "region: 1",
            "",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn subtree_is_a_path_prefix() {
        assert!(path_within("/1/5/40/", [5].into_iter()));
        assert!(!path_within("/1/5/40/", [4].into_iter()));
        assert!(!path_within("/1/50/", [5].into_iter()));
    }
}
