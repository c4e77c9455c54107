//! `campaign_visits` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One household's visit within a campaign.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "campaign_visits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub user_id: i64,
    pub case_id: Option<i64>,
    pub hardship_class: String,
    /// pending or done.
    pub status: String,
    pub visited_on: Option<String>,
    /// money, goods or both.
    pub form: Option<String>,
    pub amount_fen: Option<i64>,
    pub goods: Option<String>,
    pub note: Option<String>,
    pub done_by: Option<i64>,
    pub done_at: Option<i64>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
