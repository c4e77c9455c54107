//! The audit log screen of region admins, in the browser.
use super::*;

use qunjia::entity::audit_log;

/// An entry of Hefei or Wuhu written straight into the table.
fn entry(action: &str, target: &str, region: i64, at: i64) -> audit_log::ActiveModel {
    use sea_orm::Set;
    audit_log::ActiveModel {
        actor_user_id: Set(None),
        action: Set(action.into()),
        target: Set(target.into()),
        region_id: Set(Some(region)),
        ip: Set(Some("10.0.0.1".into())),
        detail: Set(Some(
            r#"{"note":"a rather long note that has to wrap on a phone screen"}"#.into(),
        )),
        at: Set(at),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_admin_pages_filters_and_reads_the_audit_log_at_phone_size() {
    if skip("region_admin_pages_filters_and_reads_the_audit_log_at_phone_size") {
        return;
    }
    // Arrange: 21 grants and 2 case reads in Hefei, one grant in Wuhu.
    let app = spawn_app().await;
    let phone = "13500135200";
    seed_region_admin(&app, phone, "吴主任", &["340100"]).await;
    let (hefei, wuhu) = (app.region_id("340100").await, app.region_id("340200").await);
    let at = qunjia::clock::parse_rfc3339_ms("2026-06-01T02:00:00Z").expect("time");
    let mut rows: Vec<audit_log::ActiveModel> = (0..21)
        .map(|i| entry("role.grant", &format!("user:{i}"), hefei, at + i))
        .collect();
    rows.push(entry("case.read", "case:1", hefei, at + 100));
    rows.push(entry("case.read", "=case:2", hefei, at + 101));
    rows.push(entry("role.grant", "user:wuhu", wuhu, at + 102));
    audit_log::Entity::insert_many(rows)
        .exec(&app.state.db)
        .await
        .expect("seed entries");

    with_browser(|c| async move {
        // Act: from the officer menu to the log.
        c.goto(&app.url("/admin")).await.expect("open admin");
        browser_login(&c, &app, phone).await;
        click(&c, "#admin-menu a[href='/admin/audit']").await;

        // Assert: a first page newest first, then the rest on 加载更多; never Wuhu's.
        wait_js(&c, "document.querySelectorAll('#audit-items li').length === 20").await;
        wait_text(&c, "#audit-count", "已显示 20 条，最新的在前").await;
        let first = text_of(&c, "#audit-items li:first-child .audit-target").await;
        assert_eq!(first, "对象：=case:2");
        click(&c, "#audit-list button.more").await;
        wait_js(&c, "document.querySelectorAll('#audit-items li').length === 23").await;
        assert!(!text_of(&c, "#audit-list").await.contains("user:wuhu"));
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "the log fits 360 px");
        let small = js(
            &c,
            "return [...document.querySelectorAll('main button, main select, main input, main a')]
               .filter((e) => e.offsetParent !== null)
               .filter((e) => e.getBoundingClientRect().height < 44)
               .map((e) => e.id || e.outerHTML.slice(0, 60));",
        )
        .await;
        assert_eq!(small, json!([]), "tap targets of at least 44 px");

        // A kind of action narrows the list (and stays in the address).
        js(&c, "const s = document.getElementById('audit-action'); s.value = 'case.'; s.dispatchEvent(new Event('change')); return null;").await;
        wait_js(&c, "document.querySelectorAll('#audit-items li').length === 2").await;
        assert!(c.current_url().await.expect("url").query().unwrap_or_default().contains("action=case."));

        // Dates that cannot be: said on the page, nothing asked.
        js(&c, "document.getElementById('audit-from').value = '2026-06-02'; document.getElementById('audit-to').value = '2026-06-01'; return null;").await;
        click(&c, "#audit-search").await;
        wait_text(&c, "#audit-error", "开始日期不能晚于结束日期").await;

        // A day with nothing: the empty state.
        js(&c, "document.getElementById('audit-from').value = '2026-06-02'; document.getElementById('audit-to').value = '2026-06-02'; return null;").await;
        click(&c, "#audit-search").await;
        wait_for(&c, "#audit-empty").await;

        // English.
        click(&c, "#lang-toggle").await;
        wait_text(&c, "main h2", "Audit log").await;
        wait_text(&c, "#audit-empty", "No records match.").await;
    })
    .await;
}
