//! `/me`: the caller's own profile, export and deletion.
use actix_web::{HttpResponse, delete, get, patch, web};

use crate::auth::AuthUser;
use crate::error::{AppResult, ErrorBody};
use crate::export;
use crate::extract::Json;
use crate::people::dto::{Deleted, PatchMe, User};
use crate::people::service;
use crate::state::AppState;

/// Registers the `/me` routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(get_me)
        .service(patch_me)
        .service(export_me)
        .service(delete_me);
}

/// The caller.
#[utoipa::path(
    tag = "people",
    security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody))
)]
#[get("/me")]
async fn get_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<web::Json<User>> {
    Ok(web::Json(
        service::user_view(&state.read, &me.user, Some(&me.roles), true).await?,
    ))
}

/// Changes the caller's profile; fields left out stay as they are.
#[utoipa::path(
    tag = "people",
    security(("bearer" = [])),
    request_body = PatchMe,
    responses(
        (status = 200, body = User),
        (status = 400, description = "Malformed body or unknown field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "invalid_name, invalid_gender, invalid_birth_date, invalid_unit, invalid_platform", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[patch("/me")]
async fn patch_me(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<PatchMe>,
) -> AppResult<web::Json<User>> {
    let updated = service::patch_me(&state.db, &me.user, body.into_inner()).await?;
    Ok(web::Json(
        service::user_view(&state.db, &updated, Some(&me.roles), true).await?,
    ))
}

/// Everything stored about the caller, as JSON.
#[utoipa::path(
    tag = "people",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's data", body = Object), (status = 401, body = ErrorBody))
)]
#[get("/me/export")]
async fn export_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let data = service::export(&state.read, &me.user, &me.roles).await?;
    Ok(export::attachment("application/json", "qunjia-my-data.json").json(data))
}

/// Anonymises the caller's account (PIPL right to deletion).
#[utoipa::path(
    tag = "people",
    security(("bearer" = [])),
    responses((status = 202, body = Deleted), (status = 401, body = ErrorBody))
)]
#[delete("/me")]
async fn delete_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    service::anonymise(&state.db, &me.user).await?;
    let mut res = HttpResponse::Accepted();
    for c in crate::auth::session::cleared(&state) {
        res.cookie(c);
    }
    Ok(res.json(Deleted {
        status: "anonymised".into(),
    }))
}
