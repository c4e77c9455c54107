//! The audit log is append-only in the database itself: triggers refuse every
//! UPDATE and DELETE of `audit_log` (and TRUNCATE on PostgreSQL), whoever runs
//! them, so that no bug, script or hand-typed SQL of the application can rewrite
//! history. Also the indexes of the audit viewer, whose every filter reads
//! newest first (`ORDER BY id DESC`): one per filter column, with the id after it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What the database answers to a change of an entry.
const REFUSAL: &str = "audit_log is append-only";

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorUserId,
    Action,
    Target,
    RegionId,
}

/// The viewer's indexes: (name, filter column).
fn indexes() -> [(&'static str, AuditLog); 4] {
    [
        ("idx_audit_log_region_id", AuditLog::RegionId),
        ("idx_audit_log_actor_id", AuditLog::ActorUserId),
        ("idx_audit_log_action_id", AuditLog::Action),
        ("idx_audit_log_target_id", AuditLog::Target),
    ]
}

/// Statements creating the triggers, per engine.
fn create_sql(backend: DatabaseBackend) -> Vec<String> {
    match backend {
        DatabaseBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION qunjia_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
            ),
            "CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION qunjia_audit_log_append_only()"
                .to_owned(),
            "CREATE TRIGGER trg_audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
             FOR EACH STATEMENT EXECUTE FUNCTION qunjia_audit_log_append_only()"
                .to_owned(),
        ],
        // A table with a DELETE trigger never gets SQLite's truncate shortcut, so
        // `DELETE FROM audit_log` without a WHERE is refused too.
        _ => ["UPDATE", "DELETE"]
            .into_iter()
            .map(|event| {
                format!(
                    "CREATE TRIGGER trg_audit_log_no_{} BEFORE {event} ON audit_log \
                     BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
                    event.to_lowercase()
                )
            })
            .collect(),
    }
}

/// Statements dropping them.
fn drop_sql(backend: DatabaseBackend) -> Vec<String> {
    match backend {
        DatabaseBackend::Postgres => vec![
            "DROP TRIGGER IF EXISTS trg_audit_log_no_truncate ON audit_log".to_owned(),
            "DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log".to_owned(),
            "DROP FUNCTION IF EXISTS qunjia_audit_log_append_only()".to_owned(),
        ],
        _ => vec![
            "DROP TRIGGER IF EXISTS trg_audit_log_no_update".to_owned(),
            "DROP TRIGGER IF EXISTS trg_audit_log_no_delete".to_owned(),
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in indexes() {
            index(manager, name, AuditLog::Table, [col, AuditLog::Id]).await?;
        }
        let db = manager.get_connection();
        for sql in create_sql(manager.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in drop_sql(manager.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        for (name, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(AuditLog::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
