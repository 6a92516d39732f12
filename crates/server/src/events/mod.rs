//! Events out: every lifecycle event is published to webhook subscribers from a transactional
//! outbox (see `jiesu_store`'s `outbox.rs`), signed with HMAC-SHA256, retried with exponential
//! backoff, and dead-lettered after the last attempt where admins can see and retry it.

pub mod api;
pub mod sign;
pub mod worker;

pub use worker::{DeliveryConfig, spawn_delivery_worker};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// `/webhooks…` under `/api/v1` (admin only).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(api::list).post(api::create))
        .route("/webhooks/{id}/disable", post(api::disable))
        .route("/webhooks/dead-letters", get(api::dead_letters))
        .route("/webhooks/dead-letters/retry", post(api::retry_all))
        .route("/webhooks/dead-letters/{id}/retry", post(api::retry_one))
}

/// OpenAPI path items of the webhook admin API and the export (merged into the document).
pub fn openapi_paths() -> Vec<(String, serde_json::Value)> {
    use serde_json::json;
    let err = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let errors = |codes: &[(&str, &str)]| {
        let mut m = serde_json::Map::new();
        for (code, what) in codes {
            m.insert(
                code.to_string(),
                json!({"description": what, "content": err["content"]}),
            );
        }
        m
    };
    let op = |summary: &str,
              ok: u16,
              body: Option<serde_json::Value>,
              schema: serde_json::Value,
              params: serde_json::Value| {
        let mut responses = errors(&[
            ("400", "malformed query or body"),
            ("401", "not logged in"),
            ("403", "admins only"),
            ("404", "no such webhook or dead letter"),
            ("422", "a field is invalid (`field` names it)"),
        ]);
        responses.insert(
            ok.to_string(),
            json!({"description": "OK", "content": {"application/json": {"schema": schema}}}),
        );
        let mut o = json!({"summary": summary, "security": [{"bearer": []}], "responses": responses, "parameters": params});
        if let Some(b) = body {
            o["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": b}}});
        }
        o
    };
    let webhook = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "url": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}, "created_by": {"type": "string"},
        "disabled_at": {"type": ["string", "null"]}, "pending": {"type": "integer"},
        "delivered": {"type": "integer"}, "dead": {"type": "integer"}}});
    let dead = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "webhook_id": {"type": "integer"}, "event_id": {"type": "integer"},
        "request_id": {"type": "integer", "description": "a request event's; absent for a case event"},
        "case_kind": {"type": "string", "description": "a case event's kind; absent for a request event"},
        "case_id": {"type": "integer"}, "event_type": {"type": "string"}, "attempts": {"type": "integer"},
        "last_error": {"type": ["string", "null"]}, "created_at": {"type": "string"}, "failed_at": {"type": ["string", "null"]}}});
    let q = |name: &str, schema: serde_json::Value, d: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": d});
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    let retried = json!({"type": "object", "properties": {"retried": {"type": "integer"}}});
    let mut created = webhook.clone();
    created["properties"]["secret"] = json!({"type": "string", "description": "signs deliveries (X-Jiesu-Signature: t=…,v1=HMAC-SHA256(secret, t + \".\" + body)); shown only in this answer"});
    let list_filters: Vec<serde_json::Value> = [
        (
            "status",
            "one or several comma-separated statuses; `open` for every unfinished one",
        ),
        ("unit", "lead unit code"),
        ("street", "street code"),
        ("community", "community code"),
        ("category", "category code (a parent includes its leaves)"),
        ("type", "request type code"),
        ("channel", "channel code"),
        ("overdue", "true / false"),
        ("sla", "warning or overdue"),
        ("received_from", "RFC 3339, inclusive"),
        ("received_to", "RFC 3339, exclusive"),
        ("q", "text search"),
    ]
    .iter()
    .map(|(n, d)| {
        let schema = if *n == "q" {
            json!({"type": "string", "maxLength": jiesu_app::requests::MAX_QUERY_CHARS})
        } else {
            json!({"type": "string"})
        };
        q(n, schema, d)
    })
    .chain([q(
        "format",
        json!({"enum": ["csv", "xlsx"], "default": "csv"}),
        "file format",
    )])
    .collect();
    let mut export = json!({
        "summary": "every request matching the list filters as CSV (UTF-8 with BOM, streamed) or XLSX (sheet 工单); identities masked, a handler gets its unit's requests; audited",
        "security": [{"bearer": []}],
        "parameters": list_filters,
        "responses": errors(&[("400", "bad filter (`field` names it); `cursor` and `limit` do not apply"), ("401", "not logged in")]),
    });
    export["responses"]["200"] = json!({"description": "the file", "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}});
    vec![
        ("/api/v1/requests/export".into(), json!({"get": export})),
        (
            "/api/v1/webhooks".into(),
            json!({
                "get": op("webhook subscribers with delivery counts (admin; never the secrets)", 200, None, json!({"type": "array", "items": webhook}), json!([])),
                "post": op("add a webhook subscriber (admin): every lifecycle event from now on is POSTed to `url` (http), signed; the secret is in this answer only", 201,
                    Some(json!({"type": "object", "required": ["name", "url"], "properties": {"name": {"type": "string", "maxLength": 100}, "url": {"type": "string", "format": "uri"}}})),
                    created, json!([])),
            }),
        ),
        (
            "/api/v1/webhooks/{id}/disable".into(),
            json!({"post": op("stop deliveries to a webhook (admin)", 200, None, webhook.clone(), id.clone())}),
        ),
        (
            "/api/v1/webhooks/dead-letters".into(),
            json!({"get": op("deliveries that used up their attempts, newest first (admin)", 200, None, json!({"type": "array", "items": dead}),
            json!([q("webhook_id", json!({"type": "integer"}), "only this webhook's"), q("before", json!({"type": "integer"}), "paging: ids below this"), q("limit", json!({"type": "integer", "minimum": 1, "maximum": 500}), "default 100")]))}),
        ),
        (
            "/api/v1/webhooks/dead-letters/retry".into(),
            json!({"post": op("re-queue all dead letters, or one webhook's (admin)", 200, None, retried.clone(),
            json!([q("webhook_id", json!({"type": "integer"}), "only this webhook's")]))}),
        ),
        (
            "/api/v1/webhooks/dead-letters/{id}/retry".into(),
            json!({"post": op("re-queue one dead letter with fresh attempts (admin)", 200, None, retried, id)}),
        ),
    ]
}
