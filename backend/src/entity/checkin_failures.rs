//! `checkin_failures` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `checkin_failures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "checkin_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: Option<i64>,
    pub user_id: i64,
    /// The API error code the attempt got.
    pub reason: String,
    pub method: String,
    pub at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
