//! What the API tests share on top of `support`: raw requests, database
//! look-ups, and moving rate-limit windows back instead of waiting.
#![allow(dead_code)]

use reqwest::header::CONTENT_TYPE;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Value as DbValue};
use serde_json::{Value, json};

use crate::support::TestApp;

/// Paths of the auth endpoints.
pub const OTP: &str = "/api/v1/auth/otp";
pub const LOGIN: &str = "/api/v1/auth/login";
pub const REFRESH: &str = "/api/v1/auth/refresh";
pub const LOGOUT: &str = "/api/v1/auth/logout";

/// The status and JSON body of a response (`Null` when the body is not JSON).
pub async fn status_json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// POSTs a body as it is, with the given content type.
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("request")
}

/// PATCH with a bearer token.
pub async fn patch_auth(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request")
}

/// DELETE with a bearer token.
pub async fn delete_auth(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

/// A plain GET.
pub async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

/// `POST /auth/login` with a phone and code.
pub async fn login_raw(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    app.post_json(LOGIN, &json!({ "phone": phone, "code": code }))
        .await
}

/// `POST /auth/refresh` with a token in the body.
pub async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(REFRESH, &json!({ "refresh_token": token }))
        .await
}

/// A well-formed code that is not `code`.
pub fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("numeric code");
    format!("{:06}", (n + 1) % 1_000_000)
}

/// Rows of an entity's table.
pub async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    E::find().count(&app.state.db).await.expect("count")
}

/// Runs SQL written with `?` placeholders on either engine; returns rows affected.
pub async fn exec(app: &TestApp, sql: &str, values: Vec<DbValue>) -> u64 {
    let db = &app.state.db;
    db.execute_raw(qunjia::db::stmt(db.get_database_backend(), sql, values))
        .await
        .expect("sql")
        .rows_affected()
}

/// Moves a rate-limit window back by `secs`, as if that much time had passed.
pub async fn rewind_limit(app: &TestApp, key: &str, secs: i64) {
    let n = exec(
        app,
        "UPDATE rate_limits SET window_start = window_start - ? WHERE \"key\" = ?",
        vec![(secs * 1000).into(), key.into()],
    )
    .await;
    assert_eq!(n, 1, "rate limit {key} exists");
}

/// Lets a phone ask for a new code now, as if its minute had passed.
pub async fn allow_resend(app: &TestApp, phone: &str) {
    rewind_limit(app, &format!("otp:phone:{phone}:min"), 61).await;
}

/// Asks for another code for a phone that already asked within the minute.
pub async fn new_code(app: &TestApp, phone: &str) -> String {
    allow_resend(app, phone).await;
    app.request_code(phone).await
}

/// Every rate-limit key with its count.
pub async fn rate_limits(app: &TestApp) -> Vec<(String, i32)> {
    let db = &app.state.db;
    db.query_all_raw(qunjia::db::stmt(
        db.get_database_backend(),
        "SELECT \"key\", count FROM rate_limits ORDER BY \"key\"",
        vec![],
    ))
    .await
    .expect("select")
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "key").expect("key"),
            r.try_get::<i32>("", "count").expect("count"),
        )
    })
    .collect()
}

/// The `Retry-After` seconds of a response.
pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .expect("Retry-After present")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

/// The value of cookie `name` in a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str, name: &str) -> Option<String> {
    let first = set_cookie.split(';').next()?;
    let (n, v) = first.split_once('=')?;
    (n.trim() == name).then(|| v.trim().to_owned())
}
