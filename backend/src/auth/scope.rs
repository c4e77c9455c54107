//! Roles, scopes and the one scope guard: an admin of a region covers its whole
//! subtree. [`admin_region`] reads the region once and decides; every capability
//! asks it (or [`covers`] on a region it already holds) instead of checking by hand.
use sea_orm::{ConnectionTrait, EntityTrait};
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

/// Ids of the records the user holds `role` on (the scopes of those grants).
pub fn scoped_ids(grants: &[roles::Model], role: RoleName) -> impl Iterator<Item = i64> + '_ {
    grants
        .iter()
        .filter(move |g| g.role == role.as_str())
        .filter_map(|g| Scope::parse(&g.scope))
        .filter(move |s| s.kind == role.scope_kind())
        .map(|s| s.id)
}

/// Whether the user holds `role` on the record `id` (`org_admin` of org 7, …).
pub fn holds(grants: &[roles::Model], role: RoleName, id: i64) -> bool {
    scoped_ids(grants, role).any(|held| held == id)
}

/// Region ids the user administers (scopes of their `admin` roles).
pub fn admin_region_ids(grants: &[roles::Model]) -> impl Iterator<Item = i64> + '_ {
    scoped_ids(grants, RoleName::Admin)
}

/// Whether the user is a region admin anywhere.
pub fn is_admin(grants: &[roles::Model]) -> bool {
    admin_region_ids(grants).next().is_some()
}

/// Whether a region with this materialised path lies in the subtree of any of the regions.
pub fn path_within(path: &str, mut region_ids: impl Iterator<Item = i64>) -> bool {
    region_ids.any(|id| path.contains(&format!("/{id}/")))
}

/// Whether the user's admin roles cover this region (it or an ancestor): the one
/// decision, on a region already read.
pub fn covers(grants: &[roles::Model], region: &regions::Model) -> bool {
    path_within(&region.path, admin_region_ids(grants))
}

/// The region a scope belongs to, for deciding which admins cover it.
/// Party organizations arrive with a later capability.
pub async fn scope_region<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
) -> AppResult<Option<regions::Model>> {
    let region_id = match scope.kind {
        "region" => scope.id,
        "org" => match orgs::Entity::find_by_id(scope.id).one(db).await? {
            Some(org) => org.region_id,
            None => return Ok(None),
        },
        "centre" => match centres::Entity::find_by_id(scope.id).one(db).await? {
            Some(centre) => centre.region_id,
            None => return Ok(None),
        },
        _ => return Err(AppError::rule("invalid_scope", "暂不支持该范围")),
    };
    Ok(regions::Entity::find_by_id(region_id).one(db).await?)
}

/// How [`admin_region`] answers a caller it refuses.
pub struct Refusal {
    /// When the region does not exist.
    pub missing: AppError,
    /// When the caller's admin roles do not cover it.
    pub refused: AppError,
    /// Whether someone who is no admin anywhere gets `refused` before the region
    /// is read (so that they learn nothing about which regions exist).
    pub outsiders_first: bool,
}

impl Refusal {
    /// 404 both ways: the region's records are private to its admins.
    pub fn hidden() -> Refusal {
        Refusal {
            missing: AppError::NotFound,
            refused: AppError::NotFound,
            outsiders_first: false,
        }
    }
}

/// The one region-admin guard: reads the region once, then decides whether the
/// caller's admin roles cover it (the region itself or an ancestor).
pub async fn admin_region<C: ConnectionTrait>(
    db: &C,
    grants: &[roles::Model],
    region_id: i64,
    refusal: Refusal,
) -> AppResult<regions::Model> {
    if refusal.outsiders_first && !is_admin(grants) {
        return Err(refusal.refused);
    }
    let region = regions::Entity::find_by_id(region_id)
        .one(db)
        .await?
        .ok_or(refusal.missing)?;
    if covers(grants, &region) {
        Ok(region)
    } else {
        Err(refusal.refused)
    }
}

/// Whether the user's admin roles cover the region, as a yes or no (a missing
/// region is covered by nobody). Non-admins are answered without a read.
pub async fn admin_covers_region<C: ConnectionTrait>(
    db: &C,
    grants: &[roles::Model],
    region_id: i64,
) -> AppResult<bool> {
    if !is_admin(grants) {
        return Ok(false);
    }
    match admin_region(db, grants, region_id, Refusal::hidden()).await {
        Ok(_) => Ok(true),
        Err(AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
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
