//! `services` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A service an organization offers (法律援助, 心理疏导 …).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    /// legal_aid, counseling, employment, matchmaking, hardship or rights.
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub members_only: bool,
    /// Inactive services take no new cases.
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
