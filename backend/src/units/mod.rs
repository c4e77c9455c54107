//! Units (enterprises and social organizations). This capability so far gives
//! workers a way to pick their workplace; the register itself arrives with orgs.
pub mod uscc;

use actix_web::{get, web};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::entity::units;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

/// Registers the unit routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(lookup_units);
}

/// What a worker sees of a unit when choosing a workplace (public registration facts).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnitBrief {
    /// Id.
    pub id: i64,
    /// Registered name.
    pub name: String,
    /// enterprise, social_org, association or platform.
    pub kind: String,
    /// The region it is registered in.
    pub region_id: i64,
}

/// Query of `GET /units/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// Part of the name, at least 2 characters.
    pub q: String,
    /// Page size (default 20, max 100).
    pub limit: Option<u64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
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
    q: web::Query<LookupQuery>,
) -> AppResult<web::Json<Page<UnitBrief>>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let term = q.q.trim();
    let n = term.chars().count();
    if !(2..=50).contains(&n) {
        return Err(AppError::bad_request("请输入2到50个字查找"));
    }
    let mut select = units::Entity::find().filter(
        sea_orm::sea_query::Expr::col(units::Column::Name)
            .like(sea_orm::sea_query::LikeExpr::new(like_pattern(term)).escape('\\')),
    );
    if let Some(after) = page.after {
        select = select.filter(units::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(units::Column::Id)
        .limit(page.limit + 1)
        .all(&state.db)
        .await?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::like_pattern("a%b_c"), "%a\\%b\\_c%");
    }
}
