//! `/campaigns` routes.
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the campaign routes.
pub fn config(_cfg: &mut ServiceConfig) {}
