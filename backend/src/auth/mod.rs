//! Phone login: one-time codes, JWTs, refresh-token rotation, the session
//! cookie, the `AuthUser` extractor and the scope check.
pub mod client_ip;
pub mod dto;
pub mod extractor;
pub mod jwt;
pub mod phone;
pub mod roles;
pub mod routes;
pub mod scope;
pub mod service;
pub mod session;
pub mod sms;

pub use extractor::{AuthUser, MaybeAuthUser};
