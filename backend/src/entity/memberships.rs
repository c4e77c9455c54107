//! `memberships` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `memberships`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub user_id: i64,
    /// pending, active, rejected, left or removed.
    pub status: String,
    pub reason: Option<String>,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<i64>,
    pub ended_at: Option<i64>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
