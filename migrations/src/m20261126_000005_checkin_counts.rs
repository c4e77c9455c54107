//! `activities.checked_in` kept by triggers on `checkins`, so that a check-in is
//! a single INSERT: atomic with its count without an explicit transaction, and
//! one round trip on the single SQLite connection that every request shares.
use sea_orm_migration::prelude::*;

use crate::{Trigger, create_triggers, drop_triggers};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The two triggers that keep the count.
fn triggers() -> [Trigger; 2] {
    [
        Trigger {
            name: "trg_checkins_count_ins",
            function: "qunjia_checkins_ins",
            event: "INSERT",
            table: "checkins",
            when: Some(("NEW.undone_at IS NULL", "NEW.undone_at IS NULL")),
            body: "UPDATE activities SET checked_in = checked_in + 1 WHERE id = NEW.activity_id;"
                .into(),
        },
        Trigger {
            name: "trg_checkins_count_undo",
            function: "qunjia_checkins_undo",
            event: "UPDATE OF undone_at",
            table: "checkins",
            when: Some((
                "(OLD.undone_at IS NULL) <> (NEW.undone_at IS NULL)",
                "(OLD.undone_at IS NULL) IS DISTINCT FROM (NEW.undone_at IS NULL)",
            )),
            body: "UPDATE activities SET checked_in = checked_in \
                   + (CASE WHEN NEW.undone_at IS NULL THEN 1 ELSE -1 END) WHERE id = NEW.activity_id;"
                .into(),
        },
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_triggers(manager, triggers()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_triggers(manager, triggers()).await
    }
}
