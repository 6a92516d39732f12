//! Finding a request by its number (issue 13, "find anything"): a 受理编号 through `code` or the
//! one search box (`q`), `/r/<受理编号>`, and a caller's phone typed into the same box — matched
//! through the blind index and audited for roles that see callers, plain words for the rest.
//! Both backends.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
        .unwrap_or_default()
}

async fn page(app: &App, user: &str, path: &str) -> (StatusCode, String, String) {
    app.page(Some(user), path).await
}

async fn find(app: &App) {
    let b = app.backend();
    let id = app
        .intake(json!({"dispatch_to": STREET, "caller_phone": "13966667777"}))
        .await;
    let other = app.intake(json!({"caller_phone": "13600000001"})).await;
    let code = app.state(id).await["tracking_code"]
        .as_str()
        .expect("code")
        .to_string();

    // By code: the parameter or the search box, any case, spaces around.
    for path in [
        format!("/api/v1/requests?code={code}"),
        format!("/api/v1/requests?code={}", code.to_lowercase()),
        format!("/api/v1/requests?q=%20{code}%20"),
    ] {
        let (s, v) = app.get("dispatcher", &path).await;
        assert_eq!(s, StatusCode::OK, "[{b}] {path}: {v}");
        assert_eq!(ids(&v), vec![id], "[{b}] {path}");
    }
    let (s, v) = app.get("dispatcher", "/api/v1/requests?code=XC123").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "code");
    // Scope still applies: another street's handler finds nothing by the code.
    let (_, v) = app
        .get("handler-other", &format!("/api/v1/requests?code={code}"))
        .await;
    assert!(ids(&v).is_empty(), "[{b}] other unit by code: {v}");

    // A phone in the search box: the caller's requests for roles that see callers, audited.
    let (s, v) = app
        .get("dispatcher", "/api/v1/requests?q=139-6666-7777")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), vec![id], "[{b}] phone in q");
    let index = app.store.pii().phone_index("13966667777").expect("index");
    let (_, audit) = app
        .get("admin", &format!("/api/v1/audit?target=phone:{index}"))
        .await;
    let searches = audit
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["action"] == "search_by_phone")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(searches, 1, "[{b}] {audit}");
    // The supervisor does not see callers: the digits are words to it (no text has them).
    let (s, v) = app
        .get("supervisor", "/api/v1/requests?q=13966667777")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(ids(&v).is_empty(), "[{b}] {v}");

    // The desk: /r/<code> opens the request, the search box jumps to it, others get 404.
    let (s, loc, _) = page(app, "dispatcher", &format!("/r/{code}")).await;
    assert!(s.is_redirection(), "[{b}] /r/<code>: {s}");
    assert_eq!(loc, format!("/r/{id}"));
    let (s, loc, _) = page(app, "dispatcher", &format!("/requests?q={code}")).await;
    assert!(s.is_redirection(), "[{b}] search box: {s}");
    assert_eq!(loc, format!("/r/{id}"));
    let (s, _, _) = page(app, "handler-other", &format!("/r/{code}")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "[{b}] other unit's request by code"
    );
    let (s, _, _) = page(app, "dispatcher", "/r/XC00000000AAAAAA").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Every staff page that may read requests carries the search box.
    let (s, _, html) = page(app, "handler", "/queue").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(r#"class="find""#),
        "[{b}] no search box on /queue"
    );
    let (_, _, html) = page(app, "admin", "/admin").await;
    assert!(
        html.contains(r#"class="find""#),
        "[{b}] no search box on /admin"
    );
    assert_ne!(id, other);
}

#[tokio::test]
async fn requests_are_found_by_code_and_by_phone_from_one_box() {
    on_every_backend!(find);
}
