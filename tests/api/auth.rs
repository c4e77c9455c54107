//! API.md "Auth": one-time codes and their limits, login, refresh-token
//! rotation, logout and the PWA's session cookie.
use futures_util::future::join_all;
use qunjia::entity::{otp_codes, refresh_tokens, users};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{LOGIN, LOGOUT, OTP, REFRESH, TestApp, error_code, spawn_app, spawn_app_with};

const PHONE: &str = "13812345678";

/// Asserts nothing of a refused code request was kept: no code, no counter, no SMS.
async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.count::<otp_codes::Entity>().await, 0, "no code stored");
    assert_eq!(app.rate_limits().await, vec![], "no limit counted");
    assert_eq!(app.gateway.count(), 0, "no SMS sent");
    assert_eq!(app.count::<users::Entity>().await, 0, "no user created");
}

async fn otp_codes_of(app: &TestApp, phone: &str) -> Vec<otp_codes::Model> {
    otp_codes::Entity::find()
        .filter(otp_codes::Column::Phone.eq(phone))
        .all(&app.state.db)
        .await
        .expect("select")
}

async fn otp_from(app: &TestApp, phone: &str, forwarded: &str) -> reqwest::Response {
    app.client
        .post(app.url(OTP))
        .header("X-Forwarded-For", forwarded)
        .json(&json!({ "phone": phone }))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn otp_returns_202_with_expiry_and_resend_delay_when_phone_is_valid() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.post_json(OTP, &json!({ "phone": PHONE })).await;

    // Assert
    let (status, body) = status_json(res).await;
    assert_eq!(status, 202);
    assert_eq!(body, json!({ "expires_in": 300, "resend_after": 60 }));
    let code = app.gateway.last_code(PHONE).expect("SMS sent");
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let rows = otp_codes_of(&app, PHONE).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].expires_at - rows[0].created_at, 300_000);
    assert_eq!(rows[0].attempts, 0);
    assert_eq!(rows[0].used_at, None);
    assert!(!rows[0].code_hash.contains(&code), "code kept only hashed");
}

#[tokio::test]
async fn login_returns_200_for_one_account_when_phone_is_written_in_each_accepted_form() {
    // Arrange
    let app = spawn_app().await;
    let forms = [
        "13812345678",
        "+8613812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138-1234-5678",
        "(+86) 138 1234 5678",
        "0086 138 1234 5678",
        "１３８１２３４５６７８",
        "１３８－１２３４－５６７８",
    ];
    let mut ids = Vec::new();

    for (i, form) in forms.iter().enumerate() {
        if i > 0 {
            app.allow_resend(PHONE).await;
        }
        // Act: ask in one form, log in with the next.
        let res = app.post_json(OTP, &json!({ "phone": form })).await;
        assert_eq!(res.status().as_u16(), 202, "otp with {form:?}");
        let code = app.gateway.last_code(PHONE).expect("SMS to the 11 digits");
        let login_form = forms[(i + 1) % forms.len()];
        let (status, body) = status_json(app.login_raw(login_form, &code).await).await;

        // Assert
        assert_eq!(status, 200, "login with {login_form:?}: {body}");
        assert_eq!(body["user"]["phone"], PHONE);
        assert_eq!(body["new_user"], i == 0);
        ids.push(body["user"]["id"].as_i64().expect("id"));
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.gateway.count(), forms.len());
    assert_eq!(app.count::<users::Entity>().await, 1);
}

#[tokio::test]
async fn otp_returns_422_invalid_phone_when_phone_is_not_a_mainland_mobile() {
    // Arrange
    let app = spawn_app().await;
    let long = "1".repeat(40);
    let bad = [
        "",
        "abc",
        "1381234567",
        "138123456789",
        "12812345678",
        "10812345678",
        "23812345678",
        "+8513812345678",
        "00861381234567",
        "+13812345678",
        "13812345678+",
        "138.1234.5678",
        "138/1234/5678",
        "１３８１２３４５６７",
        "138\u{200B}12345678",
        "1381234567x",
        long.as_str(),
    ];

    for phone in bad {
        // Act
        let res = app.post_json(OTP, &json!({ "phone": phone })).await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (422, "invalid_phone".into()),
            "{phone:?}"
        );
    }
    let res = app.login_raw("12345", "123456").await;
    assert_eq!(error_code(res).await, (422, "invalid_phone".into()));
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn otp_returns_400_bad_request_when_body_is_malformed_or_mistyped() {
    // Arrange
    let app = spawn_app().await;
    let bodies = [
        r#"{"phone":"#,
        "not json",
        "",
        "[]",
        r#"["13812345678"]"#,
        "{}",
        r#"{"phone": null}"#,
        r#"{"phone": 13812345678}"#,
        r#"{"phone": ["13812345678"]}"#,
        r#"{"phone": {"n": "13812345678"}}"#,
    ];

    for body in bodies {
        // Act
        let res = app.post_raw(OTP, "application/json", body).await;

        // Assert
        let content_type = res.headers()[reqwest::header::CONTENT_TYPE].clone();
        let (status, json) = status_json(res).await;
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(json["error"]["code"], "bad_request", "{body:?}");
        assert!(!json["error"]["message"].as_str().unwrap_or("").is_empty());
        assert!(
            content_type
                .to_str()
                .unwrap_or("")
                .starts_with("application/json")
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn otp_returns_413_payload_too_large_when_body_exceeds_64_kib() {
    // Arrange
    let app = spawn_app().await;
    let big = json!({ "phone": PHONE, "pad": "x".repeat(70 * 1024) }).to_string();

    // Act
    let res = app.post_raw(OTP, "application/json", big).await;

    // Assert
    assert_eq!(error_code(res).await, (413, "payload_too_large".into()));
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn otp_returns_202_when_body_is_just_under_64_kib() {
    // Arrange: the limit is the one of API.md, not a smaller one.
    let app = spawn_app().await;
    let body = json!({ "phone": PHONE, "pad": "x".repeat(60 * 1024) }).to_string();

    // Act
    let res = app.post_raw(OTP, "application/json", body).await;

    // Assert
    assert_eq!(res.status().as_u16(), 202);
    assert!(app.gateway.last_code(PHONE).is_some());
}

#[tokio::test]
async fn otp_returns_415_unsupported_media_type_when_content_type_is_not_json() {
    // Arrange
    let app = spawn_app().await;
    let json_text = json!({ "phone": PHONE }).to_string();

    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        // Act
        let res = app.post_raw(OTP, content_type, json_text.clone()).await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (415, "unsupported_media_type".into()),
            "{content_type}"
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn login_returns_400_and_counts_no_wrong_try_when_body_is_malformed() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;
    let bodies = [
        json!({ "phone": PHONE }).to_string(),
        json!({ "phone": PHONE, "code": 123456 }).to_string(),
        json!({ "phone": PHONE, "code": code, "use_cookie": "yes" }).to_string(),
        format!(r#"{{"phone":"{PHONE}","code":"{code}""#),
    ];

    for body in &bodies {
        // Act
        let res = app.post_raw(LOGIN, "application/json", body.clone()).await;

        // Assert
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{body}");
    }
    let rows = otp_codes_of(&app, PHONE).await;
    assert_eq!((rows[0].attempts, rows[0].used_at), (0, None));
    assert_eq!(app.count::<users::Entity>().await, 0);
    assert_eq!(app.login_raw(PHONE, &code).await.status().as_u16(), 200);
}

#[tokio::test]
async fn otp_returns_the_same_answer_when_phone_is_registered_or_not() {
    // Arrange
    let app = spawn_app().await;
    app.login(PHONE).await;
    app.allow_resend(PHONE).await;

    // Act
    let known = app.post_json(OTP, &json!({ "phone": PHONE })).await;
    let unknown = app.post_json(OTP, &json!({ "phone": "13900000000" })).await;

    // Assert
    let names = |r: &reqwest::Response| {
        let mut n: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(known.status().as_u16(), 202);
    assert_eq!(unknown.status(), known.status());
    assert_eq!(names(&unknown), names(&known));
    assert_eq!(
        unknown.bytes().await.expect("body"),
        known.bytes().await.expect("body")
    );
    assert!(app.gateway.last_code("13900000000").is_some());
    assert_eq!(app.gateway.count(), 3);
}

#[tokio::test]
async fn otp_returns_429_rate_limited_with_retry_after_when_asked_again_within_60_s() {
    // Arrange
    let app = spawn_app().await;
    app.request_code(PHONE).await;

    // Act
    let res = app.post_json(OTP, &json!({ "phone": PHONE })).await;

    // Assert
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    assert_eq!(app.gateway.count(), 1);
    assert_eq!(app.count::<otp_codes::Entity>().await, 1);
    // Another phone is not held back, and the phone may ask again once the minute is over.
    app.request_code("13900000000").await;
    app.allow_resend(PHONE).await;
    app.request_code(PHONE).await;
    assert_eq!(app.gateway.count(), 3);
}

#[tokio::test]
async fn otp_returns_429_rate_limited_when_phone_already_got_10_codes_today() {
    // Arrange
    let app = spawn_app().await;
    for i in 0..10 {
        if i > 0 {
            app.allow_resend(PHONE).await;
        }
        app.request_code(PHONE).await;
    }
    app.allow_resend(PHONE).await;

    // Act
    let res = app.post_json(OTP, &json!({ "phone": PHONE })).await;

    // Assert
    let wait = retry_after(&res);
    assert!((86_000..=86_400).contains(&wait), "Retry-After {wait}");
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    assert_eq!(app.gateway.count(), 10);
    assert_eq!(app.count::<otp_codes::Entity>().await, 10);
    // A day later the phone may ask again.
    app.rewind_limit(&format!("otp:phone:{PHONE}:day"), 24 * 3600 + 1)
        .await;
    app.allow_resend(PHONE).await;
    app.request_code(PHONE).await;
    assert_eq!(app.gateway.count(), 11);
}

#[tokio::test]
async fn otp_returns_429_rate_limited_when_client_ip_exceeds_its_hourly_limit() {
    // Arrange
    let app = spawn_app_with(|s| s.otp_ip_limit_per_hour = 3).await;
    for phone in ["13900000001", "13900000002", "13900000003"] {
        app.request_code(phone).await;
    }

    // Act
    let res = app.post_json(OTP, &json!({ "phone": "13900000004" })).await;

    // Assert
    let wait = retry_after(&res);
    assert!((3_500..=3_600).contains(&wait), "Retry-After {wait}");
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    assert_eq!(app.gateway.count(), 3);
    assert_eq!(app.count::<otp_codes::Entity>().await, 3);
    assert!(app.gateway.last_code("13900000004").is_none());
}

#[tokio::test]
async fn otp_returns_429_per_forwarded_client_when_peer_is_a_trusted_proxy() {
    // Arrange
    let app = spawn_app_with(|s| {
        s.otp_ip_limit_per_hour = 2;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
    })
    .await;
    for phone in ["13900000001", "13900000002"] {
        let res = otp_from(&app, phone, "203.0.113.1").await;
        assert_eq!(res.status().as_u16(), 202);
    }

    // Act
    let same_client = otp_from(&app, "13900000003", "203.0.113.1").await;
    // A spoofed left-most entry does not matter: the proxy appended the real client.
    let other_client = otp_from(&app, "13900000004", "203.0.113.1, 203.0.113.2").await;

    // Assert
    assert_eq!(error_code(same_client).await, (429, "rate_limited".into()));
    assert_eq!(other_client.status().as_u16(), 202);
    let limits = app.rate_limits().await;
    let ip_limits: Vec<_> = limits
        .iter()
        .filter(|(k, _)| k.starts_with("otp:ip:"))
        .cloned()
        .collect();
    assert_eq!(
        ip_limits,
        vec![
            ("otp:ip:203.0.113.1".to_owned(), 3),
            ("otp:ip:203.0.113.2".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn otp_returns_429_per_socket_peer_when_peer_is_not_a_trusted_proxy() {
    // Arrange: same limit, no trusted proxy; every request claims another client.
    let app = spawn_app_with(|s| s.otp_ip_limit_per_hour = 2).await;
    for (phone, ip) in [
        ("13900000001", "203.0.113.1"),
        ("13900000002", "203.0.113.2"),
    ] {
        let res = otp_from(&app, phone, ip).await;
        assert_eq!(res.status().as_u16(), 202);
    }

    // Act
    let res = otp_from(&app, "13900000003", "203.0.113.3").await;

    // Assert
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    let ip_limits: Vec<_> = app
        .rate_limits()
        .await
        .into_iter()
        .filter(|(k, _)| k.starts_with("otp:ip:"))
        .collect();
    assert_eq!(ip_limits, vec![("otp:ip:127.0.0.1".to_owned(), 3)]);
}

#[tokio::test]
async fn login_returns_401_invalid_code_when_code_is_used_a_second_time() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;
    assert_eq!(app.login_raw(PHONE, &code).await.status().as_u16(), 200);

    // Act
    let res = app.login_raw(PHONE, &code).await;

    // Assert
    assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    assert_eq!(app.count::<refresh_tokens::Entity>().await, 1);
}

#[tokio::test]
async fn login_returns_401_invalid_code_when_code_is_wrong() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;

    // Act
    let wrong = app.login_raw(PHONE, &other_code(&code)).await;
    let garbage = app.login_raw(PHONE, "abcdef").await;

    // Assert
    assert_eq!(error_code(wrong).await, (401, "invalid_code".into()));
    assert_eq!(error_code(garbage).await, (401, "invalid_code".into()));
    assert_eq!(otp_codes_of(&app, PHONE).await[0].attempts, 2);
    assert_eq!(app.count::<users::Entity>().await, 0);
    // Fewer than five wrong tries leave the code alive.
    assert_eq!(app.login_raw(PHONE, &code).await.status().as_u16(), 200);
}

#[tokio::test]
async fn login_returns_401_invalid_code_when_no_code_was_asked_for() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.login_raw(PHONE, "123456").await;

    // Assert
    assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    assert_eq!(app.count::<users::Entity>().await, 0);
}

#[tokio::test]
async fn login_returns_429_code_locked_when_right_code_follows_5_wrong_tries() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;
    for _ in 0..5 {
        let res = app.login_raw(PHONE, &other_code(&code)).await;
        assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    }

    // Act
    let res = app.login_raw(PHONE, &code).await;

    // Assert
    assert_eq!(error_code(res).await, (429, "code_locked".into()));
    assert_eq!(app.count::<users::Entity>().await, 0);
    assert_eq!(app.count::<refresh_tokens::Entity>().await, 0);
    // A new code works.
    let fresh = app.new_code(PHONE).await;
    let (status, body) = status_json(app.login_raw(PHONE, &fresh).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["new_user"], true);
}

#[tokio::test]
async fn login_returns_401_invalid_code_when_code_has_expired() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;
    otp_codes::Entity::update_many()
        .col_expr(
            otp_codes::Column::ExpiresAt,
            (qunjia::clock::now_ms() - 1).into(),
        )
        .filter(otp_codes::Column::Phone.eq(PHONE))
        .exec(&app.state.db)
        .await
        .expect("update");

    // Act
    let res = app.login_raw(PHONE, &code).await;

    // Assert
    assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    assert_eq!(app.count::<users::Entity>().await, 0);
}

#[tokio::test]
async fn login_returns_401_invalid_code_when_a_newer_code_was_sent() {
    // Arrange
    let app = spawn_app().await;
    let old = app.request_code(PHONE).await;
    let mut newer = app.new_code(PHONE).await;
    // One chance in a million the new code repeats the old: ask again then.
    while newer == old {
        newer = app.new_code(PHONE).await;
    }

    // Act
    let res = app.login_raw(PHONE, &old).await;

    // Assert
    assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    assert_eq!(app.login_raw(PHONE, &newer).await.status().as_u16(), 200);
}

#[tokio::test]
async fn login_returns_new_user_true_then_false_when_phone_logs_in_twice() {
    // Arrange
    let app = spawn_app().await;
    let first_code = app.request_code(PHONE).await;

    // Act
    let (s1, first) = status_json(app.login_raw(PHONE, &first_code).await).await;
    let second_code = app.new_code(PHONE).await;
    let (s2, second) = status_json(app.login_raw(PHONE, &second_code).await).await;

    // Assert
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first["new_user"], true);
    assert_eq!(second["new_user"], false);
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    assert!(first["access_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(
        first["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() > 20)
    );
    assert_eq!(first["user"]["id"], second["user"]["id"]);
    assert_eq!(first["user"]["phone"], PHONE);
    assert_eq!(first["user"]["roles"], json!([]));
    let rows = users::Entity::find()
        .all(&app.state.db)
        .await
        .expect("users");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].phone.as_deref(), Some(PHONE));
    assert_eq!(Some(rows[0].id), first["user"]["id"].as_i64());
}

#[tokio::test]
async fn otp_returns_503_sms_unavailable_and_keeps_no_usable_code_when_gateway_fails() {
    // Arrange
    let app = spawn_app().await;
    app.gateway.set_failing(true);

    // Act
    let res = app.post_json(OTP, &json!({ "phone": PHONE })).await;

    // Assert
    assert_eq!(error_code(res).await, (503, "sms_unavailable".into()));
    let rows = otp_codes_of(&app, PHONE).await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.used_at.is_some()), "{rows:?}");
    let res = app.login_raw(PHONE, "000000").await;
    assert_eq!(error_code(res).await, (401, "invalid_code".into()));
    assert_eq!(
        otp_codes_of(&app, PHONE).await[0].attempts,
        0,
        "the dead code took no try"
    );
    // The phone is not held back for the failed send.
    app.gateway.set_failing(false);
    let code = app.request_code(PHONE).await;
    assert_eq!(app.login_raw(PHONE, &code).await.status().as_u16(), 200);
}

#[tokio::test]
async fn refresh_returns_a_working_pair_and_401_for_the_presented_token_afterwards() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login(PHONE).await;

    // Act
    let (status, pair) = status_json(app.refresh(&s.refresh).await).await;

    // Assert
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["user"]["id"], s.user_id);
    let access = pair["access_token"].as_str().expect("access");
    let next = pair["refresh_token"].as_str().expect("refresh");
    assert_ne!(next, s.refresh);
    let me = app.get_auth("/api/v1/me", access).await;
    assert_eq!(me.status().as_u16(), 200);
    let (status, third) = status_json(app.refresh(next).await).await;
    assert_eq!(status, 200, "the new refresh token works once: {third}");
    let res = app.refresh(&s.refresh).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}

#[tokio::test]
async fn refresh_returns_401_for_the_newest_token_when_a_used_token_is_presented_again() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login(PHONE).await;
    let (_, pair) = status_json(app.refresh(&s.refresh).await).await;
    let newest = pair["refresh_token"].as_str().expect("refresh").to_owned();
    let other_login = {
        let code = app.new_code(PHONE).await;
        let (_, body) = status_json(app.login_raw(PHONE, &code).await).await;
        body["refresh_token"].as_str().expect("refresh").to_owned()
    };

    // Act
    let replay = app.refresh(&s.refresh).await;

    // Assert
    assert_eq!(error_code(replay).await, (401, "unauthorized".into()));
    let res = app.refresh(&newest).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    let family = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(s.user_id))
        .all(&app.state.db)
        .await
        .expect("tokens");
    let (revoked, alive): (Vec<_>, Vec<_>) = family.iter().partition(|t| t.revoked_at.is_some());
    assert_eq!((revoked.len(), alive.len()), (2, 1));
    // The person's other login is untouched.
    assert_eq!(app.refresh(&other_login).await.status().as_u16(), 200);
}

#[tokio::test]
async fn refresh_returns_401_when_the_login_was_logged_out() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login(PHONE).await;

    // Act
    let out = app
        .post_json(LOGOUT, &json!({ "refresh_token": s.refresh }))
        .await;

    // Assert
    assert_eq!(out.status().as_u16(), 204);
    assert!(out.bytes().await.expect("body").is_empty());
    let res = app.refresh(&s.refresh).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}

#[tokio::test]
async fn refresh_returns_401_when_token_is_missing_forged_or_an_access_token() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login(PHONE).await;

    // Act
    let missing = app.post_raw(REFRESH, "application/json", "").await;
    let empty = app.post_json(REFRESH, &json!({})).await;
    let garbage = app.refresh("not-a-token").await;
    let access = app.refresh(&s.access).await;
    let malformed = app
        .post_raw(REFRESH, "application/json", "{\"refresh_token\":")
        .await;
    let logout_garbage = app
        .post_json(LOGOUT, &json!({ "refresh_token": "not-a-token" }))
        .await;

    // Assert
    for res in [missing, empty, garbage, access, logout_garbage] {
        assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    }
    assert_eq!(error_code(malformed).await, (400, "bad_request".into()));
    // None of this touched the real login.
    assert_eq!(app.refresh(&s.refresh).await.status().as_u16(), 200);
}

#[tokio::test]
async fn refresh_returns_200_with_a_rotated_cookie_when_login_asked_for_the_cookie() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;
    let res = app
        .post_json(
            LOGIN,
            &json!({ "phone": PHONE, "code": code, "use_cookie": true }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let cookies = set_cookies(&res);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["refresh_token"], Value::Null);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let attrs = |name: &str| -> Vec<String> {
        cookies
            .iter()
            .find(|c| cookie_value(c, name).is_some())
            .unwrap_or_else(|| panic!("{name} in {cookies:?}"))
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect()
    };
    let session = attrs("qunjia_refresh");
    for expected in ["httponly", "samesite=strict", "path=/api/v1/auth"] {
        assert!(
            session.iter().any(|a| a == expected),
            "{expected} in {cookies:?}"
        );
    }
    // The marker the page reads to know a session may exist: no secret, no HttpOnly.
    let marker = attrs("qunjia_session");
    assert_eq!(marker[0], "qunjia_session=1");
    assert!(marker.iter().any(|a| a == "path=/"), "{cookies:?}");
    assert!(!marker.iter().any(|a| a == "httponly"), "{cookies:?}");
    let first = cookies
        .iter()
        .find_map(|c| cookie_value(c, "qunjia_refresh"))
        .expect("session cookie");
    assert!(first.len() > 20);

    // Act
    let res = app
        .client
        .post(app.url(REFRESH))
        .header("Cookie", format!("qunjia_refresh={first}"))
        .send()
        .await
        .expect("request");

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let next = set_cookies(&res)
        .iter()
        .find_map(|c| cookie_value(c, "qunjia_refresh"))
        .expect("rotated cookie");
    let pair: Value = res.json().await.expect("json");
    assert_eq!(pair["refresh_token"], Value::Null);
    assert_ne!(next, first);
    let me = app
        .get_auth("/api/v1/me", pair["access_token"].as_str().expect("access"))
        .await;
    assert_eq!(me.status().as_u16(), 200);
    // The old cookie is spent: 401, and the browser is told to drop it.
    let res = app
        .client
        .post(app.url(REFRESH))
        .header("Cookie", format!("qunjia_refresh={first}"))
        .send()
        .await
        .expect("request");
    let cleared = set_cookies(&res);
    for name in ["qunjia_refresh", "qunjia_session"] {
        assert!(
            cleared
                .iter()
                .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
            "{name} cleared: {cleared:?}"
        );
    }
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}

#[tokio::test]
async fn logout_returns_204_and_ends_the_cookie_session_when_a_browser_logs_out() {
    // Arrange: a client that keeps cookies the way a browser does.
    let app = spawn_app().await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let code = app.request_code(PHONE).await;
    let res = browser
        .post(app.url(LOGIN))
        .json(&json!({ "phone": PHONE, "code": code, "use_cookie": true }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 200);
    let res = browser
        .post(app.url(REFRESH))
        .send()
        .await
        .expect("refresh");
    assert_eq!(res.status().as_u16(), 200, "the cookie alone refreshes");

    // Act
    let out = browser.post(app.url(LOGOUT)).send().await.expect("logout");

    // Assert
    assert_eq!(out.status().as_u16(), 204);
    let res = browser
        .post(app.url(REFRESH))
        .send()
        .await
        .expect("refresh");
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    let alive = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .all(&app.state.db)
        .await
        .expect("tokens");
    assert_eq!(alive, vec![], "logout revoked the login");
}

#[tokio::test]
async fn login_returns_200_exactly_once_when_logins_race_with_one_code() {
    // Arrange
    let app = spawn_app().await;
    let code = app.request_code(PHONE).await;

    // Act
    let results = join_all((0..8).map(|_| app.login_raw(PHONE, &code))).await;

    // Assert
    let mut statuses = Vec::new();
    for res in results {
        statuses.push(error_code(res).await);
    }
    let ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| s.0 == 200 || *s == (401, "invalid_code".into())),
        "{statuses:?}"
    );
    assert_eq!(app.count::<users::Entity>().await, 1);
    assert_eq!(app.count::<refresh_tokens::Entity>().await, 1);
}
