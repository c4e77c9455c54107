//! The PWA shell, embedded in the release binary (read from `pwa/` in debug builds).
//! Client routes (`/join/…`, `/c/…`, …) get `index.html`; `sw.js` gets the shell
//! version (a hash of every shell file) so that a changed shell means a new cache.
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "../pwa/"]
#[exclude = "*.py"]
struct Shell;

/// Hash of all shell files, computed once.
pub fn shell_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut names: Vec<_> = Shell::iter().collect();
        names.sort();
        let mut h = Sha256::new();
        for name in names {
            h.update(name.as_bytes());
            if let Some(f) = Shell::get(&name) {
                h.update(f.metadata.sha256_hash());
            }
        }
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

fn serve(name: &str, req: &HttpRequest) -> Option<HttpResponse> {
    let file = Shell::get(name)?;
    let etag = if name == "sw.js" {
        format!("\"sw-{}\"", shell_version())
    } else {
        format!(
            "\"{}\"",
            file.metadata
                .sha256_hash()
                .iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    };
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Some(
            HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .finish(),
        );
    }
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag));
    // Revalidate every time: cheap with the ETag, and a deploy is seen at once.
    res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    let content_type = match name.rsplit('.').next() {
        Some("webmanifest") => "application/manifest+json".to_owned(),
        Some("js") => "text/javascript; charset=utf-8".to_owned(),
        _ if mime.type_() == "text" => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    res.insert_header((header::CONTENT_TYPE, content_type));
    if name == "sw.js" {
        let text =
            String::from_utf8_lossy(&file.data).replace("__SHELL_VERSION__", shell_version());
        res.insert_header(("Service-Worker-Allowed", "/"));
        return Some(res.body(text));
    }
    Some(res.body(file.data.into_owned()))
}

/// Default service: the shell for everything outside `/api`.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if path.starts_with("/api/") || path == "/api" {
        return actix_web::ResponseError::error_response(&AppError::NotFound);
    }
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD
    {
        return HttpResponse::MethodNotAllowed().finish();
    }
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { "index.html" } else { name };
    if let Some(res) = serve(name, &req) {
        return res;
    }
    // A path that names a file we do not have is a 404; anything else is a client route.
    let last = name.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    }
    serve("index.html", &req).unwrap_or_else(|| HttpResponse::NotFound().finish())
}
