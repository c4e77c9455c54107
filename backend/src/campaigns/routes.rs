//! `/campaigns` routes: holiday visits to an org's hardship households, run by
//! the org's `org_admin`s. Handlers parse, check access, and hand the work to
//! `service`.
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::campaigns::dto::{
    Campaign, CampaignQuery, CreateCampaign, Done, MarkDone, NewCampaign, Visit, VisitQuery,
};
use crate::campaigns::service::{self, visible_campaign};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::export;
use crate::extract::{Json, Query};
use crate::idempotency::{self, Work};
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

/// Registers the campaign routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(create_campaign)
        .service(list_campaigns)
        .service(get_campaign)
        .service(close_campaign)
        .service(list_visits)
        .service(visits_csv)
        .service(mark_visit_done);
}

fn not_officer() -> AppError {
    AppError::Forbidden("forbidden", "只有该组织的管理员可以组织节日慰问")
}

/// Makes a campaign from the org's current hardship households (one pending visit
/// each). `Idempotency-Key` replays the first answer.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateCampaign,
    responses(
        (status = 201, body = Campaign),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an org_admin of the org", body = ErrorBody),
        (status = 404, description = "The org is dissolved", body = ErrorBody),
        (status = 422, description = "invalid_title, invalid_occasion, no_hardship_households", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/campaigns")]
async fn create_campaign(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateCampaign>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_from(&req)?;
    let b = body.into_inner();
    if !service::may_run(&me, b.org_id) {
        return Err(not_officer());
    }
    let org = crate::orgs::access::live_org(&state.db, b.org_id).await?;
    let new = NewCampaign::parse(b)?;
    let (actor, ip) = (me.id(), ip(&req, &state));
    let work: Work<'_, Campaign> = Box::new(move |txn| {
        Box::pin(async move { service::create(txn, actor, &org, new, ip).await })
    });
    idempotency::created(&state, &req, me.id(), key, work).await
}

/// An org's campaigns with their progress, newest first.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(CampaignQuery),
    responses(
        (status = 200, body = Page<Campaign>),
        (status = 400, description = "org_id missing, bad limit or cursor", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an org_admin of the org", body = ErrorBody),
    )
)]
#[get("/campaigns")]
async fn list_campaigns(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<CampaignQuery>,
) -> AppResult<web::Json<Page<Campaign>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let org_id = q
        .org_id
        .ok_or_else(|| AppError::bad_request("缺少参数：org_id"))?;
    if !service::may_run(&me, org_id) {
        return Err(not_officer());
    }
    let rows = service::list(&state.read, org_id, &page).await?;
    Ok(web::Json(page.finish(rows, |c| c.id, |c| c)))
}

/// One campaign with its progress.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Campaign),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/campaigns/{id}")]
async fn get_campaign(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Campaign>> {
    let c = visible_campaign(&state.read, &me, id.into_inner()).await?;
    Ok(web::Json(service::campaign_json(&state.read, c).await?))
}

/// Closes a campaign: no more visits are recorded.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Campaign),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "campaign_closed", body = ErrorBody),
    )
)]
#[post("/campaigns/{id}/close")]
async fn close_campaign(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Campaign>> {
    let c = visible_campaign(&state.db, &me, id.into_inner()).await?;
    let out = service::close(&state.db, me.id(), c, ip(&req, &state)).await?;
    Ok(web::Json(out))
}

/// The households of a campaign and their visits, by id; phones masked.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = i64, Path), VisitQuery),
    responses(
        (status = 200, body = Page<Visit>),
        (status = 400, description = "Bad status, limit or cursor", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/campaigns/{id}/visits")]
async fn list_visits(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
    q: Query<VisitQuery>,
) -> AppResult<web::Json<Page<Visit>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s @ ("pending" | "done")) => Some(s),
        Some(_) => return Err(AppError::bad_request("status 应为 pending 或 done")),
    };
    let c = visible_campaign(&state.read, &me, id.into_inner()).await?;
    let rows = service::visits(&state.read, &state.data_key, c.id, status, &page).await?;
    Ok(web::Json(page.finish(rows, |v| v.id, |v| v)))
}

/// The visit sheet for Excel (UTF-8 with BOM, Chinese headers); audited.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "CSV: 姓名, 电话, 困难类别, 状态, 走访日期, 形式, 金额(元), 物资, 备注", content_type = "text/csv"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/campaigns/{id}/visits.csv")]
async fn visits_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let c = visible_campaign(&state.db, &me, id.into_inner()).await?;
    let body =
        service::visits_csv(&state.db, &state.data_key, me.id(), &c, ip(&req, &state)).await?;
    Ok(export::download(
        export::CSV,
        &format!("campaign-{}-visits.csv", c.id),
        body,
    ))
}

/// Records a household's visit as done, with money, goods or both; audited.
#[utoipa::path(
    tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("vid" = i64, Path)),
    request_body = MarkDone,
    responses(
        (status = 200, body = Visit),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already_done, campaign_closed", body = ErrorBody),
        (status = 422, description = "invalid_visited_on, invalid_form, invalid_amount, invalid_goods, invalid_note", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/campaigns/{id}/visits/{vid}/done")]
async fn mark_visit_done(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    path: web::Path<(i64, i64)>,
    body: Json<MarkDone>,
) -> AppResult<web::Json<Visit>> {
    let (id, vid) = path.into_inner();
    let c = visible_campaign(&state.db, &me, id).await?;
    let d = Done::parse(body.into_inner(), crate::clock::today_shanghai())?;
    let key = state.data_key.clone();
    let out = service::mark_done(&state.db, key, me.id(), c, vid, d, ip(&req, &state)).await?;
    Ok(web::Json(out))
}
