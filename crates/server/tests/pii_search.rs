//! Finding a caller's requests by phone through the API (issue 12: phones are sealed at rest,
//! so the lookup goes through the blind index): exact however written, only for roles that
//! see callers, scoped like every list, audited without the number. Both backends.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
        .unwrap_or_default()
}

async fn by_phone(app: &App) {
    let mine = app
        .intake(json!({"caller_phone": "139 8765 4321", "dispatch_to": STREET}))
        .await;
    let other = app.intake(json!({"caller_phone": "13600000000"})).await;
    for written in ["13987654321", "+86-139-8765-4321", "(0086) 139 8765 4321"] {
        let path = format!(
            "/api/v1/requests?phone={}",
            written.replace('+', "%2B").replace(' ', "%20")
        );
        let (s, v) = app.get("dispatcher", &path).await;
        assert_eq!(s, StatusCode::OK, "[{}] {written}: {v}", app.backend());
        assert_eq!(ids(&v), vec![mine], "[{}] {written}", app.backend());
    }
    // The handler of the street the request went to finds it; another street's does not.
    let (_, v) = app
        .get("handler", "/api/v1/requests?phone=13987654321")
        .await;
    assert_eq!(ids(&v), vec![mine]);
    let (s, v) = app
        .get("handler-other", "/api/v1/requests?phone=13987654321")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ids(&v).is_empty(), "another unit's request by phone: {v}");
    // Roles that never see callers may not search by them.
    for role in ["supervisor", "admin"] {
        let (s, v) = app.get(role, "/api/v1/requests?phone=13987654321").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {v}");
    }
    // Not a phone number: 400 naming the field.
    for bad in ["abc", "12", "1%3B%20DROP%20TABLE"] {
        let (s, v) = app
            .get("dispatcher", &format!("/api/v1/requests?phone={bad}"))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["field"], "phone", "{v}");
    }
    // Each search is in the audit log, by the number's blind index, never the number.
    let audit = every_audit_row(app).await;
    let searches: Vec<&Value> = audit
        .iter()
        .filter(|r| r["action"] == "search_by_phone")
        .collect();
    assert_eq!(searches.len(), 5, "{searches:?}");
    let text = serde_json::to_string(&audit).expect("json");
    assert!(
        !text.contains("13987654321") && !text.contains("8765"),
        "{text}"
    );
    assert_ne!(mine, other);
}

async fn every_audit_row(app: &App) -> Vec<Value> {
    let index = app
        .store
        .pii()
        .phone_index("13987654321")
        .expect("a phone has an index");
    let (s, v) = app
        .get("admin", &format!("/api/v1/audit?target=phone:{index}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn callers_are_found_by_phone_through_the_blind_index() {
    on_every_backend!(by_phone);
}
