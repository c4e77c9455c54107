//! API.md "Regions": the seeded tree, public listing with pagination, one
//! region, and creation by the admin of the parent.
use qunjia::entity::{audit_log, regions};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{Session, TestApp, error_code, spawn_app};

const REGIONS: &str = "/api/v1/regions";

/// The 16 prefecture-level cities of Anhui (GB/T 2260), in id order.
const CITY_CODES: [&str; 16] = [
    "340100", "340200", "340300", "340400", "340500", "340600", "340700", "340800", "341000",
    "341100", "341200", "341300", "341500", "341600", "341700", "341800",
];

async fn page(app: &TestApp, query: &str) -> (u16, Value) {
    status_json(app.get(&format!("{REGIONS}?{query}")).await).await
}

async fn create(app: &TestApp, s: &Session, body: Value) -> reqwest::Response {
    app.post_auth(REGIONS, &s.access, &body).await
}

async fn admin_of(app: &TestApp, phone: &str, code: &str) -> Session {
    let id = app.region_id(code).await;
    app.login_with_role(phone, "admin", &format!("region:{id}"))
        .await
}

async fn region_row(app: &TestApp, code: &str) -> Option<regions::Model> {
    regions::Entity::find()
        .filter(regions::Column::Code.eq(code))
        .one(&app.state.db)
        .await
        .expect("select")
}

#[tokio::test]
async fn list_returns_the_province_when_parent_id_is_absent() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = page(&app, "").await;

    // Assert
    assert_eq!(status, 200);
    let province = app.region_id("340000").await;
    assert_eq!(
        body,
        json!({
            "items": [{
                "id": province, "code": "340000", "name": "安徽省",
                "kind": "province", "level": null, "parent_id": null,
            }],
            "next_cursor": null,
        })
    );
}

#[tokio::test]
async fn list_returns_the_16_anhui_cities_when_parent_is_the_province() {
    // Arrange
    let app = spawn_app().await;
    let province = app.region_id("340000").await;

    // Act
    let (status, body) = page(&app, &format!("parent_id={province}")).await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(body["next_cursor"], Value::Null);
    let items = body["items"].as_array().expect("items");
    let codes: Vec<&str> = items.iter().filter_map(|c| c["code"].as_str()).collect();
    assert_eq!(codes, CITY_CODES);
    for city in items {
        assert_eq!(city["kind"], "city");
        assert_eq!(city["parent_id"], province);
        assert_eq!(city["level"], Value::Null);
    }
    assert_eq!(items[0]["name"], "合肥市");
    assert_eq!(items[15]["name"], "宣城市");
}

#[tokio::test]
async fn list_returns_every_city_once_when_pages_are_followed_by_cursor() {
    // Arrange
    let app = spawn_app().await;
    let province = app.region_id("340000").await;
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;

    // Act
    loop {
        let query = match &cursor {
            Some(c) => format!("parent_id={province}&limit=5&cursor={c}"),
            None => format!("parent_id={province}&limit=5"),
        };
        let (status, body) = page(&app, &query).await;
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().expect("items");
        sizes.push(items.len());
        seen.extend(
            items
                .iter()
                .map(|c| c["code"].as_str().expect("code").to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }

    // Assert
    assert_eq!(sizes, vec![5, 5, 5, 1]);
    assert_eq!(seen, CITY_CODES);
    let (_, exact) = page(&app, &format!("parent_id={province}&limit=16")).await;
    assert_eq!(exact["next_cursor"], Value::Null, "no empty last page");
}

#[tokio::test]
async fn list_returns_an_empty_page_when_region_has_no_children() {
    // Arrange
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;

    // Act
    let (status, body) = page(&app, &format!("parent_id={hefei}")).await;

    // Assert
    assert_eq!(
        (status, body),
        (200, json!({ "items": [], "next_cursor": null }))
    );
}

#[tokio::test]
async fn list_returns_400_bad_request_when_limit_cursor_or_parent_is_malformed() {
    // Arrange
    let app = spawn_app().await;
    let queries = [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "limit=1e2",
        "cursor=abc",
        "cursor=-5",
        "cursor=1.5",
        "cursor=99999999999999999999",
        "parent_id=abc",
        "parent_id=99999999999999999999",
    ];

    for q in queries {
        // Act
        let (status, body) = page(&app, q).await;

        // Assert
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{q}"
        );
    }
    let (status, body) = page(&app, "limit=100").await;
    assert_eq!(status, 200, "limit=100 is allowed: {body}");
    let (status, _) = page(&app, "limit=1").await;
    assert_eq!(status, 200, "limit=1 is allowed");
}

#[tokio::test]
async fn get_region_returns_200_when_it_exists_and_404_otherwise() {
    // Arrange
    let app = spawn_app().await;
    let province = app.region_id("340000").await;
    let wuhu = app.region_id("340200").await;

    // Act
    let (status, body) = status_json(app.get(&format!("{REGIONS}/{wuhu}")).await).await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "id": wuhu, "code": "340200", "name": "芜湖市",
            "kind": "city", "level": null, "parent_id": province,
        })
    );
    for id in ["999999", "0", "abc", "-1"] {
        let res = app.get(&format!("{REGIONS}/{id}")).await;
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{id}");
    }
}

#[tokio::test]
async fn create_returns_201_when_a_city_admin_builds_county_township_and_parks() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", "340100").await;
    let hefei = region_row(&app, "340100").await.expect("hefei");

    // Act
    let res = create(
        &app,
        &admin,
        json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": hefei.id }),
    )
    .await;

    // Assert
    let (status, county) = status_json(res).await;
    assert_eq!(status, 201, "{county}");
    let county_id = county["id"].as_i64().expect("id");
    assert_eq!(
        county,
        json!({
            "id": county_id, "code": "340104", "name": "蜀山区",
            "kind": "county", "level": null, "parent_id": hefei.id,
        })
    );
    let row = region_row(&app, "340104").await.expect("stored");
    assert_eq!(row.path, format!("{}{}/", hefei.path, county_id));

    let (status, township) = status_json(
        create(
            &app,
            &admin,
            json!({ "code": "340104001", "name": "三里庵街道", "kind": "township", "parent_id": county_id }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{township}");
    assert_eq!(township["parent_id"], county_id);
    assert_eq!(township["level"], Value::Null);

    let (status, park) = status_json(
        create(
            &app,
            &admin,
            json!({ "code": "340100500", "name": "合肥高新技术产业开发区", "kind": "park", "level": "national", "parent_id": hefei.id }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{park}");
    assert_eq!(
        (park["kind"].as_str(), park["level"].as_str()),
        (Some("park"), Some("national"))
    );

    let (status, small_park) = status_json(
        create(
            &app,
            &admin,
            json!({ "code": "340104500", "name": "蜀山小微园", "kind": "park", "parent_id": county_id }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{small_park}");
    assert_eq!(
        small_park["level"], "municipal",
        "a park's level defaults to municipal"
    );

    let (_, listed) = page(&app, &format!("parent_id={county_id}")).await;
    let codes: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert_eq!(codes, ["340104001", "340104500"]);
    let audit = app.audit("region.create").await;
    assert_eq!(audit.len(), 4);
    assert!(audit.iter().all(|a| a.actor_user_id == Some(admin.user_id)));
}

#[tokio::test]
async fn create_returns_422_when_code_name_kind_level_or_parent_breaks_a_rule() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", "340100").await;
    let hefei = app.region_id("340100").await;
    let res = create(
        &app,
        &admin,
        json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": hefei }),
    )
    .await;
    let (_, county) = status_json(res).await;
    let county = county["id"].as_i64().expect("id");
    let before = app.count::<regions::Entity>().await;
    let body = |code: &str, name: &str, kind: &str, level: Value, parent: i64| json!({ "code": code, "name": name, "kind": kind, "level": level, "parent_id": parent });
    let null = Value::Null;
    let cases = [
        (
            body("34010", "某区", "county", null.clone(), hefei),
            "invalid_region_code",
        ),
        (
            body("3401040010012", "某区", "county", null.clone(), hefei),
            "invalid_region_code",
        ),
        (
            body("34O104", "某区", "county", null.clone(), hefei),
            "invalid_region_code",
        ),
        (
            body("", "某区", "county", null.clone(), hefei),
            "invalid_region_code",
        ),
        (
            body("340105", "", "county", null.clone(), hefei),
            "invalid_name",
        ),
        (
            body("340105", "   ", "county", null.clone(), hefei),
            "invalid_name",
        ),
        (
            body("340105", &"区".repeat(101), "county", null.clone(), hefei),
            "invalid_name",
        ),
        (
            body("340105", "某\u{202E}区", "county", null.clone(), hefei),
            "invalid_name",
        ),
        (
            body("340105", "某区", "city", null.clone(), hefei),
            "invalid_kind",
        ),
        (
            body("340105", "某区", "province", null.clone(), hefei),
            "invalid_kind",
        ),
        (
            body("340105", "某区", "village", null.clone(), hefei),
            "invalid_kind",
        ),
        (
            body("340105", "某区", "County", null.clone(), hefei),
            "invalid_kind",
        ),
        (
            body("340105", "某区", "county", json!("national"), hefei),
            "invalid_level",
        ),
        (
            body("340105500", "某园", "park", json!("international"), hefei),
            "invalid_level",
        ),
        (
            body("340105500", "某园", "park", json!(""), hefei),
            "invalid_level",
        ),
        // Kinds that may not sit under that parent.
        (
            body("340105", "某区", "county", null.clone(), county),
            "invalid_kind",
        ),
        (
            body("340100001", "某街道", "township", null.clone(), hefei),
            "invalid_kind",
        ),
        (
            body("340100600", "某楼宇", "building", null.clone(), hefei),
            "invalid_kind",
        ),
        (
            body("340105", "某区", "county", null.clone(), 999_999),
            "invalid_parent",
        ),
    ];

    for (request, code) in cases {
        // Act
        let res = create(&app, &admin, request.clone()).await;

        // Assert
        assert_eq!(error_code(res).await, (422, code.to_owned()), "{request}");
    }
    assert_eq!(
        app.count::<regions::Entity>().await,
        before,
        "nothing stored"
    );
}

#[tokio::test]
async fn create_returns_400_naming_the_field_when_a_field_is_missing_or_of_the_wrong_type() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", "340100").await;
    let hefei = app.region_id("340100").await;
    let before = app.count::<regions::Entity>().await;
    let cases = [
        (
            json!({ "code": "340104", "name": "蜀山区", "parent_id": hefei }),
            "缺少字段：kind",
        ),
        (
            json!({ "code": "340104", "kind": "county", "parent_id": hefei }),
            "缺少字段：name",
        ),
        (
            json!({ "code": 340104, "name": "蜀山区", "kind": "county", "parent_id": hefei }),
            "字段格式不正确：code",
        ),
        (
            json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": "合肥" }),
            "字段格式不正确：parent_id",
        ),
    ];

    for (body, said) in cases {
        // Act
        let (status, answer) = status_json(create(&app, &admin, body.clone()).await).await;

        // Assert
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "bad_request", "{body}");
        assert_eq!(answer["error"]["message"], said, "{body}");
    }
    assert_eq!(
        app.count::<regions::Entity>().await,
        before,
        "nothing created"
    );
}

#[tokio::test]
async fn list_returns_400_naming_the_parameter_when_a_query_value_is_malformed() {
    let app = spawn_app().await;
    for (q, said) in [
        ("limit=abc", "参数格式不正确：limit"),
        ("parent_id=abc", "参数格式不正确：parent_id"),
    ] {
        let (status, body) = page(&app, q).await;
        assert_eq!(status, 400, "{q}");
        assert_eq!(body["error"]["message"], said, "{q}");
    }
}

#[tokio::test]
async fn create_returns_201_with_an_assigned_code_when_a_park_building_or_market_has_none() {
    // Arrange: a county with its statistical code; under it places that have none.
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", "340100").await;
    let hefei = app.region_id("340100").await;
    let (status, county) = status_json(
        create(
            &app,
            &admin,
            json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": hefei }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{county}");
    let county_id = county["id"].as_i64().expect("id");

    // Act: a park without a code, a building with an empty one, and a market at once
    // with another market (the codes must not clash).
    let mut made = Vec::new();
    for body in [
        json!({ "name": "蜀山经济开发区", "kind": "park", "parent_id": county_id }),
        json!({ "code": "", "name": "创新大厦", "kind": "building", "parent_id": county_id }),
    ] {
        let (status, r) = status_json(create(&app, &admin, body.clone()).await).await;
        assert_eq!(status, 201, "{body}: {r}");
        made.push(r);
    }
    let markets = futures_util::future::join_all((0..2).map(|i| {
        create(
            &app,
            &admin,
            json!({ "name": format!("农贸市场{i}"), "kind": "market", "parent_id": county_id }),
        )
    }))
    .await;
    for res in markets {
        let (status, r) = status_json(res).await;
        assert_eq!(status, 201, "{r}");
        made.push(r);
    }

    // Assert: each got `<parent code>-<its id>`, stored and listed so.
    for r in &made {
        let code = format!("340104-{}", r["id"]);
        assert_eq!(r["code"], json!(code), "{r}");
        assert!(region_row(&app, &code).await.is_some(), "{code} stored");
    }
    // A county or township still needs its statistical code.
    for kind in ["county", "township"] {
        let parent = if kind == "county" { hefei } else { county_id };
        let res = create(
            &app,
            &admin,
            json!({ "name": "无代码", "kind": kind, "parent_id": parent }),
        )
        .await;
        assert_eq!(
            error_code(res).await,
            (422, "invalid_region_code".into()),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn create_returns_409_region_exists_when_code_is_taken() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", "340100").await;
    let hefei = app.region_id("340100").await;
    let before = app.count::<regions::Entity>().await;

    // Act: the code of a seeded city, then a county code twice.
    let seeded = create(
        &app,
        &admin,
        json!({ "code": "340200", "name": "重复", "kind": "county", "parent_id": hefei }),
    )
    .await;
    let first = create(
        &app,
        &admin,
        json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": hefei }),
    )
    .await;
    let second = create(
        &app,
        &admin,
        json!({ "code": " 340104 ", "name": "蜀山区二", "kind": "county", "parent_id": hefei }),
    )
    .await;

    // Assert
    assert_eq!(error_code(seeded).await, (409, "region_exists".into()));
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(error_code(second).await, (409, "region_exists".into()));
    assert_eq!(app.count::<regions::Entity>().await, before + 1);
    let audit = audit_log::Entity::find()
        .all(&app.state.db)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1, "only the created county is logged");
}

#[tokio::test]
async fn create_returns_403_when_caller_administers_another_city_or_nothing() {
    // Arrange
    let app = spawn_app().await;
    let wuhu_admin = admin_of(&app, "13800000002", "340200").await;
    let nobody = app.login("13800000003").await;
    let hefei = app.region_id("340100").await;
    let before = app.count::<regions::Entity>().await;

    for s in [&wuhu_admin, &nobody] {
        // Act
        let res = create(
            &app,
            s,
            json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": hefei }),
        )
        .await;

        // Assert
        assert_eq!(error_code(res).await, (403, "forbidden".into()));
    }
    assert_eq!(app.count::<regions::Entity>().await, before);
    assert!(region_row(&app, "340104").await.is_none());
}

#[tokio::test]
async fn create_returns_201_when_a_province_admin_builds_in_any_city() {
    // Arrange
    let app = spawn_app().await;
    let governor = admin_of(&app, "13800000001", "340000").await;

    for (parent, code) in [("340200", "340202"), ("341800", "341802")] {
        let parent_id = app.region_id(parent).await;

        // Act
        let res = create(
            &app,
            &governor,
            json!({ "code": code, "name": "某区", "kind": "county", "parent_id": parent_id }),
        )
        .await;

        // Assert
        let (status, body) = status_json(res).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["parent_id"], parent_id);
        assert!(region_row(&app, code).await.is_some());
    }
}

#[tokio::test]
async fn create_returns_401_when_not_logged_in() {
    // Arrange
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;
    let before = app.count::<regions::Entity>().await;

    // Act
    let res = app
        .post_json(
            REGIONS,
            &json!({ "code": "340104", "name": "蜀山区", "kind": "county", "parent_id": hefei }),
        )
        .await;

    // Assert
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    assert_eq!(app.count::<regions::Entity>().await, before);
}
