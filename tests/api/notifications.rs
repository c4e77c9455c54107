//! Notifications: the inbox (`/me/notifications`), and the SMS outbox behind it —
//! sent at once after the commit, retried by the sweeper with backoff, `failed`
//! after 5 tries, never to a person without a phone, and exactly once with two
//! instances on one database. Membership decisions notify the person.
use std::future::Future;
use std::time::{Duration, Instant};

use qunjia::entity::notifications;
use qunjia::notify::{Notice, push, service::kick};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orgs::{id, person, union_of_zhilian, world};
use crate::support::{Session, TestApp, error_code, spawn_app, spawn_app_with, spawn_on};

const INBOX: &str = "/api/v1/me/notifications";

/// Waits until `check` holds, polling, for at most 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes a notification straight into the database, as a service would.
async fn notice(app: &TestApp, user_id: i64, title: &str, sms: bool) -> i64 {
    notice_in(&app.state.db, user_id, title, sms).await
}

async fn notice_in(db: &DatabaseConnection, user_id: i64, title: &str, sms: bool) -> i64 {
    push(
        db,
        Notice {
            user_id,
            kind: "case_status",
            title: title.into(),
            body: format!("{title}的内容"),
            link: Some("/cases/1".into()),
            sms,
        },
    )
    .await
    .expect("push")
}

async fn row(app: &TestApp, nid: i64) -> notifications::Model {
    row_in(&app.state.db, nid).await
}

async fn row_in(db: &DatabaseConnection, nid: i64) -> notifications::Model {
    notifications::Entity::find_by_id(nid)
        .one(db)
        .await
        .expect("query")
        .expect("notification exists")
}

async fn rows_of(app: &TestApp, user_id: i64) -> Vec<notifications::Model> {
    notifications::Entity::find()
        .filter(notifications::Column::UserId.eq(user_id))
        .order_by_asc(notifications::Column::Id)
        .all(&app.state.db)
        .await
        .expect("query")
}

async fn inbox(app: &TestApp, who: &Session, query: &str) -> (u16, Value) {
    status_json(app.get_auth(&format!("{INBOX}{query}"), &who.access).await).await
}

async fn read(app: &TestApp, who: &Session, nid: &str) -> reqwest::Response {
    app.post_auth(&format!("{INBOX}/{nid}/read"), &who.access, &json!({}))
        .await
}

async fn unread(app: &TestApp, who: &Session) -> i64 {
    let (status, body) = status_json(
        app.get_auth(&format!("{INBOX}/unread-count"), &who.access)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["unread"].as_i64().expect("unread")
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect()
}

/// A person with five notifications (the first two read) and someone else with one.
async fn inbox_world() -> (TestApp, Session, Vec<i64>, Session, i64) {
    let app = spawn_app().await;
    let me = app.login("13900000101").await;
    let other = app.login("13900000102").await;
    let mut mine = Vec::new();
    for i in 1..=5 {
        mine.push(notice(&app, me.user_id, &format!("通知{i}"), false).await);
    }
    let theirs = notice(&app, other.user_id, "别人的通知", false).await;
    for nid in &mine[..2] {
        assert_eq!(read(&app, &me, &nid.to_string()).await.status(), 204);
    }
    (app, me, mine, other, theirs)
}

#[tokio::test]
async fn inbox_returns_200_own_notifications_newest_first_in_pages() {
    // Arrange
    let (app, me, mine, _, theirs) = inbox_world().await;

    // Act
    let (status, first) = inbox(&app, &me, "?limit=2").await;
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, second) = inbox(&app, &me, &format!("?limit=2&cursor={cursor}")).await;
    let cursor = second["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, last) = inbox(&app, &me, &format!("?limit=2&cursor={cursor}")).await;

    // Assert
    assert_eq!(status, 200, "{first}");
    assert_eq!(ids(&first), vec![mine[4], mine[3]]);
    assert_eq!(ids(&second), vec![mine[2], mine[1]]);
    assert_eq!(ids(&last), vec![mine[0]]);
    assert!(last["next_cursor"].is_null());
    assert!(!ids(&first).contains(&theirs));
    let newest = &first["items"][0];
    assert_eq!(newest["kind"], "case_status");
    assert_eq!(newest["title"], "通知5");
    assert_eq!(newest["body"], "通知5的内容");
    assert_eq!(newest["link"], "/cases/1");
    assert!(newest["read_at"].is_null());
    assert!(
        newest["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let oldest = &last["items"][0];
    assert!(oldest["read_at"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn inbox_returns_only_unread_ones_when_unread_is_true() {
    // Arrange
    let (app, me, mine, _, _) = inbox_world().await;

    // Act
    let (status, page) = inbox(&app, &me, "?unread=true").await;
    let (_, all) = inbox(&app, &me, "?unread=false").await;

    // Assert
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), vec![mine[4], mine[3], mine[2]]);
    assert_eq!(ids(&all).len(), 5);
}

#[tokio::test]
async fn inbox_returns_400_when_the_query_is_malformed_or_out_of_range() {
    // Arrange
    let (app, me, _, _, _) = inbox_world().await;

    // Act / Assert
    for q in [
        "?limit=0",
        "?limit=101",
        "?limit=-1",
        "?limit=abc",
        "?cursor=abc",
        "?cursor=-5",
        "?unread=maybe",
    ] {
        let res = app.get_auth(&format!("{INBOX}{q}"), &me.access).await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{q}");
    }
}

#[tokio::test]
async fn inbox_returns_401_when_not_logged_in() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let list = app.get(INBOX).await;
    let count = app.get(&format!("{INBOX}/unread-count")).await;
    let read_all = app
        .post_json(&format!("{INBOX}/read-all"), &json!({}))
        .await;
    let read_one = app.post_json(&format!("{INBOX}/1/read"), &json!({})).await;

    // Assert
    for res in [list, count, read_all, read_one] {
        assert_eq!(res.status().as_u16(), 401);
    }
}

#[tokio::test]
async fn read_returns_204_and_keeps_the_first_read_at_when_read_again() {
    // Arrange
    let (app, me, mine, _, _) = inbox_world().await;
    let first_read = row(&app, mine[0]).await.read_at.expect("read");
    let target = mine[4];

    // Act
    let res = read(&app, &me, &target.to_string()).await;
    let read_at = row(&app, target).await.read_at;
    let again = read(&app, &me, &target.to_string()).await;
    let again_old = read(&app, &me, &mine[0].to_string()).await;

    // Assert
    assert_eq!(res.status().as_u16(), 204);
    assert!(read_at.is_some());
    assert_eq!(again.status().as_u16(), 204);
    assert_eq!(again_old.status().as_u16(), 204);
    assert_eq!(row(&app, target).await.read_at, read_at);
    assert_eq!(row(&app, mine[0]).await.read_at, Some(first_read));
    assert_eq!(unread(&app, &me).await, 2);
}

#[tokio::test]
async fn read_returns_404_when_the_notification_is_someone_elses_or_missing() {
    // Arrange
    let (app, me, _, _, theirs) = inbox_world().await;

    // Act
    let others = read(&app, &me, &theirs.to_string()).await;
    let missing = read(&app, &me, &(theirs + 1000).to_string()).await;

    // Assert
    assert_eq!(error_code(others).await, (404, "not_found".into()));
    assert_eq!(error_code(missing).await, (404, "not_found".into()));
    assert!(row(&app, theirs).await.read_at.is_none(), "not marked");
}

#[tokio::test]
async fn read_returns_400_or_404_when_the_id_is_malformed() {
    // Arrange
    let (app, me, _, _, _) = inbox_world().await;

    // Act / Assert
    for bad in ["abc", "1.5", "99999999999999999999999", "-1", "%20"] {
        let (status, _) = error_code(read(&app, &me, bad).await).await;
        assert!(status == 400 || status == 404, "{bad}: {status}");
    }
}

#[tokio::test]
async fn read_all_returns_204_and_marks_only_the_callers_notifications() {
    // Arrange
    let (app, me, mine, other, theirs) = inbox_world().await;
    let earlier = row(&app, mine[0]).await.read_at;

    // Act
    let res = app
        .post_auth(&format!("{INBOX}/read-all"), &me.access, &json!({}))
        .await;
    let again = app
        .post_auth(&format!("{INBOX}/read-all"), &me.access, &json!({}))
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(again.status().as_u16(), 204);
    assert_eq!(unread(&app, &me).await, 0);
    assert_eq!(unread(&app, &other).await, 1);
    assert!(row(&app, theirs).await.read_at.is_none());
    assert_eq!(row(&app, mine[0]).await.read_at, earlier);
    let (_, page) = inbox(&app, &me, "?unread=true").await;
    assert!(ids(&page).is_empty());
}

#[tokio::test]
async fn unread_count_returns_the_callers_unread_notifications() {
    // Arrange
    let (app, me, _, other, _) = inbox_world().await;
    let nobody = app.login("13900000103").await;

    // Act
    let mine = unread(&app, &me).await;
    let theirs = unread(&app, &other).await;
    let none = unread(&app, &nobody).await;

    // Assert
    assert_eq!((mine, theirs, none), (3, 1, 0));
}

/// An approval union of 智联 with one pending request by 赵六.
async fn pending_membership() -> (crate::orgs::World, Session, i64) {
    let w = world().await;
    let org = union_of_zhilian(&w, "approval").await;
    let p = person(&w.app, "13900000110", Some("赵六"), Some("male"), None).await;
    let (status, m) = status_json(
        w.app
            .post_auth(
                &format!("/api/v1/orgs/{}/join", id(&org)),
                &p.access,
                &json!({}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{m}");
    (w, p, id(&m))
}

/// Awaits one SMS notice at the person's phone and checks it says nothing more
/// than the kind of event.
async fn await_one_notice(app: &TestApp, phone: &str, event: &str) {
    eventually("the SMS notice at the gateway", || async {
        !app.gateway.notices_to(phone).is_empty()
    })
    .await;
    let notices = app.gateway.notices_to(phone);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].template, "notice");
    assert_eq!(notices[0].params, json!({ "event": event }));
}

#[tokio::test]
async fn approve_returns_200_and_the_member_gets_an_inbox_notice_and_an_sms() {
    // Arrange
    let (w, p, mid) = pending_membership().await;

    // Act
    let res = w
        .app
        .post_auth(
            &format!("/api/v1/memberships/{mid}/approve"),
            &w.hefei_admin.access,
            &json!({}),
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let (status, page) = inbox(&w.app, &p, "").await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["kind"], "membership_approved");
    assert_eq!(items[0]["title"], "入会申请已通过");
    assert!(
        items[0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("智联工会approval"))
    );
    assert_eq!(items[0]["link"], "/orgs");
    await_one_notice(&w.app, &p.phone, "入会申请审核结果").await;
    let nid = items[0]["id"].as_i64().expect("id");
    eventually("the row marked sent", || async {
        row(&w.app, nid).await.sms_status == "sent"
    })
    .await;
    assert_eq!(row(&w.app, nid).await.sms_attempts, 1);
    assert!(
        rows_of(&w.app, w.hefei_admin.user_id).await.is_empty(),
        "the officer is not notified"
    );
}

#[tokio::test]
async fn reject_returns_200_and_the_applicant_gets_an_inbox_notice_and_an_sms_without_the_reason() {
    // Arrange
    let (w, p, mid) = pending_membership().await;

    // Act
    let res = w
        .app
        .post_auth(
            &format!("/api/v1/memberships/{mid}/reject"),
            &w.hefei_admin.access,
            &json!({ "reason": "不是本单位职工" }),
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let (_, page) = inbox(&w.app, &p, "?unread=true").await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["kind"], "membership_rejected");
    assert_eq!(items[0]["title"], "入会申请未通过");
    assert!(
        !items[0]["body"]
            .as_str()
            .expect("body")
            .contains("本单位职工")
    );
    await_one_notice(&w.app, &p.phone, "入会申请审核结果").await;
    assert_eq!(unread(&w.app, &p).await, 1);
}

#[tokio::test]
async fn approve_returns_409_and_queues_no_notice_when_the_membership_was_decided() {
    // Arrange
    let (w, p, mid) = pending_membership().await;
    let path = format!("/api/v1/memberships/{mid}/approve");
    let first = w
        .app
        .post_auth(&path, &w.hefei_admin.access, &json!({}))
        .await;
    assert_eq!(first.status().as_u16(), 200);

    // Act
    let again = w
        .app
        .post_auth(&path, &w.hefei_admin.access, &json!({}))
        .await;

    // Assert
    assert_eq!(error_code(again).await, (409, "invalid_transition".into()));
    assert_eq!(rows_of(&w.app, p.user_id).await.len(), 1);
}

#[tokio::test]
async fn sweeper_sends_the_sms_when_the_gateway_fails_then_recovers() {
    // Arrange
    let app = spawn_app_with(|s| s.outbox_interval_ms = 50).await;
    let me = app.login("13900000120").await;
    app.gateway.set_failing(true);
    let nid = notice(&app, me.user_id, "申请已受理", true).await;

    // Act
    kick(&app.state, vec![nid]);
    // The gateway's own count: the attempt counter moves when a row is
    // claimed, before the request is sent, so it cannot tell a failure.
    eventually("a refused first attempt", || async {
        app.gateway.refused() >= 1
    })
    .await;
    app.gateway.set_failing(false);

    // Assert
    eventually("the row marked sent", || async {
        row(&app, nid).await.sms_status == "sent"
    })
    .await;
    let n = row(&app, nid).await;
    assert!(n.sms_attempts >= 2, "retried: {n:?}");
    assert!(n.sms_next_at.is_none());
    let notices = app.gateway.notices_to(&me.phone);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].params, json!({ "event": "服务申请进展" }));
}

#[tokio::test]
async fn sweeper_marks_the_sms_failed_after_5_attempts_when_the_gateway_keeps_failing() {
    // Arrange
    let app = spawn_app_with(|s| s.outbox_interval_ms = 10).await;
    let me = app.login("13900000121").await;
    app.gateway.set_failing(true);

    // Act
    let nid = notice(&app, me.user_id, "申请已受理", true).await;

    // Assert
    eventually("the row marked failed", || async {
        row(&app, nid).await.sms_status == "failed"
    })
    .await;
    let n = row(&app, nid).await;
    assert_eq!(n.sms_attempts, 5);
    assert!(n.sms_next_at.is_none());
    assert!(app.gateway.notices_to(&me.phone).is_empty());
}

#[tokio::test]
async fn kick_sends_no_sms_when_the_person_has_no_phone_any_more() {
    // Arrange
    let app = spawn_app().await;
    let me = app.login("13900000122").await;
    let nid = notice(&app, me.user_id, "申请已受理", true).await;
    app.exec(
        "UPDATE users SET phone = NULL, deleted_at = ? WHERE id = ?",
        vec![1i64.into(), me.user_id.into()],
    )
    .await;

    // Act
    kick(&app.state, vec![nid]);

    // Assert
    eventually("the row marked none", || async {
        row(&app, nid).await.sms_status == "none"
    })
    .await;
    assert!(app.gateway.notices_to(&me.phone).is_empty());
    assert_eq!(row(&app, nid).await.sms_attempts, 0);
}

#[tokio::test]
async fn push_queues_no_sms_when_sms_is_not_asked_for() {
    // Arrange
    let app = spawn_app_with(|s| s.outbox_interval_ms = 20).await;
    let me = app.login("13900000123").await;
    let quiet = notice(&app, me.user_id, "新留言", false).await;
    let loud = notice(&app, me.user_id, "申请已受理", true).await;

    // Act: the sweeper alone sends the pending one.
    eventually("the pending row sent", || async {
        row(&app, loud).await.sms_status == "sent"
    })
    .await;

    // Assert
    let q = row(&app, quiet).await;
    assert_eq!((q.sms_status.as_str(), q.sms_attempts), ("none", 0));
    assert_eq!(app.gateway.notices_to(&me.phone).len(), 1);
}

#[tokio::test]
async fn sweepers_of_two_instances_send_each_pending_sms_exactly_once() {
    // Arrange
    let a = spawn_app_with(|s| s.outbox_interval_ms = 15).await;
    let b = spawn_on(a.db.clone(), |s| s.outbox_interval_ms = 15).await;
    let mut people = Vec::new();
    for i in 0..4 {
        people.push(a.login(&format!("1390000013{i}")).await);
    }
    let mut nids = Vec::new();
    for round in 0..6 {
        for p in &people {
            nids.push(notice(&a, p.user_id, &format!("第{round}条"), true).await);
        }
    }

    // Act: both sweepers run, and both instances are kicked for every row too.
    kick(&a.state, nids.clone());
    kick(&b.state, nids.clone());
    kick(&a.state, nids.clone());

    // Assert
    eventually("every row marked sent", || async {
        let mut all = true;
        for nid in &nids {
            all &= row(&a, *nid).await.sms_status == "sent";
        }
        all
    })
    .await;
    for nid in &nids {
        assert_eq!(row(&a, *nid).await.sms_attempts, 1, "claimed once");
    }
    for p in &people {
        let sent = a.gateway.notices_to(&p.phone).len() + b.gateway.notices_to(&p.phone).len();
        assert_eq!(sent, 6, "{}", p.phone);
    }
}

/// A legal-aid service of the 智联 union, its officer, and a case of the worker.
async fn submitted_case() -> (crate::orgs::World, Session, i64) {
    let w = world().await;
    let org = union_of_zhilian(&w, "open").await;
    let officer = crate::orgs::org_admin(&w, "13800000150", id(&org)).await;
    let (status, service) = status_json(
        w.app
            .post_auth(
                "/api/v1/services",
                &officer.access,
                &json!({ "org_id": id(&org), "kind": "legal_aid", "title": "职工法律援助" }),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{service}");
    let (status, case) = status_json(
        w.app
            .post_auth(
                "/api/v1/cases",
                &w.worker.access,
                &json!({ "service_id": id(&service), "description": "公司拖欠两个月工资共八千元" }),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{case}");
    (w, officer, id(&case))
}

#[tokio::test]
async fn transition_returns_200_and_the_applicant_gets_an_inbox_notice_and_an_sms_when_an_officer_moves_the_case()
 {
    // Arrange
    let (w, officer, cid) = submitted_case().await;

    // Act
    let (status, body) = status_json(
        w.app
            .post_auth(
                &format!("/api/v1/cases/{cid}/transition"),
                &officer.access,
                &json!({ "to": "accepted" }),
            )
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let (_, page) = inbox(&w.app, &w.worker, "").await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["kind"], "case_status");
    assert_eq!(items[0]["link"], format!("/cases/{cid}"));
    assert!(!items[0]["body"].as_str().expect("body").contains("八千元"));
    await_one_notice(&w.app, &w.worker.phone, "服务申请进展").await;
    // The officer was told of the new case in the inbox only.
    let officer_rows = rows_of(&w.app, officer.user_id).await;
    assert_eq!(officer_rows.len(), 1);
    assert_eq!(officer_rows[0].kind, "case_new");
    assert_eq!(officer_rows[0].sms_status, "none");
    assert!(w.app.gateway.notices_to(&officer.phone).is_empty());
}

#[tokio::test]
async fn transition_returns_200_and_sends_no_sms_when_the_applicant_withdraws() {
    // Arrange
    let (w, _, cid) = submitted_case().await;

    // Act
    let (status, body) = status_json(
        w.app
            .post_auth(
                &format!("/api/v1/cases/{cid}/transition"),
                &w.worker.access,
                &json!({ "to": "withdrawn" }),
            )
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert!(rows_of(&w.app, w.worker.user_id).await.is_empty());
    let pending = notifications::Entity::find()
        .filter(notifications::Column::SmsStatus.ne("none"))
        .all(&w.app.state.db)
        .await
        .expect("query");
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test]
async fn sweeper_sends_nothing_once_the_server_has_stopped() {
    // Arrange
    let app = spawn_app_with(|s| s.outbox_interval_ms = 20).await;
    let me = app.login("13900000124").await;
    let before = notice(&app, me.user_id, "停机前", true).await;
    eventually("the sweeper running", || async {
        row(&app, before).await.sms_status == "sent"
    })
    .await;

    // Act
    app.stop().await;
    // Whatever the shutdown still holds is gone well within this.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The server's pool may hold connections of the runtime that stopped with
    // it, so the test writes and reads through its own.
    let db = Database::connect(app.db.url.as_str())
        .await
        .expect("connect");
    let after = notice_in(&db, me.user_id, "停机后", true).await;
    // Fifteen sweeper intervals: there is no event to await for "nothing happened".
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert
    let n = row_in(&db, after).await;
    assert_eq!((n.sms_status.as_str(), n.sms_attempts), ("pending", 0));
    assert_eq!(app.gateway.notices_to(&me.phone).len(), 1);
}
