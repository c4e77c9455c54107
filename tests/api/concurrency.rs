//! Many writes at once on one database: no error, no lost write, and the
//! single-use and once-a-minute rules hold under a race.
use futures_util::future::join_all;
use qunjia::entity::{refresh_tokens, roles, users};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{LOGOUT, OTP, Session, TestApp, error_code, spawn_app};

const PEOPLE: usize = 200;

fn phone(i: usize) -> String {
    format!("137{:08}", i)
}

/// Asks for a code and logs in; returns both statuses and the session when it worked.
async fn try_login(app: &TestApp, phone: String) -> (u16, u16, Option<Session>) {
    let otp = app.post_json(OTP, &json!({ "phone": phone })).await;
    let otp_status = otp.status().as_u16();
    let Some(code) = app.gateway.last_code(&phone) else {
        return (otp_status, 0, None);
    };
    let (status, body) = status_json(app.login_raw(&phone, &code).await).await;
    let session = (status == 200).then(|| Session {
        user_id: body["user"]["id"].as_i64().expect("id"),
        phone: phone.clone(),
        access: body["access_token"].as_str().expect("access").into(),
        refresh: body["refresh_token"].as_str().expect("refresh").into(),
    });
    (otp_status, status, session)
}

/// Logs `PEOPLE` different phones in at once and checks every one succeeded.
async fn everyone_logs_in(app: &TestApp) -> Vec<Session> {
    let results = join_all((0..PEOPLE).map(|i| try_login(app, phone(i)))).await;
    let failed: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| (r.0, r.1) != (202, 200))
        .map(|(i, r)| (i, r.0, r.1))
        .collect();
    assert_eq!(failed, vec![], "(person, otp status, login status)");
    results.into_iter().filter_map(|r| r.2).collect()
}

#[tokio::test]
async fn login_returns_200_for_200_people_when_they_all_log_in_at_once() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let sessions = everyone_logs_in(&app).await;

    // Assert
    assert_eq!(sessions.len(), PEOPLE);
    let mut ids: Vec<i64> = sessions.iter().map(|s| s.user_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), PEOPLE, "one account each");
    assert_eq!(app.count::<users::Entity>().await, PEOPLE as u64);
    assert_eq!(app.count::<refresh_tokens::Entity>().await, PEOPLE as u64);
    let rows = users::Entity::find()
        .all(&app.state.db)
        .await
        .expect("users");
    for s in &sessions {
        let row = rows.iter().find(|u| u.id == s.user_id).expect("row");
        assert_eq!(row.phone.as_deref(), Some(s.phone.as_str()));
    }
}

#[tokio::test]
async fn patch_me_returns_200_for_200_people_when_they_all_write_at_once() {
    // Arrange
    let app = spawn_app().await;
    let sessions = everyone_logs_in(&app).await;

    // Act
    let results = join_all(sessions.iter().enumerate().map(|(i, s)| {
        let app = &app;
        async move {
            let body =
                json!({ "name": format!("用户{i}"), "platform": "美团", "gender": "female" });
            status_json(app.patch_auth("/api/v1/me", &s.access, &body).await).await
        }
    }))
    .await;

    // Assert
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert_eq!(statuses, vec![200; PEOPLE]);
    for (i, (s, (_, body))) in sessions.iter().zip(&results).enumerate() {
        assert_eq!(body["id"], s.user_id);
        assert_eq!(body["name"], format!("用户{i}"));
    }
    let rows = users::Entity::find()
        .all(&app.state.db)
        .await
        .expect("users");
    for (i, s) in sessions.iter().enumerate() {
        let row = rows.iter().find(|u| u.id == s.user_id).expect("row");
        assert_eq!(
            row.name,
            Some(format!("用户{i}")),
            "write of person {i} kept"
        );
        assert_eq!(row.platform.as_deref(), Some("美团"));
    }
}

#[tokio::test]
async fn refresh_returns_200_exactly_once_when_one_token_is_presented_10_times_at_once() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;

    // Act
    let results =
        join_all((0..10).map(|_| async { status_json(app.refresh(&s.refresh).await).await })).await;

    // Assert
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (status, body) in results.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(
            (*status, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );
    }
    // Nine replays of a used token: the whole login is revoked, the winner's new token too.
    let newest = winners[0]["refresh_token"].as_str().expect("refresh");
    let res = app.refresh(newest).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    let alive = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .all(&app.state.db)
        .await
        .expect("tokens");
    assert_eq!(alive, vec![]);
}

#[tokio::test]
async fn logout_leaves_no_token_alive_when_it_races_a_refresh_of_the_same_login() {
    let app = spawn_app().await;
    for round in 0..10 {
        // Arrange
        let s = app.login(&phone(round)).await;

        // Act: refresh and logout with the same token at the same moment.
        let (refreshed, logged_out) = tokio::join!(
            async { status_json(app.refresh(&s.refresh).await).await },
            async {
                app.post_json(LOGOUT, &json!({ "refresh_token": s.refresh }))
                    .await
                    .status()
                    .as_u16()
            }
        );

        // Assert: whatever order they ran in, the login is over.
        assert_eq!(logged_out, 204, "round {round}");
        if refreshed.0 == 200 {
            let newest = refreshed.1["refresh_token"].as_str().expect("refresh");
            let res = app.refresh(newest).await;
            assert_eq!(
                error_code(res).await,
                (401, "unauthorized".into()),
                "round {round}"
            );
        }
        let alive = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::UserId.eq(s.user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .all(&app.state.db)
            .await
            .expect("tokens");
        assert_eq!(alive, vec![], "round {round}");
    }
}

#[tokio::test]
async fn otp_returns_202_exactly_once_when_one_phone_asks_20_times_at_once() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let results = join_all((0..20).map(|_| async {
        error_code(app.post_json(OTP, &json!({ "phone": "13812345678" })).await).await
    }))
    .await;

    // Assert
    let accepted = results.iter().filter(|(s, _)| *s == 202).count();
    assert_eq!(accepted, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| r.0 == 202 || *r == (429, "rate_limited".into())),
        "{results:?}"
    );
    assert_eq!(app.gateway.count(), 1);
}

#[tokio::test]
async fn grant_returns_201_exactly_once_when_one_role_is_granted_10_times_at_once() {
    // Arrange
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;
    let admin = app
        .login_with_role("13800000001", "admin", &format!("region:{hefei}"))
        .await;
    let body =
        json!({ "phone": "13900000009", "role": "admin", "scope": format!("region:{hefei}") });

    // Act
    let results = join_all((0..10).map(|_| async {
        error_code(app.post_auth("/api/v1/roles", &admin.access, &body).await).await
    }))
    .await;

    // Assert
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| r.0 == 201 || *r == (409, "already_granted".into())),
        "{results:?}"
    );
    let people = users::Entity::find()
        .filter(users::Column::Phone.eq("13900000009"))
        .all(&app.state.db)
        .await
        .expect("users");
    assert_eq!(people.len(), 1);
    assert_eq!(app.count::<roles::Entity>().await, 2);
}

/// A status and body that must be a 2xx and never the database's lock error.
fn no_lock_error(what: &str, status: u16, body: &Value) {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
    assert!(!body.to_string().contains("locked"), "{what}: {body}");
}

#[tokio::test]
async fn reads_and_writes_return_2xx_for_200_people_at_once_and_each_read_sees_the_write_before_it()
{
    // Arrange: an open union and 200 people with a name (logged in one by one would be slow).
    let w = crate::orgs::world().await;
    let org = crate::orgs::union_of_zhilian(&w, "open").await;
    let org_id = crate::orgs::id(&org);
    let people = join_all((0..PEOPLE).map(|i| {
        let app = &w.app;
        async move { crate::orgs::person(app, &phone(i), Some("工友"), None, None).await }
    }))
    .await;

    // Act: at once, each person joins, reads their memberships, renames themselves,
    // reads /me; half of them also read /me before writing anything.
    let app = &w.app;
    let results = join_all(people.iter().enumerate().map(|(i, s)| async move {
        if i % 2 == 0 {
            let (status, body) = status_json(app.get_auth("/api/v1/me", &s.access).await).await;
            no_lock_error("first GET /me", status, &body);
        }
        let (status, body) = status_json(
            app.post_auth(
                &format!("/api/v1/orgs/{org_id}/join"),
                &s.access,
                &json!({}),
            )
            .await,
        )
        .await;
        no_lock_error("join", status, &body);
        let (status, mine) =
            status_json(app.get_auth("/api/v1/me/memberships", &s.access).await).await;
        no_lock_error("GET /me/memberships", status, &mine);
        let name = format!("工友{i}");
        let (status, body) = status_json(
            app.patch_auth("/api/v1/me", &s.access, &json!({ "name": name }))
                .await,
        )
        .await;
        no_lock_error("PATCH /me", status, &body);
        let (status, me) = status_json(app.get_auth("/api/v1/me", &s.access).await).await;
        no_lock_error("GET /me", status, &me);
        (mine, me)
    }))
    .await;

    // Assert: every read after a 2xx write saw it.
    for (i, (mine, me)) in results.iter().enumerate() {
        let orgs: Vec<i64> = mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|m| m["org_id"].as_i64())
            .collect();
        assert_eq!(orgs, vec![org_id], "person {i}: {mine}");
        assert_eq!(me["name"], format!("工友{i}"), "person {i}");
    }
    let rows = qunjia::entity::memberships::Entity::find()
        .filter(qunjia::entity::memberships::Column::OrgId.eq(org_id))
        .all(&app.state.db)
        .await
        .expect("memberships");
    assert_eq!(rows.len(), PEOPLE);
}

#[tokio::test]
async fn patch_me_returns_200_with_its_write_and_get_me_sees_it_at_once() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;

    for round in 0..20 {
        // Act: a write whose answer is read back by the same request, then a read.
        let name = format!("改名{round}");
        let (status, patched) = status_json(
            app.patch_auth("/api/v1/me", &s.access, &json!({ "name": name }))
                .await,
        )
        .await;
        let (_, me) = status_json(app.get_auth("/api/v1/me", &s.access).await).await;

        // Assert
        assert_eq!(status, 200, "round {round}: {patched}");
        assert_eq!(patched["name"], name, "round {round}");
        assert_eq!(me["name"], name, "round {round}");
    }
}

#[tokio::test]
async fn me_returns_200_at_once_while_a_long_write_transaction_holds_the_writer() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    // Arrange: a person, and a transaction that has written and stays open, holding the
    // writer (on SQLite the one writer connection and the write lock).
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let txn = app.state.db.begin().await.expect("begin");
    txn.execute_raw(qunjia::db::stmt(
        app.state.db.get_database_backend(),
        "UPDATE users SET name = ? WHERE id = ?",
        vec!["未提交".into(), s.user_id.into()],
    ))
    .await
    .expect("write inside the transaction");

    // Act: reads while the writer is held; a write that must wait for it.
    let timely = tokio::time::Duration::from_secs(5);
    let me = tokio::time::timeout(timely, app.get_auth("/api/v1/me", &s.access))
        .await
        .expect("GET /me answers while the writer is held");
    let mine = tokio::time::timeout(timely, app.get_auth("/api/v1/me/memberships", &s.access))
        .await
        .expect("GET /me/memberships answers while the writer is held");
    let patch = tokio::spawn({
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/me"), s.access.clone());
        async move {
            client
                .patch(url)
                .bearer_auth(token)
                .json(&json!({ "name": "提交后" }))
                .send()
                .await
                .expect("patch")
        }
    });

    // Assert: the reads answered and never saw the uncommitted write.
    let (status, me) = status_json(me).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], Value::Null, "no uncommitted write is read");
    assert_eq!(mine.status(), 200);
    txn.commit().await.expect("commit");
    let (status, patched) = status_json(patch.await.expect("patch task")).await;
    assert_eq!(status, 200, "the waiting write goes through: {patched}");
    assert_eq!(patched["name"], "提交后");
}

#[tokio::test]
async fn readers_refuse_a_write_on_sqlite() {
    use sea_orm::ConnectionTrait;
    // Arrange
    let app = spawn_app().await;
    if app.db.is_postgres() {
        // PostgreSQL reads from the writer's own pool.
        return;
    }
    app.login("13812345678").await;

    // Act
    let write = app
        .state
        .read
        .execute_unprepared("UPDATE users SET name = 'x'")
        .await;

    // Assert
    let err = write.expect_err("a reader must not write").to_string();
    assert!(
        err.contains("readonly") || err.contains("read-only") || err.contains("query_only"),
        "{err}"
    );
    let names = users::Entity::find()
        .all(&app.state.db)
        .await
        .expect("users");
    assert!(names.iter().all(|u| u.name.as_deref() != Some("x")));
}
