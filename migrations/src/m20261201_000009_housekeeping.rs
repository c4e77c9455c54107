//! Housekeeping: `job_claims`, where one instance claims a periodic job (the
//! retention sweep) for an interval so that the others skip it, and an index on
//! the time column each sweep deletes by, so that a batch finds its rows without
//! scanning the table.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobClaims {
    Table,
    Name,
    ClaimedUntil,
    Instance,
}

/// (index, table, column) of the columns the sweep deletes by.
const SWEPT: [(&str, &str, &str); 6] = [
    (
        "idx_idempotency_keys_created",
        "idempotency_keys",
        "created_at",
    ),
    ("idx_otp_codes_expires", "otp_codes", "expires_at"),
    ("idx_rate_limits_window", "rate_limits", "window_start"),
    ("idx_refresh_tokens_expires", "refresh_tokens", "expires_at"),
    ("idx_refresh_tokens_revoked", "refresh_tokens", "revoked_at"),
    ("idx_checkin_failures_at", "checkin_failures", "at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobClaims::Table)
                    .col(string_len(JobClaims::Name, 64).primary_key())
                    .col(big_integer(JobClaims::ClaimedUntil))
                    .col(string_len(JobClaims::Instance, 64))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in SWEPT {
            index(manager, name, Alias::new(table), [Alias::new(column)]).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in SWEPT {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        drop_tables(manager, [JobClaims::Table.into_iden()]).await
    }
}
