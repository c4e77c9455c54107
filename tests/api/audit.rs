//! The audit viewer: `GET /audit` and `GET /audit.csv` (region admins over their
//! subtrees, filters, keyset pages newest first) and the append-only table.
use qunjia::entity::{audit_log, regions};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{Session, TestApp, error_code, spawn_app};

const AUDIT: &str = "/api/v1/audit";
const AUDIT_CSV: &str = "/api/v1/audit.csv";

/// 2026-06-01 00:00 in Asia/Shanghai, long before the tests run.
const T0: &str = "2026-05-31T16:00:00Z";
const HOUR: i64 = 3_600_000;

fn t0() -> i64 {
    qunjia::clock::parse_rfc3339_ms(T0).expect("T0")
}

struct World {
    app: TestApp,
    hefei: i64,
    wuhu: i64,
    shushan: i64,
    /// Admin of the province (a root region).
    root: Session,
    hefei_admin: Session,
    wuhu_admin: Session,
    /// Seeded entries, oldest first (e1 … e6).
    e: Vec<i64>,
}

/// An entry written as the application writes them, at a chosen time.
async fn put(
    app: &TestApp,
    actor: Option<i64>,
    action: &str,
    target: &str,
    region: Option<i64>,
    at: i64,
    detail: Option<Value>,
) -> i64 {
    audit_log::ActiveModel {
        actor_user_id: Set(actor),
        action: Set(action.into()),
        target: Set(target.into()),
        region_id: Set(region),
        ip: Set(Some("10.0.0.1".into())),
        detail: Set(detail.map(|d| d.to_string())),
        at: Set(at),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert entry")
    .id
}

/// A county below Hefei, written straight into the table (no audit entry).
async fn county_of(app: &TestApp, parent: i64) -> i64 {
    let p = regions::Entity::find_by_id(parent)
        .one(&app.state.db)
        .await
        .expect("read")
        .expect("parent");
    let row = regions::ActiveModel {
        code: Set("340104".into()),
        name: Set("蜀山区".into()),
        kind: Set("county".into()),
        parent_id: Set(Some(parent)),
        path: Set(String::new()),
        created_at: Set(0),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("county");
    let mut row: regions::ActiveModel = row.into();
    let id = *row.id.as_ref();
    row.path = Set(format!("{}{id}/", p.path));
    row.update(&app.state.db).await.expect("path");
    id
}

async fn world() -> World {
    let app = spawn_app().await;
    let province = app.region_id("340000").await;
    let hefei = app.region_id("340100").await;
    let wuhu = app.region_id("340200").await;
    let shushan = county_of(&app, hefei).await;
    let root = app
        .login_with_role("13800138000", "admin", &format!("region:{province}"))
        .await;
    let hefei_admin = app
        .login_with_role("13800138001", "admin", &format!("region:{hefei}"))
        .await;
    let wuhu_admin = app
        .login_with_role("13800138002", "admin", &format!("region:{wuhu}"))
        .await;
    assert_eq!(app.count::<audit_log::Entity>().await, 0, "a clean log");
    let t = t0();
    let (h, w, r) = (hefei_admin.user_id, wuhu_admin.user_id, root.user_id);
    let e = vec![
        put(
            &app,
            Some(h),
            "unit.create",
            "unit:1",
            Some(hefei),
            t,
            Some(json!({"name": "甲厂"})),
        )
        .await,
        put(
            &app,
            Some(h),
            "role.grant",
            "user:9",
            Some(shushan),
            t + HOUR,
            None,
        )
        .await,
        put(
            &app,
            Some(w),
            "role.revoke",
            "user:9",
            Some(wuhu),
            t + 2 * HOUR,
            None,
        )
        .await,
        put(
            &app,
            None,
            "role.grant",
            "user:10",
            None,
            t + 3 * HOUR,
            None,
        )
        .await,
        put(
            &app,
            Some(r),
            "case.read",
            "=HYPERLINK(\"http://x\")",
            Some(hefei),
            t + 24 * HOUR,
            Some(json!({"note": "=1+1"})),
        )
        .await,
        put(
            &app,
            Some(h),
            "region.create",
            "region:1",
            Some(hefei),
            t + 25 * HOUR,
            None,
        )
        .await,
    ];
    World {
        app,
        hefei,
        wuhu,
        shushan,
        root,
        hefei_admin,
        wuhu_admin,
        e,
    }
}

/// The ids of one page (asserting 200).
async fn ids(app: &TestApp, s: &Session, query: &str) -> Vec<i64> {
    let (status, body) =
        status_json(app.get_auth(&format!("{AUDIT}?{query}"), &s.access).await).await;
    assert_eq!(status, 200, "{query}: {body}");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

/// Picks seeded entries by their number (1-based), newest first.
fn pick(w: &World, nums: &[usize]) -> Vec<i64> {
    let mut v: Vec<i64> = nums.iter().map(|n| w.e[n - 1]).collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v
}

#[tokio::test]
async fn list_returns_200_with_every_field_newest_first_when_a_root_admin_asks() {
    // Arrange
    let w = world().await;

    // Act
    let (status, body) = status_json(w.app.get_auth(AUDIT, &w.root.access).await).await;

    // Assert: all six, the unplaced one too, newest first.
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().expect("items");
    let got: Vec<i64> = items
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(got, pick(&w, &[1, 2, 3, 4, 5, 6]));
    assert_eq!(body["next_cursor"], Value::Null);
    let first = items.last().expect("the oldest");
    assert_eq!(first["actor_id"], w.hefei_admin.user_id);
    assert_eq!(first["action"], "unit.create");
    assert_eq!(first["target"], "unit:1");
    assert_eq!(first["region_id"], w.hefei);
    assert_eq!(first["ip"], "10.0.0.1");
    assert_eq!(first["detail"], json!({"name": "甲厂"}));
    assert_eq!(first["at"], T0);
    assert!(
        first.get("actor_name").is_some(),
        "actor_name is always there"
    );
    let unplaced = &items[2];
    assert_eq!(unplaced["actor_id"], Value::Null);
    assert_eq!(unplaced["actor_name"], Value::Null);
    assert_eq!(unplaced["region_id"], Value::Null);
    assert_eq!(unplaced["detail"], Value::Null);
}

#[tokio::test]
async fn list_returns_the_actor_name_when_the_actor_has_one() {
    // Arrange: the Hefei admin gives themself a name, then grants a role through the API.
    let w = world().await;
    let res = w
        .app
        .patch_auth(
            "/api/v1/me",
            &w.hefei_admin.access,
            &json!({"name": "王主任"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = w
        .app
        .post_auth(
            "/api/v1/roles",
            &w.hefei_admin.access,
            &json!({"phone": "13900139000", "role": "admin", "scope": format!("region:{}", w.shushan)}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);

    // Act
    let (status, body) = status_json(
        w.app
            .get_auth(
                &format!("{AUDIT}?action=role.grant&limit=1"),
                &w.hefei_admin.access,
            )
            .await,
    )
    .await;

    // Assert: the API's own entry, newest, in the county's region, with the name.
    assert_eq!(status, 200, "{body}");
    let e = &body["items"][0];
    assert_eq!(e["action"], "role.grant");
    assert_eq!(e["actor_id"], w.hefei_admin.user_id);
    assert_eq!(e["actor_name"], "王主任");
    assert!(e["id"].as_i64().expect("id") > w.e[5]);
    assert!(body["next_cursor"].is_string(), "the seeded grant follows");
}

#[tokio::test]
async fn list_returns_only_matching_entries_when_each_filter_is_given() {
    // Arrange
    let w = world().await;
    let (app, root) = (&w.app, &w.root);
    let h = w.hefei_admin.user_id;
    let at = |hours: i64| qunjia::clock::rfc3339(t0() + hours * HOUR).replace('+', "%2B");
    let cases: Vec<(String, Vec<usize>)> = vec![
        (format!("actor_id={h}"), vec![1, 2, 6]),
        ("action=role.grant".into(), vec![2, 4]),
        ("action=role.".into(), vec![2, 3, 4]),
        ("action=case.read".into(), vec![5]),
        ("action=role".into(), vec![]),
        ("target=user:9".into(), vec![2, 3]),
        ("target=user".into(), vec![]),
        (format!("from={}", at(1)), vec![2, 3, 4, 5, 6]),
        (format!("to={}", at(2)), vec![1, 2]),
        (format!("from={}&to={}", at(1), at(3)), vec![2, 3]),
        ("from=2026-06-02".into(), vec![5, 6]),
        ("to=2026-06-01".into(), vec![1, 2, 3, 4]),
        ("from=2026-06-01&to=2026-06-01".into(), vec![1, 2, 3, 4]),
        (
            format!("from={}", "2026-06-01T01:00:00%2B08:00"),
            vec![2, 3, 4, 5, 6],
        ),
        (format!("region_id={}", w.hefei), vec![1, 2, 5, 6]),
        (format!("region_id={}", w.shushan), vec![2]),
        (format!("region_id={}&action=role.", w.hefei), vec![2]),
        (format!("actor_id={h}&action=role.&target=user:9"), vec![2]),
        ("action=&target=&from=&to=".into(), vec![1, 2, 3, 4, 5, 6]),
    ];

    for (query, want) in cases {
        // Act
        let got = ids(app, root, &query).await;

        // Assert
        assert_eq!(got, pick(&w, &want), "{query}");
    }
}

#[tokio::test]
async fn list_returns_every_entry_once_newest_first_when_paged() {
    // Arrange
    let w = world().await;
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;

    // Act
    loop {
        let query = match &cursor {
            Some(c) => format!("{AUDIT}?limit=4&cursor={c}"),
            None => format!("{AUDIT}?limit=4"),
        };
        let (status, body) = status_json(w.app.get_auth(&query, &w.root.access).await).await;
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().expect("items");
        sizes.push(items.len());
        seen.extend(items.iter().map(|i| i["id"].as_i64().expect("id")));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(sizes.len() < 5, "pagination does not end");
    }

    // Assert
    assert_eq!(sizes, vec![4, 2]);
    assert_eq!(seen, pick(&w, &[1, 2, 3, 4, 5, 6]));
    let pairs = ids(&w.app, &w.root, "limit=2&action=role.").await;
    assert_eq!(pairs, pick(&w, &[3, 4]), "filters hold across pages");
    let rest = ids(
        &w.app,
        &w.root,
        &format!("limit=2&action=role.&cursor={}", pairs[1]),
    )
    .await;
    assert_eq!(rest, pick(&w, &[2]));
}

#[tokio::test]
async fn list_returns_400_naming_the_field_when_the_query_is_malformed() {
    // Arrange
    let w = world().await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", ""),
        ("cursor=zz", "cursor"),
        ("actor_id=x", ""),
        ("region_id=x", ""),
        ("from=yesterday", "from"),
        ("from=2026-13-01", "from"),
        ("to=2026-02-30", "to"),
        ("to=1733040000", "to"),
        ("from=2026-06-02&to=2026-06-01", "from"),
        ("action=Role%20Grant", "action"),
        ("action=role%25", "action"),
    ];

    for (query, field) in cases {
        // Act
        let (status, body) = status_json(
            w.app
                .get_auth(&format!("{AUDIT}?{query}"), &w.root.access)
                .await,
        )
        .await;

        // Assert
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{query}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(field), "{query}: {message}");
    }
    let long = "x".repeat(129);
    let got = error_code(
        w.app
            .get_auth(&format!("{AUDIT}?target={long}"), &w.root.access)
            .await,
    )
    .await;
    assert_eq!(got, (400, "bad_request".into()));
    let csv = error_code(
        w.app
            .get_auth(&format!("{AUDIT_CSV}?from=yesterday"), &w.root.access)
            .await,
    )
    .await;
    assert_eq!(csv, (400, "bad_request".into()));
}

#[tokio::test]
async fn list_returns_only_the_subtree_when_a_city_admin_asks() {
    // Arrange
    let w = world().await;

    // Act
    let hefei = ids(&w.app, &w.hefei_admin, "").await;
    let wuhu = ids(&w.app, &w.wuhu_admin, "").await;
    let county = ids(&w.app, &w.hefei_admin, &format!("region_id={}", w.shushan)).await;

    // Assert: the county's entry is Hefei's; the sibling's and the unplaced one are not.
    assert_eq!(hefei, pick(&w, &[1, 2, 5, 6]));
    assert_eq!(wuhu, pick(&w, &[3]));
    assert_eq!(county, pick(&w, &[2]));
    let by_actor = ids(
        &w.app,
        &w.wuhu_admin,
        &format!("actor_id={}", w.hefei_admin.user_id),
    )
    .await;
    assert!(by_actor.is_empty(), "another region's actor shows nothing");
}

#[tokio::test]
async fn list_returns_403_or_404_when_region_id_is_outside_the_callers_scope() {
    // Arrange
    let w = world().await;
    let county_admin = w
        .app
        .login_with_role("13800138003", "admin", &format!("region:{}", w.shushan))
        .await;

    for (who, region, want) in [
        (&w.hefei_admin, w.wuhu, 403),
        (&w.wuhu_admin, w.shushan, 403),
        (&county_admin, w.hefei, 403),
        (&w.hefei_admin, 999_999, 404),
    ] {
        for path in [AUDIT, AUDIT_CSV] {
            // Act
            let (status, code) = error_code(
                w.app
                    .get_auth(&format!("{path}?region_id={region}"), &who.access)
                    .await,
            )
            .await;

            // Assert
            let want_code = if want == 403 {
                "forbidden"
            } else {
                "not_found"
            };
            assert_eq!(
                (status, code.as_str()),
                (want, want_code),
                "{path} {region}"
            );
        }
    }
    assert_eq!(ids(&w.app, &county_admin, "").await, pick(&w, &[2]));
}

#[tokio::test]
async fn list_returns_403_when_the_caller_is_no_region_admin_and_401_without_a_token() {
    // Arrange
    let w = world().await;
    let officer = w
        .app
        .login_with_role("13700137001", "org_admin", "org:1")
        .await;
    let keeper = w
        .app
        .login_with_role("13700137002", "centre_admin", "centre:1")
        .await;
    let worker = w.app.login("13700137003").await;

    for path in [
        AUDIT.to_owned(),
        AUDIT_CSV.to_owned(),
        format!("{AUDIT}?region_id={}", w.hefei),
    ] {
        for who in [&officer, &keeper, &worker] {
            // Act
            let got = error_code(w.app.get_auth(&path, &who.access).await).await;

            // Assert
            assert_eq!(got, (403, "forbidden".into()), "{path} {}", who.phone);
        }
        let got = error_code(w.app.get(&path).await).await;
        assert_eq!(got, (401, "unauthorized".into()), "{path}");
    }
}

/// The CSV's lines after the BOM (asserting 200, the type, the attachment and the BOM).
async fn csv_rows(app: &TestApp, s: &Session, query: &str) -> (String, Vec<Vec<String>>) {
    let res = app
        .get_auth(&format!("{AUDIT_CSV}{query}"), &s.access)
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        header(&res, "content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let disposition = header(&res, "content-disposition").expect("attachment");
    let bytes = res.bytes().await.expect("body");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "BOM");
    let rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..])
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect();
    (disposition, rows)
}

#[tokio::test]
async fn csv_returns_the_same_rows_as_the_list_with_formulas_guarded() {
    // Arrange
    let w = world().await;
    let list = ids(&w.app, &w.root, "limit=100").await;

    // Act
    let (disposition, rows) = csv_rows(&w.app, &w.root, "").await;

    // Assert
    assert_eq!(disposition, "attachment; filename=\"audit.csv\"");
    assert_eq!(
        rows[0],
        ["时间", "操作人", "操作", "对象", "地区", "IP", "详情"]
    );
    assert_eq!(rows.len() - 1, list.len());
    let actions: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        actions,
        [
            "region.create",
            "case.read",
            "role.grant",
            "role.revoke",
            "role.grant",
            "unit.create"
        ]
    );
    let read = &rows[2];
    assert_eq!(read[0], "2026-06-02 00:00:00", "Asia/Shanghai");
    assert_eq!(read[1], format!("#{}", w.root.user_id));
    assert_eq!(
        read[3], "'=HYPERLINK(\"http://x\")",
        "the target is guarded"
    );
    assert_eq!(read[4], "合肥市");
    assert_eq!(read[5], "10.0.0.1");
    assert!(
        read[6].starts_with('{') && read[6].contains("=1+1"),
        "{}",
        read[6]
    );
    let unplaced = &rows[3];
    assert_eq!(unplaced[1], "命令行");
    assert_eq!(unplaced[4], "");
    assert_eq!(rows[6][0], "2026-06-01 00:00:00");
    assert_eq!(rows[6][6], "{\"name\":\"甲厂\"}");
}

#[tokio::test]
async fn csv_returns_the_filtered_subtree_with_every_cell_guarded() {
    // Arrange: a detail that is not JSON and begins with `=` (written by hand),
    // and one that is a negative number.
    let w = world().await;
    w.app
        .exec(
            "INSERT INTO audit_log (actor_user_id, action, target, region_id, ip, detail, at) \
             VALUES (?, 'case.read', 'case:3', ?, NULL, '=SUM(A1)', ?)",
            vec![
                w.hefei_admin.user_id.into(),
                w.shushan.into(),
                (t0() + 26 * HOUR).into(),
            ],
        )
        .await;
    put(
        &w.app,
        None,
        "case.update",
        "case:3",
        Some(w.shushan),
        t0() + 27 * HOUR,
        Some(json!(-5)),
    )
    .await;

    // Act
    let (disposition, rows) = csv_rows(
        &w.app,
        &w.hefei_admin,
        &format!("?region_id={}&action=case.", w.shushan),
    )
    .await;
    let (_, all) = csv_rows(&w.app, &w.hefei_admin, "").await;

    // Assert
    assert_eq!(
        disposition,
        format!("attachment; filename=\"audit-{}.csv\"", w.shushan)
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][2], "case.update");
    assert_eq!(rows[1][6], "'-5");
    assert_eq!(rows[2][3], "case:3");
    assert_eq!(rows[2][4], "蜀山区");
    assert_eq!(rows[2][5], "");
    assert_eq!(rows[2][6], "'=SUM(A1)");
    assert_eq!(all.len() - 1, 6, "Hefei's four and the two new ones");
    let listed = ids(
        &w.app,
        &w.hefei_admin,
        &format!("region_id={}&action=case.read", w.shushan),
    )
    .await;
    let (_, body) = status_json(
        w.app
            .get_auth(
                &format!("{AUDIT}?target=case:3&action=case.read"),
                &w.hefei_admin.access,
            )
            .await,
    )
    .await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        body["items"][0]["detail"], "=SUM(A1)",
        "JSON keeps the text as it is"
    );
}

#[tokio::test]
async fn csv_returns_every_matching_entry_when_there_are_more_than_a_batch() {
    // Arrange: 1,005 entries of Wuhu besides the seeded one.
    let w = world().await;
    let rows = (0..1005).map(|i| audit_log::ActiveModel {
        actor_user_id: Set(None),
        action: Set("unit.update".into()),
        target: Set(format!("=unit:{i}")),
        region_id: Set(Some(w.wuhu)),
        ip: Set(None),
        detail: Set(None),
        at: Set(t0()),
        ..Default::default()
    });
    audit_log::Entity::insert_many(rows)
        .exec(&w.app.state.db)
        .await
        .expect("insert");

    // Act
    let (_, wuhu) = csv_rows(&w.app, &w.wuhu_admin, "").await;

    // Assert
    assert_eq!(wuhu.len() - 1, 1006, "more than one batch, all of it");
    assert!(wuhu[1..1006].iter().all(|r| r[3].starts_with("'=unit:")));
    assert_eq!(wuhu[1][3], "'=unit:1004", "newest first");
    assert_eq!(wuhu[1006][2], "role.revoke", "the oldest last");
}

#[tokio::test]
async fn sql_update_and_delete_of_an_entry_fail_and_leave_it_unchanged() {
    // Arrange
    let w = world().await;
    let id = w.e[0];
    let before = audit_log::Entity::find_by_id(id)
        .one(&w.app.state.db)
        .await
        .expect("read")
        .expect("row");

    // Act
    let update = w
        .app
        .try_exec(
            "UPDATE audit_log SET target = ? WHERE id = ?",
            vec!["unit:2".into(), id.into()],
        )
        .await;
    let delete = w
        .app
        .try_exec("DELETE FROM audit_log WHERE id = ?", vec![id.into()])
        .await;
    let delete_all = w.app.try_exec("DELETE FROM audit_log", vec![]).await;
    let truncate = if w.app.db.is_postgres() {
        Some(w.app.try_exec("TRUNCATE audit_log", vec![]).await)
    } else {
        None
    };

    // Assert
    for (what, got) in [
        ("update", update),
        ("delete", delete),
        ("delete all", delete_all),
    ]
    .into_iter()
    .chain(truncate.map(|t| ("truncate", t)))
    {
        let err = got.expect_err(what);
        assert!(
            err.to_string().contains("audit_log is append-only"),
            "{what}: {err}"
        );
    }
    let after = audit_log::Entity::find_by_id(id)
        .one(&w.app.state.db)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(after, before);
    assert_eq!(w.app.count::<audit_log::Entity>().await, 6);
    // Appending still works.
    put(&w.app, None, "unit.create", "unit:7", None, t0(), None).await;
    assert_eq!(w.app.count::<audit_log::Entity>().await, 7);
}

#[tokio::test]
async fn migration_down_lifts_the_refusal_and_up_restores_it() {
    // Arrange
    use migration::MigratorTrait;
    let w = world().await;
    let db = &w.app.state.db;
    let update = "UPDATE audit_log SET ip = NULL WHERE id = ?";

    // Act: down to before the audit migration (and any after it), an update, and up again.
    let all = migration::Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261201_000008_audit_append_only")
        .expect("the audit migration");
    let steps = (all.len() - at) as u32;
    migration::Migrator::down(db, Some(steps))
        .await
        .expect("down");
    let while_down = w.app.try_exec(update, vec![w.e[0].into()]).await;
    migration::Migrator::up(db, None).await.expect("up");
    let after_up = w.app.try_exec(update, vec![w.e[1].into()]).await;

    // Assert
    assert_eq!(while_down.expect("allowed without the triggers"), 1);
    assert!(after_up.is_err(), "refused again");
    assert_eq!(ids(&w.app, &w.root, "").await.len(), 6);
}
