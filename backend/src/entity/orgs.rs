//! `orgs` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `orgs`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "orgs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// union, league or women.
    #[sea_orm(column_name = "type")]
    pub org_type: String,
    /// single, joint, regional, industry or online.
    pub form: String,
    pub region_id: i64,
    #[sea_orm(unique)]
    pub join_code: String,
    /// open or approval.
    pub join_policy: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when the organization is dissolved; live orgs have none.
    pub dissolved_at: Option<i64>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
