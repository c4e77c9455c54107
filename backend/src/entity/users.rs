//! `users` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub phone: Option<String>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<Date>,
    pub unit_id: Option<i64>,
    pub platform: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
