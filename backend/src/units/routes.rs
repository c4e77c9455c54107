//! The units register: `POST/GET /units`, `GET/PATCH /units/{id}`, the bulk
//! import with its templates, and `GET /units/lookup` for workers.
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use sea_orm::EntityTrait;

use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::auth::scope::admin_region_ids;
use crate::entity::regions;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::export;
use crate::extract::{Json, Query};
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;
use crate::units::dto::{
    CreateUnit, ImportQuery, ImportRefusal, ImportUpload, Imported, ListQuery, LookupQuery,
    PatchUnit, Unit, UnitBrief,
};
use crate::units::import::{self, Format, MAX_FILE_BYTES};
use crate::units::service::{self, NewUnit, UnitChanges, UnitKind};
use crate::upload::{self, Limit};

/// What an import may be: the file, and room for the multipart framing around it.
const UPLOAD: Limit = Limit {
    file_bytes: MAX_FILE_BYTES,
    framing_bytes: 64 * 1024,
};

/// Registers the unit routes; the fixed paths come before `/units/{id}`.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(lookup_units)
        .service(template_csv)
        .service(template_xlsx)
        .service(import_units)
        .service(list_units)
        .service(create_unit)
        .service(get_unit)
        .service(patch_unit);
}

/// Creates a unit in a region the caller administers.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    request_body = CreateUnit,
    responses(
        (status = 201, body = Unit),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 409, description = "uscc_exists", body = ErrorBody),
        (status = 422, description = "invalid_name, invalid_uscc, invalid_kind, invalid_employee_count, invalid_industry, invalid_region", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/units")]
async fn create_unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateUnit>,
) -> AppResult<HttpResponse> {
    service::require_admin(&me.roles)?;
    let b = body.into_inner();
    let new = NewUnit {
        name: service::parse_name(&b.name)?,
        uscc: service::parse_uscc(&b.uscc)?,
        kind: UnitKind::parse(&b.kind)?,
        region_id: b.region_id,
        employee_count: service::parse_employees(b.employee_count)?,
        above_scale: b.above_scale,
        has_party_org: b.has_party_org,
        industry: service::parse_industry(b.industry.as_deref())?,
    };
    service::writable_region(&state.db, &me.roles, new.region_id).await?;
    let created = service::create(&state.db, new, me.id(), ip(&req, &state)).await?;
    Ok(HttpResponse::Created().json(Unit::from(created)))
}

/// One unit (admins whose region covers it; 404 for anyone else).
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Unit), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/units/{id}")]
async fn get_unit(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Unit>> {
    let unit = service::visible_unit(&state.read, &me.roles, id.into_inner()).await?;
    Ok(web::Json(unit.into()))
}

/// Changes the given fields of a unit; moving it needs the new region in scope too.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = PatchUnit,
    responses(
        (status = 200, body = Unit),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The new region is outside the caller's scope", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "uscc_exists", body = ErrorBody),
        (status = 422, description = "invalid_name, invalid_uscc, invalid_kind, invalid_employee_count, invalid_industry, invalid_region", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[patch("/units/{id}")]
async fn patch_unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<PatchUnit>,
) -> AppResult<web::Json<Unit>> {
    let unit = service::visible_unit(&state.db, &me.roles, id.into_inner()).await?;
    let b = body.into_inner();
    let changes = UnitChanges {
        name: b.name.as_deref().map(service::parse_name).transpose()?,
        uscc: b.uscc.as_deref().map(service::parse_uscc).transpose()?,
        kind: b.kind.as_deref().map(UnitKind::parse).transpose()?,
        region_id: b.region_id,
        employee_count: b.employee_count.map(service::parse_employees).transpose()?,
        above_scale: b.above_scale,
        has_party_org: b.has_party_org,
        industry: b
            .industry
            .map(|i| service::parse_industry(i.as_deref()))
            .transpose()?,
    };
    if let Some(to) = changes.region_id.filter(|to| *to != unit.region_id) {
        service::writable_region(&state.db, &me.roles, to).await?;
    }
    let updated = service::change(&state.db, unit.id, changes, me.id(), ip(&req, &state)).await?;
    Ok(web::Json(updated.into()))
}

/// Units of a region's whole subtree (admin of the region), by id.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<Unit>),
        (status = 400, description = "region_id missing, bad kind, q, limit or cursor", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/units")]
async fn list_units(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Page<Unit>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let region_id = q
        .region_id
        .ok_or_else(|| AppError::bad_request("缺少参数：region_id"))?;
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| UnitKind::parse(k).map_err(|_| AppError::bad_request("kind 不正确")))
        .transpose()?;
    let term = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if term.is_some_and(|t| t.chars().count() > 50) {
        return Err(AppError::bad_request("查找内容不能超过50个字"));
    }
    service::require_admin(&me.roles)?;
    let region = service::writable_region(&state.read, &me.roles, region_id)
        .await
        .map_err(|e| match e {
            AppError::Unprocessable(..) => AppError::Forbidden("forbidden", "只能查看本辖区的单位"),
            other => other,
        })?;
    let rows = service::list(
        &state.read,
        service::ListFilter {
            region: &region,
            kind,
            q: term,
            page: &page,
        },
    )
    .await?;
    Ok(web::Json(page.finish(rows, |u| u.id, Unit::from)))
}

/// Finds units by name, for a worker choosing their workplace.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(LookupQuery),
    responses((status = 200, body = Page<UnitBrief>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/units/lookup")]
async fn lookup_units(
    state: web::Data<AppState>,
    _me: AuthUser,
    q: Query<LookupQuery>,
) -> AppResult<web::Json<Page<UnitBrief>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let term = q.q.trim();
    let n = term.chars().count();
    if !(2..=50).contains(&n) {
        return Err(AppError::bad_request("请输入2到50个字查找"));
    }
    let rows = service::lookup(&state.read, term, &page).await?;
    Ok(web::Json(page.finish(
        rows,
        |u| u.id,
        |u| UnitBrief {
            id: u.id,
            name: u.name,
            kind: u.kind,
            region_id: u.region_id,
        },
    )))
}

// ---------------------------------------------------------------- import

/// The code of the caller's first admin region, for the template's example row.
async fn example_region_code(state: &AppState, me: &AuthUser) -> AppResult<String> {
    service::require_admin(&me.roles)?;
    let first = admin_region_ids(&me.roles).next();
    let region = match first {
        Some(id) => regions::Entity::find_by_id(id).one(&state.read).await?,
        None => None,
    };
    Ok(region.map_or_else(|| "340100".to_owned(), |r| r.code))
}

/// The CSV import template (UTF-8 with BOM): header and one example row.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/units/import-template.csv")]
async fn template_csv(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let code = example_region_code(&state, &me).await?;
    Ok(export::download(
        export::CSV,
        "units-import-template.csv",
        import::template_csv(&code)?,
    ))
}

/// The XLSX import template: header and one example row.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/units/import-template.xlsx")]
async fn template_xlsx(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let code = example_region_code(&state, &me).await?;
    Ok(export::download(
        export::XLSX,
        "units-import-template.xlsx",
        import::template_xlsx(&code)?,
    ))
}

/// Imports units from a CSV or XLSX file: every row is checked, then all are stored or none.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content_type = "multipart/form-data", content = ImportUpload),
    responses(
        (status = 201, body = Imported),
        (status = 400, description = "region_id or the file field missing, not multipart, or a part other than one `file`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 409, description = "uscc_exists: registered meanwhile by someone else", body = ErrorBody),
        (status = 413, description = "File larger than 10 MiB", body = ErrorBody),
        (status = 415, description = "Neither UTF-8 CSV nor XLSX", body = ErrorBody),
        (status = 422, description = "import_invalid with the rows that are wrong; invalid_region (no rows) when region_id names no region", body = ImportRefusal),
    )
)]
#[post("/units/import")]
async fn import_units(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    q: Query<ImportQuery>,
    form: Multipart,
) -> AppResult<HttpResponse> {
    let region_id = q
        .region_id
        .ok_or_else(|| AppError::bad_request("缺少参数：region_id"))?;
    service::require_admin(&me.roles)?;
    let scope = service::writable_region(&state.db, &me.roles, region_id).await?;
    let bytes = upload::read_file(&req, form, UPLOAD).await?.bytes;
    let format = Format::detect(&bytes)?;
    let started = std::time::Instant::now();
    let sheet = web::block(move || import::read(&bytes, format))
        .await
        .map_err(|e| AppError::Internal(format!("import reader: {e}")))??;
    let read_ms = started.elapsed().as_millis();
    let rows = import::check(&state.db, &scope, sheet).await?;
    let check_ms = started.elapsed().as_millis() - read_ms;
    let imported =
        import::import(&state.db, &scope, rows, format, me.id(), ip(&req, &state)).await?;
    tracing::info!(
        imported,
        format = format.as_str(),
        read_ms,
        check_ms,
        total_ms = started.elapsed().as_millis(),
        "units imported"
    );
    Ok(HttpResponse::Created().json(Imported { imported }))
}
