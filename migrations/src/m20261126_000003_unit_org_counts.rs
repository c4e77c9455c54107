//! Live organizations per type, counted on each unit and kept by triggers, so that
//! coverage of a whole province is one scan of `units` rather than a join through
//! `org_units` and `orgs` for every unit. The database keeps the counts whoever
//! writes (the API, the demo, an import script); every change is `count ± 1`, which
//! concurrent transactions apply one after the other without losing any.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TYPES: [&str; 3] = ["union", "league", "women"];

/// `SET` list adding `sign` × (1 when org `o` is live and of the type).
fn org_units_set(org: &str, sign: &str) -> String {
    TYPES
        .iter()
        .map(|t| {
            format!(
                "orgs_{t} = orgs_{t} {sign} (SELECT COUNT(*) FROM orgs o WHERE o.id = {org}.org_id \
                 AND o.dissolved_at IS NULL AND o.\"type\" = '{t}')"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SET` list moving an org's contribution from its OLD to its NEW state.
fn orgs_set() -> String {
    TYPES
        .iter()
        .map(|t| {
            format!(
                "orgs_{t} = orgs_{t} \
                 - (CASE WHEN OLD.dissolved_at IS NULL AND OLD.\"type\" = '{t}' THEN 1 ELSE 0 END) \
                 + (CASE WHEN NEW.dissolved_at IS NULL AND NEW.\"type\" = '{t}' THEN 1 ELSE 0 END)"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for t in TYPES {
            db.execute_unprepared(&format!(
                "ALTER TABLE units ADD COLUMN orgs_{t} INTEGER NOT NULL DEFAULT 0"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "UPDATE units SET orgs_{t} = (SELECT COUNT(*) FROM org_units ou \
                 JOIN orgs o ON o.id = ou.org_id WHERE ou.unit_id = units.id \
                 AND o.dissolved_at IS NULL AND o.\"type\" = '{t}')"
            ))
            .await?;
        }
        let on_insert = format!(
            "UPDATE units SET {} WHERE id = NEW.unit_id;",
            org_units_set("NEW", "+")
        );
        let on_delete = format!(
            "UPDATE units SET {} WHERE id = OLD.unit_id;",
            org_units_set("OLD", "-")
        );
        let on_org = format!(
            "UPDATE units SET {} WHERE id IN (SELECT unit_id FROM org_units WHERE org_id = NEW.id);",
            orgs_set()
        );
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                for (name, body) in [
                    ("qunjia_org_units_ins", &on_insert),
                    ("qunjia_org_units_del", &on_delete),
                    ("qunjia_orgs_live", &on_org),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                         BEGIN {body} RETURN NULL; END $$"
                    ))
                    .await?;
                }
                db.execute_unprepared(
                    "CREATE TRIGGER trg_org_units_ins AFTER INSERT ON org_units \
                     FOR EACH ROW EXECUTE FUNCTION qunjia_org_units_ins()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER trg_org_units_del AFTER DELETE ON org_units \
                     FOR EACH ROW EXECUTE FUNCTION qunjia_org_units_del()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER trg_orgs_live AFTER UPDATE OF \"type\", dissolved_at ON orgs \
                     FOR EACH ROW EXECUTE FUNCTION qunjia_orgs_live()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER trg_org_units_ins AFTER INSERT ON org_units BEGIN {on_insert} END"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER trg_org_units_del AFTER DELETE ON org_units BEGIN {on_delete} END"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER trg_orgs_live AFTER UPDATE OF \"type\", dissolved_at ON orgs \
                     BEGIN {on_org} END"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for trg in [
            "trg_org_units_ins ON org_units",
            "trg_org_units_del ON org_units",
            "trg_orgs_live ON orgs",
        ] {
            let sql = match manager.get_database_backend() {
                DatabaseBackend::Postgres => format!("DROP TRIGGER IF EXISTS {trg}"),
                _ => format!(
                    "DROP TRIGGER IF EXISTS {}",
                    trg.split(' ').next().unwrap_or(trg)
                ),
            };
            db.execute_unprepared(&sql).await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            for f in [
                "qunjia_org_units_ins",
                "qunjia_org_units_del",
                "qunjia_orgs_live",
            ] {
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {f}()"))
                    .await?;
            }
        }
        for t in TYPES {
            db.execute_unprepared(&format!("ALTER TABLE units DROP COLUMN orgs_{t}"))
                .await?;
        }
        Ok(())
    }
}
