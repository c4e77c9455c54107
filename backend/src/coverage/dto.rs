//! Request and response types of coverage, gaps and ledgers.
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?region_id=` of coverage and the ledgers.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RegionQuery {
    /// The region whose whole subtree is counted (an admin of it or of an ancestor).
    pub region_id: i64,
}

/// `?region_id=&limit=&cursor=` of the gaps list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GapsQuery {
    /// The region whose whole subtree is searched.
    pub region_id: i64,
    /// Page size (default 20, max 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Units covered per organization type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Covered {
    /// Units listed by a live trade union.
    pub union: i64,
    /// Units listed by a live youth league organization.
    pub league: i64,
    /// Units listed by a live women's organization.
    pub women: i64,
    /// Units listed by a live organization of at least one type (each unit once).
    pub any: i64,
}

/// The counts of one region's subtree.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CoverageCounts {
    /// The region.
    pub region_id: i64,
    /// Its name (extension).
    pub name: String,
    /// Units in the subtree.
    pub units: i64,
    /// Units required to have mass organizations (应建).
    pub required: i64,
    /// Units covered, per type and by any type.
    pub covered: Covered,
    /// Required units covered by at least one type.
    pub required_covered_any: i64,
    /// `required_covered_any / required`, between 0 and 1; 0 when nothing is required.
    pub rate: f64,
}

impl CoverageCounts {
    /// Adds another group's counts (the rate is recomputed by `finish`).
    pub fn add(&mut self, o: &CoverageCounts) {
        self.units += o.units;
        self.required += o.required;
        self.covered.union += o.covered.union;
        self.covered.league += o.covered.league;
        self.covered.women += o.covered.women;
        self.covered.any += o.covered.any;
        self.required_covered_any += o.required_covered_any;
    }

    /// Fills in `rate`: 0 when no unit is required, so that an empty region reads as 0 %, not NaN.
    pub fn finish(mut self) -> Self {
        self.rate = if self.required == 0 {
            0.0
        } else {
            self.required_covered_any as f64 / self.required as f64
        };
        self
    }
}

/// `GET /stats/coverage`: the subtree's counts, and each child region's (without their children).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Coverage {
    /// Counts of the whole subtree.
    #[serde(flatten)]
    pub total: CoverageCounts,
    /// One entry per child region, in id order, also those without units.
    pub children: Vec<CoverageCounts>,
}

/// A required unit without any live organization: the township's worklist.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Gap {
    /// The unit.
    pub unit_id: i64,
    /// Registered name.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
    /// enterprise, social_org, association or platform.
    pub kind: String,
    /// Staff count.
    pub employee_count: i32,
    /// The region it is registered in.
    pub region_id: i64,
    /// Names from the province down to the unit's region, joined with " / ".
    #[schema(example = "安徽省 / 合肥市 / 蜀山区 / 井岗镇")]
    pub region_path: String,
    /// Why the unit is required, one line per rule met (extension).
    pub reasons: Vec<String>,
    /// `reasons` joined with "、" (extension).
    #[schema(example = "规上企业")]
    pub reason: String,
}
