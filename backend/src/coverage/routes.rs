//! `GET /stats/coverage`, `GET /stats/gaps` (+ `.csv`), `GET /ledgers/units.csv` and `.xlsx`.
//! All of them: an admin whose region covers the asked one (403 otherwise; 404 for an
//! unknown region; 400 for a missing or malformed `region_id`).
use actix_web::{HttpResponse, get, web};
use sea_orm::DatabaseConnection;

use crate::auth::AuthUser;
use crate::coverage::dto::{Coverage, Gap, GapsQuery, RegionQuery};
use crate::coverage::service::{self, BATCH, Ledger, LedgerRow, kind_label};
use crate::entity::regions;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::export::{self, cell, csv_stream};
use crate::extract::Query;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

/// Registers the coverage and ledger routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(coverage)
        .service(gaps)
        .service(gaps_csv)
        .service(units_csv)
        .service(units_xlsx);
}

/// The one access rule of this capability: the region exists (404) and one of the
/// caller's admin regions is it or an ancestor (403).
async fn admin_region(
    db: &DatabaseConnection,
    me: &AuthUser,
    region_id: i64,
) -> AppResult<regions::Model> {
    crate::auth::scope::admin_region(
        db,
        &me.roles,
        region_id,
        crate::auth::scope::Refusal {
            missing: AppError::NotFound,
            refused: AppError::Forbidden("forbidden", "需要该区域的管理员权限"),
            outsiders_first: false,
        },
    )
    .await
}

/// Coverage of a region's subtree against 应建尽建, with one entry per child region.
/// `rate` is `required_covered_any / required`, and 0 when no unit is required.
#[utoipa::path(
    tag = "coverage",
    security(("bearer" = [])),
    params(RegionQuery),
    responses(
        (status = 200, body = Coverage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/stats/coverage")]
async fn coverage(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<RegionQuery>,
) -> AppResult<web::Json<Coverage>> {
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let c = service::coverage(&state.db, &region, state.settings.required_employees).await?;
    Ok(web::Json(c))
}

/// The worklist: required units of the subtree that no live organization lists, by id.
#[utoipa::path(
    tag = "coverage",
    security(("bearer" = [])),
    params(GapsQuery),
    responses(
        (status = 200, body = Page<Gap>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/stats/gaps")]
async fn gaps(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<GapsQuery>,
) -> AppResult<web::Json<Page<Gap>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let rows = service::gaps(
        &state.db,
        &region,
        state.settings.required_employees,
        page.after.unwrap_or(0),
        page.fetch() as i64,
    )
    .await?;
    Ok(web::Json(page.finish(rows, |g| g.unit_id, |g| g)))
}

fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

const GAP_HEADER: &[&str] = &[
    "区域",
    "单位名称",
    "统一社会信用代码",
    "类型",
    "职工人数",
    "应建原因",
];

/// Every gap of the subtree as CSV (UTF-8 with BOM), for the clerk who works in Excel.
#[utoipa::path(
    tag = "coverage",
    security(("bearer" = [])),
    params(RegionQuery),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 with BOM"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/stats/gaps.csv")]
async fn gaps_csv(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<RegionQuery>,
) -> AppResult<HttpResponse> {
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let source = (
        state.db.clone(),
        region.clone(),
        state.settings.required_employees,
        Some(0_i64),
    );
    let body = csv_stream(GAP_HEADER, source, |(db, region, t, after)| async move {
        let Some(after) = after else {
            return Ok(None);
        };
        let rows = service::gaps(&db, &region, t, after, BATCH).await?;
        let next = (rows.len() as i64 == BATCH)
            .then(|| rows.last().map(|g| g.unit_id))
            .flatten();
        if rows.is_empty() {
            return Ok(None);
        }
        let lines = rows
            .into_iter()
            .map(|g| {
                vec![
                    g.region_path,
                    g.name,
                    g.uscc,
                    kind_label(&g.kind).to_owned(),
                    g.employee_count.to_string(),
                    g.reason,
                ]
            })
            .collect();
        Ok(Some((lines, (db, region, t, next))))
    });
    Ok(export::attachment(export::CSV, &format!("gaps-{}.csv", region.id)).streaming(body))
}

const LEDGER_HEADER: &[&str] = &[
    "区域",
    "单位名称",
    "统一社会信用代码",
    "类型",
    "职工人数",
    "党组织",
    "工会",
    "共青团",
    "妇联",
    "应建",
    "已建",
];

/// A ledger line, the user text already guarded: the workbook shows it as the CSV does.
fn ledger_line(r: LedgerRow) -> Vec<String> {
    let covered = r.covered();
    vec![
        cell(&r.region_path).into_owned(),
        cell(&r.name).into_owned(),
        cell(&r.uscc).into_owned(),
        kind_label(&r.kind).to_owned(),
        r.employee_count.to_string(),
        if r.has_party_org { "有" } else { "无" }.to_owned(),
        cell(&r.union.join("、")).into_owned(),
        cell(&r.league.join("、")).into_owned(),
        cell(&r.women.join("、")).into_owned(),
        yes_no(r.required).to_owned(),
        yes_no(covered).to_owned(),
    ]
}

/// The unit ledger (数据台账) of a subtree as CSV, UTF-8 with BOM, one line per unit.
/// Streamed in batches of 2,000 units, so a province's ledger never sits in memory.
#[utoipa::path(
    tag = "coverage",
    security(("bearer" = [])),
    params(RegionQuery),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 with BOM"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/ledgers/units.csv")]
async fn units_csv(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<RegionQuery>,
) -> AppResult<HttpResponse> {
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let ledger = Ledger::open(&state.db, &region, state.settings.required_employees).await?;
    let body = csv_stream(LEDGER_HEADER, ledger, |mut ledger: Ledger| async move {
        Ok(ledger
            .next_batch()
            .await?
            .map(|rows| (rows.into_iter().map(ledger_line).collect(), ledger)))
    });
    Ok(export::attachment(export::CSV, &format!("units-{}.csv", region.id)).streaming(body))
}

/// Writes the workbook on a blocking thread from batches sent over `rx`, into an
/// unlinked temporary file (constant-memory mode keeps rows on disk, not in RAM).
fn write_xlsx(mut rx: tokio::sync::mpsc::Receiver<Vec<LedgerRow>>) -> AppResult<std::fs::File> {
    use export::xlsx_error as fail;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().map_err(fail)?;
    ws.set_name("单位台账").map_err(fail)?;
    export::xlsx_header(
        ws,
        LEDGER_HEADER,
        [36., 36., 22., 10., 9., 7., 24., 24., 24., 6., 6.],
    )
    .map_err(fail)?;
    ws.set_freeze_panes(1, 0).map_err(fail)?;
    let mut row: u32 = 1;
    while let Some(batch) = rx.blocking_recv() {
        for r in batch {
            let employees = r.employee_count;
            for (c, v) in ledger_line(r).into_iter().enumerate() {
                if c == 4 {
                    ws.write_number(row, 4, employees).map_err(fail)?;
                } else {
                    ws.write_string(row, c as u16, v).map_err(fail)?;
                }
            }
            row = row
                .checked_add(1)
                .filter(|r| *r < 1_048_576)
                .ok_or_else(|| AppError::Internal("xlsx: more rows than a sheet holds".into()))?;
        }
    }
    export::xlsx_to_temp_file(&mut wb)
}

/// The unit ledger as an Excel workbook (same columns as the CSV).
#[utoipa::path(
    tag = "coverage",
    security(("bearer" = [])),
    params(RegionQuery),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    )
)]
#[get("/ledgers/units.xlsx")]
async fn units_xlsx(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<RegionQuery>,
) -> AppResult<HttpResponse> {
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let mut ledger = Ledger::open(&state.db, &region, state.settings.required_employees).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let writer = tokio::task::spawn_blocking(move || write_xlsx(rx));
    let mut read_error = None;
    loop {
        match ledger.next_batch().await {
            Ok(Some(batch)) => {
                if tx.send(batch).await.is_err() {
                    break; // the writer failed; its error is below
                }
            }
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let file = writer
        .await
        .map_err(|e| AppError::Internal(format!("xlsx task: {e}")))??;
    if let Some(e) = read_error {
        return Err(e);
    }
    export::file_download(export::XLSX, &format!("units-{}.xlsx", region.id), file)
}
