//! Services, assistance cases (with their history, messages and attachments),
//! holiday visit campaigns and the notification inbox.
//!
//! The free text of a case (description, details, notes, messages, attachment
//! names and bytes) is stored encrypted by the server; the columns hold ciphertext.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{drop_tables, fk, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    OrgId,
    Kind,
    Title,
    Description,
    MembersOnly,
    Active,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    ServiceId,
    OrgId,
    Kind,
    ApplicantId,
    Status,
    DescriptionEnc,
    DetailsEnc,
    AmountRequestedFen,
    AmountGrantedFen,
    HardshipClass,
    ConsentVersion,
    ConsentAt,
    PaidOn,
    PaidMethod,
    PaidAmountFen,
    PaidBy,
    PaidRecordedAt,
    CreatedAt,
    UpdatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    FromStatus,
    ToStatus,
    ActorId,
    NoteEnc,
    At,
}

#[derive(DeriveIden)]
enum CaseMessages {
    Table,
    Id,
    CaseId,
    AuthorId,
    BodyEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseAttachments {
    Table,
    Id,
    CaseId,
    UploadedBy,
    StorageName,
    ContentType,
    Size,
    NameEnc,
    Sha256,
    DataEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    OrgId,
    Title,
    Occasion,
    Status,
    Households,
    CreatedBy,
    CreatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum CampaignVisits {
    Table,
    Id,
    CampaignId,
    UserId,
    CaseId,
    HardshipClass,
    Status,
    VisitedOn,
    Form,
    AmountFen,
    Goods,
    Note,
    DoneBy,
    DoneAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    Link,
    CreatedAt,
    ReadAt,
    SmsStatus,
    SmsAttempts,
    SmsNextAt,
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
                    .table(Services::Table)
                    .col(big_pk_auto(Services::Id))
                    .col(big_integer(Services::OrgId))
                    // legal_aid, counseling, employment, matchmaking, hardship, rights.
                    .col(string_len(Services::Kind, 16))
                    .col(string_len(Services::Title, 200))
                    .col(text_null(Services::Description))
                    .col(boolean(Services::MembersOnly).default(false))
                    .col(boolean(Services::Active).default(true))
                    .col(big_integer_null(Services::CreatedBy))
                    .col(big_integer(Services::CreatedAt))
                    .col(big_integer(Services::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Services::Table, Services::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_services_org",
            Services::Table,
            [Services::OrgId, Services::Kind],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(big_pk_auto(Cases::Id))
                    .col(big_integer(Cases::ServiceId))
                    .col(big_integer(Cases::OrgId))
                    .col(string_len(Cases::Kind, 16))
                    .col(big_integer(Cases::ApplicantId))
                    // submitted, accepted, rejected, in_progress, resolved, closed, withdrawn.
                    .col(string_len(Cases::Status, 16))
                    .col(text(Cases::DescriptionEnc))
                    .col(text_null(Cases::DetailsEnc))
                    .col(big_integer_null(Cases::AmountRequestedFen))
                    .col(big_integer_null(Cases::AmountGrantedFen))
                    // deep, relative, sudden — set by the officer.
                    .col(string_len_null(Cases::HardshipClass, 16))
                    .col(string_len_null(Cases::ConsentVersion, 64))
                    .col(big_integer_null(Cases::ConsentAt))
                    // The payment record of a resolved hardship case.
                    .col(string_len_null(Cases::PaidOn, 10))
                    .col(string_len_null(Cases::PaidMethod, 16))
                    .col(big_integer_null(Cases::PaidAmountFen))
                    .col(big_integer_null(Cases::PaidBy))
                    .col(big_integer_null(Cases::PaidRecordedAt))
                    .col(big_integer(Cases::CreatedAt))
                    .col(big_integer(Cases::UpdatedAt))
                    .col(big_integer_null(Cases::ResolvedAt))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::ServiceId),
                        (Services::Table, Services::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::ApplicantId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // The officer's queue (by org, optionally by status, newest first by id),
        // the applicant's own list, and the 12-month relief look-up.
        index(
            manager,
            "idx_cases_org_status",
            Cases::Table,
            [Cases::OrgId, Cases::Status, Cases::Id],
        )
        .await?;
        index(
            manager,
            "idx_cases_org",
            Cases::Table,
            [Cases::OrgId, Cases::Id],
        )
        .await?;
        index(
            manager,
            "idx_cases_applicant",
            Cases::Table,
            [Cases::ApplicantId, Cases::Kind, Cases::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseEvents::Table)
                    .col(big_pk_auto(CaseEvents::Id))
                    .col(big_integer(CaseEvents::CaseId))
                    .col(string_len_null(CaseEvents::FromStatus, 16))
                    .col(string_len(CaseEvents::ToStatus, 16))
                    .col(big_integer_null(CaseEvents::ActorId))
                    .col(text_null(CaseEvents::NoteEnc))
                    .col(big_integer(CaseEvents::At))
                    .foreign_key(&mut fk(
                        (CaseEvents::Table, CaseEvents::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_events_case",
            CaseEvents::Table,
            [CaseEvents::CaseId, CaseEvents::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseMessages::Table)
                    .col(big_pk_auto(CaseMessages::Id))
                    .col(big_integer(CaseMessages::CaseId))
                    .col(big_integer(CaseMessages::AuthorId))
                    .col(text(CaseMessages::BodyEnc))
                    .col(big_integer(CaseMessages::CreatedAt))
                    .foreign_key(&mut fk(
                        (CaseMessages::Table, CaseMessages::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CaseMessages::Table, CaseMessages::AuthorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_messages_case",
            CaseMessages::Table,
            [CaseMessages::CaseId, CaseMessages::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseAttachments::Table)
                    .col(big_pk_auto(CaseAttachments::Id))
                    .col(big_integer(CaseAttachments::CaseId))
                    .col(big_integer(CaseAttachments::UploadedBy))
                    // A random server name; the client's file name is never used to store.
                    .col(string_len_uniq(CaseAttachments::StorageName, 64))
                    .col(string_len(CaseAttachments::ContentType, 32))
                    .col(big_integer(CaseAttachments::Size))
                    .col(text_null(CaseAttachments::NameEnc))
                    .col(string_len(CaseAttachments::Sha256, 64))
                    // In the database, so every instance behind the balancer serves it.
                    .col(blob(CaseAttachments::DataEnc))
                    .col(big_integer(CaseAttachments::CreatedAt))
                    .foreign_key(&mut fk(
                        (CaseAttachments::Table, CaseAttachments::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_attachments_case",
            CaseAttachments::Table,
            [CaseAttachments::CaseId, CaseAttachments::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(big_pk_auto(Campaigns::Id))
                    .col(big_integer(Campaigns::OrgId))
                    .col(string_len(Campaigns::Title, 200))
                    // spring_festival, mid_autumn, dragon_boat, other.
                    .col(string_len(Campaigns::Occasion, 32))
                    // open or closed.
                    .col(string_len(Campaigns::Status, 16))
                    .col(integer(Campaigns::Households))
                    .col(big_integer_null(Campaigns::CreatedBy))
                    .col(big_integer(Campaigns::CreatedAt))
                    .col(big_integer_null(Campaigns::ClosedAt))
                    .foreign_key(&mut fk(
                        (Campaigns::Table, Campaigns::OrgId),
                        (Orgs::Table, Orgs::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_campaigns_org",
            Campaigns::Table,
            [Campaigns::OrgId, Campaigns::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignVisits::Table)
                    .col(big_pk_auto(CampaignVisits::Id))
                    .col(big_integer(CampaignVisits::CampaignId))
                    .col(big_integer(CampaignVisits::UserId))
                    .col(big_integer_null(CampaignVisits::CaseId))
                    .col(string_len(CampaignVisits::HardshipClass, 16))
                    // pending or done.
                    .col(string_len(CampaignVisits::Status, 16))
                    .col(string_len_null(CampaignVisits::VisitedOn, 10))
                    // money, goods or both.
                    .col(string_len_null(CampaignVisits::Form, 16))
                    .col(big_integer_null(CampaignVisits::AmountFen))
                    .col(string_len_null(CampaignVisits::Goods, 200))
                    .col(text_null(CampaignVisits::Note))
                    .col(big_integer_null(CampaignVisits::DoneBy))
                    .col(big_integer_null(CampaignVisits::DoneAt))
                    .foreign_key(&mut fk(
                        (CampaignVisits::Table, CampaignVisits::CampaignId),
                        (Campaigns::Table, Campaigns::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CampaignVisits::Table, CampaignVisits::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // One visit per household per campaign.
        unique_index(
            manager,
            "uq_campaign_visits_household",
            CampaignVisits::Table,
            [CampaignVisits::CampaignId, CampaignVisits::UserId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(big_integer(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(string_len(Notifications::Title, 200))
                    .col(text(Notifications::Body))
                    .col(string_len_null(Notifications::Link, 300))
                    .col(big_integer(Notifications::CreatedAt))
                    .col(big_integer_null(Notifications::ReadAt))
                    // none, pending, sent or failed: the SMS outbox rides on the row,
                    // so a crash after the commit still sends it.
                    .col(string_len(Notifications::SmsStatus, 16).default("none"))
                    .col(integer(Notifications::SmsAttempts).default(0))
                    .col(big_integer_null(Notifications::SmsNextAt))
                    .foreign_key(&mut fk(
                        (Notifications::Table, Notifications::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_notifications_user",
            Notifications::Table,
            [Notifications::UserId, Notifications::Id],
        )
        .await?;
        index(
            manager,
            "idx_notifications_sms",
            Notifications::Table,
            [Notifications::SmsStatus, Notifications::SmsNextAt],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                Notifications::Table.into_iden(),
                CampaignVisits::Table.into_iden(),
                Campaigns::Table.into_iden(),
                CaseAttachments::Table.into_iden(),
                CaseMessages::Table.into_iden(),
                CaseEvents::Table.into_iden(),
                Cases::Table.into_iden(),
                Services::Table.into_iden(),
            ],
        )
        .await
    }
}
