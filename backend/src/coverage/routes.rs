//! `GET /stats/coverage`, `GET /stats/gaps` (+ `.csv`), `GET /ledgers/units.csv` and `.xlsx`.
//! All of them: an admin whose region covers the asked one (403 otherwise; 404 for an
//! unknown region; 400 for a missing or malformed `region_id`).
use std::io::{Seek, SeekFrom};

use actix_web::body::SizedStream;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use futures_util::stream::{self, Stream};
use sea_orm::DatabaseConnection;
use tokio::io::AsyncReadExt;

use crate::auth::AuthUser;
use crate::coverage::dto::{Coverage, Gap, GapsQuery, RegionQuery};
use crate::coverage::service::{self, BATCH, Ledger, LedgerRow, kind_label};
use crate::entity::regions;
use crate::error::{AppError, AppResult, ErrorBody};
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
    q: web::Query<RegionQuery>,
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
    q: web::Query<GapsQuery>,
) -> AppResult<web::Json<Page<Gap>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let rows = service::gaps(
        &state.db,
        &region,
        state.settings.required_employees,
        page.after.unwrap_or(0),
        page.limit as i64 + 1,
    )
    .await?;
    Ok(web::Json(page.finish(rows, |g| g.unit_id, |g| g)))
}

/// UTF-8 byte order mark: Excel reads a CSV's Chinese right only with it.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Excel runs a cell starting with `= + - @` as a formula: quote such text.
pub(crate) fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

fn csv_chunk<I, R>(header: Option<&[&str]>, rows: I) -> AppResult<Bytes>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut buf = Vec::with_capacity(256 * 1024);
    if header.is_some() {
        buf.extend_from_slice(BOM);
    }
    let mut w = csv::Writer::from_writer(buf);
    let fail = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    if let Some(h) = header {
        w.write_record(h).map_err(fail)?;
    }
    for r in rows {
        w.write_record(r).map_err(fail)?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    Ok(Bytes::from(buf))
}

fn attachment(content_type: &str, filename: &str) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.insert_header((CONTENT_TYPE, content_type.to_owned()))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ));
    res
}

/// A CSV body from a header and a batch source: the first chunk is the BOM and
/// the header, then one chunk per batch until the source returns None.
fn csv_stream<S, F, Fut>(
    header: &'static [&'static str],
    source: S,
    next: F,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static
where
    S: 'static,
    F: Fn(S) -> Fut + Copy + 'static,
    Fut: Future<Output = AppResult<Option<(Vec<Vec<String>>, S)>>> + 'static,
{
    let first = stream::once(async move { csv_chunk(Some(header), Vec::<Vec<String>>::new()) });
    let rest = stream::try_unfold(source, move |s| async move {
        match next(s).await? {
            None => Ok(None),
            Some((rows, s)) => Ok(Some((csv_chunk(None, rows)?, s))),
        }
    });
    futures_util::StreamExt::map(
        futures_util::StreamExt::chain(first, rest),
        |r: AppResult<Bytes>| {
            r.map_err(|e| {
                // Headers are gone by now: the client sees a cut-off download.
                tracing::error!(error = %e, "download stopped");
                actix_web::Error::from(e)
            })
        },
    )
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
    q: web::Query<RegionQuery>,
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
                    cell(&g.region_path).into_owned(),
                    cell(&g.name).into_owned(),
                    cell(&g.uscc).into_owned(),
                    kind_label(&g.kind).to_owned(),
                    g.employee_count.to_string(),
                    g.reason,
                ]
            })
            .collect();
        Ok(Some((lines, (db, region, t, next))))
    });
    Ok(attachment(
        "text/csv; charset=utf-8",
        &format!("gaps-{}.csv", region.id),
    )
    .streaming(body))
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
    q: web::Query<RegionQuery>,
) -> AppResult<HttpResponse> {
    let region = admin_region(&state.db, &me, q.region_id).await?;
    let ledger = Ledger::open(&state.db, &region, state.settings.required_employees).await?;
    let body = csv_stream(LEDGER_HEADER, ledger, |mut ledger: Ledger| async move {
        Ok(ledger
            .next_batch()
            .await?
            .map(|rows| (rows.into_iter().map(ledger_line).collect(), ledger)))
    });
    Ok(attachment(
        "text/csv; charset=utf-8",
        &format!("units-{}.csv", region.id),
    )
    .streaming(body))
}

/// Writes the workbook on a blocking thread from batches sent over `rx`, into an
/// unlinked temporary file (constant-memory mode keeps rows on disk, not in RAM).
fn write_xlsx(
    mut rx: tokio::sync::mpsc::Receiver<Vec<LedgerRow>>,
) -> Result<std::fs::File, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| format!("xlsx: {e}");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().map_err(fail)?;
    ws.set_name("单位台账").map_err(fail)?;
    let bold = Format::new().set_bold();
    for (c, h) in LEDGER_HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(fail)?;
    }
    for (c, w) in [36, 36, 22, 10, 9, 7, 24, 24, 24, 6, 6]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(fail)?;
    }
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
                .ok_or("xlsx: more rows than a sheet holds")?;
        }
    }
    let path = std::env::temp_dir().join(format!(
        "qunjia-ledger-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("xlsx temp file: {e}"))?;
    // Unlinked at once: the open handle keeps the data until the download ends.
    let _ = std::fs::remove_file(&path);
    wb.save_to_writer(&mut file).map_err(fail)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| format!("xlsx temp file: {e}"))?;
    Ok(file)
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
    q: web::Query<RegionQuery>,
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
        .map_err(|e| AppError::Internal(format!("xlsx task: {e}")))?
        .map_err(AppError::Internal)?;
    if let Some(e) = read_error {
        return Err(e);
    }
    let len = file
        .metadata()
        .map_err(|e| AppError::Internal(format!("xlsx: {e}")))?
        .len();
    let file = tokio::fs::File::from_std(file);
    let body = stream::try_unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), f)))
    });
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("units-{}.xlsx", region.id),
    )
    .body(SizedStream::new(len, body)))
}
