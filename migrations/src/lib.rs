//! Schema migrations for qunjia. Every migration runs on SQLite and PostgreSQL:
//! one statement per change, foreign keys declared in `create_table`, times as
//! epoch milliseconds (`BIGINT`) so that comparisons are plain integer maths on both.
pub use sea_orm_migration::prelude::*;

mod m20261126_000001_foundation;
mod m20261126_000002_orgs;
mod m20261126_000003_unit_org_counts;
mod m20261126_000004_activities;
mod m20261126_000005_checkin_counts;
mod m20261126_000006_cases;

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
        ]
    }
}
