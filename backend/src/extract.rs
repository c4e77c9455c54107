//! `Json<T>`: the API's JSON body extractor. The body must be a JSON object —
//! serde would otherwise fill a struct from an array by position — and every
//! failure answers with the API error body (limits and content type come from
//! the app's `JsonConfig`). `OptionalJson<T>` is the same for a body that may
//! be left out, and `Query<T>` the query string's counterpart. A body or query
//! that does not fit `T` answers 400 naming the field (`缺少字段：code`), in our
//! words, never serde's.
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
    serde_path_to_error::deserialize(value)
        .map_err(|e| field_error(&e, "字段", "请求内容格式不正确"))
}

/// Longest field name repeated back in a message (a client may send any key).
const NAME_MAX: usize = 40;

/// The 400 for a value that does not fit its type, naming the field (`noun`:
/// 字段 in a body, 参数 in a query) it is about: `缺少字段：code`,
/// `不认识的字段：colour`, `参数格式不正确：limit`. Only the field's name is
/// taken from serde's text; everything said is ours.
fn field_error<E: std::fmt::Display>(
    err: &serde_path_to_error::Error<E>,
    noun: &str,
    otherwise: &str,
) -> AppError {
    let path = err.path().to_string();
    let at_root = matches!(path.as_str(), "" | "." | "?");
    let within = |name: &str| -> String {
        let full = if at_root {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        full.chars().take(NAME_MAX).collect()
    };
    let inner = err.inner().to_string();
    // serde names the field between backticks: missing field `code`. A missing
    // field is below the path (its object); an unknown or repeated one is the path.
    let named = inner.split('`').nth(1).map(within);
    let here: String = path.chars().take(NAME_MAX).collect();
    let words: Vec<&str> = inner.split_whitespace().take(2).collect();
    let message = match (words.as_slice(), named) {
        (["missing", "field"], Some(f)) => format!("缺少{noun}：{f}"),
        (["unknown", "field"], _) if !at_root => format!("不认识的{noun}：{here}"),
        (["duplicate", "field"], _) if !at_root => format!("{noun}重复：{here}"),
        (["unknown", "field"], Some(f)) => format!("不认识的{noun}：{f}"),
        (["duplicate", "field"], Some(f)) => format!("{noun}重复：{f}"),
        _ if !at_root => format!("{noun}格式不正确：{here}"),
        _ => otherwise.to_owned(),
    };
    AppError::bad_request(message)
}

/// A query string parsed into `T`; what does not fit answers 400 naming the
/// parameter (`缺少参数：region_id`, `参数格式不正确：limit`).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parsed value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> Query<T> {
    /// Parses a raw query string by the rules above.
    pub fn parse(query: &str) -> Result<Query<T>, AppError> {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| field_error(&e, "参数", "查询参数不正确"))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Query::parse(req.query_string()).map_err(Into::into))
    }
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Region {
        code: String,
        parent: Option<Parent>,
        limit: Option<u64>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Parent {
        id: i64,
    }

    fn said(body: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(body).expect("json");
        match from_object::<Region>(value) {
            Ok(_) => "ok".into(),
            Err(AppError::BadRequest(m)) => m,
            Err(other) => format!("{other:?}"),
        }
    }

    fn asked(query: &str) -> String {
        match Query::<Region>::parse(query) {
            Ok(_) => "ok".into(),
            Err(AppError::BadRequest(m)) => m,
            Err(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn a_body_that_does_not_fit_names_the_field() {
        assert_eq!(said(r#"{"code":"3401"}"#), "ok");
        assert_eq!(said(r#"{}"#), "缺少字段：code");
        assert_eq!(said(r#"{"code":1}"#), "字段格式不正确：code");
        assert_eq!(said(r#"{"code":"1","colour":2}"#), "不认识的字段：colour");
        assert_eq!(said(r#"{"code":"1","parent":{}}"#), "缺少字段：parent.id");
        assert_eq!(
            said(r#"{"code":"1","parent":{"id":"x"}}"#),
            "字段格式不正确：parent.id"
        );
        assert_eq!(said(r#"{"code":"1","limit":-1}"#), "字段格式不正确：limit");
        let long = format!(r#"{{"code":"1","{}":1}}"#, "k".repeat(500));
        assert!(said(&long).chars().count() < 60, "{}", said(&long));
    }

    #[test]
    fn a_query_that_does_not_fit_names_the_parameter() {
        assert_eq!(asked("code=3401&limit=5"), "ok");
        assert_eq!(asked(""), "缺少参数：code");
        assert_eq!(asked("code=1&limit=abc"), "参数格式不正确：limit");
        assert_eq!(asked("code=1&limit=-3"), "参数格式不正确：limit");
        assert_eq!(asked("code=1&x=1"), "不认识的参数：x");
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
