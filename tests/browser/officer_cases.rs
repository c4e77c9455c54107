//! The officer's side of assistance cases and holiday campaigns, in the browser.
use super::*;

use qunjia::entity::{campaign_visits, cases, services};

const OFFICER: &str = "13500135100";
/// Another officer of the same org who sets things up over REST (one SMS
/// code a minute per phone, so the browser's officer does not log in twice).
const HELPER: &str = "13500135101";
const WORKER: &str = "13600136100";

/// Posts JSON with a token and returns the body, asserting the status.
async fn post_ok(app: &support::TestApp, token: &str, path: &str, body: Value, want: u16) -> Value {
    let res = app.post_auth(path, token, &body).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(status, want, "POST {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Files a hardship case as the worker; returns its id.
async fn file_case(app: &support::TestApp, token: &str, service: i64, text: &str, fen: i64) -> i64 {
    let consent = app.get_auth("/api/v1/consents/sensitive", token).await;
    assert_eq!(consent.status().as_u16(), 200, "consent text");
    let version = consent.json::<Value>().await.expect("json")["version"].clone();
    let body = json!({
        "service_id": service, "description": text, "amount_requested_fen": fen,
        "details": {"category": "illness"}, "consent": {"version": version},
    });
    post_ok(app, token, "/api/v1/cases", body, 201).await["id"]
        .as_i64()
        .expect("case id")
}

/// A 1×1 PNG.
const PNG: [u8; 70] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0D, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Uploads the PNG to a case as one multipart part named `file`.
async fn upload_png(app: &support::TestApp, token: &str, case: i64) {
    let boundary = "ocases-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"诊断书.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&PNG);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{case}/attachments")))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(
        res.status().as_u16(),
        201,
        "upload: {}",
        res.text().await.unwrap_or_default()
    );
}

async fn case_row(app: &support::TestApp, id: i64) -> cases::Model {
    cases::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .expect("query case")
        .expect("the case exists")
}

/// Today in Asia/Shanghai (UTC+8, no daylight saving), as the page's default date.
fn today_shanghai() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_handles_a_hardship_case_and_a_holiday_campaign() {
    if skip("officer_handles_a_hardship_case_and_a_holiday_campaign") {
        return;
    }
    let app = spawn_app().await;
    let org_id = seed_open_org(&app, "OCASES001").await;
    let grant = format!("org:{org_id}");
    let officer = seed_user(&app, OFFICER, "孙主席").await;
    let (role, scope) = qunjia::auth::roles::parse_grant("org_admin", &grant).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, officer, role, scope, None)
        .await
        .expect("insert role");
    seed_user(&app, WORKER, "李明").await;

    // Over REST: a hardship service, an earlier case resolved with 800 元, and
    // the new case the officer handles in the browser.
    let helper = app.login_with_role(HELPER, "org_admin", &grant).await;
    let service = post_ok(
        &app,
        &helper.access,
        "/api/v1/services",
        json!({"org_id": org_id, "kind": "hardship", "title": "困难职工帮扶"}),
        201,
    )
    .await["id"]
        .as_i64()
        .expect("service id");
    let worker = app.login(WORKER).await;
    let earlier = file_case(&app, &worker.access, service, "去年住院", 80_000).await;
    for body in [
        json!({"to": "accepted"}),
        json!({"to": "in_progress"}),
        json!({"to": "resolved", "amount_granted_fen": 80_000}),
    ] {
        let path = format!("/api/v1/cases/{earlier}/transition");
        post_ok(&app, &helper.access, &path, body, 200).await;
    }
    let description = "妻子住院手术，家里积蓄不够";
    let case_id = file_case(&app, &worker.access, service, description, 300_000).await;
    upload_png(&app, &worker.access, case_id).await;
    let refused = file_case(&app, &worker.access, service, "想买新手机", 500_000).await;

    with_browser(|c| async move {
        c.goto(&app.url("/admin")).await.expect("open admin");
        assert_shell(&c).await;
        browser_login(&c, &app, OFFICER).await;

        // No household has a hardship class yet: a campaign is refused, said plainly.
        click(&c, "#admin-menu a[href='/admin/campaigns']").await;
        type_into(&c, "#camp-title", "2026年中秋慰问").await;
        click(&c, "#camp-submit").await;
        wait_js(&c, "document.getElementById('camp-error').textContent.includes('还没有认定困难类别')").await;
        assert_eq!(text_of(&c, "#camp-created").await, "");
        click(&c, "#nav a[href='/admin']").await;

        // The officer home links to the queue; the new case is listed as 已提交.
        click(&c, "#admin-menu a[href='/admin/cases']").await;
        let item = format!("#case-list li[data-case-id='{case_id}']");
        wait_js(&c, &format!("document.querySelector(\"{item}\") && document.querySelector(\"{item}\").textContent.includes('已提交')")).await;
        assert!(text_of(&c, &item).await.contains("李明"), "the applicant is named");
        assert!(text_of(&c, &item).await.contains("3,000"), "the amount asked is in 元");

        // The case page: masked phone, the text, consent, and the earlier relief.
        click(&c, &format!("{item} a")).await;
        wait_text(&c, "#case-status", "已提交").await;
        assert_eq!(text_of(&c, "#case-description").await, description);
        assert!(text_of(&c, "#case-applicant").await.contains("136****6100"));
        assert!(text_of(&c, "#case-consent").await.contains("同意"), "the consent line");
        let warning = text_of(&c, "#relief-warning").await;
        assert!(warning.contains("过去12个月已获帮扶"), "warning box: {warning}");
        assert!(warning.contains("800"), "the earlier amount: {warning}");
        assert!(warning.contains("合肥星火科技有限公司工会"), "the earlier org: {warning}");

        // The photo opens as a preview (fetched with the token, shown from a blob).
        click(&c, "#case-attachments .att-open").await;
        wait_js(&c, "document.querySelector('#case-attachments img') && document.querySelector('#case-attachments img').src.startsWith('blob:') && document.querySelector('#case-attachments img').naturalWidth === 1").await;

        // Accept, work on it, then resolve with 1500.50 元 granted. Once accepted,
        // saying no is 不予办理, no longer 不予受理.
        assert_eq!(text_of(&c, "#to-rejected").await, "不予受理");
        click(&c, "#to-accepted").await;
        wait_text(&c, "#case-status", "已受理").await;
        assert_eq!(text_of(&c, "#to-rejected").await, "不予办理");
        click(&c, "#to-in_progress").await;
        wait_text(&c, "#case-status", "办理中").await;
        type_into(&c, "#case-amount", "1500.50").await;
        click(&c, "#to-resolved").await;
        wait_text(&c, "#case-status", "已解决").await;
        assert_eq!(text_of(&c, "#case-error").await, "", "no error");
        let row = case_row(&app, case_id).await;
        assert_eq!((row.status.as_str(), row.amount_granted_fen), ("resolved", Some(150_050)));
        wait_js(&c, "document.querySelectorAll('#case-history li').length === 4").await;

        // The hardship class (needed for the holiday visits).
        wait_for(&c, "#case-class").await.select_by_value("deep").await.expect("class");
        click(&c, "#case-class-save").await;
        wait_text(&c, "#case-ok", "困难类别已保存").await;
        assert_eq!(case_row(&app, case_id).await.hardship_class.as_deref(), Some("deep"));

        // The payment: in cash, the amount granted, today.
        wait_for(&c, "#pay-form").await;
        wait_for(&c, "#pay-method").await.select_by_value("cash").await.expect("method");
        click(&c, "#pay-submit").await;
        wait_js(&c, "document.getElementById('payment-line') && document.getElementById('payment-line').textContent.includes('1,500.50')").await;
        assert!(text_of(&c, "#payment-line").await.contains("现金"));
        let row = case_row(&app, case_id).await;
        assert_eq!(row.paid_amount_fen, Some(150_050));
        assert_eq!(row.paid_method.as_deref(), Some("cash"));
        assert_eq!(row.paid_on, Some(today_shanghai()));
        assert_eq!(row.paid_by, Some(officer));
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "case page fits 360 px");

        // Not accepting needs a reason, on the page first.
        c.goto(&app.url(&format!("/admin/cases/{refused}"))).await.expect("open case");
        assert_shell(&c).await;
        wait_text(&c, "#case-status", "已提交").await;
        click(&c, "#to-rejected").await;
        wait_text(&c, "#case-error", "不予受理或不予办理时请填写原因").await;
        type_into(&c, "#case-note", "不属于困难帮扶范围").await;
        click(&c, "#to-rejected").await;
        wait_text(&c, "#case-status", "未通过").await;
        wait_js(&c, "document.getElementById('case-history').textContent.includes('不属于困难帮扶范围')").await;
        assert_eq!(case_row(&app, refused).await.status, "rejected");

        // A campaign from the UI: one household, visited with goods.
        click(&c, "#nav a[href='/admin']").await;
        click(&c, "#admin-menu a[href='/admin/campaigns']").await;
        type_into(&c, "#camp-title", "2027年春节慰问").await;
        click(&c, "#camp-submit").await;
        wait_text(&c, "#camp-created", "已生成，共 1 户").await;
        click(&c, "#camp-list li a").await;
        wait_text(&c, "#camp-progress .camp-count", "已走访 0/1 户").await;
        click(&c, "li.visit button.visit-mark").await;
        wait_for(&c, "li.visit .vd-form").await.select_by_value("goods").await.expect("form");
        type_into(&c, "li.visit .vd-goods", "米、油各一份").await;
        click(&c, "li.visit .visit-save").await;
        wait_text(&c, "li.visit .visit-status", "已走访").await;
        wait_text(&c, "#camp-progress .camp-count", "已走访 1/1 户").await;
        let visits = campaign_visits::Entity::find()
            .all(&app.state.db)
            .await
            .expect("query visits");
        assert_eq!(visits.len(), 1, "one visit: {visits:?}");
        assert_eq!(visits[0].status, "done");
        assert_eq!(visits[0].form.as_deref(), Some("goods"));
        assert_eq!(visits[0].goods.as_deref(), Some("米、油各一份"));
        assert_eq!(visits[0].visited_on, Some(today_shanghai()));
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "campaign page fits 360 px");

        // The service catalogue: make the service members-only.
        c.goto(&app.url("/admin/services")).await.expect("open services");
        assert_shell(&c).await;
        let svc = format!("li[data-service-id='{service}']");
        click(&c, &format!("{svc} button.svc-members_only")).await;
        wait_js(&c, &format!("document.querySelector(\"{svc}\").textContent.includes('仅限会员申请')")).await;
        let row = services::Entity::find_by_id(service)
            .one(&app.state.db)
            .await
            .expect("query service")
            .expect("the service");
        assert!(row.members_only && row.active);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_admin_sees_case_counts_but_no_case() {
    if skip("region_admin_sees_case_counts_but_no_case") {
        return;
    }
    // Arrange: two hardship requests in a Hefei org, one of them refused.
    let app = spawn_app().await;
    let org_id = seed_open_org(&app, "OCASES002").await;
    let admin = seed_user(&app, "13500135102", "周科长").await;
    let region = app.region_id("340100").await;
    let (role, scope) =
        qunjia::auth::roles::parse_grant("admin", &format!("region:{region}")).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, admin, role, scope, None)
        .await
        .expect("insert role");
    let helper = app
        .login_with_role(HELPER, "org_admin", &format!("org:{org_id}"))
        .await;
    let service = post_ok(
        &app,
        &helper.access,
        "/api/v1/services",
        json!({"org_id": org_id, "kind": "hardship", "title": "困难职工帮扶"}),
        201,
    )
    .await["id"]
        .as_i64()
        .expect("service id");
    let worker = app.login(WORKER).await;
    file_case(&app, &worker.access, service, "孩子上学缺钱", 100_000).await;
    let refused = file_case(&app, &worker.access, service, "想换新车", 900_000).await;
    let path = format!("/api/v1/cases/{refused}/transition");
    let body = json!({"to": "rejected", "note": "不属于帮扶范围"});
    post_ok(&app, &helper.access, &path, body, 200).await;

    with_browser(|c| async move {
        // Act: the region admin opens the statistics from the officer menu.
        c.goto(&app.url("/admin")).await.expect("open admin");
        browser_login(&c, &app, "13500135102").await;
        click(&c, "#admin-menu a[href='/admin/casestats']").await;

        // Assert: counts by status and kind; the case itself stays closed to them.
        wait_text(&c, "#stats-total", "共 2 件申请").await;
        wait_js(&c, "[...document.querySelectorAll('#stats-status tr')].some((r) => r.textContent === '已提交1') && [...document.querySelectorAll('#stats-status tr')].some((r) => r.textContent === '未通过1')").await;
        wait_js(&c, "[...document.querySelectorAll('#stats-kind tr')].some((r) => r.textContent === '困难帮扶2')").await;
        assert!(c.find(Locator::Css("#admin-menu a[href='/admin/cases']")).await.is_err());
        c.goto(&app.url(&format!("/admin/cases/{refused}")))
            .await
            .expect("open case");
        wait_js(&c, "document.querySelector('main [role=alert]') && document.querySelector('main [role=alert]').textContent.includes('找到')").await;
        assert!(!text_of(&c, "main").await.contains("想换新车"));
    })
    .await;
}
