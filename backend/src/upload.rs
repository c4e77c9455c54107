//! The one multipart reader: a form of exactly one part, `file`, read into
//! memory and never past its limit. Any other part, or a second file, is a 400:
//! a client that sends more than it should learns so instead of having it
//! silently dropped.
use actix_multipart::Multipart;
use actix_web::HttpRequest;
use actix_web::http::header;
use futures_util::StreamExt;

use crate::error::{AppError, AppResult};

/// How much a route takes.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// The largest file, in bytes (413 above).
    pub file_bytes: usize,
    /// Room for the multipart framing in a declared `Content-Length`: a request
    /// declaring more than both is refused before a byte is read.
    pub framing_bytes: usize,
}

/// The uploaded file.
#[derive(Debug)]
pub struct Upload {
    /// Its bytes, at most [`Limit::file_bytes`].
    pub bytes: Vec<u8>,
    /// The client's file name as sent (`filename`, else `filename*`), uncleaned.
    pub name: Option<String>,
}

fn one_file() -> AppError {
    AppError::bad_request("请用 multipart/form-data 只上传一个文件（字段 file）")
}

/// Reads the single part `file` of the form.
pub async fn read_file(req: &HttpRequest, mut form: Multipart, limit: Limit) -> AppResult<Upload> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit.file_bytes.saturating_add(limit.framing_bytes)) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut upload: Option<Upload> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| one_file())?;
        if upload.is_some() || field.name() != Some("file") {
            return Err(one_file());
        }
        let name = field.content_disposition().and_then(|cd| {
            cd.get_filename().map(str::to_owned).or_else(|| {
                cd.get_filename_ext()
                    .map(|v| String::from_utf8_lossy(&v.value).into_owned())
            })
        });
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| one_file())?;
            if bytes.len() + chunk.len() > limit.file_bytes {
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        upload = Some(Upload { bytes, name });
    }
    upload.ok_or_else(|| AppError::bad_request("缺少上传文件（字段 file）"))
}
