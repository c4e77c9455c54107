//! Request and response types of the units register.
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::entity::units;
use crate::error::RowError;

/// A unit of the register (非公企业或社会组织).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    /// Id.
    pub id: i64,
    /// Registered name.
    pub name: String,
    /// Unified social credit code (18 characters).
    #[schema(example = "91340100MA2N000010")]
    pub uscc: String,
    /// enterprise, social_org, association or platform.
    pub kind: String,
    /// The region it is registered in.
    pub region_id: i64,
    /// Number of employees.
    pub employee_count: i32,
    /// Above the statistical size threshold (规模以上).
    pub above_scale: bool,
    /// Has its own party organization.
    pub has_party_org: bool,
    /// Industry, free text.
    pub industry: Option<String>,
}

impl From<units::Model> for Unit {
    fn from(m: units::Model) -> Self {
        Unit {
            id: m.id,
            name: m.name,
            uscc: m.uscc,
            kind: m.kind,
            region_id: m.region_id,
            employee_count: m.employee_count,
            above_scale: m.above_scale,
            has_party_org: m.has_party_org,
            industry: m.industry,
        }
    }
}

/// `POST /units`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUnit {
    /// 1–200 characters.
    pub name: String,
    /// Valid GB 32100 code, unique.
    pub uscc: String,
    /// enterprise, social_org, association or platform.
    pub kind: String,
    /// An existing region the caller administers.
    pub region_id: i64,
    /// 0 to 1,000,000.
    pub employee_count: i64,
    /// Above the statistical size threshold.
    pub above_scale: bool,
    /// Has its own party organization.
    pub has_party_org: bool,
    /// Up to 100 characters.
    pub industry: Option<String>,
}

/// `PATCH /units/{id}`: only the fields given change; `"industry": null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PatchUnit {
    /// 1–200 characters.
    pub name: Option<String>,
    /// Valid GB 32100 code, unique.
    pub uscc: Option<String>,
    /// enterprise, social_org, association or platform.
    pub kind: Option<String>,
    /// Moves the unit; the caller must administer the new region too.
    pub region_id: Option<i64>,
    /// 0 to 1,000,000.
    pub employee_count: Option<i64>,
    /// Above the statistical size threshold.
    pub above_scale: Option<bool>,
    /// Has its own party organization.
    pub has_party_org: Option<bool>,
    /// Up to 100 characters; null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
}

/// Tells a field given as `null` (Some(None)) from one left out (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Query of `GET /units`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Required: units in this region's whole subtree.
    pub region_id: Option<i64>,
    /// enterprise, social_org, association or platform.
    pub kind: Option<String>,
    /// Part of the name, or the start of the USCC.
    pub q: Option<String>,
    /// Page size (default 20, max 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// What a worker sees of a unit when choosing a workplace (public registration facts).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnitBrief {
    /// Id.
    pub id: i64,
    /// Registered name.
    pub name: String,
    /// enterprise, social_org, association or platform.
    pub kind: String,
    /// The region it is registered in.
    pub region_id: i64,
}

/// Query of `GET /units/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// Part of the name, at least 2 characters.
    pub q: String,
    /// Page size (default 20, max 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Query of `POST /units/import`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Required: every row's region must lie in this region's subtree.
    pub region_id: Option<i64>,
}

/// The multipart form of `POST /units/import`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// CSV (UTF-8, BOM optional) or XLSX, at most 10 MiB; the first row is the header.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// Result of a successful import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Imported {
    /// Units stored.
    pub imported: usize,
}

/// The 422 body of a rejected import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportErrorBody {
    /// The error, with the bad rows.
    pub error: ImportErrorDetail,
}

/// What a refused import answers with 422 (documentation only): `import_invalid`
/// with the bad rows, or `invalid_region` (the `region_id` names no region) without.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ImportRefusal {
    /// `import_invalid`: the file was read and these rows are wrong.
    Rows(ImportErrorBody),
    /// `invalid_region`: the file was not read.
    Region(crate::error::ErrorBody),
}

/// `import_invalid` with its rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportErrorDetail {
    /// `import_invalid`.
    pub code: String,
    /// Human text (zh-CN).
    pub message: String,
    /// Each problem: row (header is row 1), column key, reason.
    pub rows: Vec<RowError>,
}
