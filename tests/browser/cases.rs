//! The worker's side of services and cases in the browser: the request form with
//! its consent step, the case page following the officer's moves by itself,
//! messages, documents, withdrawing, and the inbox badge.
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::support::{TestApp, spawn_app};
use crate::{
    assert_shell, browser_login, choose_file, click, js, poll, seed_open_org, seed_user, skip,
    text_of, type_into, wait_for, wait_js, wait_text, with_browser,
};

/// The case page pulls the case every 30 s while visible: a move shows within this.
const REFRESH_DEADLINE: Duration = Duration::from_secs(45);

/// An active membership, as after joining an open organization.
async fn add_member(app: &TestApp, org_id: i64, user_id: i64, status: &str) -> i64 {
    use qunjia::entity::memberships;
    use sea_orm::{ActiveModelTrait, Set};
    let now = qunjia::clock::now_ms();
    memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        status: Set(status.into()),
        requested_at: Set(now),
        decided_at: Set((status == "active").then_some(now)),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert membership")
    .id
}

/// POST /services as the org's officer; returns the id.
async fn create_service(app: &TestApp, token: &str, org_id: i64, kind: &str, title: &str) -> i64 {
    let res = app
        .post_auth(
            "/api/v1/services",
            token,
            &json!({ "org_id": org_id, "kind": kind, "title": title, "description": "本组织会员可以申请" }),
        )
        .await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("service json");
    assert_eq!(status, 201, "create service: {body}");
    body["id"].as_i64().expect("service id")
}

async fn api_get(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.get_auth(path, token).await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Waits (up to `deadline`) for an element's trimmed text.
async fn wait_text_within(c: &Client, selector: &str, want: &str, deadline: Duration) {
    let script = format!(
        "const e = document.querySelector({selector:?}); return Boolean(e && e.textContent.trim() === {want:?});"
    );
    let what = format!("{selector} to read {want:?}");
    poll(&what, deadline, || {
        let script = script.clone();
        async move { matches!(c.execute(&script, vec![]).await, Ok(Value::Bool(true))).then_some(()) }
    })
    .await
}

/// The id in /cases/{id} once the page is there.
async fn case_id_from_url(c: &Client) -> i64 {
    wait_js(c, "/^\\/cases\\/\\d+$/.test(location.pathname)").await;
    let url = c.current_url().await.expect("url");
    url.path()
        .trim_start_matches("/cases/")
        .parse()
        .expect("case id in the path")
}

/// Opens the service list (through login) until `service_id` is listed.
async fn open_services(c: &Client, app: &TestApp, phone: &str, service_id: i64) {
    c.goto(&app.url("/services")).await.expect("open /services");
    assert_shell(c).await;
    browser_login(c, app, phone).await;
    wait_for(c, &format!(".service[data-id='{service_id}'] a.apply")).await;
}

/// From the service list to the form of `service_id`.
async fn open_form(c: &Client, service_id: i64) {
    click(c, &format!(".service[data-id='{service_id}'] a.apply")).await;
    wait_for(c, "#service-title").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_files_hardship_request_and_sees_it_accepted() {
    if skip("worker_files_hardship_request_and_sees_it_accepted") {
        return;
    }
    let app = spawn_app().await;
    let org_id = seed_open_org(&app, "CASES0001").await;
    let phone = "13700137001";
    let worker = seed_user(&app, phone, "王小骑").await;
    add_member(&app, org_id, worker, "active").await;
    let officer = app
        .login_with_role("13700137009", "org_admin", &format!("org:{org_id}"))
        .await;
    let service_id =
        create_service(&app, &officer.access, org_id, "hardship", "困难职工帮扶").await;

    with_browser(|c| async move {
        // The list, grouped by organization, with the kind in Chinese.
        open_services(&c, &app, phone, service_id).await;
        let org = format!(".org-services[data-org-id='{org_id}']");
        assert_eq!(text_of(&c, &format!("{org} h3")).await, "合肥星火科技有限公司工会");
        assert_eq!(text_of(&c, &format!("{org} .service .badge")).await, "困难帮扶");
        open_form(&c, service_id).await;
        assert_eq!(text_of(&c, "#service-title").await, "困难职工帮扶");

        // Consent first: not ticked, not accepted.
        let consent = text_of(&c, "#consent-text").await;
        assert!(!consent.is_empty(), "the consent text is shown");
        let ticked = js(&c, "return document.getElementById('consent-agree').checked;").await;
        assert_eq!(ticked, json!(false), "the box starts unticked");
        click(&c, "#consent-next").await;
        wait_text(&c, "#consent-error", "请先勾选“我已阅读并同意”").await;
        click(&c, "#consent-agree").await;
        click(&c, "#consent-next").await;

        // The hardship fields; a bad amount is caught before sending.
        let category = wait_for(&c, "#category").await;
        category.select_by_value("illness").await.expect("choose category");
        type_into(&c, "#amount", "0").await;
        type_into(&c, "#description", "家里老人住院，医药费负担重。").await;
        click(&c, "#apply-submit").await;
        wait_text(&c, "#apply-error", "请填写正确的金额：大于0，最多10万元，最多两位小数").await;
        type_into(&c, "#amount", "1500.5").await;
        click(&c, "#apply-submit").await;

        // Sent: the case page, status 已提交.
        let case_id = case_id_from_url(&c).await;
        wait_text(&c, "#case-status", "已提交").await;
        wait_for(&c, "#case-new").await;
        wait_js(&c, "document.querySelectorAll('#case-history li').length === 1").await;

        // What reached the server.
        let case = api_get(&app, &officer.access, &format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(case["amount_requested_fen"], json!(150_050));
        assert_eq!(case["details"]["category"], json!("illness"));
        assert_eq!(case["description"], json!("家里老人住院，医药费负担重。"));
        assert!(case["consent"]["version"].is_string(), "consent stored: {case}");
        let list = api_get(&app, &officer.access, &format!("/api/v1/cases?org_id={org_id}")).await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "one case");

        // The officer accepts; the page shows it by itself.
        let res = app
            .post_auth(
                &format!("/api/v1/cases/{case_id}/transition"),
                &officer.access,
                &json!({ "to": "accepted" }),
            )
            .await;
        assert_eq!(res.status().as_u16(), 200, "accept: {}", res.text().await.unwrap_or_default());
        wait_text_within(&c, "#case-status", "已受理", REFRESH_DEADLINE).await;
        wait_js(&c, "document.querySelectorAll('#case-history li').length === 2").await;
        wait_js(&c, "!document.getElementById('case-withdraw-btn')").await;

        // The move is in the inbox, and the badge says so on the next page.
        click(&c, "#nav a[href='/inbox']").await;
        wait_text(&c, "#inbox-badge", "1").await;
        click(&c, "#inbox-list li[data-unread]").await;
        wait_js(&c, &format!("location.pathname === '/cases/{case_id}'")).await;
        wait_text(&c, "#case-status", "已受理").await;
        wait_js(&c, "document.getElementById('inbox-badge') && document.getElementById('inbox-badge').hidden").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_messages_uploads_and_withdraws_a_request() {
    if skip("worker_messages_uploads_and_withdraws_a_request") {
        return;
    }
    let app = spawn_app().await;
    let org_id = seed_open_org(&app, "CASES0002").await;
    let phone = "13700137002";
    let worker = seed_user(&app, phone, "刘师傅").await;
    add_member(&app, org_id, worker, "active").await;
    let officer = app
        .login_with_role("13700137008", "org_admin", &format!("org:{org_id}"))
        .await;
    let service_id = create_service(&app, &officer.access, org_id, "employment", "技能培训").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let png = dir.path().join("photo.png");
    // A 1×1 PNG.
    std::fs::write(
        &png,
        [
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52,
            0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0D, 0x49,
            0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0, 0x05, 0x00, 0x01,
            0xFF, 0x89, 0x99, 0x3D, 0x1D, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
            0x82,
        ],
    )
    .expect("write png");
    // Named like a photo, but not one: the server judges by content.
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, b"just some text, not an image").expect("write fake");

    with_browser(|c| async move {
        // No consent step for employment: the form at once.
        open_services(&c, &app, phone, service_id).await;
        open_form(&c, service_id).await;
        assert!(c.find(Locator::Css("#consent")).await.is_err(), "no consent step");
        type_into(&c, "#description", "想学电工，考个证。").await;
        click(&c, "#apply-submit").await;
        let case_id = case_id_from_url(&c).await;
        wait_text(&c, "#case-status", "已提交").await;

        // A message.
        type_into(&c, "#message", "请问什么时候开课？").await;
        click(&c, "#message-send").await;
        wait_js(&c, "document.getElementById('case-messages').textContent.includes('请问什么时候开课？')").await;
        assert_eq!(text_of(&c, "#message").await, "");

        // A photo goes up; a text file named .png is refused in Chinese.
        choose_file(&c, "#case-file", &png).await;
        wait_text(&c, "#upload-status", "已上传").await;
        wait_js(&c, "document.querySelectorAll('#case-attachments li[data-id]').length === 1").await;
        choose_file(&c, "#case-file", &fake).await;
        wait_text(&c, "#upload-error", "只能上传照片（JPG、PNG）或PDF文件").await;
        let case = api_get(&app, &officer.access, &format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(case["attachments"].as_array().map(Vec::len), Some(1), "{case}");
        assert_eq!(case["messages"][0]["body"], json!("请问什么时候开课？"));
        // The photo opens through an authorized fetch as a blob: URL.
        click(&c, "#case-attachments li[data-id] .open-file").await;
        wait_js(&c, "document.querySelector('#case-attachments img') && document.querySelector('#case-attachments img').src.startsWith('blob:') && document.querySelector('#case-attachments img').naturalWidth === 1").await;

        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(
            scroll.as_u64().expect("scrollWidth") <= 360,
            "the case page fits 360 px"
        );

        // Withdraw, after a confirmation.
        click(&c, "#case-withdraw-btn").await;
        click(&c, "#case-withdraw-yes").await;
        wait_text(&c, "#case-status", "已撤回").await;
        wait_for(&c, "#case-ended").await;
        wait_js(&c, "document.getElementById('message-form').hidden && document.getElementById('upload-form').hidden").await;
        let case = api_get(&app, &officer.access, &format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(case["status"], json!("withdrawn"));

        // The list shows it.
        c.goto(&app.url("/cases")).await.expect("open /cases");
        wait_text(&c, &format!("#case-list li[data-id='{case_id}'] .case-status"), "已撤回").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_badge_appears_after_membership_approval() {
    if skip("inbox_badge_appears_after_membership_approval") {
        return;
    }
    let app = spawn_app().await;
    let org_id = seed_open_org(&app, "CASES0003").await;
    let phone = "13700137003";
    let worker = seed_user(&app, phone, "陈阿姨").await;
    let membership = add_member(&app, org_id, worker, "pending").await;
    let officer = app
        .login_with_role("13700137007", "org_admin", &format!("org:{org_id}"))
        .await;

    with_browser(|c| async move {
        c.goto(&app.url("/services")).await.expect("open /services");
        assert_shell(&c).await;
        browser_login(&c, &app, phone).await;
        // Not a member yet: no services, and a way to find an organization.
        wait_for(&c, "#services-empty").await;
        wait_for(&c, "#services a[href='/orgs/find']").await;
        wait_js(&c, "document.getElementById('inbox-badge') && document.getElementById('inbox-badge').hidden").await;

        let res = app
            .post_auth(&format!("/api/v1/memberships/{membership}/approve"), &officer.access, &json!({}))
            .await;
        assert_eq!(res.status().as_u16(), 200, "approve: {}", res.text().await.unwrap_or_default());

        // The next page asks again: one unread notice.
        click(&c, "#nav a[href='/orgs']").await;
        wait_text(&c, "#inbox-badge", "1").await;
        click(&c, "#nav a[href='/inbox']").await;
        wait_js(&c, "document.querySelectorAll('#inbox-list li[data-unread]').length === 1").await;
        click(&c, "#inbox-read-all").await;
        wait_js(&c, "document.getElementById('inbox-badge').hidden && !document.querySelector('#inbox-list li[data-unread]')").await;
    })
    .await;
}
