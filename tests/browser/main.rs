//! The PWA in a real headless Chromium, driven through chromedriver (fantoccini).
//!
//! Each test starts its own chromedriver on a free port and a Chromium with a
//! fresh profile at phone size (360×640). Without `/usr/bin/chromedriver` the
//! tests fail (CI installs it); `QUNJIA_SKIP_BROWSER=1` skips them instead.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
mod audit;
mod officer_cases;
#[path = "../support/mod.rs"]
mod support;
mod walk;

mod cases;
mod layout;

use std::future::Future;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use support::spawn_app;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest wait for anything the page should do by itself.
const TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------- harness

/// Whether to skip: only on request. A missing chromedriver is a failure.
fn skip(test: &str) -> bool {
    if std::env::var("QUNJIA_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("{test}: skipped (QUNJIA_SKIP_BROWSER=1)");
        return true;
    }
    assert!(
        Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
        "browser tests need {CHROMEDRIVER} and {CHROMIUM} \
         (Debian: apt-get install chromium chromium-driver); \
         set QUNJIA_SKIP_BROWSER=1 to skip them"
    );
    false
}

/// A chromedriver child in its own process group; dropping it ends the group
/// (chromedriver and the Chromium it started), also when a test panics.
struct Driver {
    child: Child,
    url: String,
    /// Chromium's profile, removed after the browser is gone.
    _profile: tempfile::TempDir,
}

impl Driver {
    async fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile dir");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("chromedriver status") {
                panic!("chromedriver exited at start: {status}");
            }
            let ready = match http.get(format!("{url}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == json!(true)),
                Err(_) => false,
            };
            if ready {
                break;
            }
            if started.elapsed() > TIMEOUT {
                let _ = child.kill();
                panic!("chromedriver did not answer /status within {TIMEOUT:?}");
            }
            tokio::time::sleep(POLL).await;
        }
        Driver {
            child,
            url,
            _profile: profile,
        }
    }

    /// A browser session at phone size with a fresh profile.
    async fn session(&self) -> Client {
        // reqwest and fantoccini's hyper-rustls together enable two rustls crypto
        // providers, so rustls will not pick one by itself.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let profile = self._profile.path().display().to_string();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=360,640",
                    format!("--user-data-dir={profile}"),
                ],
                // Chromium will not make a window narrower than 500 px, so the
                // phone's 360×640 viewport is emulated (with touch and the meta viewport).
                "mobileEmulation": {
                    "deviceMetrics": { "width": 360, "height": 640, "pixelRatio": 2, "touch": true },
                },
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("new chromium session")
    }

    /// Signals the whole process group (negative pid = group id).
    fn signal_group(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(POLL);
        }
        // Whatever is left of the group (a Chromium helper that ignored TERM).
        self.signal_group("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a scenario with a browser, then closes the session whether it passed or
/// panicked, and re-raises the panic.
async fn with_browser<F, Fut>(scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()>,
{
    let driver = Driver::start().await;
    let client = driver.session().await;
    let outcome = AssertUnwindSafe(scenario(client.clone()))
        .catch_unwind()
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// ---------------------------------------------------------------- page helpers

/// Polls `check` until it yields a value, or panics naming `what`.
async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Runs a script (`return …;`) in the page.
async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {script}: {e}"))
}

/// Waits until a JS expression is truthy (errors, e.g. during a navigation, count as no).
async fn wait_js(c: &Client, expr: &str) {
    let script = &format!("return Boolean({expr});");
    poll(expr, TIMEOUT, || async move {
        matches!(c.execute(script, vec![]).await, Ok(Value::Bool(true))).then_some(())
    })
    .await
}

/// Waits until an element is in the page and displayed, and returns it.
async fn wait_for(c: &Client, selector: &str) -> fantoccini::elements::Element {
    poll(selector, TIMEOUT, || async move {
        let el = c.find(Locator::Css(selector)).await.ok()?;
        el.is_displayed().await.ok()?.then_some(el)
    })
    .await
}

async fn text_of(c: &Client, selector: &str) -> String {
    let v = js(
        c,
        &format!(
            "const e = document.querySelector({selector:?}); return e ? e.textContent : null;"
        ),
    )
    .await;
    v.as_str().unwrap_or_default().trim().to_owned()
}

async fn wait_text(c: &Client, selector: &str, want: &str) {
    let expr = format!(
        "document.querySelector({selector:?}) && document.querySelector({selector:?}).textContent.trim() === {want:?}"
    );
    wait_js(c, &expr).await;
}

async fn type_into(c: &Client, selector: &str, text: &str) {
    let el = wait_for(c, selector).await;
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
    let value = el.prop("value").await.expect("value").unwrap_or_default();
    assert_eq!(value, text, "{selector} holds what was typed");
}

async fn click(c: &Client, selector: &str) {
    wait_for(c, selector)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

/// Fails on Chromium's own error page (chrome-error://…) instead of our shell.
async fn assert_shell(c: &Client) {
    let url = c.current_url().await.expect("url");
    assert_ne!(url.scheme(), "chrome-error", "browser error page at {url}");
    wait_js(
        c,
        "document.querySelector('header.top h1') && document.getElementById('app')",
    )
    .await;
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_logs_in_edits_profile_and_sees_shell_offline() {
    if skip("worker_logs_in_edits_profile_and_sees_shell_offline") {
        return;
    }
    let app = spawn_app().await;
    let phone = "13912345678";
    with_browser(|c| async move {
        c.goto(&app.url("/")).await.expect("open app");
        assert_shell(&c).await;

        // Step 1: the phone number.
        type_into(&c, "#phone", "139 1234 5678").await;
        click(&c, "#send-code").await;
        wait_for(&c, "#code").await;

        // Step 2: the code screen counts down before a resend is allowed.
        let resend = wait_for(&c, "#resend").await;
        assert!(
            !resend.is_enabled().await.expect("enabled"),
            "#resend is disabled while counting down"
        );
        wait_js(&c, r"/\d+/.test(document.getElementById('countdown').textContent)").await;
        assert!(wait_for(&c, "#countdown").await.is_displayed().await.expect("shown"));
        assert!(text_of(&c, "#sent-to").await.contains("139****5678"));

        let gateway = &app.gateway;
        let code = poll("the SMS code at the gateway", TIMEOUT, || async move {
            gateway.last_code(phone)
        })
        .await;
        type_into(&c, "#code", &code).await;
        click(&c, "#login").await;

        // Home: fill in the profile as a female delivery rider on 美团.
        wait_for(&c, "#profile-name").await;
        type_into(&c, "#profile-name", "王小红").await;
        wait_for(&c, "#profile-gender")
            .await
            .select_by_value("female")
            .await
            .expect("choose gender");
        // Typing into a date input depends on the browser's locale: set it as the page would see it.
        let birth = js(
            &c,
            "const b = document.getElementById('profile-birth'); b.value = '1995-03-08';
             b.dispatchEvent(new Event('input', {bubbles: true}));
             b.dispatchEvent(new Event('change', {bubbles: true})); return b.value;",
        )
        .await;
        assert_eq!(birth, json!("1995-03-08"), "the date input took the value");
        click(&c, "#work-platform").await;
        type_into(&c, "#profile-platform", "美团").await;
        click(&c, "#save-profile").await;
        wait_js(&c, "document.getElementById('saved').textContent.trim() !== ''").await;
        assert_eq!(
            text_of(&c, "#error").await,
            "",
            "no error shown after saving"
        );

        // Stored: read the row back from the database.
        let row = qunjia::entity::users::Entity::find()
            .filter(qunjia::entity::users::Column::Phone.eq(phone))
            .one(&app.state.db)
            .await
            .expect("query users")
            .expect("the user exists");
        assert_eq!(row.name.as_deref(), Some("王小红"));
        assert_eq!(row.gender.as_deref(), Some("female"));
        assert_eq!(row.birth_date.map(|d| d.to_string()).as_deref(), Some("1995-03-08"));
        assert_eq!(row.platform.as_deref(), Some("美团"));

        // No horizontal scrolling at 360 px.
        let widths = js(
            &c,
            "return [document.documentElement.scrollWidth, window.innerWidth];",
        )
        .await;
        let scroll = widths[0].as_u64().expect("scrollWidth");
        assert_eq!(widths[1], json!(360), "the viewport is phone-sized");
        assert!(
            scroll <= 360,
            "home screen scrolls sideways: scrollWidth {scroll} (innerWidth {})",
            widths[1]
        );

        // Reload: the HttpOnly refresh cookie brings the session back.
        c.refresh().await.expect("reload");
        assert_shell(&c).await;
        wait_js(
            &c,
            "document.getElementById('profile-name') && document.getElementById('profile-name').value === '王小红'",
        )
        .await;
        wait_js(
            &c,
            "document.getElementById('greeting').textContent.includes('王小红')",
        )
        .await;
        let platform = wait_for(&c, "#profile-platform")
            .await
            .prop("value")
            .await
            .expect("value");
        assert_eq!(platform.as_deref(), Some("美团"));

        // The service worker has precached the shell and controls this page.
        let ready = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 navigator.serviceWorker.ready.then(() => done(true), () => done(false));",
                vec![],
            )
            .await
            .expect("serviceWorker.ready");
        assert_eq!(ready, json!(true), "service worker ready");
        wait_js(&c, "navigator.serviceWorker.controller !== null").await;

        // Offline: the server is gone, the shell still opens.
        app.stop().await;
        c.refresh().await.expect("reload offline");
        assert_shell(&c).await;
        wait_js(
            &c,
            "!document.getElementById('offline-banner').hidden || document.getElementById('retry')",
        )
        .await;
        wait_for(&c, "#retry").await;
        assert!(
            wait_for(&c, "#offline-banner")
                .await
                .is_displayed()
                .await
                .expect("banner"),
            "offline banner shown"
        );
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "offline screen fits 360 px");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_toggle_switches_to_english_and_persists() {
    if skip("language_toggle_switches_to_english_and_persists") {
        return;
    }
    let app = spawn_app().await;
    with_browser(|c| async move {
        c.goto(&app.url("/")).await.expect("open app");
        assert_shell(&c).await;
        wait_for(&c, "#send-code").await;
        wait_text(&c, "#send-code", "获取验证码").await;
        assert_eq!(
            js(&c, "return document.documentElement.lang;").await,
            "zh-CN"
        );

        click(&c, "#lang-toggle").await;
        wait_text(&c, "#send-code", "Get code").await;
        assert_eq!(js(&c, "return document.documentElement.lang;").await, "en");
        assert_eq!(text_of(&c, "#lang-toggle").await, "中文");

        c.refresh().await.expect("reload");
        assert_shell(&c).await;
        wait_for(&c, "#send-code").await;
        wait_text(&c, "#send-code", "Get code").await;
        assert_eq!(js(&c, "return document.documentElement.lang;").await, "en");

        // And back.
        click(&c, "#lang-toggle").await;
        wait_text(&c, "#send-code", "获取验证码").await;
    })
    .await;
}

/// A unit in Hefei and an open union covering it with a known join code;
/// returns the org id.
async fn seed_open_org(app: &support::TestApp, join_code: &str) -> i64 {
    use qunjia::entity::{org_units, orgs, units};
    use sea_orm::{ActiveModelTrait, Set};
    let now = qunjia::clock::now_ms();
    let region_id = app.region_id("340100").await;
    let unit = units::ActiveModel {
        name: Set("合肥星火科技有限公司".into()),
        uscc: Set("91340100MA2N0XYZ1A".into()),
        kind: Set("enterprise".into()),
        region_id: Set(region_id),
        employee_count: Set(80),
        above_scale: Set(true),
        has_party_org: Set(false),
        industry: Set(Some("软件".into())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert unit");
    let org = orgs::ActiveModel {
        name: Set("合肥星火科技有限公司工会".into()),
        org_type: Set("union".into()),
        form: Set("single".into()),
        region_id: Set(region_id),
        join_code: Set(join_code.into()),
        join_policy: Set("open".into()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        dissolved_at: Set(None),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert org");
    org_units::ActiveModel {
        org_id: Set(org.id),
        unit_id: Set(unit.id),
    }
    .insert(&app.state.db)
    .await
    .expect("insert org_units");
    org.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_joins_from_poster_link_through_login() {
    if skip("worker_joins_from_poster_link_through_login") {
        return;
    }
    let app = spawn_app().await;
    let phone = "13800138000";
    let org_id = seed_open_org(&app, "JOINTEST01").await;
    // The worker has an account with a name already (as the profile screen saves it).
    let user_id = {
        use sea_orm::{ActiveModelTrait, Set};
        let now = qunjia::clock::now_ms();
        qunjia::entity::users::ActiveModel {
            phone: Set(Some(phone.into())),
            name: Set(Some("李明".into())),
            gender: Set(Some("male".into())),
            birth_date: Set(chrono::NaiveDate::from_ymd_opt(1990, 5, 1)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("insert user")
        .id
    };

    with_browser(|c| async move {
        // Not logged in in this browser: the poster link still shows the organization.
        c.goto(&app.url("/join/JOINTEST01")).await.expect("open join link");
        assert_shell(&c).await;
        wait_text(&c, "#org-name", "合肥星火科技有限公司工会").await;
        wait_js(&c, "document.getElementById('join-box').textContent.includes('工会')").await;
        wait_js(&c, "document.getElementById('join-box').textContent.includes('合肥星火科技有限公司')").await;
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "join page fits 360 px");

        // Join → the login screen, which says the join will continue.
        click(&c, "#join-btn").await;
        wait_for(&c, "#phone").await;
        wait_for(&c, "#pending-join").await;
        let stored = js(&c, "return sessionStorage.getItem('qunjia.pendingJoin');").await;
        assert_eq!(stored, json!("JOINTEST01"), "only the code is remembered");
        type_into(&c, "#phone", phone).await;
        click(&c, "#send-code").await;
        wait_for(&c, "#code").await;
        let gateway = &app.gateway;
        let code = poll("the SMS code at the gateway", TIMEOUT, || async move {
            gateway.last_code(phone)
        })
        .await;
        type_into(&c, "#code", &code).await;
        click(&c, "#login").await;

        // Back on the join page, the join finishes by itself.
        wait_text(&c, "#join-status", "已加入").await;
        let url = c.current_url().await.expect("url");
        assert_eq!(url.path(), "/join/JOINTEST01");
        assert_eq!(text_of(&c, "#join-error").await, "");
        let stored = js(&c, "return sessionStorage.getItem('qunjia.pendingJoin');").await;
        assert_eq!(stored, Value::Null, "the pending join is cleared");

        // The membership is stored and active.
        let rows = qunjia::entity::memberships::Entity::find()
            .filter(qunjia::entity::memberships::Column::OrgId.eq(org_id))
            .filter(qunjia::entity::memberships::Column::UserId.eq(user_id))
            .all(&app.state.db)
            .await
            .expect("query memberships");
        assert_eq!(rows.len(), 1, "one membership row");
        assert_eq!(rows[0].status, "active");

        // 我的组织 lists it.
        click(&c, "#nav a[href='/orgs']").await;
        wait_js(&c, "document.querySelector('#my-orgs li') && document.getElementById('my-orgs').textContent.includes('合肥星火科技有限公司工会')").await;

        // Joining again says so in plain Chinese.
        c.goto(&app.url("/join/JOINTEST01")).await.expect("open join link again");
        assert_shell(&c).await;
        click(&c, "#join-btn").await;
        wait_js(&c, "document.getElementById('join-error').textContent.trim() || document.getElementById('join-status').textContent.trim()").await;
        assert_eq!(
            text_of(&c, "#join-error").await,
            "你已经是成员或申请正在审核中",
            "second join (status shown: {:?})",
            text_of(&c, "#join-status").await
        );

        // An unknown code gets a friendly page.
        c.goto(&app.url("/join/NOSUCHCODE")).await.expect("open unknown code");
        assert_shell(&c).await;
        wait_for(&c, "#join-missing").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_rider_from_a_poster_adds_a_name_and_lands_back_on_the_join() {
    if skip("new_rider_from_a_poster_adds_a_name_and_lands_back_on_the_join") {
        return;
    }
    let app = spawn_app().await;
    let phone = "13800138009";
    let org_id = seed_open_org(&app, "JOINTEST09").await;

    with_browser(|c| async move {
        // A phone that has never logged in: the join goes through the login…
        c.goto(&app.url("/join/JOINTEST09"))
            .await
            .expect("open join link");
        click(&c, "#join-btn").await;
        browser_login(&c, &app, phone).await;

        // …and, back on the join, the missing name is a way to the form, not a dead end.
        wait_js(&c, "location.pathname === '/join/JOINTEST09'").await;
        wait_for(&c, "#join-profile:not([hidden])").await;
        assert!(text_of(&c, "#join-error").await.contains("姓名"));
        click(&c, "#join-profile").await;
        wait_for(&c, "#then-join").await;
        type_into(&c, "#profile-name", "王小骑").await;
        click(&c, "#save-profile").await;

        // Saving the name goes back and finishes the join.
        wait_text(&c, "#join-status", "已加入").await;
        assert_eq!(
            c.current_url().await.expect("url").path(),
            "/join/JOINTEST09"
        );
        let joined = qunjia::entity::memberships::Entity::find()
            .filter(qunjia::entity::memberships::Column::OrgId.eq(org_id))
            .count(&app.state.db)
            .await
            .expect("count");
        assert_eq!(joined, 1);
        let stored = js(&c, "return sessionStorage.getItem('qunjia.pendingJoin');").await;
        assert_eq!(stored, Value::Null, "the pending join is cleared");
    })
    .await;
}

/// A user row with a name, created directly in the database; returns its id.
async fn seed_user(app: &support::TestApp, phone: &str, name: &str) -> i64 {
    use sea_orm::{ActiveModelTrait, Set};
    let now = qunjia::clock::now_ms();
    qunjia::entity::users::ActiveModel {
        phone: Set(Some(phone.into())),
        name: Set(Some(name.into())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert user")
    .id
}

/// Types the phone, reads the code from the fake gateway, logs in.
async fn browser_login(c: &Client, app: &support::TestApp, phone: &str) {
    type_into(c, "#phone", phone).await;
    click(c, "#send-code").await;
    wait_for(c, "#code").await;
    let gateway = &app.gateway;
    let code = poll("the SMS code at the gateway", TIMEOUT, || async move {
        gateway.last_code(phone)
    })
    .await;
    type_into(c, "#code", &code).await;
    click(c, "#login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sees_coverage_table_and_chart() {
    if skip("admin_sees_coverage_table_and_chart") {
        return;
    }
    use qunjia::entity::units;
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    let phone = "13700137000";
    // Hefei: one required unit, covered by a union. Wuhu: one required unit, not covered.
    let org_id = seed_open_org(&app, "COVTEST01").await;
    let now = qunjia::clock::now_ms();
    units::ActiveModel {
        name: Set("芜湖江城物流有限公司".into()),
        uscc: Set("91340200MA2N0XYZ2B".into()),
        kind: Set("enterprise".into()),
        region_id: Set(app.region_id("340200").await),
        employee_count: Set(120),
        above_scale: Set(true),
        has_party_org: Set(false),
        industry: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert unit");
    let user_id = seed_user(&app, phone, "张主任").await;
    let province = app.region_id("340000").await;
    let (role, scope) =
        qunjia::auth::roles::parse_grant("admin", &format!("region:{province}")).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, user_id, role, scope, None)
        .await
        .expect("insert role");

    with_browser(|c| async move {
        c.goto(&app.url("/")).await.expect("open app");
        assert_shell(&c).await;
        browser_login(&c, &app, phone).await;

        // The officer sees 管理 in the navigation.
        click(&c, "#nav a[href='/admin']").await;
        click(&c, "#admin-menu a[href='/admin/coverage']").await;

        // A row per city, with Hefei fully covered and Wuhu not.
        wait_for(&c, "#coverage-table").await;
        wait_js(&c, "document.querySelectorAll('#coverage-table tbody tr').length === 17").await;
        let hefei = js(
            &c,
            "const r = [...document.querySelectorAll('#coverage-table tbody tr')].find((tr) => tr.textContent.includes('合肥市'));
             return r ? [...r.querySelectorAll('td')].map((td) => td.textContent) : null;",
        )
        .await;
        assert_eq!(hefei, json!(["1", "1", "1", "100%"]), "Hefei row");
        let total = js(
            &c,
            "return [...document.querySelectorAll('#coverage-table tr.total td')].map((td) => td.textContent);",
        )
        .await;
        assert_eq!(total, json!(["2", "2", "1", "50%"]), "total row");

        // The chart: one bar per child region, in inline SVG.
        let bars = js(
            &c,
            "const s = document.querySelector('#coverage-chart');
             return s && s.namespaceURI === 'http://www.w3.org/2000/svg'
               ? [...s.querySelectorAll('rect.bar')].map((r) => Number(r.getAttribute('width'))) : null;",
        )
        .await;
        let bars = bars.as_array().expect("an SVG chart");
        assert_eq!(bars.len(), 16, "a bar per city");
        assert!(bars.iter().any(|w| w.as_f64() > Some(0.0)), "Hefei's bar is drawn");

        // The gap list names the uncovered unit with its region path.
        wait_js(&c, "document.getElementById('gap-list') && document.getElementById('gap-list').textContent.includes('芜湖江城物流有限公司')").await;
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "dashboard fits 360 px");

        // Drill down into Hefei via the table.
        click(&c, "#coverage-table tbody tr:first-child th button").await;
        wait_js(&c, "document.querySelectorAll('#crumbs li').length === 2").await;

        // Ledger download: an authenticated fetch turned into a file (no error shown).
        click(&c, "#ledger-csv").await;
        wait_js(&c, "document.getElementById('ledger-csv').getAttribute('aria-busy') !== 'true'").await;

        // Other officer screens: approvals (empty), units, organizations.
        click(&c, "#nav a[href='/admin']").await;
        click(&c, "#admin-menu a[href='/admin/approvals']").await;
        wait_for(&c, "#approvals-empty").await;
        c.goto(&app.url("/admin/units")).await.expect("open units");
        assert_shell(&c).await;
        wait_js(&c, "document.getElementById('unit-list').textContent.includes('芜湖江城物流有限公司')").await;

        // Create an organization for the Wuhu unit by picking it from a search.
        c.goto(&app.url("/admin/orgs")).await.expect("open orgs");
        assert_shell(&c).await;
        wait_js(&c, "document.getElementById('org-list').textContent.includes('合肥星火科技有限公司工会')").await;
        type_into(&c, "#new-org-name", "芜湖江城物流有限公司工会").await;
        wait_js(&c, "document.querySelectorAll('#new-org-region option').length > 1").await;
        type_into(&c, "#unit-q", "江城").await;
        click(&c, "#unit-pick-results button").await;
        wait_js(&c, "document.querySelectorAll('#unit-chosen li').length === 1").await;
        click(&c, "#create-org").await;
        wait_for(&c, "#org-created").await;
        wait_text(&c, "#org-name", "芜湖江城物流有限公司工会").await;
        wait_js(&c, "document.getElementById('join-qr').src.startsWith('blob:')").await;
        wait_for(&c, "#poster-link").await;
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "org page fits 360 px");

        // The org's poster shows the QR as a blob: image.
        c.goto(&app.url(&format!("/admin/orgs/{org_id}/poster")))
            .await
            .expect("open poster");
        assert_shell(&c).await;
        wait_text(&c, "#poster-name", "合肥星火科技有限公司工会").await;
        wait_js(&c, "document.getElementById('join-qr').src.startsWith('blob:') && document.getElementById('join-qr').naturalWidth > 0").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_approves_and_rejects_pending_members() {
    if skip("org_admin_approves_and_rejects_pending_members") {
        return;
    }
    use qunjia::entity::memberships;
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    let org_id = seed_open_org(&app, "APPROVE01").await;
    let mut pending = Vec::new();
    for (phone, name) in [("13600136001", "赵一"), ("13600136002", "钱二")] {
        let user_id = seed_user(&app, phone, name).await;
        let m = memberships::ActiveModel {
            org_id: Set(org_id),
            user_id: Set(user_id),
            status: Set("pending".into()),
            requested_at: Set(qunjia::clock::now_ms()),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("insert membership");
        pending.push(m.id);
    }
    let phone = "13500135000";
    let officer = seed_user(&app, phone, "孙主席").await;
    let (role, scope) =
        qunjia::auth::roles::parse_grant("org_admin", &format!("org:{org_id}")).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, officer, role, scope, None)
        .await
        .expect("insert role");

    with_browser(|c| async move {
        c.goto(&app.url("/admin/approvals"))
            .await
            .expect("open app");
        assert_shell(&c).await;
        // Signed out: the login screen first, then back to the queue.
        browser_login(&c, &app, phone).await;
        wait_js(
            &c,
            "document.querySelectorAll('#approvals li').length === 2",
        )
        .await;
        assert_eq!(
            c.current_url().await.expect("url").path(),
            "/admin/approvals"
        );

        let (first, second) = (pending[0], pending[1]);
        click(
            &c,
            &format!("li[data-membership-id='{first}'] button.approve"),
        )
        .await;
        wait_text(
            &c,
            &format!("li[data-membership-id='{first}'] .ok"),
            "已通过",
        )
        .await;

        click(
            &c,
            &format!("li[data-membership-id='{second}'] button.reject"),
        )
        .await;
        // A reason is required.
        click(
            &c,
            &format!("li[data-membership-id='{second}'] button.confirm-reject"),
        )
        .await;
        wait_text(
            &c,
            &format!("li[data-membership-id='{second}'] .error"),
            "请填写拒绝原因",
        )
        .await;
        type_into(&c, &format!("#reason-{second}"), "不是本单位职工").await;
        click(
            &c,
            &format!("li[data-membership-id='{second}'] button.confirm-reject"),
        )
        .await;
        wait_text(
            &c,
            &format!("li[data-membership-id='{second}'] .ok"),
            "已拒绝",
        )
        .await;

        let status = |id: i64| {
            let db = app.state.db.clone();
            async move {
                memberships::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .expect("query")
                    .expect("row")
                    .status
            }
        };
        assert_eq!(status(first).await, "active");
        assert_eq!(status(second).await, "rejected");
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(
            scroll.as_u64().expect("scrollWidth") <= 360,
            "queue fits 360 px"
        );
    })
    .await;
}

/// A valid unified social credit code: `first17` and its check character.
fn uscc(first17: &str) -> String {
    let check = qunjia::units::uscc::check_char(first17).expect("17 valid characters");
    format!("{first17}{check}")
}

/// Number of units in the database.
async fn unit_count(app: &support::TestApp) -> usize {
    qunjia::entity::units::Entity::find()
        .all(&app.state.db)
        .await
        .expect("query units")
        .len()
}

/// Gives `phone` (a new named user) the `admin` role of each region code; returns the user id.
async fn seed_region_admin(app: &support::TestApp, phone: &str, name: &str, codes: &[&str]) -> i64 {
    let user_id = seed_user(app, phone, name).await;
    for code in codes {
        let region = app.region_id(code).await;
        let (role, scope) =
            qunjia::auth::roles::parse_grant("admin", &format!("region:{region}")).expect("grant");
        qunjia::auth::roles::insert_role(&app.state.db, user_id, role, scope, None)
            .await
            .expect("insert role");
    }
    user_id
}

/// Hands a file to the page's <input type=file> the way WebDriver does: its absolute path.
async fn choose_file(c: &Client, selector: &str, path: &Path) {
    js(
        c,
        &format!("document.querySelector({selector:?}).value = ''; return null;"),
    )
    .await;
    let input = c
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    let path = path.to_str().expect("utf-8 temp path");
    // WebDriver sets the files and fires `change` before the command returns, so
    // there is nothing to wait for here — and a view that uploads at once and then
    // clears the input would make `files.length === 1` a race.
    input.send_keys(path).await.expect("choose file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_imports_units_and_sees_bad_rows() {
    if skip("admin_imports_units_and_sees_bad_rows") {
        return;
    }
    let app = spawn_app().await;
    let phone = "13300133000";
    seed_region_admin(&app, phone, "周科长", &["340000"]).await;
    assert_eq!(unit_count(&app).await, 0, "no units before the import");

    let dir = tempfile::tempdir().expect("temp dir");
    let header = "区划代码(region_code),单位名称(name),统一社会信用代码(uscc),单位类型(kind),\
                  职工人数(employee_count),规模以上(above_scale),有党组织(has_party_org),行业(industry)";
    // Row 2 is fine; row 3 has a wrong check character; row 4 names no region at all.
    let good_code = uscc("91340100MA2N10001");
    let right = uscc("91340100MA2N10002");
    let wrong_check = if right.ends_with('0') {
        format!("{}1", &right[..17])
    } else {
        format!("{}0", &right[..17])
    };
    let bad = format!(
        "{header}\n\
         340100,合肥一号科技有限公司,{good_code},企业,50,是,否,软件\n\
         340100,合肥二号科技有限公司,{wrong_check},企业,60,否,否,\n\
         999999,无名地区贸易有限公司,{},企业,70,否,否,\n",
        uscc("91340100MA2N10003")
    );
    let bad_path = dir.path().join("bad-units.csv");
    std::fs::write(&bad_path, bad).expect("write bad csv");
    let good = format!(
        "{header}\n\
         340100,合肥一号科技有限公司,{good_code},企业,50,是,否,软件\n\
         340100,合肥二号科技有限公司,{},社会组织,60,否,否,\n\
         340200,芜湖三号物流有限公司,{},平台,70,否,是,物流\n",
        uscc("91340100MA2N10004"),
        uscc("91340200MA2N10005")
    );
    let good_path = dir.path().join("good-units.csv");
    std::fs::write(&good_path, good).expect("write good csv");

    with_browser(|c| async move {
        c.goto(&app.url("/admin/units")).await.expect("open units");
        assert_shell(&c).await;
        browser_login(&c, &app, phone).await;
        wait_for(&c, "#import-form").await;
        // The region list is filled once the regions API answers.
        wait_js(
            &c,
            "document.querySelectorAll('#import-region option').length > 1",
        )
        .await;
        // One admin region: no scope chooser.
        assert_eq!(
            js(
                &c,
                "return document.getElementById('scope-region') === null;"
            )
            .await,
            json!(true)
        );

        // The bad file: the table names each bad row and why; nothing stored.
        choose_file(&c, "#import-file", &bad_path).await;
        click(&c, "#import-btn").await;
        wait_for(&c, "#bad-rows").await;
        let rows = js(
            &c,
            "return [...document.querySelectorAll('#bad-rows tbody tr')]
               .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));",
        )
        .await;
        assert_eq!(
            rows,
            json!([
                [
                    "3",
                    "统一社会信用代码",
                    "统一社会信用代码不正确（应为18位，校验位需正确）"
                ],
                ["4", "区划代码", "区划代码不存在"],
            ]),
            "bad rows"
        );
        assert_eq!(
            text_of(&c, "#import-form .error").await,
            "文件中有错误，没有导入任何单位"
        );
        assert_eq!(text_of(&c, "#import-ok").await, "");
        assert_eq!(unit_count(&app).await, 0, "a bad file imports nothing");
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(
            scroll.as_u64().expect("scrollWidth") <= 360,
            "bad-row table fits 360 px"
        );

        // The corrected file: all three rows are stored.
        choose_file(&c, "#import-file", &good_path).await;
        click(&c, "#import-btn").await;
        wait_text(&c, "#import-ok", "已导入 3 家单位").await;
        assert_eq!(
            js(&c, "return document.getElementById('bad-rows') === null;").await,
            json!(true),
            "the bad-row table is gone"
        );
        assert_eq!(text_of(&c, "#import-form .error").await, "");
        assert_eq!(unit_count(&app).await, 3, "three units imported");
        // The list shows them.
        wait_js(
            &c,
            "document.getElementById('unit-list').textContent.includes('芜湖三号物流有限公司')",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_admin_approves_in_region_picks_scope_and_manages_leaders() {
    if skip("region_admin_approves_in_region_picks_scope_and_manages_leaders") {
        return;
    }
    use qunjia::entity::{leaders, memberships};
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    // An org in Hefei: one pending applicant, two active members.
    let org_id = seed_open_org(&app, "LEADERS01").await;
    let mut ids = Vec::new();
    for (phone, name, status) in [
        ("13200132001", "吴一", "pending"),
        ("13200132002", "郑二", "active"),
        ("13200132003", "冯三", "active"),
    ] {
        let user_id = seed_user(&app, phone, name).await;
        let m = memberships::ActiveModel {
            org_id: Set(org_id),
            user_id: Set(user_id),
            status: Set(status.into()),
            requested_at: Set(qunjia::clock::now_ms()),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("insert membership");
        ids.push((user_id, m.id));
    }
    // Admin of Hefei and of Wuhu, org_admin of nothing.
    let phone = "13200132000";
    seed_region_admin(&app, phone, "陈主任", &["340100", "340200"]).await;

    with_browser(|c| async move {
        c.goto(&app.url("/admin/approvals")).await.expect("open approvals");
        assert_shell(&c).await;
        browser_login(&c, &app, phone).await;
        // The pending request of the Hefei org shows up through the region role.
        let pending = ids[0].1;
        click(&c, &format!("li[data-membership-id='{pending}'] button.approve")).await;
        wait_text(&c, &format!("li[data-membership-id='{pending}'] .ok"), "已通过").await;

        // Two admin regions: the units screen offers a scope chooser, Hefei first.
        c.goto(&app.url("/admin/units")).await.expect("open units");
        assert_shell(&c).await;
        wait_js(&c, "document.querySelectorAll('#scope-region option').length === 2 && document.getElementById('scope-region').options[1].textContent === '芜湖市'").await;
        wait_js(&c, "document.getElementById('unit-list').textContent.includes('合肥星火科技有限公司')").await;
        let wuhu = app.region_id("340200").await;
        wait_for(&c, "#scope-region")
            .await
            .select_by_value(&wuhu.to_string())
            .await
            .expect("choose Wuhu");
        wait_for(&c, "#units-empty").await;
        wait_js(&c, "document.getElementById('import-region').options.length > 0 && document.getElementById('import-region').options[0].textContent === '芜湖市'").await;
        // Remembered for the session: coverage starts in Wuhu too.
        c.goto(&app.url("/admin/coverage")).await.expect("open coverage");
        assert_shell(&c).await;
        wait_js(&c, "document.querySelector('#crumbs li') && document.querySelector('#crumbs li').textContent === '芜湖市'").await;

        // Leaders on the org page: none yet; add one of the active members.
        c.goto(&app.url(&format!("/admin/orgs/{org_id}"))).await.expect("open org");
        assert_shell(&c).await;
        wait_for(&c, "#leaders-empty").await;
        // Three active members now (the approved one too), plus the "choose" option.
        wait_js(&c, "document.querySelectorAll('#leader-user option').length === 4").await;
        let (chair, _) = ids[1];
        wait_for(&c, "#leader-user")
            .await
            .select_by_value(&chair.to_string())
            .await
            .expect("choose member");
        type_into(&c, "#leader-position", "主席").await;
        click(&c, "#add-leader").await;
        wait_text(&c, "#leader-added", "已添加：主席 郑二").await;
        wait_js(&c, &format!("document.querySelector(\"#leader-list li[data-user-id='{chair}']\") && document.querySelector(\"#leader-list li[data-user-id='{chair}']\").textContent.includes('主席')")).await;

        // The same person again: said in plain Chinese.
        wait_for(&c, "#leader-user")
            .await
            .select_by_value(&chair.to_string())
            .await
            .expect("choose member again");
        type_into(&c, "#leader-position", "委员").await;
        click(&c, "#add-leader").await;
        wait_text(&c, "#leader-form .error", "此人已是班子成员").await;

        let rows = leaders::Entity::find()
            .filter(leaders::Column::OrgId.eq(org_id))
            .all(&app.state.db)
            .await
            .expect("query leaders");
        assert_eq!(rows.len(), 1, "one leader");
        assert_eq!((rows[0].user_id, rows[0].position.as_str()), (chair, "主席"));
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "org page fits 360 px");

        // Remove, after a confirmation.
        click(&c, "#leader-list button.remove-leader").await;
        click(&c, "#leader-list button.confirm-remove").await;
        wait_for(&c, "#leaders-empty").await;
        let left = leaders::Entity::find()
            .filter(leaders::Column::OrgId.eq(org_id))
            .all(&app.state.db)
            .await
            .expect("query leaders");
        assert!(left.is_empty(), "the leader is removed");
    })
    .await;
}

// ---------------------------------------------------------------- activities and check-in

/// An open org with an org_admin officer and an active member, and an activity
/// running now; returns (activity id, officer phone, worker phone).
async fn seed_running_activity(app: &support::TestApp, tag: &str) -> (i64, String, String) {
    use qunjia::entity::{activities, memberships};
    use sea_orm::{ActiveModelTrait, Set};
    let org_id = seed_open_org(app, &format!("ACT{tag}")).await;
    let officer_phone = format!("1350013{tag}00");
    let worker_phone = format!("1370013{tag}00");
    let officer = seed_user(app, &officer_phone, "孙主席").await;
    let (role, scope) =
        qunjia::auth::roles::parse_grant("org_admin", &format!("org:{org_id}")).expect("grant");
    qunjia::auth::roles::insert_role(&app.state.db, officer, role, scope, None)
        .await
        .expect("insert role");
    let worker = seed_user(app, &worker_phone, "李明").await;
    let now = qunjia::clock::now_ms();
    memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(worker),
        status: Set("active".into()),
        requested_at: Set(now),
        decided_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert membership");
    let activity = activities::ActiveModel {
        org_id: Set(org_id),
        centre_id: Set(None),
        title: Set("职工健康讲座".into()),
        description: Set(None),
        kind: Set("lecture".into()),
        starts_at: Set(now - 10 * 60_000),
        ends_at: Set(now + 2 * 3_600_000),
        capacity: Set(None),
        signup_required: Set(false),
        audience: Set("members".into()),
        status: Set("scheduled".into()),
        checkin_key: Set(format!("test-checkin-key-{tag}-x7Qp2")),
        signed_up: Set(0),
        checked_in: Set(0),
        created_by: Set(Some(officer)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert activity");
    (activity.id, officer_phone, worker_phone)
}

async fn checkin_rows(app: &support::TestApp, activity_id: i64) -> usize {
    qunjia::entity::checkins::Entity::find()
        .filter(qunjia::entity::checkins::Column::ActivityId.eq(activity_id))
        .all(&app.state.db)
        .await
        .expect("query checkins")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_shows_qr_and_worker_checks_in_through_login() {
    if skip("kiosk_shows_qr_and_worker_checks_in_through_login") {
        return;
    }
    let app = spawn_app().await;
    let (activity_id, officer_phone, worker_phone) = seed_running_activity(&app, "01").await;

    with_browser(|c| async move {
        // The officer opens the entrance screen (logging in first).
        c.goto(&app.url(&format!("/kiosk/{activity_id}")))
            .await
            .expect("open kiosk");
        assert_shell(&c).await;
        browser_login(&c, &app, &officer_phone).await;
        wait_js(&c, "document.getElementById('kiosk-qr') && document.getElementById('kiosk-qr').src.startsWith('blob:') && document.getElementById('kiosk-qr').naturalWidth > 0").await;
        wait_js(&c, "/^[2-9A-HJKMNP-Z]{6}$/.test(document.getElementById('kiosk-code').textContent.trim())").await;
        wait_text(&c, "#kiosk-title", "职工健康讲座").await;
        wait_js(&c, "document.getElementById('kiosk-count').dataset.n === '0'").await;
        assert_eq!(
            js(&c, "return getComputedStyle(document.getElementById('nav')).display;").await,
            json!("none"),
            "no navigation on the kiosk"
        );
        let qr_url = js(&c, "return document.getElementById('kiosk-qr').dataset.url;").await;
        let qr_url = qr_url.as_str().expect("data-url").to_owned();
        let token = qr_url.rsplit("/c/").next().expect("token in url").to_owned();
        assert!(!token.is_empty(), "url {qr_url}");

        // A worker's phone (another browser, fresh profile) opens the QR's URL.
        let driver = Driver::start().await;
        let w = driver.session().await;
        let worker = AssertUnwindSafe(async {
            w.goto(&app.url(&format!("/c/{token}"))).await.expect("open qr url");
            assert_shell(&w).await;
            wait_for(&w, "#phone").await;
            let kept = js(&w, "return JSON.parse(sessionStorage.getItem('qunjia.pendingCheckin'));").await;
            assert_eq!(kept["body"]["token"], json!(token), "the token is kept across login");
            assert!(kept["key"].is_string() && kept["scanned_at"].is_string(), "{kept}");
            browser_login(&w, &app, &worker_phone).await;
            wait_text(&w, "#checkin-result", "签到成功").await;
            wait_js(&w, "document.getElementById('checkin-activity').textContent.includes('职工健康讲座')").await;
            assert_eq!(
                js(&w, "return sessionStorage.getItem('qunjia.pendingCheckin');").await,
                Value::Null,
                "the pending check-in is cleared"
            );
            // The same QR again: already checked in.
            w.goto(&app.url(&format!("/c/{token}"))).await.expect("open qr url again");
            wait_text(&w, "#checkin-result", "你已经签到过了").await;
        })
        .catch_unwind()
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(10), w.close()).await;
        drop(driver);
        if let Err(p) = worker {
            std::panic::resume_unwind(p);
        }
        assert_eq!(checkin_rows(&app, activity_id).await, 1, "one check-in row");

        // The kiosk's count goes up by itself.
        wait_js(&c, "document.getElementById('kiosk-count').dataset.n === '1'").await;
        assert_eq!(text_of(&c, "#kiosk-count").await, "已签到 1 人");
    })
    .await;
}

/// Chromium's network emulation through chromedriver (offline or normal).
async fn set_offline(driver_url: &str, c: &Client, offline: bool) {
    let id = c
        .session_id()
        .await
        .expect("session id")
        .expect("a session");
    let res = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!(
            "{driver_url}/session/{id}/chromium/network_conditions"
        ))
        .json(&json!({"network_conditions": {
            "offline": offline, "latency": 0, "download_throughput": -1, "upload_throughput": -1
        }}))
        .send()
        .await
        .expect("network_conditions");
    assert!(
        res.status().is_success(),
        "network_conditions: {}",
        res.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_scan_is_queued_and_confirmed_when_online() {
    if skip("offline_scan_is_queued_and_confirmed_when_online") {
        return;
    }
    let app = spawn_app().await;
    let (activity_id, officer_phone, worker_phone) = seed_running_activity(&app, "02").await;
    let officer = app.login(&officer_phone).await;
    let qr: Value = app
        .get_auth(
            &format!("/api/v1/activities/{activity_id}/checkin-qr"),
            &officer.access,
        )
        .await
        .json()
        .await
        .expect("checkin-qr json");
    let token = qr["token"].as_str().expect("token").to_owned();

    let driver = Driver::start().await;
    let c = driver.session().await;
    let outcome = AssertUnwindSafe(async {
        // Logged in, with the shell cached by the service worker.
        c.goto(&app.url("/checkins")).await.expect("open app");
        assert_shell(&c).await;
        browser_login(&c, &app, &worker_phone).await;
        wait_for(&c, "#checkin-history").await;
        wait_js(&c, "navigator.serviceWorker && navigator.serviceWorker.controller !== null").await;

        // No network: the scan is kept in IndexedDB.
        set_offline(&driver.url, &c, true).await;
        c.goto(&app.url(&format!("/c/{token}"))).await.expect("open qr url offline");
        assert_shell(&c).await;
        wait_text(&c, "#checkin-result", "已保存，联网后自动提交").await;
        let items = c
            .execute_async(
                "const done = arguments[0];
                 const r = indexedDB.open('qunjia');
                 r.onsuccess = () => { const g = r.result.transaction('checkins').objectStore('checkins').getAll();
                   g.onsuccess = () => done(g.result); g.onerror = () => done(null); };
                 r.onerror = () => done(null);",
                vec![],
            )
            .await
            .expect("read indexeddb");
        let items = items.as_array().expect("items").clone();
        assert_eq!(items.len(), 1, "one queued item: {items:?}");
        assert_eq!(items[0]["status"], json!("queued"));
        assert_eq!(items[0]["body"]["token"], json!(token));
        assert!(items[0]["key"].is_string() && items[0]["scanned_at"].is_string());
        assert_eq!(checkin_rows(&app, activity_id).await, 0, "nothing reached the server");

        // The network returns: the item is sent and confirmed.
        set_offline(&driver.url, &c, false).await;
        wait_js(&c, "document.querySelector('#checkin-queue li[data-status=confirmed]') || (document.getElementById('checkin-result') && document.getElementById('checkin-result').textContent.trim() === '已确认签到')").await;
        let app = &app;
        poll("one check-in row", TIMEOUT, || async move {
            (checkin_rows(app, activity_id).await == 1).then_some(())
        })
        .await;
        // Reopening the app changes nothing: still one row, shown as confirmed.
        c.goto(&app.url("/checkins")).await.expect("reopen");
        wait_for(&c, "#checkin-queue li[data-status=confirmed]").await;
        wait_js(&c, "document.getElementById('checkin-history').textContent.includes('职工健康讲座')").await;
        assert_eq!(checkin_rows(app, activity_id).await, 1, "exactly one row");
    })
    .catch_unwind()
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), c.close()).await;
    drop(driver);
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}

/// Another active member of the activity's org; returns the user id.
async fn seed_member_of(app: &support::TestApp, activity_id: i64, phone: &str, name: &str) -> i64 {
    use qunjia::entity::{activities, memberships};
    use sea_orm::{ActiveModelTrait, Set};
    let org_id = activities::Entity::find_by_id(activity_id)
        .one(&app.state.db)
        .await
        .expect("query activity")
        .expect("the activity exists")
        .org_id;
    let user = seed_user(app, phone, name).await;
    let now = qunjia::clock::now_ms();
    memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user),
        status: Set("active".into()),
        requested_at: Set(now),
        decided_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert membership");
    user
}

/// The activity's current 6-character short code, as the kiosk shows it.
async fn current_short_code(app: &support::TestApp, activity_id: i64) -> String {
    use qunjia::checkin::token;
    let activity = qunjia::entity::activities::Entity::find_by_id(activity_id)
        .one(&app.state.db)
        .await
        .expect("query activity")
        .expect("the activity exists");
    let key = token::activity_key(support::SECRET.as_bytes(), &activity.checkin_key);
    let window = token::window_of(qunjia::clock::now_ms().div_euclid(1000));
    token::short_code(&key, activity_id, window)
}

async fn user_id_of(app: &support::TestApp, phone: &str) -> i64 {
    qunjia::entity::users::Entity::find()
        .filter(qunjia::entity::users::Column::Phone.eq(phone))
        .one(&app.state.db)
        .await
        .expect("query users")
        .expect("the user exists")
        .id
}

async fn signup_rows(
    app: &support::TestApp,
    activity_id: i64,
) -> Vec<qunjia::entity::signups::Model> {
    use qunjia::entity::signups;
    signups::Entity::find()
        .filter(signups::Column::ActivityId.eq(activity_id))
        .all(&app.state.db)
        .await
        .expect("query signups")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_sign_up_cancel_and_take_the_freed_place() {
    if skip("members_sign_up_cancel_and_take_the_freed_place") {
        return;
    }
    use qunjia::entity::activities;
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    let (running_id, _officer_phone, worker_phone) = seed_running_activity(&app, "03").await;
    let running = activities::Entity::find_by_id(running_id)
        .one(&app.state.db)
        .await
        .expect("query activity")
        .expect("the activity exists");
    let now = qunjia::clock::now_ms();
    let small = activities::ActiveModel {
        org_id: Set(running.org_id),
        centre_id: Set(None),
        title: Set("羽毛球友谊赛".into()),
        description: Set(None),
        kind: Set("competition".into()),
        starts_at: Set(now + 24 * 3_600_000),
        ends_at: Set(now + 26 * 3_600_000),
        capacity: Set(Some(1)),
        signup_required: Set(true),
        audience: Set("members".into()),
        status: Set("scheduled".into()),
        checkin_key: Set("test-checkin-key-03b-k9Wm4".into()),
        signed_up: Set(0),
        checked_in: Set(0),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("insert activity")
    .id;
    let second_phone = "13600130301";
    let second = seed_member_of(&app, running_id, second_phone, "周芳").await;
    let worker = user_id_of(&app, &worker_phone).await;
    let card = format!("section.activity[data-id='{small}']");

    with_browser(|c| async move {
        c.goto(&app.url("/activities")).await.expect("open activities");
        assert_shell(&c).await;
        browser_login(&c, &app, &worker_phone).await;
        wait_js(&c, &format!("document.querySelector(\"section.activity[data-id='{running_id}'] h3\") && document.querySelector(\"section.activity[data-id='{running_id}'] h3\").textContent === '职工健康讲座'")).await;
        wait_text(&c, &format!("{card} h3"), "羽毛球友谊赛").await;
        assert!(text_of(&c, &card).await.contains("需要报名"), "the card says sign-up is needed");
        wait_js(&c, &format!("document.querySelector(\"{card}\").textContent.includes('已报名 0/1 人')")).await;

        // Sign up: shown as signed up, and stored.
        wait_text(&c, &format!("{card} button.signup-btn"), "报名").await;
        click(&c, &format!("{card} button.signup-btn")).await;
        wait_text(&c, &format!("{card} p.ok"), "已报名").await;
        wait_text(&c, &format!("{card} button.signup-btn"), "取消报名").await;
        assert!(text_of(&c, &card).await.contains("已报名 1/1 人"));
        assert_eq!(text_of(&c, &format!("{card} p.error")).await, "", "no error");
        let rows = signup_rows(&app, small).await;
        assert_eq!(rows.len(), 1, "one signup row: {rows:?}");
        assert_eq!((rows[0].user_id, rows[0].status.as_str()), (worker, "active"));

        // Reloading keeps it shown as signed up.
        c.refresh().await.expect("reload");
        assert_shell(&c).await;
        wait_text(&c, &format!("{card} button.signup-btn"), "取消报名").await;

        // Cancel: the row is cancelled and the place is free again.
        click(&c, &format!("{card} button.signup-btn")).await;
        wait_text(&c, &format!("{card} button.signup-btn"), "报名").await;
        assert_eq!(text_of(&c, &format!("{card} p.ok")).await, "");
        assert!(text_of(&c, &card).await.contains("已报名 0/1 人"));
        let rows = signup_rows(&app, small).await;
        assert_eq!(rows.len(), 1, "still one row: {rows:?}");
        assert_eq!(rows[0].status, "cancelled");
        assert!(rows[0].cancelled_at.is_some());

        // A second member (another phone) takes the freed place.
        let driver = Driver::start().await;
        let w = driver.session().await;
        let other = AssertUnwindSafe(async {
            w.goto(&app.url("/activities")).await.expect("open activities");
            assert_shell(&w).await;
            browser_login(&w, &app, second_phone).await;
            wait_text(&w, &format!("{card} button.signup-btn"), "报名").await;
            click(&w, &format!("{card} button.signup-btn")).await;
            wait_text(&w, &format!("{card} p.ok"), "已报名").await;
            assert_eq!(text_of(&w, &format!("{card} p.error")).await, "", "no error");
        })
        .catch_unwind()
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(10), w.close()).await;
        drop(driver);
        if let Err(p) = other {
            std::panic::resume_unwind(p);
        }
        let rows = signup_rows(&app, small).await;
        let active: Vec<_> = rows.iter().filter(|r| r.status == "active").collect();
        assert_eq!(active.len(), 1, "one active signup: {rows:?}");
        assert_eq!(active[0].user_id, second);

        // Full now: the first member sees it after a reload and cannot sign up.
        c.refresh().await.expect("reload");
        assert_shell(&c).await;
        wait_text(&c, &format!("{card} button.signup-btn"), "名额已满").await;
        assert!(
            !wait_for(&c, &format!("{card} button.signup-btn"))
                .await
                .is_enabled()
                .await
                .expect("enabled"),
            "the full activity's button is disabled"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_checks_in_with_the_short_code() {
    if skip("member_checks_in_with_the_short_code") {
        return;
    }
    use qunjia::entity::{checkin_failures, checkins};
    let app = spawn_app().await;
    let (activity_id, _officer_phone, worker_phone) = seed_running_activity(&app, "04").await;
    let worker = user_id_of(&app, &worker_phone).await;

    with_browser(|c| async move {
        c.goto(&app.url("/scan")).await.expect("open scan");
        assert_shell(&c).await;
        browser_login(&c, &app, &worker_phone).await;
        wait_for(&c, "#short-form").await;

        // A wrong code first: said plainly, and logged as a failure.
        let code = current_short_code(&app, activity_id).await;
        let wrong = if code == "222222" { "333333" } else { "222222" };
        type_into(&c, "#short-activity", &activity_id.to_string()).await;
        type_into(&c, "#short-code", wrong).await;
        click(&c, "#short-submit").await;
        wait_text(&c, "#checkin-result", "签到码无效").await;
        assert_eq!(checkin_rows(&app, activity_id).await, 0, "no check-in row");
        let failures = checkin_failures::Entity::find()
            .filter(checkin_failures::Column::ActivityId.eq(activity_id))
            .all(&app.state.db)
            .await
            .expect("query failures");
        assert_eq!(failures.len(), 1, "one failure: {failures:?}");
        assert_eq!(
            (
                failures[0].user_id,
                failures[0].reason.as_str(),
                failures[0].method.as_str()
            ),
            (worker, "invalid_token", "short_code")
        );

        // A malformed code never reaches the server.
        type_into(&c, "#short-code", "AB").await;
        click(&c, "#short-submit").await;
        wait_text(&c, "#short-error", "请输入活动编号和6位签到码").await;

        // The right code, typed in lower case.
        let code = current_short_code(&app, activity_id).await;
        type_into(&c, "#short-code", &code.to_lowercase()).await;
        click(&c, "#short-submit").await;
        wait_text(&c, "#checkin-result", "签到成功").await;
        assert_eq!(text_of(&c, "#short-error").await, "");
        wait_js(
            &c,
            "document.getElementById('checkin-activity').textContent.includes('职工健康讲座')",
        )
        .await;
        let rows = checkins::Entity::find()
            .filter(checkins::Column::ActivityId.eq(activity_id))
            .all(&app.state.db)
            .await
            .expect("query checkins");
        assert_eq!(rows.len(), 1, "one check-in row: {rows:?}");
        assert_eq!(
            (rows[0].user_id, rows[0].method.as_str()),
            (worker, "short_code")
        );
        assert!(rows[0].undone_at.is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_creates_activity_and_manages_attendance() {
    if skip("officer_creates_activity_and_manages_attendance") {
        return;
    }
    use qunjia::entity::{activities, checkins};
    let app = spawn_app().await;
    let (activity_id, officer_phone, worker_phone) = seed_running_activity(&app, "05").await;
    let org_id = activities::Entity::find_by_id(activity_id)
        .one(&app.state.db)
        .await
        .expect("query activity")
        .expect("the activity exists")
        .org_id;
    let worker = user_id_of(&app, &worker_phone).await;
    let late_phone = "13600130501";
    let late = seed_member_of(&app, activity_id, late_phone, "赵磊").await;
    let officer = user_id_of(&app, &officer_phone).await;

    // The worker types a wrong code once, then checks in with the right one.
    let session = app.login(&worker_phone).await;
    let code = current_short_code(&app, activity_id).await;
    let wrong = if code == "222222" { "333333" } else { "222222" };
    let res = app
        .post_auth(
            "/api/v1/checkins",
            &session.access,
            &json!({"activity_id": activity_id, "short_code": wrong}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 422, "wrong code refused");
    let res = app
        .post_auth(
            "/api/v1/checkins",
            &session.access,
            &json!({"activity_id": activity_id, "short_code": code}),
        )
        .await;
    assert!(res.status().is_success(), "check-in: {}", res.status());
    assert_eq!(checkin_rows(&app, activity_id).await, 1);

    with_browser(|c| async move {
        c.goto(&app.url("/admin/activities")).await.expect("open admin activities");
        assert_shell(&c).await;
        browser_login(&c, &app, &officer_phone).await;
        wait_for(&c, "#aa-form").await;
        wait_js(&c, "document.getElementById('aa-org').options.length === 1 && document.getElementById('aa-org').options[0].textContent === '合肥星火科技有限公司工会'").await;

        // Create an activity for the org.
        type_into(&c, "#aa-title", "工会读书会").await;
        wait_for(&c, "#aa-kind")
            .await
            .select_by_value("culture")
            .await
            .expect("choose kind");
        let set = js(
            &c,
            "const set = (id, v) => { const e = document.getElementById(id); e.value = v;
               e.dispatchEvent(new Event('input', {bubbles: true}));
               e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; };
             return [set('aa-starts', '2030-05-01T19:00'), set('aa-ends', '2030-05-01T21:00')];",
        )
        .await;
        assert_eq!(set, json!(["2030-05-01T19:00", "2030-05-01T21:00"]));
        type_into(&c, "#aa-capacity", "30").await;
        click(&c, "#aa-signup").await;
        click(&c, "#aa-submit").await;
        wait_text(&c, "#aa-form p.ok", "已创建").await;
        assert_eq!(text_of(&c, "#aa-form p.error").await, "");
        let created = activities::Entity::find()
            .filter(activities::Column::Title.eq("工会读书会"))
            .one(&app.state.db)
            .await
            .expect("query activities")
            .expect("the new activity exists");
        assert_eq!(created.org_id, org_id);
        assert_eq!(created.kind, "culture");
        assert_eq!(created.capacity, Some(30));
        assert!(created.signup_required);
        assert_eq!(created.audience, "members");
        assert_eq!(created.ends_at - created.starts_at, 2 * 3_600_000);
        assert_eq!(created.created_by, Some(officer));
        wait_js(&c, &format!("document.querySelector(\"#aa-list section[data-id='{}']\") !== null", created.id)).await;

        // Attendance of the running activity: the worker is there.
        let card = format!("#aa-list section[data-id='{activity_id}']");
        wait_js(&c, &format!("document.querySelector(\"{card}\") && document.querySelector(\"{card}\").textContent.includes('已签到 1 人')")).await;
        let detail = format!("{card} .aa-detail");
        js(&c, &format!("const b = [...document.querySelectorAll(\"{card} button\")].find((b) => b.textContent === '签到名单'); b.click(); return true;")).await;
        wait_js(&c, &format!("[...document.querySelectorAll(\"{detail} ul li\")].some((li) => li.textContent.includes('李明') && li.textContent.includes('137****0500'))")).await;
        // The failed scan is listed.
        wait_js(&c, &format!("[...document.querySelectorAll(\"{detail} > div:last-child li\")].some((li) => li.textContent.includes('李明') && li.textContent.includes('签到码无效'))")).await;

        // Undo without a reason: refused on the page; with one: done.
        click(&c, &format!("{detail} ul li button")).await;
        wait_text(&c, &format!("{detail} ul li span.error"), "请填写原因").await;
        type_into(&c, &format!("{detail} ul li input"), "代签").await;
        click(&c, &format!("{detail} ul li button")).await;
        wait_js(&c, &format!("document.querySelector(\"{detail} ul li\") && document.querySelector(\"{detail} ul li\").textContent.includes('已撤销')")).await;
        let row = checkins::Entity::find()
            .filter(checkins::Column::ActivityId.eq(activity_id))
            .filter(checkins::Column::UserId.eq(worker))
            .one(&app.state.db)
            .await
            .expect("query checkins")
            .expect("the check-in row");
        assert!(row.undone_at.is_some(), "undone_at set");
        assert_eq!(row.undo_reason.as_deref(), Some("代签"));
        assert_eq!(row.undone_by, Some(officer));

        // Manual check-in by phone with a reason.
        type_into(&c, &format!("{detail} form input[type=tel]"), late_phone).await;
        type_into(&c, &format!("{detail} form input:not([type])"), "手机没电").await;
        click(&c, &format!("{detail} form button[type=submit]")).await;
        wait_text(&c, &format!("{detail} form p.ok"), "已完成").await;
        assert_eq!(text_of(&c, &format!("{detail} form p.error")).await, "");
        wait_js(&c, &format!("[...document.querySelectorAll(\"{detail} ul li\")].some((li) => li.textContent.includes('赵磊'))")).await;
        let manual = checkins::Entity::find()
            .filter(checkins::Column::ActivityId.eq(activity_id))
            .filter(checkins::Column::UserId.eq(late))
            .one(&app.state.db)
            .await
            .expect("query checkins")
            .expect("the manual check-in row");
        assert_eq!(manual.method, "manual");
        assert_eq!(manual.reason.as_deref(), Some("手机没电"));
        assert_eq!(manual.recorded_by, Some(officer));
        let scroll = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(scroll.as_u64().expect("scrollWidth") <= 360, "admin activities fit 360 px");
    })
    .await;
}
