//! `case_attachments` table.
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A file attached to a case, stored encrypted in the database under a server name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "case_attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub uploaded_by: i64,
    pub storage_name: String,
    /// image/jpeg, image/png or application/pdf, judged by content.
    pub content_type: String,
    /// Size of the stored (cleaned) file in bytes.
    pub size: i64,
    pub name_enc: Option<String>,
    pub sha256: String,
    #[serde(skip)]
    pub data_enc: Vec<u8>,
    pub created_at: i64,
}

/// No relations are navigated through the ORM; joins are written where needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
