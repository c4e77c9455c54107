//! `campaigns` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A holiday visit campaign (节日慰问) of one organization.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub title: String,
    /// spring_festival, mid_autumn, dragon_boat or other.
    pub occasion: String,
    /// open or closed.
    pub status: String,
    pub households: i32,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
