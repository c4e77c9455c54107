//! Check-in throughput: the release binary on a database holding one open public
//! activity and `BENCH_USERS` people; 64 connections each POST `/api/v1/checkins`
//! with a different person every request, for `BENCH_SECS` seconds, then
//! `GET /health` the same way for comparison. Afterwards the database must hold
//! exactly one check-in per success: none lost, none doubled.
//!
//! - `BENCH_DATABASE_URL` — a PostgreSQL *server* URL (`postgres://postgres@127.0.0.1:5432`);
//!   a fresh database is created on it and dropped at the end. Without it: a new SQLite file.
//! - `BENCH_USERS` (default 50000), `BENCH_SECS` (default 10).
//! - `BENCH_SERVER` — another build's binary to measure instead (an older one, for a
//!   before/after in one harness), with `BENCH_MIGRATIONS` — how many migrations to
//!   apply (the ones that build knows).
//!
//! Beside it, in the same run and on the same database (the real migrated tables,
//! indexes and counter triggers), the ceiling: a raw loop through the same driver
//! (sqlx) committing one single-row `INSERT INTO checkins` per transaction on one
//! connection (SQLite: WAL, `synchronous=NORMAL`, as the server opens it; PostgreSQL
//! also on `CONNECTIONS` connections at once), and the check-ins as a share of it.
//!
//! The server runs with a known secret (its data folder's `jwt_secret`), so access
//! tokens are minted here. The check-in token is minted as the kiosk's `GET checkin-qr` would give it: for the
//! current 30-second window, recomputed when the window turns.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{BenchDb, Server, bulk_insert, cpus, env_num, grant_role, ids, loadavg, ms, province};
use qunjia::auth::jwt::{JwtKeys, TokenType};
use qunjia::checkin::token;
use qunjia::entity::{activities, checkins, orgs};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const CONNECTIONS: usize = 64;
const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";

struct Load {
    requests: usize,
    ok: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 * p).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[i]) / 1e3
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn finish(mut all: Vec<u32>, ok: usize, errors: usize, elapsed: Duration) -> Load {
    all.sort_unstable();
    Load {
        requests: all.len(),
        ok,
        errors,
        rps: ok as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
    }
}

/// `CONNECTIONS` tasks, each sending what `request` builds next until time is up or
/// it builds nothing more; an answer counts as ok when its status is `want`.
async fn load<F>(secs: u64, want: u16, request: F) -> Load
where
    F: Fn(&reqwest::Client) -> Option<reqwest::RequestBuilder> + Send + Sync + 'static,
{
    let http = http();
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, request) = (http.clone(), request.clone());
            tokio::spawn(async move {
                let mut lat: Vec<u32> = Vec::with_capacity(8192);
                let (mut ok, mut errors) = (0usize, 0usize);
                while Instant::now() < deadline {
                    let Some(req) = request(&http) else { break };
                    let t0 = Instant::now();
                    let good = match req.send().await {
                        Ok(r) => r.status() == want && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    if good {
                        ok += 1;
                    } else {
                        errors += 1;
                    }
                }
                (lat, ok, errors)
            })
        })
        .collect();
    let (mut all, mut ok, mut errors) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, o, e) = t.await.expect("task");
        all.extend(l);
        ok += o;
        errors += e;
    }
    finish(all, ok, errors, started.elapsed())
}

/// Each request a check-in for the next unused person, until time is up.
async fn check_ins(
    server: &Server,
    tokens: Arc<Vec<String>>,
    activity: &activities::Model,
    secs: u64,
) -> Load {
    let url = server.url("/api/v1/checkins");
    let key = token::activity_key(SECRET.as_bytes(), &activity.checkin_key);
    let next = AtomicUsize::new(0);
    let id = activity.id;
    load(secs, 201, move |http| {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let access = tokens.get(i)?;
        // What the kiosk shows now (it refreshes every window).
        let window = token::window_of(chrono::Utc::now().timestamp());
        let body = serde_json::json!({ "token": token::sign(&key, id, window) });
        Some(http.post(&url).bearer_auth(access).json(&body))
    })
    .await
}

/// `GET /health` the same way.
async fn health(server: &Server, secs: u64) -> Load {
    let url = server.url("/health");
    load(secs, 200, move |http| Some(http.get(&url))).await
}

/// Activities the raw loop inserts into, so that it never runs out of people.
const RAW_ACTIVITIES: usize = 16;

/// The raw ceiling: `conns` connections, each committing single-row INSERTs into
/// `checkins` (one transaction per row, statement prepared once by sqlx's cache)
/// for `secs` seconds; rows per second.
async fn raw_commits(
    url: &str,
    (activities, people): (&[i64], &[i64]),
    next: &Arc<AtomicUsize>,
    conns: usize,
    secs: u64,
) -> f64 {
    use sea_orm::sqlx::{self, Connection};
    let now = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let pairs = activities.len() * people.len();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (url, next) = (url.to_owned(), next.clone());
        let (activities, people) = (activities.to_vec(), people.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            if url.starts_with("sqlite:") {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
                use std::str::FromStr;
                let opts = SqliteConnectOptions::from_str(&url)
                    .expect("url")
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                let mut c = sqlx::SqliteConnection::connect_with(&opts).await.expect("raw connect");
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pairs {
                        break;
                    }
                    sqlx::query("INSERT INTO checkins (activity_id, user_id, method, checked_in_at) VALUES (?, ?, 'qr', ?)")
                        .bind(activities[i / people.len()])
                        .bind(people[i % people.len()])
                        .bind(now)
                        .execute(&mut c)
                        .await
                        .expect("raw insert");
                    done += 1;
                }
            } else {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("raw connect");
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pairs {
                        break;
                    }
                    sqlx::query("INSERT INTO checkins (activity_id, user_id, method, checked_in_at) VALUES ($1, $2, 'qr', $3)")
                        .bind(activities[i / people.len()])
                        .bind(people[i % people.len()])
                        .bind(now)
                        .execute(&mut c)
                        .await
                        .expect("raw insert");
                    done += 1;
                }
            }
            done
        }));
    }
    let mut rows = 0;
    for t in tasks {
        rows += t.await.expect("raw task");
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

fn print(name: &str, l: &Load) {
    println!(
        "  {name:<16} {:>8.0} ok/s   p50 {:>6.2} ms   p99 {:>6.2} ms   requests {:>7}   errors {}",
        l.rps, l.p50_ms, l.p99_ms, l.requests, l.errors
    );
}

#[tokio::main]
async fn main() {
    run().await;
}

async fn run() {
    let n_users = env_num("BENCH_USERS", 50_000);
    let secs = env_num("BENCH_SECS", 10) as u64;
    let temp = tempfile::tempdir().expect("temp dir");
    let bench_db = BenchDb::create(temp.path()).await;
    let engine = bench_db.engine();
    println!("qunjia check-in bench — {}", common::server_bin());
    println!(
        "engine: {engine}, cpus: {}, {CONNECTIONS} connections × {secs} s, {n_users} people, loadavg before: {}",
        cpus(),
        loadavg()
    );

    // Arrange: schema, an org, an open public activity running now, the people.
    let t0 = Instant::now();
    let db = match std::env::var("BENCH_MIGRATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(steps) => {
            use migration::MigratorTrait;
            let db = sea_orm::Database::connect(&bench_db.url)
                .await
                .expect("connect");
            migration::Migrator::up(&db, Some(steps))
                .await
                .expect("migrate");
            db
        }
        None => bench_db.migrated().await,
    };
    let region_id = province(&db).await;
    let org = orgs::Entity::insert(orgs::ActiveModel {
        name: Set("压测工会".into()),
        org_type: Set("union".into()),
        form: Set("single".into()),
        region_id: Set(region_id),
        join_code: Set(uuid::Uuid::new_v4().simple().to_string()),
        join_policy: Set("open".into()),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    })
    .exec_with_returning(&db)
    .await
    .expect("org");
    let now = chrono::Utc::now().timestamp_millis();
    let activity = activities::Entity::insert(activities::ActiveModel {
        org_id: Set(org.id),
        title: Set("压测活动".into()),
        kind: Set("other".into()),
        starts_at: Set(now - 3_600_000),
        ends_at: Set(now + 3_600_000),
        signup_required: Set(false),
        audience: Set("public".into()),
        status: Set("scheduled".into()),
        checkin_key: Set(uuid::Uuid::new_v4().simple().to_string()),
        signed_up: Set(0),
        checked_in: Set(0),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    })
    .exec_with_returning(&db)
    .await
    .expect("activity");
    let mut raw_activities = Vec::new();
    for i in 0..RAW_ACTIVITIES {
        let a = activities::Entity::insert(activities::ActiveModel {
            org_id: Set(org.id),
            title: Set(format!("基线活动{i}")),
            kind: Set("other".into()),
            starts_at: Set(now - 3_600_000),
            ends_at: Set(now + 3_600_000),
            signup_required: Set(false),
            audience: Set("public".into()),
            status: Set("scheduled".into()),
            checkin_key: Set(uuid::Uuid::new_v4().simple().to_string()),
            signed_up: Set(0),
            checked_in: Set(0),
            created_at: Set(0),
            updated_at: Set(0),
            ..Default::default()
        })
        .exec_with_returning(&db)
        .await
        .expect("raw activity");
        raw_activities.push(a.id);
    }
    let first_phone = 15_000_000_000i64;
    let rows: Vec<String> = (0..n_users as i64)
        .map(|i| format!("('{}', '工人{i}', 0, 0)", first_phone + i))
        .collect();
    bulk_insert(&db, "users", "phone, name, created_at, updated_at", &rows).await;
    let people = ids(
        &db,
        &format!("SELECT id FROM users WHERE phone >= '{first_phone}' ORDER BY id"),
    )
    .await;
    let keys = JwtKeys::new(SECRET.as_bytes(), "qunjia");
    let tokens: Arc<Vec<String>> = Arc::new(
        people
            .iter()
            .map(|id| {
                keys.issue(
                    TokenType::Access,
                    *id,
                    uuid::Uuid::new_v4().to_string(),
                    None,
                )
                .0
            })
            .collect(),
    );
    println!(
        "arrange: {} people + tokens in {:.1} s",
        tokens.len(),
        t0.elapsed().as_secs_f64()
    );

    // Act: the server on that database.
    let data = tempfile::tempdir().expect("data dir");
    // A development server takes its secret from the data folder: give it ours,
    // so the bench can mint access tokens and kiosk tokens.
    std::fs::write(data.path().join("jwt_secret"), SECRET).expect("write secret");
    let mut server = Server::spawn(data.path(), Some(&bench_db.url), None);
    let client = common::client(Duration::from_secs(5));
    server.wait_healthy(&client, Instant::now()).await;
    // The kiosk: an admin of the region logs in with the code from the log and
    // asks for the QR; its token must be the one minted here.
    let admin_phone = common::random_phone();
    let admin = server.log_in(&client, &admin_phone).await;
    grant_role(&db, &admin_phone, "admin", &format!("region:{region_id}")).await;
    let qr: serde_json::Value = client
        .get(server.url(&format!("/api/v1/activities/{}/checkin-qr", activity.id)))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("checkin-qr")
        .json()
        .await
        .expect("json");
    let key = token::activity_key(SECRET.as_bytes(), &activity.checkin_key);
    let shown = qr["token"].as_str().expect("token");
    let window = token::verify(&key, shown)
        .expect("the kiosk token verifies")
        .window;
    assert_eq!(shown, token::sign(&key, activity.id, window));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ci = check_ins(&server, tokens, &activity, secs).await;
    let h = health(&server, secs).await;
    server.stop().await;
    // The ceiling, in the same run, on the same database, after the server stopped.
    // (Both loops draw (activity, person) pairs from one counter: no pair twice.)
    let pairs = (raw_activities.as_slice(), people.as_slice());
    let next = Arc::new(AtomicUsize::new(0));
    let raw1 = raw_commits(&bench_db.url, pairs, &next, 1, secs).await;
    let raw_many = if bench_db.engine() == "PostgreSQL" {
        Some(raw_commits(&bench_db.url, pairs, &next, CONNECTIONS, secs).await)
    } else {
        None
    };
    println!("loadavg after: {}", loadavg());

    // Assert: one row per success, and the counter agrees.
    let rows = checkins::Entity::find()
        .filter(checkins::Column::ActivityId.eq(activity.id))
        .count(&db)
        .await
        .expect("count");
    let counter = activities::Entity::find_by_id(activity.id)
        .one(&db)
        .await
        .expect("activity")
        .expect("exists")
        .checked_in;
    println!();
    print("POST /checkins", &ci);
    print("GET /health", &h);
    println!(
        "  raw single-row commits, 1 connection: {raw1:>8.0} rows/s   check-ins at {:.1} % of it",
        100.0 * ci.rps / raw1
    );
    if let Some(raw) = raw_many {
        println!(
            "  raw single-row commits, {CONNECTIONS} connections: {raw:>8.0} rows/s   check-ins at {:.1} % of it",
            100.0 * ci.rps / raw
        );
    }
    println!(
        "  check-in rows {rows}, successes {}, activities.checked_in {counter}: {}",
        ci.ok,
        if rows as usize == ci.ok && counter as usize == ci.ok {
            "none lost, none doubled"
        } else {
            "MISMATCH"
        }
    );
    println!(
        "  (p50/p99 over all requests; {} ms per run)",
        ms(Duration::from_secs(secs))
    );
    db.close().await.ok();
    bench_db.remove().await;
    assert_eq!(rows as usize, ci.ok, "rows == successes");
    assert_eq!(counter as usize, ci.ok, "counter == successes");
}
