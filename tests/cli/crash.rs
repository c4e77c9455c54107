//! `kill -9` under load: 64 connections of check-ins and case submissions, the
//! server killed mid-stream and started again on the same data. Every request
//! that got a 2xx is in the database exactly once, the activities' counters equal
//! their rows, and a retry with the same `Idempotency-Key` replays the first answer
//! and creates nothing. Runs on SQLite, or on PostgreSQL when `QUNJIA_TEST_PG` is set.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::mpsc::Sender;

use qunjia::entity::{activities, cases, checkins, idempotency_keys};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::*;

/// Concurrent connections, one worker each.
const WORKERS: usize = 64;
/// Fresh public activities each worker checks in to once.
const ACTIVITIES: usize = 4;
/// Acknowledged requests before the kill.
const KILL_AFTER: usize = 400;
/// Requests one worker sends at most (the kill comes long before).
const PER_WORKER: usize = 60;

const CHECKINS: &str = "/api/v1/checkins";
const CASES: &str = "/api/v1/cases";

/// What the demo gives the load: its legal-aid service (open to everyone) and
/// fresh public activities running now, each with its current check-in token.
pub(super) struct Stage {
    pub service_id: i64,
    /// (activity id, check-in token).
    pub activities: Vec<(i64, String)>,
}

fn at(offset_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Sets up [`Stage`] through the API at `base` as the demo admin.
pub(super) fn stage(base: &str, admin: &str, activities: usize) -> Stage {
    let get = |path: &str| {
        let (status, body) =
            http::request("GET", &format!("{base}{path}"), None, Some(admin)).expect("get");
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    let listed = get("/api/v1/activities?limit=100");
    let lecture = listed["items"]
        .as_array()
        .and_then(|items| items.iter().find(|a| a["title"] == "劳动法律知识讲座"))
        .unwrap_or_else(|| panic!("the demo's running lecture: {listed}"))
        .clone();
    let org_id = lecture["org_id"].as_i64().expect("org_id");
    let services = get(&format!("/api/v1/services?org_id={org_id}&limit=100"));
    let service_id = services["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["title"] == "职工法律援助"))
        .and_then(|s| s["id"].as_i64())
        .unwrap_or_else(|| panic!("the demo's legal aid: {services}"));
    let activities = (0..activities)
        .map(|i| {
            let (status, a) = http::request(
                "POST",
                &format!("{base}/api/v1/activities"),
                Some(&json!({
                    "org_id": org_id,
                    "centre_id": lecture["centre_id"],
                    "title": format!("职工夜校第{}讲", i + 1),
                    "kind": "lecture",
                    "starts_at": at(-600),
                    "ends_at": at(3600),
                    "audience": "public",
                    "signup_required": false,
                })),
                Some(admin),
            )
            .expect("create activity");
            assert_eq!(status, 201, "{a}");
            let id = a["id"].as_i64().expect("id");
            let qr = get(&format!("/api/v1/activities/{id}/checkin-qr"));
            (id, qr["token"].as_str().expect("token").to_owned())
        })
        .collect();
    Stage {
        service_id,
        activities,
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// A 2xx with the id it created.
    Acked(u16, i64),
    /// Sent, but the connection died before an answer: done or not, nobody knows.
    Reset,
    /// The connection was refused: never sent.
    Refused,
    /// Any other answer (a failure of the test).
    Other(u16, Value),
}

/// One keyed POST, sent once.
#[derive(Debug, Clone)]
struct Sent {
    worker: usize,
    path: &'static str,
    /// The activity, for a check-in.
    activity: Option<i64>,
    key: String,
    body: Value,
    outcome: Outcome,
}

/// A keyed POST on its own connection, telling a reset from a refusal.
fn post_keyed(port: u16, path: &str, body: &Value, token: &str, key: &str) -> Outcome {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Outcome::Refused;
    };
    let body = body.to_string();
    let sent = s
        .set_read_timeout(Some(Duration::from_secs(20)))
        .and_then(|()| {
            write!(
                s,
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        });
    let mut raw = String::new();
    if sent.is_err() || s.read_to_string(&mut raw).is_err() {
        return Outcome::Reset;
    }
    match http::parse(&raw) {
        Err(_) => Outcome::Reset,
        Ok((status, v)) => match v["id"].as_i64() {
            Some(id) if (200..300).contains(&status) => Outcome::Acked(status, id),
            _ => Outcome::Other(status, v),
        },
    }
}

/// One worker's stream: a check-in to each activity between case submissions,
/// each with a key of its own, until the server is gone.
fn stream(port: u16, worker: usize, token: String, stage: &Stage, acks: Sender<()>) -> Vec<Sent> {
    let mut sent = vec![];
    let mut next_activity = 0;
    for i in 0..PER_WORKER {
        let key = format!("crash-{worker}-{i}");
        let (path, activity, body) = if i % 2 == 0 && next_activity < stage.activities.len() {
            let (id, qr) = &stage.activities[next_activity];
            next_activity += 1;
            (CHECKINS, Some(*id), json!({ "token": qr }))
        } else {
            let text = format!("公司拖欠三个月工资，请工会律师帮忙（{key}）");
            (
                CASES,
                None,
                json!({ "service_id": stage.service_id, "description": text }),
            )
        };
        let outcome = post_keyed(port, path, &body, &token, &key);
        let done = !matches!(outcome, Outcome::Acked(..) | Outcome::Other(..));
        if matches!(outcome, Outcome::Acked(..)) {
            let _ = acks.send(());
        }
        sent.push(Sent {
            worker,
            path,
            activity,
            key,
            body,
            outcome,
        });
        if done {
            break;
        }
    }
    sent
}

/// The rows the load can have made: check-ins of the stage's activities and
/// cases and idempotency keys of the workers.
struct Rows {
    checkins: Vec<checkins::Model>,
    cases: Vec<cases::Model>,
    keys: usize,
    /// activity id → its `checked_in` counter.
    counters: BTreeMap<i64, i32>,
}

async fn rows(db: &DatabaseConnection, activity_ids: &[i64], user_ids: &[i64]) -> Rows {
    let checkins = checkins::Entity::find()
        .filter(checkins::Column::ActivityId.is_in(activity_ids.iter().copied()))
        .all(db)
        .await
        .expect("checkins");
    let cases = cases::Entity::find()
        .filter(cases::Column::ApplicantId.is_in(user_ids.iter().copied()))
        .all(db)
        .await
        .expect("cases");
    let keys = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::UserId.is_in(user_ids.iter().copied()))
        .all(db)
        .await
        .expect("keys")
        .len();
    let counters = activities::Entity::find()
        .filter(activities::Column::Id.is_in(activity_ids.iter().copied()))
        .all(db)
        .await
        .expect("activities")
        .into_iter()
        .map(|a| (a.id, a.checked_in))
        .collect();
    Rows {
        checkins,
        cases,
        keys,
        counters,
    }
}

impl Rows {
    /// Counters equal live rows, no person twice at one activity, one key per row.
    fn check(&self, when: &str) {
        let mut live: BTreeMap<i64, i32> = self.counters.keys().map(|a| (*a, 0)).collect();
        let mut pairs = HashSet::new();
        for c in self.checkins.iter().filter(|c| c.undone_at.is_none()) {
            *live.entry(c.activity_id).or_default() += 1;
            assert!(
                pairs.insert((c.activity_id, c.user_id)),
                "{when}: {c:?} twice"
            );
        }
        assert_eq!(self.counters, live, "{when}: counters against rows");
        assert_eq!(
            self.keys,
            self.checkins.len() + self.cases.len(),
            "{when}: one idempotency key per row, none twice"
        );
    }

    fn ids(&self) -> (HashSet<i64>, HashSet<i64>) {
        (
            self.checkins.iter().map(|c| c.id).collect(),
            self.cases.iter().map(|c| c.id).collect(),
        )
    }
}

#[test]
fn kill_9_under_load_keeps_every_acknowledged_request_once_and_replays_it() {
    let case = Case::new();
    let engine = if case.pg.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let demo = case.qunjia().arg("demo").output().expect("run");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let serve = || {
        let mut cmd = case.qunjia();
        // 64 logins from one address.
        cmd.env("QUNJIA_OTP_IP_LIMIT_PER_HOUR", "1000");
        cmd
    };
    let started = Instant::now();
    let mut server = Server::start(serve());
    let admin = login_via_log(&mut server, "13800000000");
    let workers: Vec<(i64, String)> = (0..WORKERS)
        .map(|w| {
            let login = login_via_log(&mut server, &format!("137{w:08}"));
            (
                login["user"]["id"].as_i64().expect("id"),
                login["access_token"].as_str().expect("token").to_owned(),
            )
        })
        .collect();
    // Last, so the check-in tokens (good for 30 s at least) are fresh for the storm.
    let stage = stage(
        &server.url(""),
        admin["access_token"].as_str().expect("token"),
        ACTIVITIES,
    );
    let set_up = started.elapsed();

    // Act: the storm, and the kill in the middle of it.
    let (tx, acks) = channel();
    let port = server.port;
    let stage = std::sync::Arc::new(stage);
    let threads: Vec<_> = workers
        .iter()
        .enumerate()
        .map(|(w, (_, token))| {
            let (tx, token, stage) = (tx.clone(), token.clone(), stage.clone());
            std::thread::spawn(move || stream(port, w, token, &stage, tx))
        })
        .collect();
    drop(tx);
    for n in 0..KILL_AFTER {
        acks.recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("only {n} acknowledged before the storm ended"));
    }
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reaped");
    let sent: Vec<Sent> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("worker thread"))
        .collect();
    let count = |f: &dyn Fn(&Outcome) -> bool| sent.iter().filter(|s| f(&s.outcome)).count();
    let acked = count(&|o| matches!(o, Outcome::Acked(..)));
    let reset = count(&|o| *o == Outcome::Reset);
    let refused = count(&|o| *o == Outcome::Refused);
    let others: Vec<&Sent> = sent
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Other(..)))
        .collect();
    assert!(others.is_empty(), "unexpected answers: {others:?}");
    assert!(acked >= KILL_AFTER);

    // Start again on the same data.
    let server = Server::start(serve());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = match &case.pg {
        Some(db) => db.url.clone(),
        None => qunjia::config::sqlite_url(&case.path().join("qunjia.db")),
    };
    let db = rt
        .block_on(sea_orm::Database::connect(url))
        .expect("connect");
    let activity_ids: Vec<i64> = stage.activities.iter().map(|(id, _)| *id).collect();
    let user_ids: Vec<i64> = workers.iter().map(|(id, _)| *id).collect();
    let after_restart = rt.block_on(rows(&db, &activity_ids, &user_ids));
    after_restart.check("after the restart");
    let (checkin_rows, case_rows) = after_restart.ids();

    // Assert: every acknowledged request is there, as what it said, once.
    let by_id: HashMap<i64, &checkins::Model> =
        after_restart.checkins.iter().map(|c| (c.id, c)).collect();
    let case_by_id: HashMap<i64, &cases::Model> =
        after_restart.cases.iter().map(|c| (c.id, c)).collect();
    let mut acked_ids = HashSet::new();
    for s in &sent {
        let Outcome::Acked(status, id) = s.outcome else {
            continue;
        };
        assert_eq!(status, 201, "{s:?}");
        assert!(
            acked_ids.insert((s.path, id)),
            "two answers with one id: {s:?}"
        );
        let user = workers[s.worker].0;
        match s.activity {
            Some(activity) => {
                let row = by_id.get(&id).unwrap_or_else(|| panic!("lost: {s:?}"));
                assert_eq!((row.activity_id, row.user_id), (activity, user), "{s:?}");
                assert!(row.undone_at.is_none());
            }
            None => {
                let row = case_by_id.get(&id).unwrap_or_else(|| panic!("lost: {s:?}"));
                assert_eq!(row.applicant_id, user, "{s:?}");
            }
        }
    }
    let acked_checkins = sent
        .iter()
        .filter(|s| s.activity.is_some() && matches!(s.outcome, Outcome::Acked(..)))
        .count();
    let acked_cases = acked - acked_checkins;
    // Rows beyond the acknowledged ones can only be requests whose answer was lost.
    assert!(checkin_rows.len() + case_rows.len() <= acked + reset);

    // A retry of an acknowledged request replays it and creates nothing.
    let resend = |s: &Sent| {
        let token = &workers[s.worker].1;
        post_keyed(server.port, s.path, &s.body, token, &s.key)
    };
    for s in sent
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Acked(..)))
    {
        assert_eq!(resend(s), s.outcome, "replay of {s:?}");
    }
    let replayed = rt.block_on(rows(&db, &activity_ids, &user_ids));
    replayed.check("after the replays");
    assert_eq!(replayed.ids(), (checkin_rows.clone(), case_rows.clone()));

    // A retry of a request whose answer was lost replays it when it was done,
    // and does it now when it was not: afterwards each key has exactly one row.
    let (mut lost_done, mut done_now, mut expired) = (0, 0, 0);
    let mut answered: HashSet<(&str, i64)> = acked_ids.clone();
    for s in sent.iter().filter(|s| s.outcome == Outcome::Reset) {
        match resend(s) {
            Outcome::Acked(201, id) => {
                let before = if s.activity.is_some() {
                    &checkin_rows
                } else {
                    &case_rows
                };
                if before.contains(&id) {
                    lost_done += 1;
                } else {
                    done_now += 1;
                }
                assert!(answered.insert((s.path, id)), "two keys, one row: {s:?}");
            }
            // A check-in never done whose token has run out since: nothing stored.
            Outcome::Other(410, _) if s.activity.is_some() => expired += 1,
            other => panic!("retry of {s:?}: {other:?}"),
        }
    }
    let last = rt.block_on(rows(&db, &activity_ids, &user_ids));
    last.check("after the retries");
    let (checkin_ids, case_ids) = last.ids();
    let mut stored: HashSet<(&str, i64)> = checkin_ids.iter().map(|id| (CHECKINS, *id)).collect();
    stored.extend(case_ids.iter().map(|id| (CASES, *id)));
    assert_eq!(stored, answered, "every row is one key's answer, no more");
    assert_eq!(lost_done + done_now + expired, reset);
    rt.block_on(db.close()).expect("close");

    println!(
        "crash test on {engine}: {WORKERS} connections, {} sent, {acked} acknowledged \
         ({acked_checkins} check-ins, {acked_cases} cases), {reset} failed by connection reset, \
         {refused} refused after the kill; rows after restart: {} check-ins, {} cases \
         (counters equal rows); {acked} acknowledged retries replayed with the same id, nothing new; \
         of the reset ones {lost_done} had been done (replayed), {done_now} done on retry, \
         {expired} expired; set-up {:.1?}, total {:.1?}",
        acked + reset,
        checkin_rows.len(),
        case_rows.len(),
        set_up,
        started.elapsed(),
    );
}
