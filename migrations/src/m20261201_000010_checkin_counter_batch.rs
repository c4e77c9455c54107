//! PostgreSQL counts check-ins once per statement instead of once per row: the
//! row trigger of migration 5 updated `activities.checked_in` for every inserted
//! check-in, so each check-in took the activity's row lock until its commit and a
//! crowd at one door queued on that row. A statement trigger over the inserted rows
//! (a transition table) adds each activity's share in one UPDATE, so the group-commit
//! writer (`checkin::writer`) that inserts everyone waiting in one statement touches
//! the row once per batch. Undo keeps its row trigger. SQLite keeps its row
//! triggers (one writer at a time there anyway).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 4] = [
    "DROP TRIGGER IF EXISTS trg_checkins_count_ins ON checkins",
    "DROP FUNCTION IF EXISTS qunjia_checkins_ins()",
    "CREATE FUNCTION qunjia_checkins_ins_batch() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN UPDATE activities a SET checked_in = a.checked_in + c.n \
     FROM (SELECT activity_id, count(*)::int AS n FROM inserted_checkins \
     WHERE undone_at IS NULL GROUP BY activity_id) c WHERE a.id = c.activity_id; \
     RETURN NULL; END $$",
    "CREATE TRIGGER trg_checkins_count_ins_batch AFTER INSERT ON checkins \
     REFERENCING NEW TABLE AS inserted_checkins FOR EACH STATEMENT \
     EXECUTE FUNCTION qunjia_checkins_ins_batch()",
];

const DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS trg_checkins_count_ins_batch ON checkins",
    "DROP FUNCTION IF EXISTS qunjia_checkins_ins_batch()",
    "CREATE FUNCTION qunjia_checkins_ins() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN UPDATE activities SET checked_in = checked_in + 1 WHERE id = NEW.activity_id; \
     RETURN NULL; END $$",
    "CREATE TRIGGER trg_checkins_count_ins AFTER INSERT ON checkins \
     FOR EACH ROW WHEN (NEW.undone_at IS NULL) EXECUTE FUNCTION qunjia_checkins_ins()",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &DOWN).await
    }
}
