//! Unit rules (parsed at the edge), who may see and change a unit, and the writes.
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
};

use crate::audit::{self, Entry};
use crate::auth::scope::{Refusal, admin_region, is_admin};
use crate::clock::now_ms;
use crate::db::{like_contains, like_prefix};
use crate::entity::{regions, roles, units};
use crate::error::{AppError, AppResult, on_unique};
use crate::pagination::PageQuery;
use crate::units::uscc::Uscc;

/// Most employees a unit may declare.
pub const MAX_EMPLOYEES: i64 = 1_000_000;

/// A broken rule: its API code and a message for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid(pub &'static str, pub &'static str);

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::rule(e.0, e.1)
    }
}

/// The four kinds of unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// 非公企业.
    Enterprise,
    /// 社会组织.
    SocialOrg,
    /// 行业协会商会.
    Association,
    /// 网络平台.
    Platform,
}

const INVALID_KIND: Invalid = Invalid(
    "invalid_kind",
    "类型应为 enterprise、social_org、association 或 platform",
);

impl UnitKind {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<UnitKind, Invalid> {
        match s {
            "enterprise" => Ok(UnitKind::Enterprise),
            "social_org" => Ok(UnitKind::SocialOrg),
            "association" => Ok(UnitKind::Association),
            "platform" => Ok(UnitKind::Platform),
            _ => Err(INVALID_KIND),
        }
    }

    /// Parses a spreadsheet cell: the API spelling (any case) or the Chinese name.
    pub fn parse_cell(s: &str) -> Result<UnitKind, Invalid> {
        match s.trim() {
            "企业" | "非公企业" => Ok(UnitKind::Enterprise),
            "社会组织" => Ok(UnitKind::SocialOrg),
            "行业协会" | "协会" | "商会" | "行业协会商会" => {
                Ok(UnitKind::Association)
            }
            "平台" | "网络平台" => Ok(UnitKind::Platform),
            other => UnitKind::parse(&other.to_ascii_lowercase()),
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Enterprise => "enterprise",
            UnitKind::SocialOrg => "social_org",
            UnitKind::Association => "association",
            UnitKind::Platform => "platform",
        }
    }
}

/// A name of 1–200 characters without invisible characters (NFC, trimmed).
pub fn parse_name(s: &str) -> Result<String, Invalid> {
    crate::text::check_line(s, 200).map_err(|why| match why {
        crate::text::Unclean::Length => Invalid("invalid_name", "名称应为1到200个字"),
        crate::text::Unclean::Invisible => Invalid(
            "invalid_name",
            "名称不能含有看不见的字符（如零宽空格、文字方向控制符）",
        ),
    })
}

/// A valid unified social credit code.
pub fn parse_uscc(s: &str) -> Result<Uscc, Invalid> {
    Uscc::parse(s).ok_or(Invalid(
        "invalid_uscc",
        "统一社会信用代码不正确（应为18位，校验位需正确）",
    ))
}

/// An employee count of 0 to 1,000,000.
pub fn parse_employees(n: i64) -> Result<i32, Invalid> {
    if !(0..=MAX_EMPLOYEES).contains(&n) {
        return Err(Invalid(
            "invalid_employee_count",
            "职工人数应为0到1000000之间的整数",
        ));
    }
    Ok(n as i32)
}

/// An optional industry of up to 100 characters; blank means none.
pub fn parse_industry(s: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(Invalid("invalid_industry", "行业不能超过100个字"));
    }
    Ok(Some(s.to_owned()))
}

/// A unit ready to store.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// Name.
    pub name: String,
    /// Code.
    pub uscc: Uscc,
    /// Kind.
    pub kind: UnitKind,
    /// Region (existence and scope are checked separately).
    pub region_id: i64,
    /// Employees.
    pub employee_count: i32,
    /// 规模以上.
    pub above_scale: bool,
    /// Has a party organization.
    pub has_party_org: bool,
    /// Industry.
    pub industry: Option<String>,
}

impl NewUnit {
    /// The row to insert.
    pub fn into_active(self, now: i64) -> units::ActiveModel {
        units::ActiveModel {
            name: Set(self.name),
            uscc: Set(self.uscc.as_str().to_owned()),
            kind: Set(self.kind.as_str().to_owned()),
            region_id: Set(self.region_id),
            employee_count: Set(self.employee_count),
            above_scale: Set(self.above_scale),
            has_party_org: Set(self.has_party_org),
            industry: Set(self.industry),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }
}

/// The 409 of a code that is already registered.
pub fn uscc_taken(e: sea_orm::DbErr) -> AppError {
    on_unique(e, "uscc_exists", "这个统一社会信用代码已登记")
}

// ---------------------------------------------------------------- access

/// 403 for callers who are no admin at all.
pub fn require_admin(grants: &[roles::Model]) -> AppResult<()> {
    if !is_admin(grants) {
        return Err(AppError::Forbidden("forbidden", "只有管理员可以管理单位"));
    }
    Ok(())
}

/// The region, which must exist (422 `invalid_region`) and lie in the caller's scope (403).
pub async fn writable_region(
    db: &DatabaseConnection,
    grants: &[roles::Model],
    region_id: i64,
) -> AppResult<regions::Model> {
    admin_region(
        db,
        grants,
        region_id,
        Refusal {
            missing: AppError::rule("invalid_region", "区域不存在"),
            refused: AppError::Forbidden("forbidden", "只能管理本辖区的单位"),
            outsiders_first: false,
        },
    )
    .await
}

/// A unit the caller administers; 404 for anyone else (never reveal it exists).
pub async fn visible_unit(
    db: &DatabaseConnection,
    grants: &[roles::Model],
    id: i64,
) -> AppResult<units::Model> {
    let unit = units::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    admin_region(db, grants, unit.region_id, Refusal::hidden()).await?;
    Ok(unit)
}

// ---------------------------------------------------------------- writes

/// Inserts a unit (inside the caller's transaction); a taken code is a 409.
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewUnit) -> AppResult<units::Model> {
    units::Entity::insert(new.into_active(now_ms()))
        .exec_with_returning(db)
        .await
        .map_err(uscc_taken)
}

/// Checked changes of `PATCH /units/{id}`.
#[derive(Debug, Default)]
pub struct UnitChanges {
    /// New name.
    pub name: Option<String>,
    /// New code.
    pub uscc: Option<Uscc>,
    /// New kind.
    pub kind: Option<UnitKind>,
    /// New region.
    pub region_id: Option<i64>,
    /// New employee count.
    pub employee_count: Option<i32>,
    /// New flag.
    pub above_scale: Option<bool>,
    /// New flag.
    pub has_party_org: Option<bool>,
    /// New industry (Some(None) clears it).
    pub industry: Option<Option<String>>,
}

/// Applies the changes that differ from the row; returns the row and the names of the changed fields.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    unit: units::Model,
    c: UnitChanges,
) -> AppResult<(units::Model, Vec<&'static str>)> {
    let mut changed = Vec::new();
    let mut row = unit.clone().into_active_model();
    macro_rules! set {
        ($field:ident, $value:expr) => {
            if let Some(v) = $value {
                if unit.$field != v {
                    row.$field = Set(v);
                    changed.push(stringify!($field));
                }
            }
        };
    }
    set!(name, c.name);
    set!(uscc, c.uscc.map(|u| u.as_str().to_owned()));
    set!(kind, c.kind.map(|k| k.as_str().to_owned()));
    set!(region_id, c.region_id);
    set!(employee_count, c.employee_count);
    set!(above_scale, c.above_scale);
    set!(has_party_org, c.has_party_org);
    set!(industry, c.industry);
    if changed.is_empty() {
        return Ok((unit, changed));
    }
    row.updated_at = Set(now_ms());
    let updated = row.update(db).await.map_err(uscc_taken)?;
    Ok((updated, changed))
}

/// Registers a unit; the row and its audit entry commit together.
pub async fn create(
    db: &DatabaseConnection,
    new: NewUnit,
    actor: i64,
    ip: Option<String>,
) -> AppResult<units::Model> {
    db.transaction::<_, units::Model, AppError>(|txn| {
        Box::pin(async move {
            let u = insert(txn, new).await?;
            audit::record(
                txn,
                Entry {
                    actor: Some(actor),
                    action: "unit.create",
                    target: format!("unit:{}", u.id),
                    region_id: Some(u.region_id),
                    ip,
                    detail: Some(serde_json::json!({ "name": u.name, "uscc": u.uscc })),
                },
            )
            .await?;
            Ok(u)
        })
    })
    .await
    .map_err(Into::into)
}

/// Changes a unit; the changes apply to the row as it is inside the transaction,
/// and the audit entry (when anything changed) commits with them.
pub async fn change(
    db: &DatabaseConnection,
    id: i64,
    changes: UnitChanges,
    actor: i64,
    ip: Option<String>,
) -> AppResult<units::Model> {
    db.transaction::<_, units::Model, AppError>(|txn| {
        Box::pin(async move {
            let current = units::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or(AppError::NotFound)?;
            let from_region = current.region_id;
            let (u, changed) = update(txn, current, changes).await?;
            if !changed.is_empty() {
                audit::record(
                    txn,
                    Entry {
                        actor: Some(actor),
                        action: "unit.update",
                        target: format!("unit:{}", u.id),
                        region_id: Some(u.region_id),
                        ip,
                        detail: Some(serde_json::json!({
                            "fields": changed,
                            "from_region_id": from_region,
                        })),
                    },
                )
                .await?;
            }
            Ok(u)
        })
    })
    .await
    .map_err(Into::into)
}

// ---------------------------------------------------------------- reads

/// Filters of `GET /units`, already checked.
pub struct ListFilter<'a> {
    /// The region whose subtree is listed.
    pub region: &'a regions::Model,
    /// Only this kind.
    pub kind: Option<UnitKind>,
    /// Name substring or USCC prefix.
    pub q: Option<&'a str>,
    /// The page.
    pub page: &'a PageQuery,
}

/// Units of a region's subtree in id order.
pub async fn list(db: &DatabaseConnection, f: ListFilter<'_>) -> AppResult<Vec<units::Model>> {
    let subtree = Query::select()
        .column(regions::Column::Id)
        .from(regions::Entity)
        .and_where(Expr::col(regions::Column::Path).like(like_prefix(&f.region.path)))
        .to_owned();
    let mut select = units::Entity::find().filter(units::Column::RegionId.in_subquery(subtree));
    if let Some(kind) = f.kind {
        select = select.filter(units::Column::Kind.eq(kind.as_str()));
    }
    if let Some(q) = f.q {
        select = select.filter(
            Condition::any()
                .add(Expr::col(units::Column::Name).like(like_contains(q)))
                .add(Expr::col(units::Column::Uscc).like(like_prefix(&q.to_ascii_uppercase()))),
        );
    }
    Ok(f.page.ascending(select, units::Column::Id).all(db).await?)
}

/// Units whose name contains `term`, for workers choosing a workplace.
pub async fn lookup(
    db: &DatabaseConnection,
    term: &str,
    page: &PageQuery,
) -> AppResult<Vec<units::Model>> {
    let select =
        units::Entity::find().filter(Expr::col(units::Column::Name).like(like_contains(term)));
    Ok(page.ascending(select, units::Column::Id).all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_in_english_and_chinese() {
        assert_eq!(UnitKind::parse("platform"), Ok(UnitKind::Platform));
        assert!(UnitKind::parse("Platform").is_err());
        assert!(UnitKind::parse("平台").is_err());
        for (cell, kind) in [
            ("企业", UnitKind::Enterprise),
            ("非公企业", UnitKind::Enterprise),
            ("社会组织", UnitKind::SocialOrg),
            ("行业协会", UnitKind::Association),
            ("协会", UnitKind::Association),
            ("商会", UnitKind::Association),
            ("平台", UnitKind::Platform),
            ("网络平台", UnitKind::Platform),
            (" Enterprise ", UnitKind::Enterprise),
            ("social_org", UnitKind::SocialOrg),
        ] {
            assert_eq!(UnitKind::parse_cell(cell), Ok(kind), "{cell}");
        }
        assert!(UnitKind::parse_cell("公司").is_err());
    }

    #[test]
    fn fields_are_bounded() {
        assert!(parse_name("").is_err());
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"字".repeat(200)).is_ok());
        assert!(parse_name(&"字".repeat(201)).is_err());
        assert!(parse_name("a\nb").is_err());
        assert_eq!(parse_employees(0), Ok(0));
        assert_eq!(parse_employees(1_000_000), Ok(1_000_000));
        assert!(parse_employees(-1).is_err());
        assert!(parse_employees(1_000_001).is_err());
        assert_eq!(parse_industry(Some("  ")), Ok(None));
        assert!(parse_industry(Some(&"x".repeat(101))).is_err());
    }
}
