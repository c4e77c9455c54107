//! Every route of the app, for a worker, an org officer and a province admin, in
//! both languages, over the demo data at 360×640: no page shows `null`, `undefined`,
//! `NaN`, `[object Object]` or a translation key where text belongs, and no tab
//! runs off the screen.
use super::*;

/// The first id of `sql` (`SELECT id …`), as text for a path.
async fn first_id(app: &support::TestApp, sql: &str) -> String {
    let ids: Vec<i64> = app.column(sql).await;
    ids.first()
        .unwrap_or_else(|| panic!("the demo has a row for {sql}"))
        .to_string()
}

/// What is wrong with the page as shown: the visible words a person should
/// never read, and text nodes that are exactly a key of the string tables.
const LEAKS: &str = r#"
const done = arguments[0];
(async () => {
  const i18n = await import('/i18n/index.js');
  const keys = new Set([...i18n.keys('zh-CN'), ...i18n.keys('en')]);
  const text = document.body.innerText;
  const words = text.match(/\b(null|undefined|NaN)\b|\[object Object\]/g) || [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const leaked = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent.trim();
    const shown = n.parentElement && n.parentElement.offsetParent !== null;
    if (shown && keys.has(t)) leaked.push(t);
  }
  // Every tab and the unread badge in view (none scrolled off a 360 px screen).
  const offscreen = [...document.querySelectorAll('#nav a, #nav .badge:not([hidden])')]
    .filter((a) => { const r = a.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth + 0.5; })
    .map((a) => a.textContent.trim());
  // Every control a thumb must hit is at least 44 px tall and wide.
  const small = [...document.querySelectorAll('a[href], button, select, input:not([type=hidden]), textarea, summary')]
    .filter((e) => e.offsetParent !== null && !e.closest('[hidden]'))
    // A radio or checkbox is hit through its label.
    .map((e) => (/^(radio|checkbox)$/.test(e.type) && e.closest('label')) || e)
    .filter((e) => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className || ''} "${(e.textContent || e.value || '').trim().slice(0, 20)}" ${Math.round(e.getBoundingClientRect().width)}x${Math.round(e.getBoundingClientRect().height)}`);
  return { words, leaked, offscreen, small, path: location.pathname };
})().then(done, (e) => done({ error: String(e) }));
"#;

/// Waits until the page has loaded what it loads (nothing busy, no loading line).
async fn settled(c: &Client) {
    wait_js(
        c,
        "document.querySelector('#app') && document.querySelector('#app').children.length > 0 \
         && !document.querySelector('[aria-busy=true]') \
         && !/加载中|Loading/.test(document.querySelector('#app').innerText)",
    )
    .await;
}

async fn walk(c: &Client, app: &support::TestApp, paths: &[String], lang: &str) -> Vec<String> {
    let mut found = Vec::new();
    for path in paths {
        c.goto(&app.url(path)).await.expect("open");
        settled(c).await;
        let seen = c.execute_async(LEAKS, vec![]).await.expect("inspect page");
        assert!(seen["error"].is_null(), "{path}: {seen}");
        if seen["words"].as_array().is_some_and(|w| !w.is_empty())
            || seen["leaked"].as_array().is_some_and(|w| !w.is_empty())
            || seen["offscreen"].as_array().is_some_and(|w| !w.is_empty())
            || seen["small"].as_array().is_some_and(|w| !w.is_empty())
        {
            found.push(format!("{lang} {path} (shown as {}): {seen}", seen["path"]));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_shows_text_not_null_undefined_nan_or_keys_in_both_languages() {
    if skip("every_route_shows_text_not_null_undefined_nan_or_keys_in_both_languages") {
        return;
    }
    // Arrange: the demo, and an id for every path that takes one.
    let app = spawn_app().await;
    qunjia::demo::run(&app.state.settings).await.expect("demo");
    let worker = qunjia::demo::WORKER_PHONE;
    let case = first_id(
        &app,
        &format!(
            "SELECT c.id FROM cases c JOIN users u ON u.id = c.applicant_id \
             WHERE u.phone = '{worker}' ORDER BY c.id"
        ),
    )
    .await;
    let service = first_id(&app, "SELECT id FROM services ORDER BY id").await;
    let org = first_id(&app, "SELECT id FROM orgs ORDER BY id").await;
    let code = app
        .column::<String>("SELECT join_code FROM orgs ORDER BY id")
        .await
        .into_iter()
        .next()
        .expect("an org");
    let campaign = first_id(&app, "SELECT id FROM campaigns ORDER BY id").await;
    let activity = first_id(&app, "SELECT id FROM activities ORDER BY id").await;
    let worker_paths: Vec<String> = [
        "/".to_owned(),
        "/checkins".into(),
        "/activities".into(),
        "/services".into(),
        format!("/services/{service}/apply"),
        "/cases".into(),
        format!("/cases/{case}"),
        "/inbox".into(),
        "/orgs".into(),
        "/orgs/find".into(),
        format!("/join/{code}"),
    ]
    .into();
    let officer_paths: Vec<String> = [
        "/admin".to_owned(),
        "/admin/approvals".into(),
        "/admin/orgs".into(),
        format!("/admin/orgs/{org}"),
        format!("/admin/orgs/{org}/poster"),
        "/admin/services".into(),
        "/admin/cases".into(),
        "/admin/casestats".into(),
        format!("/admin/cases/{case}"),
        "/admin/campaigns".into(),
        format!("/admin/campaigns/{campaign}"),
        "/admin/activities".into(),
        format!("/kiosk/{activity}"),
    ]
    .into();
    let admin_paths: Vec<String> = [
        "/admin".to_owned(),
        "/admin/units".into(),
        "/admin/coverage".into(),
        "/admin/audit".into(),
        "/admin/orgs".into(),
        format!("/admin/orgs/{org}"),
    ]
    .into();
    let people = [
        (worker, worker_paths),
        ("13800000010", officer_paths),
        (qunjia::demo::ADMIN_PHONE, admin_paths),
    ];

    let mut found = Vec::new();
    for (phone, paths) in &people {
        for lang in ["zh-CN", "en"] {
            with_browser(|c| {
                let app = &app;
                let found = &mut found;
                async move {
                    c.goto(&app.url("/login")).await.expect("open login");
                    let set =
                        format!("localStorage.setItem('qunjia.lang', '{lang}'); return true;");
                    js(&c, &set).await;
                    c.goto(&app.url("/login")).await.expect("reload login");
                    settled(&c).await;
                    // Signed out, the page does not ask for a session it cannot have.
                    let asked = js(
                        &c,
                        "return performance.getEntriesByType('resource') \
                         .filter((e) => e.name.includes('/auth/refresh')).length;",
                    )
                    .await;
                    assert_eq!(
                        asked,
                        serde_json::json!(0),
                        "signed-out load asked /auth/refresh"
                    );
                    found.extend(walk(&c, app, &["/login".to_owned()], lang).await);
                    // The same phone logs in once per language: let it ask again.
                    if lang == "en" {
                        app.allow_resend(phone).await;
                    }
                    browser_login(&c, app, phone).await;
                    wait_js(&c, "location.pathname !== '/login'").await;

                    // Act
                    found.extend(walk(&c, app, paths, lang).await);
                }
            })
            .await;
        }
    }

    // Assert
    assert!(
        found.is_empty(),
        "pages show what no person should read:\n{}",
        found.join("\n")
    );
}
