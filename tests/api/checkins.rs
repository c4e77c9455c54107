//! QR check-in: the rotating token and short code, every rule of API.md, the
//! crowd at the door, and the officers' tools.
use qunjia::auth::jwt::TokenType;
use qunjia::checkin::token;
use qunjia::entity::{activities, checkin_failures, checkins, memberships, signups, users};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::coverage::add_org;
use crate::helpers::{header, status_json};
use crate::support::{SECRET, TestApp, spawn_app};

const CHECKINS: &str = "/api/v1/checkins";
const MIN: i64 = 60 * 1000;
const HOUR: i64 = 60 * MIN;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("time")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A person inserted directly, with a minted access token.
#[derive(Clone)]
struct Person {
    id: i64,
    token: String,
}

async fn person(app: &TestApp, phone: &str, name: &str) -> Person {
    let row = users::Entity::insert(users::ActiveModel {
        phone: Set(Some(phone.into())),
        name: Set(Some(name.into())),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    })
    .exec_with_returning(&app.state.db)
    .await
    .expect("insert user");
    let (token, _) = app.state.keys.issue(
        TokenType::Access,
        row.id,
        uuid::Uuid::new_v4().to_string(),
        None,
    );
    Person { id: row.id, token }
}

async fn grant(app: &TestApp, who: &Person, role: &str, scope: &str) {
    let (role, scope) = qunjia::auth::roles::parse_grant(role, scope).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, who.id, role, scope, None)
        .await
        .expect("insert role");
}

/// An open union in 合肥市.
async fn org(app: &TestApp, name: &str) -> i64 {
    let hefei = app.region_id("340100").await;
    add_org(app, name, "union", hefei, false, &[]).await
}

struct Spec {
    starts_at: i64,
    ends_at: i64,
    audience: &'static str,
    signup_required: bool,
    status: &'static str,
}

impl Default for Spec {
    fn default() -> Spec {
        let now = now_ms();
        Spec {
            starts_at: now - HOUR,
            ends_at: now + HOUR,
            audience: "public",
            signup_required: false,
            status: "scheduled",
        }
    }
}

async fn activity(app: &TestApp, org_id: i64, spec: Spec) -> activities::Model {
    activities::Entity::insert(activities::ActiveModel {
        org_id: Set(org_id),
        centre_id: Set(None),
        title: Set("读书会".into()),
        description: Set(None),
        kind: Set("culture".into()),
        starts_at: Set(spec.starts_at),
        ends_at: Set(spec.ends_at),
        capacity: Set(None),
        signup_required: Set(spec.signup_required),
        audience: Set(spec.audience.into()),
        status: Set(spec.status.into()),
        checkin_key: Set(uuid::Uuid::new_v4().simple().to_string()),
        signed_up: Set(0),
        checked_in: Set(0),
        created_by: Set(None),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    })
    .exec_with_returning(&app.state.db)
    .await
    .expect("insert activity")
}

fn key_of(a: &activities::Model) -> [u8; 32] {
    token::activity_key(SECRET.as_bytes(), &a.checkin_key)
}

/// The token of the window `back` windows before the current one.
fn token_back(a: &activities::Model, back: i64) -> String {
    let w = token::window_of(now_ms() / 1000) - back;
    token::sign(&key_of(a), a.id, w)
}

fn token_at(a: &activities::Model, at_ms: i64) -> String {
    token::sign(&key_of(a), a.id, token::window_of(at_ms / 1000))
}

async fn post(app: &TestApp, who: &Person, body: &Value) -> (u16, Value) {
    status_json(app.post_auth(CHECKINS, &who.token, body).await).await
}

async fn post_key(app: &TestApp, who: &Person, key: &str, body: &Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(CHECKINS))
        .bearer_auth(&who.token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    status_json(res).await
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn rows(app: &TestApp, activity_id: i64) -> Vec<checkins::Model> {
    checkins::Entity::find()
        .filter(checkins::Column::ActivityId.eq(activity_id))
        .all(&app.state.db)
        .await
        .expect("rows")
}

async fn counter(app: &TestApp, activity_id: i64) -> i32 {
    activities::Entity::find_by_id(activity_id)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("activity")
        .checked_in
}

async fn failures(app: &TestApp) -> Vec<checkin_failures::Model> {
    checkin_failures::Entity::find()
        .all(&app.state.db)
        .await
        .expect("failures")
}

/// An app with an org, its admin, a worker and an open public activity.
struct World {
    app: TestApp,
    org_id: i64,
    admin: Person,
    worker: Person,
    open: activities::Model,
}

async fn world() -> World {
    let app = spawn_app().await;
    let org_id = org(&app, "某公司工会").await;
    let admin = person(&app, "13900000001", "管理员").await;
    grant(&app, &admin, "org_admin", &format!("org:{org_id}")).await;
    let worker = person(&app, "13900000002", "张三").await;
    let open = activity(&app, org_id, Spec::default()).await;
    World {
        app,
        org_id,
        admin,
        worker,
        open,
    }
}

#[tokio::test]
async fn checkin_qr_returns_200_with_a_token_that_checks_in_and_404_to_others() {
    // Arrange
    let w = world().await;
    let other_org = org(&w.app, "另一家工会").await;
    let other_admin = person(&w.app, "13900000003", "别人").await;
    grant(
        &w.app,
        &other_admin,
        "org_admin",
        &format!("org:{other_org}"),
    )
    .await;
    let path = format!("/api/v1/activities/{}/checkin-qr", w.open.id);

    // Act
    let (status, qr) = status_json(w.app.get_auth(&path, &w.admin.token).await).await;
    let svg = w.app.get_auth(&format!("{path}.svg"), &w.admin.token).await;
    let (worker_status, _) = status_json(w.app.get_auth(&path, &w.worker.token).await).await;
    let (other_status, _) = status_json(w.app.get_auth(&path, &other_admin.token).await).await;
    let worker_svg = w
        .app
        .get_auth(&format!("{path}.svg"), &w.worker.token)
        .await;

    // Assert
    assert_eq!(status, 200, "{qr}");
    let token = qr["token"].as_str().expect("token");
    assert!(
        token.len() <= 40,
        "short enough for a dense-but-scannable QR"
    );
    assert_eq!(
        qr["url"],
        format!("{}/c/{token}", w.app.state.settings.public_url)
    );
    let short = qr["short_code"].as_str().expect("code");
    assert_eq!(short.len(), 6);
    assert!(short.chars().all(|c| !"01OIL".contains(c)));
    let refresh = qr["refresh_after"].as_i64().expect("refresh_after");
    assert!((1..=30).contains(&refresh));
    let expires = chrono::DateTime::parse_from_rfc3339(qr["expires_at"].as_str().expect("exp"))
        .expect("rfc3339")
        .timestamp_millis();
    let left = expires - now_ms();
    assert!(left > 30_000 && left <= 61_000, "{left}");
    assert_eq!(svg.status().as_u16(), 200);
    assert!(
        header(&svg, "content-type")
            .expect("content-type")
            .starts_with("image/svg+xml")
    );
    assert!(svg.text().await.expect("svg").contains("<svg"));
    assert_eq!(worker_status, 404);
    assert_eq!(other_status, 404);
    assert_eq!(worker_svg.status().as_u16(), 404);
    let (s, body) = post(&w.app, &w.worker, &json!({ "token": token })).await;
    assert_eq!(s, 201, "{body}");
}

#[tokio::test]
async fn checkin_qr_returns_409_for_a_cancelled_activity() {
    // Arrange
    let w = world().await;
    let cancelled = activity(
        &w.app,
        w.org_id,
        Spec {
            status: "cancelled",
            ..Spec::default()
        },
    )
    .await;

    // Act
    let res = w
        .app
        .get_auth(
            &format!("/api/v1/activities/{}/checkin-qr", cancelled.id),
            &w.admin.token,
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 409);
}

#[tokio::test]
async fn checkin_returns_201_then_200_already_with_the_same_id_and_one_row() {
    // Arrange
    let w = world().await;
    let body = json!({ "token": token_back(&w.open, 0) });

    // Act
    let (s1, first) = post(&w.app, &w.worker, &body).await;
    let (s2, second) = post(&w.app, &w.worker, &body).await;

    // Assert
    assert_eq!(s1, 201, "{first}");
    assert_eq!(first["already"], false);
    assert_eq!(first["activity_id"], w.open.id);
    assert_eq!(first["user_id"], w.worker.id);
    assert!(first["checked_in_at"].is_string());
    assert_eq!(s2, 200, "{second}");
    assert_eq!(second["already"], true);
    assert_eq!(second["id"], first["id"]);
    let rows = rows(&w.app, w.open.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].method, "qr");
    assert_eq!(counter(&w.app, w.open.id).await, 1);
}

#[tokio::test]
async fn checkin_returns_201_within_the_grace_and_410_token_expired_after_it() {
    // Arrange
    let w = world().await;
    let late = person(&w.app, "13900000010", "李四").await;

    // Act: the previous window is still within its 30 s grace; two back is not.
    let (grace, body) = post(
        &w.app,
        &w.worker,
        &json!({ "token": token_back(&w.open, 1) }),
    )
    .await;
    let (expired, err) = post(&w.app, &late, &json!({ "token": token_back(&w.open, 2) })).await;

    // Assert
    assert_eq!(grace, 201, "{body}");
    assert_eq!(expired, 410, "{err}");
    assert_eq!(code(&err), "token_expired");
    let f = failures(&w.app).await;
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, "token_expired");
    assert_eq!(f[0].activity_id, Some(w.open.id));
    assert_eq!(f[0].user_id, late.id);
}

#[tokio::test]
async fn checkin_offline_returns_201_when_scanned_within_the_window_and_410_otherwise() {
    // Arrange: a long activity; a scan queued 10 minutes ago.
    let app = spawn_app().await;
    let org_id = org(&app, "工会").await;
    let now = now_ms();
    let a = activity(
        &app,
        org_id,
        Spec {
            starts_at: now - 30 * HOUR,
            ends_at: now + HOUR,
            ..Spec::default()
        },
    )
    .await;
    let ten_ago = now - 10 * MIN;
    let old = token_at(&a, ten_ago);
    let day_ago = now - 25 * HOUR;
    let ancient = token_at(&a, day_ago);
    let p1 = person(&app, "13900000011", "一").await;
    let p2 = person(&app, "13900000012", "二").await;
    let p3 = person(&app, "13900000013", "三").await;
    let p4 = person(&app, "13900000014", "四").await;

    // Act
    let (inside, body) = post(
        &app,
        &p1,
        &json!({ "token": old, "scanned_at": rfc3339(ten_ago) }),
    )
    .await;
    let (outside, e1) = post(
        &app,
        &p2,
        &json!({ "token": old, "scanned_at": rfc3339(now - MIN) }),
    )
    .await;
    let (no_scan, e2) = post(&app, &p3, &json!({ "token": old })).await;
    let (too_old, e3) = post(
        &app,
        &p4,
        &json!({ "token": ancient, "scanned_at": rfc3339(day_ago) }),
    )
    .await;

    // Assert
    assert_eq!(inside, 201, "{body}");
    for (s, e) in [(outside, &e1), (no_scan, &e2), (too_old, &e3)] {
        assert_eq!(s, 410, "{e}");
        assert_eq!(code(e), "token_expired");
    }
    let row = &rows(&app, a.id).await[0];
    assert_eq!(row.user_id, p1.id);
    assert!(row.scanned_at.is_some_and(|s| (s - ten_ago).abs() < 1000));
}

#[tokio::test]
async fn checkin_returns_422_invalid_token_for_tampered_foreign_or_garbage_tokens() {
    // Arrange
    let w = world().await;
    let other = activity(&w.app, w.org_id, Spec::default()).await;
    let good = token_back(&w.open, 0);
    let mut chars: Vec<char> = good.chars().collect();
    let i = chars.len() - 3;
    chars[i] = if chars[i] == 'x' { 'y' } else { 'x' };
    let flipped: String = chars.into_iter().collect();
    // Another activity's token, re-addressed to this one with its own signature.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut raw = b64.decode(token_back(&other, 0)).expect("b64");
    raw[..8].copy_from_slice(&w.open.id.to_be_bytes());
    let readdressed = b64.encode(raw);

    // Act + Assert
    for bad in [flipped.as_str(), readdressed.as_str(), "garbage", "", "!!!"] {
        let (s, e) = post(&w.app, &w.worker, &json!({ "token": bad })).await;
        assert_eq!((s, code(&e)), (422, "invalid_token"), "{bad}");
    }
    let (s, _) = post(
        &w.app,
        &w.worker,
        &json!({ "token": token_back(&other, 0) }),
    )
    .await;
    assert_eq!(
        s, 201,
        "the untouched token of the other activity is good for it"
    );
    assert!(rows(&w.app, w.open.id).await.is_empty());
    let f = failures(&w.app).await;
    assert_eq!(f.len(), 5);
    assert!(f.iter().all(|f| f.reason == "invalid_token"));
    assert_eq!(
        f.iter()
            .filter(|f| f.activity_id == Some(w.open.id))
            .count(),
        2
    );
}

#[tokio::test]
async fn checkin_returns_422_not_open_before_the_half_hour_after_the_end_and_when_cancelled() {
    // Arrange
    let w = world().await;
    let now = now_ms();
    let early = activity(
        &w.app,
        w.org_id,
        Spec {
            starts_at: now + 31 * MIN,
            ends_at: now + 2 * HOUR,
            ..Spec::default()
        },
    )
    .await;
    let soon = activity(
        &w.app,
        w.org_id,
        Spec {
            starts_at: now + 29 * MIN,
            ends_at: now + 2 * HOUR,
            ..Spec::default()
        },
    )
    .await;
    let over = activity(
        &w.app,
        w.org_id,
        Spec {
            starts_at: now - 2 * HOUR,
            ends_at: now - MIN,
            ..Spec::default()
        },
    )
    .await;
    let cancelled = activity(
        &w.app,
        w.org_id,
        Spec {
            status: "cancelled",
            ..Spec::default()
        },
    )
    .await;

    // Act
    let mut got = vec![];
    for a in [&early, &soon, &over, &cancelled] {
        let (s, e) = post(&w.app, &w.worker, &json!({ "token": token_back(a, 0) })).await;
        got.push((s, code(&e).to_owned()));
    }
    // Queued offline while it was still running: judged by scanned_at.
    let scanned = now - 5 * MIN;
    let (late_ok, body) = post(
        &w.app,
        &w.worker,
        &json!({ "token": token_at(&over, scanned), "scanned_at": rfc3339(scanned) }),
    )
    .await;

    // Assert
    assert_eq!(got[0], (422, "not_open".into()));
    assert_eq!(got[1].0, 201);
    assert_eq!(got[2], (422, "not_open".into()));
    assert_eq!(got[3], (422, "not_open".into()));
    assert_eq!(late_ok, 201, "{body}");
    let reasons: Vec<String> = failures(&w.app)
        .await
        .into_iter()
        .map(|f| f.reason)
        .collect();
    assert_eq!(reasons, ["not_open", "not_open", "not_open"]);
}

#[tokio::test]
async fn checkin_returns_422_not_signed_up_without_an_active_signup_and_201_with_one() {
    // Arrange
    let w = world().await;
    let a = activity(
        &w.app,
        w.org_id,
        Spec {
            signup_required: true,
            ..Spec::default()
        },
    )
    .await;
    let signed = person(&w.app, "13900000020", "报名者").await;
    signups::Entity::insert(signups::ActiveModel {
        activity_id: Set(a.id),
        user_id: Set(signed.id),
        status: Set("active".into()),
        created_at: Set(0),
        cancelled_at: Set(None),
        ..Default::default()
    })
    .exec(&w.app.state.db)
    .await
    .expect("signup");
    let body = json!({ "token": token_back(&a, 0) });

    // Act
    let (refused, e) = post(&w.app, &w.worker, &body).await;
    let (ok, b) = post(&w.app, &signed, &body).await;

    // Assert
    assert_eq!((refused, code(&e)), (422, "not_signed_up"));
    assert_eq!(ok, 201, "{b}");
}

#[tokio::test]
async fn checkin_returns_403_members_only_to_non_members_and_201_to_members() {
    // Arrange
    let w = world().await;
    let a = activity(
        &w.app,
        w.org_id,
        Spec {
            audience: "members",
            ..Spec::default()
        },
    )
    .await;
    let member = person(&w.app, "13900000021", "会员").await;
    memberships::Entity::insert(memberships::ActiveModel {
        org_id: Set(w.org_id),
        user_id: Set(member.id),
        status: Set("active".into()),
        requested_at: Set(0),
        ..Default::default()
    })
    .exec(&w.app.state.db)
    .await
    .expect("membership");
    let body = json!({ "token": token_back(&a, 0) });

    // Act
    let (refused, e) = post(&w.app, &w.worker, &body).await;
    let (ok, b) = post(&w.app, &member, &body).await;

    // Assert
    assert_eq!((refused, code(&e)), (403, "members_only"));
    assert_eq!(ok, 201, "{b}");
    assert_eq!(failures(&w.app).await[0].reason, "members_only");
}

#[tokio::test]
async fn checkin_with_a_short_code_returns_201_when_right_and_422_when_wrong() {
    // Arrange
    let w = world().await;
    let (_, qr) = status_json(
        w.app
            .get_auth(
                &format!("/api/v1/activities/{}/checkin-qr", w.open.id),
                &w.admin.token,
            )
            .await,
    )
    .await;
    let right = qr["short_code"].as_str().expect("code").to_owned();
    let wrong = if right.starts_with('2') {
        right.replacen('2', "3", 1)
    } else {
        format!("2{}", &right[1..])
    };
    let other = person(&w.app, "13900000030", "王五").await;

    // Act
    let (bad, e) = post(
        &w.app,
        &other,
        &json!({ "activity_id": w.open.id, "short_code": wrong }),
    )
    .await;
    let (ok, b) = post(
        &w.app,
        &w.worker,
        &json!({ "activity_id": w.open.id, "short_code": right.to_lowercase() }),
    )
    .await;
    let (unknown, e2) = post(
        &w.app,
        &other,
        &json!({ "activity_id": 999_999, "short_code": right }),
    )
    .await;
    let (malformed, _) = post(&w.app, &other, &json!({ "activity_id": w.open.id })).await;

    // Assert
    assert_eq!((bad, code(&e)), (422, "invalid_token"));
    assert_eq!(ok, 201, "{b}");
    assert_eq!((unknown, code(&e2)), (422, "invalid_token"));
    assert_eq!(malformed, 400);
    assert_eq!(rows(&w.app, w.open.id).await[0].method, "short_code");
    let f = failures(&w.app).await;
    assert_eq!(f.len(), 2);
    assert!(
        f.iter()
            .all(|f| f.method == "short_code" && f.reason == "invalid_token")
    );
}

#[tokio::test]
async fn checkin_returns_429_with_retry_after_once_a_person_sent_ten_wrong_codes_in_a_minute() {
    // Arrange
    let w = world().await;
    let (_, qr) = status_json(
        w.app
            .get_auth(
                &format!("/api/v1/activities/{}/checkin-qr", w.open.id),
                &w.admin.token,
            )
            .await,
    )
    .await;
    let right = qr["short_code"].as_str().expect("code").to_owned();
    let wrong = if right.starts_with('2') {
        right.replacen('2', "3", 1)
    } else {
        format!("2{}", &right[1..])
    };
    let guesser = person(&w.app, "13900000031", "赵六").await;
    let guess = json!({ "activity_id": w.open.id, "short_code": wrong });
    let good = json!({ "activity_id": w.open.id, "short_code": right });

    // Act
    let mut first_ten = Vec::new();
    for _ in 0..10 {
        first_ten.push(post(&w.app, &guesser, &guess).await);
    }
    let eleventh = w.app.post_auth(CHECKINS, &guesser.token, &guess).await;
    let wait = eleventh
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (status, e) = status_json(eleventh).await;
    let (even_right, e2) = post(&w.app, &guesser, &good).await;
    let (someone_else, b) = post(&w.app, &w.worker, &good).await;

    // Assert
    assert!(
        first_ten
            .iter()
            .all(|(s, e)| (*s, code(e)) == (422, "invalid_token")),
        "{first_ten:?}"
    );
    assert_eq!((status, code(&e)), (429, "rate_limited"), "{e}");
    assert!(wait.is_some_and(|s| (1..=60).contains(&s)), "{wait:?}");
    assert_eq!((even_right, code(&e2)), (429, "rate_limited"));
    assert_eq!(someone_else, 201, "{b}");
    assert_eq!(rows(&w.app, w.open.id).await.len(), 1);
}

#[tokio::test]
async fn checkin_makes_exactly_500_rows_when_500_people_check_in_at_once() {
    // Arrange
    let w = world().await;
    let mut people = vec![];
    for i in 0..500 {
        people.push(person(&w.app, &format!("137{i:08}"), "工人").await);
    }
    let body = json!({ "token": token_back(&w.open, 0) });

    // Act
    let results =
        futures_util::future::join_all(people.iter().map(|p| post(&w.app, p, &body))).await;

    // Assert
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(
        created,
        500,
        "{:?}",
        results.iter().find(|(s, _)| *s != 201)
    );
    assert_eq!(rows(&w.app, w.open.id).await.len(), 500);
    assert_eq!(counter(&w.app, w.open.id).await, 500);
}

#[tokio::test]
async fn checkin_makes_one_row_when_one_person_checks_in_20_times_at_once() {
    // Arrange
    let w = world().await;
    let body = json!({ "token": token_back(&w.open, 0) });

    // Act
    let results =
        futures_util::future::join_all((0..20).map(|_| post(&w.app, &w.worker, &body))).await;

    // Assert
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let already = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["already"] == true)
        .count();
    assert_eq!((created, already), (1, 19), "{results:?}");
    let rows = rows(&w.app, w.open.id).await;
    assert_eq!(rows.len(), 1);
    assert!(results.iter().all(|(_, b)| b["id"] == rows[0].id));
    assert_eq!(counter(&w.app, w.open.id).await, 1);
}

#[tokio::test]
async fn checkin_replayed_offline_with_the_same_key_returns_the_first_body_and_one_row() {
    // Arrange
    let w = world().await;
    let scanned = now_ms() - 5 * MIN;
    let body = json!({ "token": token_at(&w.open, scanned), "scanned_at": rfc3339(scanned) });

    // Act
    let (s1, first) = post_key(&w.app, &w.worker, "offline-1", &body).await;
    let (s2, second) = post_key(&w.app, &w.worker, "offline-1", &body).await;
    let twins = futures_util::future::join_all(
        (0..5).map(|_| post_key(&w.app, &w.worker, "offline-1", &body)),
    )
    .await;

    // Assert
    assert_eq!(s1, 201, "{first}");
    assert_eq!((s2, &second), (201, &first));
    assert!(twins.iter().all(|(s, b)| *s == 201 && *b == first));
    assert_eq!(rows(&w.app, w.open.id).await.len(), 1);
}

#[tokio::test]
async fn checkin_retried_with_the_same_key_returns_the_first_body_and_another_body_under_it_422() {
    // Arrange: a check-in that went through, its answer lost on the way back.
    let w = world().await;
    let fresh = json!({ "token": token_back(&w.open, 0) });
    let (s1, first) = post_key(&w.app, &w.worker, "tunnel-1", &fresh).await;
    assert_eq!(s1, 201, "{first}");

    // Act: the offline queue retries the same request; the stored answer comes
    // back before any rule is asked again, so an expired token cannot turn it
    // away. Another body under the same key is another request (API.md).
    let (s2, second) = post_key(&w.app, &w.worker, "tunnel-1", &fresh).await;
    let stale = json!({ "token": token_back(&w.open, 10) });
    let (s3, reused) = post_key(&w.app, &w.worker, "tunnel-1", &stale).await;
    let (s4, other) = post_key(&w.app, &w.worker, "tunnel-2", &stale).await;

    // Assert: the first answer again; the key is not a pass for another body;
    // a new key still meets the rules.
    assert_eq!((s2, &second), (201, &first));
    assert_eq!(
        (s3, code(&reused)),
        (422, "idempotency_key_reused"),
        "{reused}"
    );
    assert_eq!((s4, code(&other)), (410, "token_expired"), "{other}");
    assert_eq!(rows(&w.app, w.open.id).await.len(), 1);
}

#[tokio::test]
async fn checkin_failures_returns_the_refused_attempts_to_managers_and_404_to_others() {
    // Arrange
    let w = world().await;
    post(
        &w.app,
        &w.worker,
        &json!({ "token": token_back(&w.open, 3) }),
    )
    .await;
    post(
        &w.app,
        &w.worker,
        &json!({ "activity_id": w.open.id, "short_code": "ZZZZZZ" }),
    )
    .await;
    let path = format!("/api/v1/activities/{}/checkin-failures", w.open.id);

    // Act
    let (s, page) = status_json(
        w.app
            .get_auth(&format!("{path}?limit=1"), &w.admin.token)
            .await,
    )
    .await;
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, rest) = status_json(
        w.app
            .get_auth(&format!("{path}?limit=1&cursor={cursor}"), &w.admin.token)
            .await,
    )
    .await;
    let (worker, _) = status_json(w.app.get_auth(&path, &w.worker.token).await).await;

    // Assert
    assert_eq!(s, 200, "{page}");
    let newest = &page["items"][0];
    assert_eq!(newest["reason"], "invalid_token");
    assert_eq!(newest["method"], "short_code");
    assert_eq!(newest["user_id"], w.worker.id);
    assert_eq!(newest["name"], "张三");
    assert!(newest["at"].is_string());
    assert_eq!(rest["items"][0]["reason"], "token_expired");
    assert_eq!(rest["items"][0]["method"], "qr");
    assert!(rest["next_cursor"].is_null());
    assert_eq!(worker, 404);
}

#[tokio::test]
async fn undo_returns_200_keeps_the_history_and_lets_the_person_check_in_again() {
    // Arrange
    let w = world().await;
    let body = json!({ "token": token_back(&w.open, 0) });
    let (_, first) = post(&w.app, &w.worker, &body).await;
    let id = first["id"].as_i64().expect("id");
    let undo = format!("/api/v1/checkins/{id}/undo");

    // Act
    let (denied, _) = status_json(
        w.app
            .post_auth(&undo, &w.worker.token, &json!({"reason": "x"}))
            .await,
    )
    .await;
    let (no_reason, e) = status_json(
        w.app
            .post_auth(&undo, &w.admin.token, &json!({"reason": " "}))
            .await,
    )
    .await;
    let (s, undone) = status_json(
        w.app
            .post_auth(&undo, &w.admin.token, &json!({"reason": "扫错了"}))
            .await,
    )
    .await;
    let (again, _) = status_json(
        w.app
            .post_auth(&undo, &w.admin.token, &json!({"reason": "再来"}))
            .await,
    )
    .await;
    let after_undo = counter(&w.app, w.open.id).await;
    let (re, second) = post(&w.app, &w.worker, &body).await;
    let (_, mine) = status_json(w.app.get_auth("/api/v1/me/checkins", &w.worker.token).await).await;

    // Assert
    assert_eq!(denied, 404);
    assert_eq!((no_reason, code(&e)), (422, "invalid_reason"));
    assert_eq!(s, 200, "{undone}");
    assert_eq!(undone["undo_reason"], "扫错了");
    assert_eq!(undone["undone_by"], w.admin.id);
    assert_eq!(again, 409);
    assert_eq!(after_undo, 0);
    assert_eq!(re, 201, "{second}");
    assert_ne!(second["id"], first["id"]);
    assert_eq!(counter(&w.app, w.open.id).await, 1);
    assert_eq!(rows(&w.app, w.open.id).await.len(), 2);
    let items = mine["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], second["id"]);
    assert!(items[0]["undone_at"].is_null());
    assert_eq!(items[1]["id"], first["id"]);
    assert!(items[1]["undone_at"].is_string());
    assert_eq!(items[1]["title"], "读书会");
    assert_eq!(items[1]["method"], "qr");
    assert!(items[1]["starts_at"].is_string());
    let audits = w.app.audit_count("checkin.undo").await;
    assert_eq!(audits, 1);
}

#[tokio::test]
async fn undo_returns_500_and_undoes_nothing_when_its_audit_entry_cannot_be_written() {
    // Arrange: a standing check-in, and an audit log that cannot be written to.
    let w = world().await;
    let body = json!({ "token": token_back(&w.open, 0) });
    let (_, first) = post(&w.app, &w.worker, &body).await;
    let id = first["id"].as_i64().expect("id");
    let db = &w.app.state.db;
    db.execute_unprepared("ALTER TABLE audit_log RENAME TO audit_log_away")
        .await
        .expect("rename");

    // Act
    let res = w
        .app
        .post_auth(
            &format!("/api/v1/checkins/{id}/undo"),
            &w.admin.token,
            &json!({"reason": "扫错了"}),
        )
        .await;
    let status = res.status().as_u16();
    db.execute_unprepared("ALTER TABLE audit_log_away RENAME TO audit_log")
        .await
        .expect("rename back");

    // Assert: the undo and its entry commit together, so neither is there.
    assert_eq!(status, 500);
    let row = checkins::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("row");
    assert!(row.undone_at.is_none());
    assert_eq!(counter(&w.app, w.open.id).await, 1);
}

#[tokio::test]
async fn manual_checkin_returns_201_with_method_manual_and_422_for_unknown_people_or_no_reason() {
    // Arrange
    let w = world().await;
    let path = format!("/api/v1/activities/{}/checkins/manual", w.open.id);
    let manual = async |token: &str, body: Value| {
        status_json(w.app.post_auth(&path, token, &body).await).await
    };

    // Act
    let (s, body) = manual(
        &w.admin.token,
        json!({"phone": "139 0000 0002", "reason": "手机没电"}),
    )
    .await;
    let (twice, again) = manual(
        &w.admin.token,
        json!({"phone": "13900000002", "reason": "再次"}),
    )
    .await;
    let (unknown, e1) = manual(
        &w.admin.token,
        json!({"phone": "13812345678", "reason": "x"}),
    )
    .await;
    let (bad_phone, e2) = manual(&w.admin.token, json!({"phone": "12345", "reason": "x"})).await;
    let (no_reason, e3) = manual(
        &w.admin.token,
        json!({"phone": "13900000002", "reason": ""}),
    )
    .await;
    let (missing, _) = manual(&w.admin.token, json!({"phone": "13900000002"})).await;
    let (worker, _) = manual(
        &w.worker.token,
        json!({"phone": "13900000002", "reason": "x"}),
    )
    .await;

    // Assert
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["method"], "manual");
    assert_eq!(body["recorded_by"], w.admin.id);
    assert_eq!(body["user_id"], w.worker.id);
    assert_eq!(body["already"], false);
    assert_eq!(
        (twice, &again["already"], &again["id"]),
        (200, &json!(true), &body["id"])
    );
    assert_eq!((unknown, code(&e1)), (422, "unknown_person"));
    assert_eq!((bad_phone, code(&e2)), (422, "invalid_phone"));
    assert_eq!((no_reason, code(&e3)), (422, "invalid_reason"));
    assert_eq!(missing, 400);
    assert_eq!(worker, 404);
    let row = &rows(&w.app, w.open.id).await[0];
    assert_eq!(
        (row.reason.as_deref(), row.recorded_by),
        (Some("手机没电"), Some(w.admin.id))
    );
    assert_eq!(counter(&w.app, w.open.id).await, 1);
    let audits = w.app.audit_count("checkin.manual").await;
    assert_eq!(audits, 1);
}

#[tokio::test]
async fn me_checkins_returns_401_without_a_token_and_pages_with_a_cursor() {
    // Arrange
    let w = world().await;
    for _ in 0..3 {
        let a = activity(&w.app, w.org_id, Spec::default()).await;
        post(&w.app, &w.worker, &json!({ "token": token_back(&a, 0) })).await;
    }

    // Act
    let anon = w.app.get("/api/v1/me/checkins").await;
    let (s, page) = status_json(
        w.app
            .get_auth("/api/v1/me/checkins?limit=2", &w.worker.token)
            .await,
    )
    .await;
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, rest) = status_json(
        w.app
            .get_auth(
                &format!("/api/v1/me/checkins?limit=2&cursor={cursor}"),
                &w.worker.token,
            )
            .await,
    )
    .await;

    // Assert
    assert_eq!(anon.status().as_u16(), 401);
    assert_eq!(s, 200);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert!(rest["next_cursor"].is_null());
}

#[tokio::test]
async fn checkin_returns_201_to_500_people_in_fewer_commits_than_check_ins_when_they_come_at_once()
{
    // Arrange
    let w = world().await;
    let mut people = vec![];
    for i in 0..500 {
        people.push(person(&w.app, &format!("136{i:08}"), "工人").await);
    }
    let body = json!({ "token": token_back(&w.open, 0) });
    let before = w.app.state.checkins.batches();

    // Act
    let results =
        futures_util::future::join_all(people.iter().map(|p| post(&w.app, p, &body))).await;

    // Assert: all in, counted, and grouped (one commit per person would be 500).
    assert!(results.iter().all(|(s, _)| *s == 201), "{results:?}");
    let batches = w.app.state.checkins.batches() - before;
    assert!(batches < 500, "{batches} commits for 500 check-ins");
    assert_eq!(rows(&w.app, w.open.id).await.len(), 500);
    assert_eq!(counter(&w.app, w.open.id).await, 500);
}

#[tokio::test]
async fn group_commit_answers_every_check_in_of_a_batch_when_one_of_them_is_refused() {
    // Arrange: 50 people for the open activity, and one check-in naming no activity
    // (the foreign key refuses it) sent with them.
    let w = world().await;
    let mut people = vec![];
    for i in 0..50 {
        people.push(person(&w.app, &format!("135{i:08}"), "工人").await);
    }
    let writer = w.app.state.checkins.clone();
    let now = now_ms();
    let method = qunjia::checkin::service::Method::Qr;

    // Act
    let bad = writer.insert(i64::MAX, w.worker.id, method, None, now);
    let good = futures_util::future::join_all(
        people
            .iter()
            .map(|p| writer.insert(w.open.id, p.id, method, None, now)),
    );
    let twin = writer.insert(w.open.id, people[0].id, method, None, now);
    let (bad, good, twin) = tokio::join!(bad, good, twin);

    // Assert: the refused one alone fails; the others are in; the twin is "already".
    assert!(bad.is_err(), "{bad:?}");
    assert!(good.iter().all(|r| matches!(r, Ok(Some(_)))), "{good:?}");
    assert!(matches!(twin, Ok(None)), "{twin:?}");
    assert_eq!(rows(&w.app, w.open.id).await.len(), 50);
    assert_eq!(counter(&w.app, w.open.id).await, 50);
}
