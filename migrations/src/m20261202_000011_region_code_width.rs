//! `regions.code` holds up to 32 characters: parks, buildings and markets usually
//! have no statistical code, and the one the server assigns them is the parent's
//! code, a hyphen and the region's id (`340104002-57`), which can be longer than the
//! 12 digits of a statistical code. SQLite does not enforce a VARCHAR length, so
//! only PostgreSQL has a column to widen.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn set_width(manager: &SchemaManager<'_>, width: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE regions ALTER COLUMN code TYPE VARCHAR({width})"
        ))
        .await
        .map(drop)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_width(manager, 32).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_width(manager, 12).await
    }
}
