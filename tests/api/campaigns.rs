//! Holiday visit campaigns (节日慰问): made from the org's current hardship
//! households, one visit each; visits marked done with money or goods; progress,
//! the sheet, closing, and nobody but the org's admins sees any of it.
use qunjia::crypto::DataKey;
use qunjia::entity::{campaign_visits, campaigns, cases, services};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orgs::{World, id, make_org, org_admin, org_body, person, union_of_zhilian, world};
use crate::support::{DATA_KEY, Session, TestApp, error_code};

pub const CAMPAIGNS: &str = "/api/v1/campaigns";
const DAY_MS: i64 = 24 * 3600 * 1000;

/// An org with an officer and a hardship service, and a second org with its own.
pub struct Desk {
    pub w: World,
    pub org: i64,
    pub officer: Session,
    pub hardship: i64,
    pub other_org: i64,
    pub other_officer: Session,
    pub other_hardship: i64,
}

/// Inserts a service straight into the database (the services API is not under test).
pub async fn service_row(app: &TestApp, org_id: i64, kind: &str) -> i64 {
    services::Entity::insert(services::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind.into()),
        title: Set(format!("测试服务{kind}")),
        description: Set(None),
        members_only: Set(false),
        active: Set(true),
        created_by: Set(None),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("insert service")
    .last_insert_id
}

pub async fn desk() -> Desk {
    let w = world().await;
    let org = id(&union_of_zhilian(&w, "open").await);
    let other_org = id(&make_org(&w, org_body("union", "single", w.park, &[w.yunfan])).await);
    let officer = org_admin(&w, "13700000001", org).await;
    let other_officer = org_admin(&w, "13700000002", other_org).await;
    let hardship = service_row(&w.app, org, "hardship").await;
    let other_hardship = service_row(&w.app, other_org, "hardship").await;
    Desk {
        w,
        org,
        officer,
        hardship,
        other_org,
        other_officer,
        other_hardship,
    }
}

/// A case as the other helper's API would leave it, inserted directly.
pub struct CaseRow<'a> {
    pub service: i64,
    pub applicant: i64,
    pub status: &'a str,
    pub class: Option<&'a str>,
    pub days_ago: i64,
}

/// Inserts a case row (description sealed as the server would) and returns its id.
pub async fn case_row(app: &TestApp, c: CaseRow<'_>) -> i64 {
    let service = services::Entity::find_by_id(c.service)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("service");
    let key = DataKey::from_hex(DATA_KEY).expect("key");
    let at = qunjia::clock::now_ms() - c.days_ago * DAY_MS;
    cases::Entity::insert(cases::ActiveModel {
        service_id: Set(service.id),
        org_id: Set(service.org_id),
        kind: Set(service.kind.clone()),
        applicant_id: Set(c.applicant),
        status: Set(c.status.into()),
        description_enc: Set(key.seal("家中老人住院，生活困难")),
        details_enc: Set(None),
        amount_requested_fen: Set((service.kind == "hardship").then_some(200_000)),
        amount_granted_fen: Set(None),
        hardship_class: Set(c.class.map(Into::into)),
        consent_version: Set(Some("sensitive-2026-11".into())),
        consent_at: Set(Some(at)),
        paid_on: Set(None),
        paid_method: Set(None),
        paid_amount_fen: Set(None),
        paid_by: Set(None),
        paid_recorded_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        resolved_at: Set(None),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("insert case")
    .last_insert_id
}

/// A qualifying hardship household of the desk's org.
async fn household(d: &Desk, phone: &str, name: &str, class: &str) -> (Session, i64) {
    let s = person(&d.w.app, phone, Some(name), None, None).await;
    let case = case_row(
        &d.w.app,
        CaseRow {
            service: d.hardship,
            applicant: s.user_id,
            status: "accepted",
            class: Some(class),
            days_ago: 10,
        },
    )
    .await;
    (s, case)
}

async fn create(app: &TestApp, s: &Session, body: &Value) -> (u16, Value) {
    status_json(app.post_auth(CAMPAIGNS, &s.access, body).await).await
}

fn spring(org: i64) -> Value {
    json!({ "org_id": org, "title": "2027年春节困难职工慰问", "occasion": "spring_festival" })
}

/// A campaign over two households; returns it and the households' sessions.
pub async fn campaign_of_two(d: &Desk) -> (Value, Session, Session) {
    let (a, _) = household(d, "13900000011", "张大山", "deep").await;
    let (b, _) = household(d, "13900000012", "王秀英", "relative").await;
    let (status, c) = create(&d.w.app, &d.officer, &spring(d.org)).await;
    assert_eq!(status, 201, "{c}");
    (c, a, b)
}

pub async fn visits(app: &TestApp, s: &Session, campaign: i64, query: &str) -> Vec<Value> {
    let (status, page) = status_json(
        app.get_auth(&format!("{CAMPAIGNS}/{campaign}/visits?{query}"), &s.access)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").clone()
}

pub fn visit_of(items: &[Value], user_id: i64) -> Value {
    items
        .iter()
        .find(|v| v["user_id"] == user_id)
        .cloned()
        .expect("visit of the user")
}

/// The id of a household's visit in a campaign, as the officer lists it.
async fn visit_id(d: &Desk, campaign: i64, user_id: i64) -> i64 {
    id(&visit_of(
        &visits(&d.w.app, &d.officer, campaign, "").await,
        user_id,
    ))
}

pub async fn done(
    app: &TestApp,
    s: &Session,
    campaign: i64,
    visit: i64,
    body: &Value,
) -> reqwest::Response {
    app.post_auth(
        &format!("{CAMPAIGNS}/{campaign}/visits/{visit}/done"),
        &s.access,
        body,
    )
    .await
}

async fn close(app: &TestApp, s: &Session, campaign: i64) -> reqwest::Response {
    app.post_auth(
        &format!("{CAMPAIGNS}/{campaign}/close"),
        &s.access,
        &json!({}),
    )
    .await
}

fn money(amount: i64) -> Value {
    json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": amount })
}

#[tokio::test]
async fn create_returns_201_with_one_visit_per_household_when_hardship_cases_qualify() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let legal = service_row(app, d.org, "legal_aid").await;
    let case = |service, applicant, status, class, days_ago| {
        case_row(
            app,
            CaseRow {
                service,
                applicant,
                status,
                class,
                days_ago,
            },
        )
    };
    // Two cases of one person: the newer one gives class and case.
    let twice = person(app, "13900000021", Some("张大山"), None, None).await;
    case(d.hardship, twice.user_id, "resolved", Some("relative"), 200).await;
    let newest = case(d.hardship, twice.user_id, "in_progress", Some("deep"), 30).await;
    // One case each, every status that counts.
    let closed = person(app, "13900000022", Some("王秀英"), None, None).await;
    let closed_case = case(d.hardship, closed.user_id, "closed", Some("sudden"), 300).await;
    let accepted = person(app, "13900000023", None, None, None).await;
    let accepted_case = case(
        d.hardship,
        accepted.user_id,
        "accepted",
        Some("relative"),
        1,
    )
    .await;
    // Excluded: no class, refused or withdrawn, not yet accepted, older than 12
    // months, another org, another kind, a deleted account.
    for (phone, service, status, class, days) in [
        ("13900000031", d.hardship, "accepted", None, 5),
        ("13900000032", d.hardship, "rejected", Some("deep"), 5),
        ("13900000033", d.hardship, "withdrawn", Some("deep"), 5),
        ("13900000034", d.hardship, "submitted", Some("deep"), 5),
        ("13900000035", d.hardship, "resolved", Some("deep"), 370),
        ("13900000036", d.other_hardship, "accepted", Some("deep"), 5),
        ("13900000037", legal, "accepted", Some("deep"), 5),
    ] {
        let s = app.login(phone).await;
        case(service, s.user_id, status, class, days).await;
    }
    let gone = app.login("13900000038").await;
    case(d.hardship, gone.user_id, "accepted", Some("deep"), 5).await;
    let res = app.delete_auth("/api/v1/me", &gone.access).await;
    assert_eq!(res.status().as_u16(), 202);

    // Act
    let (status, c) = create(app, &d.officer, &spring(d.org)).await;

    // Assert
    assert_eq!(status, 201, "{c}");
    let cid = id(&c);
    assert_eq!(
        c,
        json!({
            "id": cid,
            "org_id": d.org,
            "org_name": "智联工会open",
            "title": "2027年春节困难职工慰问",
            "occasion": "spring_festival",
            "status": "open",
            "households": 3,
            "done": 0,
            "pending": 3,
            "money_fen": 0,
            "goods_count": 0,
            "created_at": c["created_at"],
            "closed_at": null,
        })
    );
    let items = visits(app, &d.officer, cid, "").await;
    let mut got: Vec<(i64, i64, &str, &str)> = items
        .iter()
        .map(|v| {
            (
                v["user_id"].as_i64().expect("user"),
                v["case_id"].as_i64().expect("case"),
                v["hardship_class"].as_str().expect("class"),
                v["status"].as_str().expect("status"),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (twice.user_id, newest, "deep", "pending"),
            (closed.user_id, closed_case, "sudden", "pending"),
            (accepted.user_id, accepted_case, "relative", "pending"),
        ]
    );
    let first = visit_of(&items, twice.user_id);
    assert_eq!(first["name"], "张大山");
    assert_eq!(first["phone"], "139****0021");
    assert_eq!(
        campaign_visits::Entity::find()
            .count(&app.state.db)
            .await
            .expect("count"),
        3
    );
    assert_eq!(app.audit_count("campaign.create").await, 1);
}

#[tokio::test]
async fn create_returns_422_no_hardship_households_when_none_qualify() {
    // Arrange: only a case without a class and one of another org.
    let d = desk().await;
    let app = &d.w.app;
    let s = app.login("13900000041").await;
    for service in [d.hardship, d.other_hardship] {
        let class = (service == d.other_hardship).then_some("deep");
        case_row(
            app,
            CaseRow {
                service,
                applicant: s.user_id,
                status: "accepted",
                class,
                days_ago: 1,
            },
        )
        .await;
    }

    // Act
    let res = app
        .post_auth(CAMPAIGNS, &d.officer.access, &spring(d.org))
        .await;

    // Assert
    assert_eq!(
        error_code(res).await,
        (422, "no_hardship_households".to_owned())
    );
    assert_eq!(app.count::<campaigns::Entity>().await, 0);
    assert_eq!(app.count::<campaign_visits::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_4xx_and_stores_nothing_when_the_body_is_bad() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    household(&d, "13900000051", "张大山", "deep").await;
    let org = d.org;
    let cases = [
        (
            json!({ "org_id": org, "title": "", "occasion": "other" }),
            422,
            "invalid_title",
        ),
        (
            json!({ "org_id": org, "title": "   ", "occasion": "other" }),
            422,
            "invalid_title",
        ),
        (
            json!({ "org_id": org, "title": "慰".repeat(101), "occasion": "other" }),
            422,
            "invalid_title",
        ),
        (
            json!({ "org_id": org, "title": "慰问", "occasion": "christmas" }),
            422,
            "invalid_occasion",
        ),
        (
            json!({ "org_id": org, "title": "慰问" }),
            400,
            "bad_request",
        ),
        (
            json!({ "title": "慰问", "occasion": "other" }),
            400,
            "bad_request",
        ),
        (
            json!({ "org_id": "x", "title": "慰问", "occasion": "other" }),
            400,
            "bad_request",
        ),
        (
            json!({ "org_id": org, "title": 5, "occasion": "other" }),
            400,
            "bad_request",
        ),
        (
            json!({ "org_id": org, "title": "慰问", "occasion": "other", "extra": 1 }),
            400,
            "bad_request",
        ),
        (json!([org, "慰问", "other"]), 400, "bad_request"),
    ];

    for (body, status, code) in cases {
        // Act
        let res = app.post_auth(CAMPAIGNS, &d.officer.access, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (status, code.to_owned()), "{body}");
    }
    let res = app
        .client
        .post(app.url(CAMPAIGNS))
        .bearer_auth(&d.officer.access)
        .header("content-type", "application/json")
        .body("{\"org_id\":")
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(res).await, (400, "bad_request".to_owned()));
    let big = json!({ "org_id": org, "title": "慰".repeat(30_000), "occasion": "other" });
    let res = app.post_auth(CAMPAIGNS, &d.officer.access, &big).await;
    assert_eq!(error_code(res).await, (413, "payload_too_large".to_owned()));
    assert_eq!(app.count::<campaigns::Entity>().await, 0);
}

#[tokio::test]
async fn create_and_list_return_403_when_the_caller_does_not_run_the_org() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (applicant, _) = household(&d, "13900000061", "张大山", "deep").await;
    let callers = [
        &applicant,
        &d.other_officer,
        &d.w.hefei_admin,
        &d.w.wuhu_admin,
        &d.w.worker,
    ];

    for who in callers {
        // Act
        let created = app.post_auth(CAMPAIGNS, &who.access, &spring(d.org)).await;
        let listed = app
            .get_auth(&format!("{CAMPAIGNS}?org_id={}", d.org), &who.access)
            .await;

        // Assert
        assert_eq!(error_code(created).await, (403, "forbidden".to_owned()));
        assert_eq!(error_code(listed).await, (403, "forbidden".to_owned()));
    }
    let unknown = app
        .post_auth(CAMPAIGNS, &d.officer.access, &spring(999_999))
        .await;
    assert_eq!(error_code(unknown).await, (403, "forbidden".to_owned()));
    let anonymous = app.post_json(CAMPAIGNS, &spring(d.org)).await;
    assert_eq!(
        error_code(anonymous).await,
        (401, "unauthorized".to_owned())
    );
    assert_eq!(app.count::<campaigns::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_the_first_answer_again_when_the_idempotency_key_repeats() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    household(&d, "13900000071", "张大山", "deep").await;
    let send = |key: &'static str| {
        app.client
            .post(app.url(CAMPAIGNS))
            .bearer_auth(&d.officer.access)
            .header("Idempotency-Key", key)
            .json(&spring(d.org))
            .send()
    };

    // Act
    let first = send("campaign-2027-spring").await.expect("request");
    let again = send("campaign-2027-spring").await.expect("request");

    // Assert
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(again.status().as_u16(), 201);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    assert_eq!(
        again
            .headers()
            .get("Idempotent-Replayed")
            .map(|v| v.to_str().expect("ascii")),
        Some("true")
    );
    let (a, b): (Value, Value) = (
        first.json().await.expect("json"),
        again.json().await.expect("json"),
    );
    assert_eq!(a, b);
    assert_eq!(app.count::<campaigns::Entity>().await, 1);
    assert_eq!(app.count::<campaign_visits::Entity>().await, 1);
    let other = send("campaign-2027-spring-2").await.expect("request");
    assert_eq!(other.status().as_u16(), 201);
    assert_eq!(app.count::<campaigns::Entity>().await, 2);
    let bad = app
        .client
        .post(app.url(CAMPAIGNS))
        .bearer_auth(&d.officer.access)
        .header("Idempotency-Key", "k".repeat(65))
        .json(&spring(d.org))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(bad).await, (400, "bad_request".to_owned()));
}

#[tokio::test]
async fn done_returns_200_and_the_progress_adds_up_when_visits_are_recorded() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, b) = campaign_of_two(&d).await;
    let cid = id(&c);
    let items = visits(app, &d.officer, cid, "").await;
    let (va, vb) = (
        id(&visit_of(&items, a.user_id)),
        id(&visit_of(&items, b.user_id)),
    );

    // Act
    let (s1, v1) = status_json(
        done(
            app,
            &d.officer,
            cid,
            va,
            &json!({ "visited_on": "2026-11-20", "form": "both", "amount_fen": 50_000,
                     "goods": "米、油各一份", "note": "老人卧床，家属在场" }),
        )
        .await,
    )
    .await;
    let (s2, v2) = status_json(
        done(
            app,
            &d.officer,
            cid,
            vb,
            &json!({ "visited_on": "2026-11-21", "form": "goods", "goods": "棉被一床" }),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!((s1, s2), (200, 200), "{v1} {v2}");
    assert_eq!(
        v1,
        json!({
            "id": va,
            "user_id": a.user_id,
            "name": "张大山",
            "phone": "139****0011",
            "hardship_class": "deep",
            "case_id": v1["case_id"],
            "status": "done",
            "visited_on": "2026-11-20",
            "form": "both",
            "amount_fen": 50_000,
            "goods": "米、油各一份",
            "note": "老人卧床，家属在场",
            "done_by_name": "组织干部",
            "done_at": v1["done_at"],
        })
    );
    assert!(v1["done_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        (v2["amount_fen"].clone(), v2["form"].clone()),
        (Value::Null, json!("goods"))
    );
    let (_, now) = status_json(
        app.get_auth(&format!("{CAMPAIGNS}/{cid}"), &d.officer.access)
            .await,
    )
    .await;
    assert_eq!(
        (
            &now["households"],
            &now["done"],
            &now["pending"],
            &now["money_fen"],
            &now["goods_count"]
        ),
        (&json!(2), &json!(2), &json!(0), &json!(50_000), &json!(2))
    );
    assert!(
        visits(app, &d.officer, cid, "status=pending")
            .await
            .is_empty()
    );
    assert_eq!(visits(app, &d.officer, cid, "status=done").await.len(), 2);
    let row = campaign_visits::Entity::find_by_id(va)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("row");
    let note = row.note.expect("note stored");
    assert!(!note.contains("卧床"), "the note is stored encrypted");
    assert_eq!(app.audit_count("campaign.visit.done").await, 2);
    let (_, list) = status_json(
        app.get_auth(&format!("{CAMPAIGNS}?org_id={}", d.org), &d.officer.access)
            .await,
    )
    .await;
    assert_eq!(list["items"][0]["done"], 2);
    assert_eq!(list["items"][0]["money_fen"], 50_000);
}

#[tokio::test]
async fn no_file_of_the_data_folder_holds_a_visit_note_sent_with_or_without_a_key() {
    // Arrange: one visit recorded under an Idempotency-Key, the other without.
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, b) = campaign_of_two(&d).await;
    let cid = id(&c);
    let items = visits(app, &d.officer, cid, "").await;
    let (va, vb) = (
        id(&visit_of(&items, a.user_id)),
        id(&visit_of(&items, b.user_id)),
    );
    let (keyed_note, plain_note) = ("独居老人，左腿骨折未愈", "孩子患白血病在省立医院");
    let res = app
        .client
        .post(app.url(&format!("{CAMPAIGNS}/{cid}/visits/{va}/done")))
        .bearer_auth(&d.officer.access)
        .header("Idempotency-Key", "visit-sealed")
        .json(&json!({ "visited_on": "2026-11-20", "form": "goods", "goods": "米", "note": keyed_note }))
        .send()
        .await
        .expect("keyed visit");
    assert_eq!(res.status().as_u16(), 200);
    let body =
        json!({ "visited_on": "2026-11-20", "form": "goods", "goods": "油", "note": plain_note });
    assert_eq!(
        done(app, &d.officer, cid, vb, &body)
            .await
            .status()
            .as_u16(),
        200
    );

    // Act
    let files = data_files(app);

    // Assert
    for (name, bytes) in &files {
        for m in [keyed_note, plain_note] {
            let m = m.as_bytes();
            assert!(
                !bytes.windows(m.len()).any(|w| w == m),
                "{name} holds {} in plaintext",
                String::from_utf8_lossy(m)
            );
        }
    }
    let (_, listed) = status_json(
        app.get_auth(&format!("{CAMPAIGNS}/{cid}/visits"), &d.officer.access)
            .await,
    )
    .await;
    assert!(
        listed.to_string().contains(keyed_note),
        "officers still read it: {listed}"
    );
}

#[tokio::test]
async fn done_returns_422_and_changes_nothing_when_the_body_breaks_a_rule() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, _) = campaign_of_two(&d).await;
    let cid = id(&c);
    let vid = visit_id(&d, cid, a.user_id).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let cases = [
        (
            json!({ "visited_on": tomorrow, "form": "money", "amount_fen": 1 }),
            422,
            "invalid_visited_on",
        ),
        (
            json!({ "visited_on": "2026-02-30", "form": "money", "amount_fen": 1 }),
            422,
            "invalid_visited_on",
        ),
        (
            json!({ "visited_on": "20261120", "form": "money", "amount_fen": 1 }),
            422,
            "invalid_visited_on",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "cash", "amount_fen": 1 }),
            422,
            "invalid_form",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money" }),
            422,
            "invalid_amount",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 0 }),
            422,
            "invalid_amount",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": -5 }),
            422,
            "invalid_amount",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 10_000_001 }),
            422,
            "invalid_amount",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "goods", "amount_fen": 100, "goods": "米" }),
            422,
            "invalid_amount",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "both", "amount_fen": 100 }),
            422,
            "invalid_goods",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "goods", "goods": "" }),
            422,
            "invalid_goods",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "goods", "goods": "米".repeat(201) }),
            422,
            "invalid_goods",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 1, "goods": "米" }),
            422,
            "invalid_goods",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 1, "note": "字".repeat(501) }),
            422,
            "invalid_note",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 1.5 }),
            400,
            "bad_request",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": "100" }),
            400,
            "bad_request",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 1e30 }),
            400,
            "bad_request",
        ),
        (
            json!({ "form": "money", "amount_fen": 1 }),
            400,
            "bad_request",
        ),
        (
            json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 1, "by": 1 }),
            400,
            "bad_request",
        ),
    ];

    for (body, status, code) in cases {
        // Act
        let res = done(app, &d.officer, cid, vid, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (status, code.to_owned()), "{body}");
    }
    let still = visit_of(&visits(app, &d.officer, cid, "").await, a.user_id);
    assert_eq!(still["status"], "pending");
    assert_eq!(app.audit_count("campaign.visit.done").await, 0);
}

#[tokio::test]
async fn done_returns_409_already_done_when_the_visit_is_marked_again_or_twice_at_once() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, b) = campaign_of_two(&d).await;
    let cid = id(&c);
    let items = visits(app, &d.officer, cid, "").await;
    let (va, vb) = (
        id(&visit_of(&items, a.user_id)),
        id(&visit_of(&items, b.user_id)),
    );
    let second = org_admin(&d.w, "13700000003", d.org).await;
    assert_eq!(
        done(app, &d.officer, cid, va, &money(100)).await.status(),
        200
    );

    // Act
    let again = done(app, &d.officer, cid, va, &money(999)).await;
    let (m200, m300) = (money(200), money(300));
    let (x, y) = tokio::join!(
        done(app, &d.officer, cid, vb, &m200),
        done(app, &second, cid, vb, &m300),
    );

    // Assert
    assert_eq!(error_code(again).await, (409, "already_done".to_owned()));
    let mut statuses = [x.status().as_u16(), y.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let (_, now) = status_json(
        app.get_auth(&format!("{CAMPAIGNS}/{cid}"), &d.officer.access)
            .await,
    )
    .await;
    let money_fen = now["money_fen"].as_i64().expect("money");
    assert!(money_fen == 300 || money_fen == 400, "{now}");
    assert_eq!(app.audit_count("campaign.visit.done").await, 2);
}

#[tokio::test]
async fn close_returns_200_and_then_409_campaign_closed_for_every_change() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, _) = campaign_of_two(&d).await;
    let cid = id(&c);
    let vid = visit_id(&d, cid, a.user_id).await;

    // Act
    let (status, closed) = status_json(close(app, &d.officer, cid).await).await;

    // Assert
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert!(
        closed["closed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(closed["pending"], 2);
    assert_eq!(
        error_code(close(app, &d.officer, cid).await).await,
        (409, "campaign_closed".to_owned())
    );
    assert_eq!(
        error_code(done(app, &d.officer, cid, vid, &money(100)).await).await,
        (409, "campaign_closed".to_owned())
    );
    assert_eq!(
        visit_of(&visits(app, &d.officer, cid, "").await, a.user_id)["status"],
        "pending"
    );
    assert_eq!(app.audit_count("campaign.close").await, 1);
}

#[tokio::test]
async fn visits_csv_returns_a_bom_chinese_headers_and_one_row_per_household() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, _) = campaign_of_two(&d).await;
    let cid = id(&c);
    let vid = visit_id(&d, cid, a.user_id).await;
    let body = json!({ "visited_on": "2026-11-20", "form": "both", "amount_fen": 50_050,
                       "goods": "=米面油", "note": "家中\n一切安好" });
    assert_eq!(done(app, &d.officer, cid, vid, &body).await.status(), 200);

    // Act
    let res = app
        .get_auth(&format!("{CAMPAIGNS}/{cid}/visits.csv"), &d.officer.access)
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let ct = header(&res, "content-type").unwrap_or_default();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let bytes = res.bytes().await.expect("body");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "姓名",
            "电话",
            "困难类别",
            "状态",
            "走访日期",
            "形式",
            "金额(元)",
            "物资",
            "备注"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.contains(&vec![
        "张大山".to_owned(),
        "139****0011".into(),
        "深度困难".into(),
        "已走访".into(),
        "2026-11-20".into(),
        "慰问金和慰问品".into(),
        "500.50".into(),
        "'=米面油".into(),
        "家中\n一切安好".into(),
    ]));
    assert!(rows.contains(&vec![
        "王秀英".to_owned(),
        "139****0012".into(),
        "相对困难".into(),
        "待走访".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]));
    assert_eq!(app.audit_count("campaign.export").await, 1);
}

#[tokio::test]
async fn campaign_routes_return_404_to_everyone_but_the_orgs_admins() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, _) = campaign_of_two(&d).await;
    let cid = id(&c);
    let vid = visit_id(&d, cid, a.user_id).await;
    let callers = [&a, &d.other_officer, &d.w.hefei_admin, &d.w.worker];

    for who in callers {
        // Act
        let gets = [
            format!("{CAMPAIGNS}/{cid}"),
            format!("{CAMPAIGNS}/{cid}/visits"),
            format!("{CAMPAIGNS}/{cid}/visits.csv"),
        ];
        for path in &gets {
            let res = app.get_auth(path, &who.access).await;
            // Assert
            assert_eq!(
                error_code(res).await,
                (404, "not_found".to_owned()),
                "{path}"
            );
        }
        let closed = app
            .post_auth(&format!("{CAMPAIGNS}/{cid}/close"), &who.access, &json!({}))
            .await;
        assert_eq!(error_code(closed).await, (404, "not_found".to_owned()));
        let marked = done(app, who, cid, vid, &money(100)).await;
        assert_eq!(error_code(marked).await, (404, "not_found".to_owned()));
    }
    let (_, still) = status_json(
        app.get_auth(&format!("{CAMPAIGNS}/{cid}"), &d.officer.access)
            .await,
    )
    .await;
    assert_eq!(
        (&still["status"], &still["done"]),
        (&json!("open"), &json!(0))
    );
    assert_eq!(app.audit_count("campaign.export").await, 0);
}

#[tokio::test]
async fn campaign_routes_return_404_for_unknown_ids_and_400_for_bad_queries() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, a, _) = campaign_of_two(&d).await;
    let cid = id(&c);
    // A second campaign of the other org, to borrow a visit id from.
    let (other_home, _) = {
        let s = person(app, "13900000099", Some("赵六"), None, None).await;
        let case = case_row(
            app,
            CaseRow {
                service: d.other_hardship,
                applicant: s.user_id,
                status: "accepted",
                class: Some("deep"),
                days_ago: 1,
            },
        )
        .await;
        (s, case)
    };
    let (status, oc) = create(app, &d.other_officer, &spring(d.other_org)).await;
    assert_eq!(status, 201, "{oc}");
    let foreign = id(&visit_of(
        &visits(app, &d.other_officer, id(&oc), "").await,
        other_home.user_id,
    ));
    let own = id(&visit_of(
        &visits(app, &d.officer, cid, "").await,
        a.user_id,
    ));
    let t = &d.officer.access;

    // Act + Assert
    for path in [
        format!("{CAMPAIGNS}/999999"),
        format!("{CAMPAIGNS}/abc"),
        format!("{CAMPAIGNS}/999999/visits"),
        format!("{CAMPAIGNS}/999999/visits.csv"),
    ] {
        let res = app.get_auth(&path, t).await;
        assert_eq!(
            error_code(res).await,
            (404, "not_found".to_owned()),
            "{path}"
        );
    }
    for (campaign, visit) in [(cid, foreign), (cid, 999_999), (id(&oc), own)] {
        let res = done(app, &d.officer, campaign, visit, &money(100)).await;
        assert_eq!(
            error_code(res).await,
            (404, "not_found".to_owned()),
            "{campaign}/{visit}"
        );
    }
    for query in [
        "status=open",
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=-1",
        "cursor=abc",
    ] {
        let res = app
            .get_auth(&format!("{CAMPAIGNS}/{cid}/visits?{query}"), t)
            .await;
        assert_eq!(
            error_code(res).await,
            (400, "bad_request".to_owned()),
            "{query}"
        );
    }
    for query in ["", "org_id=x", &format!("org_id={}&limit=0", d.org)] {
        let res = app.get_auth(&format!("{CAMPAIGNS}?{query}"), t).await;
        assert_eq!(
            error_code(res).await,
            (400, "bad_request".to_owned()),
            "{query}"
        );
    }
    let anonymous = app.get(&format!("{CAMPAIGNS}/{cid}")).await;
    assert_eq!(
        error_code(anonymous).await,
        (401, "unauthorized".to_owned())
    );
}

#[tokio::test]
async fn lists_return_pages_that_follow_their_cursors() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    let (c, _, _) = campaign_of_two(&d).await;
    let cid = id(&c);
    let (status, c2) = create(app, &d.officer, &spring(d.org)).await;
    assert_eq!(status, 201);

    // Act
    let (_, p1) = status_json(
        app.get_auth(
            &format!("{CAMPAIGNS}/{cid}/visits?limit=1"),
            &d.officer.access,
        )
        .await,
    )
    .await;
    let cursor = p1["next_cursor"].as_str().expect("more").to_owned();
    let (_, p2) = status_json(
        app.get_auth(
            &format!("{CAMPAIGNS}/{cid}/visits?limit=1&cursor={cursor}"),
            &d.officer.access,
        )
        .await,
    )
    .await;
    let (_, l1) = status_json(
        app.get_auth(
            &format!("{CAMPAIGNS}?org_id={}&limit=1", d.org),
            &d.officer.access,
        )
        .await,
    )
    .await;
    let before = l1["next_cursor"].as_str().expect("more").to_owned();
    let (_, l2) = status_json(
        app.get_auth(
            &format!("{CAMPAIGNS}?org_id={}&limit=1&cursor={before}", d.org),
            &d.officer.access,
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(p2["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(p2["next_cursor"], Value::Null);
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    assert_eq!(l1["items"][0]["id"], c2["id"], "newest first");
    assert_eq!(l2["items"][0]["id"], c["id"]);
    assert_eq!(l2["next_cursor"], Value::Null);
    let (_, other) = status_json(
        app.get_auth(
            &format!("{CAMPAIGNS}?org_id={}", d.other_org),
            &d.other_officer.access,
        )
        .await,
    )
    .await;
    assert_eq!(other["items"], json!([]), "another org's list is its own");
}

#[tokio::test]
async fn create_returns_404_when_the_org_is_dissolved() {
    // Arrange
    let d = desk().await;
    let app = &d.w.app;
    household(&d, "13900000081", "张大山", "deep").await;
    app.exec(
        "UPDATE orgs SET dissolved_at = ? WHERE id = ?",
        vec![qunjia::clock::now_ms().into(), d.org.into()],
    )
    .await;

    // Act
    let res = app
        .post_auth(CAMPAIGNS, &d.officer.access, &spring(d.org))
        .await;

    // Assert
    assert_eq!(error_code(res).await, (404, "not_found".to_owned()));
    assert_eq!(app.count::<campaigns::Entity>().await, 0);
}
