//! `/auth/otp`, `/auth/login`, `/auth/refresh`, `/auth/logout`.
use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::auth::client_ip::client_ip;
use crate::auth::dto::{LoginRequest, OtpRequest, OtpSent, RefreshRequest, TokenPair};
use crate::auth::phone::Phone;
use crate::auth::service;
use crate::auth::session;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::Json;
use crate::people;
use crate::state::AppState;

/// Registers the auth routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(request_otp)
        .service(login)
        .service(refresh)
        .service(logout);
}

async fn pair_response(
    state: &AppState,
    user: crate::entity::users::Model,
    new_user: bool,
    access: String,
    refresh_token: String,
    use_cookie: bool,
) -> AppResult<HttpResponse> {
    let view = people::service::user_view(&state.db, &user, None, true).await?;
    let body = TokenPair {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: service::access_ttl(),
        refresh_token: (!use_cookie).then(|| refresh_token.clone()),
        user: view,
        new_user,
    };
    let mut res = HttpResponse::Ok();
    if use_cookie {
        for c in session::cookies(state, refresh_token) {
            res.cookie(c);
        }
    }
    Ok(res.json(body))
}

/// Sends a one-time login code by SMS.
#[utoipa::path(
    tag = "auth",
    request_body = OtpRequest,
    responses(
        (status = 202, description = "Code sent (same answer for unknown phones)", body = OtpSent),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 422, description = "invalid_phone", body = ErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody),
        (status = 503, description = "sms_unavailable", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/auth/otp")]
async fn request_otp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<OtpRequest>,
) -> AppResult<HttpResponse> {
    let phone = Phone::parse(&body.phone)?;
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    service::request_otp(&state, &phone, ip).await?;
    Ok(HttpResponse::Accepted().json(OtpSent {
        expires_in: service::CODE_TTL_SECS as u64,
        resend_after: service::RESEND_SECS as u64,
    }))
}

/// Logs in with the code; a first login creates the account.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "invalid_code", body = ErrorBody),
        (status = 422, description = "invalid_phone", body = ErrorBody),
        (status = 429, description = "code_locked after 5 wrong tries", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/auth/login")]
async fn login(state: web::Data<AppState>, body: Json<LoginRequest>) -> AppResult<HttpResponse> {
    let phone = Phone::parse(&body.phone)?;
    service::verify_code(&state, &phone, body.code.trim()).await?;
    let (user, new_user) = service::find_or_create_user(&state.db, &phone).await?;
    let family = uuid::Uuid::new_v4().to_string();
    let (access, refresh_token) =
        service::issue_pair(&state.db, &state.keys, user.id, &family).await?;
    tracing::info!(user_id = user.id, new_user, "login");
    pair_response(
        &state,
        user,
        new_user,
        access,
        refresh_token,
        body.use_cookie,
    )
    .await
}

/// The refresh token from the body, else from the session cookie; and whether it was the cookie.
/// An empty body is allowed (the cookie then carries the token); a body that is
/// there must be valid JSON.
fn presented_token(req: &HttpRequest, body: &[u8]) -> AppResult<(String, bool)> {
    let parsed = crate::extract::OptionalJson::<RefreshRequest>::parse(body)?
        .into_inner()
        .unwrap_or_default();
    if let Some(t) = parsed.refresh_token.filter(|t| !t.is_empty()) {
        if t.len() > 4096 {
            return Err(AppError::bad_request("refresh_token 太长"));
        }
        return Ok((t, false));
    }
    match session::presented(req) {
        Some(v) => Ok((v, true)),
        None => Err(AppError::Unauthorized("unauthorized", "请先登录")),
    }
}

/// Exchanges a refresh token for a new pair (each refresh token works once).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Invalid, used (login revoked) or expired", body = ErrorBody),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (token, from_cookie) = presented_token(&req, &body)?;
    match service::rotate(&state, &token).await {
        Ok((user, access, next)) => {
            pair_response(&state, user, false, access, next, from_cookie).await
        }
        Err(e) if from_cookie => {
            // Drop a dead cookie so the PWA stops presenting it.
            let mut res = actix_web::ResponseError::error_response(&e);
            for c in session::cleared(&state) {
                let _ = res.add_cookie(&c);
            }
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// Ends the login the refresh token belongs to.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid refresh token", body = ErrorBody),
    )
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (token, _) = presented_token(&req, &body)?;
    service::logout(&state, &token).await?;
    let mut res = HttpResponse::NoContent();
    for c in session::cleared(&state) {
        res.cookie(c);
    }
    Ok(res.finish())
}
