//! Issue 5 "Services": offering, listing, reading and changing the services of an
//! org, who may do it, and `can_apply` / `mine`.
use qunjia::entity::{memberships, services};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orgs::{World, id, make_org, org_admin, org_body, person, union_of_zhilian, world};
use crate::support::{Session, TestApp, error_code};

pub const SERVICES: &str = "/api/v1/services";

/// Two unions in the Hefei park, an officer of each, the applicant and a stranger.
pub struct Desk {
    pub w: World,
    /// 智联工会 (open).
    pub org: i64,
    /// 云帆工会.
    pub other_org: i64,
    pub officer: Session,
    /// A second org_admin of `org`.
    pub officer2: Session,
    pub other_officer: Session,
    /// 李小梅, who asks for help.
    pub applicant: Session,
    pub stranger: Session,
}

impl Desk {
    pub fn app(&self) -> &TestApp {
        &self.w.app
    }
}

pub async fn desk() -> Desk {
    let w = world().await;
    let org = id(&union_of_zhilian(&w, "open").await);
    let mut body = org_body("union", "single", w.park, &[w.yunfan]);
    body["name"] = json!("云帆软件工会");
    let other_org = id(&make_org(&w, body).await);
    let officer = org_admin(&w, "13700000001", org).await;
    let officer2 = org_admin(&w, "13700000003", org).await;
    let other_officer = org_admin(&w, "13700000002", other_org).await;
    let applicant = w.worker.clone();
    let stranger = person(&w.app, "13900000002", Some("王强"), Some("male"), None).await;
    Desk {
        w,
        org,
        other_org,
        officer,
        officer2,
        other_officer,
        applicant,
        stranger,
    }
}

/// Makes the person an active member of the org (straight in the database).
pub async fn member(app: &TestApp, org_id: i64, user_id: i64) {
    memberships::Entity::insert(memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        status: Set("active".into()),
        reason: Set(None),
        requested_at: Set(0),
        decided_at: Set(Some(0)),
        decided_by: Set(None),
        ended_at: Set(None),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .expect("membership");
}

/// Offers a service as the org's officer and returns its id.
pub async fn offer(d: &Desk, org_id: i64, kind: &str, members_only: bool) -> i64 {
    let token = if org_id == d.org {
        &d.officer.access
    } else {
        &d.other_officer.access
    };
    let (status, s) = status_json(
        d.app()
            .post_auth(
                SERVICES,
                token,
                &json!({ "org_id": org_id, "kind": kind, "title": format!("{kind}服务"), "members_only": members_only }),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{s}");
    id(&s)
}

fn body(org_id: i64) -> Value {
    json!({ "org_id": org_id, "kind": "legal_aid", "title": " 法律援助 ", "description": "免费法律咨询" })
}

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    let res = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    error_code(res).await
}

#[tokio::test]
async fn create_returns_201_with_the_service_when_the_org_admin_offers_it() {
    // Arrange
    let d = desk().await;

    // Act
    let (status, s) = status_json(
        d.app()
            .post_auth(SERVICES, &d.officer.access, &body(d.org))
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 201, "{s}");
    assert_eq!(
        s,
        json!({
            "id": s["id"], "org_id": d.org, "org_name": "智联工会open", "kind": "legal_aid",
            "title": "法律援助", "description": "免费法律咨询", "members_only": false,
            "active": true, "can_apply": true, "created_at": s["created_at"],
        })
    );
    assert!(s["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let audited = d.app().audit("service.create").await;
    assert_eq!(audited.len(), 1);
}

#[tokio::test]
async fn create_returns_201_when_a_covering_region_admin_offers_it() {
    let d = desk().await;
    let res = d
        .app()
        .post_auth(SERVICES, &d.w.hefei_admin.access, &body(d.org))
        .await;
    assert_eq!(res.status().as_u16(), 201);
}

#[tokio::test]
async fn create_returns_403_when_a_worker_another_orgs_admin_or_another_regions_admin_offers_it() {
    let d = desk().await;
    for who in [&d.applicant, &d.other_officer, &d.w.wuhu_admin] {
        let res = d.app().post_auth(SERVICES, &who.access, &body(d.org)).await;
        assert_eq!(
            error_code(res).await,
            (403, "forbidden".into()),
            "{}",
            who.phone
        );
    }
    assert_eq!(d.app().count::<services::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_404_when_the_org_is_unknown_or_dissolved() {
    let d = desk().await;
    let res = d
        .app()
        .post_auth(SERVICES, &d.w.hefei_admin.access, &body(999_999))
        .await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    d.app()
        .exec(
            "UPDATE orgs SET dissolved_at = 1 WHERE id = ?",
            vec![d.org.into()],
        )
        .await;
    let res = d
        .app()
        .post_auth(SERVICES, &d.officer.access, &body(d.org))
        .await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
}

#[tokio::test]
async fn create_returns_422_when_kind_title_or_description_is_out_of_range() {
    let d = desk().await;
    let cases = [
        (json!({"kind": "loans"}), "invalid_kind"),
        (json!({"kind": ""}), "invalid_kind"),
        (json!({"title": "  "}), "invalid_title"),
        (json!({"title": "字".repeat(101)}), "invalid_title"),
        (json!({"title": "a\u{0007}b"}), "invalid_title"),
        (json!({"title": "法律\u{202E}援助"}), "invalid_title"),
        (json!({"title": "法律\u{200B}援助"}), "invalid_title"),
        (json!({"title": "\u{FEFF}法律援助"}), "invalid_title"),
        (
            json!({"description": "字".repeat(2001)}),
            "invalid_description",
        ),
    ];
    for (patch, code) in cases {
        let mut b = body(d.org);
        for (k, v) in patch.as_object().expect("object") {
            b[k] = v.clone();
        }
        let res = d.app().post_auth(SERVICES, &d.officer.access, &b).await;
        assert_eq!(error_code(res).await, (422, code.into()), "{b}");
    }
    assert_eq!(d.app().count::<services::Entity>().await, 0);
}

#[tokio::test]
async fn create_returns_400_when_the_body_is_malformed_or_incomplete_and_413_when_oversized() {
    let d = desk().await;
    let tok = &d.officer.access;
    for b in [
        "[1]".to_owned(),
        "{".to_owned(),
        json!({"kind": "legal_aid", "title": "x"}).to_string(),
        json!({"org_id": "one", "kind": "legal_aid", "title": "x"}).to_string(),
        json!({"org_id": d.org, "kind": "legal_aid", "title": "x", "extra": 1}).to_string(),
        json!({"org_id": d.org, "kind": "legal_aid", "title": "x", "members_only": "yes"})
            .to_string(),
    ] {
        let (status, code) = raw(d.app(), reqwest::Method::POST, SERVICES, tok, &b).await;
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{b}");
    }
    let big = json!({"org_id": d.org, "kind": "legal_aid", "title": "x", "description": "a".repeat(70_000)}).to_string();
    let (status, _) = raw(d.app(), reqwest::Method::POST, SERVICES, tok, &big).await;
    assert_eq!(status, 413);
    let res = d
        .app()
        .client
        .post(d.app().url(SERVICES))
        .json(&body(d.org))
        .send()
        .await
        .expect("req");
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn list_returns_only_active_services_unless_the_caller_manages_the_org() {
    // Arrange
    let d = desk().await;
    let on = offer(&d, d.org, "legal_aid", false).await;
    let off = offer(&d, d.org, "rights", false).await;
    let res = d
        .app()
        .patch_auth(
            &format!("{SERVICES}/{off}"),
            &d.officer.access,
            &json!({"active": false}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);

    // Act
    let (_, worker) = status_json(
        d.app()
            .get_auth(&format!("{SERVICES}?org_id={}", d.org), &d.applicant.access)
            .await,
    )
    .await;
    let (_, officer) = status_json(
        d.app()
            .get_auth(&format!("{SERVICES}?org_id={}", d.org), &d.officer.access)
            .await,
    )
    .await;
    let (_, other) = status_json(
        d.app()
            .get_auth(
                &format!("{SERVICES}?org_id={}", d.org),
                &d.other_officer.access,
            )
            .await,
    )
    .await;

    // Assert
    let ids = |v: &Value| {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&worker), vec![on]);
    assert_eq!(ids(&officer), vec![on, off]);
    assert_eq!(ids(&other), vec![on]);
    assert_eq!(officer["items"][1]["can_apply"], json!(false));
}

#[tokio::test]
async fn list_returns_the_services_of_my_orgs_with_can_apply_when_mine_is_true() {
    // Arrange
    let d = desk().await;
    let open = offer(&d, d.org, "legal_aid", false).await;
    let closed = offer(&d, d.other_org, "hardship", true).await;
    let mine = offer(&d, d.org, "hardship", true).await;
    member(d.app(), d.org, d.applicant.user_id).await;

    // Act
    let (s1, all) = status_json(d.app().get_auth(SERVICES, &d.applicant.access).await).await;
    let (s2, my) = status_json(
        d.app()
            .get_auth(
                &format!("{SERVICES}?mine=true&kind=hardship"),
                &d.applicant.access,
            )
            .await,
    )
    .await;

    // Assert
    assert_eq!((s1, s2), (200, 200));
    let items = all["items"].as_array().expect("items");
    let can = |sid: i64| items.iter().find(|i| id(i) == sid).expect("listed")["can_apply"].clone();
    assert_eq!(can(open), json!(true));
    assert_eq!(can(closed), json!(false));
    assert_eq!(can(mine), json!(true));
    let my_ids: Vec<i64> = my["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id)
        .collect();
    assert_eq!(my_ids, vec![mine]);
}

#[tokio::test]
async fn list_returns_pages_by_id_when_limit_is_given() {
    let d = desk().await;
    let a = offer(&d, d.org, "legal_aid", false).await;
    let b = offer(&d, d.org, "rights", false).await;
    let (_, p1) = status_json(
        d.app()
            .get_auth(&format!("{SERVICES}?limit=1"), &d.applicant.access)
            .await,
    )
    .await;
    assert_eq!(id(&p1["items"][0]), a);
    let cursor = p1["next_cursor"].as_str().expect("cursor");
    let (_, p2) = status_json(
        d.app()
            .get_auth(
                &format!("{SERVICES}?limit=1&cursor={cursor}"),
                &d.applicant.access,
            )
            .await,
    )
    .await;
    assert_eq!(id(&p2["items"][0]), b);
    assert_eq!(p2["next_cursor"], Value::Null);
}

#[tokio::test]
async fn list_returns_400_when_kind_limit_cursor_or_org_id_is_malformed() {
    let d = desk().await;
    for q in [
        "kind=loans",
        "limit=0",
        "limit=101",
        "cursor=abc",
        "cursor=-1",
        "org_id=x",
        "mine=perhaps",
    ] {
        let res = d
            .app()
            .get_auth(&format!("{SERVICES}?{q}"), &d.applicant.access)
            .await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{q}");
    }
}

#[tokio::test]
async fn get_returns_404_when_the_service_is_inactive_unknown_or_the_id_is_not_a_number() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let res = d
        .app()
        .get_auth(&format!("{SERVICES}/{sid}"), &d.applicant.access)
        .await;
    assert_eq!(res.status().as_u16(), 200);
    d.app()
        .patch_auth(
            &format!("{SERVICES}/{sid}"),
            &d.officer.access,
            &json!({"active": false}),
        )
        .await;
    for (who, want) in [
        (&d.applicant, 404),
        (&d.other_officer, 404),
        (&d.officer, 200),
        (&d.w.hefei_admin, 200),
    ] {
        let res = d
            .app()
            .get_auth(&format!("{SERVICES}/{sid}"), &who.access)
            .await;
        assert_eq!(res.status().as_u16(), want, "{}", who.phone);
    }
    for p in ["999999", "abc"] {
        let res = d
            .app()
            .get_auth(&format!("{SERVICES}/{p}"), &d.officer.access)
            .await;
        assert_eq!(error_code(res).await, (404, "not_found".into()));
    }
}

#[tokio::test]
async fn patch_returns_200_with_the_changes_when_the_org_admin_edits_the_service() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let (status, s) = status_json(
        d.app().patch_auth(&format!("{SERVICES}/{sid}"), &d.officer.access,
            &json!({"title": "法律咨询", "description": null, "members_only": true, "active": false})).await,
    ).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (
            s["title"].clone(),
            s["description"].clone(),
            s["members_only"].clone(),
            s["active"].clone()
        ),
        (json!("法律咨询"), Value::Null, json!(true), json!(false))
    );
    assert_eq!(s["kind"], json!("legal_aid"));
}

#[tokio::test]
async fn patch_returns_403_422_400_or_404_when_the_caller_or_the_input_is_wrong() {
    let d = desk().await;
    let sid = offer(&d, d.org, "legal_aid", false).await;
    let path = format!("{SERVICES}/{sid}");
    let res = d
        .app()
        .patch_auth(&path, &d.applicant.access, &json!({"title": "x"}))
        .await;
    assert_eq!(error_code(res).await, (403, "forbidden".into()));
    let res = d
        .app()
        .patch_auth(&path, &d.other_officer.access, &json!({"active": false}))
        .await;
    assert_eq!(error_code(res).await, (403, "forbidden".into()));
    let res = d
        .app()
        .patch_auth(&path, &d.officer.access, &json!({"title": ""}))
        .await;
    assert_eq!(error_code(res).await, (422, "invalid_title".into()));
    let res = d
        .app()
        .patch_auth(
            &path,
            &d.officer.access,
            &json!({"description": "字".repeat(2001)}),
        )
        .await;
    assert_eq!(error_code(res).await, (422, "invalid_description".into()));
    for b in [json!({"kind": "rights"}), json!({"active": "no"})] {
        let res = d.app().patch_auth(&path, &d.officer.access, &b).await;
        assert_eq!(error_code(res).await, (400, "bad_request".into()), "{b}");
    }
    let res = d
        .app()
        .patch_auth(
            &format!("{SERVICES}/999999"),
            &d.officer.access,
            &json!({"title": "x"}),
        )
        .await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    // An inactive service does not exist for outsiders.
    d.app()
        .patch_auth(&path, &d.officer.access, &json!({"active": false}))
        .await;
    let res = d
        .app()
        .patch_auth(&path, &d.applicant.access, &json!({"title": "x"}))
        .await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
}
