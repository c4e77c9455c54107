//! API.md "Operations" and "Conventions": health, metrics, the headers every
//! response carries, error bodies for unknown routes, the OpenAPI document,
//! the PWA shell, and no internals in any body.
use std::collections::{BTreeMap, BTreeSet};

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::support::{LOGIN, LOGOUT, OTP, REFRESH, TestApp, error_code, spawn_app};

async fn send(app: &TestApp, method: &str, path: &str) -> reqwest::Response {
    app.client
        .request(method.parse().expect("method"), app.url(path))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn health_returns_200_with_status_and_db_ok() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = status_json(app.get("/health").await).await;

    // Assert
    assert_eq!((status, body), (200, json!({ "status": "ok", "db": "ok" })));
}

#[tokio::test]
async fn metrics_returns_request_counts_by_route_pattern_after_requests() {
    // Arrange
    let app = spawn_app().await;
    let wuhu = app.region_id("340200").await;
    app.get("/health").await;
    app.get("/api/v1/regions").await;
    app.get("/api/v1/regions").await;
    app.get(&format!("/api/v1/regions/{wuhu}")).await;
    app.get("/api/v1/regions/999999").await;

    // Act
    let res = app.get("/metrics").await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    assert!(header(&res, "content-type").is_some_and(|c| c.starts_with("text/plain")));
    let text = res.text().await.expect("body");
    for line in [
        "# TYPE qunjia_http_requests_total counter",
        r#"qunjia_http_requests_total{route="/health",method="GET",status="200"} 1"#,
        r#"qunjia_http_requests_total{route="/api/v1/regions",method="GET",status="200"} 2"#,
        r#"qunjia_http_requests_total{route="/api/v1/regions/{id}",method="GET",status="200"} 1"#,
        r#"qunjia_http_requests_total{route="/api/v1/regions/{id}",method="GET",status="404"} 1"#,
        "# TYPE qunjia_http_request_duration_seconds histogram",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(
        !text.contains(&format!("/api/v1/regions/{wuhu}\"")),
        "ids never become labels"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_the_security_headers() {
    // Arrange
    let app = spawn_app().await;
    let paths = [
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("GET", "/api/v1/regions"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/xyz"),
        ("POST", "/api/v1/auth/otp"),
        ("GET", "/"),
        ("GET", "/join/abc"),
        ("GET", "/nope.js"),
        ("GET", "/api/v1/openapi.json"),
    ];
    let mut ids = BTreeSet::new();

    for (method, path) in paths {
        // Act
        let res = send(&app, method, path).await;

        // Assert
        let id = header(&res, "x-request-id").unwrap_or_default();
        assert!(
            id.len() >= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{path}: request id {id:?}"
        );
        ids.insert(id);
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&res, "referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            header(&res, "content-security-policy").as_deref(),
            Some(qunjia::ops::middleware::CSP),
            "{path}"
        );
    }
    assert_eq!(ids.len(), paths.len(), "a new id per request");
}

#[tokio::test]
async fn request_id_is_echoed_when_valid_and_replaced_when_not() {
    // Arrange
    let app = spawn_app().await;
    let with_id = |id: String| {
        app.client
            .get(app.url("/api/v1/regions"))
            .header("X-Request-Id", id)
            .send()
    };

    // Act
    let valid = with_id("trace-42_abc".into()).await.expect("request");
    let spaced = with_id("bad id".into()).await.expect("request");
    let long = with_id("a".repeat(65)).await.expect("request");

    // Assert
    assert_eq!(
        header(&valid, "x-request-id").as_deref(),
        Some("trace-42_abc")
    );
    for res in [spaced, long] {
        let id = header(&res, "x-request-id").expect("id");
        assert!(id != "bad id" && id.len() <= 64 && !id.is_empty(), "{id}");
    }
}

#[tokio::test]
async fn api_responses_return_cache_control_no_store_and_the_shell_does_not() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let api = [
        app.get("/api/v1/regions").await,
        app.get("/api/v1/me").await,
        app.get("/api/v1/xyz").await,
        app.post_json(OTP, &json!({ "phone": "13812345678" })).await,
    ];
    let shell = app.get("/").await;

    // Assert
    for res in &api {
        assert_eq!(
            header(res, "cache-control").as_deref(),
            Some("no-store"),
            "{}",
            res.url()
        );
    }
    assert_ne!(header(&shell, "cache-control").as_deref(), Some("no-store"));
}

#[tokio::test]
async fn unknown_api_path_returns_404_with_the_json_error_body() {
    // Arrange
    let app = spawn_app().await;

    for path in [
        "/api/v1/xyz",
        "/api/v1/",
        "/api/v2/me",
        "/api/v1/me/xyz",
        "/api",
    ] {
        // Act
        let res = app.get(path).await;

        // Assert
        assert!(
            header(&res, "content-type").is_some_and(|c| c.starts_with("application/json")),
            "{path}"
        );
        let (status, body) = status_json(res).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn wrong_method_on_an_api_path_returns_4xx_with_the_json_error_body() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("PUT", "/api/v1/me"),
        ("GET", "/api/v1/auth/otp"),
        ("DELETE", "/api/v1/regions"),
        ("PATCH", "/api/v1/roles"),
        ("POST", "/api/v1/regions/1"),
        ("POST", "/api/v1/openapi.json"),
    ];

    for (method, path) in cases {
        // Act
        let res = send(&app, method, path).await;

        // Assert
        assert!(
            header(&res, "content-type").is_some_and(|c| c.starts_with("application/json")),
            "{method} {path}"
        );
        let (status, body) = status_json(res).await;
        assert!((400..500).contains(&status), "{method} {path}: {status}");
        assert!(
            body["error"]["code"]
                .as_str()
                .is_some_and(|c| !c.is_empty()),
            "{method} {path}: {body}"
        );
    }
}

#[tokio::test]
async fn openapi_lists_exactly_the_routes_that_are_served() {
    // Arrange
    let app = spawn_app().await;
    let expected: BTreeMap<&str, Vec<&str>> = [
        ("/api/v1/auth/otp", vec!["post"]),
        ("/api/v1/auth/login", vec!["post"]),
        ("/api/v1/auth/refresh", vec!["post"]),
        ("/api/v1/auth/logout", vec!["post"]),
        ("/api/v1/me", vec!["delete", "get", "patch"]),
        ("/api/v1/me/export", vec!["get"]),
        ("/api/v1/roles", vec!["post"]),
        ("/api/v1/roles/{id}", vec!["delete"]),
        ("/api/v1/regions", vec!["get", "post"]),
        ("/api/v1/regions/{id}", vec!["get"]),
        ("/api/v1/units/lookup", vec!["get"]),
        ("/api/v1/units", vec!["get", "post"]),
        ("/api/v1/units/{id}", vec!["get", "patch"]),
        ("/api/v1/units/import", vec!["post"]),
        ("/api/v1/units/import-template.csv", vec!["get"]),
        ("/api/v1/units/import-template.xlsx", vec!["get"]),
        ("/api/v1/stats/coverage", vec!["get"]),
        ("/api/v1/stats/gaps", vec!["get"]),
        ("/api/v1/stats/gaps.csv", vec!["get"]),
        ("/api/v1/ledgers/units.csv", vec!["get"]),
        ("/api/v1/ledgers/units.xlsx", vec!["get"]),
        ("/api/v1/orgs", vec!["get", "post"]),
        ("/api/v1/orgs/{id}", vec!["get"]),
        ("/api/v1/orgs/by-code/{join_code}", vec!["get"]),
        ("/api/v1/orgs/{id}/join-qr.svg", vec!["get"]),
        ("/api/v1/orgs/{id}/join", vec!["post"]),
        ("/api/v1/orgs/{id}/members", vec!["get"]),
        ("/api/v1/orgs/{id}/leaders", vec!["get", "post"]),
        ("/api/v1/orgs/{id}/leaders/{leader_id}", vec!["delete"]),
        ("/api/v1/me/orgs/suggested", vec!["get"]),
        ("/api/v1/me/memberships", vec!["get"]),
        ("/api/v1/memberships/{id}", vec!["delete"]),
        ("/api/v1/memberships/{id}/approve", vec!["post"]),
        ("/api/v1/memberships/{id}/reject", vec!["post"]),
        ("/api/v1/centres", vec!["get", "post"]),
        ("/api/v1/centres/{id}", vec!["get"]),
        ("/api/v1/activities", vec!["get", "post"]),
        ("/api/v1/activities/{id}", vec!["get", "patch"]),
        ("/api/v1/activities/{id}/cancel", vec!["post"]),
        ("/api/v1/activities/{id}/signup", vec!["delete", "post"]),
        ("/api/v1/activities/{id}/attendance", vec!["get"]),
        ("/api/v1/activities/{id}/attendance.csv", vec!["get"]),
        ("/api/v1/me/signups", vec!["get"]),
        ("/api/v1/activities/{id}/checkin-qr", vec!["get"]),
        ("/api/v1/activities/{id}/checkin-qr.svg", vec!["get"]),
        ("/api/v1/checkins", vec!["post"]),
        ("/api/v1/activities/{id}/checkin-failures", vec!["get"]),
        ("/api/v1/checkins/{id}/undo", vec!["post"]),
        ("/api/v1/activities/{id}/checkins/manual", vec!["post"]),
        ("/api/v1/me/checkins", vec!["get"]),
        ("/api/v1/services", vec!["get", "post"]),
        ("/api/v1/services/{id}", vec!["get", "patch"]),
        ("/api/v1/consents/sensitive", vec!["get"]),
        ("/api/v1/cases", vec!["get", "post"]),
        ("/api/v1/cases/{id}", vec!["get", "patch"]),
        ("/api/v1/cases/{id}/transition", vec!["post"]),
        ("/api/v1/cases/{id}/payment", vec!["post"]),
        ("/api/v1/cases/{id}/messages", vec!["post"]),
        ("/api/v1/stats/cases", vec!["get"]),
        ("/api/v1/me/notifications", vec!["get"]),
        ("/api/v1/me/notifications/unread-count", vec!["get"]),
        ("/api/v1/me/notifications/read-all", vec!["post"]),
        ("/api/v1/me/notifications/{id}/read", vec!["post"]),
        ("/api/v1/cases/{id}/attachments", vec!["post"]),
        ("/api/v1/cases/{id}/attachments/{aid}", vec!["get"]),
        ("/api/v1/campaigns", vec!["get", "post"]),
        ("/api/v1/campaigns/{id}", vec!["get"]),
        ("/api/v1/campaigns/{id}/close", vec!["post"]),
        ("/api/v1/campaigns/{id}/visits", vec!["get"]),
        ("/api/v1/campaigns/{id}/visits.csv", vec!["get"]),
        ("/api/v1/campaigns/{id}/visits/{vid}/done", vec!["post"]),
        ("/api/v1/audit", vec!["get"]),
        ("/api/v1/audit.csv", vec!["get"]),
        ("/health", vec!["get"]),
        ("/metrics", vec!["get"]),
        ("/api/v1/openapi.json", vec!["get"]),
    ]
    .into_iter()
    .collect();

    // Act
    let res = app.get("/api/v1/openapi.json").await;

    // Assert
    assert!(header(&res, "content-type").is_some_and(|c| c.starts_with("application/json")));
    let doc: Value = res.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let listed: BTreeMap<&str, Vec<&str>> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<&str> = item
                .as_object()
                .expect("path item")
                .keys()
                .map(String::as_str)
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(k))
                .collect();
            methods.sort();
            (path.as_str(), methods)
        })
        .collect();
    assert_eq!(listed, expected);
    // Each listed operation is answered by a handler, not by the 404/405 fallback.
    let province = app.region_id("340000").await.to_string();
    for (path, methods) in &listed {
        let path = path.replace("{id}", &province);
        // A public look-up of an unknown join code is a real 404 (tests/api/orgs.rs covers it).
        if path.contains("{join_code}") {
            continue;
        }
        for method in methods {
            let res = send(&app, &method.to_uppercase(), &path).await;
            let status = res.status().as_u16();
            assert!(
                status != 404 && status != 405,
                "{method} {path} is listed but answered {status}"
            );
        }
    }
}

#[tokio::test]
async fn root_returns_the_pwa_index_with_the_csp() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.get("/").await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    assert!(header(&res, "content-type").is_some_and(|c| c.starts_with("text/html")));
    assert_eq!(
        header(&res, "content-security-policy").as_deref(),
        Some(qunjia::ops::middleware::CSP)
    );
    let html = res.text().await.expect("body");
    assert_eq!(html, include_str!("../../pwa/index.html"));
}

#[tokio::test]
async fn client_route_returns_the_pwa_index() {
    // Arrange
    let app = spawn_app().await;

    for path in ["/join/abc", "/c/some-token", "/me"] {
        // Act
        let res = app.get(path).await;

        // Assert
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert!(header(&res, "content-type").is_some_and(|c| c.starts_with("text/html")));
        let html = res.text().await.expect("body");
        assert_eq!(html, include_str!("../../pwa/index.html"), "{path}");
    }
}

#[tokio::test]
async fn service_worker_returns_the_script_with_the_shell_version_filled_in() {
    // Arrange
    let app = spawn_app().await;
    let source = include_str!("../../pwa/sw.js");
    assert!(
        source.contains("__SHELL_VERSION__"),
        "the source has the placeholder"
    );

    // Act
    let res = app.get("/sw.js").await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    assert!(header(&res, "content-type").is_some_and(|c| c.starts_with("text/javascript")));
    let js = res.text().await.expect("body");
    assert!(!js.contains("__SHELL_VERSION__"));
    let version = qunjia::pwa::shell_version();
    assert_eq!(js, source.replace("__SHELL_VERSION__", version));
    assert_eq!(version.len(), 16);
}

#[tokio::test]
async fn manifest_returns_json_named_qunjia_in_simplified_chinese() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.get("/manifest.webmanifest").await;

    // Assert
    assert_eq!(res.status().as_u16(), 200);
    assert!(header(&res, "content-type").is_some_and(|c| c.contains("json")));
    let manifest: Value = serde_json::from_str(&res.text().await.expect("body")).expect("json");
    assert_eq!(manifest["name"], "群家");
    assert_eq!(manifest["lang"], "zh-CN");
}

#[tokio::test]
async fn missing_static_file_returns_404() {
    // Arrange
    let app = spawn_app().await;

    for path in ["/nope.js", "/icons/none.png", "/views/missing.js"] {
        // Act
        let res = app.get(path).await;

        // Assert
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let body = res.text().await.expect("body");
        assert!(!body.contains("<html"), "{path} is not the shell");
    }
}

#[tokio::test]
async fn no_response_leaks_internals_when_clients_send_nonsense() {
    // Arrange
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let j = "application/json";
    let mut responses: Vec<(String, reqwest::Response)> = Vec::new();
    let raw_posts = [
        (OTP, j, "{\"phone\":".to_owned()),
        (OTP, j, "{\"phone\":\"\\ud800\"}".to_owned()),
        (OTP, j, format!("{{\"phone\":\"{}\"}}", "9".repeat(5000))),
        (OTP, "text/plain", "phone".to_owned()),
        (
            LOGIN,
            j,
            "{\"phone\":\"13812345678\",\"code\":null}".to_owned(),
        ),
        (
            LOGIN,
            j,
            "{\"phone\":\"13812345678\",\"code\":\"' OR 1=1 --\"}".to_owned(),
        ),
        (REFRESH, j, "{\"refresh_token\":5}".to_owned()),
        (
            REFRESH,
            j,
            format!("{{\"refresh_token\":\"{}\"}}", "a".repeat(5000)),
        ),
        (LOGOUT, j, "[[[[".to_owned()),
        ("/api/v1/regions", j, "{}".to_owned()),
    ];
    for (path, ct, body) in raw_posts {
        responses.push((format!("POST {path}"), app.post_raw(path, ct, body).await));
    }
    let gets = [
        "/api/v1/regions?parent_id=1;DROP TABLE regions",
        "/api/v1/regions?limit=99999999999999999999999",
        "/api/v1/regions?cursor=%00",
        "/api/v1/regions/99999999999999999999999",
        "/api/v1/regions/%2e%2e%2f",
        "/api/v1/units/lookup?q=%25%25",
        "/api/v1/units/lookup",
        "/../../etc/passwd",
        "/%2e%2e/Cargo.toml",
    ];
    for path in gets {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(&s.access)
            .send()
            .await
            .expect("request");
        responses.push((format!("GET {path}"), res));
    }
    let patches = [
        json!({ "birth_date": "99999-01-01" }),
        json!({ "unit_id": i64::MAX }),
        json!({ "name": "\u{0000}" }),
    ];
    for body in patches {
        let res = app.patch_auth("/api/v1/me", &s.access, &body).await;
        responses.push((format!("PATCH /me {body}"), res));
    }
    let res = app
        .post_auth(
            "/api/v1/regions",
            &s.access,
            &json!({ "code": "340104", "name": "x", "kind": "county", "parent_id": i64::MAX }),
        )
        .await;
    responses.push(("POST /regions huge parent".into(), res));

    for (what, res) in responses {
        // Act
        let status = res.status().as_u16();
        let body = res.text().await.expect("body");

        // Assert
        assert!(status < 500, "{what}: {status} {body}");
        for needle in [
            "sqlx", "SQLSTATE", "panicked", "/work", "sqlite", "postgres", "serde",
        ] {
            assert!(
                !body.to_lowercase().contains(&needle.to_lowercase()),
                "{what}: {needle:?} in {body}"
            );
        }
    }
}

#[tokio::test]
async fn api_error_bodies_have_code_and_message_when_framework_rejects_the_request() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let too_big = app
        .post_raw(
            REFRESH,
            "application/json",
            format!("{{\"refresh_token\":\"{}\"}}", "a".repeat(70 * 1024)),
        )
        .await;

    // Assert
    assert_eq!(
        header(&too_big, CONTENT_TYPE.as_str()).as_deref(),
        Some("application/json")
    );
    assert_eq!(
        header(&too_big, CACHE_CONTROL.as_str()).as_deref(),
        Some("no-store")
    );
    assert_eq!(error_code(too_big).await, (413, "payload_too_large".into()));
}

#[tokio::test]
async fn openapi_documents_415_exactly_where_a_json_route_answers_it_and_limit_as_1_to_100() {
    // Arrange
    let app = spawn_app().await;
    let admin = app
        .login_with_role(
            "13800000001",
            "admin",
            &format!("region:{}", app.region_id("340000").await),
        )
        .await;
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    let id = app.region_id("340000").await.to_string();
    let placeholder = regex::Regex::new(r"\{[a-z_]+\}").expect("regex");
    let mut json_routes = 0;

    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "limit" {
                    assert_eq!(
                        (&p["schema"]["minimum"], &p["schema"]["maximum"]),
                        (&json!(1), &json!(100)),
                        "{method} {path}: limit"
                    );
                }
            }
            if op["requestBody"]["content"]["application/json"].is_null() {
                continue;
            }
            json_routes += 1;
            let documented = !op["responses"]["415"].is_null();
            let url = placeholder.replace_all(path, id.as_str()).into_owned();

            // Act: the body as text, not as JSON.
            let res = app
                .client
                .request(
                    method.to_uppercase().parse().expect("method"),
                    app.url(&url),
                )
                .bearer_auth(&admin.access)
                .header(CONTENT_TYPE, "text/plain")
                .body("{}")
                .send()
                .await
                .expect("request");

            // Assert
            let status = res.status().as_u16();
            assert_eq!(
                status == 415,
                documented,
                "{method} {path} answered {status}; 415 documented: {documented}"
            );
        }
    }
    assert!(json_routes >= 25, "{json_routes} JSON routes");
}
