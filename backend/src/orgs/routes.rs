//! Organization and leader routes. Handlers parse, ask `access`,
//! and hand the work to `service`.
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};

use crate::audit::client_ip_of as ip;
use crate::auth::AuthUser;
use crate::auth::scope::{Refusal, admin_region};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::orgs::access;
use crate::orgs::dto::{
    CreateLeader, CreateOrg, Leader, Org, OrgPoster, OrgQuery, SuggestedOrg, clean_text,
};
use crate::orgs::service::{self, NewOrg};
use crate::pagination::{ListQuery, Page, PageQuery};
use crate::state::AppState;

/// Registers the organization routes (`by-code` before the `{id}` ones).
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(org_by_code)
        .service(create_org)
        .service(list_orgs)
        .service(get_org)
        .service(join_qr)
        .service(suggested_orgs)
        .service(add_leader)
        .service(list_leaders)
        .service(remove_leader);
}

/// Sets up a mass organization for units of a region the caller administers.
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    request_body = CreateOrg,
    responses(
        (status = 201, body = Org),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the region", body = ErrorBody),
        (status = 422, description = "invalid_region, invalid_name, invalid_type, invalid_form, invalid_join_policy, too_many_units, duplicate_unit, invalid_unit, unit_outside_region, invalid_form_units, invalid_form_region", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/orgs")]
async fn create_org(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateOrg>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    admin_region(
        &state.db,
        &me.roles,
        body.region_id,
        Refusal {
            missing: AppError::rule("invalid_region", "找不到这个区域"),
            refused: AppError::Forbidden("forbidden", "只有该区域的管理员可以建立组织"),
            outsiders_first: true,
        },
    )
    .await?;
    let new = NewOrg::parse(body)?;
    let org = service::create(&state.db, new, me.id(), ip(&req, &state)).await?;
    Ok(HttpResponse::Created().json(org))
}

/// Lists live organizations (public data; join codes only where the caller manages).
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    params(OrgQuery),
    responses((status = 200, body = Page<Org>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/orgs")]
async fn list_orgs(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<OrgQuery>,
) -> AppResult<web::Json<Page<Org>>> {
    Ok(web::Json(service::list(&state.read, &me, &q).await?))
}

/// One live organization.
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Org), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/orgs/{id}")]
async fn get_org(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<Org>> {
    let org = access::live_org(&state.read, id.into_inner()).await?;
    let mut views = service::views_for(&state.read, &me, vec![org]).await?;
    views.pop().map(web::Json).ok_or(AppError::NotFound)
}

/// The join poster's data, found by the code on the poster (public, no login).
#[utoipa::path(
    tag = "orgs",
    params(("join_code" = String, Path)),
    responses((status = 200, body = OrgPoster), (status = 404, body = ErrorBody))
)]
#[get("/orgs/by-code/{join_code}")]
async fn org_by_code(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> AppResult<web::Json<OrgPoster>> {
    Ok(web::Json(service::poster(&state.read, &code).await?))
}

/// The join poster's QR code: `<public url>/join/<join_code>` (the org's managers).
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "SVG image", content_type = "image/svg+xml", body = String),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
#[get("/orgs/{id}/join-qr.svg")]
async fn join_qr(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let org = access::managed_org(&state.read, &me, id.into_inner()).await?;
    let svg = service::qr_svg(&service::join_url(
        &state.settings.public_url,
        &org.join_code,
    ))?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Organizations of the caller's workplace, and online ones of their platform.
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    responses((status = 200, body = Page<SuggestedOrg>), (status = 401, body = ErrorBody))
)]
#[get("/me/orgs/suggested")]
async fn suggested_orgs(
    state: web::Data<AppState>,
    me: AuthUser,
) -> AppResult<web::Json<Page<SuggestedOrg>>> {
    Ok(web::Json(Page {
        items: service::suggested(&state.read, &me).await?,
        next_cursor: None,
    }))
}

/// Adds a leader (班子成员) from the org's active members (the org's managers).
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = CreateLeader,
    responses(
        (status = 201, body = Leader),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already_leader", body = ErrorBody),
        (status = 422, description = "invalid_position, not_member", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/orgs/{id}/leaders")]
async fn add_leader(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<CreateLeader>,
) -> AppResult<HttpResponse> {
    let org = access::managed_org(&state.db, &me, id.into_inner()).await?;
    let position = clean_text(&body.position, 50, "invalid_position", "职务应为1到50个字")?;
    let leader = service::add_leader(
        &state.db,
        &org,
        body.user_id,
        position,
        me.id(),
        ip(&req, &state),
    )
    .await?;
    Ok(HttpResponse::Created().json(leader))
}

/// An org's leaders: names and positions (any logged-in user).
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    params(("id" = i64, Path), ListQuery),
    responses(
        (status = 200, body = Page<Leader>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
#[get("/orgs/{id}/leaders")]
async fn list_leaders(
    state: web::Data<AppState>,
    _me: AuthUser,
    id: web::Path<i64>,
    q: Query<ListQuery>,
) -> AppResult<web::Json<Page<Leader>>> {
    let org = access::live_org(&state.read, id.into_inner()).await?;
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    Ok(web::Json(
        service::leaders_of(&state.read, org.id, &page).await?,
    ))
}

/// Removes a leader (the org's managers).
#[utoipa::path(
    tag = "orgs",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("leader_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/orgs/{id}/leaders/{leader_id}")]
async fn remove_leader(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, leader_id) = path.into_inner();
    let org = access::managed_org(&state.db, &me, id).await?;
    service::remove_leader(&state.db, &org, leader_id, me.id(), ip(&req, &state)).await?;
    Ok(HttpResponse::NoContent().finish())
}
