//! What the API tests share on top of `support`'s `TestApp` methods: reading
//! responses (status and body, headers, cookies) and making codes.
#![allow(dead_code)]

use serde_json::Value;

/// The status and JSON body of a response (`Null` when the body is not JSON).
pub async fn status_json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A well-formed code that is not `code`.
pub fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("numeric code");
    format!("{:06}", (n + 1) % 1_000_000)
}

/// The value of a response's header `name`, if it has one.
pub fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

/// The `Retry-After` seconds of a response.
pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .expect("Retry-After present")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

/// The value of cookie `name` in a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str, name: &str) -> Option<String> {
    let first = set_cookie.split(';').next()?;
    let (n, v) = first.split_once('=')?;
    (n.trim() == name).then(|| v.trim().to_owned())
}

/// Every file of a SQLite test database's folder (the database, `-wal`, `-shm`)
/// with its bytes; empty on PostgreSQL, whose files are not ours to read.
pub fn data_files(app: &crate::support::TestApp) -> Vec<(String, Vec<u8>)> {
    let url = app.state.settings.database_url.clone();
    let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
    else {
        return Vec::new();
    };
    let dir = std::path::Path::new(path).parent().expect("folder");
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read folder")
        .map(|entry| {
            let p = entry.expect("entry").path();
            (
                p.display().to_string(),
                std::fs::read(&p).expect("read file"),
            )
        })
        .collect();
    let names: Vec<&String> = files.iter().map(|f| &f.0).collect();
    assert!(files.len() >= 2, "the database and its WAL: {names:?}");
    files
}
