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
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Server, client, cpus, env_database_url, env_num, loadavg, mib, ms, random_phone};

const STARTS: usize = 5;
const CONNECTIONS: usize = 64;

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

    let sampler = server.peak_rss(Duration::from_millis(50));

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
    let peak_rss_kib = sampler.stop().await;
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
    let secs = env_num("BENCH_SECS", 10) as u64;
    let db_url = env_database_url();
    let http = client(Duration::from_secs(5));

    println!("qunjia http bench — {}", env!("CARGO_BIN_EXE_qunjia"));
    println!(
        "cpus: {}, load phase: {secs} s × {CONNECTIONS} connections, client on the same machine",
        cpus()
    );
    println!("loadavg before: {}", loadavg());

    // (a) + (b): start-up on a new SQLite file, idle memory.
    let mut starts = Vec::new();
    let mut idle_rss = Vec::new();
    for _ in 0..STARTS {
        let t0 = Instant::now();
        // Inside the timed span, as creating the data dir is part of a start.
        let data = tempfile::tempdir().expect("temp dir");
        let mut server = Server::spawn(data.path(), None, None);
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
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = Server::spawn(data.path(), db_url.as_deref(), None);
    server.wait_healthy(&http, Instant::now()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let load_idle = server.rss_kib();
    let token = server.log_in(&http, &random_phone()).await;
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
        ms(min_start),
        ms(med_start)
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
