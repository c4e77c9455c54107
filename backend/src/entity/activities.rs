//! `activities` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One row of `activities`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub centre_id: Option<i64>,
    pub title: String,
    pub description: Option<String>,
    /// lecture, culture, competition, service, volunteer, meeting or other.
    pub kind: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: Option<i32>,
    pub signup_required: bool,
    /// members or public.
    pub audience: String,
    /// scheduled or cancelled.
    pub status: String,
    /// Random per-activity key mixed into check-in token signatures.
    #[serde(skip)]
    pub checkin_key: String,
    /// Active sign-ups (kept by conditional updates).
    pub signed_up: i32,
    /// Standing check-ins (kept by conditional updates).
    pub checked_in: i32,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
