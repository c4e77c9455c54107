//! `Json<T>`: the API's JSON body extractor. The body must be a JSON object —
//! serde would otherwise fill a struct from an array by position — and every
//! failure answers with the API error body (limits and content type come from
//! the app's `JsonConfig`). `OptionalJson<T>` is the same for a body that may
//! be left out.
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON object body parsed into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

fn malformed() -> AppError {
    AppError::bad_request("请求内容格式不正确")
}

/// `T` from a JSON value that must be an object.
fn from_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    if !value.is_object() {
        return Err(AppError::bad_request("请求内容应为 JSON 对象"));
    }
    serde_json::from_value(value).map_err(|_| malformed())
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        // A request under an Idempotency-Key is bound to its body: leave its fingerprint.
        let keyed = req
            .headers()
            .contains_key(crate::idempotency::HEADER)
            .then(|| req.clone());
        Box::pin(async move {
            let web::Json(value) = value.await?;
            if let Some(req) = keyed {
                let print = crate::idempotency::fingerprint_json(&value);
                req.extensions_mut()
                    .insert(crate::idempotency::BodyFingerprint(print));
            }
            Ok(Json(from_object(value)?))
        })
    }
}

/// A body that may be left out: empty (or only whitespace) is `None`, anything
/// else must be a JSON object of `T`, with the same 400s as [`Json`]. The body is
/// read within the app's `PayloadConfig` and its content type is not checked
/// (these bodies were always read as bytes; a client may send one without).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    /// The parsed value, if a body was sent.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: DeserializeOwned> OptionalJson<T> {
    /// Parses raw body bytes by the rules above.
    pub fn parse(body: &[u8]) -> Result<OptionalJson<T>, AppError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        let value = serde_json::from_slice(body).map_err(|_| malformed())?;
        Ok(OptionalJson(Some(from_object(value)?)))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson::parse(&body.await?)?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    struct Reason {
        reason: Option<String>,
    }

    fn parse(body: &str) -> Result<Option<Reason>, String> {
        OptionalJson::<Reason>::parse(body.as_bytes())
            .map(OptionalJson::into_inner)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_empty_body_is_none_and_anything_else_must_be_an_object() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse(" \r\n\t"), Ok(None));
        assert_eq!(parse("{}"), Ok(Some(Reason::default())));
        assert_eq!(
            parse(r#"{"reason":"已离职"}"#),
            Ok(Some(Reason {
                reason: Some("已离职".into())
            }))
        );
        for bad in ["[\"x\"]", "null", "\"x\"", "{", "{\"reason\":1}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
