//! API.md "Centres, activities, QR check-in" (the centre, activity, sign-up and
//! attendance half): who may create and see what, every input rule, capacity
//! that never overbooks under a crowd, one sign-up per person, Idempotency-Key,
//! attendance and its CSV.
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use qunjia::auth::jwt::TokenType;
use qunjia::entity::{activities, centres, checkins, memberships, orgs, signups, users};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orgs::{World, id, org_admin, person, union_of_zhilian, world};
use crate::support::{Session, TestApp, error_code};

const ACTS: &str = "/api/v1/activities";
const CENTRES: &str = "/api/v1/centres";

fn at(offset: Duration) -> String {
    (Utc::now() + offset).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn activity_body(org_id: i64) -> Value {
    json!({
        "org_id": org_id,
        "title": "劳动法律知识讲座",
        "kind": "lecture",
        "starts_at": at(Duration::days(1)),
        "ends_at": at(Duration::days(1) + Duration::hours(2)),
    })
}

/// A world with the 智联 union and its officer.
struct Setup {
    w: World,
    org: i64,
    officer: Session,
}

async fn setup() -> Setup {
    let w = world().await;
    let org = id(&union_of_zhilian(&w, "open").await);
    let officer = org_admin(&w, "13700000001", org).await;
    Setup { w, org, officer }
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let (status, a) = status_json(app.post_auth(ACTS, token, body).await).await;
    assert_eq!(status, 201, "{a}");
    a
}

async fn activity_rows(app: &TestApp) -> u64 {
    app.count::<activities::Entity>().await
}

async fn signup_rows(app: &TestApp, activity_id: i64) -> u64 {
    signups::Entity::find()
        .filter(signups::Column::ActivityId.eq(activity_id))
        .filter(signups::Column::Status.eq("active"))
        .count(&app.state.db)
        .await
        .expect("count")
}

/// Users inserted straight into the table, with access tokens minted by the app's keys.
async fn quick_users(app: &TestApp, n: usize, prefix: &str) -> Vec<(i64, String)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row = users::Entity::insert(users::ActiveModel {
            phone: Set(Some(format!("{prefix}{i:08}"))),
            name: Set(Some(format!("职工{i}"))),
            created_at: Set(0),
            updated_at: Set(0),
            ..Default::default()
        })
        .exec_with_returning(&app.state.db)
        .await
        .expect("user");
        let (token, _) = app.state.keys.issue(
            TokenType::Access,
            row.id,
            uuid::Uuid::new_v4().to_string(),
            None,
        );
        out.push((row.id, token));
    }
    out
}

async fn make_member(app: &TestApp, org_id: i64, user_id: i64) {
    memberships::Entity::insert(memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        status: Set("active".into()),
        requested_at: Set(0),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("membership");
}

/// The activity's row.
async fn activity_row(app: &TestApp, aid: i64) -> activities::Model {
    activities::Entity::find_by_id(aid)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

/// Each token signs up for the activity at the same time, from a task of its own;
/// the answers' status and error code.
async fn sign_up_at_once(
    app: &TestApp,
    aid: i64,
    tokens: impl Iterator<Item = String>,
) -> Vec<(u16, String)> {
    let url = app.url(&signup_path(aid));
    let results = join_all(tokens.map(|token| {
        let (client, url) = (app.client.clone(), url.clone());
        tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .expect("send");
            error_code(res).await
        })
    }))
    .await;
    results.into_iter().map(|r| r.expect("task")).collect()
}

fn signup_path(aid: i64) -> String {
    format!("{ACTS}/{aid}/signup")
}

#[tokio::test]
async fn create_returns_201_with_counters_and_defaults_when_the_org_admin_creates() {
    // Arrange
    let s = setup().await;
    // Act
    let a = create(&s.w.app, &s.officer.access, &activity_body(s.org)).await;
    // Assert
    assert_eq!(a["org_id"], s.org);
    assert_eq!(a["audience"], "members");
    assert_eq!(a["signup_required"], false);
    assert_eq!(a["status"], "scheduled");
    assert_eq!(a["checked_in"], 0);
    assert_eq!(a["signed_up"], 0);
    assert_eq!(a["capacity"], Value::Null);
    assert!(a.get("checkin_key").is_none());
    let row = activity_row(&s.w.app, id(&a)).await;
    assert_eq!(row.checkin_key.len(), 64);
    assert!(row.checkin_key.chars().all(|c| c.is_ascii_hexdigit()));
    // A region admin covering the org may create too.
    create(&s.w.app, &s.w.hefei_admin.access, &activity_body(s.org)).await;
}

#[tokio::test]
async fn create_returns_4xx_and_stores_nothing_for_bad_input() {
    let s = setup().await;
    let app = &s.w.app;
    let base = activity_body(s.org);
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (without("title"), 400, "bad_request"),
        (without("starts_at"), 400, "bad_request"),
        (without("org_id"), 400, "bad_request"),
        (with("title", json!("")), 422, "invalid_title"),
        (with("title", json!("长".repeat(101))), 422, "invalid_title"),
        (
            with("title", json!("讲座\u{202E}座讲")),
            422,
            "invalid_title",
        ),
        (with("title", json!("讲\u{200B}座")), 422, "invalid_title"),
        (with("title", json!("\u{FEFF}讲座")), 422, "invalid_title"),
        (with("title", json!(5)), 400, "bad_request"),
        (with("kind", json!("party")), 422, "invalid_kind"),
        (with("audience", json!("all")), 422, "invalid_audience"),
        (with("starts_at", json!("tomorrow")), 422, "invalid_time"),
        (
            with("ends_at", base["starts_at"].clone()),
            422,
            "invalid_time",
        ),
        (
            with("ends_at", json!(at(Duration::hours(2)))),
            422,
            "invalid_time",
        ),
        (
            with("ends_at", json!(at(Duration::days(9)))),
            422,
            "invalid_time",
        ),
        (with("capacity", json!(0)), 422, "invalid_capacity"),
        (with("capacity", json!(100_001)), 422, "invalid_capacity"),
        (with("capacity", json!(-1)), 422, "invalid_capacity"),
        (
            with("description", json!("字".repeat(2001))),
            422,
            "invalid_description",
        ),
        (with("org_id", json!(999_999)), 422, "invalid_org"),
        (with("centre_id", json!(999_999)), 422, "invalid_centre"),
        (with("extra", json!(1)), 400, "bad_request"),
        (json!([1, 2]), 400, "bad_request"),
    ];
    for (body, status, code) in cases {
        let got = error_code(app.post_auth(ACTS, &s.officer.access, &body).await).await;
        assert_eq!(got, (status, code.to_owned()), "{body}");
    }
    let res = app.post_raw(ACTS, "application/json", "{not json").await;
    assert_eq!(res.status().as_u16(), 401);
    let big = json!({ "title": "x".repeat(70_000) });
    let got = error_code(app.post_auth(ACTS, &s.officer.access, &big).await).await;
    assert_eq!(got.0, 413);
    assert_eq!(activity_rows(app).await, 0);
}

#[tokio::test]
async fn create_returns_403_for_another_orgs_admin_a_worker_and_another_regions_admin() {
    let s = setup().await;
    let other = id(&crate::orgs::make_org(
        &s.w,
        crate::orgs::org_body("union", "single", s.w.park, &[s.w.yunfan]),
    )
    .await);
    let other_officer = org_admin(&s.w, "13700000002", other).await;
    for token in [
        &other_officer.access,
        &s.w.worker.access,
        &s.w.wuhu_admin.access,
    ] {
        let got = error_code(s.w.app.post_auth(ACTS, token, &activity_body(s.org)).await).await;
        assert_eq!(got, (403, "forbidden".into()));
    }
    assert_eq!(activity_rows(&s.w.app).await, 0);
}

#[tokio::test]
async fn get_returns_404_for_outsiders_of_a_members_activity_and_200_for_members_and_public() {
    let s = setup().await;
    let app = &s.w.app;
    let a = create(app, &s.officer.access, &activity_body(s.org)).await;
    let path = format!("{ACTS}/{}", id(&a));
    for token in [&s.w.worker.access, &s.w.wuhu_admin.access] {
        assert_eq!(error_code(app.get_auth(&path, token).await).await.0, 404);
    }
    assert_eq!(
        app.get_auth(&path, &s.w.hefei_admin.access).await.status(),
        200
    );
    make_member(app, s.org, s.w.worker.user_id).await;
    assert_eq!(app.get_auth(&path, &s.w.worker.access).await.status(), 200);
    let mut public = activity_body(s.org);
    public["audience"] = json!("public");
    let p = create(app, &s.officer.access, &public).await;
    let path = format!("{ACTS}/{}", id(&p));
    assert_eq!(
        app.get_auth(&path, &s.w.wuhu_admin.access).await.status(),
        200
    );
    assert_eq!(
        error_code(
            app.get_auth(&format!("{ACTS}/999999"), &s.officer.access)
                .await
        )
        .await
        .0,
        404
    );
    assert_eq!(
        error_code(
            app.get_auth(&format!("{ACTS}/abc"), &s.officer.access)
                .await
        )
        .await
        .0,
        404
    );
    assert_eq!(app.get(&path).await.status(), 401);
}

#[tokio::test]
async fn list_shows_members_their_orgs_activities_plus_public_ones_in_start_order_with_a_cursor() {
    let s = setup().await;
    let app = &s.w.app;
    let mut ids = Vec::new();
    for d in [3, 1, 2] {
        let mut b = activity_body(s.org);
        b["starts_at"] = json!(at(Duration::days(d)));
        b["ends_at"] = json!(at(Duration::days(d) + Duration::hours(1)));
        ids.push((d, id(&create(app, &s.officer.access, &b).await)));
    }
    let mut public = activity_body(s.org);
    public["audience"] = json!("public");
    public["starts_at"] = json!(at(Duration::days(5)));
    public["ends_at"] = json!(at(Duration::days(5) + Duration::hours(1)));
    let pid = id(&create(app, &s.officer.access, &public).await);
    // An outsider sees only the public one.
    let (_, body) = status_json(app.get_auth(ACTS, &s.w.wuhu_admin.access).await).await;
    let got: Vec<i64> = body["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(got, vec![pid]);
    // A member sees all four, by start time, two per page.
    make_member(app, s.org, s.w.worker.user_id).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("{ACTS}?limit=2&cursor={c}"),
            None => format!("{ACTS}?limit=2"),
        };
        let (status, body) = status_json(app.get_auth(&q, &s.w.worker.access).await).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(body["items"].as_array().unwrap().iter().map(id));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ids.sort();
    let mut expected: Vec<i64> = ids.iter().map(|(_, i)| *i).collect();
    expected.push(pid);
    assert_eq!(seen, expected);
    // Filters and bad queries.
    let from = at(Duration::hours(36)).replace('+', "%2B");
    let (_, body) = status_json(
        app.get_auth(
            &format!("{ACTS}?org_id={}&from={from}", s.org),
            &s.officer.access,
        )
        .await,
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    for q in [
        "?limit=0",
        "?limit=101",
        "?cursor=zz",
        "?from=yesterday",
        "?org_id=x",
    ] {
        let got = error_code(app.get_auth(&format!("{ACTS}{q}"), &s.officer.access).await).await;
        assert_eq!(got, (400, "bad_request".into()), "{q}");
    }
}

#[tokio::test]
async fn patch_changes_fields_and_returns_409_capacity_below_signups_and_403_404_for_others() {
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["audience"] = json!("public");
    let a = create(app, &s.officer.access, &b).await;
    let aid = id(&a);
    let path = format!("{ACTS}/{aid}");
    let people = quick_users(app, 3, "136").await;
    for (_, t) in &people {
        assert_eq!(
            app.post_auth(&signup_path(aid), t, &json!({}))
                .await
                .status(),
            201
        );
    }
    let got = error_code(
        app.patch_auth(&path, &s.officer.access, &json!({"capacity": 2}))
            .await,
    )
    .await;
    assert_eq!(got, (409, "capacity_below_signups".into()));
    let (status, body) = status_json(
        app.patch_auth(
            &path,
            &s.officer.access,
            &json!({"capacity": 3, "title": "新标题", "kind": "culture", "description": null}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["capacity"], 3);
    assert_eq!(body["title"], "新标题");
    assert_eq!(body["kind"], "culture");
    let got = error_code(
        app.patch_auth(
            &path,
            &s.officer.access,
            &json!({"ends_at": at(Duration::days(30))}),
        )
        .await,
    )
    .await;
    assert_eq!(got, (422, "invalid_time".into()));
    let got = error_code(
        app.patch_auth(&path, &s.officer.access, &json!({"kind": "x"}))
            .await,
    )
    .await;
    assert_eq!(got, (422, "invalid_kind".into()));
    // Seen but not managed: 403; a private one unseen: 404.
    let got = error_code(
        app.patch_auth(&path, &s.w.worker.access, &json!({"title": "x"}))
            .await,
    )
    .await;
    assert_eq!(got.0, 403);
    let private = id(&create(app, &s.officer.access, &activity_body(s.org)).await);
    let got = error_code(
        app.patch_auth(
            &format!("{ACTS}/{private}"),
            &s.w.worker.access,
            &json!({"title": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(got.0, 404);
    let row = activity_row(app, aid).await;
    assert_eq!(row.title, "新标题");
}

#[tokio::test]
async fn cancel_returns_200_then_409_and_closes_sign_ups() {
    let s = setup().await;
    let app = &s.w.app;
    let aid = id(&create(app, &s.officer.access, &activity_body(s.org)).await);
    let path = format!("{ACTS}/{aid}/cancel");
    let got = error_code(app.post_auth(&path, &s.officer.access, &json!({})).await).await;
    assert_eq!(got.0, 400);
    let (status, body) = status_json(
        app.post_auth(&path, &s.officer.access, &json!({"reason": "天气原因"}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    let got = error_code(
        app.post_auth(&path, &s.officer.access, &json!({"reason": "再次"}))
            .await,
    )
    .await;
    assert_eq!(got, (409, "already_cancelled".into()));
    make_member(app, s.org, s.w.worker.user_id).await;
    let got = error_code(
        app.post_auth(&signup_path(aid), &s.w.worker.access, &json!({}))
            .await,
    )
    .await;
    assert_eq!(got, (409, "not_open".into()));
    assert_eq!(signup_rows(app, aid).await, 0);
}

#[tokio::test]
async fn signup_follows_the_audience_and_refuses_a_second_live_sign_up_and_ended_activities() {
    let s = setup().await;
    let app = &s.w.app;
    let aid = id(&create(app, &s.officer.access, &activity_body(s.org)).await);
    let path = signup_path(aid);
    // Not a member: 403 members_only.
    let got = error_code(app.post_auth(&path, &s.w.worker.access, &json!({})).await).await;
    assert_eq!(got, (403, "members_only".into()));
    make_member(app, s.org, s.w.worker.user_id).await;
    let (status, body) =
        status_json(app.post_auth(&path, &s.w.worker.access, &json!({})).await).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(body["activity_id"], aid);
    assert_eq!(body["user_id"], s.w.worker.user_id);
    let got = error_code(app.post_auth(&path, &s.w.worker.access, &json!({})).await).await;
    assert_eq!(got, (409, "already_signed_up".into()));
    // Mine, then cancelled, then again.
    let (_, mine) = status_json(app.get_auth("/api/v1/me/signups", &s.w.worker.access).await).await;
    assert_eq!(mine["items"][0]["title"], "劳动法律知识讲座");
    assert_eq!(
        app.delete_auth(&path, &s.w.worker.access).await.status(),
        204
    );
    assert_eq!(
        app.delete_auth(&path, &s.w.worker.access).await.status(),
        404
    );
    let row = activity_row(app, aid).await;
    assert_eq!(row.signed_up, 0);
    assert_eq!(
        app.post_auth(&path, &s.w.worker.access, &json!({}))
            .await
            .status(),
        201
    );
    // Ended: not open.
    let mut past = activity_body(s.org);
    past["audience"] = json!("public");
    past["starts_at"] = json!(at(-Duration::days(7)));
    past["ends_at"] = json!(at(-Duration::days(7) + Duration::hours(2)));
    let old = id(&create(app, &s.officer.access, &past).await);
    let got = error_code(
        app.post_auth(&signup_path(old), &s.w.wuhu_admin.access, &json!({}))
            .await,
    )
    .await;
    assert_eq!(got, (409, "not_open".into()));
    assert_eq!(
        error_code(
            app.post_auth(&signup_path(999_999), &s.w.worker.access, &json!({}))
                .await
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn signup_gives_exactly_50_places_when_200_people_sign_up_at_once_for_capacity_50() {
    // Arrange
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["capacity"] = json!(50);
    b["signup_required"] = json!(true);
    let aid = id(&create(app, &s.officer.access, &b).await);
    let crowd = quick_users(app, 200, "135").await;
    for (uid, _) in &crowd {
        make_member(app, s.org, *uid).await;
    }
    // Act
    let codes = sign_up_at_once(app, aid, crowd.iter().map(|(_, token)| token.clone())).await;

    // Assert
    let ok = codes.iter().filter(|(s, _)| *s == 201).count();
    let full = codes
        .iter()
        .filter(|c| **c == (409, "full".to_owned()))
        .count();
    assert_eq!((ok, full), (50, 150), "{codes:?}");
    assert_eq!(signup_rows(app, aid).await, 50);
    let row = activity_row(app, aid).await;
    assert_eq!(row.signed_up, 50);
}

#[tokio::test]
async fn signup_creates_one_row_when_one_person_signs_up_20_times_at_once() {
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["audience"] = json!("public");
    let aid = id(&create(app, &s.officer.access, &b).await);
    let codes = sign_up_at_once(app, aid, (0..20).map(|_| s.w.worker.access.clone())).await;
    assert_eq!(
        codes.iter().filter(|(s, _)| *s == 201).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == (409, "already_signed_up".to_owned()))
            .count(),
        19
    );
    assert_eq!(signup_rows(app, aid).await, 1);
    let row = activity_row(app, aid).await;
    assert_eq!(row.signed_up, 1);
}

#[tokio::test]
async fn signup_with_the_same_idempotency_key_replays_the_first_answer_and_stores_one_row() {
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["audience"] = json!("public");
    let aid = id(&create(app, &s.officer.access, &b).await);
    let send = || {
        app.client
            .post(app.url(&signup_path(aid)))
            .bearer_auth(&s.w.worker.access)
            .header("Idempotency-Key", "signup-abc-1")
            .json(&json!({}))
            .send()
    };
    let first = send().await.expect("send");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send().await.expect("send");
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("Idempotent-Replayed").unwrap(), "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(signup_rows(app, aid).await, 1);
    let bad = app
        .client
        .post(app.url(&signup_path(aid)))
        .bearer_auth(&s.w.worker.access)
        .header("Idempotency-Key", "x".repeat(65))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn centres_are_created_by_covering_admins_and_listed_by_subtree() {
    let w = world().await;
    let app = &w.app;
    let body = json!({
        "name": "高新区党群服务中心",
        "region_id": w.park,
        "address": "合肥高新区创新大道1号",
        "homes": ["party", "workers", "youth", "women"],
        "capacity": 120,
    });
    let (status, c) = status_json(app.post_auth(CENTRES, &w.hefei_admin.access, &body).await).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["homes"], json!(["party", "workers", "youth", "women"]));
    assert_eq!(c["capacity"], 120);
    for token in [&w.wuhu_admin.access, &w.worker.access] {
        assert_eq!(
            error_code(app.post_auth(CENTRES, token, &body).await)
                .await
                .0,
            403
        );
    }
    for (k, v, code) in [
        ("homes", json!([]), "invalid_homes"),
        ("homes", json!(["party", "party"]), "invalid_homes"),
        ("homes", json!(["elderly"]), "invalid_homes"),
        ("name", json!(" "), "invalid_name"),
        ("name", json!("党群\u{202E}中心"), "invalid_name"),
        ("name", json!("党群\u{200B}中心"), "invalid_name"),
        ("name", json!("\u{FEFF}党群中心"), "invalid_name"),
        ("capacity", json!(0), "invalid_capacity"),
        ("region_id", json!(999_999), "invalid_region"),
    ] {
        let mut b = body.clone();
        b[k] = v;
        let got = error_code(app.post_auth(CENTRES, &w.hefei_admin.access, &b).await).await;
        assert_eq!(got, (422, code.into()), "{b}");
    }
    assert_eq!(app.count::<centres::Entity>().await, 1);
    let cid = id(&c);
    let (_, list) = status_json(
        app.get_auth(
            &format!("{CENTRES}?region_id={}", w.hefei),
            &w.worker.access,
        )
        .await,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, list) = status_json(
        app.get_auth(&format!("{CENTRES}?region_id={}", w.wuhu), &w.worker.access)
            .await,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (status, one) = status_json(
        app.get_auth(&format!("{CENTRES}/{cid}"), &w.worker.access)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["name"], "高新区党群服务中心");
    assert_eq!(app.get(CENTRES).await.status(), 401);
}

#[tokio::test]
async fn a_centre_admin_hosts_any_orgs_activity_in_their_centre_and_manages_it() {
    let s = setup().await;
    let app = &s.w.app;
    let (_, c) = status_json(
        app.post_auth(
            CENTRES,
            &s.w.hefei_admin.access,
            &json!({"name": "中心", "region_id": s.w.park, "address": "地址", "homes": ["workers"]}),
        )
        .await,
    )
    .await;
    let cid = id(&c);
    let keeper = person(app, "13700000009", Some("管理员"), None, None).await;
    let res = app
        .post_auth(
            "/api/v1/roles",
            &s.w.hefei_admin.access,
            &json!({"phone": "13700000009", "role": "centre_admin", "scope": format!("centre:{cid}")}),
        )
        .await;
    assert_eq!(res.status(), 201);
    // Without the centre: not theirs to create.
    let got = error_code(
        app.post_auth(ACTS, &keeper.access, &activity_body(s.org))
            .await,
    )
    .await;
    assert_eq!(got.0, 403);
    let mut b = activity_body(s.org);
    b["centre_id"] = json!(cid);
    let a = create(app, &keeper.access, &b).await;
    assert_eq!(a["centre_id"], cid);
    let path = format!("{ACTS}/{}", id(&a));
    assert_eq!(app.get_auth(&path, &keeper.access).await.status(), 200);
    assert_eq!(
        app.patch_auth(&path, &keeper.access, &json!({"title": "中心活动"}))
            .await
            .status(),
        200
    );
    let (_, list) = status_json(
        app.get_auth(&format!("{ACTS}?centre_id={cid}"), &keeper.access)
            .await,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn attendance_lists_check_ins_with_masked_phones_and_the_csv_marks_no_shows() {
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["audience"] = json!("public");
    let aid = id(&create(app, &s.officer.access, &b).await);
    let people = quick_users(app, 3, "134").await;
    for (_, t) in &people {
        assert_eq!(
            app.post_auth(&signup_path(aid), t, &json!({}))
                .await
                .status(),
            201
        );
    }
    // The check-in capability writes these rows; here they are put in directly.
    for (uid, _) in &people[..2] {
        checkins::Entity::insert(checkins::ActiveModel {
            activity_id: Set(aid),
            user_id: Set(*uid),
            method: Set("qr".into()),
            checked_in_at: Set(Utc::now().timestamp_millis()),
            ..Default::default()
        })
        .exec(&app.state.db)
        .await
        .unwrap();
    }
    let path = format!("{ACTS}/{aid}/attendance");
    let (status, body) = status_json(
        app.get_auth(&format!("{path}?limit=1"), &s.officer.access)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["signed_up"], 3);
    assert_eq!(body["items"][0]["phone"], "134****0000");
    assert_eq!(body["items"][0]["method"], "qr");
    let next = body["next_cursor"].as_str().expect("more");
    let (_, body) = status_json(
        app.get_auth(&format!("{path}?limit=1&cursor={next}"), &s.officer.access)
            .await,
    )
    .await;
    assert_eq!(body["items"][0]["user_id"], people[1].0);
    // Others: 403 (public activity) and the CSV.
    assert_eq!(
        error_code(app.get_auth(&path, &s.w.worker.access).await)
            .await
            .0,
        403
    );
    let res = app
        .get_auth(&format!("{path}.csv"), &s.officer.access)
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("姓名,手机号"), "{text}");
    assert_eq!(text.matches("已签到").count(), 2, "{text}");
    assert_eq!(text.matches("未签到").count(), 1, "{text}");
    assert!(text.contains("职工2"));
}

#[tokio::test]
async fn attendance_audits_only_the_full_phones_of_the_page_under_the_activitys_region() {
    // Arrange: two checked-in workers of a Hefei unit, read by the city's admin a page at a time.
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["audience"] = json!("public");
    let aid = id(&create(app, &s.officer.access, &b).await);
    let people = quick_users(app, 2, "133").await;
    for (uid, _) in &people {
        users::Entity::update_many()
            .col_expr(
                users::Column::UnitId,
                sea_orm::sea_query::Expr::value(s.w.zhilian),
            )
            .filter(users::Column::Id.eq(*uid))
            .exec(&app.state.db)
            .await
            .expect("unit");
        checkins::Entity::insert(checkins::ActiveModel {
            activity_id: Set(aid),
            user_id: Set(*uid),
            method: Set("qr".into()),
            checked_in_at: Set(Utc::now().timestamp_millis()),
            ..Default::default()
        })
        .exec(&app.state.db)
        .await
        .expect("check-in");
    }

    // Act
    let path = format!("{ACTS}/{aid}/attendance?limit=1");
    let (status, body) = status_json(app.get_auth(&path, &s.w.hefei_admin.access).await).await;

    // Assert: one full phone shown, one person in the entry, filed under the org's region.
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["items"][0]["phone"].as_str().map(str::len),
        Some(11),
        "{body}"
    );
    let entries = app.audit("activity.attendance.read_phones").await;
    assert_eq!(entries.len(), 1);
    let detail: Value =
        serde_json::from_str(entries[0].detail.as_deref().unwrap_or("null")).expect("detail");
    assert_eq!(
        detail["user_ids"],
        json!([people[0].0]),
        "only the person on the page"
    );
    let org_region = orgs::Entity::find_by_id(s.org)
        .one(&app.state.db)
        .await
        .expect("org")
        .expect("exists")
        .region_id;
    assert_eq!(entries[0].region_id, Some(org_region));
}

#[tokio::test]
async fn attendance_csv_returns_200_with_formula_text_quoted_when_names_and_reasons_start_like_formulas()
 {
    // Arrange: a checked-in worker, one whose check-in was undone, and a no-show,
    // each with text that Excel would run as a formula.
    let s = setup().await;
    let app = &s.w.app;
    let mut b = activity_body(s.org);
    b["audience"] = json!("public");
    let aid = id(&create(app, &s.officer.access, &b).await);
    let people = quick_users(app, 3, "135").await;
    let names = ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)"];
    for ((uid, t), name) in people.iter().zip(names) {
        users::Entity::update_many()
            .col_expr(users::Column::Name, sea_orm::sea_query::Expr::value(name))
            .filter(users::Column::Id.eq(*uid))
            .exec(&app.state.db)
            .await
            .expect("name");
        assert_eq!(
            app.post_auth(&signup_path(aid), t, &json!({}))
                .await
                .status(),
            201
        );
    }
    let now = Utc::now().timestamp_millis();
    for (i, (uid, _)) in people[..2].iter().enumerate() {
        checkins::Entity::insert(checkins::ActiveModel {
            activity_id: Set(aid),
            user_id: Set(*uid),
            method: Set("manual".into()),
            checked_in_at: Set(now),
            undone_at: Set((i == 1).then_some(now)),
            undo_reason: Set((i == 1).then(|| "-签错了".to_owned())),
            ..Default::default()
        })
        .exec(&app.state.db)
        .await
        .expect("check-in");
    }

    // Act
    let res = app
        .get_auth(&format!("{ACTS}/{aid}/attendance.csv"), &s.officer.access)
        .await;

    // Assert
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.expect("body");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)"]);
    assert_eq!(rows[1][8], "'-签错了");
    assert!(rows.iter().all(|r| !r[1].starts_with('\'')), "{rows:?}");
}
