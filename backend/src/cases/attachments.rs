//! Case attachments.
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the attachment routes.
pub fn config(_cfg: &mut ServiceConfig) {}
