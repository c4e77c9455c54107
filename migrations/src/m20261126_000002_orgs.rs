//! Mass organizations, the units they cover, memberships and leaders.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::fk;

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
        manager
            .create_index(
                Index::create()
                    .name("idx_orgs_region")
                    .table(Orgs::Table)
                    .col(Orgs::RegionId)
                    .to_owned(),
            )
            .await?;

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
        manager
            .create_index(
                Index::create()
                    .name("idx_org_units_unit")
                    .table(OrgUnits::Table)
                    .col(OrgUnits::UnitId)
                    .to_owned(),
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
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_org_status")
                    .table(Memberships::Table)
                    .col(Memberships::OrgId)
                    .col(Memberships::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;
        // One live (pending or active) membership per person and org, even under a race.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_memberships_live ON memberships (org_id, user_id) \
                 WHERE status IN ('pending', 'active')",
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
        manager
            .create_index(
                Index::create()
                    .name("uq_leaders_org_user")
                    .table(Leaders::Table)
                    .col(Leaders::OrgId)
                    .col(Leaders::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Leaders::Table.into_iden(),
            Memberships::Table.into_iden(),
            OrgUnits::Table.into_iden(),
            Orgs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
