//! API.md "Units": the register (`POST/GET /units`, `GET/PATCH /units/{id}`),
//! bulk import from CSV and XLSX with its templates, scoped to region admins.
use qunjia::entity::units;
use qunjia::units::uscc::check_char;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{Session, TestApp, error_code, spawn_app};

const UNITS: &str = "/api/v1/units";
const HEFEI: &str = "340100";
const WUHU: &str = "340200";
const CSV_HEADER: &str = "区划代码(region_code),单位名称(name),统一社会信用代码(uscc),单位类型(kind),职工人数(employee_count),规模以上(above_scale),有党组织(has_party_org),行业(industry)";

/// A valid code, different for every `n`.
fn uscc(n: u32) -> String {
    let body = format!("91340100MA{n:07}");
    format!("{body}{}", check_char(&body).expect("body"))
}

/// A code whose check character is wrong.
fn bad_uscc(n: u32) -> String {
    let good = uscc(n);
    let last = if good.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &good[..17])
}

async fn admin_of(app: &TestApp, phone: &str, code: &str) -> Session {
    let id = app.region_id(code).await;
    app.login_with_role(phone, "admin", &format!("region:{id}"))
        .await
}

fn body(region_id: i64, code: &str) -> Value {
    json!({
        "name": "合肥某某科技有限公司", "uscc": code, "kind": "enterprise",
        "region_id": region_id, "employee_count": 45, "above_scale": true,
        "has_party_org": false, "industry": "软件",
    })
}

async fn create(app: &TestApp, s: &Session, body: &Value) -> reqwest::Response {
    app.post_auth(UNITS, &s.access, body).await
}

async fn create_ok(app: &TestApp, s: &Session, body: &Value) -> Value {
    let (status, b) = status_json(create(app, s, body).await).await;
    assert_eq!(status, 201, "{b}");
    b
}

async fn unit_count(app: &TestApp) -> u64 {
    app.count::<units::Entity>().await
}

/// A county under Hefei, created through the API.
async fn county(app: &TestApp, admin: &Session, code: &str) -> i64 {
    let hefei = app.region_id(HEFEI).await;
    let (status, b) = status_json(
        app.post_auth(
            "/api/v1/regions",
            &admin.access,
            &json!({"code": code, "name": format!("区{code}"), "kind": "county", "parent_id": hefei}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{b}");
    b["id"].as_i64().expect("id")
}

// ---------------------------------------------------------------- multipart

const BOUNDARY: &str = "qunjia-test-boundary-5f1c0e7b";

fn multipart(field: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"units.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    out
}

async fn upload(
    app: &TestApp,
    s: &Session,
    query: &str,
    field: &str,
    bytes: &[u8],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("{UNITS}/import?{query}")))
        .bearer_auth(&s.access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(field, bytes))
        .send()
        .await
        .expect("request")
}

async fn import(app: &TestApp, s: &Session, region_id: i64, bytes: &[u8]) -> (u16, Value) {
    status_json(upload(app, s, &format!("region_id={region_id}"), "file", bytes).await).await
}

/// A CSV line for a data row.
fn line(region: &str, name: &str, code: &str, kind: &str, employees: &str) -> String {
    format!("{region},{name},{code},{kind},{employees},否,否,制造业")
}

fn csv(lines: &[String], bom: bool) -> Vec<u8> {
    let mut out = if bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    out.extend_from_slice(CSV_HEADER.as_bytes());
    for l in lines {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(l.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn generated_rows(n: u32, region: &str) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            vec![
                region.to_owned(),
                format!("批量导入单位{i}"),
                uscc(100_000 + i),
                ["企业", "社会组织", "association", "网络平台"][i as usize % 4].to_owned(),
                (i % 500).to_string(),
                ["是", "否", "Y", "0"][i as usize % 4].to_owned(),
                ["true", "N", "1", "否"][i as usize % 4].to_owned(),
                if i % 3 == 0 {
                    String::new()
                } else {
                    "批发和零售业".to_owned()
                },
            ]
        })
        .collect()
}

fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book
        .add_worksheet_with_constant_memory()
        .expect("worksheet");
    for (c, h) in CSV_HEADER.split(',').enumerate() {
        sheet.write_string(0, c as u16, h).expect("header");
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            // Employees as numbers, as Excel would store them.
            if c == 4 {
                let n: f64 = v.parse().expect("number");
                sheet.write_number(r as u32 + 1, c as u16, n).expect("cell");
            } else if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, v).expect("cell");
            }
        }
    }
    book.save_to_buffer().expect("xlsx")
}

// ---------------------------------------------------------------- create

#[tokio::test]
async fn create_returns_201_with_the_unit_when_admin_covers_the_region() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let code = uscc(1);

    // Act
    let b = create_ok(&app, &admin, &body(hefei, &code.to_lowercase())).await;

    // Assert
    let id = b["id"].as_i64().expect("id");
    assert_eq!(
        b,
        json!({
            "id": id, "name": "合肥某某科技有限公司", "uscc": code, "kind": "enterprise",
            "region_id": hefei, "employee_count": 45, "above_scale": true,
            "has_party_org": false, "industry": "软件",
        })
    );
    assert_eq!(unit_count(&app).await, 1);
    let entry = app
        .audit("unit.create")
        .await
        .into_iter()
        .next()
        .expect("audit entry");
    assert_eq!(entry.actor_user_id, Some(admin.user_id));
    assert_eq!(entry.target, format!("unit:{id}"));
    assert_eq!(entry.region_id, Some(hefei));
}

#[tokio::test]
async fn create_returns_201_when_the_province_admin_creates_in_a_county() {
    // Arrange
    let app = spawn_app().await;
    let city = admin_of(&app, "13800000001", HEFEI).await;
    let province = admin_of(&app, "13800000002", "340000").await;
    let shushan = county(&app, &city, "340104").await;

    // Act
    let mut b = body(shushan, &uscc(2));
    b["industry"] = Value::Null;
    let created = create_ok(&app, &province, &b).await;

    // Assert
    assert_eq!(created["region_id"], shushan);
    assert_eq!(created["industry"], Value::Null);
}

#[tokio::test]
async fn create_returns_4xx_and_stores_nothing_when_input_breaks_a_rule() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let with = |k: &str, v: Value| {
        let mut b = body(hefei, &uscc(3));
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = body(hefei, &uscc(3));
        b.as_object_mut().expect("object").remove(k);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (with("uscc", json!(bad_uscc(3))), 422, "invalid_uscc"),
        (with("uscc", json!(&uscc(3)[..17])), 422, "invalid_uscc"),
        (
            with("uscc", json!("9111000080210043IB")),
            422,
            "invalid_uscc",
        ),
        (with("uscc", json!("")), 422, "invalid_uscc"),
        (with("kind", json!("company")), 422, "invalid_kind"),
        (with("kind", json!("企业")), 422, "invalid_kind"),
        (
            with("employee_count", json!(-1)),
            422,
            "invalid_employee_count",
        ),
        (
            with("employee_count", json!(1_000_001)),
            422,
            "invalid_employee_count",
        ),
        (with("name", json!("")), 422, "invalid_name"),
        (with("name", json!("   ")), 422, "invalid_name"),
        (with("name", json!("字".repeat(201))), 422, "invalid_name"),
        (with("name", json!("某某\u{202E}公司")), 422, "invalid_name"),
        (with("name", json!("某\u{200B}公司")), 422, "invalid_name"),
        (with("name", json!("\u{FEFF}某公司")), 422, "invalid_name"),
        (
            with("industry", json!("x".repeat(101))),
            422,
            "invalid_industry",
        ),
        (with("region_id", json!(999_999)), 422, "invalid_region"),
        (with("employee_count", json!("45")), 400, "bad_request"),
        (with("employee_count", json!(4.5)), 400, "bad_request"),
        (with("above_scale", json!("是")), 400, "bad_request"),
        (without("uscc"), 400, "bad_request"),
        (without("region_id"), 400, "bad_request"),
        (json!([1, 2]), 400, "bad_request"),
    ];

    for (b, status, code) in cases {
        // Act
        let got = error_code(create(&app, &admin, &b).await).await;

        // Assert
        assert_eq!(got, (status, code.to_owned()), "{b}");
    }
    let raw = app.post_raw(UNITS, "application/json", "{\"name\":").await;
    assert_eq!(raw.status().as_u16(), 401);
    let res = app
        .client
        .post(app.url(UNITS))
        .bearer_auth(&admin.access)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(res).await, (400, "bad_request".to_owned()));
    assert_eq!(unit_count(&app).await, 0);
    assert_eq!(app.audit_count("unit.create").await, 0);
}

#[tokio::test]
async fn create_returns_201_when_values_are_at_the_limits() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let mut b = body(hefei, &uscc(4));
    b["name"] = json!("字".repeat(200));
    b["employee_count"] = json!(1_000_000);
    b["industry"] = json!("x".repeat(100));
    let mut zero = body(hefei, &uscc(5));
    zero["employee_count"] = json!(0);

    // Act
    let big = create_ok(&app, &admin, &b).await;
    let small = create_ok(&app, &admin, &zero).await;

    // Assert
    assert_eq!(big["employee_count"], 1_000_000);
    assert_eq!(small["employee_count"], 0);
}

#[tokio::test]
async fn create_returns_409_uscc_exists_when_the_code_is_registered() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    create_ok(&app, &admin, &body(hefei, &uscc(6))).await;

    // Act
    let got = error_code(create(&app, &admin, &body(hefei, &uscc(6).to_lowercase())).await).await;

    // Assert
    assert_eq!(got, (409, "uscc_exists".to_owned()));
    assert_eq!(unit_count(&app).await, 1);
}

#[tokio::test]
async fn create_returns_one_201_and_409s_when_the_same_code_races() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let b = body(hefei, &uscc(7));

    // Act
    let results = futures_util::future::join_all(
        (0..12).map(|_| async { create(&app, &admin, &b).await.status().as_u16() }),
    )
    .await;

    // Assert
    assert_eq!(
        results.iter().filter(|s| **s == 201).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|s| **s == 409).count(),
        11,
        "{results:?}"
    );
    assert_eq!(unit_count(&app).await, 1);
}

#[tokio::test]
async fn create_returns_403_when_caller_is_admin_elsewhere_or_no_admin() {
    // Arrange
    let app = spawn_app().await;
    let wuhu_admin = admin_of(&app, "13800000001", WUHU).await;
    let worker = app.login("13800000002").await;
    let hefei = app.region_id(HEFEI).await;
    let b = body(hefei, &uscc(8));

    // Act
    let other_city = error_code(create(&app, &wuhu_admin, &b).await).await;
    let plain = error_code(create(&app, &worker, &b).await).await;
    let anonymous = error_code(app.post_json(UNITS, &b).await).await;

    // Assert
    assert_eq!(other_city, (403, "forbidden".to_owned()));
    assert_eq!(plain, (403, "forbidden".to_owned()));
    assert_eq!(anonymous, (401, "unauthorized".to_owned()));
    assert_eq!(unit_count(&app).await, 0);
}

// ---------------------------------------------------------------- read and patch

#[tokio::test]
async fn get_returns_the_unit_to_covering_admins_and_404_to_others() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let province = admin_of(&app, "13800000002", "340000").await;
    let wuhu_admin = admin_of(&app, "13800000003", WUHU).await;
    let worker = app.login("13800000004").await;
    let hefei = app.region_id(HEFEI).await;
    let created = create_ok(&app, &admin, &body(hefei, &uscc(9))).await;
    let path = format!("{UNITS}/{}", created["id"]);

    // Act
    let own = status_json(app.get_auth(&path, &admin.access).await).await;
    let above = status_json(app.get_auth(&path, &province.access).await).await;
    let other = error_code(app.get_auth(&path, &wuhu_admin.access).await).await;
    let plain = error_code(app.get_auth(&path, &worker.access).await).await;
    let missing = error_code(
        app.get_auth(&format!("{UNITS}/999999"), &admin.access)
            .await,
    )
    .await;
    let garbage = error_code(app.get_auth(&format!("{UNITS}/abc"), &admin.access).await).await;

    // Assert
    assert_eq!(own, (200, created.clone()));
    assert_eq!(above, (200, created));
    for got in [other, plain, missing, garbage] {
        assert_eq!(got, (404, "not_found".to_owned()));
    }
}

#[tokio::test]
async fn patch_returns_the_changed_unit_and_audits_when_fields_are_valid() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let shushan = county(&app, &admin, "340104").await;
    let created = create_ok(&app, &admin, &body(hefei, &uscc(10))).await;
    let path = format!("{UNITS}/{}", created["id"]);

    // Act
    let (status, b) = status_json(
        app.patch_auth(
            &path,
            &admin.access,
            &json!({
                "name": " 新名称 ", "kind": "platform", "region_id": shushan,
                "employee_count": 0, "has_party_org": true, "industry": null,
                "uscc": uscc(11),
            }),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        b,
        json!({
            "id": created["id"], "name": "新名称", "uscc": uscc(11), "kind": "platform",
            "region_id": shushan, "employee_count": 0, "above_scale": true,
            "has_party_org": true, "industry": null,
        })
    );
    let (_, again) = status_json(app.get_auth(&path, &admin.access).await).await;
    assert_eq!(again, b);
    assert_eq!(app.audit_count("unit.update").await, 1);
    // An empty patch changes nothing and writes no audit entry.
    let (status, same) = status_json(app.patch_auth(&path, &admin.access, &json!({})).await).await;
    assert_eq!((status, same), (200, b));
    assert_eq!(app.audit_count("unit.update").await, 1);
}

#[tokio::test]
async fn patch_returns_4xx_and_changes_nothing_when_input_or_scope_is_wrong() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let wuhu_admin = admin_of(&app, "13800000002", WUHU).await;
    let worker = app.login("13800000003").await;
    let hefei = app.region_id(HEFEI).await;
    let wuhu = app.region_id(WUHU).await;
    let created = create_ok(&app, &admin, &body(hefei, &uscc(12))).await;
    create_ok(&app, &admin, &body(hefei, &uscc(13))).await;
    let path = format!("{UNITS}/{}", created["id"]);
    let cases: Vec<(&Session, Value, u16, &str)> = vec![
        (&admin, json!({"uscc": bad_uscc(12)}), 422, "invalid_uscc"),
        (&admin, json!({"uscc": uscc(13)}), 409, "uscc_exists"),
        (&admin, json!({"kind": "shop"}), 422, "invalid_kind"),
        (&admin, json!({"name": ""}), 422, "invalid_name"),
        (
            &admin,
            json!({"employee_count": 2_000_000}),
            422,
            "invalid_employee_count",
        ),
        (
            &admin,
            json!({"industry": "y".repeat(101)}),
            422,
            "invalid_industry",
        ),
        (&admin, json!({"region_id": 999_999}), 422, "invalid_region"),
        (&admin, json!({"region_id": wuhu}), 403, "forbidden"),
        (&admin, json!({"above_scale": "yes"}), 400, "bad_request"),
        (&admin, json!("name"), 400, "bad_request"),
        (&wuhu_admin, json!({"name": "别人的"}), 404, "not_found"),
        (&worker, json!({"name": "别人的"}), 404, "not_found"),
    ];

    for (who, b, status, code) in cases {
        // Act
        let got = error_code(app.patch_auth(&path, &who.access, &b).await).await;

        // Assert
        assert_eq!(got, (status, code.to_owned()), "{b}");
    }
    let (_, now) = status_json(app.get_auth(&path, &admin.access).await).await;
    assert_eq!(now, created);
    assert_eq!(app.audit_count("unit.update").await, 0);
}

// ---------------------------------------------------------------- list

#[tokio::test]
async fn list_returns_the_units_of_the_whole_subtree_filtered_and_paged() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let wuhu_admin = admin_of(&app, "13800000002", WUHU).await;
    let hefei = app.region_id(HEFEI).await;
    let wuhu = app.region_id(WUHU).await;
    let shushan = county(&app, &admin, "340104").await;
    let mut ids = Vec::new();
    for i in 0..5u32 {
        let mut b = body(if i % 2 == 0 { hefei } else { shushan }, &uscc(20 + i));
        b["name"] = json!(format!("合肥单位{i}"));
        b["kind"] = json!(if i < 3 { "enterprise" } else { "social_org" });
        ids.push(create_ok(&app, &admin, &b).await["id"].clone());
    }
    let mut elsewhere = body(wuhu, &uscc(30));
    elsewhere["name"] = json!("芜湖单位");
    create_ok(&app, &wuhu_admin, &elsewhere).await;
    let list = |q: String| {
        let app = &app;
        let token = admin.access.clone();
        async move { status_json(app.get_auth(&format!("{UNITS}?{q}"), &token).await).await }
    };
    let item_ids = |b: &Value| -> Vec<Value> {
        b["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["id"].clone())
            .collect()
    };

    // Act
    let (s_all, all) = list(format!("region_id={hefei}")).await;
    let (s_county, in_county) = list(format!("region_id={shushan}")).await;
    let (_, social) = list(format!("region_id={hefei}&kind=social_org")).await;
    let (_, by_name) = list(format!("region_id={hefei}&q=%E5%8D%95%E4%BD%8D2")).await;
    let (_, by_code) = list(format!("region_id={hefei}&q={}", &uscc(24)[..17])).await;
    let (_, by_code_lower) = list(format!(
        "region_id={hefei}&q={}",
        uscc(24)[..17].to_lowercase()
    ))
    .await;
    let (_, wild) = list(format!("region_id={hefei}&q=%25")).await;
    let (_, first) = list(format!("region_id={hefei}&limit=2")).await;
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, second) = list(format!("region_id={hefei}&limit=2&cursor={cursor}")).await;

    // Assert
    assert_eq!(s_all, 200);
    assert_eq!(item_ids(&all), ids);
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(s_county, 200);
    assert_eq!(item_ids(&in_county), vec![ids[1].clone(), ids[3].clone()]);
    assert_eq!(item_ids(&social), vec![ids[3].clone(), ids[4].clone()]);
    assert_eq!(item_ids(&by_name), vec![ids[2].clone()]);
    assert_eq!(item_ids(&by_code), vec![ids[4].clone()]);
    assert_eq!(item_ids(&by_code_lower), vec![ids[4].clone()]);
    assert!(item_ids(&wild).is_empty());
    assert_eq!(item_ids(&first), ids[..2].to_vec());
    assert_eq!(item_ids(&second), ids[2..4].to_vec());
    assert_eq!(all["items"][0]["uscc"], uscc(20));
}

#[tokio::test]
async fn list_returns_400_or_403_when_query_or_scope_is_wrong() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let worker = app.login("13800000002").await;
    let hefei = app.region_id(HEFEI).await;
    let wuhu = app.region_id(WUHU).await;
    let cases: Vec<(&Session, String, u16, &str)> = vec![
        (&admin, String::new(), 400, "bad_request"),
        (&admin, "kind=enterprise".into(), 400, "bad_request"),
        (&admin, "region_id=abc".into(), 400, "bad_request"),
        (
            &admin,
            format!("region_id={hefei}&kind=shop"),
            400,
            "bad_request",
        ),
        (
            &admin,
            format!("region_id={hefei}&limit=0"),
            400,
            "bad_request",
        ),
        (
            &admin,
            format!("region_id={hefei}&limit=101"),
            400,
            "bad_request",
        ),
        (
            &admin,
            format!("region_id={hefei}&cursor=x"),
            400,
            "bad_request",
        ),
        (
            &admin,
            format!("region_id={hefei}&q={}", "长".repeat(51)),
            400,
            "bad_request",
        ),
        (&admin, format!("region_id={wuhu}"), 403, "forbidden"),
        (&admin, "region_id=999999".into(), 403, "forbidden"),
        (&worker, format!("region_id={hefei}"), 403, "forbidden"),
    ];

    for (who, q, status, code) in cases {
        // Act
        let got = error_code(app.get_auth(&format!("{UNITS}?{q}"), &who.access).await).await;

        // Assert
        assert_eq!(got, (status, code.to_owned()), "{q}");
    }
}

#[tokio::test]
async fn lookup_still_finds_units_created_through_the_register() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let worker = app.login("13800000002").await;
    let hefei = app.region_id(HEFEI).await;
    let created = create_ok(&app, &admin, &body(hefei, &uscc(40))).await;

    // Act
    let (status, b) = status_json(
        app.get_auth(
            &format!("{UNITS}/lookup?q=%E6%9F%90%E6%9F%90"),
            &worker.access,
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(
        b,
        json!({"items": [{"id": created["id"], "name": "合肥某某科技有限公司", "kind": "enterprise", "region_id": hefei}], "next_cursor": null})
    );
}

// ---------------------------------------------------------------- import

#[tokio::test]
async fn import_returns_201_when_csv_has_a_bom_or_none() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let shushan = county(&app, &admin, "340104").await;
    let with_bom = csv(
        &[
            line(HEFEI, "甲公司", &uscc(50), "企业", "30"),
            line("340104", "乙协会", &uscc(51), "行业协会", "0"),
            "340104,\"丙,平台\",".to_owned() + &uscc(52) + ",网络平台,1000000,Y,1,",
        ],
        true,
    );
    let without_bom = csv(
        &[
            line(HEFEI, "丁组织", &uscc(53), "social_org", "12"),
            line(HEFEI, "戊商会", &uscc(54).to_lowercase(), "商会", "7"),
        ],
        false,
    );

    // Act
    let first = import(&app, &admin, hefei, &with_bom).await;
    let second = import(&app, &admin, hefei, &without_bom).await;

    // Assert
    assert_eq!(first, (201, json!({"imported": 3})));
    assert_eq!(second, (201, json!({"imported": 2})));
    assert_eq!(unit_count(&app).await, 5);
    let platform = units::Entity::find()
        .filter(units::Column::Uscc.eq(uscc(52)))
        .one(&app.state.db)
        .await
        .expect("select")
        .expect("row");
    assert_eq!(
        (
            platform.name.as_str(),
            platform.kind.as_str(),
            platform.region_id,
            platform.employee_count,
            platform.above_scale,
            platform.has_party_org,
            platform.industry.as_deref(),
        ),
        ("丙,平台", "platform", shushan, 1_000_000, true, true, None)
    );
    let assoc = units::Entity::find()
        .filter(units::Column::Uscc.eq(uscc(51)))
        .one(&app.state.db)
        .await
        .expect("select")
        .expect("row");
    assert_eq!(
        (
            assoc.kind.as_str(),
            assoc.above_scale,
            assoc.industry.as_deref()
        ),
        ("association", false, Some("制造业"))
    );
    assert!(
        units::Entity::find()
            .filter(units::Column::Uscc.eq(uscc(54)))
            .one(&app.state.db)
            .await
            .expect("select")
            .is_some()
    );
    assert_eq!(app.audit_count("unit.import").await, 2);
}

#[tokio::test]
async fn import_returns_422_with_every_bad_row_and_stores_nothing() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    create_ok(&app, &admin, &body(hefei, &uscc(60))).await;
    let file = csv(
        &[
            line(HEFEI, "好单位", &uscc(61), "企业", "10"), // row 2: fine
            line(HEFEI, "坏校验", &bad_uscc(62), "企业", "10"), // 3
            line(HEFEI, "重复", &uscc(61), "企业", "10"),   // 4
            line(HEFEI, "已登记", &uscc(60), "企业", "10"), // 5
            line(WUHU, "外市", &uscc(63), "企业", "10"),    // 6
            line("349999", "无此区", &uscc(64), "企业", "10"), // 7
            line(HEFEI, "怪类型", &uscc(65), "公司", "10"), // 8
            line(HEFEI, "负人数", &uscc(66), "企业", "-1"), // 9
            line(HEFEI, "非数字", &uscc(67), "企业", "十"), // 10
            line(HEFEI, "", &uscc(68), "企业", "1000001"),  // 11: two problems
            String::new(),                                  // 12: blank, skipped
            format!("{HEFEI},坏布尔,{},企业,5,有,否,", uscc(69)), // 13
            format!(
                "{HEFEI},长行业,{},企业,5,否,否,{}",
                uscc(70),
                "x".repeat(101)
            ), // 14
            format!(",缺区划,{},企业,5", uscc(71)),         // 15: short row
        ],
        true,
    );

    // Act
    let (status, b) = import(&app, &admin, hefei, &file).await;

    // Assert
    assert_eq!(status, 422, "{b}");
    assert_eq!(b["error"]["code"], "import_invalid");
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let rows: Vec<(i64, String, String)> = b["error"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().expect("row"),
                r["column"].as_str().expect("column").to_owned(),
                r["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect();
    let s = |r: i64, c: &str, why: &str| (r, c.to_owned(), why.to_owned());
    let employees = "职工人数应为0到1000000之间的整数";
    assert_eq!(
        rows,
        vec![
            s(
                3,
                "uscc",
                "统一社会信用代码不正确（应为18位，校验位需正确）"
            ),
            s(4, "uscc", "与第2行重复"),
            s(5, "uscc", "该统一社会信用代码已登记"),
            s(6, "region_code", "该区域不在本次导入的区域范围内"),
            s(7, "region_code", "区划代码不存在"),
            s(
                8,
                "kind",
                "应为 企业、社会组织、行业协会、平台（或 enterprise、social_org、association、platform）"
            ),
            s(9, "employee_count", employees),
            s(10, "employee_count", employees),
            s(11, "name", "必填"),
            s(11, "employee_count", employees),
            s(13, "above_scale", "应为 是/否、true/false、1/0 或 Y/N"),
            s(14, "industry", "行业不能超过100个字"),
            s(15, "region_code", "必填"),
        ]
    );
    assert_eq!(unit_count(&app).await, 1);
    assert_eq!(app.audit_count("unit.import").await, 0);
}

#[tokio::test]
async fn import_returns_422_when_a_required_column_or_any_row_is_missing() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let no_uscc = "区划代码,单位名称,单位类型,职工人数\n340100,甲,企业,3\n";
    let header_only = format!("{CSV_HEADER}\n");

    // Act
    let (s1, b1) = import(&app, &admin, hefei, no_uscc.as_bytes()).await;
    let (s2, b2) = import(&app, &admin, hefei, header_only.as_bytes()).await;
    let (s3, b3) = import(&app, &admin, hefei, b"").await;

    // Assert
    assert_eq!(s1, 422);
    assert_eq!(
        b1["error"]["rows"],
        json!([{"row": 1, "column": "uscc", "reason": "缺少“统一社会信用代码”列"}])
    );
    for (s, b) in [(s2, b2), (s3, b3)] {
        assert_eq!(s, 422);
        assert_eq!(b["error"]["code"], "import_invalid");
    }
    assert_eq!(unit_count(&app).await, 0);
}

#[tokio::test]
async fn import_returns_201_when_the_file_is_xlsx() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let file = xlsx(&generated_rows(25, HEFEI));

    // Act
    let got = import(&app, &admin, hefei, &file).await;

    // Assert
    assert_eq!(got, (201, json!({"imported": 25})));
    let row = units::Entity::find()
        .filter(units::Column::Uscc.eq(uscc(100_001)))
        .one(&app.state.db)
        .await
        .expect("select")
        .expect("row");
    assert_eq!(
        (
            row.kind.as_str(),
            row.employee_count,
            row.above_scale,
            row.has_party_org
        ),
        ("social_org", 1, false, false)
    );
}

#[tokio::test]
async fn import_returns_422_with_spreadsheet_rows_when_xlsx_rows_are_bad() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let mut rows = generated_rows(5, HEFEI);
    rows[3][2] = bad_uscc(1);
    let file = xlsx(&rows);

    // Act
    let (status, b) = import(&app, &admin, hefei, &file).await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(
        b["error"]["rows"],
        json!([{"row": 5, "column": "uscc", "reason": "统一社会信用代码不正确（应为18位，校验位需正确）"}])
    );
    assert_eq!(unit_count(&app).await, 0);
}

#[tokio::test]
async fn import_returns_201_for_10000_rows_of_csv_and_of_xlsx() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let csv_rows: Vec<String> = generated_rows(10_000, HEFEI)
        .into_iter()
        .map(|r| r.join(","))
        .collect();
    let csv_file = csv(&csv_rows, true);
    let xlsx_rows: Vec<Vec<String>> = generated_rows(20_000, HEFEI)
        .into_iter()
        .skip(10_000)
        .collect();
    let xlsx_file = xlsx(&xlsx_rows);

    // Act
    let from_csv = import(&app, &admin, hefei, &csv_file).await;
    let from_xlsx = import(&app, &admin, hefei, &xlsx_file).await;

    // Assert
    assert_eq!(from_csv, (201, json!({"imported": 10_000})));
    assert_eq!(from_xlsx, (201, json!({"imported": 10_000})));
    assert_eq!(unit_count(&app).await, 20_000);
    assert_eq!(app.audit_count("unit.import").await, 2);
    // The same file again: every row is already registered, nothing more is stored.
    let (status, again) = import(&app, &admin, hefei, &csv_file).await;
    assert_eq!(status, 422);
    assert_eq!(again["error"]["rows"].as_array().map(Vec::len), Some(1000));
    assert_eq!(unit_count(&app).await, 20_000);
}

#[tokio::test]
async fn import_returns_4xx_and_stores_nothing_when_upload_is_not_allowed() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let wuhu_admin = admin_of(&app, "13800000002", WUHU).await;
    let worker = app.login("13800000003").await;
    let hefei = app.region_id(HEFEI).await;
    let good = csv(&[line(HEFEI, "甲公司", &uscc(80), "企业", "30")], true);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0".to_vec();
    let gbk = b"\xc7\xf8\xbb\xae\xb4\xfa\xc2\xeb\n".to_vec();
    let fake_zip = b"PK\x03\x04not really a workbook".to_vec();
    let mut huge = good.clone();
    huge.resize(10 * 1024 * 1024 + 1, b' ');
    let region = format!("region_id={hefei}");

    // Act + Assert
    type Upload<'a> = (&'a Session, &'a str, &'a str, &'a [u8]);
    let cases: Vec<(Upload, u16, &str)> = vec![
        (
            (&admin, &region, "file", &png),
            415,
            "unsupported_media_type",
        ),
        (
            (&admin, &region, "file", &xls),
            415,
            "unsupported_media_type",
        ),
        (
            (&admin, &region, "file", &gbk),
            415,
            "unsupported_media_type",
        ),
        (
            (&admin, &region, "file", &fake_zip),
            415,
            "unsupported_media_type",
        ),
        ((&admin, &region, "file", &huge), 413, "payload_too_large"),
        ((&admin, &region, "upload", &good), 400, "bad_request"),
        ((&admin, "", "file", &good), 400, "bad_request"),
        (
            (&admin, "region_id=999999", "file", &good),
            422,
            "invalid_region",
        ),
        ((&wuhu_admin, &region, "file", &good), 403, "forbidden"),
        ((&worker, &region, "file", &good), 403, "forbidden"),
    ];
    for ((who, query, field, bytes), status, code) in cases {
        let got = error_code(upload(&app, who, query, field, bytes).await).await;
        assert_eq!(got, (status, code.to_owned()), "{query} {field} {status}");
    }
    let not_multipart = app
        .client
        .post(app.url(&format!("{UNITS}/import?{region}")))
        .bearer_auth(&admin.access)
        .header("content-type", "text/csv")
        .body(good.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(not_multipart).await,
        (400, "bad_request".to_owned())
    );
    assert_eq!(unit_count(&app).await, 0);
    assert_eq!(app.audit_count("unit.import").await, 0);
}

#[tokio::test]
async fn import_returns_400_and_stores_nothing_when_the_form_has_a_part_besides_one_file() {
    // Arrange: the one upload reader takes exactly one part named `file`.
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;
    let good = csv(&[line(HEFEI, "甲公司", &uscc(80), "企业", "30")], true);
    let part = |name: &str, bytes: &[u8]| {
        let mut out = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"units.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
        out
    };
    let forms = [
        [part("file", &good), part("note", b"hello")].concat(),
        [part("file", &good), part("file", &good)].concat(),
    ];

    for form in forms {
        // Act
        let res = app
            .client
            .post(app.url(&format!("{UNITS}/import?region_id={hefei}")))
            .bearer_auth(&admin.access)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body([form, format!("--{BOUNDARY}--\r\n").into_bytes()].concat())
            .send()
            .await
            .expect("request");

        // Assert
        assert_eq!(error_code(res).await, (400, "bad_request".to_owned()));
    }
    assert_eq!(unit_count(&app).await, 0);
    assert_eq!(app.audit_count("unit.import").await, 0);
}

#[tokio::test]
async fn import_returns_422_when_a_row_lies_outside_the_region() {
    // Arrange: rows of Wuhu imported under Hefei by the province admin.
    let app = spawn_app().await;
    let province = admin_of(&app, "13800000001", "340000").await;
    let hefei = app.region_id(HEFEI).await;
    let file = csv(&[line(WUHU, "芜湖公司", &uscc(81), "企业", "3")], false);

    // Act
    let (status, b) = import(&app, &province, hefei, &file).await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(
        b["error"]["rows"],
        json!([{"row": 2, "column": "region_code", "reason": "该区域不在本次导入的区域范围内"}])
    );
    assert_eq!(unit_count(&app).await, 0);
}

// ---------------------------------------------------------------- templates

#[tokio::test]
async fn csv_template_returns_bom_headers_and_an_example_that_imports() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;

    // Act
    let res = app
        .get_auth(&format!("{UNITS}/import-template.csv"), &admin.access)
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let ct = header(&res, "content-type").unwrap_or_default();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let bytes = res.bytes().await.expect("body").to_vec();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    assert!(lines.next().is_some_and(|l| l.starts_with("340100,")));
    assert_eq!(
        import(&app, &admin, hefei, &bytes).await,
        (201, json!({"imported": 1}))
    );
}

#[tokio::test]
async fn xlsx_template_returns_a_workbook_whose_example_imports() {
    // Arrange
    let app = spawn_app().await;
    let admin = admin_of(&app, "13800000001", HEFEI).await;
    let hefei = app.region_id(HEFEI).await;

    // Act
    let res = app
        .get_auth(&format!("{UNITS}/import-template.xlsx"), &admin.access)
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.expect("body").to_vec();
    assert!(bytes.starts_with(b"PK\x03\x04"));
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).expect("xlsx");
    let range = book.worksheet_range_at(0).expect("sheet").expect("range");
    let header: Vec<String> = range
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header.join(","), CSV_HEADER);
    assert_eq!(range.height(), 2);
    assert_eq!(
        import(&app, &admin, hefei, &bytes).await,
        (201, json!({"imported": 1}))
    );
}

#[tokio::test]
async fn templates_return_403_to_non_admins_and_401_without_token() {
    // Arrange
    let app = spawn_app().await;
    let worker = app.login("13800000001").await;

    for ext in ["csv", "xlsx"] {
        let path = format!("{UNITS}/import-template.{ext}");

        // Act
        let plain = error_code(app.get_auth(&path, &worker.access).await).await;
        let anonymous = error_code(app.get(&path).await).await;

        // Assert
        assert_eq!(plain, (403, "forbidden".to_owned()));
        assert_eq!(anonymous, (401, "unauthorized".to_owned()));
    }
}
