//! `/services` routes.
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the service catalogue routes.
pub fn config(_cfg: &mut ServiceConfig) {}
