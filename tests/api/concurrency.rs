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
