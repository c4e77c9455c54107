//! Two instances on one database, as behind a load balancer: everything that
//! matters lives in the database, so a login may hop between them.
//! Runs on PostgreSQL when `QUNJIA_TEST_PG` is set, on SQLite otherwise.
use serde_json::json;

use crate::helpers::*;
use crate::support::{LOGOUT, OTP, TestApp, error_code, spawn_app, spawn_on};

const PHONE: &str = "13812345678";

async fn two_instances() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let b = spawn_on(a.db.clone(), |_| {}).await;
    assert_ne!(a.port, b.port);
    (a, b)
}

#[tokio::test]
async fn login_returns_200_on_one_instance_when_the_code_was_asked_on_the_other() {
    // Arrange
    let (a, b) = two_instances().await;
    let code = a.request_code(PHONE).await;

    // Act
    let (status, body) = status_json(b.login_raw(PHONE, &code).await).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["new_user"], true);
    let access = body["access_token"].as_str().expect("access");
    let refresh_token = body["refresh_token"].as_str().expect("refresh");
    let (status, me) = status_json(a.get_auth("/api/v1/me", access).await).await;
    assert_eq!(
        (status, me["id"].clone()),
        (200, body["user"]["id"].clone())
    );
    // Refresh on the first instance, then replay the spent token on the second.
    let (status, pair) = status_json(a.refresh(refresh_token).await).await;
    assert_eq!(status, 200, "{pair}");
    let res = b.refresh(refresh_token).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    let newest = pair["refresh_token"].as_str().expect("refresh");
    let res = a.refresh(newest).await;
    assert_eq!(
        error_code(res).await,
        (401, "unauthorized".into()),
        "the replay on B revoked the login for A too"
    );
}

#[tokio::test]
async fn otp_returns_429_on_the_second_instance_when_the_first_sent_a_code_within_60_s() {
    // Arrange
    let (a, b) = two_instances().await;
    a.request_code(PHONE).await;

    // Act
    let res = b.post_json(OTP, &json!({ "phone": PHONE })).await;

    // Assert
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    assert_eq!(b.gateway.count(), 0);
    assert_eq!(a.gateway.count(), 1);
}

#[tokio::test]
async fn login_returns_429_code_locked_on_either_instance_when_wrong_tries_were_spread() {
    // Arrange
    let (a, b) = two_instances().await;
    let code = a.request_code(PHONE).await;
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let res = node.login_raw(PHONE, &other_code(&code)).await;
        assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    }

    // Act
    let res = b.login_raw(PHONE, &code).await;

    // Assert
    assert_eq!(error_code(res).await, (429, "code_locked".into()));
}

#[tokio::test]
async fn logout_returns_204_on_one_instance_and_refresh_returns_401_on_the_other() {
    // Arrange
    let (a, b) = two_instances().await;
    let s = a.login(PHONE).await;

    // Act
    let out = b
        .post_json(LOGOUT, &json!({ "refresh_token": s.refresh }))
        .await;

    // Assert
    assert_eq!(out.status().as_u16(), 204);
    let res = a.refresh(&s.refresh).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}
