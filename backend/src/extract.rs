//! `Json<T>`: the API's JSON body extractor. The body must be a JSON object —
//! serde would otherwise fill a struct from an array by position — and every
//! failure answers with the API error body (limits and content type come from
//! the app's `JsonConfig`).
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
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

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            if !value.is_object() {
                return Err(AppError::bad_request("请求内容应为 JSON 对象").into());
            }
            serde_json::from_value(value)
                .map(Json)
                .map_err(|_| AppError::bad_request("请求内容格式不正确").into())
        })
    }
}
