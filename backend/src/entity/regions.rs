//! `regions` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `regions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "regions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub kind: String,
    pub level: Option<String>,
    pub parent_id: Option<i64>,
    /// Materialised path of ids, `/1/5/40/`: a subtree is a prefix match.
    pub path: String,
    pub created_at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
