//! Live organizations per type, counted on each unit and kept by triggers, so that
//! coverage of a whole province is one scan of `units` rather than a join through
//! `org_units` and `orgs` for every unit. The database keeps the counts whoever
//! writes (the API, the demo, an import script); every change is `count ± 1`, which
//! concurrent transactions apply one after the other without losing any.
use sea_orm_migration::prelude::*;

use crate::{Trigger, create_triggers, drop_triggers};

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

/// The three triggers that keep the counts.
fn triggers() -> [Trigger; 3] {
    [
        Trigger {
            name: "trg_org_units_ins",
            function: "qunjia_org_units_ins",
            event: "INSERT",
            table: "org_units",
            when: None,
            body: format!(
                "UPDATE units SET {} WHERE id = NEW.unit_id;",
                org_units_set("NEW", "+")
            ),
        },
        Trigger {
            name: "trg_org_units_del",
            function: "qunjia_org_units_del",
            event: "DELETE",
            table: "org_units",
            when: None,
            body: format!(
                "UPDATE units SET {} WHERE id = OLD.unit_id;",
                org_units_set("OLD", "-")
            ),
        },
        Trigger {
            name: "trg_orgs_live",
            function: "qunjia_orgs_live",
            event: "UPDATE OF \"type\", dissolved_at",
            table: "orgs",
            when: None,
            body: format!(
                "UPDATE units SET {} WHERE id IN (SELECT unit_id FROM org_units WHERE org_id = NEW.id);",
                orgs_set()
            ),
        },
    ]
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
        create_triggers(manager, triggers()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_triggers(manager, triggers()).await?;
        let db = manager.get_connection();
        for t in TYPES {
            db.execute_unprepared(&format!("ALTER TABLE units DROP COLUMN orgs_{t}"))
                .await?;
        }
        Ok(())
    }
}
