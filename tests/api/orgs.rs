//! API.md "Mass organizations": `POST /orgs` with its form rules, listing,
//! reading, the public join poster, the QR code, suggestions and who sees what.
use qunjia::entity::{org_units, orgs, units};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{Session, TestApp, error_code, spawn_app};

pub const ORGS: &str = "/api/v1/orgs";

/// Hefei with a national park and a county, Wuhu, their admins, units and a worker.
pub struct World {
    pub app: TestApp,
    pub hefei: i64,
    pub wuhu: i64,
    pub park: i64,
    pub county: i64,
    pub hefei_admin: Session,
    pub wuhu_admin: Session,
    pub worker: Session,
    /// Enterprises in the park.
    pub zhilian: i64,
    pub yunfan: i64,
    /// In the county: an association, a platform, a social organization.
    pub association: i64,
    pub association2: i64,
    pub platform: i64,
    pub hospital: i64,
    /// In Wuhu.
    pub wuhu_unit: i64,
}

async fn region(
    app: &TestApp,
    token: &str,
    code: &str,
    name: &str,
    kind: &str,
    parent: i64,
) -> i64 {
    let level = (kind == "park").then_some("national");
    let res = app
        .post_auth(
            "/api/v1/regions",
            token,
            &json!({ "code": code, "name": name, "kind": kind, "level": level, "parent_id": parent }),
        )
        .await;
    let (status, body) = status_json(res).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

/// Inserts a unit straight into the database (the units API is not under test here).
pub async fn unit(app: &TestApp, name: &str, kind: &str, region_id: i64) -> i64 {
    let n = units::Entity::find()
        .all(&app.state.db)
        .await
        .expect("units")
        .len();
    units::Entity::insert(units::ActiveModel {
        name: Set(name.into()),
        uscc: Set(format!("TEST{n:014}")),
        kind: Set(kind.into()),
        region_id: Set(region_id),
        employee_count: Set(50),
        above_scale: Set(false),
        has_party_org: Set(false),
        industry: Set(None),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("insert unit")
    .last_insert_id
}

pub async fn world() -> World {
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;
    let wuhu = app.region_id("340200").await;
    let hefei_admin = app
        .login_with_role("13800000001", "admin", &format!("region:{hefei}"))
        .await;
    let wuhu_admin = app
        .login_with_role("13800000002", "admin", &format!("region:{wuhu}"))
        .await;
    let park = region(
        &app,
        &hefei_admin.access,
        "340171",
        "合肥高新区",
        "park",
        hefei,
    )
    .await;
    let county = region(
        &app,
        &hefei_admin.access,
        "340104",
        "蜀山区",
        "county",
        hefei,
    )
    .await;
    let zhilian = unit(&app, "合肥智联电子科技有限公司", "enterprise", park).await;
    let yunfan = unit(&app, "安徽云帆软件有限公司", "enterprise", park).await;
    let association = unit(&app, "合肥市软件行业协会", "association", county).await;
    let association2 = unit(&app, "合肥市电子商会", "association", county).await;
    let platform = unit(&app, "合肥小蜂快送网络科技有限公司", "platform", county).await;
    let hospital = unit(&app, "蜀山区阳光康复医院", "social_org", county).await;
    let wuhu_unit = unit(&app, "芜湖某某有限公司", "enterprise", wuhu).await;
    let worker = person(
        &app,
        "13900000001",
        Some("李小梅"),
        Some("female"),
        Some("1998-03-08"),
    )
    .await;
    World {
        app,
        hefei,
        wuhu,
        park,
        county,
        hefei_admin,
        wuhu_admin,
        worker,
        zhilian,
        yunfan,
        association,
        association2,
        platform,
        hospital,
        wuhu_unit,
    }
}

/// Logs a person in and fills the profile fields given.
pub async fn person(
    app: &TestApp,
    phone: &str,
    name: Option<&str>,
    gender: Option<&str>,
    birth_date: Option<&str>,
) -> Session {
    let s = app.login(phone).await;
    let mut patch = serde_json::Map::new();
    if let Some(n) = name {
        patch.insert("name".into(), json!(n));
    }
    if let Some(g) = gender {
        patch.insert("gender".into(), json!(g));
    }
    if let Some(b) = birth_date {
        patch.insert("birth_date".into(), json!(b));
    }
    if !patch.is_empty() {
        let (status, body) = status_json(
            app.patch_auth("/api/v1/me", &s.access, &Value::Object(patch))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    s
}

/// The body of `POST /orgs`.
pub fn org_body(org_type: &str, form: &str, region_id: i64, unit_ids: &[i64]) -> Value {
    json!({
        "name": format!("测试{org_type}{form}组织"),
        "type": org_type,
        "form": form,
        "region_id": region_id,
        "unit_ids": unit_ids,
    })
}

/// Creates an org as the Hefei admin and returns its body.
pub async fn make_org(w: &World, body: Value) -> Value {
    let (status, org) =
        status_json(w.app.post_auth(ORGS, &w.hefei_admin.access, &body).await).await;
    assert_eq!(status, 201, "{org}");
    org
}

/// A single union of 智联 with the given join policy.
pub async fn union_of_zhilian(w: &World, policy: &str) -> Value {
    let mut body = org_body("union", "single", w.park, &[w.zhilian]);
    body["join_policy"] = json!(policy);
    body["name"] = json!(format!("智联工会{policy}"));
    make_org(w, body).await
}

pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

async fn org_rows(app: &TestApp) -> u64 {
    app.count::<orgs::Entity>().await
}

/// Grants `org_admin` of an org through the API (as a region admin would).
pub async fn org_admin(w: &World, phone: &str, org_id: i64) -> Session {
    let s = person(&w.app, phone, Some("组织干部"), Some("male"), None).await;
    let res = w
        .app
        .post_auth(
            "/api/v1/roles",
            &w.hefei_admin.access,
            &json!({ "phone": phone, "role": "org_admin", "scope": format!("org:{org_id}") }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    s
}

#[tokio::test]
async fn create_returns_201_with_an_unguessable_join_code_when_a_city_admin_sets_up_a_single_union()
{
    // Arrange
    let w = world().await;
    let body = json!({
        "name": " 合肥智联电子科技有限公司工会 ",
        "type": "union",
        "form": "single",
        "region_id": w.park,
        "unit_ids": [w.zhilian],
    });

    // Act
    let res = w.app.post_auth(ORGS, &w.hefei_admin.access, &body).await;

    // Assert
    let (status, org) = status_json(res).await;
    assert_eq!(status, 201, "{org}");
    let code = org["join_code"].as_str().expect("join code").to_owned();
    assert_eq!(
        org,
        json!({
            "id": org["id"], "name": "合肥智联电子科技有限公司工会", "type": "union", "form": "single",
            "region_id": w.park, "unit_ids": [w.zhilian], "join_code": code, "join_policy": "approval",
        })
    );
    assert_eq!(code.len(), 10);
    assert!(
        code.bytes()
            .all(|b| b"23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(&b)),
        "{code}"
    );
    let links = org_units::Entity::find()
        .all(&w.app.state.db)
        .await
        .expect("links");
    assert_eq!(
        links,
        vec![org_units::Model {
            org_id: id(&org),
            unit_id: w.zhilian
        }]
    );
    let entries = w.app.audit("org.create").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_user_id, Some(w.hefei_admin.user_id));
    assert_eq!(entries[0].target, format!("org:{}", id(&org)));
    assert_eq!(entries[0].region_id, Some(w.park));
    // Two orgs never share a code.
    let other = union_of_zhilian(&w, "open").await;
    assert_ne!(other["join_code"], org["join_code"]);
}

#[tokio::test]
async fn create_returns_201_for_each_form_when_its_units_fit() {
    // Arrange
    let w = world().await;
    let cases = [
        ("union", "single", w.park, vec![w.zhilian]),
        ("union", "joint", w.hefei, vec![w.yunfan, w.hospital]),
        ("league", "regional", w.park, vec![w.zhilian, w.yunfan]),
        (
            "union",
            "industry",
            w.county,
            vec![w.association, w.hospital],
        ),
        ("union", "industry", w.county, vec![w.association]),
        ("union", "online", w.county, vec![w.platform]),
        ("women", "single", w.county, vec![w.hospital]),
    ];

    for (t, form, region, units) in cases {
        // Act
        let res = w
            .app
            .post_auth(
                ORGS,
                &w.hefei_admin.access,
                &org_body(t, form, region, &units),
            )
            .await;

        // Assert
        let (status, body) = status_json(res).await;
        assert_eq!(status, 201, "{t} {form}: {body}");
        assert_eq!(
            (body["type"].as_str(), body["form"].as_str()),
            (Some(t), Some(form))
        );
        let mut sorted = units.clone();
        sorted.sort();
        assert_eq!(body["unit_ids"], json!(sorted), "{form}");
    }
    assert_eq!(org_rows(&w.app).await, 7);
}

#[tokio::test]
async fn create_returns_422_invalid_form_units_when_the_units_do_not_fit_the_form() {
    // Arrange
    let w = world().await;
    let cases = [
        ("single", w.hefei, vec![w.zhilian, w.yunfan]),
        ("single", w.hefei, vec![]),
        ("joint", w.hefei, vec![w.zhilian]),
        ("joint", w.hefei, vec![]),
        ("regional", w.park, vec![]),
        ("industry", w.county, vec![w.hospital]),
        ("industry", w.county, vec![w.association, w.association2]),
        ("online", w.county, vec![w.platform, w.hospital]),
        ("online", w.county, vec![]),
    ];

    for (form, region, units) in cases {
        // Act
        let res = w
            .app
            .post_auth(
                ORGS,
                &w.hefei_admin.access,
                &org_body("union", form, region, &units),
            )
            .await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (422, "invalid_form_units".into()),
            "{form} {units:?}"
        );
    }
    assert_eq!(org_rows(&w.app).await, 0);
    assert_eq!(w.app.count::<org_units::Entity>().await, 0);
    assert_eq!(w.app.audit("org.create").await, vec![]);
}

#[tokio::test]
async fn create_returns_422_invalid_form_region_when_a_regional_org_is_not_in_a_park_building_or_market()
 {
    // Arrange
    let w = world().await;

    for region in [w.hefei, w.county] {
        // Act
        let res = w
            .app
            .post_auth(
                ORGS,
                &w.hefei_admin.access,
                &org_body("league", "regional", region, &[w.hospital]),
            )
            .await;

        // Assert
        assert_eq!(error_code(res).await, (422, "invalid_form_region".into()));
    }
    assert_eq!(org_rows(&w.app).await, 0);
}

#[tokio::test]
async fn create_returns_422_when_units_are_unknown_repeated_or_outside_the_region() {
    // Arrange
    let w = world().await;
    let cases = [
        (
            org_body("union", "joint", w.hefei, &[w.zhilian, 999_999]),
            "invalid_unit",
        ),
        (
            org_body("union", "joint", w.hefei, &[w.zhilian, w.zhilian]),
            "duplicate_unit",
        ),
        (
            org_body("union", "joint", w.hefei, &[w.zhilian, w.wuhu_unit]),
            "unit_outside_region",
        ),
        // A regional org of the park lists only units inside the park.
        (
            org_body("league", "regional", w.park, &[w.zhilian, w.hospital]),
            "unit_outside_region",
        ),
        (
            org_body("union", "single", w.park, &[w.hospital]),
            "unit_outside_region",
        ),
    ];

    for (body, code) in cases {
        // Act
        let res = w.app.post_auth(ORGS, &w.hefei_admin.access, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (422, code.into()), "{body}");
    }
    assert_eq!(org_rows(&w.app).await, 0);
    assert_eq!(w.app.count::<org_units::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_4xx_and_stores_nothing_when_the_body_is_bad() {
    // Arrange
    let w = world().await;
    let good = org_body("union", "single", w.park, &[w.zhilian]);
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = good.clone();
        b.as_object_mut().expect("object").remove(key);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (without("name"), 400, "bad_request"),
        (without("type"), 400, "bad_request"),
        (without("unit_ids"), 400, "bad_request"),
        (without("region_id"), 400, "bad_request"),
        (with("name", json!("")), 422, "invalid_name"),
        (with("name", json!("   ")), 422, "invalid_name"),
        (with("name", json!("工".repeat(101))), 422, "invalid_name"),
        (with("name", json!("a\u{7}b")), 422, "invalid_name"),
        (with("name", json!("工会\u{202E}会工")), 422, "invalid_name"),
        (with("name", json!("工\u{200B}会")), 422, "invalid_name"),
        (with("name", json!("\u{FEFF}工会")), 422, "invalid_name"),
        (with("name", json!(5)), 400, "bad_request"),
        (with("type", json!("party")), 422, "invalid_type"),
        (with("form", json!("Single")), 422, "invalid_form"),
        (
            with("join_policy", json!("closed")),
            422,
            "invalid_join_policy",
        ),
        (with("unit_ids", json!("1")), 400, "bad_request"),
        (with("unit_ids", json!([-1])), 422, "invalid_unit"),
        (with("unit_ids", json!(["x"])), 400, "bad_request"),
        (
            with("unit_ids", json!((1..=501).collect::<Vec<i64>>())),
            422,
            "too_many_units",
        ),
        (with("region_id", json!("1")), 400, "bad_request"),
        (with("region_id", json!(99_999_999)), 422, "invalid_region"),
        (with("region_id", json!(1e30)), 400, "bad_request"),
        (with("extra", json!(true)), 400, "bad_request"),
        (json!([good.clone()]), 400, "bad_request"),
    ];

    for (body, status, code) in cases {
        // Act
        let res = w.app.post_auth(ORGS, &w.hefei_admin.access, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (status, code.into()), "{body}");
    }
    let huge = w
        .app
        .client
        .post(w.app.url(ORGS))
        .bearer_auth(&w.hefei_admin.access)
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{}\"}}", "x".repeat(70_000)))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(huge).await, (413, "payload_too_large".into()));
    let not_json = w.app.post_raw(ORGS, "application/json", "{").await;
    assert_eq!(
        not_json.status().as_u16(),
        401,
        "no token: 401 before the body"
    );
    assert_eq!(org_rows(&w.app).await, 0);
}

#[tokio::test]
async fn create_returns_403_when_the_caller_does_not_administer_the_region() {
    // Arrange
    let w = world().await;
    let a = union_of_zhilian(&w, "approval").await;
    let officer = org_admin(&w, "13700000001", id(&a)).await;
    let county_admin = w
        .app
        .login_with_role("13800000003", "admin", &format!("region:{}", w.county))
        .await;
    let body = org_body("union", "single", w.park, &[w.yunfan]);

    for (who, token) in [
        ("wuhu admin", &w.wuhu_admin.access),
        ("worker", &w.worker.access),
        ("org admin", &officer.access),
        ("county admin on the park", &county_admin.access),
    ] {
        // Act
        let res = w.app.post_auth(ORGS, token, &body).await;

        // Assert
        assert_eq!(error_code(res).await, (403, "forbidden".into()), "{who}");
    }
    let res = w.app.post_json(ORGS, &body).await;
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    assert_eq!(org_rows(&w.app).await, 1);
}

#[tokio::test]
async fn list_returns_live_orgs_filtered_by_subtree_unit_type_and_name() {
    // Arrange
    let w = world().await;
    let single = union_of_zhilian(&w, "approval").await;
    let league = make_org(
        &w,
        org_body("league", "regional", w.park, &[w.zhilian, w.yunfan]),
    )
    .await;
    let online = make_org(&w, org_body("union", "online", w.county, &[w.platform])).await;
    let wuhu_org = {
        let res = w
            .app
            .post_auth(
                ORGS,
                &w.wuhu_admin.access,
                &org_body("women", "single", w.wuhu, &[w.wuhu_unit]),
            )
            .await;
        let (status, body) = status_json(res).await;
        assert_eq!(status, 201, "{body}");
        body
    };
    let dissolved = make_org(&w, org_body("women", "single", w.county, &[w.hospital])).await;
    w.app
        .exec(
            "UPDATE orgs SET dissolved_at = 1 WHERE id = ?",
            vec![id(&dissolved).into()],
        )
        .await;
    let ids = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id)
            .collect()
    };
    let list = |q: String| {
        let app = &w.app;
        let token = w.worker.access.clone();
        async move {
            let (status, body) =
                status_json(app.get_auth(&format!("{ORGS}{q}"), &token).await).await;
            assert_eq!(status, 200, "{q}: {body}");
            body
        }
    };

    // Act
    let all = list(String::new()).await;
    let hefei = list(format!("?region_id={}", w.hefei)).await;
    let park = list(format!("?region_id={}", w.park)).await;
    let wuhu = list(format!("?region_id={}", w.wuhu)).await;
    let by_unit = list(format!("?unit_id={}", w.zhilian)).await;
    let leagues = list("?type=league".into()).await;
    let named = list(format!("?q={}", urlencode("智联"))).await;
    let percent = list(format!("?q={}", urlencode("%"))).await;
    let first = list("?limit=2".into()).await;
    let rest = list(format!(
        "?limit=2&cursor={}",
        first["next_cursor"].as_str().expect("cursor")
    ))
    .await;

    // Assert
    assert_eq!(
        ids(&all),
        vec![id(&single), id(&league), id(&online), id(&wuhu_org)]
    );
    assert_eq!(ids(&hefei), vec![id(&single), id(&league), id(&online)]);
    assert_eq!(ids(&park), vec![id(&single), id(&league)]);
    assert_eq!(ids(&wuhu), vec![id(&wuhu_org)]);
    assert_eq!(ids(&by_unit), vec![id(&single), id(&league)]);
    assert_eq!(ids(&leagues), vec![id(&league)]);
    assert_eq!(ids(&named), vec![id(&single)]);
    assert_eq!(ids(&percent), Vec::<i64>::new());
    assert_eq!(ids(&first), vec![id(&single), id(&league)]);
    assert_eq!(ids(&rest), vec![id(&online), id(&wuhu_org)]);
    assert_eq!(rest["next_cursor"], Value::Null);
    // Public data only: a worker sees no join code; the admin of the region does.
    assert!(
        all["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|o| o["join_code"].is_null())
    );
    assert_eq!(all["items"][0]["unit_ids"], json!([w.zhilian]));
    let (_, admin_view) = status_json(w.app.get_auth(ORGS, &w.hefei_admin.access).await).await;
    let codes: Vec<bool> = admin_view["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["join_code"].is_string())
        .collect();
    assert_eq!(codes, vec![true, true, true, false], "not Wuhu's code");
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn list_returns_400_for_bad_queries_and_401_without_a_token() {
    // Arrange
    let w = world().await;

    for q in [
        "?limit=0",
        "?limit=101",
        "?cursor=abc",
        "?type=party",
        "?q=",
        "?q=%00",
        "?region_id=x",
        "?unit_id=1.5",
    ] {
        // Act
        let res = w
            .app
            .get_auth(&format!("{ORGS}{q}"), &w.worker.access)
            .await;

        // Assert
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{q}");
    }
    assert_eq!(
        error_code(w.app.get(ORGS).await).await,
        (401, "unauthorized".into())
    );
}

#[tokio::test]
async fn get_returns_the_join_code_only_to_the_orgs_admins() {
    // Arrange
    let w = world().await;
    let a = union_of_zhilian(&w, "approval").await;
    let b = make_org(&w, org_body("union", "online", w.county, &[w.platform])).await;
    let officer_a = org_admin(&w, "13700000001", id(&a)).await;
    let path = format!("{ORGS}/{}", id(&a));

    // Act
    let as_admin = status_json(w.app.get_auth(&path, &w.hefei_admin.access).await).await;
    let as_officer = status_json(w.app.get_auth(&path, &officer_a.access).await).await;
    let as_worker = status_json(w.app.get_auth(&path, &w.worker.access).await).await;
    let as_wuhu = status_json(w.app.get_auth(&path, &w.wuhu_admin.access).await).await;
    let b_as_officer_a = status_json(
        w.app
            .get_auth(&format!("{ORGS}/{}", id(&b)), &officer_a.access)
            .await,
    )
    .await;

    // Assert
    assert_eq!(as_admin, (200, a.clone()));
    assert_eq!(as_officer, (200, a.clone()));
    let mut public = a.clone();
    public["join_code"] = Value::Null;
    assert_eq!(as_worker, (200, public.clone()));
    assert_eq!(as_wuhu, (200, public));
    assert_eq!(b_as_officer_a.0, 200);
    assert_eq!(b_as_officer_a.1["join_code"], Value::Null);
}

#[tokio::test]
async fn get_returns_404_when_the_org_is_unknown_or_dissolved() {
    // Arrange
    let w = world().await;
    let a = union_of_zhilian(&w, "approval").await;
    w.app
        .exec(
            "UPDATE orgs SET dissolved_at = 1 WHERE id = ?",
            vec![id(&a).into()],
        )
        .await;

    for path in [
        format!("{ORGS}/{}", id(&a)),
        format!("{ORGS}/999999"),
        format!("{ORGS}/abc"),
        format!("{ORGS}/99999999999999999999999"),
    ] {
        // Act
        let res = w.app.get_auth(&path, &w.hefei_admin.access).await;

        // Assert
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{path}");
    }
    let code = a["join_code"].as_str().expect("code");
    let res = w.app.get(&format!("{ORGS}/by-code/{code}")).await;
    assert_eq!(
        res.status().as_u16(),
        404,
        "a dissolved org's poster is gone"
    );
}

#[tokio::test]
async fn by_code_returns_the_poster_data_without_a_token() {
    // Arrange
    let w = world().await;
    let league = make_org(
        &w,
        org_body("league", "regional", w.park, &[w.zhilian, w.yunfan]),
    )
    .await;
    let code = league["join_code"].as_str().expect("code").to_owned();

    // Act
    let (status, body) = status_json(w.app.get(&format!("{ORGS}/by-code/{code}")).await).await;
    let lower = w
        .app
        .get(&format!("{ORGS}/by-code/{}", code.to_lowercase()))
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "id": id(&league), "name": league["name"], "type": "league", "form": "regional",
            "join_policy": "approval", "region_name": "合肥高新区",
            "unit_names": ["合肥智联电子科技有限公司", "安徽云帆软件有限公司"],
        })
    );
    assert_eq!(
        lower.status().as_u16(),
        200,
        "codes are read case-insensitively"
    );
    for bad in ["ABCDEFGHJK", "x", &"A".repeat(200), "%00"] {
        let res = w.app.get(&format!("{ORGS}/by-code/{bad}")).await;
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{bad}");
    }
}

#[tokio::test]
async fn join_qr_returns_an_svg_of_the_join_url_to_the_orgs_admins_and_404_to_others() {
    // Arrange
    let w = world().await;
    let a = union_of_zhilian(&w, "approval").await;
    let b = make_org(&w, org_body("union", "online", w.county, &[w.platform])).await;
    let officer_a = org_admin(&w, "13700000001", id(&a)).await;
    let path = format!("{ORGS}/{}/join-qr.svg", id(&a));

    // Act
    let res = w.app.get_auth(&path, &officer_a.access).await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let ct = header(&res, "content-type").expect("content-type");
    assert!(ct.starts_with("image/svg+xml"), "{ct}");
    let svg = res.text().await.expect("text");
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    let admin = w.app.get_auth(&path, &w.hefei_admin.access).await;
    assert_eq!(admin.status().as_u16(), 200);
    // The encoded URL ends in the join code, which the public poster route resolves.
    let code = a["join_code"].as_str().expect("code");
    let (status, poster) = status_json(w.app.get(&format!("{ORGS}/by-code/{code}")).await).await;
    assert_eq!((status, id(&poster)), (200, id(&a)));
    assert_eq!(
        qunjia::orgs::service::join_url(&w.app.state.settings.public_url, code),
        format!("http://127.0.0.1/join/{code}")
    );
    for (who, token, p) in [
        ("worker", &w.worker.access, path.clone()),
        ("wuhu admin", &w.wuhu_admin.access, path.clone()),
        (
            "officer of A on B",
            &officer_a.access,
            format!("{ORGS}/{}/join-qr.svg", id(&b)),
        ),
    ] {
        let res = w.app.get_auth(&p, token).await;
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{who}");
    }
}

#[tokio::test]
async fn suggested_returns_the_orgs_of_my_workplace_and_my_platform_with_my_status() {
    // Arrange
    let w = world().await;
    let union = union_of_zhilian(&w, "approval").await;
    let league = make_org(
        &w,
        org_body("league", "regional", w.park, &[w.zhilian, w.yunfan]),
    )
    .await;
    let online = make_org(&w, org_body("union", "online", w.county, &[w.platform])).await;
    let _other = make_org(&w, org_body("union", "single", w.county, &[w.hospital])).await;
    let worker = person(
        &w.app,
        "13900000002",
        Some("张三"),
        Some("male"),
        Some("2000-01-01"),
    )
    .await;
    let patch = json!({ "unit_id": w.zhilian, "platform": "小蜂快送" });
    assert_eq!(
        w.app
            .patch_auth("/api/v1/me", &worker.access, &patch)
            .await
            .status()
            .as_u16(),
        200
    );
    let joined = w
        .app
        .post_auth(
            &format!("{ORGS}/{}/join", id(&union)),
            &worker.access,
            &json!({}),
        )
        .await;
    assert_eq!(joined.status().as_u16(), 201);

    // Act
    let (status, body) = status_json(
        w.app
            .get_auth("/api/v1/me/orgs/suggested", &worker.access)
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let got: Vec<(i64, Value)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| (id(o), o["member_status"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (id(&union), json!("pending")),
            (id(&league), Value::Null),
            (id(&online), Value::Null),
        ]
    );
    // Someone with neither workplace nor platform gets nothing.
    let (_, none) = status_json(
        w.app
            .get_auth("/api/v1/me/orgs/suggested", &w.worker.access)
            .await,
    )
    .await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn org_admin_of_one_org_gets_404_on_every_private_route_of_another() {
    // Arrange
    let w = world().await;
    let a = union_of_zhilian(&w, "approval").await;
    let b = make_org(&w, org_body("union", "online", w.county, &[w.platform])).await;
    let officer_a = org_admin(&w, "13700000001", id(&a)).await;
    let member = person(&w.app, "13900000003", Some("王五"), Some("male"), None).await;
    let (_, m) = status_json(
        w.app
            .post_auth(
                &format!("{ORGS}/{}/join", id(&b)),
                &member.access,
                &json!({}),
            )
            .await,
    )
    .await;
    let mid = id(&m);

    // Act
    let members = w
        .app
        .get_auth(&format!("{ORGS}/{}/members", id(&b)), &officer_a.access)
        .await;
    let approve = w
        .app
        .post_auth(
            &format!("/api/v1/memberships/{mid}/approve"),
            &officer_a.access,
            &json!({}),
        )
        .await;
    let reject = w
        .app
        .post_auth(
            &format!("/api/v1/memberships/{mid}/reject"),
            &officer_a.access,
            &json!({"reason": "不"}),
        )
        .await;
    let remove = w
        .app
        .delete_auth(&format!("/api/v1/memberships/{mid}"), &officer_a.access)
        .await;
    let leader = w
        .app
        .post_auth(
            &format!("{ORGS}/{}/leaders", id(&b)),
            &officer_a.access,
            &json!({ "user_id": member.user_id, "position": "主席" }),
        )
        .await;

    // Assert
    for res in [members, approve, reject, remove, leader] {
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
    // The same officer manages its own org.
    let own = w
        .app
        .get_auth(&format!("{ORGS}/{}/members", id(&a)), &officer_a.access)
        .await;
    assert_eq!(own.status().as_u16(), 200);
    let status: Vec<String> = qunjia::entity::memberships::Entity::find()
        .all(&w.app.state.db)
        .await
        .expect("rows")
        .into_iter()
        .map(|m| m.status)
        .collect();
    assert_eq!(status, vec!["pending"]);
}
