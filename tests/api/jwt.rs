//! Attacks on the access token: each one is answered 401 `unauthorized` by `GET /me`.
//! Every crafted token has a twin signed correctly that is accepted, so a 401
//! can only come from the one thing the test changed.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use qunjia::auth::jwt::{Claims, JwtKeys, TokenType};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;
use crate::support::{SECRET, TestApp, error_code, spawn_app};

const ME: &str = "/api/v1/me";

/// Valid access claims for a user, expiring `ttl` seconds from now.
fn claims(user_id: i64, ttl: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: user_id.to_string(),
        iat: now,
        exp: now + ttl,
        jti: uuid::Uuid::new_v4().to_string(),
        iss: "qunjia".into(),
        aud: "qunjia".into(),
        typ: TokenType::Access,
        fam: None,
    }
}

/// The server's access-token key, derived from the test secret as the server derives it.
fn access_key() -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(b"qunjia/jwt/access");
    mac.finalize().into_bytes().to_vec()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn me_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_auth(ME, token).await
}

async fn assert_unauthorized(res: reqwest::Response) {
    let challenge = res
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap_or("").to_owned());
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    assert_eq!(challenge.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn me_returns_401_when_authorization_header_is_missing_or_not_bearer() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;

    // Act
    let missing = app.get(ME).await;
    let basic = app
        .client
        .get(app.url(ME))
        .header("Authorization", format!("Basic {}", s.access))
        .send()
        .await
        .expect("request");
    let bare = app
        .client
        .get(app.url(ME))
        .header("Authorization", s.access.clone())
        .send()
        .await
        .expect("request");

    // Assert
    assert_unauthorized(missing).await;
    assert_unauthorized(basic).await;
    assert_unauthorized(bare).await;
    assert_eq!(me_with(&app, &s.access).await.status().as_u16(), 200);
}

#[tokio::test]
async fn me_returns_401_when_token_is_garbage() {
    // Arrange
    let app = spawn_app().await;

    for token in [
        "garbage",
        "a.b.c",
        "..",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        &"x".repeat(5000),
    ] {
        // Act
        let res = me_with(&app, token).await;

        // Assert
        assert_unauthorized(res).await;
    }
}

#[tokio::test]
async fn me_returns_401_when_token_uses_alg_none() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let payload = serde_json::to_value(claims(s.user_id, 600)).expect("claims");
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&payload)
    );
    let none_with_old_signature = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&payload),
        s.access.rsplit('.').next().expect("signature")
    );

    // Act
    let res = me_with(&app, &unsigned).await;

    // Assert
    assert_unauthorized(res).await;
    assert_unauthorized(me_with(&app, &none_with_old_signature).await).await;
    let twin = app.state.keys.sign(&claims(s.user_id, 600));
    assert_eq!(me_with(&app, &twin).await.status().as_u16(), 200);
}

#[tokio::test]
async fn me_returns_401_when_token_is_signed_with_hs512_and_the_right_key() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let c = claims(s.user_id, 600);
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &c,
        &EncodingKey::from_secret(&access_key()),
    )
    .expect("sign");
    let hs512_raw_secret = encode(
        &Header::new(Algorithm::HS512),
        &c,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign");
    let hs256_twin = encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(&access_key()),
    )
    .expect("sign");

    // Act
    let res = me_with(&app, &hs512).await;

    // Assert
    assert_unauthorized(res).await;
    assert_unauthorized(me_with(&app, &hs512_raw_secret).await).await;
    assert_eq!(
        me_with(&app, &hs256_twin).await.status().as_u16(),
        200,
        "the key is right; only the algorithm differs"
    );
}

#[tokio::test]
async fn me_returns_401_when_signature_is_tampered() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let (head, sig) = s.access.rsplit_once('.').expect("jwt");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("signature bytes");
    bytes[7] ^= 0x01;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));

    // Act
    let res = me_with(&app, &tampered).await;

    // Assert
    assert_unauthorized(res).await;
    assert_unauthorized(me_with(&app, &format!("{head}.")).await).await;
    assert_eq!(me_with(&app, &s.access).await.status().as_u16(), 200);
}

#[tokio::test]
async fn me_returns_401_when_payload_is_changed_to_another_user() {
    // Arrange
    let app = spawn_app().await;
    let attacker = app.login("13812345678").await;
    let victim = app.login("13900000000").await;
    let parts: Vec<&str> = attacker.access.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    payload["sub"] = json!(victim.user_id.to_string());
    let forged = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);

    // Act
    let res = me_with(&app, &forged).await;

    // Assert
    assert_unauthorized(res).await;
    let (status, me) = status_json(me_with(&app, &victim.access).await).await;
    assert_eq!((status, me["id"].as_i64()), (200, Some(victim.user_id)));
}

#[tokio::test]
async fn me_returns_401_when_token_expired_beyond_the_leeway() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let mut old = claims(s.user_id, -60);
    old.iat -= 900;
    let expired = app.state.keys.sign(&old);

    // Act
    let res = me_with(&app, &expired).await;

    // Assert
    assert_unauthorized(res).await;
    let twin = app.state.keys.sign(&claims(s.user_id, 60));
    assert_eq!(me_with(&app, &twin).await.status().as_u16(), 200);
}

#[tokio::test]
async fn me_returns_401_when_issuer_or_audience_is_wrong() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let mut wrong_iss = claims(s.user_id, 600);
    wrong_iss.iss = "someone-else".into();
    let mut wrong_aud = claims(s.user_id, 600);
    wrong_aud.aud = "someone-else".into();

    // Act
    let iss = me_with(&app, &app.state.keys.sign(&wrong_iss)).await;
    let aud = me_with(&app, &app.state.keys.sign(&wrong_aud)).await;

    // Assert
    assert_unauthorized(iss).await;
    assert_unauthorized(aud).await;
}

#[tokio::test]
async fn me_returns_401_when_a_required_claim_is_missing() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let full = serde_json::to_value(claims(s.user_id, 600)).expect("claims");
    let key = EncodingKey::from_secret(&access_key());

    for claim in ["exp", "sub", "iss", "aud", "typ"] {
        let mut partial = full.clone();
        partial.as_object_mut().expect("object").remove(claim);
        let token = encode(&Header::new(Algorithm::HS256), &partial, &key).expect("sign");

        // Act
        let res = me_with(&app, &token).await;

        // Assert
        assert_unauthorized(res).await;
    }
    let token = encode(&Header::new(Algorithm::HS256), &full, &key).expect("sign");
    assert_eq!(me_with(&app, &token).await.status().as_u16(), 200);
}

#[tokio::test]
async fn me_returns_401_when_a_refresh_token_is_used_as_access_token() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let mut as_refresh = claims(s.user_id, 600);
    as_refresh.typ = TokenType::Refresh;
    as_refresh.fam = Some("f".into());

    // Act
    let res = me_with(&app, &s.refresh).await;

    // Assert
    assert_unauthorized(res).await;
    assert_unauthorized(me_with(&app, &app.state.keys.sign(&as_refresh)).await).await;
}

#[tokio::test]
async fn me_returns_401_when_token_belongs_to_a_deleted_account() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let res = app.delete_auth(ME, &s.access).await;
    assert_eq!(res.status().as_u16(), 202);

    // Act
    let res = me_with(&app, &s.access).await;

    // Assert
    assert_unauthorized(res).await;
}

#[tokio::test]
async fn me_returns_401_when_token_is_signed_with_another_secret() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let other = JwtKeys::new(b"another-secret-another-secret-0123456789", "qunjia");
    let forged = other.sign(&claims(s.user_id, 600));

    // Act
    let res = me_with(&app, &forged).await;

    // Assert
    assert_unauthorized(res).await;
}

#[tokio::test]
async fn me_returns_401_when_sub_names_no_user() {
    // Arrange
    let app = spawn_app().await;
    app.login("13812345678").await;
    let mut not_a_number = claims(1, 600);
    not_a_number.sub = "admin".into();

    // Act
    let unknown = me_with(&app, &app.state.keys.sign(&claims(999_999, 600))).await;
    let text = me_with(&app, &app.state.keys.sign(&not_a_number)).await;

    // Assert
    assert_unauthorized(unknown).await;
    assert_unauthorized(text).await;
}
