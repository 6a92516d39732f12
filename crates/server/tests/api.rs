//! Privacy, authentication, bad input, lists and the API document, through HTTP, on every
//! backend.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn privacy(app: &App) {
    let id = app.intake(json!({})).await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    // A supervisor sees the matter, not the person — and nothing is logged.
    let (s, v) = app
        .get("supervisor", &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["intake"]["caller"]["phone"], "138****5678");
    assert_eq!(v["intake"]["caller"]["name"], "王**");
    assert_eq!(v["caller_masked"], true);
    let (_, ev) = app
        .get("supervisor", &format!("/api/v1/requests/{id}/events"))
        .await;
    assert_eq!(ev[0]["kind"]["intake"]["caller"]["phone"], "138****5678");
    let audit = app
        .store
        .audit_for("request", &id.to_string())
        .await
        .expect("audit");
    assert!(audit.is_empty(), "masked views are not identity views");
    // The handler who must call back sees the number, and the view is logged.
    let (_, v) = app.get("handler", &format!("/api/v1/requests/{id}")).await;
    assert_eq!(v["intake"]["caller"]["phone"], "13812345678");
    assert_eq!(v["caller_masked"], false);
    let (_, v) = app
        .get("operator", &format!("/api/v1/requests/{id}/events"))
        .await;
    assert_eq!(v[0]["kind"]["intake"]["caller"]["name"], "王建国");
    let audit = app
        .store
        .audit_for("request", &id.to_string())
        .await
        .expect("audit");
    let who: Vec<&str> = audit.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(who, ["handler", "operator"]);
    assert!(audit.iter().all(|a| a.action == "view_caller_identity"));
    // The audit API is for supervisors and admins.
    let (s, v) = app
        .get("admin", &format!("/api/v1/audit?target=request:{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    let (s, _) = app
        .get("operator", &format!("/api/v1/audit?target=request:{id}"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Lists never reveal identities, whoever asks.
    let (_, l) = app.get("operator", "/api/v1/requests").await;
    assert_eq!(l["items"][0]["intake"]["caller"]["phone"], "138****5678");
    // Acting returns a masked view too.
    let v = app.act_ok("handler", id, "accept", json!({})).await;
    assert_eq!(v["intake"]["caller"]["phone"], "138****5678");

    // Numbers a caller dictates into the text are masked before storage (the shipped world
    // turns `mask_numbers_in_text` on): nobody, not even the handler, reads them there.
    let id = app
        .intake(json!({
            "title": "回电13987654321",
            "text": "请回电13987654321，身份证110102199001011234，座机010-66012345，楼道堆物两个月了",
        }))
        .await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    for user in ["handler", "operator", "supervisor"] {
        let (_, v) = app.get(user, &format!("/api/v1/requests/{id}")).await;
        let text = v["intake"]["text"].as_str().unwrap_or_default();
        assert_eq!(
            text,
            "请回电139****4321，身份证110102********1234，座机************，楼道堆物两个月了",
            "{user} [{}]",
            app.backend()
        );
        assert_eq!(v["intake"]["title"], "回电139****4321");
    }
    let stored = app.store.get(id).await.expect("get").expect("stored");
    assert!(!stored.intake.text.contains("13987654321"));
}

#[test]
fn numbers_in_text_are_masked_only_when_the_world_says_so() {
    use jiesu_domain::{Channel, Directory, intake::IntakeInput};
    let input: IntakeInput = serde_json::from_value(json!({
        "request_type": "complaint",
        "text": "请回电13987654321",
    }))
    .expect("input");
    let now = T0.parse().expect("T0");
    let mut w = world();
    assert!(w.district.mask_numbers_in_text, "the shipped world masks");
    let masked = jiesu_server::api::requests::validate_intake(
        &input,
        Channel::Hotline,
        &Directory::new(w.clone()),
        now,
    )
    .expect("valid");
    assert_eq!(masked.text, "请回电139****4321");
    w.district.mask_numbers_in_text = false;
    let kept = jiesu_server::api::requests::validate_intake(
        &input,
        Channel::Hotline,
        &Directory::new(w),
        now,
    )
    .expect("valid");
    assert_eq!(kept.text, "请回电13987654321");
}

#[tokio::test]
async fn caller_identity_is_masked_and_every_view_logged() {
    on_every_backend!(privacy);
}

async fn auth(app: &App) {
    let (s, v) = app.call("GET", None, "/api/v1/requests", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (s, _) = app
        .call(
            "GET",
            Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            "/api/v1/requests",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .call("GET", Some("garbage"), "/api/v1/requests", None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = app.get("handler", "/api/v1/auth/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["role"], "handler");
    assert!(v.get("password_hash").is_none());
    // Wrong password, then the lock-out after five failures (even with the right password).
    for _ in 0..5 {
        let (s, v) = app
            .call(
                "POST",
                None,
                "/api/v1/auth/login",
                Some(json!({"username": "callback", "password": "wrong"})),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
    }
    let (s, v) = app
        .call(
            "POST",
            None,
            "/api/v1/auth/login",
            Some(json!({"username": "callback", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    // Unknown users fail the same way.
    let (s, _) = app
        .call(
            "POST",
            None,
            "/api/v1/auth/login",
            Some(json!({"username": "nobody", "password": PASSWORD})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Logout revokes the session server-side.
    let (s, _) = app
        .call("POST", Some("supervisor"), "/api/v1/auth/logout", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.get("supervisor", "/api/v1/requests").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Sessions expire (60 days in this harness, a 12-hour shift by default).
    app.advance_to("2027-01-01T09:00:01+08:00");
    let (s, _) = app.get("operator", "/api/v1/auth/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_rate_limit_logout_and_expiry() {
    on_every_backend!(auth);
}

async fn count(app: &App) -> usize {
    app.store
        .count_by_status()
        .await
        .expect("count")
        .iter()
        .map(|(_, n)| *n as usize)
        .sum()
}

async fn raw_post(
    app: &App,
    user: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(app.tokens[user].clone())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send");
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

async fn bad_input(app: &App) {
    let base = json!({"request_type": "complaint", "text": "楼下饭店油烟很大"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases: Vec<(Value, StatusCode, &str, Option<&str>)> = vec![
        (
            with("request_type", json!(5)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("request_type"),
        ),
        (
            with("request_type", json!("gossip")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_value",
            Some("request_type"),
        ),
        (
            with("category", json!("no.such")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_category",
            Some("category"),
        ),
        (
            with("category", json!("heating")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_leaf",
            Some("category"),
        ),
        (
            with("street", json!("999")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_street",
            Some("street"),
        ),
        (
            with("community", json!("110102099999")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_community",
            Some("community"),
        ),
        (
            json!({"request_type": "complaint", "text": "x", "street": STREET, "community": "110102013001"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_street",
            Some("community"),
        ),
        (
            with("caller_phone", json!("12345")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
            Some("caller_phone"),
        ),
        (
            with("caller_phone", json!("138-1234-567a")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
            Some("caller_phone"),
        ),
        (
            with("received_at", json!("2030-01-01T00:00:00+08:00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "in_future",
            Some("received_at"),
        ),
        (
            with("received_at", json!("yesterday")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            None,
        ),
        (
            with("text", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            Some("text"),
        ),
        (
            with("text", json!("a\u{0007}b")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "control_characters",
            Some("text"),
        ),
        (
            with("text", json!("长".repeat(10_001))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_long",
            Some("text"),
        ),
        (
            with("dispatch_to", json!("nowhere")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_unit",
            Some("unit"),
        ),
        (
            with("favourite_colour", json!("red")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("favourite_colour"),
        ),
        (
            json!({"text": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("request_type"),
        ),
        (
            json!([1, 2]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let (s, v) = app.post("operator", "/api/v1/requests", body.clone()).await;
        assert_eq!(s, status, "[{}] {body}: {v}", app.backend());
        assert_eq!(v["code"], code, "[{}] {body}: {v}", app.backend());
        if let Some(f) = field {
            assert_eq!(v["field"], f, "[{}] {body}: {v}", app.backend());
        }
    }
    let (s, v) = raw_post(
        app,
        "operator",
        "/api/v1/requests",
        "application/json",
        b"{\"text\": ".to_vec(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, _) = raw_post(
        app,
        "operator",
        "/api/v1/requests",
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!(
        "{{\"request_type\":\"complaint\",\"text\":\"{}\"}}",
        "x".repeat(200_000)
    );
    let (s, v) = raw_post(
        app,
        "operator",
        "/api/v1/requests",
        "application/json",
        huge.into_bytes(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    let (s, v) = raw_post(
        app,
        "dispatcher",
        "/api/v1/requests/1/escalate",
        "application/json",
        b"{nope".to_vec(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    assert_eq!(count(app).await, 0, "no bad input stored anything");

    // Idempotency: the same submission twice is stored once.
    let body =
        json!({"request_type": "complaint", "text": "路灯不亮", "idempotency_key": "call-7781"});
    let (s1, v1) = app.post("operator", "/api/v1/requests", body.clone()).await;
    let (s2, v2) = app.post("operator", "/api/v1/requests", body).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(v1["id"], v2["id"]);
    assert_eq!(v2["replayed"], true);
    let (s, v) = app
        .post("operator", "/api/v1/requests", json!({"request_type": "complaint", "text": "另一件事", "idempotency_key": "call-7781"}))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_key"))
    );
    // The header works too.
    let resp = app
        .client
        .post(format!("{}/api/v1/requests", app.base))
        .bearer_auth(app.tokens["operator"].clone())
        .header("idempotency-key", "call-7781")
        .json(&json!({"request_type": "complaint", "text": "路灯不亮"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(count(app).await, 1);

    // Bad list filters name the parameter.
    for (q, field) in [
        ("status=flying", "status"),
        ("received_from=last-week", "received_from"),
        ("limit=0", "limit"),
        ("cursor=zz", "cursor"),
        ("category=nope", "category"),
        ("overdue=maybe", "overdue"),
    ] {
        let (s, v) = app
            .get("supervisor", &format!("/api/v1/requests?{q}"))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["field"], field, "{q}: {v}");
    }
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_and_stores_nothing() {
    on_every_backend!(bad_input);
}

async fn lists(app: &App) {
    let mut ids = Vec::new();
    for i in 0..5 {
        app.advance_to(&format!("2026-11-02T09:0{i}:00+08:00"));
        ids.push(
            app.intake(json!({"text": format!("第{i}号诉求：路灯不亮")}))
                .await,
        );
    }
    app.act_ok("dispatcher", ids[0], "dispatch", json!({"unit": STREET}))
        .await;
    app.act_ok(
        "dispatcher",
        ids[1],
        "dispatch",
        json!({"unit": "housing-admin"}),
    )
    .await;
    let other = app
        .intake(json!({"street": "110102013", "community": null, "text": "大栅栏西街噪音扰民", "category": "noise.neighborhood"}))
        .await;
    // Cursor pagination walks every request once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/requests?limit=2&cursor={c}"),
            None => "/api/v1/requests?limit=2".to_string(),
        };
        let (s, v) = app.get("supervisor", &q).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        for it in v["items"].as_array().expect("items") {
            seen.push(it["id"].as_i64().expect("id"));
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.push(other);
    expected.reverse();
    assert_eq!(seen, expected);
    let ids_of = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["id"].as_i64()).collect())
            .unwrap_or_default()
    };
    let (_, v) = app
        .get("supervisor", "/api/v1/requests?status=dispatched")
        .await;
    assert_eq!(ids_of(&v), [ids[1], ids[0]]);
    let (_, v) = app
        .get(
            "supervisor",
            "/api/v1/requests?status=received,dispatched&unit=housing-admin",
        )
        .await;
    assert_eq!(ids_of(&v), [ids[1]]);
    let (_, v) = app
        .get("supervisor", "/api/v1/requests?street=110102013")
        .await;
    assert_eq!(ids_of(&v), [other]);
    let (_, v) = app
        .get("supervisor", "/api/v1/requests?category=noise")
        .await;
    assert_eq!(ids_of(&v), [other], "a parent category includes its leaves");
    let (_, v) = app
        .get(
            "supervisor",
            &format!("/api/v1/requests?community={COMMUNITY}&type=complaint&channel=hotline"),
        )
        .await;
    assert_eq!(ids_of(&v).len(), 5);
    let (_, v) = app.get("supervisor", "/api/v1/requests?q=第3号").await;
    assert_eq!(ids_of(&v), [ids[3]]);
    let (_, v) = app.get("supervisor", "/api/v1/requests?q=100%25").await;
    assert!(ids_of(&v).is_empty(), "LIKE wildcards are literal");
    let (_, v) = app
        .get("supervisor", "/api/v1/requests?received_from=2026-11-02T09:01:00%2B08:00&received_to=2026-11-02T09:03:00%2B08:00")
        .await;
    assert_eq!(ids_of(&v), [ids[2], ids[1]]);
    // A handler's list is its unit's queue only.
    let (_, v) = app.get("handler", "/api/v1/requests").await;
    assert_eq!(ids_of(&v), [ids[0]]);
    let (_, v) = app
        .get("handler-housing", "/api/v1/requests?status=open")
        .await;
    assert_eq!(ids_of(&v), [ids[1]]);
}

#[tokio::test]
async fn list_filters_and_cursor_pagination() {
    on_every_backend!(lists);
}

async fn reference_and_docs(app: &App) {
    let (s, v) = app.call("GET", None, "/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["backend"], app.backend());
    let (_, v) = app.get("operator", "/api/v1/regions").await;
    assert_eq!(v["streets"].as_array().map(Vec::len), Some(15));
    let communities: usize = v["streets"]
        .as_array()
        .expect("streets")
        .iter()
        .map(|s| s["communities"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(communities, 263);
    let (_, v) = app.get("operator", "/api/v1/units").await;
    assert!(v["units"].as_array().is_some_and(|u| u.len() >= 40));
    let (_, v) = app.get("operator", "/api/v1/categories").await;
    let leaves = v["categories"]
        .as_array()
        .expect("cats")
        .iter()
        .filter(|c| c["leaf"] == true)
        .count();
    assert!(leaves >= 40);
    // The OpenAPI document lists every action endpoint.
    let (s, doc) = app.call("GET", None, "/api/v1/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for action in [
        "dispatch",
        "accept",
        "contact",
        "reply",
        "return",
        "extend",
        "decide-extension",
        "escalate",
        "callback",
        "reopen",
        "merge",
        "whistle",
        "report",
        "suspend",
        "close",
    ] {
        assert!(
            doc["paths"][format!("/api/v1/requests/{{id}}/{action}")]["post"].is_object(),
            "{action} undocumented"
        );
    }
    for p in [
        "/api/v1/requests",
        "/api/v1/requests/{id}",
        "/api/v1/requests/{id}/events",
        "/api/v1/auth/login",
        "/healthz",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} undocumented");
    }
    // Accounts: the admin creates a handler; validation names the field.
    let (s, v) = app
        .post("admin", "/api/v1/users", json!({"username": "wang.li", "password": "Long-enough-pw1", "role": "handler", "unit": "water"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .post("admin", "/api/v1/users", json!({"username": "wang.li", "password": "Long-enough-pw1", "role": "handler", "unit": "water"}))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::CONFLICT, Some("username"))
    );
    let (s, v) = app
        .post(
            "admin",
            "/api/v1/users",
            json!({"username": "x", "password": "short", "role": "handler", "unit": "water"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let (s, v) = app
        .post(
            "admin",
            "/api/v1/users",
            json!({"username": "y", "password": "Long-enough-pw1", "role": "handler"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unit"))
    );
    let (s, _) = app
        .post(
            "operator",
            "/api/v1/users",
            json!({"username": "z", "password": "Long-enough-pw1", "role": "admin"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn health_reference_data_openapi_and_accounts() {
    on_every_backend!(reference_and_docs);
}
