//! The OpenAPI 3.1 document for `/api/v1`, written out here so it is reviewed with the code; a
//! test checks that every route is documented.

use axum::Json;
use serde_json::{Value, json};

fn err_responses() -> Value {
    let e = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "400": {"description": "malformed request", "content": e["content"]},
        "401": {"description": "not logged in", "content": e["content"]},
        "403": {"description": "role may not do this", "content": e["content"]},
        "404": {"description": "no such request (or not visible to you)", "content": e["content"]},
        "409": {"description": "not allowed in the current state", "content": e["content"]},
        "422": {"description": "a field is invalid", "content": e["content"]},
    })
}

fn op(summary: &str, body: Option<Value>, ok: Value) -> Value {
    let mut o = json!({
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": err_responses(),
    });
    o["responses"]["200"] =
        json!({"description": "OK", "content": {"application/json": {"schema": ok}}});
    if let Some(b) = body {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": b}}});
    }
    o
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Action names and the fields each takes.
pub fn action_schemas() -> Vec<(&'static str, Value)> {
    let s = |props: Value, req: &[&str]| json!({"type": "object", "properties": props, "required": req});
    vec![
        (
            "dispatch",
            s(
                json!({"unit": {"type": "string"}, "reason": {"type": "string"}}),
                &["unit"],
            ),
        ),
        ("accept", s(json!({}), &[])),
        (
            "contact",
            s(
                json!({"method": {"enum": ["phone", "visit", "sms", "other"]}, "reached": {"type": "boolean"}, "note": {"type": "string"}}),
                &["method", "reached"],
            ),
        ),
        ("reply", s(json!({"text": {"type": "string"}}), &["text"])),
        (
            "return",
            s(json!({"reason": {"type": "string"}}), &["reason"]),
        ),
        (
            "extend",
            s(
                json!({"working_days": {"type": "integer", "minimum": 1}, "reason": {"type": "string"}}),
                &["working_days", "reason"],
            ),
        ),
        (
            "decide-extension",
            s(
                json!({"approve": {"type": "boolean"}, "reason": {"type": "string"}}),
                &["approve"],
            ),
        ),
        (
            "escalate",
            s(json!({"reason": {"type": "string"}}), &["reason"]),
        ),
        (
            "callback",
            s(
                json!({"reached": {"type": "boolean"}, "resolved": {"type": "boolean"}, "satisfaction": {"enum": ["satisfied", "basically_satisfied", "unsatisfied"]}, "note": {"type": "string"}}),
                &["reached"],
            ),
        ),
        (
            "reopen",
            s(json!({"reason": {"type": "string"}}), &["reason"]),
        ),
        (
            "merge",
            s(json!({"master_id": {"type": "integer"}}), &["master_id"]),
        ),
        (
            "whistle",
            s(
                json!({"units": {"type": "array", "items": {"type": "string"}}, "reason": {"type": "string"}}),
                &["units", "reason"],
            ),
        ),
        ("report", s(json!({"note": {"type": "string"}}), &[])),
        (
            "suspend",
            s(json!({"reason": {"type": "string"}}), &["reason"]),
        ),
        (
            "close",
            s(
                json!({"special": {"type": "string"}, "answer": {"type": "string"}, "reason": {"type": "string"}}),
                &[],
            ),
        ),
    ]
}

fn list_params() -> Vec<Value> {
    [
        "status",
        "unit",
        "street",
        "community",
        "category",
        "type",
        "channel",
        "overdue",
        "received_from",
        "received_to",
        "q",
        "phone",
        "code",
        "sla",
        "cursor",
        "limit",
    ]
    .iter()
    .map(|p| {
        let schema = match *p {
            "q" => json!({"type": "string", "maxLength": jiesu_app::requests::MAX_QUERY_CHARS}),
            "sla" => json!({"enum": ["warning", "overdue"]}),
            // Matched through the blind index (phones are sealed at rest); 403 for roles
            // that do not see callers.
            "phone" => json!({"type": "string", "maxLength": 32,
                "description": "the caller's phone, exact however written (roles that see callers; audited)"}),
            "code" => json!({"type": "string", "pattern": "^\\s*[Xx][Cc][0-9]{6}[2-9A-HJKMNP-Za-hjkmnp-z]{6}\\s*$",
                "description": "a 受理编号 (tracking code), exactly; `q` holding one means the same"}),
            _ => json!({"type": "string"}),
        };
        json!({"name": p, "in": "query", "required": false, "schema": schema})
    })
    .collect()
}

pub fn spec() -> Value {
    let mut paths = json!({
        "/healthz": {"get": {"summary": "liveness and database check", "responses": {"200": {"description": "OK"}, "503": {"description": "database unavailable"}}}},
        "/api/v1/auth/login": {"post": {"summary": "log in: username + password → bearer token", "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}}, "responses": {"200": {"description": "token"}, "401": {"description": "wrong username or password"}, "429": {"description": "too many failed attempts"}}}},
        "/api/v1/auth/logout": {"post": op("revoke the current session", None, json!({}))},
        "/api/v1/auth/me": {"get": op("the logged-in user", None, r("User"))},
        "/api/v1/requests": {
            "post": op("受理: record a request (optionally dispatch_to, answer or special_handling in the same action)", Some(r("NewRequest")), r("Request")),
            "get": {
                "summary": "list requests, newest first, with cursor pagination",
                "security": [{"bearer": []}],
                "parameters": list_params(),
                "responses": {"200": {"description": "a page", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": r("Request")}, "next_cursor": {"type": ["string", "null"]}}}}}}, "400": {"description": "bad filter"}},
            },
        },
        "/api/v1/requests/{id}": {"get": op("one request (caller identity shown to roles that need it; the view is audited)", None, r("Request"))},
        "/api/v1/requests/{id}/events": {"get": op("the request's event log", None, json!({"type": "array", "items": r("Event")}))},
        "/api/v1/regions": {"get": op("district, streets and communities", None, json!({"type": "object"}))},
        "/api/v1/units": {"get": op("units that handle requests", None, json!({"type": "object"}))},
        "/api/v1/categories": {"get": op("the category tree and SLA classes", None, json!({"type": "object"}))},
        "/api/v1/users": {"get": op("accounts (admin)", None, json!({"type": "array", "items": r("User")})), "post": op("create an account (admin)", Some(json!({"type": "object", "required": ["username", "password", "role"], "properties": {"username": {"type": "string"}, "display_name": {"type": "string"}, "password": {"type": "string", "minLength": 10}, "role": {"type": "string"}, "unit": {"type": "string"}}})), r("User"))},
        "/api/v1/audit": {"get": op("audit entries for a target such as request:123 (admin, supervisor)", None, json!({"type": "array"}))},
        "/api/v1/sla/sweep": {"post": op("run the SLA sweep now", None, json!({"type": "object"}))},
        "/api/v1/openapi.json": {"get": {"summary": "this document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        "/api/v1/requests/suggest": {"post": op("dry run of intake: suggested type, category, unit, street, community, emergency flag and possible duplicates, with confidences and their source (model or rules)", Some(r("NewRequest")), json!({"type": "object"}))},
        "/api/v1/assessment": {"get": {
            "summary": "考评: 响应率, 解决率, 满意率 and the composite per unit, street, category or channel for a period, as of any instant (docs/assessment.md)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "period", "in": "query", "required": true, "schema": {"type": "string"}, "description": "2026-10, 2026-W43, 2026-Q4, 2026 or 2026-10-05"},
                {"name": "by", "in": "query", "required": false, "schema": {"enum": ["unit", "street", "category", "top_category", "channel"]}},
                {"name": "as_of", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}},
                {"name": "bottom", "in": "query", "required": false, "schema": {"type": "integer"}},
            ],
            "responses": {"200": {"description": "groups with counts, rates, composite, rank and bottom flags"}, "400": {"description": "bad parameter (field named)"}, "403": {"description": "role may not see assessments"}},
        }},
        "/api/v1/suggestions/accuracy": {"get": {
            "summary": "how often intake suggestions (type, category, unit) matched where the requests ended up, overall, when confident, within the top choices and by source (supervisor, dispatcher, admin)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "period", "in": "query", "required": true, "schema": {"type": "string"}, "description": "2026-11, 2026-W47, 2026-Q4, 2026 or 2026-11-05"},
            ],
            "responses": {"200": {"description": "counts and rates per field"}, "400": {"description": "bad period (field named)"}, "403": {"description": "role may not see it"}},
        }},
        "/api/v1/models/reload": {"post": op("load the newest trained models now (admin)", None, json!({"type": "object"}))},
        "/api/v1/open311/keys": {"get": op("Open311 client keys (admin; the keys themselves are never shown again)", None, json!({"type": "array"})), "post": op("issue a key for an Open311 client (admin); the key is in this answer only", Some(json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}})), json!({"type": "object"}))},
        "/api/v1/open311/keys/{id}/revoke": {"post": op("revoke an Open311 client key (admin)", None, json!({"type": "object"}))},
    });
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}]);
    for p in ["/api/v1/requests/{id}", "/api/v1/requests/{id}/events"] {
        paths[p]["get"]["parameters"] = id.clone();
    }
    paths["/api/v1/open311/keys/{id}/revoke"]["post"]["parameters"] = id.clone();
    paths["/api/v1/audit"]["get"]["parameters"] = json!([{"name": "target", "in": "query", "required": true,
        "schema": {"type": "string", "pattern": "^[a-z_]+:.+$"}, "description": "TYPE:ID such as request:123 or user:7"}]);
    // Creation answers 201 (an idempotent replay of an intake answers 200).
    for (p, m) in [
        ("/api/v1/users", "post"),
        ("/api/v1/open311/keys", "post"),
        ("/api/v1/requests", "post"),
    ] {
        let ok = paths[p][m]["responses"]["200"].clone();
        paths[p][m]["responses"]["201"] =
            json!({"description": "created", "content": ok["content"]});
        if p == "/api/v1/requests" {
            paths[p][m]["responses"]["200"]["description"] =
                json!("the same idempotency_key again: the request it created");
        } else if let Some(r) = paths[p][m]["responses"].as_object_mut() {
            r.remove("200");
        }
    }
    paths["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
        ["role"] = json!({"enum": ["operator", "dispatcher", "handler", "callback", "supervisor", "admin", "care_admin", "care_manager", "provider", "health_admin", "nursery"]});
    let password = json!({"type": "string", "minLength": 8, "maxLength": 1024, "description": "the district's policy ([passwords] in district.toml): by default ≥ 10 characters of 3 kinds, not containing the username, not well-known"});
    paths["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
        ["password"] = password.clone();
    let user_op = |summary: &str, body: Option<Value>, ok: Value| {
        let mut o = op(summary, body, ok);
        o["parameters"] = id.clone();
        json!({"post": o})
    };
    paths["/api/v1/users/{id}/disable"] = user_op(
        "disable an account (admin, not its own): no login; its sessions end now",
        None,
        r("User"),
    );
    paths["/api/v1/users/{id}/enable"] =
        user_op("enable an account again (admin)", None, r("User"));
    paths["/api/v1/users/{id}/password"] = user_op(
        "reset an account's password (admin, not its own): the holder must change it at the next login; its sessions end",
        Some(
            json!({"type": "object", "required": ["password"], "properties": {"password": password.clone()}}),
        ),
        r("User"),
    );
    paths["/api/v1/users/{id}/sessions/revoke"] = user_op(
        "end every live session of an account (admin)",
        None,
        json!({"type": "object", "properties": {"revoked": {"type": "integer"}}}),
    );
    let mut change = op(
        "change your own password: the current one, and a new one under the policy; your other sessions end",
        Some(
            json!({"type": "object", "required": ["current_password", "password"], "properties": {"current_password": {"type": "string"}, "password": password}}),
        ),
        json!({}),
    );
    if let Some(r) = change["responses"].as_object_mut() {
        r.remove("200");
    }
    change["responses"]["204"] = json!({"description": "changed"});
    paths["/api/v1/auth/password"] = json!({"post": change});
    paths["/api/v1/audit/verify"] = json!({"get": op("recompute the audit log's hash chain (admin, supervisor): rows, the head to keep elsewhere, the first broken link", None,
        json!({"type": "object", "properties": {"rows": {"type": "integer"}, "head_seq": {"type": ["integer", "null"]}, "head_hash": {"type": ["string", "null"]}, "broken": {"type": ["object", "null"]}}}))});
    paths["/api/v1/auth/login"]["post"]["responses"]["200"]["content"] = json!({"application/json": {"schema": {"type": "object", "properties": {
        "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}, "user": r("User"), "must_change_password": {"type": "boolean"}}}}});
    for (path, item) in crate::api::analytics::openapi_paths() {
        paths[path] = item;
    }
    for (path, item) in crate::events::openapi_paths() {
        paths[path] = item;
    }
    for (path, item) in crate::api::knowledge::openapi_paths() {
        paths[path] = item;
    }
    for (path, item) in crate::api::care::openapi_paths() {
        paths[path.as_str()] = item;
    }
    for (path, item) in crate::api::alarms::openapi_paths() {
        paths[path.as_str()] = item;
    }
    for (path, item) in crate::api::childcare::openapi_paths() {
        paths[path.as_str()] = item;
    }
    for (action, schema) in action_schemas() {
        let mut o = op(
            &format!("action `{action}` on a request"),
            Some(schema),
            r("Request"),
        );
        o["parameters"] =
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        paths[format!("/api/v1/requests/{{id}}/{action}")] = json!({"post": o});
    }
    complete_error_responses(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "jiesu 接诉即办 API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}},
                "User": {"type": "object", "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"}, "role": {"enum": ["operator", "dispatcher", "handler", "callback", "supervisor", "admin", "care_admin", "care_manager", "provider", "health_admin", "nursery"]}, "unit_code": {"type": ["string", "null"]}, "disabled": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}, "must_change_password": {"type": "boolean"}, "password_changed_at": {"type": "string", "format": "date-time"}}},
                "NewRequest": {"type": "object", "required": ["request_type", "text"], "properties": {
                    "request_type": {"enum": ["consultation", "help_request", "complaint", "report", "suggestion", "praise"]},
                    "channel": {"enum": ["hotline", "web", "app", "open311", "device", "enterprise", "import"]},
                    "category": {"type": "string"}, "street": {"type": "string"}, "community": {"type": "string"},
                    "address": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string", "maxLength": 10000},
                    "caller_name": {"type": "string"}, "caller_phone": {"type": "string"}, "urgent": {"type": "boolean"},
                    "received_at": {"type": "string", "format": "date-time"}, "dispatch_to": {"type": "string"},
                    "answer": {"type": "string"}, "special_handling": {"type": "string"}, "idempotency_key": {"type": "string"}}},
                "Request": {"type": "object", "properties": {"id": {"type": "integer"}, "tracking_code": {"type": "string"}, "status": {"type": "string"}, "status_label": {"type": "string"}, "lead_unit": {"type": ["string", "null"]}, "response_due": {"type": ["string", "null"]}, "completion_due": {"type": ["string", "null"]}, "sla_state": {"type": "string"}, "caller_masked": {"type": "boolean"}}},
                "Event": {"type": "object", "properties": {"seq": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "object"}, "reason": {"type": ["string", "null"]}, "kind": {"type": "object"}, "label": {"type": "string"}}},
            },
        },
    })
}

/// A period: a year, a quarter, an ISO week, a month or a day.
const PERIOD_PATTERN: &str = r"^[0-9]{4}(-Q[1-4]|-W[0-9]{2}|-[0-9]{2}(-[0-9]{2})?)?$";

/// Every answer an operation can give is in the document (schemathesis checks each status):
/// an operation behind a login can answer 401 and 403, one with a JSON body can answer 400
/// (not JSON), 415 (no JSON content type) and 422 (a field of the wrong type). Periods carry
/// their grammar.
fn complete_error_responses(paths: &mut Value) {
    let e = err_responses();
    let Some(paths) = paths.as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for o in item.values_mut() {
            let mut add: Vec<&str> = Vec::new();
            if o.get("security").is_some() {
                add.extend(["401", "403"]);
            }
            if o.get("requestBody").is_some() {
                add.extend(["400", "413", "415", "422"]);
            }
            // Periods have one grammar wherever they are asked for (jiesu_domain::assessment).
            if let Some(params) = o.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params.iter_mut().filter(|p| p["name"] == "period") {
                    p["schema"]["pattern"] = json!(PERIOD_PATTERN);
                }
            }
            let Some(responses) = o.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for code in add {
                if !responses.contains_key(code) {
                    let doc = if code == "415" {
                        json!({"description": "the body is not sent as application/json", "content": e["400"]["content"]})
                    } else if code == "413" {
                        // The body limit (64 KiB) answers before any handler runs.
                        json!({"description": "the body is larger than the limit (body_too_large)", "content": e["400"]["content"]})
                    } else {
                        e[code].clone()
                    };
                    responses.insert(code.to_string(), doc);
                }
            }
        }
    }
}

/// One operation of a JSON API: its summary, parameters, body schema, success status and
/// schema; `public` drops the bearer requirement. The usual 4xx are documented with it.
pub(crate) fn case_op(
    summary: &str,
    params: Value,
    body: Option<Value>,
    status: &str,
    ok: Value,
    public: bool,
) -> Value {
    let mut o = json!({"summary": summary, "parameters": params, "responses": {}});
    if !public {
        o["security"] = json!([{"bearer": []}]);
    }
    let e = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    for (c, d) in [
        ("400", "malformed request"),
        ("404", "no such record (or not visible to you)"),
        ("409", "not allowed in the current state, or a duplicate"),
        ("422", "a field is invalid (named)"),
    ] {
        o["responses"][c] = json!({"description": d, "content": e["content"]});
    }
    o["responses"][status] =
        json!({"description": "OK", "content": {"application/json": {"schema": ok}}});
    if let Some(b) = body {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": b}}});
    }
    o
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
