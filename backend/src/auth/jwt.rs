//! Access and refresh tokens as HS256 JWTs. The algorithm is pinned, the
//! leeway explicit, `iss`/`aud` checked, and `typ` tells access from refresh.
//! Each kind is signed with its own key derived from the server secret, so a
//! token of one kind fails the other's signature check before its claims are read.
use hmac::Mac;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 30 days (each is used once and replaced).
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// Clock skew tolerated between instances, in seconds.
pub const LEEWAY_SECS: u64 = 5;

/// Which kind of token a JWT is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Sent as `Authorization: Bearer` on API calls.
    Access,
    /// Exchanged once at `/auth/refresh` for a new pair.
    Refresh,
}

/// The claims of both kinds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id, as a string (RFC 7519).
    pub sub: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Unique id of this token.
    pub jti: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// access or refresh.
    pub typ: TokenType,
    /// The login (family of refresh tokens) this token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

impl Claims {
    /// The user id in `sub`.
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

struct KeyPair {
    enc: EncodingKey,
    dec: DecodingKey,
}

/// The signing keys and validation rules, built once at start.
pub struct JwtKeys {
    access: KeyPair,
    refresh: KeyPair,
    otp: Vec<u8>,
    issuer: String,
}

/// Derives a purpose-specific key from the server secret.
fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = crate::crypto::hmac_sha256(secret);
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

impl JwtKeys {
    /// Keys for the given secret and issuer (the issuer is also the audience).
    pub fn new(secret: &[u8], issuer: &str) -> JwtKeys {
        let pair = |purpose: &str| {
            let k = derive(secret, purpose);
            KeyPair {
                enc: EncodingKey::from_secret(&k),
                dec: DecodingKey::from_secret(&k),
            }
        };
        JwtKeys {
            access: pair("qunjia/jwt/access"),
            refresh: pair("qunjia/jwt/refresh"),
            otp: derive(secret, "qunjia/otp"),
            issuer: issuer.to_owned(),
        }
    }

    /// Key for hashing one-time codes at rest.
    pub fn otp_key(&self) -> &[u8] {
        &self.otp
    }

    fn pair(&self, typ: TokenType) -> &KeyPair {
        match typ {
            TokenType::Access => &self.access,
            TokenType::Refresh => &self.refresh,
        }
    }

    /// Signs a token of the given kind for a user; returns it with its claims.
    pub fn issue(
        &self,
        typ: TokenType,
        user_id: i64,
        jti: String,
        fam: Option<String>,
    ) -> (String, Claims) {
        let now = chrono::Utc::now().timestamp();
        let ttl = match typ {
            TokenType::Access => ACCESS_TTL_SECS,
            TokenType::Refresh => REFRESH_TTL_SECS,
        };
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + ttl,
            jti,
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            typ,
            fam,
        };
        (self.sign(&claims), claims)
    }

    /// Signs arbitrary claims (also used by tests to craft expired tokens).
    #[expect(
        clippy::expect_used,
        reason = "HS256 with a key we derived cannot fail"
    )]
    pub fn sign(&self, claims: &Claims) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.pair(claims.typ).enc,
        )
        .expect("HS256 signing with a valid key cannot fail")
    }

    /// Verifies signature, algorithm, expiry, issuer, audience and kind.
    pub fn verify(&self, token: &str, typ: TokenType) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = LEEWAY_SECS;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.issuer]);
        v.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        let data = decode::<Claims>(token, &self.pair(typ).dec, &v).ok()?;
        (data.claims.typ == typ).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_as_its_own_kind() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", "qunjia");
        let (access, _) = keys.issue(TokenType::Access, 7, "a".into(), None);
        let (refresh, _) = keys.issue(TokenType::Refresh, 7, "r".into(), Some("f".into()));
        assert_eq!(
            keys.verify(&access, TokenType::Access)
                .and_then(|c| c.user_id()),
            Some(7)
        );
        assert!(keys.verify(&access, TokenType::Refresh).is_none());
        assert!(keys.verify(&refresh, TokenType::Access).is_none());
        assert!(keys.verify(&refresh, TokenType::Refresh).is_some());
    }

    #[test]
    fn another_secret_or_issuer_is_refused() {
        let a = JwtKeys::new(b"0123456789abcdef0123456789abcdef", "qunjia");
        let b = JwtKeys::new(b"fedcba9876543210fedcba9876543210", "qunjia");
        let c = JwtKeys::new(b"0123456789abcdef0123456789abcdef", "other");
        let (t, _) = a.issue(TokenType::Access, 1, "x".into(), None);
        assert!(b.verify(&t, TokenType::Access).is_none());
        assert!(c.verify(&t, TokenType::Access).is_none());
    }
}
