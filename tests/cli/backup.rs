//! `qunjia backup`: an online copy of the SQLite database taken while a server
//! writes, restored into a new folder and served again; refusals for an existing
//! file and for PostgreSQL. Always on SQLite (the command copies SQLite only).
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;

use super::*;

/// The binary on the case's SQLite file, whatever `QUNJIA_TEST_PG` says.
fn sqlite(case: &Case) -> Command {
    let mut c = case.qunjia();
    c.env_remove("DATABASE_URL");
    c
}

fn run_ok(mut cmd: Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn post(server_url: &str, path: &str, body: &Value, token: &str) -> (u16, Value) {
    http::request(
        "POST",
        &format!("{server_url}{path}"),
        Some(body),
        Some(token),
    )
    .expect("post")
}

/// The id of the demo's activity running now, as its union officer lists it.
fn running_activity(server: &Server, officer: &Value) -> i64 {
    let scope = officer["user"]["roles"][0]["scope"]
        .as_str()
        .expect("scope");
    let org = scope.strip_prefix("org:").expect("an org officer");
    let list = get_ok(server, &format!("/api/v1/activities?org_id={org}"), officer);
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["title"] == "劳动法律知识讲座")
        .and_then(|a| a["id"].as_i64())
        .expect("the running demo activity")
}

/// Every check-in id of an activity, paging through the attendance sheet.
fn attendance_ids(server: &Server, activity: i64, login: &Value) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/activities/{activity}/attendance?limit=100");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get_ok(server, &path, login);
        ids.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|i| i["id"].as_i64()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

/// `PRAGMA integrity_check` of a SQLite file, opened read-only.
fn integrity(file: &Path) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let url = format!("sqlite://{}?mode=ro", file.display());
        let db = sea_orm::Database::connect(url).await.expect("open copy");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .expect("check")
            .expect("a row");
        let verdict: String = row.try_get_by_index(0).expect("text");
        db.close().await.ok();
        verdict
    })
}

#[test]
fn backup_returns_a_copy_with_every_check_in_acknowledged_before_it_began_while_writes_go_on() {
    // Arrange: the demo on a fresh folder, served, with people to check in.
    let case = Case::new();
    run_ok({
        let mut c = sqlite(&case);
        c.arg("demo");
        c
    });
    let mut cmd = sqlite(&case);
    cmd.env("QUNJIA_OTP_IP_LIMIT_PER_HOUR", "100000");
    let mut server = Server::start(cmd);
    let officer = login_via_log(&mut server, "13800000010");
    let activity = running_activity(&server, &officer);
    let people: Vec<String> = (0..150).map(|i| format!("1360000{i:04}")).collect();
    for phone in &people {
        login_via_log(&mut server, phone);
    }

    // A stream of manual check-ins, one person each, every 201 reported as it comes.
    let (acks, acked) = channel::<i64>();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let url = server.url("");
        let token = officer["access_token"].as_str().expect("token").to_owned();
        let stop = stop.clone();
        let people = people.clone();
        std::thread::spawn(move || {
            let path = format!("/api/v1/activities/{activity}/checkins/manual");
            let mut refused = Vec::new();
            for phone in people {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = json!({ "phone": phone, "reason": "备份测试" });
                match post(&url, &path, &body, &token) {
                    (201, v) => acks.send(v["id"].as_i64().expect("id")).expect("send"),
                    other => refused.push(other),
                }
            }
            refused
        })
    };
    let mut before: Vec<i64> = (0..40).map(|_| acked.recv().expect("an ack")).collect();
    before.extend(acked.try_iter());
    let backups = tempfile::tempdir().expect("tmp");
    let file = backups.path().join("qunjia-backup.db");

    // Act: the backup, while the stream goes on.
    let out = run_ok({
        let mut c = sqlite(&case);
        c.arg("backup").arg(&file);
        c
    });
    let during: Vec<i64> = acked.try_iter().collect();
    stop.store(true, Ordering::Relaxed);
    let refused = writer.join().expect("writer");
    let after: Vec<i64> = acked.try_iter().collect();

    // Assert: the command's report, and the stream was not held up.
    println!(
        "{} ({} check-ins acknowledged before, {} while, {} after)",
        out.trim(),
        before.len(),
        during.len(),
        after.len()
    );
    assert!(
        out.contains(" bytes (") && out.contains(" ms, integrity ok"),
        "{out}"
    );
    assert!(refused.is_empty(), "{refused:?}");
    assert!(
        !during.is_empty() || !after.is_empty(),
        "check-ins went on while and after the backup ran"
    );
    assert_eq!(integrity(&file), "ok");
    let bytes = std::fs::read(&file).expect("copy");
    for key in ["data_key", "jwt_secret"] {
        let secret = std::fs::read_to_string(case.path().join(key)).expect("development key");
        let secret = secret.trim().as_bytes();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "the copy holds no {key}"
        );
    }
    assert!(!backups.path().join("data_key").exists());
    drop(server);

    // Restore: the copy as the database of a new folder, the keys given apart.
    let restored = Case::new();
    std::fs::copy(&file, restored.path().join("qunjia.db")).expect("restore");
    let key = |name: &str| {
        std::fs::read_to_string(case.path().join(name))
            .expect("key")
            .trim()
            .to_owned()
    };
    let mut cmd = sqlite(&restored);
    cmd.env("QUNJIA_DATA_KEY", key("data_key"))
        .env("QUNJIA_JWT_SECRET", key("jwt_secret"));
    let server = Server::start(cmd);
    let served = attendance_ids(&server, activity, &officer);
    let missing: Vec<&i64> = before.iter().filter(|id| !served.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not restored: {missing:?}"
    );
    assert!(
        served.len() >= before.len(),
        "{} < {}",
        served.len(),
        before.len()
    );
    // The login carried over (same JWT secret), and the sealed case text opens
    // with the data key kept apart.
    let (status, renewed) = http::request(
        "POST",
        &server.url("/api/v1/auth/refresh"),
        Some(&json!({ "refresh_token": officer["refresh_token"] })),
        None,
    )
    .expect("refresh");
    assert_eq!(status, 200, "{renewed}");
    let org = officer["user"]["roles"][0]["scope"]
        .as_str()
        .and_then(|s| s.strip_prefix("org:"))
        .expect("org");
    let queue = get_ok(&server, &format!("/api/v1/cases?org_id={org}"), &renewed);
    let id = queue["items"][0]["id"].as_i64().expect("a demo case");
    let opened = get_ok(&server, &format!("/api/v1/cases/{id}"), &renewed);
    assert!(opened["description"].is_string(), "{opened}");
    assert!(
        !restored.path().join("data_key").exists(),
        "no key was made up"
    );
}

#[test]
fn backup_refuses_a_file_that_exists_and_leaves_it_as_it_was() {
    // Arrange
    let case = Case::new();
    run_ok({
        let mut c = sqlite(&case);
        c.arg("migrate");
        c
    });
    let file = case.path().join("taken.db");
    std::fs::write(&file, "keep me").expect("write");

    // Act
    let out = sqlite(&case)
        .arg("backup")
        .arg(&file)
        .output()
        .expect("run");

    // Assert
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
}

#[test]
fn backup_refuses_postgresql_and_points_to_pg_dump() {
    // Arrange
    let case = Case::new();
    let file = case.path().join("pg.db");

    // Act
    let out = case
        .qunjia()
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:9/qunjia")
        .arg("backup")
        .arg(&file)
        .output()
        .expect("run");

    // Assert
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("pg_dump -Fc"), "{err}");
    assert!(!file.exists(), "nothing written");
}

#[test]
fn backup_returns_a_copy_when_the_file_name_holds_quotes_and_sql() {
    // Arrange
    let case = Case::new();
    run_ok({
        let mut c = sqlite(&case);
        c.arg("migrate");
        c
    });
    let backups = tempfile::tempdir().expect("tmp");
    let file = backups.path().join("it's'; DROP TABLE users; --.db");

    // Act
    let out = run_ok({
        let mut c = sqlite(&case);
        c.arg("backup").arg(&file);
        c
    });

    // Assert: the copy is whole, and the live database still has its tables.
    assert!(out.contains("integrity ok"), "{out}");
    assert_eq!(integrity(&file), "ok");
    let again = backups.path().join("second.db");
    run_ok({
        let mut c = sqlite(&case);
        c.arg("backup").arg(&again);
        c
    });
    let mut server = Server::start(sqlite(&case));
    login_via_log(&mut server, "13912340000");
}

#[test]
fn backup_refuses_when_there_is_no_database_yet() {
    // Arrange: an empty folder.
    let case = Case::new();
    let file = case.path().join("none.db");

    // Act
    let out = sqlite(&case)
        .arg("backup")
        .arg(&file)
        .output()
        .expect("run");

    // Assert: nothing is created, neither the copy nor an empty database.
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no database at"), "{err}");
    assert!(!file.exists() && !case.path().join("qunjia.db").exists());
}
