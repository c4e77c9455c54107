//! `/me/notifications` routes.
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the inbox routes.
pub fn config(_cfg: &mut ServiceConfig) {}
