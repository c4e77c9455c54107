//! The harness the benches share: the database a bench fills, the release binary
//! started from outside on a free port with the log SMS provider, logged in through
//! the code it writes, and measured through `/proc`.
//!
//! Each bench includes this file as its own module, so an item one of them does
//! not use carries `#[allow(dead_code)]`.
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// Login codes read from the log: phone → last code.
type Codes = Arc<Mutex<HashMap<String, String>>>;

/// A positive number from the environment variable `name`, else `default`.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

/// The server binary a bench starts: `BENCH_SERVER` (another build, for a
/// before/after in one harness) or this build's.
pub fn server_bin() -> String {
    std::env::var("BENCH_SERVER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_qunjia").to_owned())
}

/// `BENCH_DATABASE_URL` unless unset or blank.
pub fn env_database_url() -> Option<String> {
    std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// The database a bench fills before it starts the server on it: with
/// `BENCH_DATABASE_URL` (a PostgreSQL *server* URL) a fresh database on that server,
/// dropped by [`BenchDb::remove`]; without, a new SQLite file.
#[allow(dead_code)]
pub struct BenchDb {
    /// The database's URL, for the bench and for the server's `DATABASE_URL`.
    pub url: String,
    /// PostgreSQL's server URL and the database's name.
    pg: Option<(String, String)>,
}

#[allow(dead_code)]
impl BenchDb {
    /// Creates the empty database; a SQLite file goes into `dir`.
    pub async fn create(dir: &Path) -> BenchDb {
        match env_database_url() {
            Some(server) => {
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("qunjia_bench_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{server}/postgres"))
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                admin.close().await.ok();
                BenchDb {
                    url: format!("{server}/{name}"),
                    pg: Some((server, name)),
                }
            }
            None => BenchDb {
                url: format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
                pg: None,
            },
        }
    }

    /// `PostgreSQL` or `SQLite`.
    pub fn engine(&self) -> &'static str {
        if self.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// A connection to the database, migrated.
    pub async fn migrated(&self) -> DatabaseConnection {
        let db = Database::connect(&self.url).await.expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        db
    }

    /// Drops a PostgreSQL database, connections and all (a SQLite file goes with its folder).
    pub async fn remove(self) {
        if let Some((server, name)) = self.pg
            && let Ok(admin) = Database::connect(format!("{server}/postgres")).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// How many rows one multi-row INSERT of a data set carries.
#[allow(dead_code)]
pub const ROWS_PER_INSERT: usize = 500;

/// Inserts `rows` (already-quoted value tuples) into `table(columns)`, many per statement.
#[allow(dead_code)]
pub async fn bulk_insert<C: ConnectionTrait>(db: &C, table: &str, columns: &str, rows: &[String]) {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", chunk.join(","));
        db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
    }
}

/// The `id` column of what `sql` selects.
#[allow(dead_code)]
pub async fn ids<C: ConnectionTrait>(db: &C, sql: &str) -> Vec<i64> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("ids")
        .iter()
        .map(|r| r.try_get("", "id").expect("id"))
        .collect()
}

/// The id of the province the migrations seed (the first region).
#[allow(dead_code)]
pub async fn province(db: &DatabaseConnection) -> i64 {
    ids(db, "SELECT id FROM regions ORDER BY id LIMIT 1")
        .await
        .first()
        .copied()
        .expect("a seeded region")
}

/// Gives the person who logged in with `phone` `role` over `scope`, straight in
/// the database.
#[allow(dead_code)]
pub async fn grant_role(db: &DatabaseConnection, phone: &str, role: &str, scope: &str) {
    let user = ids(db, &format!("SELECT id FROM users WHERE phone = '{phone}'"))
        .await
        .first()
        .copied()
        .expect("the person has logged in");
    let (role, scope) = qunjia::auth::roles::parse_grant(role, scope).expect("grant");
    qunjia::auth::roles::insert_role(db, user, role, scope, None)
        .await
        .expect("insert role");
}

/// CPUs this process may use (0 when unknown).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// The 1/5/15-minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// KiB → MiB.
#[allow(dead_code)]
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A client for the server under test.
pub fn client(timeout: Duration) -> reqwest::Client {
    // A proxy from the environment would sit between the bench and 127.0.0.1.
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .expect("client")
}

/// A phone number of the 139 range picked at random.
#[allow(dead_code)]
pub fn random_phone() -> String {
    // A fresh number each run: a reused database (BENCH_DATABASE_URL) keeps the
    // one-code-per-minute limit of earlier runs.
    format!("139{:08}", rand::random_range(0..100_000_000u32))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Reads log lines until the pipe closes, remembering `sms to=<phone> code=<code>`
/// and printing the lines that contain `echo`.
fn drain<R: AsyncRead + Unpin + Send + 'static>(pipe: R, codes: Codes, echo: Option<&'static str>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if echo.is_some_and(|e| line.contains(e)) {
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
fn qunjia(data: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(server_bin());
    // The caller's DATABASE_URL and QUNJIA_ENV must not leak into the bench; the
    // per-IP OTP limit is lifted because every request comes from 127.0.0.1.
    cmd.env("QUNJIA_DATA_DIR", data)
        .env("QUNJIA_SMS_PROVIDER", "log")
        .env("QUNJIA_OTP_IP_LIMIT_PER_HOUR", "1000")
        // The default level of a server started without RUST_LOG.
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("QUNJIA_ENV")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

/// `qunjia demo` on the data dir and database: the demo district, its worker and admin.
#[allow(dead_code)]
pub async fn demo(data: &Path, database_url: Option<&str>) {
    let out = qunjia(data, database_url)
        .arg("demo")
        .output()
        .await
        .expect("run qunjia demo");
    assert!(
        out.status.success(),
        "qunjia demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `qunjia grant --phone … --role admin --scope <scope>` on the data dir.
#[allow(dead_code)]
pub async fn grant(data: &Path, database_url: Option<&str>, phone: &str, scope: &str) {
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

/// Resident memory of `pid` in KiB (VmRSS), 0 once it is gone.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A `qunjia serve` child with piped logs; killed when dropped.
pub struct Server {
    child: Child,
    pid: u32,
    base: String,
    codes: Codes,
}

impl Server {
    /// Starts `qunjia serve` on `data` and a free port of 127.0.0.1 without
    /// waiting for it; log lines containing `echo` are printed.
    pub fn spawn(data: &Path, database_url: Option<&str>, echo: Option<&'static str>) -> Server {
        Server::spawn_with(data, database_url, echo, &[])
    }

    /// [`Server::spawn`] with more environment variables (e.g. `RUST_LOG`).
    pub fn spawn_with(
        data: &Path,
        database_url: Option<&str>,
        echo: Option<&'static str>,
        envs: &[(&str, &str)],
    ) -> Server {
        let port = free_port();
        let mut cmd = qunjia(data, database_url);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .arg("serve")
            .env("QUNJIA_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the qunjia binary");
        let pid = child.id().expect("pid");
        let codes = Codes::default();
        drain(child.stdout.take().expect("stdout"), codes.clone(), echo);
        drain(child.stderr.take().expect("stderr"), codes.clone(), echo);
        Server {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            codes,
        }
    }

    /// `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Polls `/health` every 2 ms until it answers 200; returns the time since `since`.
    pub async fn wait_healthy(&mut self, http: &reqwest::Client, since: Instant) -> Duration {
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

    /// Asks for a code for `phone`, reads it from the log and logs in → access token.
    pub async fn log_in(&self, http: &reqwest::Client, phone: &str) -> String {
        let r = http
            .post(self.url("/api/v1/auth/otp"))
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

    /// Resident memory in KiB (VmRSS).
    #[allow(dead_code)]
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid)
    }

    /// CPU time the server has used so far (user + system), in ms.
    #[allow(dead_code)]
    pub fn cpu_ms(&self) -> f64 {
        // Fields 14 and 15 of /proc/<pid>/stat, after the `(comm)` that may hold spaces.
        let ticks = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|s| {
                let rest = s.get(s.rfind(')')? + 2..)?.to_owned();
                let f: Vec<&str> = rest.split_whitespace().collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        // USER_HZ is 100 on Linux.
        ticks as f64 * 10.0
    }

    /// Samples VmRSS every `every` until [`PeakRss::stop`].
    #[allow(dead_code)]
    pub fn peak_rss(&self, every: Duration) -> PeakRss {
        let on = Arc::new(AtomicBool::new(true));
        let (flag, pid) = (on.clone(), self.pid);
        let task = tokio::spawn(async move {
            let mut peak = 0;
            while flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(every).await;
            }
            peak.max(rss_kib(pid))
        });
        PeakRss { on, task }
    }

    /// Kills the child and waits for it to exit.
    #[allow(dead_code)]
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A running VmRSS sampler of a server.
#[allow(dead_code)]
pub struct PeakRss {
    on: Arc<AtomicBool>,
    task: JoinHandle<u64>,
}

#[allow(dead_code)]
impl PeakRss {
    /// Ends the sampling with one last sample; returns the peak in KiB.
    pub async fn stop(self) -> u64 {
        self.on.store(false, Ordering::Relaxed);
        self.task.await.expect("sampler")
    }
}
