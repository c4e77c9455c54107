//! `GET /audit` and `GET /audit.csv`: the audit log of the regions a region
//! admin administers, newest first, with the same filters.
use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
use sea_orm::DatabaseConnection;

use crate::audit::dto::{AuditEntry, AuditFilterQuery, AuditListQuery};
use crate::audit::service::{self, Checked, Filter, Names};
use crate::auth::AuthUser;
use crate::entity::audit_log;
use crate::error::{AppResult, ErrorBody};
use crate::export::{self, csv_stream};
use crate::extract::Query;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

/// Registers the audit routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(list_audit).service(audit_csv);
}

/// Checks the query, then asks who may read how much (400 before 403).
async fn filter_for(
    db: &DatabaseConnection,
    me: &AuthUser,
    q: &AuditFilterQuery,
) -> AppResult<Filter> {
    let checked = Checked::parse(q)?;
    let reach = service::reach(db, &me.roles, q.region_id).await?;
    Ok(checked.within(reach))
}

/// The audit log of the caller's regions, newest first.
///
/// Every write by an admin role and every read of another person's case or full
/// phone number. Region admins only (403 for anyone else); they see the entries
/// whose region lies in the subtree of a region they administer, and entries of
/// no region (`region_id` null, such as a role granted with `qunjia grant`) only
/// when they administer a top-level (root) region. Filters narrow it; `from` and
/// `to` take an RFC 3339 instant or a date `YYYY-MM-DD` (Asia/Shanghai). Entries
/// are never changed or deleted.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditListQuery),
    responses(
        (status = 200, body = Page<AuditEntry>),
        (status = 400, description = "Bad limit, cursor, actor_id, region_id, action, target, from or to", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a region admin, or region_id outside the caller's regions", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/audit")]
async fn list_audit(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<AuditListQuery>,
) -> AppResult<web::Json<Page<AuditEntry>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let filter = filter_for(&state.db, &me, &q.filter()).await?;
    let rows = service::entries(&state.db, &filter, &page).await?;
    let names = Names::of(&state.db, &rows).await?;
    Ok(web::Json(page.finish(
        rows,
        |r| r.id,
        |r| service::entry(r, &names),
    )))
}

/// Entries per batch of the CSV.
const BATCH: u64 = 1000;

const HEADER: &[&str] = &["时间", "操作人", "操作", "对象", "地区", "IP", "详情"];

/// `2026-12-01 16:30:05`, in Asia/Shanghai.
fn shanghai_time(ms: i64) -> String {
    (chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default() + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// One CSV line (the export guard runs on every cell as it is written).
fn line(r: audit_log::Model, names: &Names) -> Vec<String> {
    let actor = match (r.actor_user_id, names.actor(r.actor_user_id)) {
        (Some(id), Some(name)) => format!("{name}（#{id}）"),
        (Some(id), None) => format!("#{id}"),
        (None, _) => "命令行".to_owned(),
    };
    let region = match (r.region_id, names.region(r.region_id)) {
        (Some(_), Some(name)) => name,
        (Some(id), None) => format!("#{id}"),
        (None, _) => String::new(),
    };
    vec![
        shanghai_time(r.at),
        actor,
        r.action,
        r.target,
        region,
        r.ip.unwrap_or_default(),
        r.detail.unwrap_or_default(),
    ]
}

/// The audit log as CSV: every entry `GET /audit` would list, newest first.
///
/// Same filters and same access as `GET /audit` (entries of no region only for
/// admins of a top-level region), all matching rows, no limit; UTF-8 with BOM,
/// streamed in batches of 1,000. Times are in Asia/Shanghai; every cell goes
/// through the spreadsheet formula guard.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditFilterQuery),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 with BOM; columns 时间, 操作人, 操作, 对象, 地区, IP, 详情"),
        (status = 400, description = "Bad actor_id, region_id, action, target, from or to", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a region admin, or region_id outside the caller's regions", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/audit.csv")]
async fn audit_csv(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<AuditFilterQuery>,
) -> AppResult<HttpResponse> {
    let filter = Arc::new(filter_for(&state.db, &me, &q).await?);
    let name = match q.region_id {
        Some(id) => format!("audit-{id}.csv"),
        None => "audit.csv".to_owned(),
    };
    let first = PageQuery {
        limit: BATCH,
        after: None,
    };
    let source = (state.db.clone(), filter, Some(first));
    let body = csv_stream(HEADER, source, |(db, filter, page)| async move {
        let Some(page) = page else {
            return Ok(None);
        };
        let rows = service::entries(&db, &filter, &page).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let names = Names::of(&db, &rows).await?;
        let batch = page.finish(rows, |r| r.id, |r| line(r, &names));
        let next = batch
            .next_cursor
            .and_then(|c| c.parse().ok())
            .map(|before| PageQuery {
                limit: BATCH,
                after: Some(before),
            });
        Ok(Some((batch.items, (db, filter, next))))
    });
    Ok(export::attachment(export::CSV, &name).streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_times_are_shanghai_wall_clock() {
        assert_eq!(shanghai_time(0), "1970-01-01 08:00:00");
    }
}
