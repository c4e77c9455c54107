//! Check-in routes. Handlers parse, ask `service` who may act, and hand it the work.
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sea_orm::EntityTrait;

use crate::activities::access::{Onlookers, activity_managers_can, managed_activity};
use crate::audit::client_ip_of as ip;
use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::checkin::dto::{
    Checkin, CheckinFailure, CheckinQr, CheckinRequest, ManualCheckin, ManualRequest, MyCheckin,
    UndoRequest, UndoneCheckin,
};
use crate::checkin::service::{self, Attempt, Method, Recorded, Refusal};
use crate::clock::now_ms;
use crate::entity::{activities, checkins};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::idempotency::{self, Work};
use crate::pagination::{ListQuery, Page, PageQuery};
use crate::ratelimit;
use crate::state::AppState;

/// Registers the check-in routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(checkin_qr)
        .service(checkin_qr_svg)
        .service(check_in)
        .service(checkin_failures)
        .service(undo_checkin)
        .service(manual_checkin)
        .service(my_checkins);
}

/// The door's current token, URL and short code (they rotate every 30 s).
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = CheckinQr),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Missing or not managed by the caller", body = ErrorBody),
        (status = 409, description = "The activity is cancelled", body = ErrorBody),
    )
)]
#[get("/activities/{id}/checkin-qr")]
async fn checkin_qr(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<CheckinQr>> {
    let activity = managed_activity(&state.db, &me, id.into_inner(), Onlookers::NotFound).await?;
    Ok(web::Json(service::qr(
        state.settings.secret_bytes(),
        &state.settings.public_url,
        &activity,
        now_ms(),
    )?))
}

/// The current check-in URL as an SVG QR code.
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "image/svg+xml", content_type = "image/svg+xml", body = String),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    )
)]
#[get("/activities/{id}/checkin-qr.svg")]
async fn checkin_qr_svg(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let activity = managed_activity(&state.db, &me, id.into_inner(), Onlookers::NotFound).await?;
    let qr = service::qr(
        state.settings.secret_bytes(),
        &state.settings.public_url,
        &activity,
        now_ms(),
    )?;
    let svg = crate::orgs::service::qr_svg(&qr.url)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Wrong codes or tokens a person may send per minute before check-in waits.
pub const WRONG_PER_MINUTE: u32 = 10;
const WRONG_WINDOW_SECS: i64 = 60;

fn too_many_wrong(secs: u64) -> AppError {
    AppError::TooMany("rate_limited", "签到码输错次数太多，请稍后再试", secs)
}

/// Checks the caller in with a scanned token or a typed short code. Honours
/// `Idempotency-Key`; the same person again gets 200 with `already: true`.
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 visible characters")),
    request_body = CheckinRequest,
    responses(
        (status = 201, body = Checkin),
        (status = 200, description = "Already checked in", body = Checkin),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members_only", body = ErrorBody),
        (status = 410, description = "token_expired", body = ErrorBody),
        (status = 422, description = "invalid_token, not_open, not_signed_up", body = ErrorBody),
        (status = 429, description = "rate_limited: too many wrong codes in a minute; see Retry-After", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/checkins")]
async fn check_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CheckinRequest>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_from(&req)?;
    let user_id = me.id();
    // A retry of a check-in that went through gets its first answer, even when
    // the token has expired since (a rider whose answer was lost in a tunnel).
    let bound = idempotency::Bound::of(&req);
    if let Some(seen) = idempotency::replay_if_seen(&state, user_id, key.as_deref(), &bound).await?
    {
        return Ok(seen);
    }
    let attempt = Attempt::parse(body.into_inner())?;
    let method = attempt.method();
    let now = now_ms();
    // Codes are short: whoever got too many wrong in a minute waits, right code or
    // not (checked in the same statement that reads the activity).
    let guesses = format!("checkin:wrong:{user_id}");
    let guard = service::Guard {
        key: &guesses,
        window_secs: WRONG_WINDOW_SECS,
        limit: WRONG_PER_MINUTE,
    };
    let activity = match service::admit(
        &state.db,
        state.settings.secret_bytes(),
        &me.user,
        &attempt,
        &guard,
        now,
    )
    .await?
    {
        service::Admission::Admitted(a) => *a,
        service::Admission::Blocked(secs) => return Err(too_many_wrong(secs)),
        service::Admission::Refused(refused) => {
            let code = refused.refusal.code();
            service::log_failure(&state.db, refused.activity_id, user_id, code, method, now)
                .await?;
            if refused.refusal == Refusal::InvalidToken
                && let Some(secs) =
                    ratelimit::hit(&state.db, &guesses, WRONG_WINDOW_SECS, WRONG_PER_MINUTE).await?
            {
                return Err(too_many_wrong(secs));
            }
            return Ok(refused.refusal.response());
        }
    };
    let (activity_id, scanned_at) = (activity.id, attempt.scanned_at);
    let inserted = match key {
        // Without a key the check-in goes to the group-commit writer: one INSERT
        // for everyone waiting at that moment, atomic with its counts, answered
        // after it committed.
        None => match state
            .checkins
            .insert(activity_id, user_id, method, scanned_at, now)
            .await
        {
            Ok(Some(row)) => Ok(HttpResponse::Created().json(service::view(&row, false))),
            Ok(None) => Err(AppError::Conflict(service::ALREADY, "已签到".into())),
            Err(e) => Err(e),
        },
        Some(key) => {
            let work: Work<'_, Checkin> = Box::new(move |txn| {
                Box::pin(async move {
                    let row =
                        service::insert(txn, activity_id, user_id, method, scanned_at, None, now)
                            .await?;
                    Ok(service::view(&row, false))
                })
            });
            idempotency::once(
                &state.db,
                &state.data_key,
                user_id,
                Some(key),
                &bound,
                StatusCode::CREATED,
                work,
            )
            .await
        }
    };
    match inserted {
        Err(e) if service::is_already(&e) => {
            let row = service::standing(&state.db, activity_id, user_id)
                .await?
                .ok_or_else(|| AppError::Conflict("conflict", "请稍后再试".into()))?;
            Ok(HttpResponse::Ok().json(service::view(&row, true)))
        }
        other => other,
    }
}

/// Refused check-in attempts at an activity, newest first (managers).
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(("id" = i64, Path), ListQuery),
    responses(
        (status = 200, body = Page<CheckinFailure>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/activities/{id}/checkin-failures")]
async fn checkin_failures(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Page<CheckinFailure>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let activity = managed_activity(&state.db, &me, id.into_inner(), Onlookers::NotFound).await?;
    Ok(web::Json(
        service::failures(&state.db, activity.id, &page).await?,
    ))
}

/// Undoes a wrong check-in (managers); it stays in the history.
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = UndoRequest,
    responses(
        (status = 200, body = UndoneCheckin),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already undone", body = ErrorBody),
        (status = 422, description = "invalid_reason", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/checkins/{id}/undo")]
async fn undo_checkin(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<UndoRequest>,
) -> AppResult<web::Json<UndoneCheckin>> {
    let row = checkins::Entity::find_by_id(id.into_inner())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let activity = activities::Entity::find_by_id(row.activity_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !activity_managers_can(&state.db, &me, &activity).await? {
        return Err(AppError::NotFound);
    }
    let why = service::reason(&body.reason)?;
    let by = (me.id(), ip(&req, &state));
    let undone = service::undo(&state.db, &row, &activity, by, why, now_ms()).await?;
    Ok(web::Json(service::undone_view(&undone)))
}

/// Checks a person in by phone number (managers), with the reason recorded.
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = ManualRequest,
    responses(
        (status = 201, body = ManualCheckin),
        (status = 200, description = "Already checked in", body = ManualCheckin),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The activity is cancelled", body = ErrorBody),
        (status = 422, description = "invalid_phone, unknown_person, invalid_reason", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/activities/{id}/checkins/manual")]
async fn manual_checkin(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<ManualRequest>,
) -> AppResult<HttpResponse> {
    let activity = managed_activity(&state.db, &me, id.into_inner(), Onlookers::NotFound).await?;
    if activity.status == "cancelled" {
        return Err(AppError::Conflict("conflict", "活动已取消".into()));
    }
    let why = service::reason(&body.reason)?;
    let person = service::person_by_phone(&state.db, &body.phone).await?;
    let recorded = Recorded {
        by: me.id(),
        reason: why.clone(),
    };
    let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
    let inserted = service::insert(
        &txn,
        activity.id,
        person.id,
        Method::Manual,
        None,
        Some(recorded),
        now_ms(),
    )
    .await;
    let row = match inserted {
        Ok(row) => {
            txn.commit().await?;
            row
        }
        Err(e) if service::is_already(&e) => {
            drop(txn);
            let row = service::standing(&state.db, activity.id, person.id)
                .await?
                .ok_or_else(|| AppError::Conflict("conflict", "请稍后再试".into()))?;
            return Ok(HttpResponse::Ok().json(service::manual_view(&row, true)));
        }
        Err(e) => return Err(e),
    };
    audit::record(
        &state.db,
        Entry {
            actor: Some(me.id()),
            action: "checkin.manual",
            target: format!("checkin:{}", row.id),
            region_id: service::region_of(&state.db, &activity).await,
            ip: ip(&req, &state),
            detail: Some(serde_json::json!({
                "activity_id": activity.id, "user_id": person.id, "reason": why
            })),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(service::manual_view(&row, false)))
}

/// The caller's check-in history, newest first.
#[utoipa::path(
    tag = "checkin",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<MyCheckin>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/me/checkins")]
async fn my_checkins(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Page<MyCheckin>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    Ok(web::Json(service::mine(&state.db, me.id(), &page).await?))
}
