//! `cases` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An assistance case. `*_enc` columns hold ciphertext (see `crate::crypto`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub org_id: i64,
    /// The service's kind, copied for filtering.
    pub kind: String,
    pub applicant_id: i64,
    /// submitted, accepted, rejected, in_progress, resolved, closed or withdrawn.
    pub status: String,
    pub description_enc: String,
    pub details_enc: Option<String>,
    pub amount_requested_fen: Option<i64>,
    pub amount_granted_fen: Option<i64>,
    /// deep, relative or sudden (深度/相对/意外致困), set by the officer.
    pub hardship_class: Option<String>,
    /// Version of the sensitive-data consent the applicant gave.
    pub consent_version: Option<String>,
    pub consent_at: Option<i64>,
    /// Payment date, YYYY-MM-DD.
    pub paid_on: Option<String>,
    pub paid_method: Option<String>,
    pub paid_amount_fen: Option<i64>,
    pub paid_by: Option<i64>,
    pub paid_recorded_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
