//! Case attachments: one JPEG, PNG or PDF of at most 5 MiB judged by content,
//! metadata stripped, stored encrypted under a server name, served only to the
//! applicant and the case's officers (whose downloads are audited).
use qunjia::crypto::DataKey;
use qunjia::entity::{case_attachments, cases};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::campaigns::{CaseRow, Desk, case_row, desk};
use crate::helpers::*;
use crate::orgs::{id, person};
use crate::support::{DATA_KEY, Session, TestApp, error_code};

const BOUNDARY: &str = "qunjia-attachment-boundary-9a7c";
const MIB: usize = 1024 * 1024;

/// A desk with one open hardship case of an applicant.
struct Filed {
    d: Desk,
    applicant: Session,
    case: i64,
}

async fn filed() -> Filed {
    let d = desk().await;
    let applicant = person(&d.w.app, "13900000101", Some("张大山"), None, None).await;
    let case = case_row(
        &d.w.app,
        CaseRow {
            service: d.hardship,
            applicant: applicant.user_id,
            status: "submitted",
            class: None,
            days_ago: 0,
        },
    )
    .await;
    Filed { d, applicant, case }
}

/// One part of a form: field name, file name, declared type, bytes.
type Part<'a> = (&'a str, Option<&'a str>, &'a str, &'a [u8]);

fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file, ct, bytes) in parts {
        let file = file
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn path(case: i64) -> String {
    format!("/api/v1/cases/{case}/attachments")
}

async fn send_form(
    app: &TestApp,
    s: &Session,
    case: i64,
    body: Vec<u8>,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&path(case)))
        .bearer_auth(&s.access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.expect("request")
}

pub async fn upload(
    app: &TestApp,
    s: &Session,
    case: i64,
    name: &str,
    declared: &str,
    bytes: &[u8],
) -> reqwest::Response {
    send_form(
        app,
        s,
        case,
        form(&[("file", Some(name), declared, bytes)]),
        None,
    )
    .await
}

fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, marker];
    v.extend_from_slice(&u16::try_from(body.len() + 2).expect("short").to_be_bytes());
    v.extend_from_slice(body);
    v
}

const JFIF: &[u8] = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
const GPS: &[u8] = b"GPS 31.8206N 117.2272E iPhone 15 Pro";

/// A JPEG as a phone writes it: JFIF, EXIF with a position, XMP, a comment.
fn phone_jpeg() -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0*".to_vec();
    exif.extend_from_slice(GPS);
    let mut v = vec![0xFF, 0xD8];
    v.extend(seg(0xE0, JFIF));
    v.extend(seg(0xE1, &exif));
    v.extend(seg(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Zhang</x:xmpmeta>",
    ));
    v.extend(seg(0xFE, b"owner: Zhang San"));
    v.extend(seg(0xDB, &[0; 65]));
    v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    v.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(data.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(data);
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// A PNG with a text chunk naming its author.
pub fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    v.extend(chunk(b"tEXt", b"Author\0Zhang San"));
    v.extend(chunk(b"IDAT", b"pixels"));
    v.extend(chunk(b"IEND", b""));
    v
}

fn pdf(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n".to_vec();
    v.resize(len - 6, b' ');
    v.extend_from_slice(b"%%EOF\n");
    v
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn stored(app: &TestApp) -> u64 {
    app.count::<case_attachments::Entity>().await
}

async fn download(app: &TestApp, s: &Session, url: &str) -> reqwest::Response {
    app.get_auth(url, &s.access).await
}

#[tokio::test]
async fn upload_returns_201_and_stores_the_png_encrypted_under_a_server_name() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let key = DataKey::from_hex(DATA_KEY).expect("key");

    // Act
    let (status, a) = status_json(
        upload(
            app,
            &f.applicant,
            f.case,
            "住院/病历.png",
            "image/png",
            &png(),
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(status, 201, "{a}");
    let aid = id(&a);
    let row = case_attachments::Entity::find_by_id(aid)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("row");
    let clean = key
        .open_bytes(&row.data_enc)
        .expect("opens with the data key");
    assert!(!contains(&clean, b"Zhang San"), "text chunk dropped");
    assert!(clean.starts_with(b"\x89PNG") && contains(&clean, b"pixels"));
    assert_eq!(
        a,
        json!({
            "id": aid,
            "content_type": "image/png",
            "size": clean.len(),
            "name": "病历.png",
            "created_at": a["created_at"],
            "url": format!("/api/v1/cases/{}/attachments/{aid}", f.case),
        })
    );
    assert!(
        !contains(&row.data_enc, b"pixels"),
        "bytes stored encrypted"
    );
    assert_eq!(row.storage_name.len(), 32);
    assert!(row.storage_name.bytes().all(|b| b.is_ascii_hexdigit()));
    let name_enc = row.name_enc.expect("name kept");
    assert!(!name_enc.contains("病历"));
    assert_eq!(key.open(&name_enc).expect("opens"), "病历.png");
    assert_eq!(row.uploaded_by, f.applicant.user_id);
    assert_eq!(row.sha256.len(), 64);
    assert_eq!(
        app.audit_count("case.attachment.create").await,
        0,
        "applicant, not an officer"
    );
}

#[tokio::test]
async fn download_returns_the_jpeg_without_its_metadata_and_audits_officers_only() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let original = phone_jpeg();
    let (status, a) = status_json(
        upload(
            app,
            &f.applicant,
            f.case,
            "IMG_0001.JPG",
            "image/jpeg",
            &original,
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let url = a["url"].as_str().expect("url").to_owned();

    // Act
    let mine = download(app, &f.applicant, &url).await;
    let officers = download(app, &f.d.officer, &url).await;

    // Assert
    for res in [&mine, &officers] {
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            header(res, "content-type").unwrap_or_default(),
            "image/jpeg"
        );
        assert_eq!(
            header(res, "content-disposition").unwrap_or_default(),
            format!("attachment; filename=\"case-{}-{}.jpg\"", f.case, id(&a))
        );
        assert_eq!(
            header(res, "x-content-type-options").unwrap_or_default(),
            "nosniff"
        );
    }
    let bytes = mine.bytes().await.expect("body");
    assert_eq!(bytes, officers.bytes().await.expect("body"));
    for gone in [&b"Exif"[..], GPS, b"xmpmeta", b"Zhang San"] {
        assert!(!contains(&bytes, gone), "{}", String::from_utf8_lossy(gone));
    }
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]));
    assert!(contains(&bytes, JFIF), "JFIF header kept");
    assert!(
        bytes.ends_with(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]),
        "image data kept"
    );
    assert_eq!(a["size"], bytes.len());
    assert!(bytes.len() < original.len());
    let entries = app.audit("case.attachment.read").await;
    assert_eq!(entries.len(), 1, "only the officer's download");
    assert_eq!(entries[0].actor_user_id, Some(f.d.officer.user_id));
    assert_eq!(entries[0].target, format!("case:{}", f.case));
    assert!(entries[0].region_id.is_some());
}

#[tokio::test]
async fn upload_returns_201_for_a_pdf_from_an_officer_and_audits_it() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let file = pdf(2048);

    // Act
    let (status, a) = status_json(
        upload(
            app,
            &f.d.officer,
            f.case,
            "核查报告.pdf",
            "application/pdf",
            &file,
        )
        .await,
    )
    .await;

    // Assert
    assert_eq!(status, 201, "{a}");
    assert_eq!(
        (a["content_type"].clone(), a["size"].clone()),
        (json!("application/pdf"), json!(2048))
    );
    let res = download(app, &f.applicant, a["url"].as_str().expect("url")).await;
    assert_eq!(
        header(&res, "content-type").unwrap_or_default(),
        "application/pdf"
    );
    assert!(
        header(&res, "content-disposition")
            .unwrap_or_default()
            .ends_with(".pdf\"")
    );
    assert_eq!(res.bytes().await.expect("body").to_vec(), file);
    assert_eq!(app.audit_count("case.attachment.create").await, 1);
}

#[tokio::test]
async fn upload_returns_415_and_stores_nothing_when_the_content_is_not_jpeg_png_or_pdf() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>";
    let mut broken_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x7F, 0xFF];
    broken_jpeg.extend_from_slice(b"Exif");
    let mut png_without_end = b"\x89PNG\r\n\x1a\n".to_vec();
    png_without_end.extend(chunk(b"IHDR", &[0; 13]));
    let files: [(&str, &str, &[u8]); 5] = [
        ("photo.jpg", "image/jpeg", html),
        ("photo.png", "image/png", b"GIF89a\x01\x00\x01\x00"),
        ("report.pdf", "application/pdf", b"PK\x03\x04 a zip"),
        ("broken.jpg", "image/jpeg", &broken_jpeg),
        ("cut.png", "image/png", &png_without_end),
    ];

    for (name, declared, bytes) in files {
        // Act
        let res = upload(app, &f.applicant, f.case, name, declared, bytes).await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (415, "unsupported_media_type".to_owned()),
            "{name}"
        );
    }
    assert_eq!(stored(app).await, 0);
}

#[tokio::test]
async fn upload_returns_413_and_stores_nothing_when_the_file_is_larger_than_5_mib() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;

    // Act: 6 MiB (refused on its declared length) and 5 MiB + 1 byte (refused
    // while reading, the declared length being within the framing allowance).
    let six = upload(
        app,
        &f.applicant,
        f.case,
        "big.pdf",
        "application/pdf",
        &pdf(6 * MIB),
    )
    .await;
    let over = upload(
        app,
        &f.applicant,
        f.case,
        "over.pdf",
        "application/pdf",
        &pdf(5 * MIB + 1),
    )
    .await;

    // Assert
    for res in [six, over] {
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let (status, body) = status_json(res).await;
        assert_eq!(status, 413);
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert_eq!(stored(app).await, 0);
    let exact = upload(
        app,
        &f.applicant,
        f.case,
        "max.pdf",
        "application/pdf",
        &pdf(5 * MIB),
    )
    .await;
    assert_eq!(exact.status().as_u16(), 201, "exactly 5 MiB is taken");
    assert_eq!(stored(app).await, 1);
}

#[tokio::test]
async fn upload_returns_4xx_and_stores_nothing_when_the_form_is_not_one_file_part() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let p = png();
    let forms: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            form(&[("file", Some("empty.png"), "image/png", b"")]),
            422,
            "empty_file",
        ),
        (
            form(&[("upload", Some("a.png"), "image/png", &p)]),
            400,
            "bad_request",
        ),
        (form(&[]), 400, "bad_request"),
        (
            form(&[
                ("file", Some("a.png"), "image/png", &p),
                ("file", Some("b.png"), "image/png", &p),
            ]),
            400,
            "bad_request",
        ),
        (
            form(&[
                ("file", Some("a.png"), "image/png", &p),
                ("note", None, "text/plain", b"hello"),
            ]),
            400,
            "bad_request",
        ),
        (b"this is not a multipart body".to_vec(), 400, "bad_request"),
    ];

    for (body, status, code) in forms {
        // Act
        let res = send_form(app, &f.applicant, f.case, body, None).await;

        // Assert
        assert_eq!(error_code(res).await, (status, code.to_owned()));
    }
    for ct in ["application/json", "multipart/form-data", "image/png"] {
        let res = app
            .client
            .post(app.url(&path(f.case)))
            .bearer_auth(&f.applicant.access)
            .header("content-type", ct)
            .body(p.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(
            error_code(res).await,
            (400, "bad_request".to_owned()),
            "{ct}"
        );
    }
    let bad_key = app
        .client
        .post(app.url(&path(f.case)))
        .bearer_auth(&f.applicant.access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("Idempotency-Key", "k".repeat(65))
        .body(form(&[("file", Some("a.png"), "image/png", &p)]))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(bad_key).await, (400, "bad_request".to_owned()));
    let anonymous = app
        .post_raw(
            &path(f.case),
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            form(&[("file", Some("a.png"), "image/png", &p)]),
        )
        .await;
    assert_eq!(
        error_code(anonymous).await,
        (401, "unauthorized".to_owned())
    );
    assert_eq!(stored(app).await, 0);
}

#[tokio::test]
async fn attachment_routes_return_404_to_other_users_other_org_admins_and_region_admins() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let (status, a) =
        status_json(upload(app, &f.applicant, f.case, "a.png", "image/png", &png()).await).await;
    assert_eq!(status, 201);
    let url = a["url"].as_str().expect("url").to_owned();
    let stranger = app.login("13900000102").await;
    let callers = [
        &stranger,
        &f.d.w.worker,
        &f.d.other_officer,
        &f.d.w.hefei_admin,
        &f.d.w.wuhu_admin,
    ];

    for who in callers {
        // Act
        let up = upload(app, who, f.case, "b.png", "image/png", &png()).await;
        let down = download(app, who, &url).await;

        // Assert
        assert_eq!(error_code(up).await, (404, "not_found".to_owned()));
        assert_eq!(error_code(down).await, (404, "not_found".to_owned()));
    }
    assert_eq!(stored(app).await, 1);
    assert_eq!(app.audit_count("case.attachment.read").await, 0);
    let anonymous = app.get(&url).await;
    assert_eq!(
        error_code(anonymous).await,
        (401, "unauthorized".to_owned())
    );
}

#[tokio::test]
async fn download_returns_404_for_an_unknown_attachment_or_one_of_another_case() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let second = case_row(
        app,
        CaseRow {
            service: f.d.hardship,
            applicant: f.applicant.user_id,
            status: "accepted",
            class: None,
            days_ago: 0,
        },
    )
    .await;
    let (_, a) =
        status_json(upload(app, &f.applicant, f.case, "a.png", "image/png", &png()).await).await;
    let aid = id(&a);

    // Act + Assert
    for url in [
        format!("/api/v1/cases/{second}/attachments/{aid}"),
        format!("/api/v1/cases/{}/attachments/999999", f.case),
        format!("/api/v1/cases/999999/attachments/{aid}"),
        format!("/api/v1/cases/{}/attachments/abc", f.case),
        "/api/v1/cases/abc/attachments/1".to_owned(),
    ] {
        let res = download(app, &f.applicant, &url).await;
        assert_eq!(
            error_code(res).await,
            (404, "not_found".to_owned()),
            "{url}"
        );
    }
    let res = upload(app, &f.applicant, 999_999, "a.png", "image/png", &png()).await;
    assert_eq!(error_code(res).await, (404, "not_found".to_owned()));
}

#[tokio::test]
async fn upload_returns_422_too_many_attachments_when_the_case_has_ten() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    for n in 0..10 {
        let who = if n % 2 == 0 {
            &f.applicant
        } else {
            &f.d.officer
        };
        let res = upload(app, who, f.case, "a.png", "image/png", &png()).await;
        assert_eq!(res.status().as_u16(), 201, "upload {n}");
    }

    // Act
    let res = upload(app, &f.applicant, f.case, "b.png", "image/png", &png()).await;

    // Assert
    assert_eq!(
        error_code(res).await,
        (422, "too_many_attachments".to_owned())
    );
    assert_eq!(stored(app).await, 10);
}

#[tokio::test]
async fn upload_returns_409_case_closed_when_the_case_is_withdrawn_rejected_or_closed() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;

    for status in ["withdrawn", "rejected", "closed"] {
        cases::Entity::update_many()
            .col_expr(cases::Column::Status, Expr::value(status))
            .filter(cases::Column::Id.eq(f.case))
            .exec(&app.state.db)
            .await
            .expect("update");

        // Act
        let res = upload(app, &f.applicant, f.case, "a.png", "image/png", &png()).await;

        // Assert
        assert_eq!(
            error_code(res).await,
            (409, "case_closed".to_owned()),
            "{status}"
        );
    }
    assert_eq!(stored(app).await, 0);
    for status in ["accepted", "in_progress", "resolved"] {
        cases::Entity::update_many()
            .col_expr(cases::Column::Status, Expr::value(status))
            .filter(cases::Column::Id.eq(f.case))
            .exec(&app.state.db)
            .await
            .expect("update");
        let res = upload(app, &f.d.officer, f.case, "a.png", "image/png", &png()).await;
        assert_eq!(res.status().as_u16(), 201, "{status}");
    }
}

#[tokio::test]
async fn upload_returns_the_first_answer_again_when_the_idempotency_key_repeats() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let body = || form(&[("file", Some("a.png"), "image/png", &png())]);

    // Act
    let first = send_form(app, &f.applicant, f.case, body(), Some("photo-1")).await;
    let again = send_form(app, &f.applicant, f.case, body(), Some("photo-1")).await;

    // Assert
    assert_eq!(
        (first.status().as_u16(), again.status().as_u16()),
        (201, 201)
    );
    assert_eq!(
        header(&again, "idempotent-replayed").unwrap_or_default(),
        "true"
    );
    let (a, b): (Value, Value) = (
        first.json().await.expect("json"),
        again.json().await.expect("json"),
    );
    assert_eq!(a, b);
    assert_eq!(stored(app).await, 1);
}

#[tokio::test]
async fn case_detail_lists_the_uploaded_attachment_as_the_upload_answered() {
    // Arrange
    let f = filed().await;
    let app = &f.d.w.app;
    let (status, a) = status_json(
        upload(
            app,
            &f.applicant,
            f.case,
            "发票.jpg",
            "image/jpeg",
            &phone_jpeg(),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{a}");

    // Act
    let (status, case) = status_json(
        app.get_auth(&format!("/api/v1/cases/{}", f.case), &f.d.officer.access)
            .await,
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{case}");
    assert_eq!(case["attachments"], json!([a]));
}
