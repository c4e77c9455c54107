//! Shared by every test binary: `spawn_app()` starts the real server on port 0
//! with its own database (a SQLite file, or a fresh PostgreSQL database when
//! `QUNJIA_TEST_PG` names a server), and a fake SMS gateway that is a real local
//! HTTP server reached by the real `webhook` provider.
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use qunjia::config::{Environment, Settings, SmsProvider};
use qunjia::entity::audit_log;
use qunjia::startup::Application;
use secrecy::SecretString;
use serde_json::{Value, json};

/// Paths of the auth endpoints.
pub const OTP: &str = "/api/v1/auth/otp";
pub const LOGIN: &str = "/api/v1/auth/login";
pub const REFRESH: &str = "/api/v1/auth/refresh";
pub const LOGOUT: &str = "/api/v1/auth/logout";

/// Test secret (32+ bytes).
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// One message the fake gateway received.
#[derive(Debug, Clone)]
pub struct Sms {
    pub phone: String,
    /// The login code (empty for a notice).
    pub code: String,
    /// `login_code` or `notice`.
    pub template: String,
    pub params: Value,
}

/// A real HTTP server standing in for the SMS provider.
pub struct FakeGateway {
    pub url: String,
    pub received: Arc<Mutex<Vec<Sms>>>,
    /// When set, the gateway answers 500.
    pub failing: Arc<Mutex<bool>>,
    /// How many requests it answered with 500.
    pub refused: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeGateway {
    pub async fn start() -> FakeGateway {
        let received: Arc<Mutex<Vec<Sms>>> = Arc::default();
        let failing: Arc<Mutex<bool>> = Arc::default();
        let refused: Arc<AtomicUsize> = Arc::default();
        let (r, f, n) = (received.clone(), failing.clone(), refused.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind gateway");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            let (r, f, n) = (r.clone(), f.clone(), n.clone());
            App::new().route(
                "/send",
                web::post().to(move |body: web::Json<Value>| {
                    let (r, f, n) = (r.clone(), f.clone(), n.clone());
                    async move {
                        if *f.lock().expect("lock") {
                            n.fetch_add(1, Ordering::SeqCst);
                            return HttpResponse::InternalServerError().finish();
                        }
                        let phone = body["phone"].as_str().unwrap_or_default().to_owned();
                        let code = body["params"]["code"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        let template = body["template"].as_str().unwrap_or_default().to_owned();
                        let params = body["params"].clone();
                        r.lock().expect("lock").push(Sms {
                            phone,
                            code,
                            template,
                            params,
                        });
                        HttpResponse::Ok().json(json!({"ok": true}))
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeGateway {
            url: format!("http://127.0.0.1:{port}/send"),
            received,
            failing,
            refused,
            handle,
        }
    }

    /// The last code sent to a phone.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .rev()
            .find(|s| s.phone == phone && s.template == "login_code")
            .map(|s| s.code.clone())
    }

    /// Every message (codes and notices) sent to a phone, oldest first.
    pub fn messages_to(&self, phone: &str) -> Vec<Sms> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.phone == phone)
            .cloned()
            .collect()
    }

    /// The notices (not login codes) sent to a phone, oldest first.
    pub fn notices_to(&self, phone: &str) -> Vec<Sms> {
        self.messages_to(phone)
            .into_iter()
            .filter(|s| s.template != "login_code")
            .collect()
    }

    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }

    /// How many requests were answered 500 while failing was set.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    pub fn set_failing(&self, on: bool) {
        *self.failing.lock().expect("lock") = on;
    }
}

/// Where a test's data lives.
pub struct TestDb {
    pub url: String,
    /// Set for PostgreSQL: (server URL, database name), dropped at the end.
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// A new, empty database.
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match std::env::var("QUNJIA_TEST_PG")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(server) => {
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("qunjia_t_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(format!("{server}/postgres"))
                    .await
                    .expect("connect to PostgreSQL");
                sea_orm::ConnectionTrait::execute_unprepared(
                    &admin,
                    &format!("CREATE DATABASE {name}"),
                )
                .await
                .expect("create test database");
                admin.close().await.ok();
                TestDb {
                    url: format!("{server}/{name}"),
                    pg: Some((server, name)),
                    _dir: dir,
                }
            }
            None => TestDb {
                url: qunjia::config::sqlite_url(&dir.path().join("test.db")),
                pg: None,
                _dir: dir,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg.take() {
            // Drop from a thread of its own: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) =
                        sea_orm::Database::connect(format!("{server}/postgres")).await
                    {
                        let _ = sea_orm::ConnectionTrait::execute_unprepared(
                            &admin,
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        )
                        .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

/// The key that encrypts case text in tests (tests read the raw rows to prove it).
pub const DATA_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Settings for a test server on `db_url`, sending SMS to `gateway`.
pub fn test_settings(db_url: &str, gateway: &str) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: db_url.into(),
        data_dir: std::env::temp_dir(),
        environment: Environment::Development,
        jwt_secret: SecretString::from(SECRET),
        public_url: "http://127.0.0.1".into(),
        sms: SmsProvider::Webhook(gateway.into()),
        trusted_proxies: vec![],
        otp_ip_limit_per_hour: 1000,
        db_max_connections: 8,
        db_readers: 2,
        jwt_issuer: "qunjia".into(),
        required_employees: 30,
        data_key: SecretString::from(DATA_KEY),
        data_key_previous: Vec::new(),
        outbox_interval_ms: 15_000,
        housekeeping_interval_ms: 3_600_000,
        retention: qunjia::config::Retention::default(),
    }
}

/// A running server with its own database and gateway.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub gateway: FakeGateway,
    pub state: qunjia::state::AppState,
    pub db: Arc<TestDb>,
    handle: actix_web::dev::ServerHandle,
}

/// Installs the test log subscriber once, only when `TEST_LOG` is set.
fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        // Lines written by the test's own threads, in order; nothing to keep alive.
        std::mem::forget(qunjia::telemetry::init(
            false,
            qunjia::telemetry::Output::Direct,
        ));
    }
}

/// Starts a server on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a fresh database, letting the test adjust the settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = Arc::new(TestDb::new().await);
    spawn_on(db, adjust).await
}

/// Starts another instance on an existing database (several instances, one database).
pub async fn spawn_on(db: Arc<TestDb>, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let gateway = FakeGateway::start().await;
    let mut settings = test_settings(&db.url, &gateway.url);
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("build app");
    let port = app.port();
    let (server, state) = app.into_parts();
    let handle = server.handle();
    tokio::spawn(server);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client,
        gateway,
        state,
        db,
        handle,
    }
}

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub phone: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request built on this app's client.
    async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Response {
        req.send().await.expect("request")
    }

    /// POST of a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// GET with a bearer token.
    pub async fn get_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    /// POST of a JSON body with a bearer token.
    pub async fn post_auth(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        let req = self.client.post(self.url(path)).bearer_auth(token);
        self.send(req.json(body)).await
    }

    /// POSTs a body as it is, with the given content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let req = self.client.post(self.url(path));
        self.send(
            req.header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }

    /// PATCH of a JSON body with a bearer token.
    pub async fn patch_auth(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        let req = self.client.patch(self.url(path)).bearer_auth(token);
        self.send(req.json(body)).await
    }

    /// DELETE with a bearer token.
    pub async fn delete_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(self.client.delete(self.url(path)).bearer_auth(token))
            .await
    }

    /// A plain GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.client.get(self.url(path))).await
    }

    /// `POST /auth/login` with a phone and code.
    pub async fn login_raw(&self, phone: &str, code: &str) -> reqwest::Response {
        self.post_json(LOGIN, &json!({ "phone": phone, "code": code }))
            .await
    }

    /// `POST /auth/refresh` with a token in the body.
    pub async fn refresh(&self, token: &str) -> reqwest::Response {
        self.post_json(REFRESH, &json!({ "refresh_token": token }))
            .await
    }

    /// Asks for a code and returns what the gateway received.
    pub async fn request_code(&self, phone: &str) -> String {
        let res = self.post_json(OTP, &json!({ "phone": phone })).await;
        assert_eq!(
            res.status().as_u16(),
            202,
            "otp for {phone}: {}",
            res.text().await.unwrap_or_default()
        );
        self.gateway
            .last_code(phone)
            .expect("gateway received the code")
    }

    /// Logs a phone in (creating the account) and returns the session.
    pub async fn login(&self, phone: &str) -> Session {
        let code = self.request_code(phone).await;
        let res = self.login_raw(phone, &code).await;
        assert_eq!(res.status().as_u16(), 200);
        let body: Value = res.json().await.expect("json");
        Session {
            user_id: body["user"]["id"].as_i64().expect("id"),
            phone: phone.into(),
            access: body["access_token"].as_str().expect("access").into(),
            refresh: body["refresh_token"].as_str().expect("refresh").into(),
        }
    }

    /// Logs in and gives the person a role directly in the database (as `qunjia grant` does).
    pub async fn login_with_role(&self, phone: &str, role: &str, scope: &str) -> Session {
        let s = self.login(phone).await;
        let (role, scope) = qunjia::auth::roles::parse_grant(role, scope).expect("valid grant");
        qunjia::auth::roles::insert_role(&self.state.db, s.user_id, role, scope, None)
            .await
            .expect("grant");
        s
    }

    /// The id of a region by code (seeded or created).
    pub async fn region_id(&self, code: &str) -> i64 {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        qunjia::entity::regions::Entity::find()
            .filter(qunjia::entity::regions::Column::Code.eq(code))
            .one(&self.state.db)
            .await
            .expect("query")
            .expect("region exists")
            .id
    }

    /// Rows of an entity's table.
    pub async fn count<E: sea_orm::EntityTrait>(&self) -> u64
    where
        E::Model: Sync,
    {
        sea_orm::PaginatorTrait::count(E::find(), &self.state.db)
            .await
            .expect("count")
    }

    /// The audit entries of `action`, oldest first.
    pub async fn audit(&self, action: &str) -> Vec<audit_log::Model> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .order_by_asc(audit_log::Column::Id)
            .all(&self.state.db)
            .await
            .expect("audit")
    }

    /// How many audit entries of `action` there are.
    pub async fn audit_count(&self, action: &str) -> u64 {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .count(&self.state.db)
            .await
            .expect("count")
    }

    /// Runs SQL written with `?` placeholders on either engine; returns rows affected.
    pub async fn exec(&self, sql: &str, values: Vec<sea_orm::Value>) -> u64 {
        use sea_orm::ConnectionTrait;
        let db = &self.state.db;
        db.execute_raw(qunjia::db::stmt(db.get_database_backend(), sql, values))
            .await
            .expect("sql")
            .rows_affected()
    }

    /// Runs SQL like [`TestApp::exec`], handing back the database's refusal
    /// (a trigger's, a constraint's) instead of failing the test.
    pub async fn try_exec(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<u64, sea_orm::DbErr> {
        use sea_orm::ConnectionTrait;
        let db = &self.state.db;
        db.execute_raw(qunjia::db::stmt(db.get_database_backend(), sql, values))
            .await
            .map(|r| r.rows_affected())
    }

    /// The first column of every row `sql` returns (a test's own read).
    pub async fn column<T: sea_orm::TryGetable>(&self, sql: &str) -> Vec<T> {
        use sea_orm::{ConnectionTrait, Statement};
        let db = &self.state.db;
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .iter()
        .map(|r| r.try_get_by_index::<T>(0).expect("first column"))
        .collect()
    }

    /// Moves a rate-limit window back by `secs`, as if that much time had passed.
    pub async fn rewind_limit(&self, key: &str, secs: i64) {
        let n = self
            .exec(
                "UPDATE rate_limits SET window_start = window_start - ? WHERE \"key\" = ?",
                vec![(secs * 1000).into(), key.into()],
            )
            .await;
        assert_eq!(n, 1, "rate limit {key} exists");
    }

    /// Lets a phone ask for a new code now, as if its minute had passed.
    pub async fn allow_resend(&self, phone: &str) {
        self.rewind_limit(&format!("otp:phone:{phone}:min"), 61)
            .await;
    }

    /// Asks for another code for a phone that already asked within the minute.
    pub async fn new_code(&self, phone: &str) -> String {
        self.allow_resend(phone).await;
        self.request_code(phone).await
    }

    /// Every rate-limit key with its count.
    pub async fn rate_limits(&self) -> Vec<(String, i32)> {
        use sea_orm::ConnectionTrait;
        let db = &self.state.db;
        db.query_all_raw(qunjia::db::stmt(
            db.get_database_backend(),
            "SELECT \"key\", count FROM rate_limits ORDER BY \"key\"",
            vec![],
        ))
        .await
        .expect("select")
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "key").expect("key"),
                r.try_get::<i32>("", "count").expect("count"),
            )
        })
        .collect()
    }

    /// Stops the server (requests in flight finish).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let h = self.handle.clone();
        let g = self.gateway.handle.clone();
        // Best effort: the runtime may already be shutting down.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                h.stop(false).await;
                g.stop(false).await;
            });
        }
    }
}

/// The error code of a response body.
pub async fn error_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or("<no error body>")
            .to_owned(),
    )
}
