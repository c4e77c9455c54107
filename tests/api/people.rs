//! API.md "People": `GET/PATCH /me`, `/me/export`, `DELETE /me`.
use qunjia::entity::{otp_codes, refresh_tokens, roles, units, users};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{Session, TestApp, error_code, spawn_app};

const ME: &str = "/api/v1/me";
const PHONE: &str = "13812345678";

/// A unit in Hefei, straight into the database (units have no create endpoint yet).
async fn unit(app: &TestApp, name: &str, uscc: &str) -> i64 {
    let now = qunjia::clock::now_ms();
    units::Entity::insert(units::ActiveModel {
        name: Set(name.into()),
        uscc: Set(uscc.into()),
        kind: Set("enterprise".into()),
        region_id: Set(app.region_id("340100").await),
        employee_count: Set(40),
        above_scale: Set(false),
        has_party_org: Set(false),
        industry: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("insert unit")
    .last_insert_id
}

async fn user_row(app: &TestApp, id: i64) -> users::Model {
    users::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .expect("select")
        .expect("user row")
}

async fn patch(app: &TestApp, s: &Session, body: Value) -> (u16, Value) {
    status_json(app.patch_auth(ME, &s.access, &body).await).await
}

/// A person with every profile field filled in.
async fn full_profile(app: &TestApp) -> (Session, i64) {
    let s = app.login(PHONE).await;
    let unit_id = unit(app, "合肥某科技有限公司", "91340100MA2N0000X1").await;
    let (status, body) = patch(
        app,
        &s,
        json!({
            "name": "张三",
            "gender": "male",
            "birth_date": "1990-05-17",
            "unit_id": unit_id,
            "platform": "美团",
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (s, unit_id)
}

/// Sends each body and checks it is refused with `expected` and changes nothing.
async fn assert_refused(app: &TestApp, s: &Session, bodies: &[Value], expected: (u16, &str)) {
    let before = user_row(app, s.user_id).await;
    for body in bodies {
        let res = app.patch_auth(ME, &s.access, body).await;
        assert_eq!(
            error_code(res).await,
            (expected.0, expected.1.to_owned()),
            "{body}"
        );
    }
    assert_eq!(user_row(app, s.user_id).await, before, "nothing changed");
}

async fn assert_refused_raw(app: &TestApp, s: &Session, bodies: &[&str]) {
    let before = user_row(app, s.user_id).await;
    for body in bodies {
        let res = app
            .client
            .patch(app.url(ME))
            .bearer_auth(&s.access)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{body}");
    }
    assert_eq!(user_row(app, s.user_id).await, before, "nothing changed");
}

#[tokio::test]
async fn me_returns_200_with_the_callers_profile_when_logged_in() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login(PHONE).await;

    // Act
    let (status, me) = status_json(app.get_auth(ME, &s.access).await).await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({
            "id": s.user_id,
            "phone": PHONE,
            "name": null,
            "gender": null,
            "birth_date": null,
            "unit_id": null,
            "unit_name": null,
            "platform": null,
            "roles": [],
        })
    );
}

#[tokio::test]
async fn patch_me_returns_200_and_changes_only_the_given_field_when_each_field_is_sent() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login(PHONE).await;
    let unit_id = unit(&app, "芜湖某物流有限公司", "91340200MA2N0000X2").await;
    let steps = [
        ("name", json!("  李四 ")),
        ("gender", json!("female")),
        ("birth_date", json!("1995-02-28")),
        ("unit_id", json!(unit_id)),
        ("platform", json!("饿了么")),
    ];
    let mut expected = json!({
        "id": s.user_id, "phone": PHONE, "name": null, "gender": null,
        "birth_date": null, "unit_id": null, "unit_name": null, "platform": null, "roles": [],
    });

    for (field, value) in steps {
        // Act
        let (status, me) = patch(&app, &s, json!({ field: value })).await;

        // Assert
        assert_eq!(status, 200, "{field}: {me}");
        expected[field] = value;
        if field == "name" {
            expected["name"] = json!("李四");
        }
        if field == "unit_id" {
            expected["unit_name"] = json!("芜湖某物流有限公司");
        }
        assert_eq!(me, expected, "after {field}");
    }
    let row = user_row(&app, s.user_id).await;
    assert_eq!(row.name.as_deref(), Some("李四"));
    assert_eq!(row.gender.as_deref(), Some("female"));
    assert_eq!(
        row.birth_date.map(|d| d.to_string()).as_deref(),
        Some("1995-02-28")
    );
    assert_eq!(row.unit_id, Some(unit_id));
    assert_eq!(row.platform.as_deref(), Some("饿了么"));
    let (_, me) = status_json(app.get_auth(ME, &s.access).await).await;
    assert_eq!(me, expected, "GET /me agrees");
}

#[tokio::test]
async fn patch_me_returns_200_and_clears_only_the_fields_sent_as_null() {
    // Arrange
    let app = spawn_app().await;
    let (s, unit_id) = full_profile(&app).await;

    // Act
    let (status, me) = patch(&app, &s, json!({ "name": null, "unit_id": null })).await;

    // Assert
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], Value::Null);
    assert_eq!(me["unit_id"], Value::Null);
    assert_eq!(me["unit_name"], Value::Null);
    assert_eq!(me["gender"], "male");
    assert_eq!(me["birth_date"], "1990-05-17");
    assert_eq!(me["platform"], "美团");
    let (status, me) = patch(
        &app,
        &s,
        json!({ "gender": null, "birth_date": null, "platform": null }),
    )
    .await;
    assert_eq!(status, 200);
    for field in ["name", "gender", "birth_date", "unit_id", "platform"] {
        assert_eq!(me[field], Value::Null, "{field}");
    }
    let row = user_row(&app, s.user_id).await;
    assert_eq!(
        (
            row.name,
            row.gender,
            row.birth_date,
            row.unit_id,
            row.platform
        ),
        (None, None, None, None, None)
    );
    assert_eq!(row.phone.as_deref(), Some(PHONE));
    assert!(unit_id > 0);
}

#[tokio::test]
async fn patch_me_returns_200_and_changes_nothing_when_body_is_empty() {
    // Arrange
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let (_, before) = status_json(app.get_auth(ME, &s.access).await).await;

    // Act
    let (status, me) = patch(&app, &s, json!({})).await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(me, before);
}

#[tokio::test]
async fn patch_me_returns_422_invalid_name_when_name_is_empty_too_long_or_has_control_characters() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let bodies = [
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({ "name": "名".repeat(51) }),
        json!({ "name": "张\u{0007}三" }),
        json!({ "name": "张三\n".repeat(2) }),
        json!({ "name": "张\u{202E}三" }),
        json!({ "name": "张\u{200B}三" }),
        json!({ "name": "\u{FEFF}张三" }),
        json!({ "name": "张\u{2066}三\u{2069}" }),
    ];
    assert_refused(&app, &s, &bodies, (422, "invalid_name")).await;
}

#[tokio::test]
async fn patch_me_returns_200_with_the_name_in_nfc_when_it_was_typed_decomposed() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    // "Élise" typed as E + combining acute, with an ideographic space around it.
    let (status, me) = patch(&app, &s, json!({ "name": "\u{3000}E\u{301}lise " })).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], json!("\u{c9}lise"));
    assert_eq!(
        user_row(&app, s.user_id).await.name.as_deref(),
        Some("\u{c9}lise")
    );
}

#[tokio::test]
async fn patch_me_returns_422_saying_which_characters_to_delete_when_the_name_hides_a_bidi_override()
 {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let res = app
        .patch_auth(ME, &s.access, &json!({ "name": "张\u{202E}三" }))
        .await;
    let (status, body) = status_json(res).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_name");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("姓名") && message.contains("看不见"),
        "{message}"
    );
}

#[tokio::test]
async fn patch_me_returns_422_invalid_gender_when_gender_is_not_female_or_male() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let bodies = [
        json!({ "gender": "other" }),
        json!({ "gender": "FEMALE" }),
        json!({ "gender": "女" }),
        json!({ "gender": "" }),
        // A valid field beside a bad one is not written either.
        json!({ "name": "王五", "gender": "x" }),
    ];
    assert_refused(&app, &s, &bodies, (422, "invalid_gender")).await;
}

#[tokio::test]
async fn patch_me_returns_422_invalid_birth_date_when_date_is_future_impossible_or_malformed() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    let bodies = [
        json!({ "birth_date": tomorrow }),
        json!({ "birth_date": "2999-01-01" }),
        json!({ "birth_date": "1995-02-30" }),
        json!({ "birth_date": "2023-02-29" }),
        json!({ "birth_date": "1995-13-01" }),
        json!({ "birth_date": "1899-12-31" }),
        json!({ "birth_date": "1995/02/28" }),
        json!({ "birth_date": "19950228" }),
        json!({ "birth_date": "1995-2-3" }),
        json!({ "birth_date": "28-02-1995" }),
        json!({ "birth_date": "1995-02-28T00:00:00Z" }),
        json!({ "birth_date": "" }),
        json!({ "name": "王五", "birth_date": "1995-02-30" }),
    ];
    assert_refused(&app, &s, &bodies, (422, "invalid_birth_date")).await;
}

#[tokio::test]
async fn patch_me_returns_422_invalid_unit_when_unit_does_not_exist() {
    let app = spawn_app().await;
    let (s, unit_id) = full_profile(&app).await;
    let bodies = [
        json!({ "unit_id": unit_id + 1000 }),
        json!({ "unit_id": 0 }),
        json!({ "unit_id": -1 }),
    ];
    assert_refused(&app, &s, &bodies, (422, "invalid_unit")).await;
}

#[tokio::test]
async fn patch_me_returns_422_invalid_platform_when_platform_is_empty_or_too_long() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let bodies = [
        json!({ "platform": "" }),
        json!({ "platform": " " }),
        json!({ "platform": "平".repeat(51) }),
        json!({ "platform": "美\u{0000}团" }),
    ];
    assert_refused(&app, &s, &bodies, (422, "invalid_platform")).await;
}

#[tokio::test]
async fn patch_me_returns_400_when_body_has_an_unknown_field() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let bodies = [
        json!({ "nickname": "小张" }),
        json!({ "phone": "13900000000" }),
        json!({ "id": 1 }),
        json!({ "roles": [{ "role": "admin", "scope": "region:1" }] }),
        json!({ "name": "王五", "deleted_at": null }),
    ];
    assert_refused(&app, &s, &bodies, (400, "bad_request")).await;
}

#[tokio::test]
async fn patch_me_returns_400_when_a_field_has_the_wrong_type_or_body_is_not_an_object() {
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let bodies = [
        json!({ "name": 5 }),
        json!({ "gender": true }),
        json!({ "birth_date": 19_950_228 }),
        json!({ "unit_id": "1" }),
        json!({ "unit_id": 1.5 }),
        json!({ "platform": ["美团"] }),
        json!(null),
        json!("name"),
        json!(["王五"]),
        json!([null, null, null, null, "美团"]),
    ];
    assert_refused(&app, &s, &bodies, (400, "bad_request")).await;
    assert_refused_raw(&app, &s, &["{\"name\":", "not json", ""]).await;
}

#[tokio::test]
async fn me_endpoints_return_401_when_not_logged_in() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let get_me = app.get(ME).await;
    let patch_me = app
        .client
        .patch(app.url(ME))
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .expect("request");
    let export = app.get("/api/v1/me/export").await;
    let delete = app
        .client
        .delete(app.url(ME))
        .send()
        .await
        .expect("request");

    // Assert
    for res in [get_me, patch_me, export, delete] {
        assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    }
}

#[tokio::test]
async fn export_me_returns_200_with_the_user_and_every_login() {
    // Arrange
    let app = spawn_app().await;
    let (s, unit_id) = full_profile(&app).await;
    let res = app.refresh(&s.refresh).await;
    assert_eq!(res.status().as_u16(), 200);
    let code = app.new_code(PHONE).await;
    assert_eq!(app.login_raw(PHONE, &code).await.status().as_u16(), 200);

    // Act
    let res = app.get_auth("/api/v1/me/export", &s.access).await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let disposition = header(&res, "content-disposition").expect("content-disposition");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let data: Value = res.json().await.expect("json");
    assert_eq!(data["user"]["id"], s.user_id);
    assert_eq!(data["user"]["phone"], PHONE);
    assert_eq!(data["user"]["name"], "张三");
    assert_eq!(data["user"]["unit_id"], unit_id);
    let tokens = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(s.user_id))
        .all(&app.state.db)
        .await
        .expect("tokens");
    let logins = data["logins"].as_array().expect("logins");
    assert_eq!(logins.len(), tokens.len());
    assert_eq!(logins.len(), 3, "two logins, one of them refreshed once");
    let mut families: Vec<&str> = logins.iter().filter_map(|l| l["family"].as_str()).collect();
    families.sort();
    families.dedup();
    assert_eq!(families.len(), 2);
    assert_eq!(
        data["login_codes_requested"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn me_endpoints_return_only_the_callers_data_when_another_person_exists() {
    // Arrange
    let app = spawn_app().await;
    let (other, _) = full_profile(&app).await;
    let other_before = user_row(&app, other.user_id).await;
    let me = app.login("13900000000").await;

    // Act
    let (_, profile) = status_json(app.get_auth(ME, &me.access).await).await;
    let (status, patched) = patch(&app, &me, json!({ "name": "王五" })).await;
    let export = app
        .get_auth("/api/v1/me/export", &me.access)
        .await
        .text()
        .await
        .expect("body");

    // Assert
    assert_eq!(profile["id"], me.user_id);
    assert_eq!(profile["phone"], "13900000000");
    assert_eq!(profile["name"], Value::Null);
    assert_eq!((status, patched["id"].as_i64()), (200, Some(me.user_id)));
    assert_eq!(user_row(&app, other.user_id).await, other_before);
    for secret in [PHONE, "张三", "美团"] {
        assert!(!export.contains(secret), "{secret} leaked: {export}");
    }
    let other_family = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(other.user_id))
        .one(&app.state.db)
        .await
        .expect("select")
        .expect("token")
        .family;
    assert!(!export.contains(&other_family));
}

#[tokio::test]
async fn delete_me_returns_202_and_anonymises_the_account() {
    // Arrange
    let app = spawn_app().await;
    let (s, _) = full_profile(&app).await;
    let hefei = app.region_id("340100").await;
    let (role, scope) =
        qunjia::auth::roles::parse_grant("admin", &format!("region:{hefei}")).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, s.user_id, role, scope, None)
        .await
        .expect("role");

    // Act
    let (status, body) = status_json(app.delete_auth(ME, &s.access).await).await;

    // Assert
    assert_eq!((status, body), (202, json!({ "status": "anonymised" })));
    let row = user_row(&app, s.user_id).await;
    assert_eq!(row.phone, None);
    assert_eq!(row.name, None);
    assert_eq!(row.gender, None);
    assert_eq!(row.birth_date, None);
    assert_eq!(row.unit_id, None);
    assert_eq!(row.platform, None);
    assert!(row.deleted_at.is_some());
    let tokens = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(s.user_id))
        .all(&app.state.db)
        .await
        .expect("tokens");
    assert!(!tokens.is_empty());
    assert!(tokens.iter().all(|t| t.revoked_at.is_some()));
    let left_roles = roles::Entity::find()
        .filter(roles::Column::UserId.eq(s.user_id))
        .all(&app.state.db)
        .await
        .expect("roles");
    assert_eq!(left_roles, vec![]);
    let codes = otp_codes::Entity::find()
        .filter(otp_codes::Column::Phone.eq(PHONE))
        .all(&app.state.db)
        .await
        .expect("codes");
    assert_eq!(codes, vec![]);
    let res = app.refresh(&s.refresh).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}

#[tokio::test]
async fn login_returns_a_new_user_id_when_a_deleted_account_logs_in_again() {
    // Arrange
    let app = spawn_app().await;
    let old = app.login(PHONE).await;
    assert_eq!(
        app.delete_auth(ME, &old.access).await.status().as_u16(),
        202
    );
    let code = app.new_code(PHONE).await;

    // Act
    let (status, body) = status_json(app.login_raw(PHONE, &code).await).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["new_user"], true);
    let new_id = body["user"]["id"].as_i64().expect("id");
    assert_ne!(new_id, old.user_id);
    assert_eq!(body["user"]["name"], Value::Null);
    assert_eq!(
        app.count::<users::Entity>().await,
        2,
        "the placeholder stays"
    );
    assert_eq!(user_row(&app, old.user_id).await.phone, None);
}
