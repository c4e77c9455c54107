//! `centres` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `centres`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "centres")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub region_id: i64,
    pub address: String,
    /// Comma-separated subset of party, workers, youth, women.
    pub homes: String,
    pub capacity: Option<i32>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
