//! Membership routes: joining, the officers' decisions, leaving and removal,
//! a person's memberships and an org's member list.
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};

use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::entity::{memberships, orgs};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, OptionalJson, Query};
use crate::idempotency::{self, Work};
use crate::memberships::access::{self, MembershipAccess};
use crate::memberships::dto::{
    JoinRequest, MEMBER_STATUSES, Member, MemberQuery, Membership, MyMembership, RejectRequest,
    RemoveRequest,
};
use crate::memberships::service::{self, Decision};
use crate::orgs::access::{live_org, managed_org};
use crate::orgs::dto::clean_text;
use crate::pagination::{ListQuery, Page, PageQuery};
use crate::state::AppState;

/// Registers the membership routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(join_org)
        .service(approve_membership)
        .service(reject_membership)
        .service(end_membership)
        .service(my_memberships)
        .service(org_members);
}

/// Asks to join (or joins an open org at once). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "memberships",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "1–64 visible characters"),
    ),
    request_body = JoinRequest,
    responses(
        (status = 201, body = Membership),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already_member", body = ErrorBody),
        (status = 422, description = "profile_incomplete, league_age, gender_required", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/orgs/{id}/join")]
async fn join_org(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    _body: Json<JoinRequest>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_from(&req)?;
    let org = live_org(&state.db, id.into_inner()).await?;
    service::check_joinable(&org, &me.user, crate::clock::today_shanghai())?;
    let user_id = me.id();
    let work: Work<'_, Membership> =
        Box::new(move |txn| Box::pin(async move { service::join(txn, &org, user_id).await }));
    idempotency::created(&state, &req, user_id, key, work).await
}

/// The membership if the caller manages its org; 404 for everyone else,
/// its own member included.
async fn managed_membership(
    state: &AppState,
    me: &AuthUser,
    id: i64,
) -> AppResult<(memberships::Model, orgs::Model)> {
    match access::membership_for(&state.db, me, id).await? {
        (m, org, MembershipAccess::Manager) => Ok((m, org)),
        _ => Err(AppError::NotFound),
    }
}

/// Approves a pending membership (the org's managers).
#[utoipa::path(
    tag = "memberships",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Membership),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "invalid_transition", body = ErrorBody),
    )
)]
#[post("/memberships/{id}/approve")]
async fn approve_membership(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Membership>> {
    let (m, org) = managed_membership(&state, &me, id.into_inner()).await?;
    let decision = Decision {
        to: "active",
        reason: None,
        actor: me.id(),
        ip: ip(&req, &state),
    };
    Ok(web::Json(service::decide(&state, m, &org, decision).await?))
}

/// Rejects a pending membership with a reason (the org's managers).
#[utoipa::path(
    tag = "memberships",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = RejectRequest,
    responses(
        (status = 200, body = Membership),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "invalid_transition", body = ErrorBody),
        (status = 422, description = "invalid_reason", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/memberships/{id}/reject")]
async fn reject_membership(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<RejectRequest>,
) -> AppResult<web::Json<Membership>> {
    // Whoever may not decide learns nothing, not even that the reason is wrong.
    let (m, org) = managed_membership(&state, &me, id.into_inner()).await?;
    let reason = clean_text(&body.reason, 500, "invalid_reason", "理由应为1到500个字")?;
    let decision = Decision {
        to: "rejected",
        reason: Some(reason),
        actor: me.id(),
        ip: ip(&req, &state),
    };
    Ok(web::Json(service::decide(&state, m, &org, decision).await?))
}

/// Ends a membership: the member leaves, or a manager removes (optional `{"reason"}`).
#[utoipa::path(
    tag = "memberships",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = Option<RemoveRequest>, description = "Optional, for a removal"),
    responses(
        (status = 204),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "invalid_transition", body = ErrorBody),
        (status = 422, description = "invalid_reason", body = ErrorBody),
    )
)]
#[delete("/memberships/{id}")]
async fn end_membership(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: OptionalJson<RemoveRequest>,
) -> AppResult<HttpResponse> {
    let (m, org, standing) = access::membership_for(&state.db, &me, id.into_inner()).await?;
    let by_manager = match standing {
        MembershipAccess::Member => None,
        MembershipAccess::Manager => {
            let remove = body.into_inner().unwrap_or_default();
            let reason = match remove.reason {
                Some(r) => Some(clean_text(&r, 500, "invalid_reason", "理由应为1到500个字")?),
                None => None,
            };
            Some((me.id(), reason, ip(&req, &state)))
        }
    };
    service::end(&state.db, m, &org, by_manager).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's memberships, with the orgs' names.
#[utoipa::path(
    tag = "memberships",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Page<MyMembership>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/me/memberships")]
async fn my_memberships(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Page<MyMembership>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    Ok(web::Json(
        service::my_memberships(&state.read, me.id(), &page).await?,
    ))
}

/// Members of an org with their full phones (the org's managers; audited).
#[utoipa::path(
    tag = "memberships",
    security(("bearer" = [])),
    params(("id" = i64, Path), MemberQuery),
    responses(
        (status = 200, body = Page<Member>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
#[get("/orgs/{id}/members")]
async fn org_members(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    q: Query<MemberQuery>,
) -> AppResult<web::Json<Page<Member>>> {
    let org = managed_org(&state.db, &me, id.into_inner()).await?;
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) if MEMBER_STATUSES.contains(&s) => Some(s),
        Some(_) => return Err(AppError::bad_request("status 不正确")),
    };
    Ok(web::Json(
        service::members(&state.db, &org, status, &page, me.id(), ip(&req, &state)).await?,
    ))
}
