//! The one list of capabilities: adding one is a line in [`api`]. `startup` uses
//! it for the server and for the OpenAPI document; capabilities never import it
//! (they take [`register::Routes`], a module of its own that imports none of them).
pub mod register;

pub use register::Routes;

/// The API routes, in one place for the server and for the OpenAPI document.
pub fn api<R: Routes>(cfg: &mut R) {
    crate::auth::routes::config(cfg);
    crate::auth::roles::config(cfg);
    crate::people::routes::config(cfg);
    crate::regions::routes::config(cfg);
    crate::units::config(cfg);
    crate::orgs::routes::config(cfg);
    crate::memberships::routes::config(cfg);
    crate::coverage::routes::config(cfg);
    crate::checkin::routes::config(cfg);
    crate::activities::routes::config(cfg);
    crate::services::routes::config(cfg);
    crate::cases::routes::config(cfg);
    crate::cases::attachments::config(cfg);
    crate::campaigns::routes::config(cfg);
    crate::notify::routes::config(cfg);
    crate::audit::routes::config(cfg);
}

/// Operations routes (`/health`, `/metrics`), outside `/api/v1`.
pub fn ops<R: Routes>(cfg: &mut R) {
    crate::ops::config(cfg);
}
