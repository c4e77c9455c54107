//! `Application::build(settings)`: binds the listener (port 0 in tests), opens
//! and migrates the database, and wires the routes.
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::{AppExt, scope};

use crate::auth::jwt::JwtKeys;
use crate::auth::sms::SmsSender;
use crate::config::Settings;
use crate::error::{json_config, path_config};
use crate::ops::metrics::Metrics;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "qunjia (群家) API", description = "Mass organizations for workers of private enterprises and platform workers. See API.md."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document, generated from the routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/api/v1").configure(|cfg| crate::routing::api(cfg)))
        .configure(|cfg| crate::routing::ops(cfg))
        .split_for_parts();
    doc.paths.paths.insert(
        "/api/v1/openapi.json".into(),
        utoipa::openapi::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .tag("operations")
                .summary(Some("This document"))
                .response("200", utoipa::openapi::Response::new("OpenAPI 3 JSON")),
        ),
    );
    doc
}

/// A built server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Opens the database (migrating it) and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = crate::db::connect(&settings).await?;
        let data_key = crate::crypto::DataKey::from_settings(&settings)?;
        crate::crypto::check_opens(&db, &data_key).await?;
        // Readers open only once the writer has migrated the file (and made it WAL).
        let read = crate::db::connect_readers(&settings, &db).await?;
        let listener = TcpListener::bind(&settings.bind)?;
        Application::with(settings, db, read, data_key, listener)
    }

    /// Builds on an open database (the writer and the readers of
    /// `db::connect_readers`), its data key and a bound listener, and starts the SMS
    /// outbox sweeper and the housekeeping sweeper, which stop with the server. Needs a Tokio runtime.
    pub fn with(
        settings: Settings,
        db: sea_orm::DatabaseConnection,
        read: sea_orm::DatabaseConnection,
        data_key: crate::crypto::DataKey,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let state = AppState {
            data_key: Arc::new(data_key),
            checkins: crate::checkin::writer::Writer::start(db.clone()),
            db,
            read,
            keys: Arc::new(JwtKeys::new(settings.secret_bytes(), &settings.jwt_issuer)),
            sms: SmsSender::new(settings.sms.clone()),
            metrics: Arc::new(Metrics::default()),
            settings: Arc::new(settings),
        };
        let data = web::Data::new(state.clone());
        // The SMS outbox sweeper and the housekeeping sweeper live as long as the
        // server: the factory below holds the only sender, and both end once it is dropped.
        let (sweeper_alive, sweeper_stop) = tokio::sync::watch::channel(());
        let sweeper_alive = Arc::new(sweeper_alive);
        tokio::spawn(crate::notify::service::sweeper(
            state.clone(),
            sweeper_stop.clone(),
        ));
        tokio::spawn(crate::housekeeping::sweeper(state.clone(), sweeper_stop));
        let server = HttpServer::new(move || {
            let _sweeper_alive = &sweeper_alive;
            App::new()
                .app_data(data.clone())
                .app_data(json_config())
                .app_data(path_config())
                .app_data(web::PayloadConfig::new(64 * 1024))
                .wrap(Compress::default())
                .wrap(from_fn(crate::ops::middleware::edge))
                // Before the /api/v1 scope, which would otherwise claim the path.
                .route("/api/v1/openapi.json", web::get().to(openapi_doc))
                .service(web::scope("/api/v1").configure(crate::routing::api))
                .configure(crate::routing::ops)
                .default_service(web::to(crate::pwa::fallback))
        })
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared state (tests use it to reach the database and keys).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM/SIGINT, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server future and a handle to stop it, for tests.
    pub fn into_parts(self) -> (Server, AppState) {
        (self.server, self.state)
    }
}

/// Built on first request, not at start: an idle instance (most of them, most of
/// the time) need not hold the document or the memory spent making it.
async fn openapi_doc() -> Result<HttpResponse, crate::error::AppError> {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let doc = match DOC.get() {
        Some(d) => d,
        None => {
            let json = openapi()
                .to_json()
                .map_err(|e| crate::error::AppError::Internal(format!("openapi: {e}")))?;
            DOC.get_or_init(|| json)
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.clone()))
}
