//! Operations: `/health`, `/metrics`, and the middleware every request passes.
pub mod metrics;
pub mod middleware;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Registers `/health` and `/metrics`.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(health).service(metrics_text);
}

/// Health of this instance and its database.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// ok or error.
    pub status: &'static str,
    /// ok or unreachable.
    pub db: &'static str,
}

/// 200 when the database answers, else 503.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    if crate::db::ping(&state.db).await {
        HttpResponse::Ok().json(Health {
            status: "ok",
            db: "ok",
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "error",
            db: "unreachable",
        })
    }
}

/// Prometheus text format: requests and latencies by route and status.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
async fn metrics_text(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
