//! Coverage arithmetic in SQL, the same text on SQLite and PostgreSQL.
//!
//! The "required" rule (应建, API.md) is written once, as the SQL expression
//! `REQUIRED`; counts, gaps and ledgers all use it. Every request runs a fixed
//! number of statements whatever the size of the subtree: regions are a few
//! thousand rows and are filtered by their materialised path, units are joined to
//! them and aggregated (or read in keyset batches for the downloads).
use std::collections::HashMap;

use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QueryResult, Value,
};

use crate::coverage::dto::{Coverage, CoverageCounts, Covered, Gap};
use crate::db::{like_prefix, stmt};
use crate::entity::regions;
use crate::error::AppResult;

/// Rows per batch of the downloads: small enough to keep memory flat, large
/// enough that a province (200,000 units) is a hundred round trips.
pub const BATCH: i64 = 2_000;

/// The subtree of the asked region as `sub(id, path, in_park, child_id)`, walked
/// down `parent_id` once per statement (recursive CTEs are materialised on both
/// engines, so the per-region work is never repeated per unit).
/// `in_park` is 1 when the region is, or lies inside, a provincial or national park:
/// the asked region looks its ancestors up by path, every descendant inherits from
/// its parent. `child_id` is the asked region's child that the region lies under
/// (NULL for the asked region itself). Parameter: the asked region's id.
const SUBTREE: &str = "WITH RECURSIVE sub(id, path, in_park, child_id) AS (\
      SELECT r.id, r.path, \
        CASE WHEN EXISTS (SELECT 1 FROM regions p WHERE p.kind = 'park' \
          AND p.level IN ('provincial', 'national') AND r.path LIKE p.path || '%') \
        THEN 1 ELSE 0 END, \
        CAST(NULL AS BIGINT) \
      FROM regions r WHERE r.id = ? \
    UNION ALL \
      SELECT c.id, c.path, \
        CASE WHEN sub.in_park = 1 OR (c.kind = 'park' AND c.level IN ('provincial', 'national')) \
        THEN 1 ELSE 0 END, \
        COALESCE(sub.child_id, c.id) \
      FROM regions c JOIN sub ON c.parent_id = sub.id)";

/// Whether unit `u` (joined to `sub s`) is required. Parameters: the threshold, twice.
const REQUIRED: &str = "(NOT u.has_party_org AND (\
    (u.kind IN ('social_org', 'association') AND u.employee_count >= ?) \
    OR (u.kind = 'enterprise' AND (u.above_scale OR (u.employee_count >= ? AND s.in_park = 1))) \
    OR u.kind = 'platform'))";

/// A live organization lists unit `u` (the per-type counts are kept by triggers,
/// see migration `m20261126_000003_unit_org_counts`).
const HAS_LIVE_ORG: &str = "(u.orgs_union + u.orgs_league + u.orgs_women) > 0";

fn threshold_values(threshold: u32) -> [Value; 2] {
    let t = i64::from(threshold);
    [t.into(), t.into()]
}

/// Why a unit is required (empty when it is not): the Rust reading of `REQUIRED`,
/// for the people who read the worklist.
pub fn reasons(
    kind: &str,
    employee_count: i32,
    above_scale: bool,
    has_party_org: bool,
    in_park: bool,
    threshold: u32,
) -> Vec<String> {
    let mut out = Vec::new();
    if has_party_org {
        return out;
    }
    let big = i64::from(employee_count) >= i64::from(threshold);
    match kind {
        "platform" => out.push("网络平台".to_owned()),
        "enterprise" => {
            if above_scale {
                out.push("规上企业".to_owned());
            }
            if big && in_park {
                out.push(format!("省级以上园区企业（{threshold}人以上）"));
            }
        }
        "social_org" if big => out.push(format!("社会组织（{threshold}人以上）")),
        "association" if big => out.push(format!("行业协会（{threshold}人以上）")),
        _ => {}
    }
    out
}

/// PostgreSQL types `CASE … 1 …` as INTEGER and `SUM` as BIGINT; SQLite has one integer.
fn get_i64(row: &QueryResult, col: &str) -> AppResult<i64> {
    match row.try_get::<Option<i64>>("", col) {
        Ok(v) => Ok(v.unwrap_or(0)),
        Err(_) => Ok(row.try_get::<Option<i32>>("", col)?.map_or(0, i64::from)),
    }
}

/// SQLite hands booleans back as integers, PostgreSQL as booleans.
fn get_bool(row: &QueryResult, col: &str) -> AppResult<bool> {
    match row.try_get::<bool>("", col) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64>("", col)? != 0),
    }
}

/// Counts of the subtree of `region` and of each of its children: three statements.
pub async fn coverage(
    db: &DatabaseConnection,
    region: &regions::Model,
    threshold: u32,
) -> AppResult<Coverage> {
    let children = regions::Entity::find()
        .filter(regions::Column::ParentId.eq(region.id))
        .order_by_asc(regions::Column::Id)
        .all(db)
        .await?;
    let sql = format!(
        "{cte}, \
         f AS (SELECT s.child_id, CASE WHEN {REQUIRED} THEN 1 ELSE 0 END AS req, \
             CASE WHEN u.orgs_union > 0 THEN 1 ELSE 0 END AS cu, \
             CASE WHEN u.orgs_league > 0 THEN 1 ELSE 0 END AS cl, \
             CASE WHEN u.orgs_women > 0 THEN 1 ELSE 0 END AS cw, \
             CASE WHEN {HAS_LIVE_ORG} THEN 1 ELSE 0 END AS ca \
           FROM units u JOIN sub s ON s.id = u.region_id) \
         SELECT child_id, COUNT(*) AS units, SUM(req) AS required, SUM(cu) AS cu, \
           SUM(cl) AS cl, SUM(cw) AS cw, SUM(ca) AS ca, SUM(req * ca) AS rca \
         FROM f GROUP BY child_id",
        cte = SUBTREE
    );
    let mut values: Vec<Value> = vec![region.id.into()];
    values.extend(threshold_values(threshold));
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(stmt(backend, &sql, values)).await?;

    let mut by_child: HashMap<Option<i64>, CoverageCounts> = HashMap::new();
    for row in &rows {
        let counts = CoverageCounts {
            units: get_i64(row, "units")?,
            required: get_i64(row, "required")?,
            covered: Covered {
                union: get_i64(row, "cu")?,
                league: get_i64(row, "cl")?,
                women: get_i64(row, "cw")?,
                any: get_i64(row, "ca")?,
            },
            required_covered_any: get_i64(row, "rca")?,
            ..Default::default()
        };
        by_child.insert(row.try_get::<Option<i64>>("", "child_id")?, counts);
    }

    let mut total = CoverageCounts {
        region_id: region.id,
        name: region.name.clone(),
        ..Default::default()
    };
    // Units registered on the asked region itself have no child (None).
    for counts in by_child.values() {
        total.add(counts);
    }
    let children = children
        .into_iter()
        .map(|c| {
            let mut counts = by_child.remove(&Some(c.id)).unwrap_or_default();
            counts.region_id = c.id;
            counts.name = c.name;
            counts.finish()
        })
        .collect();
    Ok(Coverage {
        total: total.finish(),
        children,
    })
}

/// Names of regions by id, for turning paths into "安徽省 / 合肥市 / …".
pub struct RegionNames(HashMap<i64, String>);

impl RegionNames {
    /// The regions named in these paths (one statement).
    pub async fn for_paths<'a>(
        db: &DatabaseConnection,
        paths: impl Iterator<Item = &'a str>,
    ) -> AppResult<RegionNames> {
        let mut ids: Vec<i64> = paths.flat_map(path_ids).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(RegionNames(HashMap::new()));
        }
        let rows = regions::Entity::find()
            .filter(regions::Column::Id.is_in(ids))
            .all(db)
            .await?;
        Ok(RegionNames(
            rows.into_iter().map(|r| (r.id, r.name)).collect(),
        ))
    }

    /// The whole subtree of `region` and its ancestors (one statement), for the ledgers.
    pub async fn for_subtree(
        db: &DatabaseConnection,
        region: &regions::Model,
    ) -> AppResult<RegionNames> {
        let rows = regions::Entity::find()
            .filter(
                regions::Column::Path
                    .like(like_prefix(&region.path))
                    .or(regions::Column::Id.is_in(path_ids(&region.path))),
            )
            .all(db)
            .await?;
        Ok(RegionNames(
            rows.into_iter().map(|r| (r.id, r.name)).collect(),
        ))
    }

    /// `/1/2/40/` → "安徽省 / 合肥市 / 蜀山区".
    pub fn path(&self, path: &str) -> String {
        path_ids(path)
            .filter_map(|id| self.0.get(&id).map(String::as_str))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

fn path_ids(path: &str) -> impl Iterator<Item = i64> + '_ {
    path.split('/').filter_map(|s| s.parse().ok())
}

/// One required unit without a live organization, before its path is named.
struct GapRow {
    unit_id: i64,
    name: String,
    uscc: String,
    kind: String,
    employee_count: i32,
    above_scale: bool,
    region_id: i64,
    path: String,
    in_park: bool,
}

/// Up to `limit` gaps with ids above `after`, in id order (two statements).
pub async fn gaps(
    db: &DatabaseConnection,
    region: &regions::Model,
    threshold: u32,
    after: i64,
    limit: i64,
) -> AppResult<Vec<Gap>> {
    let sql = format!(
        "{cte} SELECT u.id, u.name, u.uscc, u.kind, u.employee_count, u.above_scale, \
           u.region_id, s.path, s.in_park \
         FROM units u JOIN sub s ON s.id = u.region_id \
         WHERE {REQUIRED} AND NOT {HAS_LIVE_ORG} AND u.id > ? \
         ORDER BY u.id LIMIT ?",
        cte = SUBTREE
    );
    let mut values: Vec<Value> = vec![region.id.into()];
    values.extend(threshold_values(threshold));
    values.push(after.into());
    values.push(limit.into());
    let rows = db
        .query_all_raw(stmt(db.get_database_backend(), &sql, values))
        .await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(GapRow {
                unit_id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
                uscc: r.try_get("", "uscc")?,
                kind: r.try_get("", "kind")?,
                employee_count: r.try_get("", "employee_count")?,
                above_scale: get_bool(r, "above_scale")?,
                region_id: r.try_get("", "region_id")?,
                path: r.try_get("", "path")?,
                in_park: get_i64(r, "in_park")? != 0,
            })
        })
        .collect::<AppResult<Vec<GapRow>>>()?;
    let names = RegionNames::for_paths(db, rows.iter().map(|r| r.path.as_str())).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let reasons = reasons(
                &r.kind,
                r.employee_count,
                r.above_scale,
                false,
                r.in_park,
                threshold,
            );
            Gap {
                unit_id: r.unit_id,
                region_path: names.path(&r.path),
                reason: reasons.join("、"),
                reasons,
                name: r.name,
                uscc: r.uscc,
                kind: r.kind,
                employee_count: r.employee_count,
                region_id: r.region_id,
            }
        })
        .collect())
}

/// One line of the unit ledger.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    /// Names from the province down to the unit's region.
    pub region_path: String,
    /// Registered name.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
    /// enterprise, social_org, association or platform.
    pub kind: String,
    /// Staff count.
    pub employee_count: i32,
    /// Has a party organization.
    pub has_party_org: bool,
    /// Live unions listing the unit.
    pub union: Vec<String>,
    /// Live league organizations listing the unit.
    pub league: Vec<String>,
    /// Live women's organizations listing the unit.
    pub women: Vec<String>,
    /// Required (应建).
    pub required: bool,
}

impl LedgerRow {
    /// Listed by a live organization of any type.
    pub fn covered(&self) -> bool {
        !(self.union.is_empty() && self.league.is_empty() && self.women.is_empty())
    }
}

/// Reads a subtree's units in batches of about `BATCH`: memory holds one batch,
/// never the table. The batches follow the regions in path order (so the ledger is
/// grouped by township, park…), planned from one count per region: several small
/// regions per batch (`region_id IN (…)`), or a large region on its own, paged by
/// unit id. Batches are separate statements, so a download does not pin the (single
/// SQLite) connection between them; a unit changed mid-download shows its newer state.
pub struct Ledger {
    db: DatabaseConnection,
    threshold: u32,
    names: RegionNames,
    /// (region id, units) in path order, only regions holding units.
    regions: Vec<(i64, i64)>,
    /// Path and "inside a provincial-or-higher park" of each of those regions,
    /// worked out once so that a batch reads units only.
    places: HashMap<i64, (String, bool)>,
    /// Index into `regions` of the next batch.
    next: usize,
    /// Within a large region: the last unit id read.
    after: Option<i64>,
}

impl Ledger {
    /// Loads the region names of the subtree and the unit count per region (two statements).
    pub async fn open(
        db: &DatabaseConnection,
        region: &regions::Model,
        threshold: u32,
    ) -> AppResult<Ledger> {
        let sql = format!(
            "{SUBTREE} SELECT s.path, s.in_park, u.region_id, COUNT(*) AS n \
             FROM units u JOIN sub s ON s.id = u.region_id \
             GROUP BY s.path, s.in_park, u.region_id ORDER BY s.path"
        );
        let rows = db
            .query_all_raw(stmt(
                db.get_database_backend(),
                &sql,
                vec![region.id.into()],
            ))
            .await?;
        let mut regions = Vec::with_capacity(rows.len());
        let mut places = HashMap::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("", "region_id")?;
            regions.push((id, get_i64(r, "n")?));
            let path: String = r.try_get("", "path")?;
            places.insert(id, (path, get_i64(r, "in_park")? != 0));
        }
        Ok(Ledger {
            db: db.clone(),
            threshold,
            names: RegionNames::for_subtree(db, region).await?,
            regions,
            places,
            next: 0,
            after: None,
        })
    }

    /// The next batch (two statements), or None after the last unit.
    pub async fn next_batch(&mut self) -> AppResult<Option<Vec<LedgerRow>>> {
        let Some(&(first, count)) = self.regions.get(self.next) else {
            return Ok(None);
        };
        let backend = self.db.get_database_backend();
        let mut values: Vec<Value> = Vec::new();
        // Regions [next, group_end) make this batch when they are small.
        let mut group_end = self.next + 1;
        let filter = if count > BATCH {
            let after = self.after.unwrap_or(0);
            values.extend([first.into(), after.into(), BATCH.into()]);
            "u.region_id = ? AND u.id > ? ORDER BY u.id LIMIT ?".to_owned()
        } else {
            let mut ids = vec![first];
            let mut sum = count;
            while let Some(&(id, n)) = self.regions.get(group_end) {
                if n > BATCH || sum + n > BATCH {
                    break;
                }
                ids.push(id);
                sum += n;
                group_end += 1;
            }
            let marks = vec!["?"; ids.len()].join(", ");
            values.extend(ids.into_iter().map(Value::from));
            format!("u.region_id IN ({marks}) ORDER BY u.id")
        };
        let sql = format!(
            "SELECT u.id, u.name, u.uscc, u.kind, u.employee_count, u.above_scale, \
               u.has_party_org, u.region_id FROM units u WHERE {filter}"
        );
        let rows = self.db.query_all_raw(stmt(backend, &sql, values)).await?;

        let mut ids = Vec::with_capacity(rows.len());
        let mut out = Vec::with_capacity(rows.len());
        let mut regions_of = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("", "id")?;
            let region_id: i64 = r.try_get("", "region_id")?;
            let (path, in_park) = self
                .places
                .get(&region_id)
                .map(|(p, park)| (p.as_str(), *park))
                .unwrap_or(("", false));
            let kind: String = r.try_get("", "kind")?;
            let employee_count: i32 = r.try_get("", "employee_count")?;
            let has_party_org = get_bool(r, "has_party_org")?;
            // The Rust reading of REQUIRED, kept in step with it by its unit test
            // and the ledger tests.
            let required = !reasons(
                &kind,
                employee_count,
                get_bool(r, "above_scale")?,
                has_party_org,
                in_park,
                self.threshold,
            )
            .is_empty();
            ids.push(id);
            regions_of.push(region_id);
            out.push(LedgerRow {
                region_path: self.names.path(path),
                name: r.try_get("", "name")?,
                uscc: r.try_get("", "uscc")?,
                kind,
                employee_count,
                has_party_org,
                union: Vec::new(),
                league: Vec::new(),
                women: Vec::new(),
                required,
            });
        }
        if count > BATCH && rows.len() as i64 == BATCH {
            self.after = ids.last().copied();
        } else {
            // Past the large region, or past the group of small ones.
            self.next = group_end;
            self.after = None;
        }
        if out.is_empty() {
            // A region emptied since the counts were taken: go on with the next one.
            return Box::pin(self.next_batch()).await;
        }
        // Path order across the batch's regions, id order within each.
        let position: HashMap<i64, usize> = self
            .regions
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let mut order: Vec<usize> = (0..out.len()).collect();
        order.sort_by_key(|&i| position.get(&regions_of[i]).copied().unwrap_or(usize::MAX));

        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!(
            "SELECT ou.unit_id, o.\"type\" AS org_type, o.name FROM org_units ou \
             JOIN orgs o ON o.id = ou.org_id \
             WHERE o.dissolved_at IS NULL AND ou.unit_id IN ({marks}) ORDER BY o.id"
        );
        let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let values = ids.into_iter().map(Value::from).collect();
        for r in self.db.query_all_raw(stmt(backend, &sql, values)).await? {
            let unit_id: i64 = r.try_get("", "unit_id")?;
            let org_type: String = r.try_get("", "org_type")?;
            let name: String = r.try_get("", "name")?;
            let Some(row) = index.get(&unit_id).and_then(|i| out.get_mut(*i)) else {
                continue;
            };
            match org_type.as_str() {
                "union" => row.union.push(name),
                "league" => row.league.push(name),
                "women" => row.women.push(name),
                _ => {}
            }
        }
        let mut slots: Vec<Option<LedgerRow>> = out.into_iter().map(Some).collect();
        Ok(Some(
            order.into_iter().filter_map(|i| slots[i].take()).collect(),
        ))
    }
}

/// The Chinese name of a unit kind, for the ledgers.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "enterprise" => "企业",
        "social_org" => "社会组织",
        "association" => "行业协会",
        "platform" => "网络平台",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_follow_the_required_rule() {
        assert_eq!(
            reasons("enterprise", 30, false, false, true, 30),
            ["省级以上园区企业（30人以上）"]
        );
        assert!(reasons("enterprise", 29, false, false, true, 30).is_empty());
        assert!(reasons("enterprise", 300, false, false, false, 30).is_empty());
        assert_eq!(
            reasons("enterprise", 3, true, false, false, 30),
            ["规上企业"]
        );
        assert_eq!(
            reasons("platform", 0, false, false, false, 30),
            ["网络平台"]
        );
        assert_eq!(
            reasons("association", 30, false, false, false, 30),
            ["行业协会（30人以上）"]
        );
        assert!(reasons("social_org", 29, false, false, false, 30).is_empty());
        assert!(reasons("platform", 10, false, true, false, 30).is_empty());
    }

    #[test]
    fn paths_become_ids() {
        assert_eq!(path_ids("/1/20/300/").collect::<Vec<_>>(), [1, 20, 300]);
        assert_eq!(path_ids("").count(), 0);
    }
}
