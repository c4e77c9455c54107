//! Every CSV and XLSX download the OpenAPI document lists, walked over the demo
//! data with every name and title made to start like a formula: no cell reaches
//! the officer's Excel able to run (issue: formula injection in attendance.csv).
use std::collections::BTreeSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::Value;

use crate::support::{TestApp, spawn_app};

/// The demo's officer (org_admin of the 智联 union), as `qunjia demo` prints it.
const OFFICER_PHONE: &str = "13800000010";

/// A cell Excel or WPS would read as a formula, a command or a signed number.
fn runnable(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Every text cell of a CSV (after its BOM) or of every sheet of an XLSX.
fn cells(path: &str, bytes: &[u8]) -> Vec<String> {
    if path.ends_with(".csv") {
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "{path}: BOM");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[3..]);
        reader
            .records()
            .flat_map(|r| {
                r.expect("csv row")
                    .iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("xlsx");
        let mut out = Vec::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).expect("sheet");
            for row in range.rows() {
                for c in row {
                    if let Data::String(s) = c {
                        out.push(s.clone());
                    }
                }
            }
        }
        out
    }
}

/// Ids to put in a path's `{id}`: every activity or campaign there is.
async fn ids(app: &TestApp, path: &str) -> Vec<i64> {
    let table = if path.contains("/activities/") {
        "activities"
    } else if path.contains("/campaigns/") {
        "campaigns"
    } else {
        return vec![0];
    };
    app.column(&format!("SELECT id FROM {table} ORDER BY id"))
        .await
}

#[tokio::test]
async fn every_csv_and_xlsx_route_returns_formula_text_quoted_when_names_start_like_formulas() {
    // Arrange: the demo, then every name and title people typed made to start
    // like a formula (each in its own way).
    let app = spawn_app().await;
    qunjia::demo::run(&app.state.settings).await.expect("demo");
    for sql in [
        "UPDATE users SET name = '=HYPERLINK(\"http://x\")' || name WHERE name IS NOT NULL",
        "UPDATE units SET name = '+' || name",
        "UPDATE orgs SET name = '@' || name",
        "UPDATE regions SET name = '-' || name",
        "UPDATE activities SET title = '=' || title",
        "UPDATE centres SET name = '=' || name",
        "UPDATE campaigns SET title = '=' || title",
    ] {
        app.exec(sql, vec![]).await;
    }
    // The demo worker signs up for every activity that takes sign-ups, so each
    // attendance sheet that can have people has one.
    let worker = app.login(qunjia::demo::WORKER_PHONE).await;
    let mut signed = 0;
    for id in ids(&app, "/activities/").await {
        let path = format!("/api/v1/activities/{id}/signup");
        let res = app
            .post_auth(&path, &worker.access, &serde_json::json!({}))
            .await;
        signed += usize::from(res.status() == 201);
    }
    assert!(signed > 0, "the demo worker signed up for nothing");
    let province = app.region_id("340000").await;
    let admin = app.login(qunjia::demo::ADMIN_PHONE).await;
    let officer = app.login(OFFICER_PHONE).await;
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    let exports: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|p| p.ends_with(".csv") || p.ends_with(".xlsx"))
        .cloned()
        .collect();
    // Downloads whose cells are all fixed text (the import template) hold no user text.
    let without_user_text = [
        "/api/v1/units/import-template.csv",
        "/api/v1/units/import-template.xlsx",
    ];
    assert!(exports.len() >= 7, "{exports:?}");

    for path in &exports {
        let mut guarded = 0;
        let mut downloaded = 0;
        for id in ids(&app, path).await {
            let url = format!(
                "{}?region_id={province}",
                path.replace("{id}", &id.to_string())
            );
            // The province admin where the route is theirs, else the org's officer.
            for who in [&admin, &officer] {
                // Act
                let res = app.get_auth(&url, &who.access).await;
                if res.status() != 200 {
                    continue;
                }
                let bytes = res.bytes().await.expect("body");

                // Assert
                downloaded += 1;
                for cell in cells(path, &bytes) {
                    assert!(!runnable(&cell), "{url}: {cell:?} would run in Excel");
                    if cell.starts_with("'=")
                        || cell.starts_with("'+")
                        || cell.starts_with("'@")
                        || cell.starts_with("'-")
                    {
                        guarded += 1;
                    }
                }
                break;
            }
        }
        assert!(downloaded > 0, "{path}: nobody could download it");
        if !without_user_text.contains(&path.as_str()) {
            assert!(guarded > 0, "{path}: no user text reached the file");
        }
    }
}
