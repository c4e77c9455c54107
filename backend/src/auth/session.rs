//! The session cookie of the PWA: it carries the refresh token, HttpOnly,
//! SameSite=Strict and sent only to `/api/v1/auth`, so page scripts never see it
//! and no other route receives it. Beside it goes a marker (`qunjia_session=1`,
//! readable by the page, holding nothing secret) that only says a session may
//! exist, so a signed-out page does not ask `/auth/refresh` just to hear 401.
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use crate::auth::jwt::REFRESH_TTL_SECS;
use crate::state::AppState;

/// The cookie's name.
pub const SESSION_COOKIE: &str = "qunjia_refresh";
const COOKIE_PATH: &str = "/api/v1/auth";

fn build(state: &AppState, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.public_url.starts_with("https://"))
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// The marker's name: its presence means "a session cookie may be there".
pub const MARKER_COOKIE: &str = "qunjia_session";

fn marker(state: &AppState, value: &str, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(MARKER_COOKIE, value.to_owned())
        .path("/")
        .same_site(SameSite::Strict)
        .secure(state.settings.public_url.starts_with("https://"))
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// The cookie holding a refresh token, for as long as the token lives, and its marker.
pub fn cookies(state: &AppState, refresh_token: String) -> [Cookie<'static>; 2] {
    [
        build(state, refresh_token, REFRESH_TTL_SECS),
        marker(state, "1", REFRESH_TTL_SECS),
    ]
}

/// Removes the session cookie and its marker from the browser.
pub fn cleared(state: &AppState) -> [Cookie<'static>; 2] {
    [build(state, String::new(), 0), marker(state, "", 0)]
}

/// The refresh token the browser presented in the cookie, if any.
pub fn presented(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}
