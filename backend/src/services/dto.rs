//! Request and response types of the service catalogue.
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::clock::rfc3339;
use crate::entity::services;
use crate::error::{AppError, AppResult};

/// What a service can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// 法律援助.
    LegalAid,
    /// 心理疏导.
    Counseling,
    /// 创业就业.
    Employment,
    /// 婚恋交友.
    Matchmaking,
    /// 困难帮扶.
    Hardship,
    /// 维权.
    Rights,
}

impl ServiceKind {
    /// Every kind, in API spelling.
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::LegalAid,
        ServiceKind::Counseling,
        ServiceKind::Employment,
        ServiceKind::Matchmaking,
        ServiceKind::Hardship,
        ServiceKind::Rights,
    ];

    /// Parses the API spelling (422 `invalid_kind`).
    pub fn parse(raw: &str) -> AppResult<ServiceKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| {
                AppError::rule(
                    "invalid_kind",
                    "kind 只能是 legal_aid、counseling、employment、matchmaking、hardship、rights",
                )
            })
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::LegalAid => "legal_aid",
            ServiceKind::Counseling => "counseling",
            ServiceKind::Employment => "employment",
            ServiceKind::Matchmaking => "matchmaking",
            ServiceKind::Hardship => "hardship",
            ServiceKind::Rights => "rights",
        }
    }

    /// Whether asking for it means handing over sensitive personal information
    /// (PIPL art. 28–29: separate consent needed).
    pub fn needs_consent(self) -> bool {
        matches!(self, ServiceKind::Hardship | ServiceKind::Counseling)
    }
}

/// Distinguishes a field that is absent (`None`) from one sent as null (`Some(None)`).
fn double<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Checks a title (1–100 characters, 422 `invalid_title`).
pub fn parse_title(raw: &str) -> AppResult<String> {
    crate::orgs::dto::clean_text(raw, 100, "invalid_title", "标题应为1到100个字")
}

/// Checks a description: blank means none; at most 2000 characters (422 `invalid_description`).
pub fn parse_description(raw: Option<&str>) -> AppResult<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => {
            if t.chars().count() > 2000
                || t.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                return Err(AppError::rule(
                    "invalid_description",
                    "简介不能超过2000个字",
                ));
            }
            Ok(Some(t.to_owned()))
        }
    }
}

/// `POST /services`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateService {
    /// The org that offers it; the caller must manage it.
    pub org_id: i64,
    /// legal_aid, counseling, employment, matchmaking, hardship or rights.
    #[schema(example = "hardship")]
    pub kind: String,
    /// 1–100 characters.
    #[schema(example = "困难职工帮扶")]
    pub title: String,
    /// At most 2000 characters.
    pub description: Option<String>,
    /// Only active members of the org may apply (default false).
    pub members_only: Option<bool>,
}

/// `PATCH /services/{id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchService {
    /// 1–100 characters.
    pub title: Option<String>,
    /// At most 2000 characters; null or blank clears it.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Only active members may apply.
    pub members_only: Option<bool>,
    /// Inactive services take no new cases.
    pub active: Option<bool>,
}

/// `GET /services` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// Services of this org.
    pub org_id: Option<i64>,
    /// Services of this kind.
    pub kind: Option<String>,
    /// Only services of orgs where the caller is an active member.
    pub mine: Option<bool>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// From `next_cursor`.
    pub cursor: Option<String>,
}

/// A service as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Service {
    /// Id.
    pub id: i64,
    /// Offering org.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// legal_aid, counseling, employment, matchmaking, hardship or rights.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Only active members may apply.
    pub members_only: bool,
    /// Takes new cases.
    pub active: bool,
    /// Whether the caller may apply now.
    pub can_apply: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl Service {
    /// Builds the view; `member` says whether the caller is an active member of the org.
    pub fn new(s: services::Model, org_name: String, member: bool) -> Service {
        Service {
            can_apply: s.active && (!s.members_only || member),
            id: s.id,
            org_id: s.org_id,
            org_name,
            kind: s.kind,
            title: s.title,
            description: s.description,
            members_only: s.members_only,
            active: s.active,
            created_at: rfc3339(s.created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_ones_are_refused() {
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(k.as_str()).expect("kind"), k);
        }
        assert!(ServiceKind::parse("Hardship").is_err());
        assert!(ServiceKind::parse("").is_err());
        assert!(ServiceKind::Hardship.needs_consent());
        assert!(ServiceKind::Counseling.needs_consent());
        assert!(!ServiceKind::LegalAid.needs_consent());
    }

    #[test]
    fn descriptions_are_checked() {
        assert_eq!(parse_description(Some("  ")).expect("blank"), None);
        assert!(parse_description(Some(&"字".repeat(2001))).is_err());
        assert!(parse_description(Some("a\u{0}b")).is_err());
        assert_eq!(
            parse_description(Some("第一行\n第二行")).expect("ok"),
            Some("第一行\n第二行".into())
        );
    }
}
