//! `units` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `units`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[sea_orm(unique)]
    pub uscc: String,
    pub kind: String,
    pub region_id: i64,
    pub employee_count: i32,
    pub above_scale: bool,
    pub has_party_org: bool,
    pub industry: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Live unions listing this unit (kept by database triggers).
    pub orgs_union: i32,
    /// Live league branches listing this unit (kept by database triggers).
    pub orgs_league: i32,
    /// Live women's organizations listing this unit (kept by database triggers).
    pub orgs_women: i32,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
