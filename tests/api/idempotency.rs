//! The Idempotency-Key mechanism on the test database, driven directly: no
//! endpoint of the foundation creates what a person submits yet.
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use qunjia::audit::{self, Entry};
use qunjia::crypto::DataKey;
use qunjia::entity::audit_log;
use qunjia::entity::idempotency_keys;
use qunjia::error::AppError;
use qunjia::idempotency::{Bound, Work, fingerprint_json, once};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::support::{DATA_KEY, spawn_app};

fn test_key() -> DataKey {
    DataKey::from_hex(DATA_KEY).expect("key")
}

fn bound(path: &str, body: &serde_json::Value) -> Bound {
    Bound {
        method: "POST".into(),
        path: path.into(),
        body: fingerprint_json(body),
    }
}

/// `POST /api/v1/things` by `user_id` under `key`, done by `work` and answered 201.
async fn post_thing(
    db: &DatabaseConnection,
    user_id: i64,
    key: Option<&str>,
    work: Work<'static, serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let request = bound("/api/v1/things", &serde_json::json!({}));
    post_as(db, user_id, key, &request, work).await
}

/// Like [`post_thing`], for a request of one's choice.
async fn post_as(
    db: &DatabaseConnection,
    user_id: i64,
    key: Option<&str>,
    request: &Bound,
    work: Work<'static, serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let seal = test_key();
    once(
        db,
        &seal,
        user_id,
        key.map(Into::into),
        request,
        StatusCode::CREATED,
        work,
    )
    .await
}

fn work(tag: &'static str) -> Work<'static, serde_json::Value> {
    Box::new(move |txn| {
        Box::pin(async move {
            audit::record(
                txn,
                Entry {
                    actor: None,
                    action: "test.create",
                    target: tag.to_owned(),
                    region_id: None,
                    ip: None,
                    detail: None,
                },
            )
            .await?;
            Ok(serde_json::json!({ "created": tag }))
        })
    })
}

async fn created(app: &crate::support::TestApp, tag: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Target.eq(tag))
        .count(&app.state.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn same_key_twice_returns_the_first_answer_and_creates_once() {
    let app = spawn_app().await;
    let user = app.login("13812340001").await;
    let a = post_thing(&app.state.db, user.user_id, Some("k-1"), work("one"))
        .await
        .expect("first");
    let b = post_thing(&app.state.db, user.user_id, Some("k-1"), work("one"))
        .await
        .expect("second");
    assert_eq!(a.status(), StatusCode::CREATED);
    assert_eq!(b.status(), StatusCode::CREATED);
    assert_eq!(
        b.headers().get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(created(&app, "one").await, 1);
}

#[tokio::test]
async fn another_user_or_no_key_creates_again() {
    let app = spawn_app().await;
    let u1 = app.login("13812340002").await;
    let u2 = app.login("13812340003").await;
    for (user, key) in [
        (u1.user_id, Some("k")),
        (u2.user_id, Some("k")),
        (u1.user_id, None),
        (u1.user_id, None),
    ] {
        post_thing(&app.state.db, user, key, work("two"))
            .await
            .expect("run");
    }
    assert_eq!(created(&app, "two").await, 4);
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_create_once() {
    let app = spawn_app().await;
    let user = app.login("13812340004").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = app.state.db.clone();
        tasks.push(tokio::spawn(async move {
            post_thing(&db, user.user_id, Some("same"), work("three"))
                .await
                .map(|r| r.status())
        }));
    }
    for t in tasks {
        assert_eq!(
            t.await.expect("join").expect("no error"),
            StatusCode::CREATED
        );
    }
    assert_eq!(created(&app, "three").await, 1);
}

#[tokio::test]
async fn a_failed_attempt_leaves_the_key_free() {
    let app = spawn_app().await;
    let user = app.login("13812340005").await;
    let failing: Work<'static, serde_json::Value> =
        Box::new(|_txn| Box::pin(async { Err(AppError::rule("some_rule", "no")) }));
    assert!(
        post_thing(&app.state.db, user.user_id, Some("k"), failing)
            .await
            .is_err()
    );
    let ok = post_thing(&app.state.db, user.user_id, Some("k"), work("four"))
        .await
        .expect("retry");
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(created(&app, "four").await, 1);
}

#[tokio::test]
async fn a_key_on_another_path_or_body_returns_422_idempotency_key_reused_and_does_nothing() {
    // Arrange: a sign-up made under a key.
    let app = spawn_app().await;
    let user = app.login("13812340006").await;
    let db = &app.state.db;
    let signup = bound("/api/v1/activities/7/signup", &serde_json::json!({}));
    post_as(db, user.user_id, Some("k"), &signup, work("signup"))
        .await
        .expect("sign-up");

    // Act: the same key on a join, on the same path with another body, on another method.
    let join = bound("/api/v1/orgs/3/join", &serde_json::json!({}));
    let other_body = bound("/api/v1/activities/7/signup", &serde_json::json!({"x": 1}));
    let other_method = Bound {
        method: "PUT".into(),
        ..signup.clone()
    };
    let mut refusals = Vec::new();
    for (request, tag) in [
        (&join, "join"),
        (&other_body, "body"),
        (&other_method, "put"),
    ] {
        refusals.push(post_as(db, user.user_id, Some("k"), request, work(tag)).await);
    }
    let same = post_as(db, user.user_id, Some("k"), &signup, work("signup")).await;

    // Assert
    for r in refusals {
        match r {
            Err(e) => assert_eq!(
                e.to_string().split(':').next(),
                Some("idempotency_key_reused"),
                "{e}"
            ),
            Ok(res) => panic!("answered {} instead of 422", res.status()),
        }
    }
    for tag in ["join", "body", "put"] {
        assert_eq!(created(&app, tag).await, 0, "{tag} ran");
    }
    let same = same.expect("the same request replays");
    assert_eq!(
        same.headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(created(&app, "signup").await, 1);
}

#[test]
fn the_same_fields_in_another_order_are_the_same_body() {
    let a = serde_json::json!({"a": 1, "b": {"c": [1, 2], "d": "x"}});
    let b: serde_json::Value =
        serde_json::from_str(r#"{"b": {"d": "x", "c": [1, 2]}, "a": 1}"#).expect("json");
    let c = serde_json::json!({"a": 1, "b": {"c": [2, 1], "d": "x"}});
    assert_eq!(fingerprint_json(&a), fingerprint_json(&b));
    assert_ne!(fingerprint_json(&a), fingerprint_json(&c));
}

#[tokio::test]
async fn the_stored_answer_is_sealed_and_replays_in_the_clear() {
    // Arrange
    let app = spawn_app().await;
    let user = app.login("13812340007").await;
    let marker = "家里欠款八万元-idem-marker";
    let answer: Work<'static, serde_json::Value> =
        Box::new(move |_txn| Box::pin(async move { Ok(serde_json::json!({ "note": marker })) }));

    // Act
    post_thing(&app.state.db, user.user_id, Some("sealed"), answer)
        .await
        .expect("first");
    let again = post_thing(&app.state.db, user.user_id, Some("sealed"), work("unused"))
        .await
        .expect("replay");

    // Assert
    let row = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::Key.eq("sealed"))
        .one(&app.state.db)
        .await
        .expect("q")
        .expect("row");
    assert!(!row.body.contains(marker), "{}", row.body);
    assert!(row.body.starts_with("v1:"));
    assert!(test_key().open(&row.body).expect("opens").contains(marker));
    let body = actix_web::body::to_bytes(again.into_body())
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&body).contains(marker));
    assert_eq!(created(&app, "unused").await, 0);
}
