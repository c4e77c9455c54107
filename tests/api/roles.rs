//! API.md "People": `POST /roles` and `DELETE /roles/{id}`, and their audit entries.
use qunjia::entity::{audit_log, roles, users};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{Session, TestApp, error_code, spawn_app};

const ROLES: &str = "/api/v1/roles";
const GRANTEE: &str = "13900000009";

/// A region world: the province, Hefei and Wuhu, with an admin of Hefei.
struct World {
    app: TestApp,
    province: i64,
    hefei: i64,
    wuhu: i64,
    hefei_admin: Session,
}

async fn world() -> World {
    let app = spawn_app().await;
    let province = app.region_id("340000").await;
    let hefei = app.region_id("340100").await;
    let wuhu = app.region_id("340200").await;
    let hefei_admin = app
        .login_with_role("13800000001", "admin", &format!("region:{hefei}"))
        .await;
    World {
        app,
        province,
        hefei,
        wuhu,
        hefei_admin,
    }
}

/// A county under Hefei, created through the API by the Hefei admin.
async fn county(w: &World) -> i64 {
    let res = w
        .app
        .post_auth(
            "/api/v1/regions",
            &w.hefei_admin.access,
            &json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": w.hefei }),
        )
        .await;
    let (status, body) = status_json(res).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

async fn grant(
    app: &TestApp,
    token: &str,
    phone: &str,
    role: &str,
    scope: &str,
) -> reqwest::Response {
    app.post_auth(
        ROLES,
        token,
        &json!({ "phone": phone, "role": role, "scope": scope }),
    )
    .await
}

async fn user_by_phone(app: &TestApp, phone: &str) -> Option<users::Model> {
    users::Entity::find()
        .filter(users::Column::Phone.eq(phone))
        .one(&app.state.db)
        .await
        .expect("select")
}

#[tokio::test]
async fn grant_returns_201_and_creates_the_person_when_a_city_admin_grants_in_its_subtree() {
    // Arrange
    let w = world().await;
    let county = county(&w).await;
    let scope = format!("region:{county}");
    assert!(user_by_phone(&w.app, GRANTEE).await.is_none());

    // Act
    let res = grant(
        &w.app,
        &w.hefei_admin.access,
        "139-0000-0009",
        "admin",
        &scope,
    )
    .await;

    // Assert
    let (status, body) = status_json(res).await;
    assert_eq!(status, 201, "{body}");
    let grantee = user_by_phone(&w.app, GRANTEE)
        .await
        .expect("person created");
    assert_eq!(
        body,
        json!({ "id": body["id"], "user_id": grantee.id, "role": "admin", "scope": scope })
    );
    let row = roles::Entity::find_by_id(body["id"].as_i64().expect("id"))
        .one(&w.app.state.db)
        .await
        .expect("select")
        .expect("role row");
    assert_eq!(
        (
            row.user_id,
            row.role.as_str(),
            row.scope.as_str(),
            row.granted_by
        ),
        (
            grantee.id,
            "admin",
            scope.as_str(),
            Some(w.hefei_admin.user_id)
        )
    );
    let entries = w.app.audit("role.grant").await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.actor_user_id, Some(w.hefei_admin.user_id));
    assert_eq!(e.target, format!("user:{}", grantee.id));
    assert_eq!(e.region_id, Some(county));
    assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
    let detail: Value = serde_json::from_str(e.detail.as_deref().expect("detail")).expect("json");
    assert_eq!(detail, json!({ "role": "admin", "scope": scope }));
    // The person logs in to the account the grant created, and sees the role.
    let code = w.app.request_code(GRANTEE).await;
    let (_, login) = status_json(w.app.login_raw(GRANTEE, &code).await).await;
    assert_eq!(login["new_user"], false);
    assert_eq!(login["user"]["id"], grantee.id);
    let access = login["access_token"].as_str().expect("access");
    let (_, me) = status_json(w.app.get_auth("/api/v1/me", access).await).await;
    assert_eq!(me["roles"], json!([{ "role": "admin", "scope": scope }]));
}

#[tokio::test]
async fn grant_returns_201_for_an_existing_person_without_creating_another() {
    // Arrange
    let w = world().await;
    let person = w.app.login(GRANTEE).await;

    // Act
    let res = grant(
        &w.app,
        &w.hefei_admin.access,
        GRANTEE,
        "admin",
        &format!("region:{}", w.hefei),
    )
    .await;

    // Assert
    let (status, body) = status_json(res).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user_id"], person.user_id);
    assert_eq!(w.app.count::<users::Entity>().await, 2);
    let (_, me) = status_json(w.app.get_auth("/api/v1/me", &person.access).await).await;
    assert_eq!(
        me["roles"],
        json!([{ "role": "admin", "scope": format!("region:{}", w.hefei) }])
    );
}

#[tokio::test]
async fn grant_returns_403_when_a_city_admin_grants_on_the_province_or_another_city() {
    // Arrange
    let w = world().await;

    for region in [w.province, w.wuhu] {
        // Act
        let res = grant(
            &w.app,
            &w.hefei_admin.access,
            GRANTEE,
            "admin",
            &format!("region:{region}"),
        )
        .await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (403, "forbidden".into()),
            "region {region}"
        );
    }
    assert!(
        user_by_phone(&w.app, GRANTEE).await.is_none(),
        "nobody created"
    );
    assert_eq!(w.app.count::<roles::Entity>().await, 1);
    assert_eq!(w.app.count::<audit_log::Entity>().await, 0);
}

#[tokio::test]
async fn grant_returns_403_when_caller_is_not_an_admin_over_the_scope() {
    // Arrange
    let w = world().await;
    let county = county(&w).await;
    let county_admin = w
        .app
        .login_with_role("13800000002", "admin", &format!("region:{county}"))
        .await;
    let nobody = w.app.login("13800000003").await;
    let before = w.app.count::<roles::Entity>().await;

    // Act
    let plain = grant(
        &w.app,
        &nobody.access,
        GRANTEE,
        "admin",
        &format!("region:{county}"),
    )
    .await;
    let upwards = grant(
        &w.app,
        &county_admin.access,
        GRANTEE,
        "admin",
        &format!("region:{}", w.hefei),
    )
    .await;

    // Assert
    assert_eq!(error_code(plain).await, (403, "forbidden".into()));
    assert_eq!(error_code(upwards).await, (403, "forbidden".into()));
    assert_eq!(w.app.count::<roles::Entity>().await, before);
    assert!(user_by_phone(&w.app, GRANTEE).await.is_none());
    assert_eq!(w.app.audit("role.grant").await, vec![]);
}

#[tokio::test]
async fn grant_returns_409_already_granted_when_the_person_has_the_role() {
    // Arrange
    let w = world().await;
    let scope = format!("region:{}", w.hefei);
    let first = grant(&w.app, &w.hefei_admin.access, GRANTEE, "admin", &scope).await;
    assert_eq!(first.status().as_u16(), 201);

    // Act
    let res = grant(&w.app, &w.hefei_admin.access, GRANTEE, "admin", &scope).await;

    // Assert
    assert_eq!(error_code(res).await, (409, "already_granted".into()));
    assert_eq!(w.app.count::<roles::Entity>().await, 2);
    assert_eq!(w.app.audit("role.grant").await.len(), 1);
}

#[tokio::test]
async fn grant_returns_422_when_role_scope_or_phone_is_invalid() {
    // Arrange
    let w = world().await;
    let hefei = format!("region:{}", w.hefei);
    let cases = [
        (GRANTEE, "superuser", hefei.as_str(), "invalid_role"),
        (GRANTEE, "Admin", hefei.as_str(), "invalid_role"),
        (GRANTEE, "", hefei.as_str(), "invalid_role"),
        (GRANTEE, "admin", "region:abc", "invalid_scope"),
        (GRANTEE, "admin", "region:", "invalid_scope"),
        (GRANTEE, "admin", "region:0", "invalid_scope"),
        (GRANTEE, "admin", "region:-2", "invalid_scope"),
        (GRANTEE, "admin", "city:2", "invalid_scope"),
        (GRANTEE, "admin", "", "invalid_scope"),
        // A role on the wrong kind of scope.
        (GRANTEE, "admin", "org:1", "invalid_scope"),
        (GRANTEE, "org_admin", hefei.as_str(), "invalid_scope"),
        (GRANTEE, "party_admin", hefei.as_str(), "invalid_scope"),
        // A scope that names nothing.
        (GRANTEE, "admin", "region:999999", "invalid_scope"),
        (GRANTEE, "org_admin", "org:999999", "invalid_scope"),
        ("12345", "admin", hefei.as_str(), "invalid_phone"),
        ("+1 555 0100", "admin", hefei.as_str(), "invalid_phone"),
    ];

    for (phone, role, scope, code) in cases {
        // Act
        let res = grant(&w.app, &w.hefei_admin.access, phone, role, scope).await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (422, code.to_owned()),
            "{phone} {role} {scope}"
        );
    }
    assert_eq!(w.app.count::<roles::Entity>().await, 1);
    assert_eq!(w.app.count::<users::Entity>().await, 1);
    assert_eq!(w.app.count::<audit_log::Entity>().await, 0);
}

#[tokio::test]
async fn grant_returns_400_when_body_is_malformed() {
    // Arrange
    let w = world().await;
    let bodies = [
        json!({ "phone": GRANTEE, "role": "admin" }),
        json!({ "phone": GRANTEE, "role": "admin", "scope": 2 }),
        json!([]),
    ];

    for body in bodies {
        // Act
        let res = w.app.post_auth(ROLES, &w.hefei_admin.access, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{body}");
    }
    assert_eq!(w.app.count::<roles::Entity>().await, 1);
}

#[tokio::test]
async fn grant_returns_401_when_not_logged_in() {
    // Arrange
    let w = world().await;

    // Act
    let res = w
        .app
        .post_json(
            ROLES,
            &json!({ "phone": GRANTEE, "role": "admin", "scope": format!("region:{}", w.hefei) }),
        )
        .await;

    // Assert
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    assert!(user_by_phone(&w.app, GRANTEE).await.is_none());
}

#[tokio::test]
async fn revoke_returns_204_and_removes_the_role_when_caller_is_a_covering_admin() {
    // Arrange
    let w = world().await;
    let county = county(&w).await;
    let res = grant(
        &w.app,
        &w.hefei_admin.access,
        GRANTEE,
        "admin",
        &format!("region:{county}"),
    )
    .await;
    let (_, granted) = status_json(res).await;
    let id = granted["id"].as_i64().expect("id");
    let grantee = w.app.login(GRANTEE).await;

    // Act
    let res = w
        .app
        .delete_auth(&format!("{ROLES}/{id}"), &w.hefei_admin.access)
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 204);
    assert!(
        roles::Entity::find_by_id(id)
            .one(&w.app.state.db)
            .await
            .expect("select")
            .is_none()
    );
    let entries = w.app.audit("role.revoke").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_user_id, Some(w.hefei_admin.user_id));
    assert_eq!(entries[0].target, format!("user:{}", grantee.user_id));
    assert_eq!(entries[0].region_id, Some(county));
    let (_, me) = status_json(w.app.get_auth("/api/v1/me", &grantee.access).await).await;
    assert_eq!(me["roles"], json!([]));
    // Gone is gone: a second revoke finds nothing.
    let again = w
        .app
        .delete_auth(&format!("{ROLES}/{id}"), &w.hefei_admin.access)
        .await;
    assert_eq!(error_code(again).await, (404, "not_found".into()));
}

#[tokio::test]
async fn revoke_returns_204_when_a_province_admin_revokes_a_city_admin() {
    // Arrange
    let w = world().await;
    let governor = w
        .app
        .login_with_role("13800000009", "admin", &format!("region:{}", w.province))
        .await;
    let id = roles::Entity::find()
        .filter(roles::Column::UserId.eq(w.hefei_admin.user_id))
        .one(&w.app.state.db)
        .await
        .expect("select")
        .expect("role")
        .id;

    // Act
    let res = w
        .app
        .delete_auth(&format!("{ROLES}/{id}"), &governor.access)
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 204);
    let res = grant(
        &w.app,
        &w.hefei_admin.access,
        GRANTEE,
        "admin",
        &format!("region:{}", w.hefei),
    )
    .await;
    assert_eq!(
        error_code(res).await,
        (403, "forbidden".into()),
        "the revoked admin lost its power at once"
    );
}

#[tokio::test]
async fn revoke_returns_404_when_caller_does_not_cover_the_role() {
    // Arrange
    let w = world().await;
    let county = county(&w).await;
    let county_admin = w
        .app
        .login_with_role("13800000002", "admin", &format!("region:{county}"))
        .await;
    let wuhu_admin = w
        .app
        .login_with_role("13800000004", "admin", &format!("region:{}", w.wuhu))
        .await;
    let nobody = w.app.login("13800000003").await;
    let hefei_role = roles::Entity::find()
        .filter(roles::Column::UserId.eq(w.hefei_admin.user_id))
        .one(&w.app.state.db)
        .await
        .expect("select")
        .expect("role")
        .id;
    let path = format!("{ROLES}/{hefei_role}");

    for token in [&wuhu_admin.access, &county_admin.access, &nobody.access] {
        // Act
        let res = w.app.delete_auth(&path, token).await;

        // Assert
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    assert!(
        roles::Entity::find_by_id(hefei_role)
            .one(&w.app.state.db)
            .await
            .expect("select")
            .is_some()
    );
    assert_eq!(w.app.audit("role.revoke").await, vec![]);
}

#[tokio::test]
async fn revoke_returns_404_when_id_is_not_numeric_or_unknown() {
    // Arrange
    let w = world().await;

    for id in ["abc", "999999", "-1", "1.5", "0x1"] {
        // Act
        let res = w
            .app
            .delete_auth(&format!("{ROLES}/{id}"), &w.hefei_admin.access)
            .await;

        // Assert
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{id}");
    }
    assert_eq!(w.app.count::<roles::Entity>().await, 1);
}

#[tokio::test]
async fn revoke_returns_401_when_not_logged_in() {
    // Arrange
    let w = world().await;

    // Act
    let res = w
        .app
        .client
        .delete(w.app.url(&format!("{ROLES}/1")))
        .send()
        .await
        .expect("request");

    // Assert
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    assert_eq!(w.app.count::<roles::Entity>().await, 1);
}
