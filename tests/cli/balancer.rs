//! Two `qunjia` instances on one PostgreSQL behind a real nginx: login, refresh,
//! join, check-in and a case through the balancer, spread over both, and the
//! per-IP login-code limit counting the client's address, not nginx's.
//! Skipped without nginx, and without `QUNJIA_TEST_PG` (two processes cannot
//! share a SQLite file reliably).
use std::collections::HashSet;
use std::path::PathBuf;

use super::*;

/// The `http` block the README shows, with the ports of the test filled in.
/// README.md carries it with 8081, 8082 and 8080 (checked below).
const SNIPPET: &str = "\
upstream qunjia {
    server 127.0.0.1:{a};
    server 127.0.0.1:{b};
}
server {
    listen 127.0.0.1:{listen};
    location / {
        proxy_pass http://qunjia;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}
";

fn snippet(a: u16, b: u16, listen: u16) -> String {
    SNIPPET
        .replace("{a}", &a.to_string())
        .replace("{b}", &b.to_string())
        .replace("{listen}", &listen.to_string())
}

/// `nginx` on PATH, else Debian's `/usr/sbin/nginx` (not on a normal user's PATH).
fn nginx_binary() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| p.is_file())
}

/// nginx running in the foreground with everything (config, pid, logs, temp
/// files) inside its own folder, so it touches neither /etc nor /var.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(bin: &Path, upstreams: [u16; 2]) -> Nginx {
        let dir = tempfile::tempdir().expect("tmp");
        // Workers run as `nobody` when the master is root: let them into the folder.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let port = free_port();
        let d = dir.path().display();
        let conf = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 128; }}\n\
             http {{\n\
             access_log {d}/access.log;\n\
             client_body_temp_path {d}/client_body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
             {}}}\n",
            snippet(upstreams[0], upstreams[1], port)
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nginx");
        let mut n = Nginx { child, port, dir };
        n.wait_ready();
        n
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Waits until nginx answers /health from an upstream.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(200) = http::blocking_get(&self.url("/health")) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx exited with {status}: {err} {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("nginx did not answer /health");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM to the master stops its workers too (a KILL would orphan them).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The log lines of both instances, each with the index of its instance.
struct Logs {
    lines: Receiver<(usize, String)>,
    seen: Vec<(usize, String)>,
}

impl Logs {
    fn of(servers: &mut [&mut Server]) -> Logs {
        let (tx, rx) = channel();
        for (i, s) in servers.iter_mut().enumerate() {
            let (_, unused) = channel();
            let lines = std::mem::replace(&mut s.lines, unused);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for l in lines {
                    if tx.send((i, l)).is_err() {
                        break;
                    }
                }
            });
        }
        Logs {
            lines: rx,
            seen: vec![],
        }
    }

    /// The login code sent to `phone`, from whichever instance sent it.
    fn code(&mut self, phone: &str) -> (usize, String) {
        let needle = format!("sms to={phone} code=");
        let found = |(i, l): &(usize, String)| {
            l.split_once(&needle)
                .map(|(_, rest)| (*i, rest.chars().take_while(char::is_ascii_digit).collect()))
        };
        if let Some(hit) = self.seen.iter().find_map(found) {
            return hit;
        }
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no code for {phone}"));
            let hit = found(&line);
            self.seen.push(line);
            if let Some(hit) = hit {
                return hit;
            }
        }
    }
}

/// Requests to the API answered by an instance, from its own /metrics.
fn api_requests(server: &Server) -> u64 {
    let text = {
        let host = format!("127.0.0.1:{}", server.port);
        let mut s = TcpStream::connect(&host).expect("connect");
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read");
        raw
    };
    text.lines()
        .filter(|l| l.starts_with("qunjia_http_requests_total{route=\"/api/"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn requests_through_nginx_return_2xx_on_two_instances_and_the_ip_limit_returns_429_per_client() {
    let Some(nginx) = nginx_binary() else {
        println!("skipped: nginx not installed (apt-get install nginx)");
        return;
    };
    if std::env::var("QUNJIA_TEST_PG").map_or(true, |v| v.is_empty()) {
        println!(
            "skipped: QUNJIA_TEST_PG not set — two instances need one PostgreSQL \
             (two processes cannot share a SQLite file reliably)"
        );
        return;
    }
    assert!(
        include_str!("../../README.md").contains(&snippet(8081, 8082, 8080)),
        "README.md shows the nginx snippet this test uses"
    );
    // Arrange: one database, two instances with the same secrets, nginx in front.
    let case = Case::new();
    let instance = || {
        let mut cmd = case.qunjia();
        cmd.env("QUNJIA_JWT_SECRET", "balancer-secret-".repeat(3))
            .env("QUNJIA_DATA_KEY", "5a".repeat(32))
            .env("QUNJIA_TRUSTED_PROXIES", "127.0.0.1")
            .env("QUNJIA_OTP_IP_LIMIT_PER_HOUR", "3");
        cmd
    };
    let demo = instance().arg("demo").output().expect("run");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let mut one = Server::start(instance());
    let mut two = Server::start(instance());
    let mut logs = Logs::of(&mut [&mut one, &mut two]);
    let lb = Nginx::start(&nginx, [one.port, two.port]);
    let base = lb.url("");
    let call = |method: &str, path: &str, body: Option<&Value>, token: Option<&str>| {
        http::request(method, &format!("{base}{path}"), body, token).expect("through nginx")
    };
    let mut login = |phone: &str| {
        let (status, body) = call(
            "POST",
            "/api/v1/auth/otp",
            Some(&json!({ "phone": phone })),
            None,
        );
        assert_eq!(status, 202, "{body}");
        let (_, code) = logs.code(phone);
        let (status, body) = call(
            "POST",
            "/api/v1/auth/login",
            Some(&json!({ "phone": phone, "code": code })),
            None,
        );
        assert_eq!(status, 200, "{body}");
        body
    };

    // Act and assert: a new rider logs in, refreshes, fills in a name and joins.
    let rider = login("13700000001");
    assert_eq!(rider["new_user"], true);
    let (status, pair) = call(
        "POST",
        "/api/v1/auth/refresh",
        Some(&json!({ "refresh_token": rider["refresh_token"] })),
        None,
    );
    assert_eq!(status, 200, "{pair}");
    // The used refresh token is refused by whichever instance gets it.
    let (status, _) = call(
        "POST",
        "/api/v1/auth/refresh",
        Some(&json!({ "refresh_token": rider["refresh_token"] })),
        None,
    );
    assert_eq!(status, 401);
    let token = pair["access_token"].as_str().expect("token").to_owned();
    let (status, me) = call(
        "PATCH",
        "/api/v1/me",
        Some(&json!({ "name": "赵骑手" })),
        Some(&token),
    );
    assert_eq!(status, 200, "{me}");
    let admin = login("13800000000");
    let admin = admin["access_token"].as_str().expect("token").to_owned();
    let (status, orgs) = call("GET", "/api/v1/orgs?limit=100", None, Some(&admin));
    assert_eq!(status, 200, "{orgs}");
    let online = orgs["items"]
        .as_array()
        .and_then(|items| items.iter().find(|o| o["name"] == "小蜂快送网上工会"))
        .and_then(|o| o["id"].as_i64())
        .unwrap_or_else(|| panic!("the demo's online union: {orgs}"));
    let (status, joined) = call(
        "POST",
        &format!("/api/v1/orgs/{online}/join"),
        Some(&json!({})),
        Some(&token),
    );
    assert_eq!(
        (status, &joined["status"]),
        (201, &json!("active")),
        "{joined}"
    );

    // Checks in and files a case; each retry (through the other instance) replays.
    let stage = super::crash::stage(&base, &admin, 1);
    let keyed = |path: &str, body: &Value, key: &str| {
        http::request_with(
            "POST",
            &format!("{base}{path}"),
            Some(body),
            Some(&token),
            &[("Idempotency-Key", key)],
        )
        .expect("through nginx")
    };
    let checkin = json!({ "token": stage.activities[0].1 });
    let (status, first) = keyed("/api/v1/checkins", &checkin, "lb-checkin-1");
    assert_eq!(status, 201, "{first}");
    let (status, again) = keyed("/api/v1/checkins", &checkin, "lb-checkin-1");
    assert_eq!((status, &again["id"]), (201, &first["id"]), "{again}");
    let filed =
        json!({ "service_id": stage.service_id, "description": "站点扣了我两个月的押金不退" });
    let (status, case_row) = keyed("/api/v1/cases", &filed, "lb-case-1");
    assert_eq!(status, 201, "{case_row}");
    let (status, again) = keyed("/api/v1/cases", &filed, "lb-case-1");
    assert_eq!((status, &again["id"]), (201, &case_row["id"]), "{again}");
    let (status, read) = call(
        "GET",
        &format!("/api/v1/cases/{}", case_row["id"]),
        None,
        Some(&token),
    );
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["description"], filed["description"], "one data key");

    // The per-IP limit (3 an hour) counts the client nginx names, on both instances.
    let otp_from = |phone: &str, client: &str| {
        http::request_with(
            "POST",
            &format!("{base}/api/v1/auth/otp"),
            Some(&json!({ "phone": phone })),
            None,
            &[("X-Forwarded-For", client)],
        )
        .expect("through nginx")
    };
    let client_a = "203.0.113.7";
    let mut senders = HashSet::new();
    for n in 0..3 {
        let phone = format!("1370000010{n}");
        let (status, body) = otp_from(&phone, client_a);
        assert_eq!(status, 202, "client A, code {n}: {body}");
        senders.insert(logs.code(&phone).0);
    }
    let (status, body) = otp_from("13700000109", client_a);
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let (status, body) = otp_from("13700000201", "198.51.100.23");
    assert_eq!(status, 202, "client B is not limited by A's codes: {body}");

    let (on_one, on_two) = (api_requests(&one), api_requests(&two));
    println!(
        "balancer: API requests answered by instance one {on_one}, by instance two {on_two}; \
         client A's three codes were sent by {} instance(s)",
        senders.len()
    );
    assert!(on_one > 0 && on_two > 0, "{on_one} / {on_two}");
    assert_eq!(senders.len(), 2, "round robin spreads client A's codes");
}
