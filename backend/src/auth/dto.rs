//! Request and response bodies of `/auth`.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::people::dto::User;

/// `POST /auth/otp`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OtpRequest {
    /// Mainland mobile number in any of the accepted forms.
    #[schema(example = "13812345678")]
    pub phone: String,
}

/// 202 answer to `POST /auth/otp`: the same whether or not the phone is registered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OtpSent {
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds before another code may be asked for.
    pub resend_after: u64,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The phone the code was sent to.
    pub phone: String,
    /// The 6-digit code.
    pub code: String,
    /// The PWA asks for the refresh token in an HttpOnly cookie instead of the body.
    #[serde(default)]
    pub use_cookie: bool,
}

/// `POST /auth/refresh` and `/auth/logout`: the token, or nothing when the cookie carries it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token (omit when it lives in the session cookie).
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// A new token pair.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// Single-use refresh token; null when it was set as an HttpOnly cookie.
    pub refresh_token: Option<String>,
    /// The person logged in.
    pub user: User,
    /// True when this login created the account.
    pub new_user: bool,
}
