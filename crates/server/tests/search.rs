//! Full-text search through `GET /api/v1/requests?q=…`, on every backend: jieba words found in
//! any order, other filters and the handler's scope still apply, updates re-index.

mod common;

use common::*;
use serde_json::{Value, json};

fn ids_of(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_i64()).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

async fn search(app: &App) {
    let heat_a = app
        .intake(json!({"title": "暖气不热", "text": "家里暖气不热，室温只有十四度，老人受不了"}))
        .await;
    let heat_b = app
        .intake(json!({"text": "暖气片一直不热，物业不管"}))
        .await;
    let leak = app
        .intake(json!({"text": "小区暖气漏水，楼道全是水"}))
        .await;
    let noise = app
        .intake(json!({"text": "楼下饭馆夜里施工噪音扰民", "address": "西长安街"}))
        .await;
    let mut expected = vec![heat_a, heat_b];
    expected.sort_unstable();

    // Two words, both must be there, in any order; a space is %20 in the URL.
    let (s, v) = app
        .get("supervisor", "/api/v1/requests?q=暖气%20不热")
        .await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    assert_eq!(ids_of(&v), expected);
    let (_, v) = app
        .get("supervisor", "/api/v1/requests?q=不热%20暖气")
        .await;
    assert_eq!(ids_of(&v), expected);
    let (_, v) = app.get("supervisor", "/api/v1/requests?q=西长安街").await;
    assert_eq!(ids_of(&v), [noise]);
    let (_, v) = app.get("supervisor", "/api/v1/requests?q=暖气").await;
    let mut all_heat = vec![heat_a, heat_b, leak];
    all_heat.sort_unstable();
    assert_eq!(ids_of(&v), all_heat);

    // Other filters and the handler's scope still apply to the index's candidates.
    app.act_ok("dispatcher", heat_a, "dispatch", json!({"unit": STREET}))
        .await;
    let (_, v) = app
        .get(
            "supervisor",
            "/api/v1/requests?q=暖气%20不热&status=dispatched",
        )
        .await;
    assert_eq!(ids_of(&v), [heat_a]);
    let (_, v) = app.get("handler", "/api/v1/requests?q=暖气%20不热").await;
    assert_eq!(ids_of(&v), [heat_a]);

    // Hostile queries are plain text: never a server error.
    for q in ["%22", "title:%E6%9A%96", "(((", "*", "%5C", "+-!^~?"] {
        let (s, v) = app
            .get("supervisor", &format!("/api/v1/requests?q={q}"))
            .await;
        assert_eq!(s, reqwest::StatusCode::OK, "q={q}: {v}");
    }
    let long = "暖气".repeat(400);
    let (s, _) = app
        .get("supervisor", &format!("/api/v1/requests?q={long}"))
        .await;
    assert!(s.is_success() || s.is_client_error(), "long query: {s}");
}

#[tokio::test]
async fn search_finds_chinese_words_on_every_backend() {
    on_every_backend!(search);
}
