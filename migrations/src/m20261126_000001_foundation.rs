//! Foundation: people, login, roles, regions, units, audit, rate limits, idempotency.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{drop_tables, fk, index, unique_index};

/// Anhui province and its 16 prefecture-level cities (GB/T 2260).
const CITIES: [(&str, &str); 16] = [
    ("340100", "合肥市"),
    ("340200", "芜湖市"),
    ("340300", "蚌埠市"),
    ("340400", "淮南市"),
    ("340500", "马鞍山市"),
    ("340600", "淮北市"),
    ("340700", "铜陵市"),
    ("340800", "安庆市"),
    ("341000", "黄山市"),
    ("341100", "滁州市"),
    ("341200", "阜阳市"),
    ("341300", "宿州市"),
    ("341500", "六安市"),
    ("341600", "亳州市"),
    ("341700", "池州市"),
    ("341800", "宣城市"),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Phone,
    Name,
    Gender,
    BirthDate,
    UnitId,
    Platform,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum OtpCodes {
    Table,
    Id,
    Phone,
    CodeHash,
    CreatedAt,
    ExpiresAt,
    Attempts,
    UsedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    Jti,
    Family,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    UserId,
    Role,
    Scope,
    GrantedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Level,
    ParentId,
    Path,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    Name,
    Uscc,
    Kind,
    RegionId,
    EmployeeCount,
    AboveScale,
    HasPartyOrg,
    Industry,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorUserId,
    Action,
    Target,
    RegionId,
    Ip,
    Detail,
    At,
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    WindowStart,
    Count,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    Key,
    Method,
    Path,
    Status,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regions::Table)
                    .col(big_pk_auto(Regions::Id))
                    .col(string_len_uniq(Regions::Code, 12))
                    .col(string_len(Regions::Name, 100))
                    .col(string_len(Regions::Kind, 16))
                    .col(string_len_null(Regions::Level, 16))
                    .col(big_integer_null(Regions::ParentId))
                    .col(string_len(Regions::Path, 255))
                    .col(big_integer(Regions::CreatedAt))
                    .foreign_key(&mut fk(
                        (Regions::Table, Regions::ParentId),
                        (Regions::Table, Regions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_regions_parent",
            Regions::Table,
            [Regions::ParentId],
        )
        .await?;
        index(manager, "idx_regions_path", Regions::Table, [Regions::Path]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(big_pk_auto(Units::Id))
                    .col(string_len(Units::Name, 200))
                    .col(string_len_uniq(Units::Uscc, 18))
                    .col(string_len(Units::Kind, 16))
                    .col(big_integer(Units::RegionId))
                    .col(integer(Units::EmployeeCount).default(0))
                    .col(boolean(Units::AboveScale).default(false))
                    .col(boolean(Units::HasPartyOrg).default(false))
                    .col(string_len_null(Units::Industry, 100))
                    .col(big_integer(Units::CreatedAt))
                    .col(big_integer(Units::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Units::Table, Units::RegionId),
                        (Regions::Table, Regions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_units_region", Units::Table, [Units::RegionId]).await?;
        index(manager, "idx_units_name", Units::Table, [Units::Name]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    // NULL once the account is anonymised, so the number can sign up again.
                    .col(string_len_null(Users::Phone, 11).unique_key())
                    .col(string_len_null(Users::Name, 50))
                    .col(string_len_null(Users::Gender, 8))
                    .col(date_null(Users::BirthDate))
                    .col(big_integer_null(Users::UnitId))
                    .col(string_len_null(Users::Platform, 50))
                    .col(big_integer(Users::CreatedAt))
                    .col(big_integer(Users::UpdatedAt))
                    .col(big_integer_null(Users::DeletedAt))
                    .foreign_key(&mut fk(
                        (Users::Table, Users::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OtpCodes::Table)
                    .col(big_pk_auto(OtpCodes::Id))
                    .col(string_len(OtpCodes::Phone, 11))
                    .col(string_len(OtpCodes::CodeHash, 64))
                    .col(big_integer(OtpCodes::CreatedAt))
                    .col(big_integer(OtpCodes::ExpiresAt))
                    .col(integer(OtpCodes::Attempts).default(0))
                    .col(big_integer_null(OtpCodes::UsedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_otp_codes_phone",
            OtpCodes::Table,
            [OtpCodes::Phone, OtpCodes::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(big_pk_auto(RefreshTokens::Id))
                    .col(string_len_uniq(RefreshTokens::Jti, 64))
                    .col(string_len(RefreshTokens::Family, 64))
                    .col(big_integer(RefreshTokens::UserId))
                    .col(big_integer(RefreshTokens::CreatedAt))
                    .col(big_integer(RefreshTokens::ExpiresAt))
                    .col(big_integer_null(RefreshTokens::UsedAt))
                    .col(big_integer_null(RefreshTokens::RevokedAt))
                    .foreign_key(&mut fk(
                        (RefreshTokens::Table, RefreshTokens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_refresh_tokens_family",
            RefreshTokens::Table,
            [RefreshTokens::Family],
        )
        .await?;
        index(
            manager,
            "idx_refresh_tokens_user",
            RefreshTokens::Table,
            [RefreshTokens::UserId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(big_pk_auto(Roles::Id))
                    .col(big_integer(Roles::UserId))
                    .col(string_len(Roles::Role, 16))
                    .col(string_len(Roles::Scope, 40))
                    .col(big_integer_null(Roles::GrantedBy))
                    .col(big_integer(Roles::CreatedAt))
                    .foreign_key(&mut fk(
                        (Roles::Table, Roles::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_roles_user_role_scope",
            Roles::Table,
            [Roles::UserId, Roles::Role, Roles::Scope],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer_null(AuditLog::ActorUserId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Target, 128))
                    .col(big_integer_null(AuditLog::RegionId))
                    .col(string_len_null(AuditLog::Ip, 64))
                    .col(text_null(AuditLog::Detail))
                    .col(big_integer(AuditLog::At))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_audit_log_at", AuditLog::Table, [AuditLog::At]).await?;

        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(string_len(RateLimits::Key, 128).primary_key())
                    .col(big_integer(RateLimits::WindowStart))
                    .col(integer(RateLimits::Count))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(big_pk_auto(IdempotencyKeys::Id))
                    .col(big_integer(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Key, 64))
                    .col(string_len(IdempotencyKeys::Method, 8))
                    .col(string_len(IdempotencyKeys::Path, 255))
                    .col(integer(IdempotencyKeys::Status))
                    .col(text(IdempotencyKeys::Body))
                    .col(big_integer(IdempotencyKeys::CreatedAt))
                    .foreign_key(&mut fk(
                        (IdempotencyKeys::Table, IdempotencyKeys::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_idempotency_user_key",
            IdempotencyKeys::Table,
            [IdempotencyKeys::UserId, IdempotencyKeys::Key],
        )
        .await?;

        seed_regions(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                IdempotencyKeys::Table.into_iden(),
                RateLimits::Table.into_iden(),
                AuditLog::Table.into_iden(),
                Roles::Table.into_iden(),
                RefreshTokens::Table.into_iden(),
                OtpCodes::Table.into_iden(),
                Users::Table.into_iden(),
                Units::Table.into_iden(),
                Regions::Table.into_iden(),
            ],
        )
        .await
    }
}

/// Seeds the province and its cities. Plain SQL that both engines read the same
/// way; ids come from the sequence, so paths are filled in after the insert.
async fn seed_regions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(
        "INSERT INTO regions (code, name, kind, path, created_at) VALUES ('340000', '安徽省', 'province', '', 0)",
    )
    .await?;
    db.execute_unprepared(
        "UPDATE regions SET path = '/' || CAST(id AS TEXT) || '/' WHERE code = '340000'",
    )
    .await?;
    for (code, name) in CITIES {
        db.execute_unprepared(&format!(
            "INSERT INTO regions (code, name, kind, parent_id, path, created_at) \
             SELECT '{code}', '{name}', 'city', id, '', 0 FROM regions WHERE code = '340000'"
        ))
        .await?;
    }
    db.execute_unprepared(
        "UPDATE regions SET path = (SELECT p.path FROM regions p WHERE p.id = regions.parent_id) \
         || CAST(id AS TEXT) || '/' WHERE kind = 'city'",
    )
    .await?;
    Ok(())
}
