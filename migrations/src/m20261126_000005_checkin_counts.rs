//! `activities.checked_in` kept by triggers on `checkins`, so that a check-in is
//! a single INSERT: atomic with its count without an explicit transaction, and
//! one round trip on the single SQLite connection that every request shares.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ON_INSERT: &str =
    "UPDATE activities SET checked_in = checked_in + 1 WHERE id = NEW.activity_id;";
const ON_UNDO: &str = "UPDATE activities SET checked_in = checked_in \
    + (CASE WHEN NEW.undone_at IS NULL THEN 1 ELSE -1 END) WHERE id = NEW.activity_id;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                for (name, body) in [
                    ("qunjia_checkins_ins", ON_INSERT),
                    ("qunjia_checkins_undo", ON_UNDO),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                         BEGIN {body} RETURN NULL; END $$"
                    ))
                    .await?;
                }
                db.execute_unprepared(
                    "CREATE TRIGGER trg_checkins_count_ins AFTER INSERT ON checkins FOR EACH ROW \
                     WHEN (NEW.undone_at IS NULL) EXECUTE FUNCTION qunjia_checkins_ins()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER trg_checkins_count_undo AFTER UPDATE OF undone_at ON checkins \
                     FOR EACH ROW WHEN ((OLD.undone_at IS NULL) IS DISTINCT FROM (NEW.undone_at IS NULL)) \
                     EXECUTE FUNCTION qunjia_checkins_undo()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER trg_checkins_count_ins AFTER INSERT ON checkins \
                     WHEN NEW.undone_at IS NULL BEGIN {ON_INSERT} END"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER trg_checkins_count_undo AFTER UPDATE OF undone_at ON checkins \
                     WHEN (OLD.undone_at IS NULL) <> (NEW.undone_at IS NULL) BEGIN {ON_UNDO} END"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let pg = manager.get_database_backend() == DatabaseBackend::Postgres;
        for trg in ["trg_checkins_count_ins", "trg_checkins_count_undo"] {
            let on = if pg { " ON checkins" } else { "" };
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trg}{on}"))
                .await?;
        }
        if pg {
            for f in ["qunjia_checkins_ins", "qunjia_checkins_undo"] {
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {f}()"))
                    .await?;
            }
        }
        Ok(())
    }
}
