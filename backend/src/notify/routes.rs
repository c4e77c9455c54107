//! `/me/notifications` routes: the caller's own inbox, nobody else's.
use actix_web::{HttpResponse, get, post, web};

use crate::auth::AuthUser;
use crate::error::{AppResult, ErrorBody};
use crate::extract::Query;
use crate::notify::service::{self, InboxQuery, Notification, UnreadCount};
use crate::pagination::Page;
use crate::state::AppState;

/// Registers the inbox routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(list)
        .service(unread_count)
        .service(read_all)
        .service(read_one);
}

/// The caller's notifications, newest first (`unread=true` for unread only).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(InboxQuery),
    responses(
        (status = 200, body = Page<Notification>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/me/notifications")]
async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    q: Query<InboxQuery>,
) -> AppResult<web::Json<Page<Notification>>> {
    Ok(web::Json(service::inbox(&state.read, me.id(), &q).await?))
}

/// How many of the caller's notifications are unread (the badge).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UnreadCount),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/me/notifications/unread-count")]
async fn unread_count(
    state: web::Data<AppState>,
    me: AuthUser,
) -> AppResult<web::Json<UnreadCount>> {
    let unread = service::unread_count(&state.read, me.id()).await?;
    Ok(web::Json(UnreadCount { unread }))
}

/// Marks all of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "All read"),
        (status = 401, body = ErrorBody),
    )
)]
#[post("/me/notifications/read-all")]
async fn read_all(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    service::mark_all_read(&state.db, me.id()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks one of the caller's notifications read (again: 204, time unchanged).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Read"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Not the caller's, or no such notification", body = ErrorBody),
    )
)]
#[post("/me/notifications/{id}/read")]
async fn read_one(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::mark_read(&state.db, me.id(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
