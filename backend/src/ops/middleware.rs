//! The edge every request passes: a request id on the span and the response,
//! one log line, metrics, security headers, `no-store` on the API, and the API's
//! error body for errors raised by the framework itself (413, 404, 405…).
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use tracing::Instrument;

use crate::error::AppError;
use crate::state::AppState;

/// Content Security Policy: everything from our origin only, no inline script or style.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; manifest-src 'self'; worker-src 'self'; media-src 'self' blob:; object-src 'none'; \
frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

fn framework_error(status: StatusCode) -> AppError {
    match status.as_u16() {
        400 => AppError::bad_request("请求不正确"),
        401 => AppError::Unauthorized("unauthorized", "请先登录"),
        403 => AppError::Forbidden("forbidden", "没有权限"),
        404 | 405 => AppError::NotFound,
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType,
        408 => AppError::bad_request("请求超时"),
        _ => AppError::Internal(format!("framework answered {status}")),
    }
}

/// The middleware function (use with `actix_web::middleware::from_fn`).
pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let is_api = path.starts_with("/api/");
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);

    // Off by default; lets an operator (and the shutdown test) see a request begin.
    span.in_scope(|| tracing::debug!("request started"));
    // Handler errors arrive here as responses already; an `Err` is left to the framework.
    let res = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut res = if is_api && status.as_u16() >= 400 && !json {
        let (r, _) = res.into_parts();
        ServiceResponse::new(r, framework_error(status).error_response())
    } else {
        res
    };

    let route = res.request().match_pattern().unwrap_or_else(|| {
        if is_api {
            "(unmatched)".into()
        } else {
            "(pwa)".into()
        }
    });
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.observe(
            &route,
            &method,
            res.status().as_u16(),
            elapsed.as_secs_f64(),
        );
    }
    span.in_scope(|| {
        tracing::info!(status = res.status().as_u16(), route = %route, latency_ms = elapsed.as_secs_f64() * 1000.0, "request done");
    });

    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), geolocation=(), microphone=()"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    if is_api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
