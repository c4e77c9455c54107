//! The Idempotency-Key mechanism on the test database, driven directly: no
//! endpoint of the foundation creates what a person submits yet.
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use qunjia::audit::{self, Entry};
use qunjia::entity::audit_log;
use qunjia::error::AppError;
use qunjia::idempotency::{Work, once};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::support::spawn_app;

/// `POST /api/v1/things` by `user_id` under `key`, done by `work` and answered 201.
async fn post_thing(
    db: &DatabaseConnection,
    user_id: i64,
    key: Option<&str>,
    work: Work<'static, serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    once(
        db,
        user_id,
        key.map(Into::into),
        "POST",
        "/api/v1/things",
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
