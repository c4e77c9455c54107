//! Reading the audit log: who may (region admins, over their subtrees), the
//! checked filters, and the keyset query newest first (`id DESC`: entries are
//! numbered as they are written, so the id order is the time order).
use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::audit::dto::{
    ActionFilter, AuditEntry, AuditFilterQuery, Bound, parse_bound, parse_target,
};
use crate::auth::scope::{Refusal, admin_region, admin_region_ids, is_admin};
use crate::db::like_prefix;
use crate::entity::{audit_log, regions, roles, users};
use crate::error::{AppError, AppResult};
use crate::pagination::PageQuery;

/// The regions whose entries the caller reads.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Materialised paths of the subtrees (`/1/5/`).
    paths: Vec<String>,
    /// Whether entries of no region are seen too (admins of a root region only).
    unplaced: bool,
}

/// Who may read the log, and how much of it: a region admin, over the subtrees
/// of the regions they administer (403 for anyone else). With `region_id`, only
/// that region's subtree, which must lie in the caller's (403; 404 when there
/// is no such region). Entries of no region (`region_id` null) are seen only by
/// admins of a top-level region, and only without `region_id`.
pub async fn reach(
    db: &DatabaseConnection,
    grants: &[roles::Model],
    region_id: Option<i64>,
) -> AppResult<Reach> {
    let refused = || AppError::Forbidden("forbidden", "只有地区管理员可以查看本辖区的审计日志");
    if !is_admin(grants) {
        return Err(refused());
    }
    if let Some(id) = region_id {
        let region = admin_region(
            db,
            grants,
            id,
            Refusal {
                missing: AppError::NotFound,
                refused: refused(),
                outsiders_first: true,
            },
        )
        .await?;
        return Ok(Reach {
            paths: vec![region.path],
            unplaced: false,
        });
    }
    let ids: Vec<i64> = admin_region_ids(grants).collect();
    let held = regions::Entity::find()
        .filter(regions::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(Reach {
        unplaced: held.iter().any(|r| r.parent_id.is_none()),
        paths: held.into_iter().map(|r| r.path).collect(),
    })
}

/// The checked filters of a list or a CSV.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Whose regions.
    pub reach: Reach,
    /// Only this actor.
    pub actor_id: Option<i64>,
    /// Only this action or prefix.
    pub action: Option<ActionFilter>,
    /// Only this target.
    pub target: Option<String>,
    /// At or after (epoch ms).
    pub from: Option<i64>,
    /// Before (epoch ms).
    pub to: Option<i64>,
}

/// The query's filters, checked (400 naming the field), before any access check.
pub struct Checked {
    actor_id: Option<i64>,
    action: Option<ActionFilter>,
    target: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

impl Checked {
    /// Parses the filters; empty values count as absent.
    pub fn parse(q: &AuditFilterQuery) -> AppResult<Checked> {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let from = given(&q.from)
            .map(|s| parse_bound(&s, Bound::From))
            .transpose()?;
        let to = given(&q.to)
            .map(|s| parse_bound(&s, Bound::To))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(AppError::bad_request(
                "from（开始时间）应早于 to（结束时间）",
            ));
        }
        Ok(Checked {
            actor_id: q.actor_id,
            action: given(&q.action)
                .map(|s| ActionFilter::parse(&s))
                .transpose()?,
            target: given(&q.target).map(|s| parse_target(&s)).transpose()?,
            from,
            to,
        })
    }

    /// The filter over what the caller may read.
    pub fn within(self, reach: Reach) -> Filter {
        Filter {
            reach,
            actor_id: self.actor_id,
            action: self.action,
            target: self.target,
            from: self.from,
            to: self.to,
        }
    }
}

/// The `WHERE` of a filter; `None` when it can match nothing (no region held).
fn condition(f: &Filter) -> Option<Condition> {
    let mut subtrees = Condition::any();
    for p in &f.reach.paths {
        subtrees = subtrees.add(regions::Column::Path.like(like_prefix(p)));
    }
    let mut place = Condition::any();
    if !f.reach.paths.is_empty() {
        place = place.add(
            audit_log::Column::RegionId.in_subquery(
                Query::select()
                    .column(regions::Column::Id)
                    .from(regions::Entity)
                    .cond_where(subtrees)
                    .to_owned(),
            ),
        );
    }
    if f.reach.unplaced {
        place = place.add(audit_log::Column::RegionId.is_null());
    }
    if f.reach.paths.is_empty() && !f.reach.unplaced {
        return None;
    }
    let mut c = Condition::all().add(place);
    if let Some(a) = f.actor_id {
        c = c.add(audit_log::Column::ActorUserId.eq(a));
    }
    match &f.action {
        Some(ActionFilter::Exact(a)) => c = c.add(audit_log::Column::Action.eq(a.as_str())),
        Some(ActionFilter::Prefix(p)) => {
            c = c.add(audit_log::Column::Action.like(like_prefix(p)));
        }
        None => {}
    }
    if let Some(t) = &f.target {
        c = c.add(audit_log::Column::Target.eq(t.as_str()));
    }
    if let Some(from) = f.from {
        c = c.add(audit_log::Column::At.gte(from));
    }
    if let Some(to) = f.to {
        c = c.add(audit_log::Column::At.lt(to));
    }
    Some(c)
}

/// Up to `page.fetch()` matching entries below the cursor, newest first.
pub async fn entries(
    db: &DatabaseConnection,
    f: &Filter,
    page: &PageQuery,
) -> AppResult<Vec<audit_log::Model>> {
    let Some(c) = condition(f) else {
        return Ok(vec![]);
    };
    let select = audit_log::Entity::find().filter(c);
    Ok(page
        .descending(select, audit_log::Column::Id)
        .all(db)
        .await?)
}

/// Names of the actors and regions of some entries, read once per page.
pub struct Names {
    actors: HashMap<i64, Option<String>>,
    regions: HashMap<i64, String>,
}

impl Names {
    /// Reads the names the entries refer to.
    pub async fn of(db: &DatabaseConnection, rows: &[audit_log::Model]) -> AppResult<Names> {
        let mut actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_user_id).collect();
        actor_ids.sort_unstable();
        actor_ids.dedup();
        let mut region_ids: Vec<i64> = rows.iter().filter_map(|r| r.region_id).collect();
        region_ids.sort_unstable();
        region_ids.dedup();
        let actors = if actor_ids.is_empty() {
            HashMap::new()
        } else {
            users::Entity::find()
                .filter(users::Column::Id.is_in(actor_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect()
        };
        let regions = if region_ids.is_empty() {
            HashMap::new()
        } else {
            regions::Entity::find()
                .filter(regions::Column::Id.is_in(region_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect()
        };
        Ok(Names { actors, regions })
    }

    /// The actor's name, if they have one.
    pub fn actor(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|i| self.actors.get(&i).cloned().flatten())
    }

    /// The region's name, if it exists.
    pub fn region(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|i| self.regions.get(&i).cloned())
    }
}

/// The stored `detail` text as JSON (text that is not JSON as a string).
pub fn detail_json(detail: Option<&str>) -> Option<serde_json::Value> {
    detail.map(|d| {
        serde_json::from_str(d).unwrap_or_else(|_| serde_json::Value::String(d.to_owned()))
    })
}

/// An entry as the API shows it.
pub fn entry(row: audit_log::Model, names: &Names) -> AuditEntry {
    AuditEntry {
        id: row.id,
        actor_name: names.actor(row.actor_user_id),
        actor_id: row.actor_user_id,
        action: row.action,
        target: row.target,
        region_id: row.region_id,
        ip: row.ip,
        detail: detail_json(row.detail.as_deref()),
        at: crate::clock::rfc3339(row.at),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    fn filter(paths: &[&str], unplaced: bool) -> Filter {
        Filter {
            reach: Reach {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                unplaced,
            },
            actor_id: Some(7),
            action: Some(ActionFilter::Prefix("role.".into())),
            target: None,
            from: Some(10),
            to: None,
        }
    }

    fn sql(f: &Filter) -> String {
        let c = condition(f).expect("a condition");
        audit_log::Entity::find()
            .filter(c)
            .build(DbBackend::Sqlite)
            .to_string()
    }

    #[test]
    fn the_query_keeps_to_the_subtrees_and_sees_unplaced_entries_only_from_a_root() {
        let county = sql(&filter(&["/1/5/"], false));
        assert!(county.contains(r#""path" LIKE '/1/5/%'"#), "{county}");
        assert!(!county.contains("IS NULL"), "{county}");
        assert!(county.contains(r#""action" LIKE 'role.%'"#), "{county}");
        assert!(county.contains(r#""actor_user_id" = 7"#), "{county}");
        assert!(county.contains(r#""at" >= 10"#), "{county}");
        let root = sql(&filter(&["/1/"], true));
        assert!(root.contains(r#""region_id" IS NULL"#), "{root}");
        assert!(condition(&filter(&[], false)).is_none());
    }

    #[test]
    fn detail_text_reads_as_json() {
        assert_eq!(
            detail_json(Some(r#"{"a":1}"#)),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(detail_json(Some("x")), Some(serde_json::json!("x")));
        assert_eq!(detail_json(None), None);
    }
}
