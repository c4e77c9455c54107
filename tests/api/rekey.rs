//! Data-key rotation: with the old key kept as a previous one, `rekey`
//! re-seals every stored value under the new key, after which a server that
//! holds only the new key reads back exactly what was there before.
use qunjia::crypto::DataKey;
use qunjia::crypto::rekey::{ColumnReport, SEALED_COLUMNS, rekey};
use qunjia::entity::cases;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::attachments::{png, upload};
use crate::campaigns::{Desk, campaign_of_two, desk, done, visit_of, visits};
use crate::helpers::*;
use crate::orgs::id;
use crate::support::{DATA_KEY, Session, TestApp, spawn_on};

const NEW_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// Every kind of sealed value under the test key: two cases (one with details,
/// a note in its history, a message and an attachment) and a visit with a note.
struct Sealed {
    d: Desk,
    applicant: Session,
    case: i64,
    campaign: i64,
}

async fn sealed_world() -> Sealed {
    let d = desk().await;
    let app = &d.w.app;
    let key = DataKey::from_hex(DATA_KEY).expect("key");
    let (c, a, _b) = campaign_of_two(&d).await;
    let campaign = id(&c);
    let items = visits(app, &d.officer, campaign, "").await;
    let visit = id(&visit_of(&items, a.user_id));
    let res = done(
        app,
        &d.officer,
        campaign,
        visit,
        &json!({ "visited_on": "2026-11-20", "form": "money", "amount_fen": 50_000,
                 "note": "老人卧床，家属在场" }),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let case = cases::Entity::find()
        .filter(cases::Column::ApplicantId.eq(a.user_id))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the household's case");
    cases::Entity::update(cases::ActiveModel {
        id: Set(case.id),
        details_enc: Set(Some(key.seal(r#"{"category":"illness"}"#))),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("details");
    let path = format!("/api/v1/cases/{}", case.id);
    let moved = app
        .post_auth(
            &format!("{path}/transition"),
            &d.officer.access,
            &json!({ "to": "in_progress", "note": "已联系社区核实" }),
        )
        .await;
    assert_eq!(moved.status().as_u16(), 200);
    let said = app
        .post_auth(
            &format!("{path}/messages"),
            &a.access,
            &json!({ "body": "谢谢，我的电话一直开着" }),
        )
        .await;
    assert_eq!(said.status().as_u16(), 201);
    let up = upload(app, &a, case.id, "病历.png", "image/png", &png()).await;
    assert_eq!(up.status().as_u16(), 201);
    Sealed {
        d,
        applicant: a,
        case: case.id,
        campaign,
    }
}

/// What the officer and the applicant read of the case, the attachment and the visits.
async fn reading(app: &TestApp, s: &Sealed) -> (Value, Value, Vec<u8>, Vec<Value>) {
    let path = format!("/api/v1/cases/{}", s.case);
    let (status, officer) = status_json(app.get_auth(&path, &s.d.officer.access).await).await;
    assert_eq!(status, 200, "{officer}");
    let (status, applicant) = status_json(app.get_auth(&path, &s.applicant.access).await).await;
    assert_eq!(status, 200, "{applicant}");
    let url = officer["attachments"][0]["url"].as_str().expect("url");
    let file = app.get_auth(url, &s.d.officer.access).await;
    assert_eq!(file.status().as_u16(), 200);
    let bytes = file.bytes().await.expect("bytes").to_vec();
    let visits = visits(app, &s.d.officer, s.campaign, "").await;
    (officer, applicant, bytes, visits)
}

fn report_of(
    report: &[(qunjia::crypto::rekey::SealedColumn, ColumnReport)],
    col: &str,
) -> ColumnReport {
    report
        .iter()
        .find(|(c, _)| format!("{}.{}", c.table, c.column) == col)
        .map(|(_, r)| *r)
        .expect("column in the report")
}

#[tokio::test]
async fn rekey_reseals_every_value_so_a_server_with_only_the_new_key_reads_the_same() {
    // Arrange
    let s = sealed_world().await;
    let app = &s.d.w.app;
    let before = reading(app, &s).await;
    assert_eq!(before.0["details"]["category"], "illness");
    let history = before.0["history"].as_array().expect("history");
    assert!(
        history.iter().any(|e| e["note"] == "已联系社区核实"),
        "{history:?}"
    );
    assert_eq!(before.1["messages"][0]["body"], "谢谢，我的电话一直开着");
    assert_eq!(
        visit_of(&before.3, s.applicant.user_id)["note"],
        "老人卧床，家属在场"
    );
    let rotating = DataKey::with_previous(NEW_KEY, [DATA_KEY]).expect("keys");

    // Act
    let mut heard = Vec::new();
    let report = rekey(&app.state.db, &rotating, |c, _| heard.push(c.column))
        .await
        .expect("rekey");

    // Assert
    assert_eq!(heard.len(), SEALED_COLUMNS.len());
    for (col, r) in &report {
        assert!(r.resealed >= 1, "{}.{}: {r:?}", col.table, col.column);
        assert_eq!((r.current, r.changed_meanwhile, r.unreadable), (0, 0, 0));
    }
    assert_eq!(report_of(&report, "cases.description_enc").resealed, 2);
    let new_only = spawn_on(app.db.clone(), |st| {
        st.data_key = SecretString::from(NEW_KEY);
    })
    .await;
    let after = reading(&new_only, &s).await;
    assert_eq!(after, before);
    let old = DataKey::from_hex(DATA_KEY).expect("key");
    let row = cases::Entity::find_by_id(s.case)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("row");
    assert!(
        old.open(&row.description_enc).is_err(),
        "no longer under the old key"
    );
    assert!(!row.description_enc.contains("住院"));

    // Running it again finds everything under the current key.
    let again = rekey(&app.state.db, &rotating, |_, _| {})
        .await
        .expect("rekey");
    for ((col, first), (_, second)) in report.iter().zip(&again) {
        assert_eq!(
            (second.resealed, second.current),
            (0, first.resealed),
            "{}.{}",
            col.table,
            col.column
        );
    }
}

#[tokio::test]
async fn rekey_counts_and_leaves_alone_values_that_open_with_no_configured_key() {
    // Arrange
    let s = sealed_world().await;
    let app = &s.d.w.app;
    let rows = || async {
        cases::Entity::find()
            .order_by_asc(cases::Column::Id)
            .all(&app.state.db)
            .await
            .expect("query")
    };
    let before = rows().await;
    let stranger = DataKey::with_previous(NEW_KEY, ["c3".repeat(32).as_str()]).expect("keys");

    // Act
    let report = rekey(&app.state.db, &stranger, |_, _| {})
        .await
        .expect("rekey");

    // Assert
    assert_eq!(rows().await, before);
    for (col, r) in &report {
        assert_eq!(
            (r.resealed, r.current),
            (0, 0),
            "{}.{}",
            col.table,
            col.column
        );
        assert!(r.unreadable >= 1, "{}.{}: {r:?}", col.table, col.column);
    }
    assert_eq!(reading(app, &s).await.0["details"]["category"], "illness");
}
