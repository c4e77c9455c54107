//! `/cases`, `/consents/sensitive` and `/stats/cases` routes. Every path is
//! registered in full (no scope): attachments add routes under `/cases/...` too.
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::auth::scope::{Refusal, admin_region};
use crate::cases::access::{Viewer, case_for, is_case_officer, officer_case};
use crate::cases::dto::{
    CONSENT_TEXT, CONSENT_VERSION, Case, CaseQuery, CaseStats, CaseSummary, ConsentText,
    CreateCase, Message, PatchCase, PostMessage, RecordPayment, StatsQuery, Transition,
};
use crate::cases::service::{self, NewCase};
use crate::cases::viewing::{self, ListOf};
use crate::cases::workflow::{self, Move};
use crate::cases::{messages, stats};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::idempotency::{self, Work};
use crate::pagination::Page;
use crate::services::dto::ServiceKind;
use crate::state::AppState;

/// Registers the case routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(consent_text)
        .service(create_case)
        .service(list_cases)
        .service(get_case)
        .service(patch_case)
        .service(transition)
        .service(payment)
        .service(post_message)
        .service(case_stats);
}

/// The current separate-consent text for sensitive personal information.
#[utoipa::path(
    tag = "cases",
    responses((status = 200, body = ConsentText))
)]
#[get("/consents/sensitive")]
async fn consent_text() -> web::Json<ConsentText> {
    web::Json(ConsentText {
        version: CONSENT_VERSION.into(),
        text: CONSENT_TEXT.into(),
    })
}

/// Asks an org for help; `Idempotency-Key` replays the first answer.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateCase,
    responses(
        (status = 201, body = Case),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members_only", body = ErrorBody),
        (status = 404, description = "Unknown or inactive service", body = ErrorBody),
        (status = 422, description = "invalid_description, invalid_details, invalid_amount, invalid_category, consent_required", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/cases")]
async fn create_case(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateCase>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_from(&req)?;
    let c = NewCase::parse(body.into_inner())?;
    let (svc, org) = crate::services::service::service_with_org(&state.db, c.service_id()).await?;
    if !svc.active {
        return Err(AppError::NotFound);
    }
    if svc.members_only
        && !crate::memberships::access::is_active_member(&state.db, me.id(), org.id).await?
    {
        return Err(AppError::Forbidden(
            "members_only",
            "这项服务只面向本组织会员，请先加入组织",
        ));
    }
    let kind = ServiceKind::parse(&svc.kind)
        .map_err(|_| AppError::Internal(format!("service {} has kind {}", svc.id, svc.kind)))?;
    c.check_for(kind)?;
    let data_key = state.data_key.clone();
    let user_id = me.id();
    let work: Work<'_, Case> = Box::new(move |txn| {
        Box::pin(async move { service::create(txn, data_key, user_id, svc, c).await })
    });
    idempotency::created(&state, &req, user_id, key, work).await
}

/// The caller's own cases, or (with `org_id`) the queue of an org they work; newest first.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(CaseQuery),
    responses(
        (status = 200, body = Page<CaseSummary>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an officer of the org", body = ErrorBody),
    )
)]
#[get("/cases")]
async fn list_cases(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<CaseQuery>,
) -> AppResult<web::Json<Page<CaseSummary>>> {
    let of = match (q.mine, q.org_id) {
        (Some(true), _) | (_, None) => ListOf::Mine(me.id()),
        (_, Some(org_id)) => {
            if !is_case_officer(&me, org_id) {
                return Err(AppError::Forbidden(
                    "forbidden",
                    "只有该组织的管理员可以查看求助",
                ));
            }
            ListOf::Org(org_id)
        }
    };
    Ok(web::Json(viewing::list(&state.read, of, &q).await?))
}

/// One case (its applicant and the org's officers; officer reads are audited).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Case),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/cases/{id}")]
async fn get_case(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Case>> {
    let (c, viewer) = case_for(&state.db, &me, id.into_inner()).await?;
    if viewer == Viewer::Officer {
        viewing::audit_read(&state.db, &me, &c, ip(&req, &state)).await?;
    }
    Ok(web::Json(
        viewing::view(&state.db, &state.data_key, c, viewer).await?,
    ))
}

/// Sets the hardship class (officers; hardship cases only).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = PatchCase,
    responses(
        (status = 200, body = Case),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The applicant", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "not_hardship, invalid_hardship_class", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[patch("/cases/{id}")]
async fn patch_case(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<PatchCase>,
) -> AppResult<web::Json<Case>> {
    let c = officer_case(&state.db, &me, id.into_inner()).await?;
    let row =
        workflow::set_class(&state.db, &me, c, &body.hardship_class, ip(&req, &state)).await?;
    Ok(web::Json(
        viewing::view(&state.db, &state.data_key, row, Viewer::Officer).await?,
    ))
}

/// Moves a case along its status machine.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = Transition,
    responses(
        (status = 200, body = Case),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The applicant asking for an officer's move", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "invalid_transition", body = ErrorBody),
        (status = 422, description = "note_required, invalid_note, invalid_amount, invalid_hardship_class, not_hardship", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/cases/{id}/transition")]
async fn transition(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<Transition>,
) -> AppResult<web::Json<Case>> {
    let (c, viewer) = case_for(&state.db, &me, id.into_inner()).await?;
    let m = Move::parse(&c, viewer, body.into_inner())?;
    let (row, sms) = workflow::transition(
        &state.db,
        &state.data_key,
        &me,
        c,
        viewer,
        m,
        ip(&req, &state),
    )
    .await?;
    if !sms.is_empty() {
        crate::notify::service::kick(&state, sms);
    }
    Ok(web::Json(
        viewing::view(&state.db, &state.data_key, row, viewer).await?,
    ))
}

/// Records the payment of a resolved hardship case, once (officers).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = RecordPayment,
    responses(
        (status = 200, body = Case),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The applicant", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_resolved, payment_exists", body = ErrorBody),
        (status = 422, description = "not_hardship, invalid_date, invalid_method, invalid_amount", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/cases/{id}/payment")]
async fn payment(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<RecordPayment>,
) -> AppResult<web::Json<Case>> {
    let c = officer_case(&state.db, &me, id.into_inner()).await?;
    let row =
        workflow::record_payment(&state.db, &me, c, body.into_inner(), ip(&req, &state)).await?;
    Ok(web::Json(
        viewing::view(&state.db, &state.data_key, row, Viewer::Officer).await?,
    ))
}

/// Writes a message on a case (its applicant or officers).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = PostMessage,
    responses(
        (status = 201, body = Message),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "case_closed", body = ErrorBody),
        (status = 422, description = "invalid_body", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/cases/{id}/messages")]
async fn post_message(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<PostMessage>,
) -> AppResult<HttpResponse> {
    let (c, _) = case_for(&state.db, &me, id.into_inner()).await?;
    let m = messages::post_message(&state.db, &state.data_key, &me, &c, &body.body).await?;
    Ok(HttpResponse::Created().json(m))
}

/// Case counts of a region's orgs: all a region admin sees of cases.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = CaseStats),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin covering the region", body = ErrorBody),
        (status = 404, description = "Unknown region", body = ErrorBody),
    )
)]
#[get("/stats/cases")]
async fn case_stats(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<StatsQuery>,
) -> AppResult<web::Json<CaseStats>> {
    let region = admin_region(
        &state.read,
        &me.roles,
        q.region_id,
        Refusal {
            missing: AppError::NotFound,
            refused: AppError::Forbidden("forbidden", "只有该区域的管理员可以查看求助统计"),
            outsiders_first: true,
        },
    )
    .await?;
    Ok(web::Json(stats::stats(&state.read, &region).await?))
}
