//! `cargo bench --bench http`: start-up time, memory, HTTP throughput and the
//! PWA's first-load bytes of the release binary, measured from outside over
//! 127.0.0.1 like a client would.
//!
//! Environment:
//! - `BENCH_SECS` — seconds per load phase (default 10).
//! - `BENCH_DATABASE_URL` — run the load against this database (e.g. PostgreSQL)
//!   instead of a new SQLite file. Start-up is always timed on a new SQLite file.
//!
//! The load generator runs on the same machine as the server, so on a small
//! machine the numbers are a floor, not the server's ceiling.
use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

const STARTS: usize = 5;
const CONNECTIONS: usize = 64;

/// A `qunjia` child process with piped logs; killed when dropped.
struct Server {
    child: Child,
    pid: u32,
    base: String,
    /// Login codes read from the log: phone → last code.
    codes: Arc<Mutex<HashMap<String, String>>>,
    _data: tempfile::TempDir,
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

impl Server {
    fn spawn(database_url: Option<&str>) -> Server {
        let data = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qunjia"));
        cmd.arg("serve")
            .env("QUNJIA_DATA_DIR", data.path())
            .env("QUNJIA_BIND", format!("127.0.0.1:{port}"))
            .env("QUNJIA_SMS_PROVIDER", "log")
            .env("QUNJIA_OTP_IP_LIMIT_PER_HOUR", "1000")
            .env("RUST_LOG", "info")
            .env_remove("DATABASE_URL")
            .env_remove("QUNJIA_ENV")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("start the qunjia binary");
        let pid = child.id().expect("pid");
        let codes: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        drain(child.stdout.take().expect("stdout"), codes.clone());
        drain(child.stderr.take().expect("stderr"), codes.clone());
        Server {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            codes,
            _data: data,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Polls `/health` every 2 ms until it answers 200; returns the time since `since`.
    async fn wait_healthy(&mut self, http: &reqwest::Client, since: Instant) -> Duration {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("qunjia exited during start-up: {status}");
            }
            if let Ok(r) = http.get(self.url("/health")).send().await
                && r.status() == 200
            {
                return since.elapsed();
            }
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "no 200 from /health within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Resident memory in KiB (VmRSS).
    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

// ---------------------------------------------------------------- statistics

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_us.len() as f64 * p).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[i]) / 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Load {
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_kib: u64,
}

/// `CONNECTIONS` tasks hammer one URL for `secs` over a shared keep-alive pool.
async fn load(server: &Server, path: &str, token: Option<&str>, secs: u64) -> Load {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url = server.url(path);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);

    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (sampling, pid) = (sampling.clone(), server.pid);
        tokio::spawn(async move {
            let probe = |pid: u32| {
                std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find(|l| l.starts_with("VmRSS:"))
                            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    })
                    .unwrap_or(0)
            };
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(probe(pid));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak.max(probe(pid))
        })
    };

    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, url, token) = (http.clone(), url.clone(), token.map(str::to_owned));
            tokio::spawn(async move {
                let mut latencies_us: Vec<u32> = Vec::with_capacity(4096);
                let mut errors = 0usize;
                while Instant::now() < deadline {
                    let mut req = http.get(&url);
                    if let Some(t) = &token {
                        req = req.bearer_auth(t);
                    }
                    let t0 = Instant::now();
                    let ok = match req.send().await {
                        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    latencies_us.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies_us, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, err) = t.await.expect("load task");
        all.extend(lat);
        errors += err;
    }
    let elapsed = started.elapsed().as_secs_f64();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak_rss_kib = sampler.await.expect("sampler");
    all.sort_unstable();
    Load {
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
        peak_rss_kib,
    }
}

// ---------------------------------------------------------------- steps

/// Asks for a code, reads it from the server's log and logs in → access token.
async fn log_in(server: &Server, http: &reqwest::Client) -> String {
    // A fresh number each run: a reused database (BENCH_DATABASE_URL) keeps the
    // one-code-per-minute limit of earlier runs.
    let phone = format!("139{:08}", rand::random_range(0..100_000_000u32));
    let r = http
        .post(server.url("/api/v1/auth/otp"))
        .json(&json!({ "phone": phone }))
        .send()
        .await
        .expect("otp request");
    assert_eq!(
        r.status(),
        202,
        "otp: {}",
        r.text().await.unwrap_or_default()
    );
    let since = Instant::now();
    let code = loop {
        if let Some(c) = server.codes.lock().expect("lock").get(&phone).cloned() {
            break c;
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "no `sms to={phone} code=…` line in the server log"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let r = http
        .post(server.url("/api/v1/auth/login"))
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

/// The precache list of the service worker: the quoted paths in `const SHELL = [ … ];`.
fn precache_list(sw: &str) -> Vec<String> {
    let start = sw.find("const SHELL").expect("SHELL in sw.js");
    let body = &sw[start..];
    let body = &body[body.find('[').expect("[") + 1..body.find("];").expect("];")];
    body.split(',')
        .map(|s| s.trim().trim_matches(|c| c == '\'' || c == '"'))
        .filter(|s| s.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

struct Transfer {
    path: String,
    raw: usize,
    wire: usize,
    encoding: String,
}

/// Bytes of "/" , sw.js and every precached file: as sent with `Accept-Encoding: gzip`
/// (reqwest here has no gzip feature, so the body is what went over the wire) and uncompressed.
async fn shell_bytes(server: &Server, http: &reqwest::Client) -> Vec<Transfer> {
    let sw = http
        .get(server.url("/sw.js"))
        .send()
        .await
        .expect("sw.js")
        .text()
        .await
        .expect("sw.js text");
    let mut paths = vec!["/".to_owned(), "/sw.js".to_owned()];
    for p in precache_list(&sw) {
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    let mut out = Vec::new();
    for path in paths {
        let gz = http
            .get(server.url(&path))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .expect("shell file");
        assert_eq!(gz.status(), 200, "{path}");
        let encoding = gz
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_owned();
        let wire = gz.bytes().await.expect("body").len();
        let raw = http
            .get(server.url(&path))
            .header("Accept-Encoding", "identity")
            .send()
            .await
            .expect("shell file")
            .bytes()
            .await
            .expect("body")
            .len();
        out.push(Transfer {
            path,
            raw,
            wire,
            encoding,
        });
    }
    out
}

/// The 1/5/15-minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn describe_db(url: Option<&str>) -> String {
    match url {
        None => "SQLite (new file in a temp dir)".into(),
        Some(u) => {
            // Hide a password: scheme://user:secret@host → scheme://user:***@host
            let shown = match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if u[s + 3..at].contains(':') => {
                    let colon = s + 3 + u[s + 3..at].find(':').unwrap_or(0);
                    format!("{}:***{}", &u[..colon], &u[at..])
                }
                _ => u.to_owned(),
            };
            format!("{shown} (BENCH_DATABASE_URL)")
        }
    }
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(10);
    let db_url = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    println!("qunjia http bench — {}", env!("CARGO_BIN_EXE_qunjia"));
    println!(
        "cpus: {}, load phase: {secs} s × {CONNECTIONS} connections, client on the same machine",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("loadavg before: {}", loadavg());

    // (a) + (b): start-up on a new SQLite file, idle memory.
    let mut starts = Vec::new();
    let mut idle_rss = Vec::new();
    for _ in 0..STARTS {
        let t0 = Instant::now();
        let mut server = Server::spawn(None);
        starts.push(server.wait_healthy(&http, t0).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
        idle_rss.push(server.rss_kib());
        server.stop().await;
    }
    let min_start = *starts.iter().min().expect("runs");
    let med_start = median(&mut starts);
    idle_rss.sort_unstable();

    // (c) + (d): the load server (SQLite or BENCH_DATABASE_URL).
    let db = describe_db(db_url.as_deref());
    let mut server = Server::spawn(db_url.as_deref());
    server.wait_healthy(&http, Instant::now()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let load_idle = server.rss_kib();
    let token = log_in(&server, &http).await;
    let health = load(&server, "/health", None, secs).await;
    let me = load(&server, "/api/v1/me", Some(&token), secs).await;
    let after = server.rss_kib();

    // (e): the shell.
    let files = shell_bytes(&server, &http).await;
    server.stop().await;
    // Other work on the machine skews everything above: show it.
    println!("loadavg after:  {}", loadavg());

    println!();
    println!(
        "start-up (spawn → first 200 on /health, new SQLite file, migrations included), {STARTS} runs"
    );
    println!(
        "  min {:>7.1} ms   median {:>7.1} ms",
        min_start.as_secs_f64() * 1e3,
        med_start.as_secs_f64() * 1e3
    );
    println!(
        "idle RSS 0.5 s after start: min {:.1} MiB, median {:.1} MiB",
        mib(idle_rss[0]),
        mib(idle_rss[idle_rss.len() / 2])
    );
    println!();
    println!("load database: {db}");
    println!(
        "load server idle RSS {:.1} MiB, after load {:.1} MiB",
        mib(load_idle),
        mib(after)
    );
    println!(
        "{:<14} {:>9} {:>10} {:>9} {:>9} {:>7} {:>14}",
        "endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors", "peak RSS MiB"
    );
    for (name, l) in [("GET /health", &health), ("GET /api/v1/me", &me)] {
        println!(
            "{:<14} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>7} {:>14.1}",
            name,
            l.requests,
            l.rps,
            l.p50_ms,
            l.p99_ms,
            l.errors,
            mib(l.peak_rss_kib)
        );
    }
    println!(
        "me/health: throughput {:.2}×, p50 latency {:.2}×",
        me.rps / health.rps,
        me.p50_ms / health.p50_ms
    );
    println!();
    println!("PWA shell, first load (Accept-Encoding: gzip)");
    println!("{:<26} {:>9} {:>9}  encoding", "file", "bytes", "raw");
    for f in &files {
        println!("{:<26} {:>9} {:>9}  {}", f.path, f.wire, f.raw, f.encoding);
    }
    let (icons, rest): (Vec<&Transfer>, Vec<&Transfer>) =
        files.iter().partition(|f| f.path.starts_with("/icons/"));
    let sum = |v: &[&Transfer]| -> (usize, usize) {
        v.iter().fold((0, 0), |(w, r), f| (w + f.wire, r + f.raw))
    };
    let (sw, sr) = sum(&rest);
    let (iw, ir) = sum(&icons);
    println!(
        "{:<26} {:>9} {:>9}  ({} files)",
        "total without icons",
        sw,
        sr,
        rest.len()
    );
    println!(
        "{:<26} {:>9} {:>9}  ({} files)",
        "icons",
        iw,
        ir,
        icons.len()
    );
    println!(
        "(each file counted once; the service worker's install fetches the precache list again with cache: 'reload')"
    );
}
