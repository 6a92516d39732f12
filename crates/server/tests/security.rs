//! Defences a browser relies on (issue 12), on every backend: the JSON API refuses a state
//! change carried by the session cookie alone (what a cross-site form sends), and every answer
//! carries the security headers — a CSP that allows no inline script, no framing, no sniffing,
//! and no caching of pages and JSON that show callers.

mod common;

use common::*;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::json;

fn cookie(app: &App, user: &str) -> String {
    format!("jiesu_session={}", app.tokens[user])
}

async fn cookie_posts_need_the_csrf_token(app: &App) {
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    let url = format!("{}/api/v1/requests/{id}/accept", app.base);
    // What a form on another site sends: the cookie, an empty form body, no token.
    let r = app
        .client
        .post(&url)
        .header(COOKIE, cookie(app, "handler"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "[{}]", app.backend());
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["code"], "csrf_failed", "{v}");
    assert_eq!(
        app.state(id).await["status"],
        "dispatched",
        "nothing changed"
    );
    // A wrong token is no better.
    let r = app
        .client
        .post(&url)
        .header(COOKIE, cookie(app, "handler"))
        .header("x-csrf-token", "0".repeat(32))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Reads with the cookie stay possible (a same-origin page may fetch them).
    let r = app
        .client
        .get(format!("{}/api/v1/requests/{id}", app.base))
        .header(COOKIE, cookie(app, "handler"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    // The session's own token, which only a page of this origin can know, lets it through.
    let r = app
        .client
        .post(&url)
        .header(COOKIE, cookie(app, "handler"))
        .header(
            "x-csrf-token",
            jiesu_server::web::csrf_token(&app.tokens["handler"]),
        )
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK, "[{}]", app.backend());
    assert_eq!(app.state(id).await["status"], "accepted");
    // Logging out is a state change too.
    let r = app
        .client
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header(COOKIE, cookie(app, "operator"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, _) = app.get("operator", "/api/v1/auth/me").await;
    assert_eq!(s, StatusCode::OK, "the session survived the forged logout");
}

#[tokio::test]
async fn the_api_refuses_cookie_posts_without_the_csrf_token() {
    on_every_backend!(cookie_posts_need_the_csrf_token);
}

async fn headers_on_every_answer(app: &App) {
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    let pages = [
        ("/login", None),
        ("/intake", Some("operator")),
        (&format!("/r/{id}") as &str, Some("dispatcher")),
        ("/api/v1/requests", Some("dispatcher")),
        ("/api/v1/nothing-here", None),
        ("/open311/v2/services.json", None),
    ];
    for (path, user) in pages {
        let mut rb = app.client.get(format!("{}{path}", app.base));
        if let Some(u) = user {
            rb = rb.header(COOKIE, cookie(app, u));
        }
        let r = rb.send().await.expect("send");
        let h = r.headers().clone();
        let get = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        assert_eq!(get("referrer-policy"), "same-origin", "{path}");
        assert_eq!(get("cache-control"), "no-store", "{path}");
        let csp = get("content-security-policy");
        assert!(
            csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        let body = r.text().await.unwrap_or_default();
        if body.contains("<html") {
            // The policy allows no inline script: every script is a file of this origin.
            for tag in body.split("<script").skip(1) {
                let open = tag.split('>').next().unwrap_or_default();
                assert!(
                    open.contains("src=\"/static/"),
                    "{path}: inline <script{open}>"
                );
            }
            assert!(!body.contains("javascript:"), "{path}");
        }
    }
    // Static files keep their own caching; nosniff still applies.
    let r = app
        .client
        .get(format!("{}/static/app.js", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    // The error page's back link works without `javascript:`.
    let r = app
        .client
        .get(format!("{}/r/999999", app.base))
        .header(COOKIE, cookie(app, "dispatcher"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body = r.text().await.unwrap_or_default();
    assert!(
        body.contains("data-back") && !body.contains("javascript:"),
        "{body}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    on_every_backend!(headers_on_every_answer);
}

async fn long_searches_are_refused_by_field(app: &App) {
    app.intake(json!({"dispatch_to": STREET})).await;
    // 50,000 bytes: SQLite refuses such a LIKE pattern, which once answered 500 (list) and an
    // empty 200 (export).
    let long = "a".repeat(50_000);
    for path in [
        format!("/api/v1/requests?q={long}"),
        format!("/api/v1/requests/export?q={long}"),
    ] {
        let (s, v) = app.get("dispatcher", &path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "[{}] {v}", app.backend());
        assert_eq!(
            (v["code"].as_str(), v["field"].as_str()),
            (Some("bad_query"), Some("q"))
        );
    }
    // A bad value names its own field in the export as in the list (it once named `true`).
    for path in [
        "/api/v1/requests?overdue=maybe",
        "/api/v1/requests/export?overdue=maybe",
    ] {
        let (s, v) = app.get("dispatcher", path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["field"], "overdue", "{path}: {v}");
    }
    // The web list says so too, with a 4xx page.
    let r = app
        .client
        .get(format!("{}/requests?q={long}", app.base))
        .header(COOKIE, cookie(app, "dispatcher"))
        .send()
        .await
        .expect("send");
    assert!(r.status().is_client_error(), "{}", r.status());
    // At the limit it is a search like any other; the export is a complete file.
    let at_limit = "楼".repeat(jiesu_app::requests::MAX_QUERY_CHARS);
    let (s, v) = app
        .get("dispatcher", &format!("/api/v1/requests?q={at_limit}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = app
        .client
        .get(format!("{}/api/v1/requests/export", app.base))
        .bearer_auth(&app.tokens["dispatcher"])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.expect("a whole body");
    assert_eq!(csv.lines().count(), 2, "header and the one request: {csv}");
}

#[tokio::test]
async fn a_search_string_is_bounded() {
    on_every_backend!(long_searches_are_refused_by_field);
}

async fn public_doors_are_rate_limited(app: &App) {
    let get = |path: String| async move {
        app.client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("send")
    };
    // Tracking-code lookups: 60 per 10 minutes per address; walking codes is slowed.
    for i in 0..60 {
        let r = get(format!("/portal/track?code=XC2611{i:08}")).await;
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "lookup {i}");
    }
    let r = get("/portal/track?code=XC261100000099".into()).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "[{}]",
        app.backend()
    );
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap_or_default().contains("12345"));
    // The page without a code stays open.
    assert_eq!(get("/portal/track".into()).await.status(), StatusCode::OK);
    // Filings: 10 per hour per address (even refused ones count).
    for i in 0..10 {
        let r = app
            .client
            .post(format!("{}/portal", app.base))
            .body("")
            .send()
            .await
            .expect("send");
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "filing {i}");
    }
    let r = app
        .client
        .post(format!("{}/portal", app.base))
        .body("")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Open311 POST: 120 a minute per address, answered the spec's way.
    for i in 0..120 {
        let r = app
            .client
            .post(format!("{}/open311/v2/requests.json", app.base))
            .send()
            .await
            .expect("send");
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "post {i}");
    }
    let r = app
        .client
        .post(format!("{}/open311/v2/requests.json", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v[0]["code"], 429, "{v}");
}

#[tokio::test]
async fn public_doors_are_rate_limited_per_address() {
    on_every_backend!(public_doors_are_rate_limited);
}

async fn openapi_names_what_the_api_takes(app: &App) {
    let (s, doc) = app.get("admin", "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    let p = &doc["paths"];
    for path in ["/api/v1/requests/{id}", "/api/v1/requests/{id}/events"] {
        assert_eq!(p[path]["get"]["parameters"][0]["name"], "id", "{path}");
    }
    assert_eq!(
        p["/api/v1/open311/keys/{id}/revoke"]["post"]["parameters"][0]["in"],
        "path"
    );
    assert_eq!(p["/api/v1/audit"]["get"]["parameters"][0]["name"], "target");
    for path in ["/api/v1/users", "/api/v1/open311/keys", "/api/v1/webhooks"] {
        assert!(
            p[path]["post"]["responses"]["201"].is_object(),
            "{path} answers 201"
        );
    }
    assert!(p["/api/v1/requests"]["post"]["responses"]["201"].is_object());
    for path in [
        "/api/v1/auth/password",
        "/api/v1/users/{id}/disable",
        "/api/v1/users/{id}/enable",
        "/api/v1/users/{id}/password",
        "/api/v1/users/{id}/sessions/revoke",
    ] {
        assert!(p[path]["post"].is_object(), "{path} undocumented");
    }
    assert!(p["/api/v1/audit/verify"]["get"].is_object());
    // What the document promises, the server does: a user is created with 201.
    let (s, v) = app
        .post(
            "admin",
            "/api/v1/users",
            json!({"username": "doc.check", "password": "Doc-check-2026", "role": "callback"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn openapi_documents_paths_parameters_and_statuses() {
    on_every_backend!(openapi_names_what_the_api_takes);
}

/// Every answer an operation can give is documented (schemathesis in `.ci/run` fails on any
/// other status): 401 and 403 behind a login, 400, 415 and 422 for a JSON body; periods carry
/// their grammar. Checked here against answers the server really gives.
async fn openapi_lists_every_status(app: &App) {
    let (s, doc) = app.call("GET", None, "/api/v1/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    let mut ops = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let r = &op["responses"];
            if op.get("security").is_some() {
                for code in ["401", "403"] {
                    assert!(r.get(code).is_some(), "{method} {path} lacks {code}");
                }
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "415", "422"] {
                    assert!(r.get(code).is_some(), "{method} {path} lacks {code}");
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "period" {
                    assert!(p["schema"]["pattern"].is_string(), "{method} {path} period");
                }
            }
            ops += 1;
        }
    }
    assert!(ops > 50, "{ops} operations");
    // The statuses are real: a list without a login, a body without its content type.
    let (s, _) = app.call("GET", None, "/api/v1/requests", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(&app.tokens["admin"])
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn openapi_documents_every_status_an_operation_gives() {
    on_every_backend!(openapi_lists_every_status);
}
