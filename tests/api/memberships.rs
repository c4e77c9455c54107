//! API.md "Memberships" and "Leaders": joining with its rules (name, league age,
//! women), one live membership under a race, Idempotency-Key, approval,
//! rejection, leaving and removal, member lists, and the org's leaders.
use chrono::{Duration, Months, NaiveDate};
use futures_util::future::join_all;
use qunjia::entity::{leaders, memberships};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orgs::{
    ORGS, World, id, make_org, org_admin, org_body, person, union_of_zhilian, world,
};
use crate::support::{Session, TestApp, error_code};

const MY: &str = "/api/v1/me/memberships";

fn join_path(org: &Value) -> String {
    format!("{ORGS}/{}/join", id(org))
}

async fn join(app: &TestApp, org: &Value, who: &Session) -> reqwest::Response {
    app.post_auth(&join_path(org), &who.access, &json!({}))
        .await
}

async fn rows(app: &TestApp) -> Vec<memberships::Model> {
    memberships::Entity::find()
        .order_by_asc(memberships::Column::Id)
        .all(&app.state.db)
        .await
        .expect("memberships")
}

fn today_shanghai() -> NaiveDate {
    (chrono::Utc::now() + Duration::hours(8)).date_naive()
}

fn years_before(day: NaiveDate, years: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(12 * years))
        .expect("date")
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn approve(app: &TestApp, token: &str, mid: i64) -> reqwest::Response {
    app.post_auth(
        &format!("/api/v1/memberships/{mid}/approve"),
        token,
        &json!({}),
    )
    .await
}

async fn reject(app: &TestApp, token: &str, mid: i64, body: &Value) -> reqwest::Response {
    app.post_auth(&format!("/api/v1/memberships/{mid}/reject"), token, body)
        .await
}

/// An approval union of 智联 with one pending request by a new person.
async fn pending(w: &World) -> (Value, Session, i64) {
    let org = union_of_zhilian(w, "approval").await;
    let p = person(&w.app, "13900000010", Some("赵六"), Some("male"), None).await;
    let (status, m) = status_json(join(&w.app, &org, &p).await).await;
    assert_eq!(status, 201, "{m}");
    (org, p, id(&m))
}

#[tokio::test]
async fn join_returns_201_active_for_an_open_org_and_pending_for_an_approval_org() {
    // Arrange
    let w = world().await;
    let open = union_of_zhilian(&w, "open").await;
    let approval = union_of_zhilian(&w, "approval").await;

    // Act
    let (s1, a) = status_json(join(&w.app, &open, &w.worker).await).await;
    let (s2, b) = status_json(join(&w.app, &approval, &w.worker).await).await;

    // Assert
    assert_eq!(s1, 201, "{a}");
    assert_eq!(
        a,
        json!({ "id": a["id"], "org_id": id(&open), "user_id": w.worker.user_id, "status": "active" })
    );
    assert_eq!(s2, 201, "{b}");
    assert_eq!(b["status"], "pending");
    let (status, mine) = status_json(w.app.get_auth(MY, &w.worker.access).await).await;
    assert_eq!(status, 200);
    let items = mine["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["org_name"], open["name"]);
    assert_eq!(
        (items[0]["org_type"].as_str(), items[0]["org_form"].as_str()),
        (Some("union"), Some("single"))
    );
    assert_eq!(items[0]["status"], "active");
    assert!(items[0]["decided_at"].is_string());
    assert_eq!(items[1]["status"], "pending");
    assert!(items[1]["decided_at"].is_null());
    assert_eq!(mine["next_cursor"], Value::Null);
}

#[tokio::test]
async fn join_returns_422_profile_incomplete_without_a_name_or_for_the_league_without_a_birth_date()
{
    // Arrange
    let w = world().await;
    let union = union_of_zhilian(&w, "open").await;
    let league = make_org(&w, org_body("league", "single", w.park, &[w.zhilian])).await;
    let nameless = person(
        &w.app,
        "13900000020",
        None,
        Some("female"),
        Some("2000-01-01"),
    )
    .await;
    let no_birth = person(&w.app, "13900000021", Some("钱七"), Some("female"), None).await;

    // Act
    let a = join(&w.app, &union, &nameless).await;
    let b = join(&w.app, &league, &no_birth).await;

    // Assert
    assert_eq!(error_code(a).await, (422, "profile_incomplete".into()));
    assert_eq!(error_code(b).await, (422, "profile_incomplete".into()));
    assert_eq!(rows(&w.app).await, vec![]);
}

#[tokio::test]
async fn join_league_accepts_14_to_28_on_the_day_and_refuses_13_and_29() {
    // Arrange
    let w = world().await;
    let league = make_org(&w, {
        let mut b = org_body("league", "single", w.park, &[w.zhilian]);
        b["join_policy"] = json!("open");
        b
    })
    .await;
    let today = today_shanghai();
    let cases = [
        ("exactly 14 today", years_before(today, 14), 201, ""),
        (
            "28, day before the 29th birthday",
            years_before(today, 29) + Duration::days(1),
            201,
            "",
        ),
        (
            "29th birthday today",
            years_before(today, 29),
            422,
            "league_age",
        ),
        (
            "13, turns 14 tomorrow",
            years_before(today, 14) + Duration::days(1),
            422,
            "league_age",
        ),
        ("40", years_before(today, 40), 422, "league_age"),
    ];

    for (i, (label, birth, status, code)) in cases.into_iter().enumerate() {
        let p = person(
            &w.app,
            &format!("1390000003{i}"),
            Some("青年"),
            Some("male"),
            Some(&ymd(birth)),
        )
        .await;

        // Act
        let res = join(&w.app, &league, &p).await;

        // Assert
        if status == 201 {
            let (s, body) = status_json(res).await;
            assert_eq!(
                (s, body["status"].as_str()),
                (201, Some("active")),
                "{label}: {body}"
            );
        } else {
            assert_eq!(error_code(res).await, (status, code.into()), "{label}");
        }
    }
    assert_eq!(rows(&w.app).await.len(), 2);
}

#[tokio::test]
async fn join_women_returns_422_gender_required_unless_female() {
    // Arrange
    let w = world().await;
    let women = make_org(&w, org_body("women", "single", w.park, &[w.zhilian])).await;
    let man = person(&w.app, "13900000040", Some("孙八"), Some("male"), None).await;
    let unknown = person(&w.app, "13900000041", Some("周九"), None, None).await;

    // Act
    let a = join(&w.app, &women, &man).await;
    let b = join(&w.app, &women, &unknown).await;
    let c = join(&w.app, &women, &w.worker).await;

    // Assert
    assert_eq!(error_code(a).await, (422, "gender_required".into()));
    assert_eq!(error_code(b).await, (422, "gender_required".into()));
    assert_eq!(c.status().as_u16(), 201);
    assert_eq!(rows(&w.app).await.len(), 1);
}

#[tokio::test]
async fn join_returns_201_for_a_union_a_league_and_a_womens_org_at_once() {
    // Arrange
    let w = world().await;
    let union = union_of_zhilian(&w, "open").await;
    let league = make_org(
        &w,
        org_body("league", "regional", w.park, &[w.zhilian, w.yunfan]),
    )
    .await;
    let women = make_org(&w, org_body("women", "single", w.park, &[w.zhilian])).await;

    // Act
    let statuses = [
        join(&w.app, &union, &w.worker).await.status().as_u16(),
        join(&w.app, &league, &w.worker).await.status().as_u16(),
        join(&w.app, &women, &w.worker).await.status().as_u16(),
    ];

    // Assert
    assert_eq!(statuses, [201, 201, 201]);
    assert_eq!(rows(&w.app).await.len(), 3);
}

#[tokio::test]
async fn join_returns_409_already_member_for_a_second_live_membership_and_201_after_leaving() {
    // Arrange
    let w = world().await;
    let open = union_of_zhilian(&w, "open").await;
    let approval = union_of_zhilian(&w, "approval").await;
    let (_, first) = status_json(join(&w.app, &open, &w.worker).await).await;
    join(&w.app, &approval, &w.worker).await;

    // Act
    let again_active = join(&w.app, &open, &w.worker).await;
    let again_pending = join(&w.app, &approval, &w.worker).await;
    let left = w
        .app
        .delete_auth(
            &format!("/api/v1/memberships/{}", id(&first)),
            &w.worker.access,
        )
        .await;
    let rejoin = join(&w.app, &open, &w.worker).await;

    // Assert
    assert_eq!(
        error_code(again_active).await,
        (409, "already_member".into())
    );
    assert_eq!(
        error_code(again_pending).await,
        (409, "already_member".into())
    );
    assert_eq!(left.status().as_u16(), 204);
    assert_eq!(rejoin.status().as_u16(), 201);
    let statuses: Vec<String> = rows(&w.app).await.into_iter().map(|m| m.status).collect();
    assert_eq!(statuses, vec!["left", "pending", "active"]);
}

#[tokio::test]
async fn join_returns_404_for_unknown_or_dissolved_orgs_and_4xx_for_bad_requests() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "open").await;
    let gone = union_of_zhilian(&w, "approval").await;
    w.app
        .exec(
            "UPDATE orgs SET dissolved_at = 1 WHERE id = ?",
            vec![id(&gone).into()],
        )
        .await;

    // Act + Assert
    assert_eq!(
        error_code(join(&w.app, &gone, &w.worker).await).await,
        (404, "not_found".into())
    );
    let unknown = w
        .app
        .post_auth(&format!("{ORGS}/999999/join"), &w.worker.access, &json!({}))
        .await;
    assert_eq!(error_code(unknown).await, (404, "not_found".into()));
    let extra = w
        .app
        .post_auth(
            &join_path(&org),
            &w.worker.access,
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(error_code(extra).await, (400, "bad_request".into()));
    let array = w
        .app
        .post_auth(&join_path(&org), &w.worker.access, &json!([]))
        .await;
    assert_eq!(error_code(array).await, (400, "bad_request".into()));
    let long_key = w
        .app
        .client
        .post(w.app.url(&join_path(&org)))
        .bearer_auth(&w.worker.access)
        .header("Idempotency-Key", "k".repeat(65))
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(long_key).await, (400, "bad_request".into()));
    let anonymous = w.app.post_json(&join_path(&org), &json!({})).await;
    assert_eq!(error_code(anonymous).await, (401, "unauthorized".into()));
    assert_eq!(rows(&w.app).await, vec![]);
}

#[tokio::test]
async fn join_creates_exactly_one_membership_when_one_person_joins_20_times_at_once() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "approval").await;

    // Act
    let results = join_all((0..20).map(|_| join(&w.app, &org, &w.worker))).await;

    // Assert
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    let mut expected = vec![201];
    expected.extend([409; 19]);
    assert_eq!(statuses, expected);
    assert_eq!(rows(&w.app).await.len(), 1);
}

#[tokio::test]
async fn join_makes_50_active_members_when_50_people_join_an_open_org_at_once() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "open").await;
    let people = join_all((0..50).map(|i| {
        let app = &w.app;
        async move { person(app, &format!("136{i:08}"), Some("工友"), None, None).await }
    }))
    .await;

    // Act
    let results = join_all(people.iter().map(|p| join(&w.app, &org, p))).await;

    // Assert
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, vec![201; 50]);
    let all = rows(&w.app).await;
    assert_eq!(all.len(), 50);
    assert!(
        all.iter()
            .all(|m| m.status == "active" && m.org_id == id(&org))
    );
}

#[tokio::test]
async fn join_with_the_same_idempotency_key_returns_the_first_body_and_creates_one_row() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "approval").await;
    let send = || {
        w.app
            .client
            .post(w.app.url(&join_path(&org)))
            .bearer_auth(&w.worker.access)
            .header("Idempotency-Key", "join-zl-1")
            .json(&json!({}))
            .send()
    };

    // Act
    let first = send().await.expect("first");
    let second = send().await.expect("second");
    let twins = join_all((0..10).map(|_| send())).await;

    // Assert
    assert_eq!(first.status().as_u16(), 201);
    let a: Value = first.json().await.expect("json");
    assert_eq!(second.status().as_u16(), 201);
    assert_eq!(
        second
            .headers()
            .get("Idempotent-Replayed")
            .map(|v| v.to_str().ok()),
        Some(Some("true"))
    );
    let b: Value = second.json().await.expect("json");
    assert_eq!(a, b);
    for t in twins {
        let t = t.expect("twin");
        assert_eq!(t.status().as_u16(), 201);
        assert_eq!(t.json::<Value>().await.expect("json"), a);
    }
    assert_eq!(rows(&w.app).await.len(), 1);
    // Without the key, the same request is a second live membership.
    assert_eq!(
        error_code(join(&w.app, &org, &w.worker).await).await,
        (409, "already_member".into())
    );
}

#[tokio::test]
async fn approve_returns_200_active_once_and_409_invalid_transition_after() {
    // Arrange
    let w = world().await;
    let (_, p, mid) = pending(&w).await;

    // Act
    let (status, body) = status_json(approve(&w.app, &w.hefei_admin.access, mid).await).await;
    let again = approve(&w.app, &w.hefei_admin.access, mid).await;
    let reject_active = reject(
        &w.app,
        &w.hefei_admin.access,
        mid,
        &json!({"reason": "晚了"}),
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(body["user_id"], p.user_id);
    assert_eq!(error_code(again).await, (409, "invalid_transition".into()));
    assert_eq!(
        error_code(reject_active).await,
        (409, "invalid_transition".into())
    );
    let row = &rows(&w.app).await[0];
    assert_eq!(
        (row.status.as_str(), row.decided_by),
        ("active", Some(w.hefei_admin.user_id))
    );
    assert!(row.decided_at.is_some());
    let entries = w.app.audit("membership.approve").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].target, format!("membership:{mid}"));
    assert_eq!(entries[0].actor_user_id, Some(w.hefei_admin.user_id));
    assert!(w.app.audit("membership.reject").await.is_empty());
}

#[tokio::test]
async fn reject_returns_200_with_the_reason_and_422_or_400_when_the_reason_is_bad() {
    // Arrange
    let w = world().await;
    let (org, p, mid) = pending(&w).await;
    let officer = org_admin(&w, "13700000001", id(&org)).await;

    for (body, status, code) in [
        (json!({}), 400, "bad_request"),
        (json!({"reason": null}), 400, "bad_request"),
        (json!({"reason": 5}), 400, "bad_request"),
        (json!({"reason": ""}), 422, "invalid_reason"),
        (json!({"reason": "  "}), 422, "invalid_reason"),
        (json!({"reason": "字".repeat(501)}), 422, "invalid_reason"),
        (json!({"reason": "x", "other": 1}), 400, "bad_request"),
    ] {
        // Act
        let res = reject(&w.app, &officer.access, mid, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (status, code.into()), "{body}");
    }
    assert_eq!(rows(&w.app).await[0].status, "pending");

    // Act
    let (status, body) = status_json(
        reject(
            &w.app,
            &officer.access,
            mid,
            &json!({"reason": " 不在本单位工作 "}),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected");
    let (_, mine) = status_json(w.app.get_auth(MY, &p.access).await).await;
    assert_eq!(mine["items"][0]["reason"], "不在本单位工作");
    assert_eq!(mine["items"][0]["status"], "rejected");
    assert_eq!(w.app.audit("membership.reject").await.len(), 1);
    // A rejected person may ask again.
    assert_eq!(join(&w.app, &org, &p).await.status().as_u16(), 201);
}

#[tokio::test]
async fn approve_and_reject_return_404_to_anyone_but_the_orgs_admins() {
    // Arrange
    let w = world().await;
    let (_, p, mid) = pending(&w).await;
    let other = make_org(&w, org_body("union", "online", w.county, &[w.platform])).await;
    let other_officer = org_admin(&w, "13700000002", id(&other)).await;
    let county_admin = w
        .app
        .login_with_role("13800000003", "admin", &format!("region:{}", w.county))
        .await;

    for (who, token) in [
        ("member", &p.access),
        ("worker", &w.worker.access),
        ("wuhu admin", &w.wuhu_admin.access),
        ("other officer", &other_officer.access),
        ("county admin, org in the park", &county_admin.access),
    ] {
        // Act
        let a = approve(&w.app, token, mid).await;
        let r = reject(&w.app, token, mid, &json!({"reason": "no"})).await;

        // Assert
        assert_eq!(error_code(a).await, (404, "not_found".into()), "{who}");
        assert_eq!(error_code(r).await, (404, "not_found".into()), "{who}");
    }
    for bad in ["999999", "abc"] {
        let res = w
            .app
            .post_auth(
                &format!("/api/v1/memberships/{bad}/approve"),
                &w.hefei_admin.access,
                &json!({}),
            )
            .await;
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    assert_eq!(rows(&w.app).await[0].status, "pending");
    assert!(w.app.audit("membership.approve").await.is_empty());
}

#[tokio::test]
async fn delete_returns_204_left_for_the_member_and_removed_for_an_admin_and_404_for_others() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "open").await;
    let (_, mine) = status_json(join(&w.app, &org, &w.worker).await).await;
    let other = person(&w.app, "13900000050", Some("吴十"), Some("male"), None).await;
    let (_, theirs) = status_json(join(&w.app, &org, &other).await).await;
    let stranger = person(&w.app, "13900000051", Some("郑一"), Some("male"), None).await;
    let officer = org_admin(&w, "13700000001", id(&org)).await;
    let path = |m: &Value| format!("/api/v1/memberships/{}", id(m));

    // Act
    let by_stranger = w.app.delete_auth(&path(&theirs), &stranger.access).await;
    let by_wuhu = w
        .app
        .delete_auth(&path(&theirs), &w.wuhu_admin.access)
        .await;
    let leave = w.app.delete_auth(&path(&mine), &w.worker.access).await;
    let leave_again = w.app.delete_auth(&path(&mine), &w.worker.access).await;
    let bad_body = w
        .app
        .client
        .delete(w.app.url(&path(&theirs)))
        .bearer_auth(&officer.access)
        .header("content-type", "application/json")
        .body("[1]")
        .send()
        .await
        .expect("request");
    let remove = w
        .app
        .client
        .delete(w.app.url(&path(&theirs)))
        .bearer_auth(&officer.access)
        .json(&json!({ "reason": "已离职" }))
        .send()
        .await
        .expect("request");
    let remove_again = w.app.delete_auth(&path(&theirs), &officer.access).await;

    // Assert
    assert_eq!(error_code(by_stranger).await, (404, "not_found".into()));
    assert_eq!(error_code(by_wuhu).await, (404, "not_found".into()));
    assert_eq!(leave.status().as_u16(), 204);
    assert_eq!(
        error_code(leave_again).await,
        (409, "invalid_transition".into())
    );
    assert_eq!(error_code(bad_body).await, (400, "bad_request".into()));
    assert_eq!(remove.status().as_u16(), 204);
    assert_eq!(
        error_code(remove_again).await,
        (409, "invalid_transition".into())
    );
    let all = rows(&w.app).await;
    assert_eq!(
        (all[0].status.as_str(), all[0].reason.as_deref()),
        ("left", None)
    );
    assert_eq!(
        (all[1].status.as_str(), all[1].reason.as_deref()),
        ("removed", Some("已离职"))
    );
    assert!(all.iter().all(|m| m.ended_at.is_some()));
    let entries = w.app.audit("membership.remove").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_user_id, Some(officer.user_id));
}

#[tokio::test]
async fn members_returns_full_phones_to_the_orgs_admins_filtered_by_status_and_404_to_others() {
    // Arrange
    let w = world().await;
    let (org, p, _) = pending(&w).await;
    let q = person(&w.app, "13900000060", Some("冯二"), Some("female"), None).await;
    let (_, qm) = status_json(join(&w.app, &org, &q).await).await;
    approve(&w.app, &w.hefei_admin.access, id(&qm)).await;
    let officer = org_admin(&w, "13700000001", id(&org)).await;
    let path = format!("{ORGS}/{}/members", id(&org));

    // Act
    let (status, all) = status_json(w.app.get_auth(&path, &officer.access).await).await;
    let (_, active) = status_json(
        w.app
            .get_auth(&format!("{path}?status=active"), &w.hefei_admin.access)
            .await,
    )
    .await;
    let (_, paged) = status_json(
        w.app
            .get_auth(&format!("{path}?limit=1"), &officer.access)
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["user_id"], p.user_id);
    assert_eq!(items[0]["name"], "赵六");
    assert_eq!(items[0]["phone"], "13900000010");
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[1]["gender"], "female");
    assert!(items[1]["decided_at"].is_string());
    assert_eq!(active["items"].as_array().expect("items").len(), 1);
    assert_eq!(active["items"][0]["user_id"], q.user_id);
    assert_eq!(paged["items"].as_array().expect("items").len(), 1);
    assert!(paged["next_cursor"].is_string());
    assert!(
        !w.app.audit("org.members.read").await.is_empty(),
        "full phones read are audited"
    );
    for (who, token) in [
        ("member", &p.access),
        ("worker", &w.worker.access),
        ("wuhu admin", &w.wuhu_admin.access),
    ] {
        let res = w.app.get_auth(&path, token).await;
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{who}");
    }
    for bad in ["?status=gone", "?limit=0", "?cursor=-1"] {
        let res = w
            .app
            .get_auth(&format!("{path}{bad}"), &officer.access)
            .await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{bad}");
    }
}

#[tokio::test]
async fn leaders_returns_201_for_an_active_member_and_lists_names_and_positions_without_phones() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "open").await;
    join(&w.app, &org, &w.worker).await;
    let officer = org_admin(&w, "13700000001", id(&org)).await;
    let path = format!("{ORGS}/{}/leaders", id(&org));

    // Act
    let (status, leader) = status_json(
        w.app
            .post_auth(
                &path,
                &officer.access,
                &json!({ "user_id": w.worker.user_id, "position": " 工会主席 " }),
            )
            .await,
    )
    .await;
    let duplicate = w
        .app
        .post_auth(
            &path,
            &officer.access,
            &json!({ "user_id": w.worker.user_id, "position": "委员" }),
        )
        .await;
    let (list_status, list) = status_json(w.app.get_auth(&path, &w.wuhu_admin.access).await).await;

    // Assert
    assert_eq!(status, 201, "{leader}");
    assert_eq!(
        leader,
        json!({ "id": leader["id"], "org_id": id(&org), "user_id": w.worker.user_id, "name": "李小梅", "position": "工会主席" })
    );
    assert_eq!(error_code(duplicate).await, (409, "already_leader".into()));
    assert_eq!(list_status, 200);
    assert_eq!(list["items"], json!([leader]));
    assert!(
        !list.to_string().contains("1390000"),
        "no phones in the leader list"
    );
    assert_eq!(w.app.audit("org.leader.add").await.len(), 1);

    // Act: removal
    let by_worker = w
        .app
        .delete_auth(&format!("{path}/{}", id(&leader)), &w.worker.access)
        .await;
    let removed = w
        .app
        .delete_auth(&format!("{path}/{}", id(&leader)), &officer.access)
        .await;
    let again = w
        .app
        .delete_auth(&format!("{path}/{}", id(&leader)), &officer.access)
        .await;

    // Assert
    assert_eq!(error_code(by_worker).await, (404, "not_found".into()));
    assert_eq!(removed.status().as_u16(), 204);
    assert_eq!(error_code(again).await, (404, "not_found".into()));
    assert_eq!(w.app.count::<leaders::Entity>().await, 0);
    assert_eq!(w.app.audit("org.leader.remove").await.len(), 1);
}

#[tokio::test]
async fn leaders_returns_422_or_404_when_the_person_position_or_caller_does_not_fit() {
    // Arrange
    let w = world().await;
    let (org, pending_person, _) = pending(&w).await;
    let other = make_org(&w, {
        let mut b = org_body("union", "online", w.county, &[w.platform]);
        b["join_policy"] = json!("open");
        b
    })
    .await;
    let other_officer = org_admin(&w, "13700000002", id(&other)).await;
    join(&w.app, &other, &w.worker).await;
    let (_, other_leader) = status_json(
        w.app
            .post_auth(
                &format!("{ORGS}/{}/leaders", id(&other)),
                &other_officer.access,
                &json!({ "user_id": w.worker.user_id, "position": "主席" }),
            )
            .await,
    )
    .await;
    let path = format!("{ORGS}/{}/leaders", id(&org));
    let admin = &w.hefei_admin.access;

    for (body, status, code) in [
        (
            json!({ "user_id": pending_person.user_id, "position": "主席" }),
            422,
            "not_member",
        ),
        (
            json!({ "user_id": w.worker.user_id, "position": "主席" }),
            422,
            "not_member",
        ),
        (
            json!({ "user_id": 999_999, "position": "主席" }),
            422,
            "not_member",
        ),
        (
            json!({ "user_id": w.worker.user_id, "position": "" }),
            422,
            "invalid_position",
        ),
        (
            json!({ "user_id": w.worker.user_id, "position": "职".repeat(51) }),
            422,
            "invalid_position",
        ),
        (json!({ "user_id": w.worker.user_id }), 400, "bad_request"),
        (
            json!({ "user_id": "x", "position": "主席" }),
            400,
            "bad_request",
        ),
    ] {
        // Act
        let res = w.app.post_auth(&path, admin, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (status, code.into()), "{body}");
    }
    let by_other_officer = w
        .app
        .post_auth(
            &path,
            &other_officer.access,
            &json!({ "user_id": pending_person.user_id, "position": "主席" }),
        )
        .await;
    assert_eq!(
        error_code(by_other_officer).await,
        (404, "not_found".into())
    );
    // A leader of another org cannot be removed through this org's path.
    let cross = w
        .app
        .delete_auth(&format!("{path}/{}", id(&other_leader)), admin)
        .await;
    assert_eq!(error_code(cross).await, (404, "not_found".into()));
    assert_eq!(w.app.count::<leaders::Entity>().await, 1);
    let unknown = w
        .app
        .get_auth(&format!("{ORGS}/999999/leaders"), &w.worker.access)
        .await;
    assert_eq!(error_code(unknown).await, (404, "not_found".into()));
}

#[tokio::test]
async fn leaving_ends_the_persons_leader_post() {
    // Arrange
    let w = world().await;
    let org = union_of_zhilian(&w, "open").await;
    let (_, m) = status_json(join(&w.app, &org, &w.worker).await).await;
    let res = w
        .app
        .post_auth(
            &format!("{ORGS}/{}/leaders", id(&org)),
            &w.hefei_admin.access,
            &json!({ "user_id": w.worker.user_id, "position": "主席" }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);

    // Act
    let left = w
        .app
        .delete_auth(&format!("/api/v1/memberships/{}", id(&m)), &w.worker.access)
        .await;

    // Assert
    assert_eq!(left.status().as_u16(), 204);
    assert_eq!(w.app.count::<leaders::Entity>().await, 0);
}

#[tokio::test]
async fn delete_me_ends_live_memberships_and_leader_posts_of_the_deleted_person() {
    // Arrange: the worker is an active member and a leader of one org, pending in another.
    let w = world().await;
    let open = union_of_zhilian(&w, "open").await;
    let approval = union_of_zhilian(&w, "approval").await;
    assert_eq!(join(&w.app, &open, &w.worker).await.status().as_u16(), 201);
    assert_eq!(
        join(&w.app, &approval, &w.worker).await.status().as_u16(),
        201
    );
    let leader = w
        .app
        .post_auth(
            &format!("{ORGS}/{}/leaders", id(&open)),
            &w.hefei_admin.access,
            &json!({ "user_id": w.worker.user_id, "position": "主席" }),
        )
        .await;
    assert_eq!(leader.status().as_u16(), 201);

    // Act
    let res = w.app.delete_auth("/api/v1/me", &w.worker.access).await;

    // Assert: history kept, nothing live.
    assert_eq!(res.status().as_u16(), 202);
    let mine: Vec<_> = rows(&w.app)
        .await
        .into_iter()
        .filter(|m| m.user_id == w.worker.user_id)
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(
        mine.iter()
            .all(|m| m.status == "left" && m.ended_at.is_some()),
        "{mine:?}"
    );
    let posts = leaders::Entity::find()
        .filter(leaders::Column::UserId.eq(w.worker.user_id))
        .all(&w.app.state.db)
        .await
        .expect("leaders");
    assert_eq!(posts, vec![]);
}
