//! Region rules: which kind may sit under which, codes, and the materialised path.
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, TransactionTrait,
};

use crate::audit::{self, Entry};

use crate::clock::now_ms;
use crate::entity::regions;
use crate::error::{AppError, AppResult, on_unique};

/// Region kinds.
pub const KINDS: [&str; 7] = [
    "province", "city", "county", "township", "park", "building", "market",
];
/// Park levels.
pub const LEVELS: [&str; 3] = ["national", "provincial", "municipal"];

/// Whether a region of `child` kind may be created under a `parent` kind.
pub fn child_allowed(parent: &str, child: &str) -> bool {
    matches!(
        (parent, child),
        ("province", "city")
            | ("city", "county" | "park")
            | ("county", "township" | "park" | "building" | "market")
            | ("township", "park" | "building" | "market")
            | ("park", "building" | "market")
    )
}

/// Kinds that usually have no statistical code: the server assigns one when none is given.
pub const CODE_OPTIONAL: [&str; 3] = ["park", "building", "market"];

/// A validated new region.
pub struct NewRegion {
    /// GB/T 2260 or statistical code, 6–12 digits; `None` for a park, building or
    /// market without one (assigned on insert as `<parent code>-<id>`).
    pub code: Option<String>,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Park level.
    pub level: Option<String>,
}

impl NewRegion {
    /// Checks code, name, kind and level (the parent is checked on insert). A code
    /// left out or empty is allowed for parks, buildings and markets only.
    pub fn parse(
        code: Option<&str>,
        name: &str,
        kind: &str,
        level: Option<&str>,
    ) -> AppResult<NewRegion> {
        let code = match code.map(str::trim).filter(|c| !c.is_empty()) {
            None if CODE_OPTIONAL.contains(&kind) => None,
            None => {
                return Err(AppError::rule(
                    "invalid_region_code",
                    "县区和乡镇街道须填写区划代码（6到12位数字）",
                ));
            }
            Some(c) if (6..=12).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) => {
                Some(c.to_owned())
            }
            Some(_) => {
                return Err(AppError::rule(
                    "invalid_region_code",
                    "区划代码应为6到12位数字",
                ));
            }
        };
        let name = crate::text::clean_text(name, 100, "invalid_name", "名称应为1到100个字")?;
        let name = name.as_str();
        if !KINDS.contains(&kind) || kind == "province" || kind == "city" {
            return Err(AppError::rule(
                "invalid_kind",
                "类型应为县区、乡镇街道、园区、商务楼宇或商圈市场",
            ));
        }
        let level = match (kind, level) {
            ("park", Some(l)) if LEVELS.contains(&l) => Some(l.to_owned()),
            ("park", None) => Some("municipal".to_owned()),
            (_, None) => None,
            _ => {
                return Err(AppError::rule(
                    "invalid_level",
                    "只有园区有级别：national、provincial 或 municipal",
                ));
            }
        };
        Ok(NewRegion {
            code,
            name: name.to_owned(),
            kind: kind.to_owned(),
            level,
        })
    }
}

/// Adds a region under `parent`; the row and its audit entry commit together.
pub async fn create(
    db: &DatabaseConnection,
    parent: regions::Model,
    new: NewRegion,
    actor: i64,
    ip: Option<String>,
) -> AppResult<regions::Model> {
    db.transaction::<_, regions::Model, AppError>(|txn| {
        Box::pin(async move {
            let r = insert(txn, &parent, new).await?;
            audit::record(
                txn,
                Entry {
                    actor: Some(actor),
                    action: "region.create",
                    target: format!("region:{}", r.id),
                    region_id: Some(r.id),
                    ip,
                    detail: Some(
                        serde_json::json!({ "code": r.code, "name": r.name, "kind": r.kind }),
                    ),
                },
            )
            .await?;
            Ok(r)
        })
    })
    .await
    .map_err(Into::into)
}

/// Inserts under `parent` and fills the path (run inside a transaction).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    parent: &regions::Model,
    r: NewRegion,
) -> AppResult<regions::Model> {
    if !child_allowed(&parent.kind, &r.kind) {
        return Err(AppError::rule(
            "invalid_kind",
            "这个上级区域下不能建这种区域",
        ));
    }
    // Without a code the row goes in under a placeholder that cannot clash, and
    // gets `<parent code>-<id>` with its path.
    let assigned = r.code.is_none();
    let row = regions::ActiveModel {
        code: Set(r
            .code
            .unwrap_or_else(|| format!("~{:016x}", rand::random::<u64>()))),
        name: Set(r.name),
        kind: Set(r.kind),
        level: Set(r.level),
        parent_id: Set(Some(parent.id)),
        path: Set(String::new()),
        created_at: Set(now_ms()),
        ..Default::default()
    };
    let created = regions::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| on_unique(e, "region_exists", "这个区划代码已存在"))?;
    let path = format!("{}{}/", parent.path, created.id);
    let id = created.id;
    let mut row = created.into_active_model();
    row.path = Set(path);
    if assigned {
        row.code = Set(format!("{}-{id}", parent.code));
    }
    row.update(db)
        .await
        .map_err(|e| on_unique(e, "region_exists", "这个区划代码已存在"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_shape_follows_administrative_levels() {
        assert!(child_allowed("city", "county"));
        assert!(child_allowed("township", "park"));
        assert!(!child_allowed("township", "county"));
        assert!(!child_allowed("building", "market"));
        assert!(!child_allowed("province", "township"));
    }

    #[test]
    fn only_parks_have_levels() {
        assert!(
            NewRegion::parse(Some("340104001"), "某街道", "township", Some("national")).is_err()
        );
        let park = NewRegion::parse(Some("340104500"), "高新区", "park", Some("national"));
        assert_eq!(park.ok().and_then(|r| r.level).as_deref(), Some("national"));
        assert!(NewRegion::parse(Some("34010"), "短", "county", None).is_err());
        assert!(NewRegion::parse(Some("340104"), "", "county", None).is_err());
        assert!(NewRegion::parse(Some("340104"), "x", "city", None).is_err());
        assert!(NewRegion::parse(None, "某区", "county", None).is_err());
        assert!(NewRegion::parse(Some(" "), "某街道", "township", None).is_err());
        for kind in CODE_OPTIONAL {
            let r = NewRegion::parse(None, "创新大厦", kind, None).expect(kind);
            assert_eq!(r.code, None);
        }
    }
}
