//! `checkins` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `checkins`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "checkins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub user_id: i64,
    /// qr, short_code or manual.
    pub method: String,
    pub checked_in_at: i64,
    pub scanned_at: Option<i64>,
    pub recorded_by: Option<i64>,
    pub reason: Option<String>,
    pub undone_at: Option<i64>,
    pub undone_by: Option<i64>,
    pub undo_reason: Option<String>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
