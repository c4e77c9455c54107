//! `cargo bench --bench import`: "importing 10,000 rows takes under 5 s".
//! Starts the release binary, grants an admin with `qunjia grant` before the
//! start, logs in through the code the log provider writes, and times the
//! upload of 10,000 valid rows as CSV and as XLSX (request sent → 201 received).
//!
//! Environment:
//! - `BENCH_RUNS` — uploads per format (default 3; each run uses new codes).
//! - `BENCH_DATABASE_URL` — also run against this database (e.g. PostgreSQL).
use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

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

/// A `qunjia serve` child with piped logs; killed when dropped.
struct Server {
    child: Child,
    base: String,
    codes: Arc<Mutex<HashMap<String, String>>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Reads log lines until the pipe closes, remembering `sms to=<phone> code=<code>`.
fn drain<R: AsyncRead + Unpin + Send + 'static>(
    pipe: R,
    codes: Arc<Mutex<HashMap<String, String>>>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if std::env::var_os("BENCH_SHOW_IMPORT_LOG").is_some()
                && line.contains("units imported")
            {
                println!("    server: {line}");
            }
            if let Some((phone, code)) = parse_sms(&line) {
                codes.lock().expect("lock").insert(phone, code);
            }
        }
    });
}

fn parse_sms(line: &str) -> Option<(String, String)> {
    let rest = &line[line.find("sms to=")? + "sms to=".len()..];
    let phone: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = &rest[rest.find("code=")? + "code=".len()..];
    let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (phone.len() == 11 && code.len() == 6).then_some((phone, code))
}

/// The binary with the bench's environment: data dir, log SMS, optional database.
fn qunjia(data: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qunjia"));
    cmd.env("QUNJIA_DATA_DIR", data)
        .env("QUNJIA_SMS_PROVIDER", "log")
        .env("QUNJIA_OTP_IP_LIMIT_PER_HOUR", "1000")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("QUNJIA_ENV")
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

/// `qunjia grant --phone … --role admin --scope region:<id>` on the data dir.
async fn grant(data: &std::path::Path, database_url: Option<&str>, phone: &str, scope: &str) {
    let out = qunjia(data, database_url)
        .args([
            "grant", "--phone", phone, "--role", "admin", "--scope", scope,
        ])
        .output()
        .await
        .expect("run qunjia grant");
    assert!(
        out.status.success(),
        "qunjia grant failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Server {
    fn spawn(data: &std::path::Path, database_url: Option<&str>) -> Server {
        let port = free_port();
        let mut child = qunjia(data, database_url)
            .arg("serve")
            .env("QUNJIA_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the qunjia binary");
        let codes: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        drain(child.stdout.take().expect("stdout"), codes.clone());
        drain(child.stderr.take().expect("stderr"), codes.clone());
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            codes,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn wait_healthy(&mut self, http: &reqwest::Client) {
        let since = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("qunjia exited during start-up: {status}");
            }
            if let Ok(r) = http.get(self.url("/health")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "no 200 from /health within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asks for a code, reads it from the log and logs in → access token.
    async fn log_in(&self, http: &reqwest::Client, phone: &str) -> String {
        let r = http
            .post(self.url("/api/v1/auth/otp"))
            .json(&json!({ "phone": phone }))
            .send()
            .await
            .expect("otp request");
        assert_eq!(r.status(), 202, "otp");
        let since = Instant::now();
        let code = loop {
            if let Some(c) = self.codes.lock().expect("lock").get(phone).cloned() {
                break c;
            }
            assert!(
                since.elapsed() < Duration::from_secs(10),
                "no `sms to={phone} code=…` line in the server log"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let r = http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "phone": phone, "code": code }))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), 200, "login");
        let body: Value = r.json().await.expect("login json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

// ---------------------------------------------------------------- files

/// GB 32100 check character (the bench builds valid codes itself).
fn check_char(first17: &str) -> char {
    const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(c, w)| CHARSET.iter().position(|x| *x == c).expect("charset") as u32 * w)
        .sum();
    CHARSET[((31 - sum % 31) % 31) as usize] as char
}

/// 10,000 valid rows in Hefei with codes no earlier run used.
fn rows(batch: u32) -> Vec<[String; 8]> {
    (0..ROWS)
        .map(|i| {
            let body = format!("9134{batch:06}{i:07}");
            [
                "340100".to_owned(),
                format!("基准导入单位{batch}-{i}"),
                format!("{body}{}", check_char(&body)),
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
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
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let data = tempfile::tempdir().expect("temp dir");
    let phone = format!("139{:08}", rand::random_range(0..100_000_000u32));
    // The province is the first region the migrations seed.
    grant(data.path(), database_url, &phone, "region:1").await;
    let mut server = Server::spawn(data.path(), database_url);
    server.wait_healthy(&http).await;
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
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let pg = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    println!("qunjia import bench — {}", env!("CARGO_BIN_EXE_qunjia"));
    println!(
        "cpus: {}, loadavg: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    );
    bench("SQLite (new file)", None, runs).await;
    if let Some(url) = pg.as_deref() {
        bench("PostgreSQL (BENCH_DATABASE_URL)", Some(url), runs).await;
    }
}
