//! `audit_log` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `audit_log`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub region_id: Option<i64>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
