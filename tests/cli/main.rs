//! Tests of the `qunjia` binary itself: configuration refusals, the log SMS
//! provider, `migrate`, `grant`, `demo`, restarts, graceful shutdown on SIGTERM,
//! `kill -9` under load (`crash`) and two instances behind nginx (`balancer`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../support/mod.rs"]
mod support;

mod backup;
mod balancer;
mod crash;
mod housekeeping;

const BIN: &str = env!("CARGO_BIN_EXE_qunjia");

/// One test's data folder, and its own PostgreSQL database when `QUNJIA_TEST_PG`
/// is set (otherwise the default SQLite file inside the folder).
struct Case {
    dir: tempfile::TempDir,
    pg: Option<support::TestDb>,
}

impl Case {
    fn new() -> Case {
        let pg = std::env::var("QUNJIA_TEST_PG")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|_| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(support::TestDb::new())
            });
        Case {
            dir: tempfile::tempdir().expect("tmp"),
            pg,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with a clean environment pointing at this case's data.
    fn qunjia(&self) -> Command {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("QUNJIA_") || k == "DATABASE_URL" || k == "RUST_LOG" {
                c.env_remove(k);
            }
        }
        c.env("QUNJIA_DATA_DIR", self.path())
            .current_dir(self.path());
        if let Some(db) = &self.pg {
            c.env("DATABASE_URL", &db.url);
        }
        c
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running server process whose output lines arrive on a channel.
struct Server {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    port: u16,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let port = free_port();
        let mut child = cmd
            .env("QUNJIA_BIND", format!("127.0.0.1:{port}"))
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn qunjia");
        let (tx, rx) = channel();
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut s = Server {
            child,
            lines: rx,
            seen: vec![],
            port,
        };
        s.wait_healthy();
        s
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(200) = http::blocking_get(&self.url("/health")) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.drain();
                panic!("server exited with {status}: {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server did not become healthy");
    }

    fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    /// Waits for a log line containing `needle` and returns it.
    fn wait_line(&mut self, needle: &str) -> String {
        self.wait_line_with(&[needle])
    }

    /// Waits for a log line containing every one of `needles` and returns it.
    fn wait_line_with(&mut self, needles: &[&str]) -> String {
        let hit = |l: &str| needles.iter().all(|n| l.contains(n));
        if let Some(l) = self.seen.iter().find(|l| hit(l)) {
            return l.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if hit(&l) {
                        return l;
                    }
                }
                Err(_) => panic!("no log line with {needles:?}; saw {:?}", self.seen),
            }
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny blocking HTTP helper so these tests need no runtime.
mod http {
    use super::*;

    pub fn blocking_get(url: &str) -> std::io::Result<u16> {
        request("GET", url, None, None).map(|(s, _)| s)
    }

    pub fn request(
        method: &str,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> std::io::Result<(u16, Value)> {
        request_with(method, url, body, token, &[])
    }

    /// [`request`] with extra header lines (`Idempotency-Key`, `X-Forwarded-For` …).
    pub fn request_with(
        method: &str,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> std::io::Result<(u16, Value)> {
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut s = TcpStream::connect(host)?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        for (name, value) in headers {
            auth.push_str(&format!("{name}: {value}\r\n"));
        }
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut raw = String::new();
        s.read_to_string(&mut raw)?;
        parse(&raw)
    }

    pub fn parse(raw: &str) -> std::io::Result<(u16, Value)> {
        let status = raw
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status line"))?;
        let body = raw.split("\r\n\r\n").nth(1).unwrap_or("");
        Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
    }
}

fn login_via_log(server: &mut Server, phone: &str) -> Value {
    let (status, _) = http::request(
        "POST",
        &server.url("/api/v1/auth/otp"),
        Some(&json!({ "phone": phone })),
        None,
    )
    .expect("otp");
    assert_eq!(status, 202);
    let line = server.wait_line(&format!("sms to={phone} code="));
    let code: String = line
        .split("code=")
        .nth(1)
        .expect("code in line")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "{line}");
    let (status, body) = http::request(
        "POST",
        &server.url("/api/v1/auth/login"),
        Some(&json!({ "phone": phone, "code": code })),
        None,
    )
    .expect("login");
    assert_eq!(status, 200, "{body}");
    body
}

/// A GET as a logged-in person, which must answer 200.
fn get_ok(server: &Server, path: &str, login: &Value) -> Value {
    let token = login["access_token"].as_str().expect("token");
    let (status, body) =
        http::request("GET", &server.url(path), None, Some(token)).expect("request");
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The demo's paid hardship case (found in the worker's own list) as its
/// officer reads it, description opened: (officer login, case).
fn paid_demo_case(server: &mut Server, mine: &Value) -> (Value, Value) {
    let paid = mine["items"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["status"] == "resolved"))
        .expect("the resolved case");
    let officer = login_via_log(server, "13800000010");
    let case = get_ok(server, &format!("/api/v1/cases/{}", paid["id"]), &officer);
    assert!(
        case["description"]
            .as_str()
            .is_some_and(|d| d.contains("住院")),
        "{case}"
    );
    (officer, case)
}

#[test]
fn serve_refuses_to_start_in_production_with_the_log_provider() {
    let case = Case::new();
    let out = case
        .qunjia()
        .env("QUNJIA_ENV", "production")
        .env("QUNJIA_JWT_SECRET", "x".repeat(40))
        .arg("serve")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("QUNJIA_SMS_PROVIDER"), "{err}");
}

#[test]
fn serve_refuses_to_start_in_production_without_a_long_secret() {
    let case = Case::new();
    for secret in [None, Some("short-secret")] {
        let mut cmd = case.qunjia();
        cmd.env("QUNJIA_ENV", "production")
            .env("QUNJIA_SMS_PROVIDER", "webhook")
            .env("QUNJIA_SMS_WEBHOOK_URL", "http://127.0.0.1:9/send");
        if let Some(s) = secret {
            cmd.env("QUNJIA_JWT_SECRET", s);
        }
        let out = cmd.arg("serve").output().expect("run");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert!(err.contains("QUNJIA_JWT_SECRET"), "{err}");
    }
}

#[test]
fn migrate_creates_the_database_and_the_development_secret() {
    let case = Case::new();
    let out = case.qunjia().arg("migrate").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if case.pg.is_none() {
        assert!(case.path().join("qunjia.db").exists());
    }
    let secret = std::fs::read_to_string(case.path().join("jwt_secret")).expect("secret kept");
    assert!(secret.trim().len() >= 32);
    // A second run keeps the same secret, so logins survive restarts.
    let out = case.qunjia().arg("migrate").output().expect("run");
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(case.path().join("jwt_secret")).expect("secret"),
        secret
    );
}

#[test]
fn log_provider_writes_the_code_line_and_a_login_survives_a_restart() {
    let case = Case::new();
    let mut server = Server::start(case.qunjia());
    let body = login_via_log(&mut server, "13912345678");
    let access = body["access_token"].as_str().expect("token").to_owned();
    let refresh = body["refresh_token"].as_str().expect("token").to_owned();
    assert!(server.terminate().success());

    let server = Server::start(case.qunjia());
    let (status, me) =
        http::request("GET", &server.url("/api/v1/me"), None, Some(&access)).expect("me");
    assert_eq!(status, 200);
    assert_eq!(me["phone"], "13912345678");
    let (status, _) = http::request(
        "POST",
        &server.url("/api/v1/auth/refresh"),
        Some(&json!({ "refresh_token": refresh })),
        None,
    )
    .expect("refresh");
    assert_eq!(status, 200);
}

#[test]
fn grant_gives_the_first_admin_a_role_they_see_after_login() {
    let case = Case::new();
    let out = case
        .qunjia()
        .args([
            "grant",
            "--phone",
            "13800000000",
            "--role",
            "admin",
            "--scope",
            "region:1",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = case
        .qunjia()
        .args([
            "grant", "--phone", "12345", "--role", "admin", "--scope", "region:1",
        ])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    let bad = case
        .qunjia()
        .args([
            "grant",
            "--phone",
            "13800000000",
            "--role",
            "admin",
            "--scope",
            "org:1",
        ])
        .output()
        .expect("run");
    assert!(!bad.status.success());

    let mut server = Server::start(case.qunjia());
    let body = login_via_log(&mut server, "13800000000");
    assert_eq!(body["new_user"], false);
    assert_eq!(
        body["user"]["roles"],
        json!([{ "role": "admin", "scope": "region:1" }])
    );
    // A city admin granted from the command line while the server runs sees the
    // grant in the audit log of their city (the entry carries the scope's region).
    let cities = get_ok(&server, "/api/v1/regions?parent_id=1&limit=100", &body);
    let hefei = cities["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["code"] == "340100")
        .expect("合肥")["id"]
        .as_i64()
        .expect("id");
    let scope = format!("region:{hefei}");
    let out = case
        .qunjia()
        .args([
            "grant",
            "--phone",
            "13800000002",
            "--role",
            "admin",
            "--scope",
            &scope,
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let city_admin = login_via_log(&mut server, "13800000002");
    let seen = get_ok(&server, "/api/v1/audit?action=role.grant", &city_admin);
    let entries = seen["items"].as_array().expect("items");
    assert_eq!(entries.len(), 1, "{seen}");
    assert_eq!(entries[0]["region_id"], hefei);
}

#[test]
fn demo_fills_a_fresh_database_once_and_prints_the_logins() {
    let case = Case::new();
    let out = case.qunjia().arg("demo").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("13800000000") && text.contains("13900000001"),
        "{text}"
    );
    let again = case.qunjia().arg("demo").output().expect("run");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already"));

    let mut server = Server::start(case.qunjia());
    let worker = login_via_log(&mut server, "13900000001");
    assert_eq!(worker["user"]["name"], "李小梅");
    assert!(worker["user"]["unit_name"].is_string());
    let admin = login_via_log(&mut server, "13800000000");
    assert_eq!(admin["user"]["roles"][0]["role"], "admin");

    // The cases: sealed with the development data key, opened by the server.
    assert!(
        text.contains("13800000010") && text.contains("13900000002"),
        "{text}"
    );
    let mine = get_ok(&server, "/api/v1/cases?mine=true", &worker);
    let items = mine["items"].as_array().expect("items");
    let mut states: Vec<&str> = items.iter().filter_map(|c| c["status"].as_str()).collect();
    states.sort_unstable();
    assert_eq!(
        states,
        ["in_progress", "resolved", "submitted", "withdrawn"],
        "{mine}"
    );
    let (officer, case) = paid_demo_case(&mut server, &mine);
    assert_eq!(case["history"].as_array().map(Vec::len), Some(4), "{case}");
    assert_eq!(case["payment"]["amount_fen"], 300_000, "{case}");
    assert_eq!(case["hardship_class"], "sudden");
    let campaigns = get_ok(
        &server,
        &format!("/api/v1/campaigns?org_id={}", case["org_id"]),
        &officer,
    );
    let campaign = &campaigns["items"][0];
    assert_eq!(
        (campaign["households"].clone(), campaign["done"].clone()),
        (json!(2), json!(1))
    );
    let visits = get_ok(
        &server,
        &format!("/api/v1/campaigns/{}/visits", campaign["id"]),
        &officer,
    );
    let notes: Vec<&Value> = visits["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| &v["note"])
        .collect();
    assert!(
        notes.contains(&&json!("慰问金和物资已送到家中，本人签收")),
        "the note opens with the data key: {visits}"
    );
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_exits_cleanly() {
    let case = Case::new();
    let mut cmd = case.qunjia();
    cmd.env("RUST_LOG", "info,qunjia=debug");
    let mut server = Server::start(cmd);
    // Start a request and hold back the end of its body, so it is in flight.
    let body = json!({ "phone": "13712345678" }).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        s,
        "POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .expect("write");
    s.flush().expect("flush");
    // The server has taken the request in before it is told to stop.
    // The health checks of the start-up also log "request started": wait for ours.
    server.wait_line_with(&["request started", "/api/v1/auth/otp"]);
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    server.wait_line("graceful");
    s.write_all(&body.as_bytes()[5..]).expect("finish body");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("response");
    let (status, _) = http::parse(&raw).expect("http");
    assert_eq!(status, 202, "{raw}");
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "{exit}");
}

#[test]
fn production_logs_are_json_lines_with_the_request_id() {
    let case = Case::new();
    let mut cmd = case.qunjia();
    cmd.env("QUNJIA_ENV", "production")
        .env("QUNJIA_JWT_SECRET", "p".repeat(40))
        .env("QUNJIA_DATA_KEY", "ab".repeat(32))
        .env("QUNJIA_SMS_PROVIDER", "webhook")
        .env("QUNJIA_SMS_WEBHOOK_URL", "http://127.0.0.1:9/send");
    let mut server = Server::start(cmd);
    let line = server.wait_line("request done");
    let v: Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(
        v["span"]["request_id"].as_str().map(str::len),
        Some(32),
        "{line}"
    );
    assert!(!line.contains("jwt_secret") && !line.contains(&"p".repeat(40)));
}

#[test]
fn rekey_moves_the_demo_cases_to_a_new_key_that_alone_then_opens_them() {
    let case = Case::new();
    let demo = case.qunjia().arg("demo").output().expect("run");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let old = std::fs::read_to_string(case.path().join("data_key")).expect("development key");
    let new = "7e".repeat(32);
    let rekey = |previous: Option<&str>| {
        let mut cmd = case.qunjia();
        cmd.env("QUNJIA_DATA_KEY", &new);
        if let Some(p) = previous {
            cmd.env("QUNJIA_DATA_KEY_PREVIOUS", p);
        }
        let out = cmd.arg("rekey").output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // Without the old key nothing opens: refused, and nothing is changed.
    let (code, _, err) = rekey(None);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("none of the configured keys"), "{err}");
    // A malformed previous key stops it before it touches anything.
    let (code, _, err) = rekey(Some("not-a-key"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("QUNJIA_DATA_KEY_PREVIOUS") && !err.contains("not-a-key"),
        "{err}"
    );

    // Nor does a server start with only the new key yet: it would answer 500 on every case.
    let refused = case
        .qunjia()
        .env("QUNJIA_DATA_KEY", &new)
        .env("QUNJIA_BIND", "127.0.0.1:0")
        .arg("serve")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("QUNJIA_DATA_KEY does not open stored case"),
        "{err}"
    );

    let (code, out, err) = rekey(Some(old.trim()));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("cases.description_enc: 6 re-sealed"), "{out}");
    let done = out
        .lines()
        .find_map(|l| l.strip_prefix("rekey done: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("summary line");
    assert!(done > 6, "{out}");
    let (code, again, _) = rekey(Some(old.trim()));
    assert_eq!(code, Some(0));
    assert!(again.contains("rekey done: 0 values"), "{again}");

    // A server holding only the new key opens the cases.
    let mut cmd = case.qunjia();
    cmd.env("QUNJIA_DATA_KEY", &new);
    let mut server = Server::start(cmd);
    let worker = login_via_log(&mut server, "13900000001");
    let mine = get_ok(&server, "/api/v1/cases?mine=true", &worker);
    paid_demo_case(&mut server, &mine);
}
