//! Schema migrations for qunjia. Every migration runs on SQLite and PostgreSQL:
//! one statement per change, foreign keys declared in `create_table`, times as
//! epoch milliseconds (`BIGINT`) so that comparisons are plain integer maths on both.
pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

mod m20261126_000001_foundation;
mod m20261126_000002_orgs;
mod m20261126_000003_unit_org_counts;
mod m20261126_000004_activities;
mod m20261126_000005_checkin_counts;
mod m20261126_000006_cases;
mod m20261201_000007_idempotency_binding;
mod m20261201_000008_audit_append_only;
mod m20261201_000009_housekeeping;
mod m20261201_000010_checkin_counter_batch;
mod m20261202_000011_region_code_width;

/// A foreign key from `(table, column)` to `(table, column)`, declared in `create_table`
/// so that SQLite gets it too.
pub(crate) fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

/// Drops the tables, in the order given (dependents first).
pub(crate) async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: impl IntoIterator<Item = DynIden>,
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// Creates the index `name` on `table (cols)`.
pub(crate) async fn index<C: IntoIndexColumn>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoTableRef,
    cols: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    manager.create_index(index_on(name, table, cols)).await
}

/// Creates the unique index `name` on `table (cols)`.
pub(crate) async fn unique_index<C: IntoIndexColumn>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoTableRef,
    cols: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    manager
        .create_index(index_on(name, table, cols).unique().to_owned())
        .await
}

/// The statement behind `index` and `unique_index`.
fn index_on<C: IntoIndexColumn>(
    name: &str,
    table: impl IntoTableRef,
    cols: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    idx
}

/// Creates the unique index `name` on `table (cols)` over only the rows where `cond`
/// holds. Plain SQL: sea-query builds no partial index, and both engines read this alike.
pub(crate) async fn unique_index_where(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &str,
    cols: &[&str],
    cond: &str,
) -> Result<(), DbErr> {
    let cols = cols.join(", ");
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {name} ON {table} ({cols}) WHERE {cond}"
        ))
        .await
        .map(drop)
}

/// A row trigger that runs `body` after `event` on `table`, so that the database
/// keeps a derived value whoever writes. PostgreSQL runs the body in a plpgsql
/// function of its own; SQLite inline.
pub(crate) struct Trigger {
    /// The trigger (`trg_…`).
    pub name: &'static str,
    /// PostgreSQL's trigger function (`qunjia_…`).
    pub function: &'static str,
    /// `INSERT`, `DELETE` or `UPDATE OF …`.
    pub event: &'static str,
    /// The table it watches.
    pub table: &'static str,
    /// Only for rows where this holds, spelled for (SQLite, PostgreSQL).
    pub when: Option<(&'static str, &'static str)>,
    /// Statements, each ending in `;`.
    pub body: String,
}

/// Creates the triggers (and on PostgreSQL their functions).
pub(crate) async fn create_triggers(
    manager: &SchemaManager<'_>,
    triggers: impl IntoIterator<Item = Trigger>,
) -> Result<(), DbErr> {
    for trigger in triggers {
        trigger.create(manager).await?;
    }
    Ok(())
}

/// Drops the triggers (and on PostgreSQL their functions) that exist.
pub(crate) async fn drop_triggers(
    manager: &SchemaManager<'_>,
    triggers: impl IntoIterator<Item = Trigger>,
) -> Result<(), DbErr> {
    for trigger in triggers {
        trigger.drop(manager).await?;
    }
    Ok(())
}

impl Trigger {
    async fn create(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let Trigger {
            name,
            function,
            event,
            table,
            when,
            body,
        } = self;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN {body} RETURN NULL; END $$"
                ))
                .await?;
                let when = when
                    .map(|(_, pg)| format!(" WHEN ({pg})"))
                    .unwrap_or_default();
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} \
                     FOR EACH ROW{when} EXECUTE FUNCTION {function}()"
                ))
                .await?;
            }
            _ => {
                let when = when
                    .map(|(sqlite, _)| format!(" WHEN {sqlite}"))
                    .unwrap_or_default();
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table}{when} BEGIN {body} END"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn drop(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let Trigger {
            name,
            function,
            table,
            ..
        } = self;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name} ON {table}"))
                    .await?;
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {function}()"))
                    .await?;
            }
            _ => {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                    .await?;
            }
        }
        Ok(())
    }
}

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_orgs::Migration),
            Box::new(m20261126_000003_unit_org_counts::Migration),
            Box::new(m20261126_000004_activities::Migration),
            Box::new(m20261126_000005_checkin_counts::Migration),
            Box::new(m20261126_000006_cases::Migration),
            Box::new(m20261201_000007_idempotency_binding::Migration),
            Box::new(m20261201_000008_audit_append_only::Migration),
            Box::new(m20261201_000009_housekeeping::Migration),
            Box::new(m20261201_000010_checkin_counter_batch::Migration),
            Box::new(m20261202_000011_region_code_width::Migration),
        ]
    }
}
