//! `cargo bench --bench province`: coverage and ledgers on a province-size data set,
//! measured from outside against the release binary.
//!
//! It writes a province (16 cities, 128 counties, ~1,700 townships, ~400 parks of
//! mixed levels with a building each, 200,000 units, 150,000 organizations with
//! their `org_units`) straight into a new database with multi-row INSERTs in one
//! transaction, grants an admin with `qunjia grant`, starts `qunjia serve` on it and
//! measures `GET /stats/coverage` (province, a city, a township), the first page of
//! `GET /stats/gaps`, and the downloads `GET /ledgers/units.csv` and `.xlsx` while
//! sampling the server's VmRSS every 10 ms.
//!
//! Environment:
//! - `BENCH_DATABASE_URL` — a PostgreSQL *server* URL (`postgres://postgres@127.0.0.1:5432`);
//!   a fresh database is created on it and dropped at the end. Without it: a new SQLite file.
//! - `BENCH_UNITS` (default 200000), `BENCH_ORGS` (default 150000), `BENCH_CALLS` (default 10).
//! - `BENCH_GROWTH=1` — instead, the growth run: a fresh data set of 50,000, 200,000
//!   and 800,000 units (orgs ¾ of the units; `BENCH_GROWTH_SIZES=50000,200000` to
//!   choose), and for each the province's coverage (median of `BENCH_CALLS`) and the
//!   CSV ledger, with the time per unit, so that the cost's growth can be read
//!   (flat per-unit time: linear; rising: worse).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{BenchDb, Server, bulk_insert, client, cpus, env_num, grant, loadavg, mib, ms};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, TransactionTrait};
use serde_json::Value;

const ADMIN_PHONE: &str = "13800000000";

// ---------------------------------------------------------------- data set

struct Region {
    id: i64,
    path: String,
}

struct DataSet {
    province: i64,
    city: i64,
    township: i64,
    units: usize,
    orgs: usize,
    org_units: usize,
    regions: usize,
}

async fn generate(db: &DatabaseConnection, n_units: usize, n_orgs: usize) -> DataSet {
    let mut rng = StdRng::seed_from_u64(20261126);
    let backend = db.get_database_backend();
    let seeded = db
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT id, path, kind FROM regions ORDER BY id",
        ))
        .await
        .expect("seeded regions");
    let mut province = 0;
    let mut cities = Vec::new();
    let mut max_id = 0;
    for r in &seeded {
        let id: i64 = r.try_get("", "id").expect("id");
        let path: String = r.try_get("", "path").expect("path");
        let kind: String = r.try_get("", "kind").expect("kind");
        max_id = max_id.max(id);
        if kind == "province" {
            province = id;
        } else {
            cities.push(Region { id, path });
        }
    }
    let mut next_id = max_id + 1;
    let mut rows = Vec::new();
    // Units may sit in townships, parks and buildings (and a few on counties).
    let mut homes: Vec<i64> = Vec::new();
    let mut first_township = 0;
    let mut add = |rows: &mut Vec<String>,
                   parent: &Region,
                   code: String,
                   name: String,
                   kind: &str,
                   level: Option<&str>|
     -> Region {
        let id = next_id;
        next_id += 1;
        let path = format!("{}{id}/", parent.path);
        let level = level.map_or("NULL".to_owned(), |l| format!("'{l}'"));
        rows.push(format!(
            "({id}, '{code}', '{name}', '{kind}', {level}, {}, '{path}', 0)",
            parent.id
        ));
        Region { id, path }
    };
    for (ci, city) in cities.iter().enumerate() {
        for k in 0..8 {
            let code = format!("34{:02}{:02}", ci + 1, k + 1);
            let county = add(
                &mut rows,
                city,
                code.clone(),
                format!("区县{ci}-{k}"),
                "county",
                None,
            );
            homes.push(county.id);
            for t in 0..13 {
                let town = add(
                    &mut rows,
                    &county,
                    format!("{code}{:03}", t + 1),
                    format!("乡镇{ci}-{k}-{t}"),
                    "township",
                    None,
                );
                if first_township == 0 {
                    first_township = town.id;
                }
                for _ in 0..6 {
                    homes.push(town.id);
                }
            }
            for p in 0..3 {
                let level = ["national", "provincial", "municipal"][(ci + k + p) % 3];
                let park = add(
                    &mut rows,
                    &county,
                    format!("{code}{:03}", 500 + p),
                    format!("园区{ci}-{k}-{p}"),
                    "park",
                    Some(level),
                );
                let building = add(
                    &mut rows,
                    &park,
                    format!("{code}{:03}001", 500 + p),
                    format!("楼宇{ci}-{k}-{p}"),
                    "building",
                    None,
                );
                for _ in 0..8 {
                    homes.push(park.id);
                }
                for _ in 0..2 {
                    homes.push(building.id);
                }
            }
        }
    }
    let txn = db.begin().await.expect("begin");
    let region_count = rows.len();
    bulk_insert(
        &txn,
        "regions",
        "id, code, name, kind, level, parent_id, path, created_at",
        &rows,
    )
    .await;

    let mut all_rows = Vec::with_capacity(n_units);
    for i in 1..=n_units {
        let region = homes[rng.random_range(0..homes.len())];
        let roll: u32 = rng.random_range(0..100);
        let kind = match roll {
            0..=79 => "enterprise",
            80..=89 => "social_org",
            90..=97 => "association",
            _ => "platform",
        };
        // Mostly small, a long tail of large ones.
        let employees: i32 = match rng.random_range(0..10) {
            0..=5 => rng.random_range(1..30),
            6..=8 => rng.random_range(30..200),
            _ => rng.random_range(200..5000),
        };
        let above = kind == "enterprise" && rng.random_range(0..10) == 0;
        let party = rng.random_range(0..100) < 15;
        all_rows.push(format!(
            "({i}, '单位{i}有限公司', '91340000MA{i:08}', '{kind}', {region}, {employees}, {}, {}, 0, 0)",
            if above { "TRUE" } else { "FALSE" },
            if party { "TRUE" } else { "FALSE" },
        ));
    }
    bulk_insert(
        &txn,
        "units",
        "id, name, uscc, kind, region_id, employee_count, above_scale, has_party_org, created_at, updated_at",
        &all_rows,
    )
    .await;
    drop(all_rows);

    let mut org_rows = Vec::with_capacity(n_orgs);
    let mut link_rows = Vec::new();
    for o in 1..=n_orgs {
        let t = ["union", "union", "league", "women"][rng.random_range(0..4)];
        let dissolved = if rng.random_range(0..100) < 3 {
            "1"
        } else {
            "NULL"
        };
        // Most organizations cover one unit; one in ten is a joint one of 2–5 units.
        let n = if rng.random_range(0..10) == 0 {
            rng.random_range(2..=5)
        } else {
            1
        };
        let mut listed: Vec<usize> = (0..n).map(|_| rng.random_range(1..=n_units)).collect();
        listed.sort_unstable();
        listed.dedup();
        org_rows.push(format!(
            "({o}, '组织{o}', '{t}', 'single', {province}, 'B{o:08}', 'open', 0, 0, {dissolved})"
        ));
        for u in listed {
            link_rows.push(format!("({o}, {u})"));
        }
    }
    bulk_insert(
        &txn,
        "orgs",
        "id, name, type, form, region_id, join_code, join_policy, created_at, updated_at, dissolved_at",
        &org_rows,
    )
    .await;
    bulk_insert(&txn, "org_units", "org_id, unit_id", &link_rows).await;
    if backend == DatabaseBackend::Postgres {
        for t in ["regions", "units", "orgs"] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
            ))
            .await
            .expect("setval");
        }
    }
    txn.commit().await.expect("commit");
    // Fresh statistics, as a live database would have.
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    DataSet {
        province,
        city: cities[0].id,
        township: first_township,
        units: n_units,
        orgs: n_orgs,
        org_units: link_rows.len(),
        regions: region_count + seeded.len(),
    }
}

// ---------------------------------------------------------------- measurements

async fn timed_get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    calls: usize,
) -> (f64, f64, Value) {
    let mut times = Vec::new();
    let mut last = Value::Null;
    for _ in 0..calls {
        let t0 = Instant::now();
        let r = http.get(url).bearer_auth(token).send().await.expect("get");
        assert_eq!(r.status(), 200, "{url}");
        last = r.json().await.expect("json");
        times.push(t0.elapsed());
    }
    times.sort();
    (
        ms(times[times.len() / 2]),
        ms(*times.last().expect("calls")),
        last,
    )
}

struct Download {
    bytes: u64,
    lines: u64,
    secs: f64,
    first_byte_ms: f64,
    peak_rss_kib: u64,
    head: Vec<u8>,
}

async fn download(server: &Server, http: &reqwest::Client, path: &str, token: &str) -> Download {
    let sampler = server.peak_rss(Duration::from_millis(10));
    let t0 = Instant::now();
    let mut r = http
        .get(server.url(path))
        .bearer_auth(token)
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .expect("download");
    assert_eq!(r.status(), 200, "{path}");
    let mut bytes = 0u64;
    let mut lines = 0;
    let mut first_byte_ms = 0.0;
    let mut head = Vec::new();
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        if bytes == 0 {
            first_byte_ms = ms(t0.elapsed());
        }
        if head.len() < 512 {
            head.extend_from_slice(&chunk[..chunk.len().min(512)]);
        }
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let secs = t0.elapsed().as_secs_f64();
    let peak_rss_kib = sampler.stop().await;
    Download {
        bytes,
        lines,
        secs,
        first_byte_ms,
        peak_rss_kib,
        head,
    }
}

/// One size of the growth run: coverage of the province and the CSV ledger.
struct Growth {
    units: usize,
    coverage_ms: f64,
    ledger_s: f64,
    ledger_peak_kib: u64,
}

async fn growth_at(n_units: usize, calls: usize) -> Growth {
    let temp = tempfile::tempdir().expect("temp dir");
    let bench_db = BenchDb::create(temp.path()).await;
    let t0 = Instant::now();
    let db = bench_db.migrated().await;
    let set = generate(&db, n_units, n_units * 3 / 4).await;
    db.close().await.ok();
    println!(
        "  {n_units} units: data set generated in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    grant(
        temp.path(),
        Some(&bench_db.url),
        ADMIN_PHONE,
        &format!("region:{}", set.province),
    )
    .await;
    let http = client(Duration::from_secs(600));
    let mut server = Server::spawn(temp.path(), Some(&bench_db.url), None);
    server.wait_healthy(&http, Instant::now()).await;
    let token = server.log_in(&http, ADMIN_PHONE).await;
    let (coverage_ms, _, body) = timed_get(
        &http,
        &server.url(&format!(
            "/api/v1/stats/coverage?region_id={}",
            set.province
        )),
        &token,
        calls,
    )
    .await;
    assert_eq!(body["units"].as_u64(), Some(n_units as u64));
    let csv = download(
        &server,
        &http,
        &format!("/api/v1/ledgers/units.csv?region_id={}", set.province),
        &token,
    )
    .await;
    assert_eq!(
        csv.lines.saturating_sub(1),
        n_units as u64,
        "one line per unit"
    );
    drop(server);
    bench_db.remove().await;
    Growth {
        units: n_units,
        coverage_ms,
        ledger_s: csv.secs,
        ledger_peak_kib: csv.peak_rss_kib,
    }
}

/// `BENCH_GROWTH=1`: coverage and ledger at growing sizes, time per unit.
async fn growth(calls: usize) {
    let sizes: Vec<usize> = std::env::var("BENCH_GROWTH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![50_000, 200_000, 800_000]);
    let engine = common::env_database_url().map_or("SQLite", |_| "PostgreSQL");
    println!(
        "qunjia province growth run — {}",
        env!("CARGO_BIN_EXE_qunjia")
    );
    println!(
        "engine: {engine}, cpus: {}, loadavg before: {}",
        cpus(),
        loadavg()
    );
    let mut runs = Vec::new();
    for n in sizes {
        runs.push(growth_at(n, calls).await);
    }
    println!();
    println!(
        "{:>9}  {:>14}  {:>16}  {:>12}  {:>16}  {:>10}",
        "units", "coverage ms", "coverage µs/unit", "ledger s", "ledger µs/unit", "peak MiB"
    );
    for g in &runs {
        println!(
            "{:>9}  {:>14.1}  {:>16.3}  {:>12.2}  {:>16.2}  {:>10.1}",
            g.units,
            g.coverage_ms,
            g.coverage_ms * 1e3 / g.units as f64,
            g.ledger_s,
            g.ledger_s * 1e6 / g.units as f64,
            mib(g.ledger_peak_kib)
        );
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        let per = |ms: f64, n: usize| ms / n as f64;
        println!(
            "per-unit growth {}→{} units: coverage ×{:.2}, ledger ×{:.2} (1.00 = linear)",
            first.units,
            last.units,
            per(last.coverage_ms, last.units) / per(first.coverage_ms, first.units),
            per(last.ledger_s, last.units) / per(first.ledger_s, first.units)
        );
    }
    println!("loadavg after: {}", loadavg());
}

#[tokio::main]
async fn main() {
    if std::env::var("BENCH_GROWTH").is_ok_and(|v| v == "1") {
        growth(env_num("BENCH_CALLS", 5)).await;
        return;
    }
    let n_units = env_num("BENCH_UNITS", 200_000);
    let n_orgs = env_num("BENCH_ORGS", 150_000);
    let calls = env_num("BENCH_CALLS", 10);
    // BENCH_DATA_DIR keeps the generated SQLite database for a look with sqlite3.
    let temp = tempfile::tempdir().expect("temp dir");
    let data = match std::env::var("BENCH_DATA_DIR") {
        Ok(dir) => {
            std::fs::create_dir_all(&dir).expect("data dir");
            std::path::PathBuf::from(dir)
        }
        Err(_) => temp.path().to_owned(),
    };
    let bench_db = BenchDb::create(&data).await;
    println!("qunjia province bench — {}", env!("CARGO_BIN_EXE_qunjia"));
    println!(
        "engine: {}, cpus: {}, loadavg before: {}",
        bench_db.engine(),
        cpus(),
        loadavg()
    );

    // Arrange: schema, data set, an admin of the province.
    let t0 = Instant::now();
    let db = bench_db.migrated().await;
    let set = generate(&db, n_units, n_orgs).await;
    db.close().await.ok();
    println!(
        "data set: {} regions, {} units, {} orgs, {} org_units — generated in {:.1} s",
        set.regions,
        set.units,
        set.orgs,
        set.org_units,
        t0.elapsed().as_secs_f64()
    );
    grant(
        data.as_path(),
        Some(&bench_db.url),
        ADMIN_PHONE,
        &format!("region:{}", set.province),
    )
    .await;

    let http = client(Duration::from_secs(600));
    let mut server = Server::spawn(data.as_path(), Some(&bench_db.url), None);
    server.wait_healthy(&http, Instant::now()).await;
    let token = server.log_in(&http, ADMIN_PHONE).await;
    println!("server idle RSS: {:.1} MiB", mib(server.rss_kib()));
    println!();

    // Act + report: coverage.
    for (label, id) in [
        ("province", set.province),
        ("city", set.city),
        ("township", set.township),
    ] {
        let (med, max, body) = timed_get(
            &http,
            &server.url(&format!("/api/v1/stats/coverage?region_id={id}")),
            &token,
            calls,
        )
        .await;
        println!(
            "GET /stats/coverage {label:<9} {calls} calls: median {med:>7.1} ms, max {max:>7.1} ms  (units {}, required {}, rate {:.3}, {} children)",
            body["units"],
            body["required"],
            body["rate"].as_f64().unwrap_or(f64::NAN),
            body["children"].as_array().map_or(0, Vec::len)
        );
        if label == "province" {
            assert_eq!(body["units"].as_u64(), Some(n_units as u64));
        }
    }
    let (med, max, body) = timed_get(
        &http,
        &server.url(&format!(
            "/api/v1/stats/gaps?region_id={}&limit=100",
            set.province
        )),
        &token,
        calls,
    )
    .await;
    println!(
        "GET /stats/gaps province limit=100 {calls} calls: median {med:.1} ms, max {max:.1} ms ({} items)",
        body["items"].as_array().map_or(0, Vec::len)
    );
    println!();

    // The downloads, each while sampling the server's RSS.
    let before = server.rss_kib();
    let csv = download(
        &server,
        &http,
        &format!("/api/v1/ledgers/units.csv?region_id={}", set.province),
        &token,
    )
    .await;
    assert!(csv.head.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let rows = csv.lines.saturating_sub(1);
    assert_eq!(rows, n_units as u64, "one line per unit");
    println!(
        "GET /ledgers/units.csv province: {} bytes ({:.1} MiB), {rows} rows, {:.2} s (first byte {:.0} ms, {:.0} rows/s); RSS before {:.1} MiB, peak {:.1} MiB",
        csv.bytes,
        csv.bytes as f64 / 1048576.0,
        csv.secs,
        csv.first_byte_ms,
        rows as f64 / csv.secs,
        mib(before),
        mib(csv.peak_rss_kib)
    );
    let before = server.rss_kib();
    let xlsx = download(
        &server,
        &http,
        &format!("/api/v1/ledgers/units.xlsx?region_id={}", set.province),
        &token,
    )
    .await;
    assert!(xlsx.head.starts_with(b"PK"), "zip");
    println!(
        "GET /ledgers/units.xlsx province: {} bytes ({:.1} MiB), {:.2} s (first byte {:.0} ms); RSS before {:.1} MiB, peak {:.1} MiB",
        xlsx.bytes,
        xlsx.bytes as f64 / 1048576.0,
        xlsx.secs,
        xlsx.first_byte_ms,
        mib(before),
        mib(xlsx.peak_rss_kib)
    );
    println!("loadavg after: {}", loadavg());

    drop(server);
    bench_db.remove().await;
}
