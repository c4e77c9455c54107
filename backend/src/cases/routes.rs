//! `/cases` routes.
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the case routes.
pub fn config(_cfg: &mut ServiceConfig) {}
