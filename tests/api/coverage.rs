//! Coverage (应建尽建), the gaps worklist and the unit ledgers, on a data set that
//! walks through every branch of the required rule. Units and orgs are written
//! straight into the tables.
use std::collections::HashMap;

use qunjia::entity::{org_units, orgs, regions, units};
use qunjia::regions::service::{NewRegion, insert as insert_region};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{header, status_json};
use crate::support::{TestApp, error_code, spawn_app, spawn_app_with};

/// Ids of the crafted data set, by short name.
struct Fixture {
    province: i64,
    hefei: i64,
    wuhu: i64,
    county: i64,
    national: i64,
    provincial: i64,
    municipal: i64,
    township: i64,
    units: HashMap<&'static str, i64>,
}

async fn add_region(
    app: &TestApp,
    parent: i64,
    code: &str,
    name: &str,
    kind: &str,
    level: Option<&str>,
) -> i64 {
    let parent = regions::Entity::find_by_id(parent)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("parent");
    let new = NewRegion::parse(Some(code), name, kind, level).expect("valid region");
    insert_region(&app.state.db, &parent, new)
        .await
        .expect("insert region")
        .id
}

/// (kind, employees, above_scale, has_party_org, region)
type UnitSpec<'a> = (&'a str, i32, bool, bool, i64);

async fn add_unit(
    app: &TestApp,
    n: usize,
    name: &str,
    (kind, employees, above_scale, has_party_org, region_id): UnitSpec<'_>,
) -> i64 {
    let row = units::ActiveModel {
        name: Set(name.into()),
        uscc: Set(format!("91340100MA{n:08}")),
        kind: Set(kind.into()),
        region_id: Set(region_id),
        employee_count: Set(employees),
        above_scale: Set(above_scale),
        has_party_org: Set(has_party_org),
        industry: Set(None),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    };
    units::Entity::insert(row)
        .exec_with_returning(&app.state.db)
        .await
        .expect("insert unit")
        .id
}

/// An org inserted straight into the database, covering `unit_ids`.
pub(crate) async fn add_org(
    app: &TestApp,
    name: &str,
    org_type: &str,
    region_id: i64,
    dissolved: bool,
    unit_ids: &[i64],
) -> i64 {
    let row = orgs::ActiveModel {
        name: Set(name.into()),
        org_type: Set(org_type.into()),
        form: Set("single".into()),
        region_id: Set(region_id),
        join_code: Set(uuid::Uuid::new_v4().simple().to_string()),
        join_policy: Set("open".into()),
        created_by: Set(None),
        created_at: Set(0),
        updated_at: Set(0),
        dissolved_at: Set(dissolved.then_some(1)),
        ..Default::default()
    };
    let id = orgs::Entity::insert(row)
        .exec_with_returning(&app.state.db)
        .await
        .expect("insert org")
        .id;
    for u in unit_ids {
        org_units::Entity::insert(org_units::ActiveModel {
            org_id: Set(id),
            unit_id: Set(*u),
        })
        .exec_without_returning(&app.state.db)
        .await
        .expect("insert org_unit");
    }
    id
}

/// 合肥市 / 蜀山区 with a national, a provincial (holding a building) and a
/// municipal park and a township; 芜湖市 / 镜湖区 / a township; one platform
/// registered on the province itself.
async fn fixture(app: &TestApp) -> Fixture {
    let province = app.region_id("340000").await;
    let hefei = app.region_id("340100").await;
    let wuhu = app.region_id("340200").await;
    let county = add_region(app, hefei, "340104", "蜀山区", "county", None).await;
    let national = add_region(
        app,
        county,
        "340104500",
        "国家高新区",
        "park",
        Some("national"),
    )
    .await;
    let provincial = add_region(
        app,
        county,
        "340104501",
        "省级经开区",
        "park",
        Some("provincial"),
    )
    .await;
    let municipal = add_region(
        app,
        county,
        "340104502",
        "市级产业园",
        "park",
        Some("municipal"),
    )
    .await;
    let township = add_region(app, county, "340104001", "井岗镇", "township", None).await;
    let building = add_region(
        app,
        provincial,
        "340104501001",
        "创新大厦",
        "building",
        None,
    )
    .await;
    let wuhu_county = add_region(app, wuhu, "340202", "镜湖区", "county", None).await;
    let wuhu_town = add_region(app, wuhu_county, "340202001", "滨江街道", "township", None).await;

    // (key, kind, employees, above_scale, has_party_org, region)
    let spec: Vec<(&'static str, &str, i32, bool, bool, i64)> = vec![
        ("nat30", "enterprise", 30, false, false, national),
        ("prov30", "enterprise", 30, false, false, provincial),
        ("muni30", "enterprise", 30, false, false, municipal),
        ("town300", "enterprise", 300, false, false, township),
        ("nat29", "enterprise", 29, false, false, national),
        ("bldg40", "enterprise", 40, false, false, building),
        ("above", "enterprise", 5, true, false, township),
        ("soc30", "social_org", 30, false, false, township),
        ("soc29", "social_org", 29, false, false, township),
        ("assoc30", "association", 30, false, false, county),
        ("assoc29", "association", 29, false, false, county),
        ("plat", "platform", 3, false, false, province),
        ("party_nat50", "enterprise", 50, false, true, national),
        ("party_above", "enterprise", 50, true, true, township),
        ("party_soc50", "social_org", 50, false, true, township),
        ("party_assoc50", "association", 50, false, true, county),
        ("party_plat", "platform", 50, false, true, county),
        ("wh_plat", "platform", 10, false, false, wuhu_town),
        ("wh_ent", "enterprise", 100, false, false, wuhu_town),
    ];
    let mut ids = HashMap::new();
    for (n, (key, kind, employees, above, party, region)) in spec.into_iter().enumerate() {
        let name = format!("{key}单位");
        let id = add_unit(app, n, &name, (kind, employees, above, party, region)).await;
        ids.insert(key, id);
    }
    // (name, type, region, dissolved, units covered)
    let orgs = [
        (
            "一号工会",
            "union",
            county,
            false,
            vec!["nat30", "muni30", "soc30"],
        ),
        ("高新团委", "league", county, false, vec!["nat30", "prov30"]),
        ("联合妇联", "women", county, false, vec!["assoc30", "plat"]),
        ("已撤销工会", "union", county, true, vec!["bldg40", "above"]),
        (
            "二号工会",
            "union",
            township,
            false,
            vec!["soc30", "town300"],
        ),
        ("镜湖团委", "league", wuhu_town, false, vec!["wh_ent"]),
    ];
    for (name, org_type, region, dissolved, keys) in orgs {
        let units: Vec<i64> = keys.into_iter().map(|k| ids[k]).collect();
        add_org(app, name, org_type, region, dissolved, &units).await;
    }
    Fixture {
        province,
        hefei,
        wuhu,
        county,
        national,
        provincial,
        municipal,
        township,
        units: ids,
    }
}

/// `[units, required, union, league, women, any, required_covered_any]` of a node.
fn counts(node: &Value) -> [i64; 7] {
    let n = |v: &Value| v.as_i64().expect("integer");
    [
        n(&node["units"]),
        n(&node["required"]),
        n(&node["covered"]["union"]),
        n(&node["covered"]["league"]),
        n(&node["covered"]["women"]),
        n(&node["covered"]["any"]),
        n(&node["required_covered_any"]),
    ]
}

fn child(body: &Value, id: i64) -> &Value {
    body["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["region_id"] == id)
        .expect("child listed")
}

fn rate(node: &Value) -> f64 {
    node["rate"].as_f64().expect("rate")
}

async fn coverage_of(app: &TestApp, token: &str, region: i64) -> Value {
    let (status, body) = status_json(
        app.get_auth(&format!("/api/v1/stats/coverage?region_id={region}"), token)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn coverage_returns_exact_counts_for_every_branch_of_the_required_rule() {
    // Arrange
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{}", f.province))
        .await;

    // Act
    let province = coverage_of(&app, &admin.access, f.province).await;
    let hefei = coverage_of(&app, &admin.access, f.hefei).await;
    let county = coverage_of(&app, &admin.access, f.county).await;

    // Assert: the province, its 16 cities, and the unit registered on the province itself.
    assert_eq!(province["region_id"], f.province);
    assert_eq!(province["name"], "安徽省");
    assert_eq!(counts(&province), [19, 8, 4, 3, 2, 8, 5]);
    assert!((rate(&province) - 0.625).abs() < 1e-9);
    assert_eq!(province["children"].as_array().expect("children").len(), 16);
    let h = child(&province, f.hefei);
    assert_eq!(h["name"], "合肥市");
    assert_eq!(counts(h), [16, 6, 4, 2, 1, 6, 4]);
    assert!((rate(h) - 4.0 / 6.0).abs() < 1e-9);
    assert!(h.get("children").is_none(), "children have no children");
    let w = child(&province, f.wuhu);
    assert_eq!(counts(w), [2, 1, 0, 1, 0, 1, 0]);
    assert_eq!(rate(w), 0.0);
    let bengbu = child(&province, app.region_id("340300").await);
    assert_eq!(counts(bengbu), [0; 7]);
    assert_eq!(rate(bengbu), 0.0, "rate is 0 when nothing is required");

    assert_eq!(counts(&hefei), [16, 6, 4, 2, 1, 6, 4]);
    assert_eq!(hefei["children"].as_array().expect("children").len(), 1);
    assert_eq!(counts(child(&hefei, f.county)), [16, 6, 4, 2, 1, 6, 4]);

    // The county: four children plus four units registered on the county itself.
    assert_eq!(counts(&county), [16, 6, 4, 2, 1, 6, 4]);
    assert_eq!(county["children"].as_array().expect("children").len(), 4);
    assert_eq!(counts(child(&county, f.national)), [3, 1, 1, 1, 0, 1, 1]);
    assert_eq!(rate(child(&county, f.national)), 1.0);
    // The building inside the provincial park counts under the park, and is required.
    assert_eq!(counts(child(&county, f.provincial)), [2, 2, 0, 1, 0, 1, 1]);
    assert_eq!(rate(child(&county, f.provincial)), 0.5);
    assert_eq!(counts(child(&county, f.municipal)), [1, 0, 1, 0, 0, 1, 0]);
    assert_eq!(counts(child(&county, f.township)), [6, 2, 2, 0, 0, 2, 1]);
}

#[tokio::test]
async fn coverage_returns_fewer_required_units_when_the_threshold_is_raised() {
    // Arrange
    let app = spawn_app_with(|s| s.required_employees = 50).await;
    let f = fixture(&app).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{}", f.province))
        .await;

    // Act
    let province = coverage_of(&app, &admin.access, f.province).await;

    // Assert: only the above-scale enterprise and the two platforms remain required.
    assert_eq!(counts(&province), [19, 3, 4, 3, 2, 8, 1]);
    assert!((rate(&province) - 1.0 / 3.0).abs() < 1e-9);
}

#[tokio::test]
async fn gaps_returns_required_units_without_a_live_org_with_their_region_path() {
    // Arrange
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{}", f.province))
        .await;
    let base = format!("/api/v1/stats/gaps?region_id={}", f.province);

    // Act
    let (s1, page1) = status_json(
        app.get_auth(&format!("{base}&limit=2"), &admin.access)
            .await,
    )
    .await;
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (s2, page2) = status_json(
        app.get_auth(&format!("{base}&limit=2&cursor={cursor}"), &admin.access)
            .await,
    )
    .await;

    // Assert: the dissolved union covers nothing.
    assert_eq!((s1, s2), (200, 200));
    let items: Vec<&Value> = page1["items"]
        .as_array()
        .expect("items")
        .iter()
        .chain(page2["items"].as_array().expect("items"))
        .collect();
    let ids: Vec<i64> = items
        .iter()
        .map(|g| g["unit_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [f.units["bldg40"], f.units["above"], f.units["wh_plat"]]
    );
    assert_eq!(page2["next_cursor"], Value::Null);
    let bldg = items[0];
    assert_eq!(bldg["name"], "bldg40单位");
    assert_eq!(bldg["kind"], "enterprise");
    assert_eq!(bldg["employee_count"], 40);
    assert_eq!(bldg["uscc"], "91340100MA00000005");
    assert_eq!(
        bldg["region_path"],
        "安徽省 / 合肥市 / 蜀山区 / 省级经开区 / 创新大厦"
    );
    assert_eq!(bldg["reason"], "省级以上园区企业（30人以上）");
    assert_eq!(items[1]["reason"], "规上企业");
    assert_eq!(items[1]["region_path"], "安徽省 / 合肥市 / 蜀山区 / 井岗镇");
    assert_eq!(items[2]["reasons"], json!(["网络平台"]));
    assert_eq!(
        items[2]["region_path"],
        "安徽省 / 芜湖市 / 镜湖区 / 滨江街道"
    );

    // A Wuhu admin sees Wuhu's gap only.
    let wuhu_admin = app
        .login_with_role("13900000002", "admin", &format!("region:{}", f.wuhu))
        .await;
    let (_, body) = status_json(
        app.get_auth(
            &format!("/api/v1/stats/gaps?region_id={}", f.wuhu),
            &wuhu_admin.access,
        )
        .await,
    )
    .await;
    assert_eq!(body["items"].as_array().expect("items").len(), 1);
    assert_eq!(body["items"][0]["unit_id"], f.units["wh_plat"]);
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    r.records()
        .map(|rec| rec.expect("csv record").iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn gaps_csv_returns_every_gap_after_the_bom_and_header() {
    // Arrange
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{}", f.hefei))
        .await;

    // Act
    let res = app
        .get_auth(
            &format!("/api/v1/stats/gaps.csv?region_id={}", f.hefei),
            &admin.access,
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let rows = csv_rows(&bytes);
    assert_eq!(rows[0][0], "区域");
    assert_eq!(rows.len(), 3, "header and the two Hefei gaps");
    assert_eq!(rows[1][1], "bldg40单位");
    assert_eq!(rows[2][5], "规上企业");
}

#[tokio::test]
async fn units_csv_returns_bom_header_and_one_line_per_unit_with_org_names() {
    // Arrange
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{}", f.hefei))
        .await;

    // Act
    let res = app
        .get_auth(
            &format!("/api/v1/ledgers/units.csv?region_id={}", f.hefei),
            &admin.access,
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let ct = header(&res, "content-type").expect("content-type");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let cd = header(&res, "content-disposition").expect("content-disposition");
    assert!(
        cd.starts_with("attachment; filename=") && cd.contains(".csv"),
        "{cd}"
    );
    let bytes = res.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM first");
    let rows = csv_rows(&bytes);
    assert_eq!(
        rows[0],
        [
            "区域",
            "单位名称",
            "统一社会信用代码",
            "类型",
            "职工人数",
            "党组织",
            "工会",
            "共青团",
            "妇联",
            "应建",
            "已建"
        ]
    );
    assert_eq!(rows.len(), 1 + 16, "one line per Hefei unit");
    let by_name: HashMap<&str, &Vec<String>> =
        rows[1..].iter().map(|r| (r[1].as_str(), r)).collect();
    let nat = by_name["nat30单位"];
    assert_eq!(nat[0], "安徽省 / 合肥市 / 蜀山区 / 国家高新区");
    assert_eq!(nat[3], "企业");
    assert_eq!(nat[4], "30");
    assert_eq!(nat[5], "无");
    assert_eq!(&nat[6..], ["一号工会", "高新团委", "", "是", "是"]);
    assert_eq!(
        &by_name["soc30单位"][6..],
        ["一号工会、二号工会", "", "", "是", "是"]
    );
    assert_eq!(&by_name["bldg40单位"][6..], ["", "", "", "是", "否"]);
    assert_eq!(&by_name["muni30单位"][9..], ["否", "是"]);
    assert_eq!(by_name["party_plat单位"][5], "有");
    assert_eq!(by_name["party_plat单位"][9], "否");
    assert!(
        !by_name.contains_key("plat单位"),
        "province-level unit is outside Hefei"
    );
}

#[tokio::test]
async fn units_xlsx_returns_a_workbook_holding_the_ledger_rows() {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};

    // Arrange
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{}", f.province))
        .await;

    // Act
    let res = app
        .get_auth(
            &format!("/api/v1/ledgers/units.xlsx?region_id={}", f.province),
            &admin.access,
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        header(&res, "content-disposition")
            .expect("content-disposition")
            .contains(".xlsx")
    );
    let bytes = res.bytes().await.expect("body");
    assert!(bytes.starts_with(b"PK"), "a zip file");
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("readable xlsx");
    let range = wb.worksheet_range("单位台账").expect("sheet");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 1 + 19);
    assert_eq!(rows[0][1], "单位名称");
    let soc = rows
        .iter()
        .find(|r| r[1] == "soc30单位")
        .expect("soc30 row");
    assert_eq!(soc[4], "30");
    assert_eq!(soc[6], "一号工会、二号工会");
    assert_eq!(soc[10], "是");
    let plat = rows.iter().find(|r| r[1] == "plat单位").expect("plat row");
    assert_eq!(plat[0], "安徽省");
    assert_eq!(plat[8], "联合妇联");
}

#[tokio::test]
async fn stats_return_403_for_other_admins_and_workers_and_401_without_a_token() {
    // Arrange
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let wuhu_admin = app
        .login_with_role("13900000002", "admin", &format!("region:{}", f.wuhu))
        .await;
    let worker = app.login("13900000003").await;
    let paths = [
        "/api/v1/stats/coverage",
        "/api/v1/stats/gaps",
        "/api/v1/stats/gaps.csv",
        "/api/v1/ledgers/units.csv",
        "/api/v1/ledgers/units.xlsx",
    ];

    for path in paths {
        let url = format!("{path}?region_id={}", f.hefei);
        // Act
        let other = error_code(app.get_auth(&url, &wuhu_admin.access).await).await;
        let plain = error_code(app.get_auth(&url, &worker.access).await).await;
        let anon = error_code(app.get(&url).await).await;
        // Assert
        assert_eq!(other, (403, "forbidden".into()), "{path}");
        assert_eq!(plain, (403, "forbidden".into()), "{path}");
        assert_eq!(anon, (401, "unauthorized".into()), "{path}");
    }
}

#[tokio::test]
async fn stats_return_400_for_a_bad_query_and_404_for_an_unknown_region() {
    // Arrange
    let app = spawn_app().await;
    let province = app.region_id("340000").await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{province}"))
        .await;

    for path in [
        "/api/v1/stats/coverage",
        "/api/v1/stats/gaps",
        "/api/v1/stats/gaps.csv",
        "/api/v1/ledgers/units.csv",
        "/api/v1/ledgers/units.xlsx",
    ] {
        for query in ["", "?region_id=", "?region_id=abc", "?region_id=1.5"] {
            // Act
            let res = app.get_auth(&format!("{path}{query}"), &admin.access).await;
            // Assert
            assert_eq!(
                error_code(res).await,
                (400, "bad_request".into()),
                "{path}{query}"
            );
        }
        let res = app
            .get_auth(&format!("{path}?region_id=999999"), &admin.access)
            .await;
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{path}");
    }
    for query in ["limit=0", "limit=101", "cursor=x"] {
        let res = app
            .get_auth(
                &format!("/api/v1/stats/gaps?region_id={province}&{query}"),
                &admin.access,
            )
            .await;
        assert_eq!(
            error_code(res).await,
            (400, "bad_request".into()),
            "{query}"
        );
    }
}

#[tokio::test]
async fn units_csv_returns_every_unit_once_when_a_region_holds_more_than_a_batch() {
    // Arrange: 2,100 units in one township (paged by id) and 30 in another.
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;
    let county = add_region(&app, hefei, "340111", "包河区", "county", None).await;
    let big = add_region(&app, county, "340111001", "大镇", "township", None).await;
    let small = add_region(&app, county, "340111002", "小镇", "township", None).await;
    let rows: Vec<units::ActiveModel> = (0..2130)
        .map(|i| units::ActiveModel {
            name: Set(format!("批量单位{i}")),
            uscc: Set(format!("91340111MA{i:08}")),
            kind: Set("platform".into()),
            region_id: Set(if i % 71 == 0 { small } else { big }),
            employee_count: Set(1),
            above_scale: Set(false),
            has_party_org: Set(false),
            industry: Set(None),
            created_at: Set(0),
            updated_at: Set(0),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        units::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.state.db)
            .await
            .expect("insert units");
    }
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{county}"))
        .await;

    // Act
    let res = app
        .get_auth(
            &format!("/api/v1/ledgers/units.csv?region_id={county}"),
            &admin.access,
        )
        .await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    let rows = csv_rows(&res.bytes().await.expect("body"));
    assert_eq!(rows.len(), 1 + 2130);
    let mut usccs: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    usccs.sort_unstable();
    usccs.dedup();
    assert_eq!(usccs.len(), 2130, "each unit once");
    assert!(rows[1..].iter().all(|r| r[9] == "是" && r[10] == "否"));
    let coverage = coverage_of(&app, &admin.access, county).await;
    assert_eq!(counts(&coverage), [2130, 2130, 0, 0, 0, 0, 0]);
}

/// The per-type counts on the unit row, kept by the database's triggers.
async fn unit_counts(app: &TestApp, unit: i64) -> (i32, i32, i32) {
    let u = units::Entity::find_by_id(unit)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("unit");
    (u.orgs_union, u.orgs_league, u.orgs_women)
}

#[tokio::test]
async fn coverage_follows_orgs_dissolved_revived_and_units_unlisted_after_creation() {
    // Arrange: one required unit (platform), a union and a league listing it.
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;
    let unit = add_unit(&app, 1, "平台甲", ("platform", 5, false, false, hefei)).await;
    let union = add_org(&app, "工会", "union", hefei, false, &[unit]).await;
    let league = add_org(&app, "团支部", "league", hefei, false, &[unit]).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{hefei}"))
        .await;
    assert_eq!(unit_counts(&app, unit).await, (1, 1, 0));
    let covered = |b: &Value| (b["covered"]["union"].as_i64(), b["covered"]["any"].as_i64());
    assert_eq!(
        covered(&coverage_of(&app, &admin.access, hefei).await),
        (Some(1), Some(1))
    );

    // Act + Assert: dissolving, reviving and unlisting move the counts.
    let exec = |sql: String| {
        let db = app.state.db.clone();
        async move {
            sea_orm::ConnectionTrait::execute_unprepared(&db, &sql)
                .await
                .expect("sql");
        }
    };
    exec(format!(
        "UPDATE orgs SET dissolved_at = 5 WHERE id = {union}"
    ))
    .await;
    assert_eq!(unit_counts(&app, unit).await, (0, 1, 0));
    assert_eq!(
        covered(&coverage_of(&app, &admin.access, hefei).await),
        (Some(0), Some(1))
    );
    exec(format!("DELETE FROM org_units WHERE org_id = {league}")).await;
    assert_eq!(unit_counts(&app, unit).await, (0, 0, 0));
    assert_eq!(
        covered(&coverage_of(&app, &admin.access, hefei).await),
        (Some(0), Some(0))
    );
    exec(format!(
        "UPDATE orgs SET dissolved_at = NULL WHERE id = {union}"
    ))
    .await;
    assert_eq!(unit_counts(&app, unit).await, (1, 0, 0));
    // A change that does not touch liveness or type leaves the counts alone.
    exec(format!(
        "UPDATE orgs SET name = '工会（新）' WHERE id = {union}"
    ))
    .await;
    assert_eq!(unit_counts(&app, unit).await, (1, 0, 0));
}

#[tokio::test]
async fn coverage_counts_every_org_when_many_are_created_for_one_unit_at_once() {
    // Arrange
    let app = spawn_app().await;
    let hefei = app.region_id("340100").await;
    let unit = add_unit(&app, 2, "平台乙", ("platform", 5, false, false, hefei)).await;
    let admin = app
        .login_with_role("13900000001", "admin", &format!("region:{hefei}"))
        .await;

    // Act: 12 unions and 8 league branches created through the API at the same moment.
    let results = futures_util::future::join_all((0..20).map(|i| {
        let kind = if i < 12 { "union" } else { "league" };
        let body = json!({
            "name": format!("平台组织{i}"), "type": kind, "form": "online",
            "region_id": hefei, "unit_ids": [unit], "join_policy": "open",
        });
        let (app, token) = (&app, admin.access.clone());
        async move {
            app.post_auth("/api/v1/orgs", &token, &body)
                .await
                .status()
                .as_u16()
        }
    }))
    .await;

    // Assert: none lost, none doubled.
    assert!(results.iter().all(|s| *s == 201), "{results:?}");
    assert_eq!(unit_counts(&app, unit).await, (12, 8, 0));
}
