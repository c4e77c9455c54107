//! Centre, activity, sign-up and attendance routes. Handlers parse, ask
//! `access`, and hand the work to `service`.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::EntityTrait;

use crate::activities::access;
use crate::activities::access::Onlookers;
use crate::activities::attendance as attendance_service;
use crate::activities::centres::{self as centre_service, NewCentre};
use crate::activities::dto::{
    Activity, ActivityQuery, Attendance, CancelActivity, Centre, CentreQuery, CreateActivity,
    CreateCentre, MySignup, PatchActivity, Signup,
};
use crate::activities::service::{self, NewActivity};
use crate::activities::signups;
use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::auth::scope::{Refusal, admin_region, is_admin};
use crate::clock::rfc3339;
use crate::entity::{activities, centres};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::export;
use crate::extract::{Json, Query};
use crate::idempotency::{self, Work};
use crate::orgs::dto::clean_text;
use crate::pagination::{ListQuery, Page, PageQuery};
use crate::state::AppState;

/// Registers the centre and activity routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(create_centre)
        .service(list_centres)
        .service(get_centre)
        .service(create_activity)
        .service(list_activities)
        .service(get_activity)
        .service(patch_activity)
        .service(cancel_activity)
        .service(sign_up)
        .service(cancel_sign_up)
        .service(attendance)
        .service(attendance_csv)
        .service(my_signups);
}

/// Registers a shared party-mass centre in a region the caller administers.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    request_body = CreateCentre,
    responses(
        (status = 201, body = Centre),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 422, description = "invalid_region, invalid_name, invalid_address, invalid_homes, invalid_capacity", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/centres")]
async fn create_centre(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateCentre>,
) -> AppResult<HttpResponse> {
    let forbidden = || AppError::Forbidden("forbidden", "只有该区域的管理员可以登记活动中心");
    if !is_admin(&me.roles) {
        return Err(forbidden());
    }
    let c = NewCentre::parse(body.into_inner())?;
    admin_region(
        &state.db,
        &me.roles,
        c.region_id(),
        Refusal {
            missing: AppError::rule("invalid_region", "找不到这个区域"),
            refused: forbidden(),
            outsiders_first: false,
        },
    )
    .await?;
    let row = centre_service::create_centre(&state.db, &me, c, ip(&req, &state)).await?;
    Ok(HttpResponse::Created().json(Centre::from(row)))
}

/// Centres, in a region's subtree when `region_id` is given.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(CentreQuery),
    responses(
        (status = 200, body = Page<Centre>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "invalid_region", body = ErrorBody),
    )
)]
#[get("/centres")]
async fn list_centres(
    state: web::Data<AppState>,
    _me: AuthUser,
    q: Query<CentreQuery>,
) -> AppResult<web::Json<Page<Centre>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let rows = centre_service::list_centres(&state.read, q.region_id, &page).await?;
    Ok(web::Json(page.finish(rows, |c| c.id, Centre::from)))
}

/// One centre.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Centre),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/centres/{id}")]
async fn get_centre(
    state: web::Data<AppState>,
    _me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Centre>> {
    let row = centres::Entity::find_by_id(id.into_inner())
        .one(&state.read)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(web::Json(row.into()))
}

/// Creates an activity of an org (its managers), or in a centre (its keeper).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    request_body = CreateActivity,
    responses(
        (status = 201, body = Activity),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Neither a manager of the org nor the keeper of the centre", body = ErrorBody),
        (status = 422, description = "invalid_org, invalid_centre, invalid_title, invalid_description, invalid_kind, invalid_time, invalid_capacity, invalid_audience", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/activities")]
async fn create_activity(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateActivity>,
) -> AppResult<HttpResponse> {
    let a = NewActivity::parse(body.into_inner())?;
    let org = crate::orgs::access::live_org(&state.db, a.org_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::rule("invalid_org", "找不到这个组织"),
            e => e,
        })?;
    let centre = match a.centre_id {
        Some(cid) => Some(
            centres::Entity::find_by_id(cid)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::rule("invalid_centre", "找不到这个活动中心"))?,
        ),
        None => None,
    };
    if !access::can_create_activity(&state.db, &me, &org, centre.as_ref()).await? {
        return Err(AppError::Forbidden(
            "forbidden",
            "只有组织或活动中心的管理员可以发布活动",
        ));
    }
    let row = service::create_activity(
        &state.db,
        Some(me.id()),
        a,
        Some(org.region_id),
        ip(&req, &state),
    )
    .await?;
    Ok(HttpResponse::Created().json(Activity::from(row)))
}

/// Activities the caller may see, by start time.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(ActivityQuery),
    responses(
        (status = 200, body = Page<Activity>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/activities")]
async fn list_activities(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<ActivityQuery>,
) -> AppResult<web::Json<Page<Activity>>> {
    // The cursor is `starts_at_id`, checked by the service; only the limit here.
    let page = PageQuery::new(q.limit, None)?;
    let rows = service::list_activities(&state.read, &me, &q, &page).await?;
    let rows: Vec<Activity> = rows.into_iter().map(Activity::from).collect();
    Ok(web::Json(page.finish_by(
        rows,
        service::activity_cursor,
        |a| a,
    )))
}

/// One activity (managers, members of its org, anyone when it is public).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Activity),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/activities/{id}")]
async fn get_activity(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Activity>> {
    let a = access::visible_activity(&state.read, &me, id.into_inner()).await?;
    Ok(web::Json(a.into()))
}

/// Changes an activity (its managers).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = PatchActivity,
    responses(
        (status = 200, body = Activity),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "capacity_below_signups, cancelled", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[patch("/activities/{id}")]
async fn patch_activity(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<PatchActivity>,
) -> AppResult<web::Json<Activity>> {
    let a = access::managed_activity(&state.db, &me, id.into_inner(), Onlookers::Forbidden).await?;
    let row =
        service::patch_activity(&state.db, &me, a, body.into_inner(), ip(&req, &state)).await?;
    Ok(web::Json(row.into()))
}

/// Cancels an activity (its managers).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = CancelActivity,
    responses(
        (status = 200, body = Activity),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already_cancelled", body = ErrorBody),
        (status = 422, description = "invalid_reason", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/activities/{id}/cancel")]
async fn cancel_activity(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<CancelActivity>,
) -> AppResult<web::Json<Activity>> {
    let a = access::managed_activity(&state.db, &me, id.into_inner(), Onlookers::Forbidden).await?;
    let reason = clean_text(&body.reason, 500, "invalid_reason", "原因应为1到500个字")?;
    let row = service::cancel_activity(&state.db, &me, a.id, reason, ip(&req, &state)).await?;
    Ok(web::Json(row.into()))
}

/// Signs the caller up (never past capacity); `Idempotency-Key` replays the first answer.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Signup),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members_only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "full, already_signed_up, not_open", body = ErrorBody),
    )
)]
#[post("/activities/{id}/signup")]
async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_from(&req)?;
    let a = activities::Entity::find_by_id(id.into_inner())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    access::may_attend(&state.db, &me, &a).await?;
    let (activity_id, user_id) = (a.id, me.id());
    let work: Work<'_, Signup> =
        Box::new(move |txn| Box::pin(signups::sign_up(txn, activity_id, user_id)));
    idempotency::created(&state, &req, user_id, key, work).await
}

/// Cancels the caller's sign-up and frees the place.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No live sign-up", body = ErrorBody),
    )
)]
#[delete("/activities/{id}/signup")]
async fn cancel_sign_up(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    signups::cancel_sign_up(&state.db, id.into_inner(), me.id()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who checked in (managers); phones masked unless the viewer's region covers the person.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path), ListQuery),
    responses(
        (status = 200, body = Attendance),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/activities/{id}/attendance")]
async fn attendance(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Attendance>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let a = access::managed_activity(&state.db, &me, id.into_inner(), Onlookers::Forbidden).await?;
    let rows =
        attendance_service::attendance(&state.db, &me, a.id, &page, ip(&req, &state)).await?;
    let p = page.finish(rows, |i| i.id, |i| i);
    Ok(web::Json(Attendance {
        items: p.items,
        next_cursor: p.next_cursor,
        checked_in: a.checked_in,
        signed_up: a.signed_up,
    }))
}

/// The attendance sheet (UTF-8 with BOM): check-ins, then sign-ups who did not come (未签到).
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/activities/{id}/attendance.csv")]
async fn attendance_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let a = access::managed_activity(&state.db, &me, id.into_inner(), Onlookers::Forbidden).await?;
    let body = attendance_service::attendance_csv(&state.db, &me, &a, ip(&req, &state)).await?;
    Ok(export::download(
        export::CSV,
        &format!("attendance-{}.csv", a.id),
        body,
    ))
}

/// The caller's sign-ups, newest first.
#[utoipa::path(
    tag = "activities",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<MySignup>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/me/signups")]
async fn my_signups(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Page<MySignup>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let rows = signups::my_signups(&state.read, me.id(), &page).await?;
    Ok(web::Json(page.finish(
        rows,
        |(s, _)| s.id,
        |(s, a)| MySignup {
            id: s.id,
            activity_id: s.activity_id,
            title: a.as_ref().map(|a| a.title.clone()).unwrap_or_default(),
            starts_at: a.as_ref().map(|a| rfc3339(a.starts_at)).unwrap_or_default(),
            ends_at: a.as_ref().map(|a| rfc3339(a.ends_at)).unwrap_or_default(),
            activity_status: a.map(|a| a.status).unwrap_or_default(),
            status: s.status,
            created_at: rfc3339(s.created_at),
        },
    )))
}
