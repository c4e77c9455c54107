//! Case queues at scale: the release binary on a database holding `BENCH_CASES`
//! assistance cases (default 100,000) over `BENCH_ORGS` orgs (default 200), one
//! big org holding a fifth of them, statuses mixed, each case with one history
//! row. An officer of the big org then asks, one request at a time,
//! `BENCH_CALLS` times each (default 300):
//!
//! - `GET /api/v1/cases?org_id=<big>&limit=20` — the first page of the queue;
//! - the same with `&status=submitted`;
//! - a page 10,000 cases deep, reached by following `next_cursor`;
//! - `GET /api/v1/cases/{id}` — one case with its history (audited as a read).
//!
//! and the median and p99 latency of each are printed. The target is < 100 ms.
//!
//! - `BENCH_DATABASE_URL` — a PostgreSQL *server* URL (`postgres://postgres@127.0.0.1:5432`);
//!   a fresh database is created on it and dropped at the end. Without it: a new SQLite file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{
    BenchDb, ROWS_PER_INSERT, Server, bulk_insert, cpus, env_num, grant_role, ids, loadavg, ms,
    province,
};
use qunjia::crypto::DataKey;
use sea_orm::ConnectionTrait;
use serde_json::Value;

/// The data key the server is given (through its data folder), so that the
/// sealed descriptions written here open there.
const DATA_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// Statuses in the mix, with their weight out of 20.
const STATUS_MIX: [(&str, usize); 7] = [
    ("submitted", 4),
    ("accepted", 3),
    ("in_progress", 3),
    ("resolved", 5),
    ("closed", 2),
    ("rejected", 2),
    ("withdrawn", 1),
];
const KINDS: [&str; 3] = ["hardship", "legal_aid", "counseling"];

fn status_of(i: usize) -> &'static str {
    let mut slot = (i * 7) % 20;
    for (s, w) in STATUS_MIX {
        if slot < w {
            return s;
        }
        slot -= w;
    }
    "submitted"
}

/// Median and p99 of latencies, in ms.
fn stats(mut us: Vec<u32>) -> (f64, f64) {
    us.sort_unstable();
    let at = |p: f64| {
        let i = ((us.len() as f64 * p).ceil() as usize).clamp(1, us.len()) - 1;
        f64::from(us[i]) / 1e3
    };
    (at(0.50), at(0.99))
}

/// `calls` GETs of `path(i)`, one at a time; every answer must be 200.
async fn time<F: Fn(usize) -> String>(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    calls: usize,
    path: F,
) -> (Vec<u32>, Value) {
    let mut lat = Vec::with_capacity(calls);
    let mut last = Value::Null;
    for i in 0..calls {
        let t0 = Instant::now();
        let r = http
            .get(server.url(&path(i)))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
        assert_eq!(status, 200, "{}: {body}", path(i));
        last = body;
    }
    (lat, last)
}

fn print(name: &str, lat: Vec<u32>, note: &str) {
    let n = lat.len();
    let (p50, p99) = stats(lat);
    println!("  {name:<48} median {p50:>7.2} ms   p99 {p99:>7.2} ms   ({n} requests{note})");
}

#[tokio::main]
async fn main() {
    let n_cases = env_num("BENCH_CASES", 100_000);
    let n_orgs = env_num("BENCH_ORGS", 200).max(2);
    let calls = env_num("BENCH_CALLS", 300);
    let n_people = (n_cases / 5).max(1);
    let temp = tempfile::tempdir().expect("temp dir");
    let bench_db = BenchDb::create(temp.path()).await;
    let engine = bench_db.engine();
    println!("qunjia case queue bench — {}", env!("CARGO_BIN_EXE_qunjia"));
    println!(
        "engine: {engine}, cpus: {}, {n_cases} cases over {n_orgs} orgs, {n_people} applicants, {calls} calls per endpoint, loadavg before: {}",
        cpus(),
        loadavg()
    );

    // Arrange: orgs, services, applicants, cases and their first history row.
    let t0 = Instant::now();
    let db = bench_db.migrated().await;
    let region_id = province(&db).await;
    let rows: Vec<String> = (0..n_orgs)
        .map(|i| {
            format!(
                "('压测组织{i:04}', 'union', 'single', {region_id}, '{}', 'open', 0, 0)",
                uuid::Uuid::new_v4().simple()
            )
        })
        .collect();
    bulk_insert(
        &db,
        "orgs",
        "name, type, form, region_id, join_code, join_policy, created_at, updated_at",
        &rows,
    )
    .await;
    let org_ids = ids(
        &db,
        "SELECT id FROM orgs WHERE name LIKE '压测组织%' ORDER BY id",
    )
    .await;
    let big = org_ids[0];
    let rows: Vec<String> = org_ids
        .iter()
        .flat_map(|o| {
            KINDS
                .iter()
                .map(move |k| format!("({o}, '{k}', '压测服务{k}', NULL, false, true, NULL, 0, 0)"))
        })
        .collect();
    bulk_insert(
        &db,
        "services",
        "org_id, kind, title, description, members_only, active, created_by, created_at, updated_at",
        &rows,
    )
    .await;
    // Services in org order, KINDS order within an org.
    let service_ids = ids(&db, "SELECT id FROM services ORDER BY org_id, id").await;
    let first_phone = 16_000_000_000i64;
    let rows: Vec<String> = (0..n_people as i64)
        .map(|i| format!("('{}', '申请人{i}', 0, 0)", first_phone + i))
        .collect();
    bulk_insert(&db, "users", "phone, name, created_at, updated_at", &rows).await;
    let people = ids(
        &db,
        &format!("SELECT id FROM users WHERE phone >= '{first_phone}' ORDER BY id"),
    )
    .await;
    let key = DataKey::from_hex(DATA_KEY).expect("key");
    // One sealed text for all: it opens like any other.
    let sealed = key.seal("压测用的申请说明：因家庭突发变故，生活暂时困难，申请帮扶。");
    let base_ms = chrono::Utc::now().timestamp_millis() - 400 * 86_400_000;
    let mut rows = Vec::with_capacity(ROWS_PER_INSERT);
    let mut events = Vec::with_capacity(ROWS_PER_INSERT);
    let head = "INSERT INTO cases (service_id, org_id, kind, applicant_id, status, description_enc, amount_requested_fen, hardship_class, created_at, updated_at)";
    for i in 0..n_cases {
        // Every fifth case is the big org's; the others go round the rest.
        let o = if i % 5 == 0 {
            0
        } else {
            1 + (i % (n_orgs - 1))
        };
        let k = (i / 5) % KINDS.len();
        let kind = KINDS[k];
        let status = status_of(i / 5 + i);
        let (amount, class) = if kind == "hardship" {
            (
                "200000",
                if status == "submitted" {
                    "NULL"
                } else {
                    "'relative'"
                },
            )
        } else {
            ("NULL", "NULL")
        };
        let at = base_ms + i as i64 * 300_000;
        rows.push(format!(
            "({}, {}, '{kind}', {}, '{status}', '{sealed}', {amount}, {class}, {at}, {at})",
            service_ids[o * KINDS.len() + k],
            org_ids[o],
            people[i % people.len()],
        ));
        if rows.len() == ROWS_PER_INSERT || i + 1 == n_cases {
            db.execute_unprepared(&format!("{head} VALUES {}", rows.join(",")))
                .await
                .expect("insert cases");
            rows.clear();
        }
    }
    let case_ids = ids(&db, "SELECT id FROM cases ORDER BY id").await;
    for (i, id) in case_ids.iter().enumerate() {
        let at = base_ms + i as i64 * 300_000;
        events.push(format!(
            "({id}, NULL, 'submitted', {}, NULL, {at})",
            people[i % people.len()]
        ));
        if events.len() == ROWS_PER_INSERT || i + 1 == case_ids.len() {
            db.execute_unprepared(&format!(
                "INSERT INTO case_events (case_id, from_status, to_status, actor_id, note_enc, at) VALUES {}",
                events.join(",")
            ))
            .await
            .expect("insert events");
            events.clear();
        }
    }
    // Fresh statistics, as a database that has lived a while would have.
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    let big_cases = ids(
        &db,
        &format!("SELECT id FROM cases WHERE org_id = {big} ORDER BY id"),
    )
    .await;
    println!(
        "arrange: {} cases ({} in the big org), {} orgs, {} services, {} applicants in {:.1} s",
        case_ids.len(),
        big_cases.len(),
        org_ids.len(),
        service_ids.len(),
        people.len(),
        t0.elapsed().as_secs_f64()
    );

    // The server on that database, with the data key written here.
    let data = tempfile::tempdir().expect("data dir");
    std::fs::write(data.path().join("data_key"), DATA_KEY).expect("write data key");
    let mut server = Server::spawn(data.path(), Some(&bench_db.url), None);
    let http = common::client(Duration::from_secs(30));
    server.wait_healthy(&http, Instant::now()).await;
    let phone = common::random_phone();
    let token = server.log_in(&http, &phone).await;
    grant_role(&db, &phone, "org_admin", &format!("org:{big}")).await;

    // Warm up, and check the answers are what is timed.
    let (_, first) = time(&http, &server, &token, 5, |_| {
        format!("/api/v1/cases?org_id={big}&limit=20")
    })
    .await;
    let items = first["items"].as_array().expect("items");
    assert_eq!(items.len(), 20, "{first}");
    assert_eq!(
        items[0]["id"].as_i64(),
        big_cases.last().copied(),
        "newest first"
    );
    // A cursor 10,000 cases deep (or half the queue), reached page by page.
    let depth = (big_cases.len() / 2).min(10_000);
    let mut cursor = String::new();
    let mut walked = 0;
    let walk = Instant::now();
    while walked < depth {
        let (_, page) = time(&http, &server, &token, 1, |_| {
            format!("/api/v1/cases?org_id={big}&limit=100&cursor={cursor}")
        })
        .await;
        walked += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    println!(
        "  walked {walked} cases of the big org in pages of 100 in {:.0} ms",
        ms(walk.elapsed())
    );

    // Act.
    println!();
    let (lat, _) = time(&http, &server, &token, calls, |_| {
        format!("/api/v1/cases?org_id={big}&limit=20")
    })
    .await;
    print("GET /cases?org_id=<big>&limit=20", lat, "");
    let (lat, page) = time(&http, &server, &token, calls, |_| {
        format!("/api/v1/cases?org_id={big}&status=submitted&limit=20")
    })
    .await;
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|c| c["status"] == "submitted")
    );
    print("GET /cases?org_id=<big>&status=submitted", lat, "");
    let (lat, page) = time(&http, &server, &token, calls, |_| {
        format!("/api/v1/cases?org_id={big}&limit=20&cursor={cursor}")
    })
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(20));
    print(
        "GET /cases?org_id=<big>&limit=20&cursor=<deep>",
        lat,
        &format!(", {walked} cases deep"),
    );
    let (lat, case) = time(&http, &server, &token, calls, |i| {
        // Spread over the queue, old and new.
        let id = big_cases[(i * 7919) % big_cases.len()];
        format!("/api/v1/cases/{id}")
    })
    .await;
    assert!(case["description"].as_str().is_some(), "{case}");
    print("GET /cases/{id} (officer, audited)", lat, "");
    server.stop().await;

    // Key rotation, as `qunjia rekey` does it: every description re-sealed.
    let rotating = DataKey::with_previous(&"5a".repeat(32), [DATA_KEY]).expect("keys");
    let t = Instant::now();
    let report = qunjia::crypto::rekey::rekey(&db, &rotating, |_, _| {})
        .await
        .expect("rekey");
    let resealed: u64 = report.iter().map(|(_, r)| r.resealed).sum();
    assert_eq!(resealed, case_ids.len() as u64, "{report:?}");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  rekey: {resealed} values re-sealed in {secs:.1} s ({:.0} values/s)",
        resealed as f64 / secs
    );
    println!("loadavg after: {}", loadavg());

    db.close().await.ok();
    bench_db.remove().await;
}
