//! Mass organizations, the units they cover, memberships and leaders.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{drop_tables, fk, index, unique_index, unique_index_where};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    Name,
    Type,
    Form,
    RegionId,
    JoinCode,
    JoinPolicy,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DissolvedAt,
}

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    OrgId,
    UnitId,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrgId,
    UserId,
    Status,
    Reason,
    RequestedAt,
    DecidedAt,
    DecidedBy,
    EndedAt,
}

#[derive(DeriveIden)]
enum Leaders {
    Table,
    Id,
    OrgId,
    UserId,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Units {
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
                    .table(Orgs::Table)
                    .col(big_pk_auto(Orgs::Id))
                    .col(string_len(Orgs::Name, 200))
                    .col(string_len(Orgs::Type, 8))
                    .col(string_len(Orgs::Form, 10))
                    .col(big_integer(Orgs::RegionId))
                    .col(string_len_uniq(Orgs::JoinCode, 32))
                    .col(string_len(Orgs::JoinPolicy, 10))
                    .col(big_integer_null(Orgs::CreatedBy))
                    .col(big_integer(Orgs::CreatedAt))
                    .col(big_integer(Orgs::UpdatedAt))
                    .col(big_integer_null(Orgs::DissolvedAt))
                    .foreign_key(&mut fk(
                        (Orgs::Table, Orgs::RegionId),
                        (Regions::Table, Regions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_orgs_region", Orgs::Table, [Orgs::RegionId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(OrgUnits::Table)
                    .col(big_integer(OrgUnits::OrgId))
                    .col(big_integer(OrgUnits::UnitId))
                    .primary_key(Index::create().col(OrgUnits::OrgId).col(OrgUnits::UnitId))
                    .foreign_key(&mut fk(
                        (OrgUnits::Table, OrgUnits::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .foreign_key(&mut fk(
                        (OrgUnits::Table, OrgUnits::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_org_units_unit",
            OrgUnits::Table,
            [OrgUnits::UnitId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(big_pk_auto(Memberships::Id))
                    .col(big_integer(Memberships::OrgId))
                    .col(big_integer(Memberships::UserId))
                    .col(string_len(Memberships::Status, 10))
                    .col(string_len_null(Memberships::Reason, 500))
                    .col(big_integer(Memberships::RequestedAt))
                    .col(big_integer_null(Memberships::DecidedAt))
                    .col(big_integer_null(Memberships::DecidedBy))
                    .col(big_integer_null(Memberships::EndedAt))
                    .foreign_key(&mut fk(
                        (Memberships::Table, Memberships::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Memberships::Table, Memberships::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_memberships_org_status",
            Memberships::Table,
            [Memberships::OrgId, Memberships::Status],
        )
        .await?;
        index(
            manager,
            "idx_memberships_user",
            Memberships::Table,
            [Memberships::UserId],
        )
        .await?;
        // One live (pending or active) membership per person and org, even under a race.
        unique_index_where(
            manager,
            "uq_memberships_live",
            "memberships",
            &["org_id", "user_id"],
            "status IN ('pending', 'active')",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Leaders::Table)
                    .col(big_pk_auto(Leaders::Id))
                    .col(big_integer(Leaders::OrgId))
                    .col(big_integer(Leaders::UserId))
                    .col(string_len(Leaders::Position, 50))
                    .col(big_integer(Leaders::CreatedAt))
                    .foreign_key(&mut fk(
                        (Leaders::Table, Leaders::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Leaders::Table, Leaders::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_leaders_org_user",
            Leaders::Table,
            [Leaders::OrgId, Leaders::UserId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                Leaders::Table.into_iden(),
                Memberships::Table.into_iden(),
                OrgUnits::Table.into_iden(),
                Orgs::Table.into_iden(),
            ],
        )
        .await
    }
}
