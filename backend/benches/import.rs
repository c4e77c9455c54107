//! `cargo bench --bench import`: "importing 10,000 rows takes under 5 s".
//! Starts the release binary, grants an admin with `qunjia grant` before the
//! start, logs in through the code the log provider writes, and times the
//! upload of 10,000 valid rows as CSV and as XLSX (request sent → 201 received).
//!
//! Environment:
//! - `BENCH_RUNS` — uploads per format (default 3; each run uses new codes).
//! - `BENCH_DATABASE_URL` — also run against this database (e.g. PostgreSQL).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Server, client, cpus, env_database_url, env_num, grant, loadavg, ms, random_phone};
use qunjia::units::uscc::check_char;
use serde_json::Value;

const ROWS: u32 = 10_000;
const TARGET: Duration = Duration::from_secs(5);
const BOUNDARY: &str = "qunjia-bench-boundary-3b9d";
const HEADER: [&str; 8] = [
    "区划代码(region_code)",
    "单位名称(name)",
    "统一社会信用代码(uscc)",
    "单位类型(kind)",
    "职工人数(employee_count)",
    "规模以上(above_scale)",
    "有党组织(has_party_org)",
    "行业(industry)",
];

// ---------------------------------------------------------------- files

/// 10,000 valid rows in Hefei with codes no earlier run used.
fn rows(batch: u32) -> Vec<[String; 8]> {
    (0..ROWS)
        .map(|i| {
            let body = format!("9134{batch:06}{i:07}");
            [
                "340100".to_owned(),
                format!("基准导入单位{batch}-{i}"),
                format!(
                    "{body}{}",
                    check_char(&body).expect("17 characters of the GB 32100 alphabet")
                ),
                ["企业", "社会组织", "行业协会", "网络平台"][i as usize % 4].to_owned(),
                (i % 800).to_string(),
                ["是", "否"][i as usize % 2].to_owned(),
                ["否", "是", "否"][i as usize % 3].to_owned(),
                "制造业".to_owned(),
            ]
        })
        .collect()
}

fn csv(rows: &[[String; 8]]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend_from_slice(HEADER.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    for r in rows {
        out.extend_from_slice(r.join(",").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn xlsx(rows: &[[String; 8]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book
        .add_worksheet_with_constant_memory()
        .expect("worksheet");
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            if c == 4 {
                let n: f64 = v.parse().expect("number");
                sheet.write_number(r, c as u16, n).expect("cell");
            } else {
                sheet.write_string(r, c as u16, v).expect("cell");
            }
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn multipart(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"units\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// Uploads one file; returns the time from sending to the 201.
async fn upload(
    server: &Server,
    http: &reqwest::Client,
    token: &str,
    region: i64,
    file: &[u8],
) -> Duration {
    let body = multipart(file);
    let t0 = Instant::now();
    let r = http
        .post(server.url(&format!("/api/v1/units/import?region_id={region}")))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("import request");
    let status = r.status();
    let answer: Value = r.json().await.unwrap_or(Value::Null);
    let took = t0.elapsed();
    assert_eq!(status, 201, "import: {answer}");
    assert_eq!(answer["imported"], ROWS, "import: {answer}");
    took
}

/// Min and median of the runs, and whether the worst stays under the target.
fn summary(name: &str, bytes: usize, mut runs: Vec<Duration>) {
    runs.sort();
    let worst = *runs.last().expect("runs");
    println!(
        "  {name:<5} {:>7.1} KiB   min {:>8.1} ms   median {:>8.1} ms   max {:>8.1} ms   {:>6.0} rows/s   {}",
        bytes as f64 / 1024.0,
        ms(runs[0]),
        ms(runs[runs.len() / 2]),
        ms(worst),
        f64::from(ROWS) / runs[runs.len() / 2].as_secs_f64(),
        if worst < TARGET {
            "< 5 s ok"
        } else {
            "OVER 5 s"
        }
    );
}

async fn bench(label: &str, database_url: Option<&str>, runs: usize) {
    let http = client(Duration::from_secs(120));
    let data = tempfile::tempdir().expect("temp dir");
    let phone = random_phone();
    // The province is the first region the migrations seed.
    grant(data.path(), database_url, &phone, "region:1").await;
    let echo = std::env::var_os("BENCH_SHOW_IMPORT_LOG")
        .is_some()
        .then_some("units imported");
    let mut server = Server::spawn(data.path(), database_url, echo);
    server.wait_healthy(&http, Instant::now()).await;
    let token = server.log_in(&http, &phone).await;
    let regions: Value = http
        .get(server.url("/api/v1/regions"))
        .send()
        .await
        .expect("regions")
        .json()
        .await
        .expect("regions json");
    assert_eq!(regions["items"][0]["code"], "340000", "region 1 is Anhui");
    let province = regions["items"][0]["id"].as_i64().expect("id");

    // Codes differ per run and per database run, so a reused database takes them all.
    let base = rand::random_range(0..900_000u32);
    let mut csv_runs = Vec::new();
    let mut xlsx_runs = Vec::new();
    let (mut csv_bytes, mut xlsx_bytes) = (0, 0);
    for run in 0..runs as u32 {
        let file = csv(&rows(base + run * 2));
        csv_bytes = file.len();
        csv_runs.push(upload(&server, &http, &token, province, &file).await);
        let file = xlsx(&rows(base + run * 2 + 1));
        xlsx_bytes = file.len();
        xlsx_runs.push(upload(&server, &http, &token, province, &file).await);
    }
    server.stop().await;
    println!("{label}: {ROWS} rows per upload, {runs} uploads per format");
    summary("CSV", csv_bytes, csv_runs);
    summary("XLSX", xlsx_bytes, xlsx_runs);
}

#[tokio::main]
async fn main() {
    let runs = env_num("BENCH_RUNS", 3);
    let pg = env_database_url();
    println!("qunjia import bench — {}", env!("CARGO_BIN_EXE_qunjia"));
    println!("cpus: {}, loadavg: {}", cpus(), loadavg());
    bench("SQLite (new file)", None, runs).await;
    if let Some(url) = pg.as_deref() {
        bench("PostgreSQL (BENCH_DATABASE_URL)", Some(url), runs).await;
    }
}
