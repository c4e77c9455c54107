//! `cargo bench --bench http`: start-up time, memory, HTTP throughput and the
//! PWA's first-load bytes of the release binary, measured from outside over
//! 127.0.0.1 like a client would.
//!
//! Throughput is measured on the demo data (`qunjia demo`) as its worker, and every
//! route is printed beside a static PWA file served in the same run, so a ratio
//! holds even when other work on the machine moves the absolute numbers. The
//! server logs at the default level (`RUST_LOG=info`); one more phase repeats
//! `GET /api/v1/me` on a server at `RUST_LOG=warn` to show what the per-request
//! log line costs.
//!
//! Environment:
//! - `BENCH_SECS` — seconds per load phase (default 10).
//! - `BENCH_DATABASE_URL` — a PostgreSQL *server* URL: the load runs on a fresh
//!   database there (dropped afterwards) instead of a new SQLite file. Start-up is
//!   always timed on a new SQLite file.
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

use common::{BenchDb, Server, client, cpus, demo, env_num, loadavg, mib, ms};

/// The demo worker (`qunjia demo`).
const WORKER_PHONE: &str = "13900000001";
/// The static file every route is compared with.
const STATIC_FILE: &str = "/app.js";

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
    /// Server CPU time (user + system) per answered request, in µs: unlike req/s it
    /// hardly moves when other work shares the machine.
    cpu_us: f64,
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
    let cpu_before = server.cpu_ms();

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
    let cpu_us = (server.cpu_ms() - cpu_before) * 1000.0 / all.len().max(1) as f64;
    all.sort_unstable();
    Load {
        cpu_us,
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

#[tokio::main]
async fn main() {
    let secs = env_num("BENCH_SECS", 10) as u64;
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

    // (c) + (d): the load server on the demo data (SQLite or BENCH_DATABASE_URL).
    let data = tempfile::tempdir().expect("temp dir");
    let bench_db = BenchDb::create(data.path()).await;
    demo(data.path(), Some(&bench_db.url)).await;
    let mut server = Server::spawn(data.path(), Some(&bench_db.url), None);
    server.wait_healthy(&http, Instant::now()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let load_idle = server.rss_kib();
    let token = server.log_in(&http, WORKER_PHONE).await;
    let routes: [(&str, &str, bool); 5] = [
        ("GET static file", STATIC_FILE, false),
        ("GET /health", "/health", false),
        ("GET /api/v1/me", "/api/v1/me", true),
        ("GET /me/memberships", "/api/v1/me/memberships", true),
        ("GET /activities", "/api/v1/activities", true),
    ];
    let mut loads = Vec::new();
    for (name, path, auth) in routes {
        let l = load(&server, path, auth.then_some(token.as_str()), secs).await;
        loads.push((name, l));
    }
    let after = server.rss_kib();

    // (e): the shell.
    let files = shell_bytes(&server, &http).await;
    server.stop().await;

    // (f): the cost of the per-request log line: the same server at warn, the static
    // file again as its baseline, then /me with the token of the first (same data dir,
    // so the same development JWT secret).
    let mut quiet = Server::spawn_with(
        data.path(),
        Some(&bench_db.url),
        None,
        &[("RUST_LOG", "warn")],
    );
    quiet.wait_healthy(&http, Instant::now()).await;
    let quiet_static = load(&quiet, STATIC_FILE, None, secs).await;
    let quiet_me = load(&quiet, "/api/v1/me", Some(&token), secs).await;
    quiet.stop().await;
    let engine = bench_db.engine();
    bench_db.remove().await;
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
    println!("load database: {engine}, demo data, as the demo worker; RUST_LOG=info");
    println!(
        "load server idle RSS {:.1} MiB, after load {:.1} MiB",
        mib(load_idle),
        mib(after)
    );
    println!(
        "{:<22} {:>9} {:>10} {:>9} {:>9} {:>7} {:>12} {:>10} {:>11}",
        "endpoint",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "peak RSS MiB",
        "÷ static",
        "CPU µs/req"
    );
    let base = loads[0].1.rps;
    let row = |name: &str, l: &Load, base: f64| {
        println!(
            "{:<22} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>7} {:>12.1} {:>9.1}% {:>11.0}",
            name,
            l.requests,
            l.rps,
            l.p50_ms,
            l.p99_ms,
            l.errors,
            mib(l.peak_rss_kib),
            100.0 * l.rps / base,
            l.cpu_us
        );
    };
    for (name, l) in &loads {
        row(name, l, base);
    }
    println!(
        "(static file: {STATIC_FILE}; ÷ static = req/s as a share of the static file's, same run; \
         CPU µs/req = the server process's CPU time per request, the database server's not counted)"
    );
    println!();
    println!("per-request log line: the same database at RUST_LOG=warn (no request lines)");
    row("GET static file warn", &quiet_static, quiet_static.rps);
    row("GET /api/v1/me warn", &quiet_me, quiet_static.rps);
    let me = &loads[2].1;
    println!(
        "/me at info ÷ /me at warn: {:.2}× throughput (each ÷ its own static file: {:.1}% vs {:.1}%); \
         the request line costs {:.0} µs of server CPU on /me, {:.0} µs on the static file",
        me.rps / quiet_me.rps,
        100.0 * me.rps / base,
        100.0 * quiet_me.rps / quiet_static.rps,
        me.cpu_us - quiet_me.cpu_us,
        loads[0].1.cpu_us - quiet_static.cpu_us
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
