//! Case counts of a region for its admins: statuses and kinds, never a case.
use sea_orm::{DatabaseConnection, FromQueryResult};

use crate::cases::status::Status;
use crate::db::{prefix_pattern, stmt};
use crate::error::AppResult;
use crate::services::dto::ServiceKind;

#[derive(FromQueryResult)]
struct CountRow {
    k: String,
    n: i64,
}

/// Case counts of the orgs in a region's subtree (no case content).
pub async fn stats(
    db: &DatabaseConnection,
    region: &crate::entity::regions::Model,
) -> AppResult<crate::cases::dto::CaseStats> {
    let count_by = |col: &str| {
        stmt(
            db.get_database_backend(),
            &format!(
                "SELECT c.{col} AS k, COUNT(*) AS n FROM cases c \
                 JOIN orgs o ON o.id = c.org_id JOIN regions r ON r.id = o.region_id \
                 WHERE r.path LIKE ? ESCAPE '\\' GROUP BY c.{col}"
            ),
            vec![prefix_pattern(&region.path).into()],
        )
    };
    let mut by_status: std::collections::BTreeMap<String, i64> = Status::ALL
        .into_iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut by_kind: std::collections::BTreeMap<String, i64> = ServiceKind::ALL
        .into_iter()
        .map(|k| (k.as_str().to_owned(), 0))
        .collect();
    let mut total = 0;
    for r in CountRow::find_by_statement(count_by("status"))
        .all(db)
        .await?
    {
        total += r.n;
        by_status.insert(r.k, r.n);
    }
    for r in CountRow::find_by_statement(count_by("kind"))
        .all(db)
        .await?
    {
        by_kind.insert(r.k, r.n);
    }
    Ok(crate::cases::dto::CaseStats {
        region_id: region.id,
        total,
        by_status,
        by_kind,
    })
}
