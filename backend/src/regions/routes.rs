//! `GET /regions` (public), `GET /regions/{id}`, `POST /regions` (admin of the parent).
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::auth::scope::{Refusal, admin_region};
use crate::entity::regions;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::pagination::{Page, PageQuery};
use crate::regions::service::{self, NewRegion};
use crate::state::AppState;

/// Registers the region routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(list_regions)
        .service(get_region)
        .service(create_region);
}

/// A region of the tree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Region {
    /// Id.
    pub id: i64,
    /// GB/T 2260 or statistical code.
    pub code: String,
    /// Name.
    pub name: String,
    /// province, city, county, township, park, building, market.
    pub kind: String,
    /// Park level: national, provincial, municipal; null for other kinds.
    pub level: Option<String>,
    /// Parent region (null for the province).
    pub parent_id: Option<i64>,
}

impl From<regions::Model> for Region {
    fn from(m: regions::Model) -> Self {
        Region {
            id: m.id,
            code: m.code,
            name: m.name,
            kind: m.kind,
            level: m.level,
            parent_id: m.parent_id,
        }
    }
}

/// Filter of `GET /regions`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RegionQuery {
    /// Children of this region; without it, the top-level regions.
    pub parent_id: Option<i64>,
    /// Page size (default 20, max 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// `POST /regions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRegion {
    /// 6–12 digit statistical code, unique. Required for counties and townships;
    /// parks, buildings and markets may leave it out, and then get
    /// `<parent code>-<id>` from the server.
    pub code: Option<String>,
    /// Name.
    pub name: String,
    /// county, township, park, building or market.
    pub kind: String,
    /// For parks: national, provincial or municipal (default municipal).
    pub level: Option<String>,
    /// The parent region.
    pub parent_id: i64,
}

/// Lists the children of a region (public, for pickers and the tree browser).
#[utoipa::path(
    tag = "regions",
    params(RegionQuery),
    responses((status = 200, body = Page<Region>), (status = 400, body = ErrorBody))
)]
#[get("/regions")]
async fn list_regions(
    state: web::Data<AppState>,
    q: Query<RegionQuery>,
) -> AppResult<web::Json<Page<Region>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let mut select = regions::Entity::find();
    select = match q.parent_id {
        Some(p) => select.filter(regions::Column::ParentId.eq(p)),
        None => select.filter(regions::Column::ParentId.is_null()),
    };
    let rows = page
        .ascending(select, regions::Column::Id)
        .all(&state.read)
        .await?;
    Ok(web::Json(page.finish(rows, |r| r.id, Region::from)))
}

/// One region.
#[utoipa::path(
    tag = "regions",
    params(("id" = i64, Path)),
    responses((status = 200, body = Region), (status = 404, body = ErrorBody))
)]
#[get("/regions/{id}")]
async fn get_region(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<web::Json<Region>> {
    let r = regions::Entity::find_by_id(id.into_inner())
        .one(&state.read)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(web::Json(r.into()))
}

/// Adds a county, township, park, building or market under a region the caller administers.
#[utoipa::path(
    tag = "regions",
    security(("bearer" = [])),
    request_body = CreateRegion,
    responses(
        (status = 201, body = Region),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin of the parent", body = ErrorBody),
        (status = 409, description = "region_exists", body = ErrorBody),
        (status = 422, description = "invalid_region_code, invalid_name, invalid_kind, invalid_level, invalid_parent", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/regions")]
async fn create_region(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<CreateRegion>,
) -> AppResult<HttpResponse> {
    let new = NewRegion::parse(
        body.code.as_deref(),
        &body.name,
        &body.kind,
        body.level.as_deref(),
    )?;
    let parent = admin_region(
        &state.db,
        &me.roles,
        body.parent_id,
        Refusal {
            missing: AppError::rule("invalid_parent", "上级区域不存在"),
            refused: AppError::Forbidden("forbidden", "只有上级区域的管理员可以添加"),
            outsiders_first: false,
        },
    )
    .await?;
    let ip = crate::audit::client_ip_of(&req, &state);
    let created = service::create(&state.db, parent, new, me.id(), ip).await?;
    Ok(HttpResponse::Created().json(Region::from(created)))
}
