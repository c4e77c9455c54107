//! The retention sweep: what is past its period goes, what is fresh stays, the
//! audit log is never touched, a revoked or rotated login still behaves while its
//! tokens could verify, and two instances sweeping at once do the work once.
//! Time is moved by handing the sweep its `now`, never by sleeping.
use actix_web::http::StatusCode;
use qunjia::audit::{self, Entry};
use qunjia::crypto::DataKey;
use qunjia::housekeeping::{self, Report};
use qunjia::idempotency::{Bound, Work, fingerprint_json, once};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::*;
use crate::support::{DATA_KEY, TestApp, error_code, spawn_app, spawn_app_with, spawn_on};

const DAY: i64 = 24 * 3600 * 1000;
const MIN: i64 = 60 * 1000;

fn now() -> i64 {
    qunjia::clock::now_ms()
}

/// One number a query returns (`SELECT COUNT(*) AS n …`).
async fn scalar(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    let db = &app.state.db;
    let row = db
        .query_one_raw(qunjia::db::stmt(db.get_database_backend(), sql, values))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

async fn sweep(app: &TestApp, at: i64) -> Report {
    housekeeping::sweep(&app.state.db, &app.state.settings, at)
        .await
        .expect("sweep")
}

async fn exists(app: &TestApp, table: &str, key: &str, value: sea_orm::Value) -> bool {
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {key} = ?");
    scalar(app, &sql, vec![value]).await == 1
}

/// Idempotency keys, codes, limits, tokens and refused check-ins, each one just
/// past its period and one just inside it, all as of `t`.
async fn seed_both_sides(app: &TestApp, user_id: i64, t: i64) {
    let r = app.state.settings.retention;
    let days = |n: u32| i64::from(n) * DAY;
    for (key, created) in [("old-key", t - DAY), ("new-key", t - DAY + MIN)] {
        app.exec(
            "INSERT INTO idempotency_keys (user_id, \"key\", method, path, status, body, created_at, request_hash) \
             VALUES (?, ?, 'POST', '/api/v1/x', 201, '', ?, '')",
            vec![user_id.into(), key.into(), created.into()],
        )
        .await;
    }
    for (hash, expires) in [
        ("old-code", t - days(r.otp_code_days) - MIN),
        ("new-code", t - days(r.otp_code_days) + MIN),
    ] {
        app.exec(
            "INSERT INTO otp_codes (phone, code_hash, created_at, expires_at, attempts) VALUES ('13700000000', ?, ?, ?, 0)",
            vec![hash.into(), (expires - 300_000).into(), expires.into()],
        )
        .await;
    }
    for (key, start) in [
        (
            "otp:phone:13700000000:day",
            t - days(r.rate_limit_days) - MIN,
        ),
        ("otp:ip:10.9.9.9", t - days(r.rate_limit_days) + MIN),
    ] {
        app.exec(
            "INSERT INTO rate_limits (\"key\", window_start, count) VALUES (?, ?, 3)",
            vec![key.into(), start.into()],
        )
        .await;
    }
    let expired = t - days(r.refresh_expired_days);
    let revoked = t - days(r.refresh_revoked_days);
    for (jti, expires, revoked_at) in [
        ("expired-long-ago", expired - MIN, None),
        ("expired-lately", expired + MIN, None),
        ("revoked-long-ago", t + DAY, Some(revoked - MIN)),
        ("revoked-lately", t + DAY, Some(revoked + MIN)),
    ] {
        app.exec(
            "INSERT INTO refresh_tokens (jti, family, user_id, created_at, expires_at, revoked_at) VALUES (?, 'fam-seeded', ?, ?, ?, ?)",
            vec![
                jti.into(),
                user_id.into(),
                (expires - 30 * DAY).into(),
                expires.into(),
                revoked_at.into(),
            ],
        )
        .await;
    }
    for (reason, at) in [
        ("old_refusal", t - days(r.checkin_failure_days) - MIN),
        ("new_refusal", t - days(r.checkin_failure_days) + MIN),
    ] {
        app.exec(
            "INSERT INTO checkin_failures (activity_id, user_id, reason, method, at) VALUES (NULL, ?, ?, 'qr', ?)",
            vec![user_id.into(), reason.into(), at.into()],
        )
        .await;
    }
}

#[tokio::test]
async fn sweep_returns_one_deletion_per_kind_when_one_row_of_each_is_past_its_period() {
    // Arrange
    let app = spawn_app().await;
    let user = app.login("13812340101").await;
    let t = now() + 400 * DAY;
    seed_both_sides(&app, user.user_id, t).await;
    let audit_before = scalar(&app, "SELECT COUNT(*) AS n FROM audit_log", vec![]).await;

    // Act
    let report = sweep(&app, t).await;

    // Assert: the seeded old rows, and every row of the real login (its code,
    // limits and token are long past at t), are gone.
    assert_eq!(report.idempotency_keys, 1, "{report:?}");
    assert_eq!(report.otp_codes, 2, "{report:?}");
    assert_eq!(report.checkin_failures, 1, "{report:?}");
    assert_eq!(report.refresh_tokens, 3, "{report:?}");
    assert!(report.rate_limits >= 2, "{report:?}");
    for (table, key, value, kept) in [
        ("idempotency_keys", "\"key\"", "old-key", false),
        ("idempotency_keys", "\"key\"", "new-key", true),
        ("otp_codes", "code_hash", "old-code", false),
        ("otp_codes", "code_hash", "new-code", true),
        ("rate_limits", "\"key\"", "otp:phone:13700000000:day", false),
        ("rate_limits", "\"key\"", "otp:ip:10.9.9.9", true),
        ("refresh_tokens", "jti", "expired-long-ago", false),
        ("refresh_tokens", "jti", "expired-lately", true),
        ("refresh_tokens", "jti", "revoked-long-ago", false),
        ("refresh_tokens", "jti", "revoked-lately", true),
        ("checkin_failures", "reason", "old_refusal", false),
        ("checkin_failures", "reason", "new_refusal", true),
    ] {
        assert_eq!(
            exists(&app, table, key, value.into()).await,
            kept,
            "{table} {value}"
        );
    }
    let audit_after = scalar(&app, "SELECT COUNT(*) AS n FROM audit_log", vec![]).await;
    assert_eq!(audit_after, audit_before, "the audit log is append-only");
    let again = sweep(&app, t).await;
    assert_eq!(again, Report::default(), "nothing left to delete");
}

#[tokio::test]
async fn sweep_returns_nothing_deleted_when_every_row_is_fresh() {
    // Arrange: a fresh login leaves a code, limits and a refresh token.
    let app = spawn_app().await;
    let user = app.login("13812340102").await;

    // Act
    let report = sweep(&app, now()).await;

    // Assert
    assert_eq!(report, Report::default());
    assert!(!app.rate_limits().await.is_empty());
    let (status, _) = status_json(app.refresh(&user.refresh).await).await;
    assert_eq!(status, 200, "the login still works");
}

fn work(tag: &'static str) -> Work<'static, serde_json::Value> {
    Box::new(move |txn| {
        Box::pin(async move {
            audit::record(
                txn,
                Entry {
                    actor: None,
                    action: "test.housekeeping",
                    target: tag.to_owned(),
                    region_id: None,
                    ip: None,
                    detail: None,
                },
            )
            .await?;
            Ok(json!({ "created": tag }))
        })
    })
}

/// `POST /api/v1/things` under `key`, done by `work`, answered 201.
async fn post_thing(app: &TestApp, user_id: i64, key: &str, tag: &'static str) -> bool {
    let bound = Bound {
        method: "POST".into(),
        path: "/api/v1/things".into(),
        body: fingerprint_json(&json!({})),
    };
    let seal = DataKey::from_hex(DATA_KEY).expect("key");
    let res = once(
        &app.state.db,
        &seal,
        user_id,
        Some(key.into()),
        &bound,
        StatusCode::CREATED,
        work(tag),
    )
    .await
    .expect("answer");
    assert_eq!(res.status(), StatusCode::CREATED);
    res.headers().contains_key("idempotent-replayed")
}

#[tokio::test]
async fn idempotency_key_returns_the_replay_before_24_h_and_runs_anew_once_swept_after() {
    // Arrange
    let app = spawn_app().await;
    let user = app.login("13812340103").await;
    assert!(!post_thing(&app, user.user_id, "k-24h", "first").await);
    let made = now();

    // Act: a sweep 23 h later keeps the key; the retry replays.
    let early = sweep(&app, made + 23 * 3600 * 1000).await;
    let replayed = post_thing(&app, user.user_id, "k-24h", "first").await;

    // Assert
    assert_eq!(early.idempotency_keys, 0);
    assert!(replayed, "replayed within 24 h");
    assert_eq!(app.audit_count("test.housekeeping").await, 1);

    // Act: a sweep past 24 h deletes it; the same key then does the work again.
    let late = sweep(&app, made + DAY + MIN).await;
    assert_eq!(late.idempotency_keys, 1);
    assert!(
        !exists(&app, "idempotency_keys", "\"key\"", "k-24h".into()).await,
        "the key is gone"
    );
    assert!(!post_thing(&app, user.user_id, "k-24h", "first").await);
    assert_eq!(app.audit_count("test.housekeeping").await, 2);
}

#[tokio::test]
async fn refresh_returns_401_for_a_revoked_login_whose_rows_are_kept_inside_the_window() {
    // Arrange: a login rotated once, then the spent token replayed, which revokes it.
    let app = spawn_app().await;
    let user = app.login("13812340104").await;
    let (status, pair) = status_json(app.refresh(&user.refresh).await).await;
    assert_eq!(status, 200, "{pair}");
    let newest = pair["refresh_token"].as_str().expect("refresh").to_owned();
    let res = app.refresh(&user.refresh).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    let revoked_at = now();

    // Act: a sweep a day before the revoked window ends.
    let inside = sweep(&app, revoked_at + 29 * DAY).await;

    // Assert: both rows kept, both tokens refused.
    assert_eq!(inside.refresh_tokens, 0);
    let count = scalar(
        &app,
        "SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ?",
        vec![user.user_id.into()],
    )
    .await;
    assert_eq!(count, 2);
    for token in [&user.refresh, &newest] {
        let res = app.refresh(token).await;
        assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    }

    // Act: past the window (and the tokens' own 30 days) they go.
    let after = sweep(&app, revoked_at + 31 * DAY).await;
    assert_eq!(after.refresh_tokens, 2);
}

#[tokio::test]
async fn refresh_returns_401_and_revokes_the_login_when_a_spent_token_returns_after_a_sweep() {
    // Arrange: rotated once; the spent token's row is what reuse detection needs.
    let app = spawn_app().await;
    let user = app.login("13812340105").await;
    let (status, pair) = status_json(app.refresh(&user.refresh).await).await;
    assert_eq!(status, 200, "{pair}");
    let newest = pair["refresh_token"].as_str().expect("refresh").to_owned();

    // Act: a sweep a week on, while the spent token would still verify.
    let report = sweep(&app, now() + 7 * DAY).await;
    let replay = app.refresh(&user.refresh).await;

    // Assert: the replay is refused and revokes the whole login.
    assert_eq!(report.refresh_tokens, 0);
    assert_eq!(error_code(replay).await, (401, "unauthorized".into()));
    let res = app.refresh(&newest).await;
    assert_eq!(
        error_code(res).await,
        (401, "unauthorized".into()),
        "the replay revoked the newest token too"
    );
}

/// `n` one-time codes long expired at `t`, in one statement.
async fn seed_old_codes(app: &TestApp, n: i64, t: i64) {
    app.exec(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) \
         INSERT INTO otp_codes (phone, code_hash, created_at, expires_at, attempts) \
         SELECT '13700000001', 'bulk', ?, ?, 0 FROM seq",
        vec![n.into(), (t - 30 * DAY).into(), (t - 30 * DAY).into()],
    )
    .await;
}

async fn codes_left(app: &TestApp) -> i64 {
    scalar(
        app,
        "SELECT COUNT(*) AS n FROM otp_codes WHERE code_hash = 'bulk'",
        vec![],
    )
    .await
}

#[tokio::test]
async fn sweep_returns_each_row_once_when_two_instances_claim_at_the_same_moment() {
    // Arrange: two instances on one database, more rows than one batch.
    let a = spawn_app().await;
    let b = spawn_on(a.db.clone(), |_| {}).await;
    let t = now();
    seed_old_codes(&a, 2345, t).await;

    // Act
    let (ra, rb) = tokio::join!(
        housekeeping::run_once(&a.state.db, &a.state.settings, "instance-a", t),
        housekeeping::run_once(&b.state.db, &b.state.settings, "instance-b", t),
    );

    // Assert: one swept, the other found the claim held and skipped.
    let (ra, rb) = (ra.expect("a"), rb.expect("b"));
    let (winner, report) = match (ra, rb) {
        (Some(r), None) => ("instance-a", r),
        (None, Some(r)) => ("instance-b", r),
        other => panic!("exactly one instance sweeps: {other:?}"),
    };
    assert_eq!(report.otp_codes, 2345);
    assert_eq!(codes_left(&a).await, 0);
    let holder = scalar(
        &a,
        "SELECT COUNT(*) AS n FROM job_claims WHERE name = 'housekeeping' AND instance = ?",
        vec![winner.into()],
    )
    .await;
    assert_eq!(holder, 1, "{winner} holds the claim");
    // Within the interval nobody sweeps again; once it has run out, one does.
    let interval = i64::try_from(a.state.settings.housekeeping_interval_ms).expect("ms");
    for (app, name) in [(&a, "instance-a"), (&b, "instance-b")] {
        let again = housekeeping::run_once(&app.state.db, &app.state.settings, name, t + 1000)
            .await
            .expect("run");
        assert_eq!(again, None, "{name} skips while the claim is held");
    }
    let next = housekeeping::run_once(&b.state.db, &b.state.settings, "instance-b", t + interval)
        .await
        .expect("run");
    assert_eq!(next, Some(Report::default()));
}

#[tokio::test]
async fn sweep_returns_each_row_once_when_two_instances_sweep_without_a_claim() {
    // Arrange
    let a = spawn_app().await;
    let b = spawn_on(a.db.clone(), |_| {}).await;
    let t = now();
    seed_old_codes(&a, 2500, t).await;

    // Act: deletes are idempotent even if both run.
    let (ra, rb) = tokio::join!(sweep(&a, t), sweep(&b, t));

    // Assert
    assert_eq!(ra.otp_codes + rb.otp_codes, 2500, "{ra:?} {rb:?}");
    assert_eq!(codes_left(&a).await, 0);
}

#[tokio::test]
async fn sweeper_deletes_old_rows_on_its_own_every_interval() {
    // Arrange: an instance sweeping every 50 ms.
    let app = spawn_app_with(|s| s.housekeeping_interval_ms = 50).await;
    seed_old_codes(&app, 3, now()).await;

    // Act / Assert: the background sweeper empties them without being asked.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while codes_left(&app).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweeper did not run"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
