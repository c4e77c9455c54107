//! Issue 5 "Cases": asking for help with its rules (members only, hardship
//! amount and category, separate consent, Idempotency-Key), the status machine
//! over HTTP, who sees what, encryption at rest, audit of officer reads, the
//! 12-month relief warning, payments, messages, lists and region counts.
use chrono::{Duration, Months};
use futures_util::future::join_all;
use qunjia::cases::dto::CaseQuery;
use qunjia::cases::viewing::{ListOf, list_statement};
use qunjia::crypto::DataKey;
use qunjia::entity::{case_events, case_messages, cases, idempotency_keys, notifications};
use qunjia::pagination::PageQuery;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orgs::id;
use crate::services::{Desk, desk, member, offer};
use crate::support::{DATA_KEY, Session, TestApp, error_code};

const CASES: &str = "/api/v1/cases";
const CONSENT: &str = "sensitive-2026-11";
const SECRET_TEXT: &str = "母亲患尿毒症住院透析，家里欠款八万元";
const SECRET_DETAIL: &str = "月收入两千三百元";

fn case_path(cid: i64) -> String {
    format!("{CASES}/{cid}")
}

fn hardship_body(sid: i64) -> Value {
    json!({
        "service_id": sid,
        "description": SECRET_TEXT,
        "amount_requested_fen": 500_000,
        "details": { "category": "illness", "income": SECRET_DETAIL },
        "consent": { "version": CONSENT },
    })
}

fn plain_body(sid: i64) -> Value {
    json!({ "service_id": sid, "description": "工资被拖欠三个月，想咨询怎么办" })
}

async fn apply(app: &TestApp, who: &Session, body: &Value) -> reqwest::Response {
    app.post_auth(CASES, &who.access, body).await
}

/// Files a case and returns it.
async fn file(app: &TestApp, who: &Session, body: &Value) -> Value {
    let (status, c) = status_json(apply(app, who, body).await).await;
    assert_eq!(status, 201, "{c}");
    c
}

async fn move_to(app: &TestApp, who: &Session, cid: i64, body: Value) -> reqwest::Response {
    app.post_auth(&format!("{CASES}/{cid}/transition"), &who.access, &body)
        .await
}

async fn must_move(app: &TestApp, who: &Session, cid: i64, body: Value) -> Value {
    let (status, c) = status_json(move_to(app, who, cid, body.clone()).await).await;
    assert_eq!(status, 200, "{body} → {c}");
    c
}

/// Drives a case to `target` by allowed moves.
async fn drive(d: &Desk, cid: i64, target: &str, hardship: bool) {
    let app = d.app();
    let o = &d.officer;
    match target {
        "submitted" => {}
        "withdrawn" => {
            must_move(app, &d.applicant, cid, json!({"to": "withdrawn"})).await;
        }
        "rejected" => {
            must_move(app, o, cid, json!({"to": "rejected", "note": "不符合条件"})).await;
        }
        _ => {
            must_move(app, o, cid, json!({"to": "accepted"})).await;
            if target == "accepted" {
                return;
            }
            must_move(app, o, cid, json!({"to": "in_progress"})).await;
            if target == "in_progress" {
                return;
            }
            let resolve = if hardship {
                json!({"to": "resolved", "amount_granted_fen": 300_000})
            } else {
                json!({"to": "resolved"})
            };
            must_move(app, o, cid, resolve).await;
            if target == "resolved" {
                return;
            }
            must_move(app, o, cid, json!({"to": "closed"})).await;
        }
    }
}

async fn notices(app: &TestApp, user_id: i64, kind: &str) -> Vec<notifications::Model> {
    notifications::Entity::find()
        .filter(notifications::Column::UserId.eq(user_id))
        .filter(notifications::Column::Kind.eq(kind))
        .order_by_asc(notifications::Column::Id)
        .all(&app.state.db)
        .await
        .expect("notifications")
}

async fn raw_post(app: &TestApp, path: &str, token: &str, body: String) -> (u16, String) {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    error_code(res).await
}

const STATUSES: [&str; 7] = [
    "submitted",
    "accepted",
    "rejected",
    "in_progress",
    "resolved",
    "closed",
    "withdrawn",
];
const OFFICER_MOVES: [(&str, &str); 6] = [
    ("submitted", "accepted"),
    ("submitted", "rejected"),
    ("accepted", "in_progress"),
    ("accepted", "rejected"),
    ("in_progress", "resolved"),
    ("resolved", "closed"),
];

fn move_body(to: &str) -> Value {
    match to {
        "rejected" => json!({"to": to, "note": "材料不全"}),
        _ => json!({"to": to}),
    }
}

#[tokio::test]
async fn consent_returns_200_with_the_current_version_and_text() {
    let d = desk().await;
    let (status, c) = status_json(d.app().get("/api/v1/consents/sensitive").await).await;
    assert_eq!(status, 200);
    assert_eq!(c["version"], json!(CONSENT));
    let text = c["text"].as_str().expect("text");
    for part in ["收集", "谁能看到", "保存", "撤回"] {
        assert!(text.contains(part), "{part}");
    }
}

#[tokio::test]
async fn create_returns_201_with_the_case_history_and_an_officer_notice_when_a_worker_asks_for_hardship_help()
 {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;

    // Act
    let (status, c) = status_json(apply(d.app(), &d.applicant, &hardship_body(sid)).await).await;

    // Assert
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["status"], json!("submitted"));
    assert_eq!(c["service_id"], json!(sid));
    assert_eq!(c["org_id"], json!(d.org));
    assert_eq!(c["org_name"], json!("智联工会open"));
    assert_eq!(c["service_title"], json!("hardship服务"));
    assert_eq!(c["kind"], json!("hardship"));
    assert_eq!(c["description"], json!(SECRET_TEXT));
    assert_eq!(c["details"]["category"], json!("illness"));
    assert_eq!(c["amount_requested_fen"], json!(500_000));
    assert_eq!(c["amount_granted_fen"], Value::Null);
    assert_eq!(c["consent"]["version"], json!(CONSENT));
    assert!(c["consent"]["at"].as_str().is_some());
    assert_eq!(
        c["applicant"],
        json!({"id": d.applicant.user_id, "name": "李小梅", "phone": "139****0001"})
    );
    assert_eq!(c["history"].as_array().expect("history").len(), 1);
    assert_eq!(c["history"][0]["from"], Value::Null);
    assert_eq!(c["history"][0]["to"], json!("submitted"));
    assert_eq!(c["history"][0]["by"], json!(d.applicant.user_id));
    assert_eq!(c["messages"], json!([]));
    assert_eq!(c["attachments"], json!([]));
    assert_eq!(c["payment"], Value::Null);
    assert_eq!(c["relief_warnings"], json!([]));
    assert_eq!(c["allowed_transitions"], json!(["withdrawn"]));
    for officer in [&d.officer, &d.officer2] {
        let n = notices(d.app(), officer.user_id, "case_new").await;
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].sms_status, "none");
        assert!(!n[0].body.contains("尿毒症"));
    }
    assert!(
        notices(d.app(), d.other_officer.user_id, "case_new")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn create_returns_404_when_the_service_is_unknown_or_inactive() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    d.app()
        .patch_auth(
            &format!("/api/v1/services/{sid}"),
            &d.officer.access,
            &json!({"active": false}),
        )
        .await;
    for s in [sid, 999_999] {
        let res = apply(d.app(), &d.applicant, &plain_body(s)).await;
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    assert_eq!(d.app().count::<cases::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_403_members_only_when_the_worker_is_not_an_active_member() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", true).await;

    // Act
    let res = apply(d.app(), &d.applicant, &plain_body(sid)).await;

    // Assert
    assert_eq!(error_code(res).await, (403, "members_only".into()));
    assert_eq!(d.app().count::<cases::Entity>().await, 0);
    member(d.app(), d.org, d.applicant.user_id).await;
    let res = apply(d.app(), &d.applicant, &plain_body(sid)).await;
    assert_eq!(res.status().as_u16(), 201);
}

#[tokio::test]
async fn create_returns_422_when_the_hardship_amount_or_category_is_invalid() {
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let legal = offer(&d, d.org, "legal_aid", false).await;
    let mut cases_ = Vec::new();
    for amount in [json!(0), json!(-1), json!(10_000_001), Value::Null] {
        let mut b = hardship_body(sid);
        b["amount_requested_fen"] = amount;
        cases_.push((b, "invalid_amount"));
    }
    let mut b = hardship_body(sid);
    b.as_object_mut()
        .expect("obj")
        .remove("amount_requested_fen");
    cases_.push((b, "invalid_amount"));
    for details in [
        json!({"category": "lottery"}),
        json!({}),
        json!({"category": 3}),
        Value::Null,
    ] {
        let mut b = hardship_body(sid);
        b["details"] = details;
        cases_.push((b, "invalid_category"));
    }
    let mut b = plain_body(legal);
    b["amount_requested_fen"] = json!(100);
    cases_.push((b, "invalid_amount"));
    for (b, code) in cases_ {
        let res = apply(d.app(), &d.applicant, &b).await;
        assert_eq!(error_code(res).await, (422, code.into()), "{b}");
    }
    let mut b = hardship_body(sid);
    b["amount_requested_fen"] = json!(10_000_000);
    assert_eq!(
        apply(d.app(), &d.applicant, &b).await.status().as_u16(),
        201
    );
    assert_eq!(d.app().count::<cases::Entity>().await, 1);
}

#[tokio::test]
async fn create_returns_422_consent_required_and_stores_nothing_when_consent_is_missing_or_outdated()
 {
    let d = desk().await;
    let hardship = offer(&d, d.org, "hardship", false).await;
    let counseling = offer(&d, d.org, "counseling", false).await;
    for sid in [hardship, counseling] {
        for consent in [
            Value::Null,
            json!({"version": "sensitive-2020-01"}),
            json!({"version": ""}),
        ] {
            let mut b = hardship_body(sid);
            if sid == counseling {
                b = plain_body(sid);
            }
            b["consent"] = consent.clone();
            let res = apply(d.app(), &d.applicant, &b).await;
            assert_eq!(
                error_code(res).await,
                (422, "consent_required".into()),
                "{consent}"
            );
        }
    }
    assert_eq!(d.app().count::<cases::Entity>().await, 0);
    assert_eq!(d.app().count::<case_events::Entity>().await, 0);
    assert!(
        notices(d.app(), d.officer.user_id, "case_new")
            .await
            .is_empty()
    );
    let mut b = plain_body(counseling);
    b["consent"] = json!({"version": CONSENT});
    let c = file(d.app(), &d.applicant, &b).await;
    assert_eq!(c["consent"]["version"], json!(CONSENT));
}

#[tokio::test]
async fn create_returns_422_when_description_or_details_are_out_of_range() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let cases_ = [
        (json!({"description": ""}), "invalid_description"),
        (json!({"description": "   "}), "invalid_description"),
        (
            json!({"description": "字".repeat(4001)}),
            "invalid_description",
        ),
        (json!({"description": "a\u{0000}b"}), "invalid_description"),
        (json!({"details": [1, 2]}), "invalid_details"),
        (json!({"details": "text"}), "invalid_details"),
        (
            json!({"details": {"x": "a".repeat(8200)}}),
            "invalid_details",
        ),
    ];
    for (patch, code) in cases_ {
        let mut b = plain_body(sid);
        for (k, v) in patch.as_object().expect("object") {
            b[k] = v.clone();
        }
        let res = apply(d.app(), &d.applicant, &b).await;
        assert_eq!(error_code(res).await, (422, code.into()), "{patch}");
    }
    let mut b = plain_body(sid);
    b["description"] = json!("字".repeat(4000));
    assert_eq!(
        apply(d.app(), &d.applicant, &b).await.status().as_u16(),
        201
    );
}

#[tokio::test]
async fn create_returns_400_when_the_body_is_malformed_and_413_when_oversized() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let tok = &d.applicant.access;
    for b in [
        "[]".to_owned(),
        "not json".to_owned(),
        json!({"description": "x"}).to_string(),
        json!({"service_id": sid}).to_string(),
        json!({"service_id": "1", "description": "x"}).to_string(),
        json!({"service_id": sid, "description": "x", "amount_requested_fen": 1.5}).to_string(),
        json!({"service_id": sid, "description": "x", "amount_requested_fen": "100"}).to_string(),
        json!({"service_id": sid, "description": "x", "consent": {"version": CONSENT, "x": 1}})
            .to_string(),
        json!({"service_id": sid, "description": "x", "consent": "yes"}).to_string(),
        json!({"service_id": sid, "description": "x", "status": "accepted"}).to_string(),
    ] {
        let (status, code) = raw_post(d.app(), CASES, tok, b.clone()).await;
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{b}");
    }
    let big = json!({"service_id": sid, "description": "a".repeat(70_000)}).to_string();
    assert_eq!(raw_post(d.app(), CASES, tok, big).await.0, 413);
    let (status, code) = raw_post(d.app(), CASES, "bad-token", plain_body(sid).to_string()).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert_eq!(d.app().count::<cases::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_one_case_when_the_same_submission_comes_twice_with_one_idempotency_key() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let send = || {
        d.app()
            .client
            .post(d.app().url(CASES))
            .bearer_auth(&d.applicant.access)
            .header("Idempotency-Key", "case-2026-11-26-a")
            .json(&hardship_body(sid))
            .send()
    };

    // Act
    let first = send().await.expect("first");
    let second = send().await.expect("second");

    // Assert
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(second.status().as_u16(), 201);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    assert_eq!(
        second
            .headers()
            .get("Idempotent-Replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let a: Value = first.json().await.expect("json");
    let b: Value = second.json().await.expect("json");
    assert_eq!(a, b);
    assert_eq!(d.app().count::<cases::Entity>().await, 1);
    assert_eq!(d.app().count::<case_events::Entity>().await, 1);
    let res = d
        .app()
        .client
        .post(d.app().url(CASES))
        .bearer_auth(&d.applicant.access)
        .header("Idempotency-Key", "")
        .json(&hardship_body(sid))
        .send()
        .await
        .expect("req");
    assert_eq!(error_code(res).await, (400, "bad_request".into()));
}

#[tokio::test]
async fn create_with_a_key_used_for_another_body_returns_422_idempotency_key_reused() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let send = |body: Value| {
        d.app()
            .client
            .post(d.app().url(CASES))
            .bearer_auth(&d.applicant.access)
            .header("Idempotency-Key", "case-key-reused")
            .json(&body)
            .send()
    };
    let mut other = hardship_body(sid);
    other["description"] = json!("另一件事，需要法律援助");

    // Act
    let first = send(hardship_body(sid)).await.expect("first");
    let second = send(other).await.expect("second");

    // Assert
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(
        error_code(second).await,
        (422, "idempotency_key_reused".into())
    );
    assert_eq!(d.app().count::<cases::Entity>().await, 1);
}

#[tokio::test]
async fn no_file_of_the_data_folder_holds_a_description_note_or_message_sent_with_or_without_a_key()
{
    // Arrange: each sealed kind sent once under an Idempotency-Key and once without.
    let d = desk().await;
    let app = d.app();
    let sid = offer(&d, d.org, "hardship", false).await;
    let keyed = |path: String, who: &Session, key: &str, body: Value| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&who.access)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let res = keyed(
        CASES.into(),
        &d.applicant,
        "case-sealed",
        hardship_body(sid),
    )
    .await
    .expect("keyed case");
    assert_eq!(res.status().as_u16(), 201);
    let cid = res.json::<Value>().await.expect("case")["id"]
        .as_i64()
        .expect("id");
    file(app, &d.applicant, &hardship_body(sid)).await;
    let note = "家访核实，情况属实，邻居可作证";
    let res = keyed(
        format!("{CASES}/{cid}/transition"),
        &d.officer,
        "move-sealed",
        json!({"to": "accepted", "note": note}),
    )
    .await
    .expect("keyed move");
    assert_eq!(res.status().as_u16(), 200);
    let (keyed_msg, plain_msg) = ("请补充住院发票复印件", "诊断证明也请一并上传");
    let res = keyed(
        format!("{CASES}/{cid}/messages"),
        &d.applicant,
        "message-sealed",
        json!({"body": keyed_msg}),
    )
    .await
    .expect("keyed message");
    assert_eq!(res.status().as_u16(), 201);
    let res = app
        .post_auth(
            &format!("{CASES}/{cid}/messages"),
            &d.officer.access,
            &json!({"body": plain_msg}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);

    // Act: every stored answer, and on SQLite every file of the data folder (WAL included).
    let bodies: Vec<String> = idempotency_keys::Entity::find()
        .all(&app.state.db)
        .await
        .expect("keys")
        .into_iter()
        .map(|k| k.body)
        .collect();
    let files = data_files(app);

    // Assert
    assert!(!bodies.is_empty(), "the keyed case kept its answer");
    let markers = [SECRET_TEXT, SECRET_DETAIL, note, keyed_msg, plain_msg];
    for body in &bodies {
        assert!(body.starts_with("v1:"), "{body}");
        for m in markers {
            assert!(!body.contains(m), "{body} holds {m}");
        }
    }
    for (name, bytes) in &files {
        for m in markers {
            let m = m.as_bytes();
            assert!(
                !bytes.windows(m.len()).any(|w| w == m),
                "{name} holds {} in plaintext",
                String::from_utf8_lossy(m)
            );
        }
    }
}

#[tokio::test]
async fn the_database_holds_no_plaintext_of_descriptions_details_notes_or_messages() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    let note = "家访核实，情况属实";
    must_move(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "accepted", "note": note}),
    )
    .await;
    let msg = "请补充住院发票复印件";
    let res = d
        .app()
        .post_auth(
            &format!("{CASES}/{cid}/messages"),
            &d.officer.access,
            &json!({"body": msg}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);

    // Act
    let db = &d.app().state.db;
    let row = cases::Entity::find_by_id(cid)
        .one(db)
        .await
        .expect("q")
        .expect("case");
    let event = case_events::Entity::find()
        .filter(case_events::Column::ToStatus.eq("accepted"))
        .one(db)
        .await
        .expect("q")
        .expect("event");
    let m = case_messages::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("message");

    // Assert
    let key = DataKey::from_hex(DATA_KEY).expect("key");
    let details = row.details_enc.clone().expect("details");
    let note_enc = event.note_enc.clone().expect("note");
    for (sealed, plain) in [
        (&row.description_enc, SECRET_TEXT),
        (&details, SECRET_DETAIL),
        (&note_enc, note),
        (&m.body_enc, msg),
    ] {
        assert!(!sealed.contains(plain), "{sealed}");
        assert!(sealed.starts_with("v1:"));
        assert!(key.open(sealed).expect("opens").contains(plain));
    }
    let (_, c) = status_json(d.app().get_auth(&case_path(cid), &d.officer.access).await).await;
    assert_eq!(c["history"][1]["note"], json!(note));
    assert_eq!(c["messages"][0]["body"], json!(msg));
    assert_eq!(c["messages"][0]["from_applicant"], json!(false));
}

#[tokio::test]
async fn get_returns_the_case_to_its_applicant_and_officers_and_404_to_everybody_else() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);

    // Act / Assert
    for (who, want) in [
        (&d.applicant, 200),
        (&d.officer, 200),
        (&d.officer2, 200),
        (&d.other_officer, 404),
        (&d.w.hefei_admin, 404),
        (&d.w.wuhu_admin, 404),
        (&d.stranger, 404),
    ] {
        let res = d.app().get_auth(&case_path(cid), &who.access).await;
        assert_eq!(res.status().as_u16(), want, "{}", who.phone);
    }
    for p in ["999999", "x"] {
        let res = d
            .app()
            .get_auth(&format!("{CASES}/{p}"), &d.officer.access)
            .await;
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    let res = d
        .app()
        .client
        .get(d.app().url(&case_path(cid)))
        .send()
        .await
        .expect("req");
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn get_appends_an_audit_entry_when_an_officer_reads_a_case_and_none_for_the_applicant() {
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    d.app().get_auth(&case_path(cid), &d.applicant.access).await;
    assert!(d.app().audit("case.read").await.is_empty());
    d.app().get_auth(&case_path(cid), &d.officer.access).await;
    d.app().get_auth(&case_path(cid), &d.officer.access).await;
    d.app()
        .get_auth(&case_path(cid), &d.other_officer.access)
        .await;
    let read = d.app().audit("case.read").await;
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].actor_user_id, Some(d.officer.user_id));
    assert_eq!(read[0].target, format!("case:{cid}"));
    assert_eq!(read[0].region_id, Some(d.w.park));
}

#[tokio::test]
async fn transition_returns_200_for_every_allowed_move_and_403_or_409_for_every_other() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    for from in STATUSES {
        // Every refused move, by both sides, on one case standing at `from`.
        let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
        drive(&d, cid, from, false).await;
        for to in STATUSES {
            let officer_ok = OFFICER_MOVES.contains(&(from, to));
            let applicant_ok = (from, to) == ("submitted", "withdrawn");
            if !officer_ok {
                let res = move_to(d.app(), &d.officer, cid, move_body(to)).await;
                assert_eq!(
                    error_code(res).await,
                    (409, "invalid_transition".into()),
                    "officer {from}→{to}"
                );
            }
            if !applicant_ok {
                let want = if matches!(to, "submitted" | "withdrawn") {
                    (409, "invalid_transition".to_owned())
                } else {
                    (403, "forbidden".to_owned())
                };
                let res = move_to(d.app(), &d.applicant, cid, move_body(to)).await;
                assert_eq!(error_code(res).await, want, "applicant {from}→{to}");
            }
        }
        let (_, c) =
            status_json(d.app().get_auth(&case_path(cid), &d.applicant.access).await).await;
        assert_eq!(c["status"], json!(from), "refused moves changed nothing");
    }
    // Every allowed move, each on a fresh case.
    for (from, to) in OFFICER_MOVES {
        let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
        drive(&d, cid, from, false).await;
        let c = must_move(d.app(), &d.officer, cid, move_body(to)).await;
        assert_eq!(c["status"], json!(to));
        let last = c["history"]
            .as_array()
            .expect("history")
            .last()
            .cloned()
            .expect("row");
        assert_eq!(
            (last["from"].clone(), last["to"].clone()),
            (json!(from), json!(to))
        );
        assert_eq!(last["by"], json!(d.officer.user_id));
        assert_eq!(last["by_name"], json!("组织干部"));
    }
    let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    let c = must_move(d.app(), &d.applicant, cid, json!({"to": "withdrawn"})).await;
    assert_eq!(c["status"], json!("withdrawn"));
    assert_eq!(c["allowed_transitions"], json!([]));
}

#[tokio::test]
async fn transition_returns_allowed_moves_for_each_side_in_the_case() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    let (_, c) = status_json(d.app().get_auth(&case_path(cid), &d.officer.access).await).await;
    assert_eq!(c["allowed_transitions"], json!(["accepted", "rejected"]));
    let c = must_move(d.app(), &d.officer, cid, json!({"to": "accepted"})).await;
    assert_eq!(c["allowed_transitions"], json!(["rejected", "in_progress"]));
    let (_, c) = status_json(d.app().get_auth(&case_path(cid), &d.applicant.access).await).await;
    assert_eq!(c["allowed_transitions"], json!([]));
}

#[tokio::test]
async fn transition_notifies_the_applicant_by_sms_when_an_officer_moves_and_audits_the_move() {
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    must_move(d.app(), &d.officer, cid, json!({"to": "accepted"})).await;
    let n = notices(d.app(), d.applicant.user_id, "case_status").await;
    assert_eq!(n.len(), 1);
    assert_ne!(n[0].sms_status, "none");
    assert!(
        n[0].body.contains("hardship服务") && n[0].body.contains("已受理"),
        "{}",
        n[0].body
    );
    assert!(!n[0].body.contains("尿毒症"));
    assert_eq!(n[0].link.as_deref(), Some(format!("/cases/{cid}").as_str()));
    let a = d.app().audit("case.transition").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].actor_user_id, Some(d.officer.user_id));
    // The applicant's own move tells nobody by SMS.
    let cid2 = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    must_move(d.app(), &d.applicant, cid2, json!({"to": "withdrawn"})).await;
    assert_eq!(
        notices(d.app(), d.applicant.user_id, "case_status")
            .await
            .len(),
        1
    );
    assert_eq!(d.app().audit("case.transition").await.len(), 1);
}

#[tokio::test]
async fn transition_returns_422_when_a_rejection_has_no_note_or_a_hardship_resolve_has_a_bad_amount()
 {
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let legal = offer(&d, d.org, "legal_aid", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    for b in [
        json!({"to": "rejected"}),
        json!({"to": "rejected", "note": "  "}),
    ] {
        let res = move_to(d.app(), &d.officer, cid, b).await;
        assert_eq!(error_code(res).await, (422, "note_required".into()));
    }
    let res = move_to(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "accepted", "note": "字".repeat(1001)}),
    )
    .await;
    assert_eq!(error_code(res).await, (422, "invalid_note".into()));
    let res = move_to(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "accepted", "amount_granted_fen": 5}),
    )
    .await;
    assert_eq!(error_code(res).await, (422, "invalid_amount".into()));
    drive(&d, cid, "in_progress", true).await;
    for amount in [Value::Null, json!(-1), json!(10_000_001)] {
        let mut b = json!({"to": "resolved"});
        if !amount.is_null() {
            b["amount_granted_fen"] = amount.clone();
        }
        let res = move_to(d.app(), &d.officer, cid, b).await;
        assert_eq!(
            error_code(res).await,
            (422, "invalid_amount".into()),
            "{amount}"
        );
    }
    let c = must_move(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "resolved", "amount_granted_fen": 0}),
    )
    .await;
    assert_eq!(c["amount_granted_fen"], json!(0));
    // Not hardship: no amount, no class.
    let lid = id(&file(d.app(), &d.applicant, &plain_body(legal)).await);
    let res = move_to(
        d.app(),
        &d.officer,
        lid,
        json!({"to": "accepted", "hardship_class": "deep"}),
    )
    .await;
    assert_eq!(error_code(res).await, (422, "not_hardship".into()));
    drive(&d, lid, "in_progress", false).await;
    let res = move_to(
        d.app(),
        &d.officer,
        lid,
        json!({"to": "resolved", "amount_granted_fen": 100}),
    )
    .await;
    assert_eq!(error_code(res).await, (422, "invalid_amount".into()));
}

#[tokio::test]
async fn transition_sets_the_hardship_class_and_refuses_an_unknown_one() {
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    let res = move_to(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "accepted", "hardship_class": "poor"}),
    )
    .await;
    assert_eq!(
        error_code(res).await,
        (422, "invalid_hardship_class".into())
    );
    let c = must_move(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "accepted", "hardship_class": "deep"}),
    )
    .await;
    assert_eq!(c["hardship_class"], json!("deep"));
}

#[tokio::test]
async fn transition_returns_404_400_or_409_when_the_caller_or_the_body_is_wrong() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    for who in [&d.other_officer, &d.w.hefei_admin, &d.stranger] {
        let res = move_to(d.app(), who, cid, json!({"to": "accepted"})).await;
        assert_eq!(
            error_code(res).await,
            (404, "not_found".into()),
            "{}",
            who.phone
        );
    }
    let path = format!("{CASES}/{cid}/transition");
    for b in [
        "{}",
        "[]",
        r#"{"to": 1}"#,
        r#"{"to": "accepted", "by": 3}"#,
        "{",
    ] {
        let (status, code) = raw_post(d.app(), &path, &d.officer.access, b.to_owned()).await;
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{b}");
    }
    let res = move_to(d.app(), &d.officer, cid, json!({"to": "done"})).await;
    assert_eq!(error_code(res).await, (409, "invalid_transition".into()));
    let res = move_to(d.app(), &d.officer, 999_999, json!({"to": "accepted"})).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
}

#[tokio::test]
async fn transition_returns_one_200_and_one_409_when_two_officers_move_the_same_case_at_once() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(id(&file(d.app(), &d.applicant, &plain_body(sid)).await));
    }

    for cid in ids {
        // Act
        let results = join_all([
            move_to(d.app(), &d.officer, cid, json!({"to": "accepted"})),
            move_to(d.app(), &d.officer2, cid, json!({"to": "accepted"})),
        ])
        .await;

        // Assert
        let mut codes: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
        codes.sort_unstable();
        assert_eq!(codes, vec![200, 409]);
        let events = case_events::Entity::find()
            .filter(case_events::Column::CaseId.eq(cid))
            .all(&d.app().state.db)
            .await
            .expect("events");
        assert_eq!(events.len(), 2);
    }
}

#[tokio::test]
async fn patch_sets_the_hardship_class_for_officers_only() {
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let legal = offer(&d, d.org, "legal_aid", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    let path = case_path(cid);
    let (status, c) = status_json(
        d.app()
            .patch_auth(
                &path,
                &d.officer.access,
                &json!({"hardship_class": "relative"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["hardship_class"], json!("relative"));
    assert_eq!(d.app().audit("case.update").await.len(), 1);
    let res = d
        .app()
        .patch_auth(&path, &d.officer.access, &json!({"hardship_class": "rich"}))
        .await;
    assert_eq!(
        error_code(res).await,
        (422, "invalid_hardship_class".into())
    );
    let res = d
        .app()
        .patch_auth(
            &path,
            &d.applicant.access,
            &json!({"hardship_class": "deep"}),
        )
        .await;
    assert_eq!(error_code(res).await, (403, "forbidden".into()));
    for who in [&d.other_officer, &d.w.hefei_admin, &d.stranger] {
        let res = d
            .app()
            .patch_auth(&path, &who.access, &json!({"hardship_class": "deep"}))
            .await;
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    for b in [
        json!({}),
        json!({"hardship_class": 1}),
        json!({"status": "closed"}),
    ] {
        let res = d.app().patch_auth(&path, &d.officer.access, &b).await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{b}");
    }
    let lid = id(&file(d.app(), &d.applicant, &plain_body(legal)).await);
    let res = d
        .app()
        .patch_auth(
            &case_path(lid),
            &d.officer.access,
            &json!({"hardship_class": "deep"}),
        )
        .await;
    assert_eq!(error_code(res).await, (422, "not_hardship".into()));
}

#[tokio::test]
async fn payment_follows_its_rules_and_is_recorded_once() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    let path = format!("{CASES}/{cid}/payment");
    let today = (chrono::Utc::now() + Duration::hours(8)).date_naive();
    let ok = json!({"paid_on": today.format("%Y-%m-%d").to_string(), "method": "bank_transfer", "amount_fen": 300_000});
    let pay = |who: &Session, b: Value| {
        let (app, token, path) = (d.app(), who.access.clone(), path.clone());
        async move { app.post_auth(&path, &token, &b).await }
    };

    // Not resolved yet.
    drive(&d, cid, "in_progress", true).await;
    assert_eq!(
        error_code(pay(&d.officer, ok.clone()).await).await,
        (409, "not_resolved".into())
    );
    must_move(
        d.app(),
        &d.officer,
        cid,
        json!({"to": "resolved", "amount_granted_fen": 300_000}),
    )
    .await;

    // Bad input.
    let tomorrow = (today + Duration::days(1)).format("%Y-%m-%d").to_string();
    for (patch, code) in [
        (json!({"paid_on": tomorrow}), "invalid_date"),
        (json!({"paid_on": "2026/11/01"}), "invalid_date"),
        (json!({"paid_on": "2026-02-30"}), "invalid_date"),
        (json!({"method": "cheque"}), "invalid_method"),
        (json!({"amount_fen": 0}), "invalid_amount"),
        (json!({"amount_fen": 300_001}), "invalid_amount"),
    ] {
        let mut b = ok.clone();
        for (k, v) in patch.as_object().expect("obj") {
            b[k] = v.clone();
        }
        assert_eq!(
            error_code(pay(&d.officer, b.clone()).await).await,
            (422, code.into()),
            "{b}"
        );
    }
    for b in [
        json!({"method": "cash"}),
        json!({"paid_on": "2026-11-01", "method": "cash", "amount_fen": "1"}),
    ] {
        assert_eq!(
            error_code(pay(&d.officer, b.clone()).await).await,
            (400, "bad_request".into()),
            "{b}"
        );
    }
    assert_eq!(
        error_code(pay(&d.applicant, ok.clone()).await).await,
        (403, "forbidden".into())
    );
    for who in [&d.other_officer, &d.w.hefei_admin, &d.stranger] {
        assert_eq!(
            error_code(pay(who, ok.clone()).await).await,
            (404, "not_found".into())
        );
    }

    // Act
    let (status, c) = status_json(pay(&d.officer, ok.clone()).await).await;

    // Assert
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["payment"]["paid_on"], ok["paid_on"]);
    assert_eq!(c["payment"]["method"], json!("bank_transfer"));
    assert_eq!(c["payment"]["amount_fen"], json!(300_000));
    assert_eq!(c["payment"]["recorded_by"], json!(d.officer.user_id));
    assert_eq!(c["payment"]["recorded_by_name"], json!("组织干部"));
    assert_eq!(
        error_code(pay(&d.officer, ok.clone()).await).await,
        (409, "payment_exists".into())
    );
    assert_eq!(d.app().audit("case.payment").await.len(), 1);
    // Closed cases keep their payment.
    must_move(d.app(), &d.officer, cid, json!({"to": "closed"})).await;
    let (_, c) = status_json(d.app().get_auth(&case_path(cid), &d.applicant.access).await).await;
    assert_eq!(c["payment"]["amount_fen"], json!(300_000));
}

#[tokio::test]
async fn payment_returns_422_not_hardship_when_the_case_is_not_hardship() {
    let d = desk().await;
    let legal = offer(&d, d.org, "legal_aid", false).await;
    let cid = id(&file(d.app(), &d.applicant, &plain_body(legal)).await);
    drive(&d, cid, "resolved", false).await;
    let res = d
        .app()
        .post_auth(
            &format!("{CASES}/{cid}/payment"),
            &d.officer.access,
            &json!({"paid_on": "2026-01-05", "method": "cash", "amount_fen": 1}),
        )
        .await;
    assert_eq!(error_code(res).await, (422, "not_hardship".into()));
}

#[tokio::test]
async fn get_shows_officers_the_relief_of_the_last_12_months_from_any_org_and_not_the_applicant() {
    // Arrange: relief from the other org this year, and from this org long ago.
    let d = desk().await;
    let here = offer(&d, d.org, "hardship", false).await;
    let there = offer(&d, d.other_org, "hardship", false).await;
    let today = (chrono::Utc::now() + Duration::hours(8)).date_naive();
    let recent_day = (today - Duration::days(30)).format("%Y-%m-%d").to_string();

    let recent = id(&file(d.app(), &d.applicant, &hardship_body(there)).await);
    for to in ["accepted", "in_progress"] {
        must_move(d.app(), &d.other_officer, recent, json!({"to": to})).await;
    }
    must_move(
        d.app(),
        &d.other_officer,
        recent,
        json!({"to": "resolved", "amount_granted_fen": 200_000}),
    )
    .await;
    let res = d
        .app()
        .post_auth(
            &format!("{CASES}/{recent}/payment"),
            &d.other_officer.access,
            &json!({"paid_on": recent_day, "method": "cash", "amount_fen": 150_000}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);

    let old = id(&file(d.app(), &d.applicant, &hardship_body(here)).await);
    drive(&d, old, "resolved", true).await;
    let long_ago = today.checked_sub_months(Months::new(13)).expect("date");
    let long_ago_ms = long_ago
        .and_hms_opt(4, 0, 0)
        .expect("time")
        .and_utc()
        .timestamp_millis();
    d.app()
        .exec(
            "UPDATE cases SET resolved_at = ? WHERE id = ?",
            vec![long_ago_ms.into(), old.into()],
        )
        .await;

    // Resolved with nothing granted: no warning either.
    let nothing = id(&file(d.app(), &d.applicant, &hardship_body(here)).await);
    drive(&d, nothing, "in_progress", true).await;
    must_move(
        d.app(),
        &d.officer,
        nothing,
        json!({"to": "resolved", "amount_granted_fen": 0}),
    )
    .await;

    let cid = id(&file(d.app(), &d.applicant, &hardship_body(here)).await);

    // Act
    let (_, officer_view) =
        status_json(d.app().get_auth(&case_path(cid), &d.officer.access).await).await;
    let (_, own_view) =
        status_json(d.app().get_auth(&case_path(cid), &d.applicant.access).await).await;

    // Assert
    assert_eq!(
        officer_view["relief_warnings"],
        json!([{"date": recent_day, "org_name": "云帆软件工会", "amount_fen": 150_000}])
    );
    assert_eq!(own_view["relief_warnings"], json!([]));
}

#[tokio::test]
async fn messages_return_201_for_both_sides_notify_the_other_and_409_once_the_case_is_over() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    let path = format!("{CASES}/{cid}/messages");

    // Act
    let (s1, m1) = status_json(
        d.app()
            .post_auth(
                &path,
                &d.applicant.access,
                &json!({"body": " 请问需要什么材料？ "}),
            )
            .await,
    )
    .await;
    let (s2, m2) = status_json(
        d.app()
            .post_auth(
                &path,
                &d.officer.access,
                &json!({"body": "劳动合同和工资条"}),
            )
            .await,
    )
    .await;

    // Assert
    assert_eq!((s1, s2), (201, 201), "{m1} {m2}");
    assert_eq!(
        m1,
        json!({"id": m1["id"], "author_id": d.applicant.user_id, "author_name": "李小梅",
               "from_applicant": true, "body": "请问需要什么材料？", "created_at": m1["created_at"]})
    );
    assert_eq!(m2["from_applicant"], json!(false));
    assert_eq!(
        notices(d.app(), d.officer.user_id, "case_message")
            .await
            .len(),
        1
    );
    assert_eq!(
        notices(d.app(), d.officer2.user_id, "case_message")
            .await
            .len(),
        1
    );
    let to_applicant = notices(d.app(), d.applicant.user_id, "case_message").await;
    assert_eq!(to_applicant.len(), 1);
    assert_eq!(to_applicant[0].sms_status, "none");
    let (_, c) = status_json(d.app().get_auth(&case_path(cid), &d.applicant.access).await).await;
    assert_eq!(c["messages"].as_array().expect("messages").len(), 2);

    for (b, code) in [
        (json!({"body": ""}), "invalid_body"),
        (json!({"body": "字".repeat(2001)}), "invalid_body"),
    ] {
        let res = d.app().post_auth(&path, &d.applicant.access, &b).await;
        assert_eq!(error_code(res).await, (422, code.into()));
    }
    for b in [
        json!({}),
        json!({"body": 5}),
        json!({"body": "x", "author_id": 1}),
    ] {
        let res = d.app().post_auth(&path, &d.applicant.access, &b).await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{b}");
    }
    for who in [&d.other_officer, &d.w.hefei_admin, &d.stranger] {
        let res = d
            .app()
            .post_auth(&path, &who.access, &json!({"body": "你好"}))
            .await;
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    for over in ["withdrawn", "rejected", "closed"] {
        let cid = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
        drive(&d, cid, over, false).await;
        let res = d
            .app()
            .post_auth(
                &format!("{CASES}/{cid}/messages"),
                &d.applicant.access,
                &json!({"body": "还在吗"}),
            )
            .await;
        assert_eq!(error_code(res).await, (409, "case_closed".into()), "{over}");
    }
}

#[tokio::test]
async fn list_returns_my_cases_or_the_org_queue_newest_first_and_403_to_outsiders() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let hid = offer(&d, d.org, "hardship", false).await;
    let a = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    let b = id(&file(d.app(), &d.applicant, &hardship_body(hid)).await);
    let c = id(&file(d.app(), &d.stranger, &plain_body(sid)).await);
    must_move(d.app(), &d.officer, a, json!({"to": "accepted"})).await;
    let ids = |v: &Value| {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id)
            .collect::<Vec<_>>()
    };

    // Act / Assert
    let (_, mine) = status_json(d.app().get_auth(CASES, &d.applicant.access).await).await;
    assert_eq!(ids(&mine), vec![b, a]);
    let item = &mine["items"][0];
    assert_eq!(
        item,
        &json!({"id": b, "service_id": hid, "service_title": "hardship服务", "org_id": d.org,
                "org_name": "智联工会open", "kind": "hardship", "status": "submitted",
                "applicant_name": "李小梅", "amount_requested_fen": 500_000, "hardship_class": null,
                "created_at": item["created_at"], "updated_at": item["updated_at"]})
    );
    assert!(item.get("description").is_none());
    let q = |query: String| {
        let app = d.app();
        let token = d.officer.access.clone();
        async move { status_json(app.get_auth(&format!("{CASES}?{query}"), &token).await).await }
    };
    let (_, queue) = q(format!("org_id={}", d.org)).await;
    assert_eq!(ids(&queue), vec![c, b, a]);
    let (_, accepted) = q(format!("org_id={}&status=accepted", d.org)).await;
    assert_eq!(ids(&accepted), vec![a]);
    let (_, hardship) = q(format!("org_id={}&kind=hardship", d.org)).await;
    assert_eq!(ids(&hardship), vec![b]);
    let (_, p1) = q(format!("org_id={}&limit=2", d.org)).await;
    assert_eq!(ids(&p1), vec![c, b]);
    let cursor = p1["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, p2) = q(format!("org_id={}&limit=2&cursor={cursor}", d.org)).await;
    assert_eq!(ids(&p2), vec![a]);
    assert_eq!(p2["next_cursor"], Value::Null);
    let (_, own) = q("mine=true".into()).await;
    assert_eq!(ids(&own), Vec::<i64>::new());

    for who in [&d.applicant, &d.other_officer, &d.w.hefei_admin] {
        let res = d
            .app()
            .get_auth(&format!("{CASES}?org_id={}", d.org), &who.access)
            .await;
        assert_eq!(
            error_code(res).await,
            (403, "forbidden".into()),
            "{}",
            who.phone
        );
    }
    for bad in [
        "status=done",
        "kind=loans",
        "limit=0",
        "limit=500",
        "cursor=x",
        "org_id=abc",
        "mine=2",
    ] {
        let (status, _) = q(format!("org_id={}&{bad}", d.org)).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn stats_return_counts_only_to_admins_covering_the_region() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let hid = offer(&d, d.other_org, "hardship", false).await;
    let a = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    file(d.app(), &d.applicant, &hardship_body(hid)).await;
    must_move(d.app(), &d.officer, a, json!({"to": "accepted"})).await;
    let path = |rid: i64| format!("/api/v1/stats/cases?region_id={rid}");

    // Act
    let (status, s) = status_json(
        d.app()
            .get_auth(&path(d.w.hefei), &d.w.hefei_admin.access)
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["region_id"], json!(d.w.hefei));
    assert_eq!(s["total"], json!(2));
    assert_eq!(s["by_status"]["accepted"], json!(1));
    assert_eq!(s["by_status"]["submitted"], json!(1));
    assert_eq!(s["by_status"]["closed"], json!(0));
    assert_eq!(s["by_kind"]["hardship"], json!(1));
    assert_eq!(s["by_kind"]["legal_aid"], json!(1));
    assert!(!s.to_string().contains("尿毒症"));
    let (_, county) = status_json(
        d.app()
            .get_auth(&path(d.w.county), &d.w.hefei_admin.access)
            .await,
    )
    .await;
    assert_eq!(county["total"], json!(0));
    for who in [&d.w.wuhu_admin, &d.officer, &d.applicant] {
        let res = d.app().get_auth(&path(d.w.hefei), &who.access).await;
        assert_eq!(
            error_code(res).await,
            (403, "forbidden".into()),
            "{}",
            who.phone
        );
    }
    let res = d
        .app()
        .get_auth(&path(999_999), &d.w.hefei_admin.access)
        .await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    for q in ["", "?region_id=x"] {
        let res = d
            .app()
            .get_auth(&format!("/api/v1/stats/cases{q}"), &d.w.hefei_admin.access)
            .await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{q}");
    }
}

#[tokio::test]
async fn list_walks_an_index_of_the_org_queue_when_there_are_100000_cases() {
    // Speed itself is measured by `cargo bench --bench cases`, not here.
    // Arrange: 100,000 cases, 1% of them in the org whose queue is read, in every status.
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let other = offer(&d, d.other_org, "legal_aid", false).await;
    let seed = id(&file(d.app(), &d.applicant, &plain_body(sid)).await);
    let (series, n) = if d.app().db.is_postgres() {
        ("generate_series(1, 100000) AS g(n)", "g.n")
    } else {
        (
            "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000) SELECT n FROM g) AS g",
            "g.n",
        )
    };
    let sql = format!(
        "INSERT INTO cases (service_id, org_id, kind, applicant_id, status, description_enc, \
         created_at, updated_at) \
         SELECT CASE WHEN {n} % 100 = 0 THEN ? ELSE ? END, CASE WHEN {n} % 100 = 0 THEN ? ELSE ? END, \
         'legal_aid', ?, CASE ({n} / 100) % 4 WHEN 0 THEN 'submitted' WHEN 1 THEN 'accepted' \
         WHEN 2 THEN 'in_progress' ELSE 'closed' END, c.description_enc, c.created_at, c.updated_at \
         FROM {series}, cases c WHERE c.id = ?"
    );
    let added = d
        .app()
        .exec(
            &sql,
            vec![
                sid.into(),
                other.into(),
                d.org.into(),
                d.other_org.into(),
                d.applicant.user_id.into(),
                seed.into(),
            ],
        )
        .await;
    assert_eq!(added, 100_000);
    if d.app().db.is_postgres() {
        d.app().exec("ANALYZE cases", vec![]).await;
    } else {
        d.app().exec("ANALYZE", vec![]).await;
    }

    // Act / Assert: the plan walks an index in id order (no sort of the org's cases)…
    let backend = d.app().state.db.get_database_backend();
    for status in [None, Some("submitted")] {
        let q = CaseQuery {
            mine: None,
            org_id: Some(d.org),
            status: status.map(str::to_owned),
            kind: None,
            limit: Some(20),
            cursor: Some("60000".into()),
        };
        let page = PageQuery::new(q.limit, q.cursor.as_deref()).expect("page");
        let st = list_statement(backend, &ListOf::Org(d.org), &q, &page).expect("statement");
        let plan = sea_orm::Statement::from_sql_and_values(
            backend,
            format!(
                "EXPLAIN {}{}",
                if d.app().db.is_postgres() {
                    ""
                } else {
                    "QUERY PLAN "
                },
                st.sql
            ),
            st.values.map(|v| v.0).unwrap_or_default(),
        );
        let rows = d.app().state.db.query_all_raw(plan).await.expect("explain");
        let text: Vec<String> = rows
            .iter()
            .map(|r| {
                r.try_get_by_index::<String>(if d.app().db.is_postgres() { 0 } else { 3 })
                    .expect("plan line")
            })
            .collect();
        let text = text.join("\n");
        assert!(
            !text.contains("TEMP B-TREE") && !text.contains("Sort"),
            "{status:?}: {text}"
        );
        assert!(
            text.contains("idx_cases_org") || text.contains("cases_pkey"),
            "{status:?}: {text}"
        );
    }

    // …and every page of it answers.
    for query in [
        format!("org_id={}&limit=20", d.org),
        format!("org_id={}&status=submitted&limit=50", d.org),
        format!("org_id={}&status=in_progress&cursor=2000&limit=100", d.org),
        format!("org_id={}&cursor=50000", d.org),
    ] {
        let (status, page) = status_json(
            d.app()
                .get_auth(&format!("{CASES}?{query}"), &d.officer.access)
                .await,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert!(
            !page["items"].as_array().expect("items").is_empty(),
            "{query}"
        );
    }
}

#[tokio::test]
async fn every_case_endpoint_returns_400_413_or_404_and_never_500_when_the_input_is_junk() {
    // Arrange
    let d = desk().await;
    let sid = offer(&d, d.org, "hardship", false).await;
    let cid = id(&file(d.app(), &d.applicant, &hardship_body(sid)).await);
    let big = json!({ "body": "字".repeat(30_000), "note": "x" }).to_string();
    let junk = [
        "".to_owned(),
        "null".to_owned(),
        "\"text\"".to_owned(),
        "{\"a\":".to_owned(),
        "{}".to_owned(),
        json!({"to": null, "body": null, "hardship_class": null, "paid_on": null}).to_string(),
        json!({"amount_fen": 1e300, "amount_granted_fen": 99999999999999999999u128.to_string()})
            .to_string(),
    ];
    let posts = [
        CASES.to_owned(),
        format!("{CASES}/{cid}/transition"),
        format!("{CASES}/{cid}/payment"),
        format!("{CASES}/{cid}/messages"),
        "/api/v1/services".to_owned(),
    ];

    // Act / Assert
    for path in &posts {
        for who in [&d.officer, &d.applicant] {
            for b in &junk {
                let (status, code) = raw_post(d.app(), path, &who.access, b.clone()).await;
                assert!(
                    matches!(status, 400 | 403 | 422),
                    "{path} {b}: {status} {code}"
                );
            }
            let (status, _) = raw_post(d.app(), path, &who.access, big.clone()).await;
            assert_eq!(status, 413, "{path}");
        }
    }
    for path in [case_path(cid), format!("/api/v1/services/{sid}")] {
        for b in &junk {
            let res = d
                .app()
                .client
                .patch(d.app().url(&path))
                .bearer_auth(&d.officer.access)
                .header("content-type", "application/json")
                .body(b.clone())
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            // An empty patch of a service changes nothing and is fine.
            assert!(matches!(status, 200 | 400 | 422), "{path} {b}: {status}");
        }
    }
    for (path, b) in [
        (
            format!("{CASES}/{}/transition", i64::MAX),
            json!({"to": "accepted"}),
        ),
        (format!("{CASES}/-1/messages"), json!({"body": "你好"})),
        (
            format!("{CASES}/1e3/payment"),
            json!({"paid_on": "2026-01-05", "method": "cash", "amount_fen": 1}),
        ),
    ] {
        let res = d.app().post_auth(&path, &d.officer.access, &b).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    for q in [
        "?org_id=99999999999999999999",
        "?limit=-1",
        "?cursor=%00",
        "?status=",
    ] {
        let res = d
            .app()
            .get_auth(&format!("{CASES}{q}"), &d.officer.access)
            .await;
        assert!(res.status().as_u16() < 500, "{q}");
    }
}
