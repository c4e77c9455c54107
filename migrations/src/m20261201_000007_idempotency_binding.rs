//! `idempotency_keys.request_hash`: a key is bound to the request it came with
//! (method, path and a hash of the body), so that the same key on another request
//! is refused instead of answered with the first request's body. Rows written
//! before have an empty hash and are bound by method and path only.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("idempotency_keys"))
                    .add_column(
                        ColumnDef::new(Alias::new("request_hash"))
                            .string_len(64)
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("idempotency_keys"))
                    .drop_column(Alias::new("request_hash"))
                    .to_owned(),
            )
            .await
    }
}
