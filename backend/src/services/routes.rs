//! `/services` routes.
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::orgs::access::{can_manage, live_org};
use crate::pagination::Page;
use crate::services::dto::{CreateService, PatchService, Service, ServiceQuery};
use crate::services::service;
use crate::state::AppState;

/// Registers the service catalogue routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(create_service)
        .service(list_services)
        .service(get_service)
        .service(patch_service);
}

const NOT_MANAGER: &str = "只有该组织的管理员可以管理服务项目";

/// Offers a service of an org (its org_admins and covering region admins).
#[utoipa::path(
    tag = "services",
    security(("bearer" = [])),
    request_body = CreateService,
    responses(
        (status = 201, body = Service),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a manager of the org", body = ErrorBody),
        (status = 404, description = "Unknown or dissolved org", body = ErrorBody),
        (status = 422, description = "invalid_kind, invalid_title, invalid_description", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/services")]
async fn create_service(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateService>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let org = live_org(&state.db, body.org_id).await?;
    if !can_manage(&state.db, &me, &org).await? {
        return Err(AppError::Forbidden("forbidden", NOT_MANAGER));
    }
    let row = service::create(&state.db, &me, &org, body, ip(&req, &state)).await?;
    let member = service::member_org_ids(&state.db, me.id())
        .await?
        .contains(&org.id);
    Ok(HttpResponse::Created().json(Service::new(row, org.name, member)))
}

/// Services, by id; `mine=true` for those of the caller's orgs.
#[utoipa::path(
    tag = "services",
    security(("bearer" = [])),
    params(ServiceQuery),
    responses(
        (status = 200, body = Page<Service>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/services")]
async fn list_services(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<ServiceQuery>,
) -> AppResult<web::Json<Page<Service>>> {
    Ok(web::Json(service::list(&state.read, &me, &q).await?))
}

/// One service (an inactive one only for the org's managers).
#[utoipa::path(
    tag = "services",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Service),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/services/{id}")]
async fn get_service(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Service>> {
    Ok(web::Json(
        service::visible(&state.read, &me, id.into_inner()).await?,
    ))
}

/// Changes a service (the org's managers).
#[utoipa::path(
    tag = "services",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = PatchService,
    responses(
        (status = 200, body = Service),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_title, invalid_description", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[patch("/services/{id}")]
async fn patch_service(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<PatchService>,
) -> AppResult<web::Json<Service>> {
    let (s, org) = service::service_with_org(&state.db, id.into_inner()).await?;
    if !can_manage(&state.db, &me, &org).await? {
        // Nobody else learns an inactive service exists.
        return Err(if s.active {
            AppError::Forbidden("forbidden", NOT_MANAGER)
        } else {
            AppError::NotFound
        });
    }
    let row = service::patch(&state.db, &me, s, &org, body.into_inner(), ip(&req, &state)).await?;
    let member = service::member_org_ids(&state.db, me.id())
        .await?
        .contains(&org.id);
    Ok(web::Json(Service::new(row, org.name, member)))
}
