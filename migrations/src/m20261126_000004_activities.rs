//! Shared party-mass centres, activities, sign-ups and QR check-ins.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{drop_tables, fk, index, unique_index_where};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Centres {
    Table,
    Id,
    Name,
    RegionId,
    Address,
    Homes,
    Capacity,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    OrgId,
    CentreId,
    Title,
    Description,
    Kind,
    StartsAt,
    EndsAt,
    Capacity,
    SignupRequired,
    Audience,
    Status,
    CheckinKey,
    SignedUp,
    CheckedIn,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Signups {
    Table,
    Id,
    ActivityId,
    UserId,
    Status,
    CreatedAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum Checkins {
    Table,
    Id,
    ActivityId,
    UserId,
    Method,
    CheckedInAt,
    ScannedAt,
    RecordedBy,
    Reason,
    UndoneAt,
    UndoneBy,
    UndoReason,
}

#[derive(DeriveIden)]
enum CheckinFailures {
    Table,
    Id,
    ActivityId,
    UserId,
    Reason,
    Method,
    At,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Centres::Table)
                    .col(big_pk_auto(Centres::Id))
                    .col(string_len(Centres::Name, 200))
                    .col(big_integer(Centres::RegionId))
                    .col(string_len(Centres::Address, 300))
                    // Comma-separated subset of party,workers,youth,women.
                    .col(string_len(Centres::Homes, 64))
                    .col(integer_null(Centres::Capacity))
                    .col(big_integer_null(Centres::CreatedBy))
                    .col(big_integer(Centres::CreatedAt))
                    .col(big_integer(Centres::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Centres::Table, Centres::RegionId),
                        (Regions::Table, Regions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_centres_region",
            Centres::Table,
            [Centres::RegionId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(big_pk_auto(Activities::Id))
                    .col(big_integer(Activities::OrgId))
                    .col(big_integer_null(Activities::CentreId))
                    .col(string_len(Activities::Title, 200))
                    .col(text_null(Activities::Description))
                    .col(string_len(Activities::Kind, 16))
                    .col(big_integer(Activities::StartsAt))
                    .col(big_integer(Activities::EndsAt))
                    .col(integer_null(Activities::Capacity))
                    .col(boolean(Activities::SignupRequired).default(false))
                    .col(string_len(Activities::Audience, 10))
                    // scheduled or cancelled.
                    .col(string_len(Activities::Status, 10))
                    // Random per-activity key mixed into check-in token signatures.
                    .col(string_len(Activities::CheckinKey, 64))
                    // Kept in step with sign-ups and check-ins by conditional updates,
                    // so capacity holds under concurrency.
                    .col(integer(Activities::SignedUp).default(0))
                    .col(integer(Activities::CheckedIn).default(0))
                    .col(big_integer_null(Activities::CreatedBy))
                    .col(big_integer(Activities::CreatedAt))
                    .col(big_integer(Activities::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Activities::Table, Activities::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Activities::Table, Activities::CentreId),
                        (Centres::Table, Centres::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_activities_org_start",
            Activities::Table,
            [Activities::OrgId, Activities::StartsAt],
        )
        .await?;
        index(
            manager,
            "idx_activities_centre_start",
            Activities::Table,
            [Activities::CentreId, Activities::StartsAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Signups::Table)
                    .col(big_pk_auto(Signups::Id))
                    .col(big_integer(Signups::ActivityId))
                    .col(big_integer(Signups::UserId))
                    // active or cancelled.
                    .col(string_len(Signups::Status, 10))
                    .col(big_integer(Signups::CreatedAt))
                    .col(big_integer_null(Signups::CancelledAt))
                    .foreign_key(&mut fk(
                        (Signups::Table, Signups::ActivityId),
                        (Activities::Table, Activities::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Signups::Table, Signups::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_signups_user",
            Signups::Table,
            [Signups::UserId],
        )
        .await?;
        unique_index_where(
            manager,
            "uq_signups_live",
            "signups",
            &["activity_id", "user_id"],
            "status = 'active'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Checkins::Table)
                    .col(big_pk_auto(Checkins::Id))
                    .col(big_integer(Checkins::ActivityId))
                    .col(big_integer(Checkins::UserId))
                    // qr, short_code or manual.
                    .col(string_len(Checkins::Method, 12))
                    .col(big_integer(Checkins::CheckedInAt))
                    .col(big_integer_null(Checkins::ScannedAt))
                    // The officer who checked someone in by hand.
                    .col(big_integer_null(Checkins::RecordedBy))
                    .col(string_len_null(Checkins::Reason, 500))
                    .col(big_integer_null(Checkins::UndoneAt))
                    .col(big_integer_null(Checkins::UndoneBy))
                    .col(string_len_null(Checkins::UndoReason, 500))
                    .foreign_key(&mut fk(
                        (Checkins::Table, Checkins::ActivityId),
                        (Activities::Table, Activities::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Checkins::Table, Checkins::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_checkins_user",
            Checkins::Table,
            [Checkins::UserId],
        )
        .await?;
        // One standing check-in per person and activity; undone ones stay as history.
        unique_index_where(
            manager,
            "uq_checkins_live",
            "checkins",
            &["activity_id", "user_id"],
            "undone_at IS NULL",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CheckinFailures::Table)
                    .col(big_pk_auto(CheckinFailures::Id))
                    .col(big_integer_null(CheckinFailures::ActivityId))
                    .col(big_integer(CheckinFailures::UserId))
                    .col(string_len(CheckinFailures::Reason, 32))
                    .col(string_len(CheckinFailures::Method, 12))
                    .col(big_integer(CheckinFailures::At))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_checkin_failures_activity",
            CheckinFailures::Table,
            [CheckinFailures::ActivityId, CheckinFailures::At],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                CheckinFailures::Table.into_iden(),
                Checkins::Table.into_iden(),
                Signups::Table.into_iden(),
                Activities::Table.into_iden(),
                Centres::Table.into_iden(),
            ],
        )
        .await
    }
}
