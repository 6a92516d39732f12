//! Events out through HTTP, on every backend: outbox rows written with the events, webhooks
//! managed by admins (secret shown once, audited), signed deliveries with masked identities,
//! retries into the dead-letter list and back out, disabled webhooks left alone, and two
//! workers claiming the same queue without sharing a delivery.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use common::*;
use jiesu_server::events::DeliveryConfig;
use jiesu_server::events::sign::verify;
use jiesu_server::events::worker::round;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver inside the test: records every delivery; answers 500 while `failing`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    failing: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    if state.failing.load(Ordering::SeqCst) {
                        return AxStatus::INTERNAL_SERVER_ERROR;
                    }
                    state.got.lock().expect("lock").push((headers, body));
                    AxStatus::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (r, format!("http://{addr}/hook"))
    }

    fn deliveries(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().expect("lock").clone()
    }
}

fn fast() -> DeliveryConfig {
    DeliveryConfig {
        max_attempts: 3,
        base_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        lease: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        ..DeliveryConfig::default()
    }
}

/// Runs worker rounds until there is nothing left to do.
async fn drain(app: &App, cfg: &DeliveryConfig) {
    let client = reqwest::Client::new();
    for _ in 0..50 {
        if !round(&app.store, &client, cfg).await {
            return;
        }
    }
    panic!("the worker never went idle");
}

async fn create_webhook(app: &App, url: &str) -> (i64, String) {
    let (s, v) = app
        .post(
            "admin",
            "/api/v1/webhooks",
            json!({"name": "城市运行中心", "url": url}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{}] {v}", app.backend());
    let secret = v["secret"].as_str().expect("secret shown once").to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    (v["id"].as_i64().expect("id"), secret)
}

async fn outbox_written_in_the_events_transaction(app: &App) {
    let before = app.store.outbox_stats().await.expect("stats").outbox;
    // Group-commit intake (received + dispatched), then one action (accepted).
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    let after_intake = app.store.outbox_stats().await.expect("stats").outbox;
    assert_eq!(after_intake - before, 2, "[{}]", app.backend());
    app.act_ok("handler", id, "accept", json!({})).await;
    let after_accept = app.store.outbox_stats().await.expect("stats").outbox;
    assert_eq!(after_accept - before, 3, "[{}]", app.backend());
    // A refused action writes neither events nor outbox rows.
    app.act_refused(
        "handler",
        id,
        "accept",
        json!({}),
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    assert_eq!(
        app.store.outbox_stats().await.expect("stats").outbox,
        after_accept
    );
    // With no webhook, fan-out consumes the rows: subscribers get events from their creation.
    drain(app, &fast()).await;
    let s = app.store.outbox_stats().await.expect("stats");
    assert_eq!((s.outbox, s.pending), (0, 0), "[{}]", app.backend());
}

async fn signed_masked_deliveries_with_event_ids(app: &App) {
    let (rx, url) = Receiver::start().await;
    let (hook, secret) = create_webhook(app, &url).await;
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    app.act_ok("handler", id, "accept", json!({})).await;
    drain(app, &fast()).await;
    let got = rx.deliveries();
    assert_eq!(got.len(), 3, "[{}]", app.backend());
    let now = jiff::Timestamp::now().as_second();
    let mut ids = HashSet::new();
    let mut types = Vec::new();
    for (h, body) in &got {
        let sig = h["x-jiesu-signature"].to_str().expect("ascii");
        assert!(verify(&secret, sig, body, now, 300), "bad signature {sig}");
        assert!(!verify("whsec_wrong", sig, body, now, 300));
        let v: Value = serde_json::from_slice(body).expect("json body");
        let eid = v["event_id"].as_i64().expect("event_id");
        assert_eq!(
            h["x-jiesu-event-id"].to_str().ok(),
            Some(eid.to_string().as_str())
        );
        assert_eq!(v["request_id"], id);
        assert_eq!(h["x-jiesu-attempt"], "1");
        ids.insert(eid);
        types.push(v["type"].as_str().unwrap_or_default().to_string());
        // Subscribers are other systems: the caller's identity is masked as in lists.
        let text = String::from_utf8_lossy(body);
        assert!(
            !text.contains("13812345678") && !text.contains("王建国"),
            "{text}"
        );
    }
    assert_eq!(ids.len(), 3);
    assert_eq!(types, ["received", "dispatched", "accepted"]);
    let received: Value = serde_json::from_slice(&got[0].1).expect("json");
    assert_eq!(
        received["event"]["kind"]["intake"]["caller"]["phone"],
        "138****5678"
    );
    // Admins see the counts, never the secret again.
    let (s, list) = app.get("admin", "/api/v1/webhooks").await;
    assert_eq!(s, StatusCode::OK);
    let w = list
        .as_array()
        .and_then(|a| a.iter().find(|w| w["id"] == hook))
        .expect("listed");
    assert_eq!(
        (
            w["delivered"].as_i64(),
            w["pending"].as_i64(),
            w["dead"].as_i64()
        ),
        (Some(3), Some(0), Some(0))
    );
    assert!(w.get("secret").is_none() && !list.to_string().contains(&secret));
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/webhooks/{hook}/disable"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let audit = app
        .store
        .audit_for("webhook", &hook.to_string())
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["create_webhook", "disable_webhook"]);
}

async fn failures_back_off_into_dead_letters_and_retry(app: &App) {
    let (rx, url) = Receiver::start().await;
    let (hook, _) = create_webhook(app, &url).await;
    rx.failing.store(true, Ordering::SeqCst);
    let cfg = fast();
    app.intake(json!({"dispatch_to": STREET})).await;
    // Three attempts (backoff zero in this test), then dead.
    for _ in 0..cfg.max_attempts {
        drain(app, &cfg).await;
    }
    let (s, dead) = app
        .get(
            "admin",
            &format!("/api/v1/webhooks/dead-letters?webhook_id={hook}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{dead}");
    let dead = dead.as_array().cloned().unwrap_or_default();
    assert_eq!(dead.len(), 2, "[{}] {dead:?}", app.backend());
    for d in &dead {
        assert_eq!(d["attempts"], 3);
        assert_eq!(d["last_error"], "HTTP 500 Internal Server Error");
    }
    assert!(rx.deliveries().is_empty());
    // Nobody but an admin sees or retries dead letters.
    let (s, _) = app.get("supervisor", "/api/v1/webhooks/dead-letters").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    rx.failing.store(false, Ordering::SeqCst);
    let one = dead[0]["id"].as_i64().expect("id");
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/webhooks/dead-letters/{one}/retry"),
            json!({}),
        )
        .await;
    assert_eq!((s, v["retried"].as_i64()), (StatusCode::OK, Some(1)), "{v}");
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/webhooks/dead-letters/{one}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/webhooks/dead-letters/retry?webhook_id={hook}"),
            json!({}),
        )
        .await;
    assert_eq!((s, v["retried"].as_i64()), (StatusCode::OK, Some(1)), "{v}");
    drain(app, &cfg).await;
    assert_eq!(rx.deliveries().len(), 2);
    let stats = app.store.outbox_stats().await.expect("stats");
    assert_eq!(stats.dead, 0);
    let audit = app
        .store
        .audit_for("webhook", &format!("delivery:{one}"))
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    app.post(
        "admin",
        &format!("/api/v1/webhooks/{hook}/disable"),
        json!({}),
    )
    .await;
}

async fn disabled_webhooks_receive_nothing(app: &App) {
    let (rx, url) = Receiver::start().await;
    let (hook, _) = create_webhook(app, &url).await;
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/webhooks/{hook}/disable"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["disabled_at"].is_string(), "{v}");
    app.intake(json!({"dispatch_to": STREET})).await;
    drain(app, &fast()).await;
    assert!(rx.deliveries().is_empty());
    let (s, v) = app
        .post("admin", "/api/v1/webhooks/999999/disable", json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

async fn bad_webhook_input_is_refused_by_field(app: &App) {
    for (body, status, code, field) in [
        (
            json!({"name": "x", "url": "ftp://example.org/h"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_scheme",
            "url",
        ),
        (
            json!({"name": "x", "url": "not a url"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_url",
            "url",
        ),
        (
            json!({"name": "x", "url": "http://u:p@example.org/"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_url",
            "url",
        ),
        (
            json!({"name": " ", "url": "http://example.org/"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            "name",
        ),
        (
            json!({"url": "http://example.org/"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "name",
        ),
        (
            json!({"name": "x", "url": "http://example.org/", "secret": "mine"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "secret",
        ),
    ] {
        let (s, v) = app.post("admin", "/api/v1/webhooks", body.clone()).await;
        assert_eq!(s, status, "{body} → {v}");
        assert_eq!(v["code"], code, "{body} → {v}");
        assert_eq!(v["field"], field, "{body} → {v}");
    }
    let (s, v) = app
        .post(
            "dispatcher",
            "/api/v1/webhooks",
            json!({"name": "x", "url": "http://example.org/"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_role"))
    );
    let (s, _) = app.get("operator", "/api/v1/webhooks").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, doc) = app.call("GET", None, "/api/v1/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}/disable",
        "/api/v1/webhooks/dead-letters",
        "/api/v1/webhooks/dead-letters/retry",
        "/api/v1/webhooks/dead-letters/{id}/retry",
        "/api/v1/requests/export",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} undocumented");
    }
    let (s, v) = app
        .get("admin", "/api/v1/webhooks/dead-letters?limit=0")
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );
}

/// Two workers (two servers) claiming one queue at once never take the same delivery.
async fn concurrent_claims_never_overlap(app: &App) {
    let (_rx, url) = Receiver::start().await;
    let (hook, _) = create_webhook(app, &url).await;
    for _ in 0..40 {
        app.intake(json!({"dispatch_to": STREET})).await;
    }
    while app
        .store
        .outbox_fan_out(jiff::Timestamp::now(), 500)
        .await
        .expect("fan out")
        > 0
    {}
    let pending = app.store.outbox_stats().await.expect("stats").pending;
    assert_eq!(pending, 80, "[{}]", app.backend());
    let claim = |store: jiesu_store::Store| async move {
        let mut mine = Vec::new();
        loop {
            let c = store
                .claim_deliveries(jiff::Timestamp::now(), 600_000, 7)
                .await
                .expect("claim");
            if c.is_empty() {
                return mine;
            }
            mine.extend(c.into_iter().map(|d| d.id));
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(claim(app.store.clone())),
        tokio::spawn(claim(app.store.clone()))
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    let all: HashSet<i64> = a.iter().chain(&b).copied().collect();
    assert_eq!(
        a.len() + b.len(),
        80,
        "[{}] a {} b {}",
        app.backend(),
        a.len(),
        b.len()
    );
    assert_eq!(all.len(), 80, "a delivery was claimed twice");
    app.post(
        "admin",
        &format!("/api/v1/webhooks/{hook}/disable"),
        json!({}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_rows_follow_events() {
    on_every_backend!(outbox_written_in_the_events_transaction);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_are_signed_masked_and_deduplicable() {
    on_every_backend!(signed_masked_deliveries_with_event_ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_letters_and_retry() {
    on_every_backend!(failures_back_off_into_dead_letters_and_retry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabled_webhooks() {
    on_every_backend!(disabled_webhooks_receive_nothing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_webhook_input() {
    on_every_backend!(bad_webhook_input_is_refused_by_field);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_do_not_overlap() {
    on_every_backend!(concurrent_claims_never_overlap);
}

/// A kind of case other than the request, defined here only: an alert, raised then cleared.
/// Its events must go out on the same queue, signed, retried and dead-lettered like requests'.
struct Alert;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct AlertState {
    id: i64,
    version: i64,
    status: String,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
enum AlertEvent {
    Raised { room: String },
    Cleared,
}

impl jiesu_domain::case::CaseKind for Alert {
    const KIND: &'static str = "test_alert";
    type State = AlertState;
    type Event = AlertEvent;
    type Command = ();
    type Create = String;

    fn event_name(e: &AlertEvent) -> &'static str {
        match e {
            AlertEvent::Raised { .. } => "raised",
            AlertEvent::Cleared => "cleared",
        }
    }
    fn initial(id: i64, _now: jiff::Timestamp) -> AlertState {
        AlertState {
            id,
            version: 0,
            status: "new".into(),
        }
    }
    fn create(
        room: &String,
        _: &jiesu_domain::Actor,
        _: &jiesu_domain::Ctx<'_>,
    ) -> Result<Vec<jiesu_domain::case::Decided<AlertEvent>>, jiesu_domain::DomainError> {
        Ok(vec![(AlertEvent::Raised { room: room.clone() }, None)])
    }
    fn decide(
        _: &AlertState,
        _: &jiesu_domain::Actor,
        _: &(),
        _: &jiesu_domain::Ctx<'_>,
    ) -> Result<Vec<jiesu_domain::case::Decided<AlertEvent>>, jiesu_domain::DomainError> {
        Ok(vec![(AlertEvent::Cleared, Some("false alarm".into()))])
    }
    fn apply(st: &mut AlertState, e: &jiesu_domain::case::CaseEvent<AlertEvent>) {
        st.version = e.seq;
        st.status = match e.payload {
            AlertEvent::Raised { .. } => "raised".into(),
            AlertEvent::Cleared => "cleared".into(),
        };
    }
    fn id(st: &AlertState) -> i64 {
        st.id
    }
    fn version(st: &AlertState) -> i64 {
        st.version
    }
    fn status(st: &AlertState) -> &str {
        &st.status
    }
    fn next_timer(_: &AlertState) -> Option<jiff::Timestamp> {
        None
    }
    fn fire_timers(
        _: &AlertState,
        _: jiff::Timestamp,
    ) -> Vec<jiesu_domain::case::Decided<AlertEvent>> {
        Vec::new()
    }
}

async fn case_events_share_the_delivery_queue(app: &App) {
    let (rx, url) = Receiver::start().await;
    let (hook, secret) = create_webhook(app, &url).await;
    rx.failing.store(true, Ordering::SeqCst);
    let cfg = fast();
    let actor = jiesu_domain::Actor::system();
    let now = jiff::Timestamp::now();
    let case = app
        .store
        .create_case::<Alert>(&app.dir, &actor, &"卧室".to_string(), now)
        .await
        .expect("create case");
    app.store
        .act_case::<Alert>(&app.dir, &actor, case.id, &(), now)
        .await
        .expect("clear");
    let request = app.intake(json!({"dispatch_to": STREET})).await;
    let s = app.store.outbox_stats().await.expect("stats");
    assert_eq!((s.case_outbox, s.outbox), (2, 2), "[{}]", app.backend());

    // The receiver is down: both kinds back off into the one dead-letter list.
    for _ in 0..cfg.max_attempts {
        drain(app, &cfg).await;
    }
    let (s, dead) = app
        .get(
            "admin",
            &format!("/api/v1/webhooks/dead-letters?webhook_id={hook}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{dead}");
    let dead = dead.as_array().cloned().unwrap_or_default();
    assert_eq!(dead.len(), 4, "[{}] {dead:?}", app.backend());
    let case_dead: Vec<&Value> = dead.iter().filter(|d| d["case_kind"].is_string()).collect();
    assert_eq!(case_dead.len(), 2, "{dead:?}");
    for d in &case_dead {
        assert_eq!(
            (d["case_kind"].as_str(), d["case_id"].as_i64()),
            (Some("test_alert"), Some(case.id))
        );
        assert!(d.get("request_id").is_none(), "{d}");
        assert_eq!(d["attempts"], 3);
    }
    let mut case_types: Vec<&str> = case_dead
        .iter()
        .filter_map(|d| d["event_type"].as_str())
        .collect();
    case_types.sort_unstable();
    assert_eq!(case_types, ["cleared", "raised"]);
    assert!(dead.iter().filter(|d| d["request_id"] == request).count() == 2);

    // Back up: retried, each delivered once, signed; the case's in order, named as such.
    rx.failing.store(false, Ordering::SeqCst);
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/webhooks/dead-letters/retry?webhook_id={hook}"),
            json!({}),
        )
        .await;
    assert_eq!((s, v["retried"].as_i64()), (StatusCode::OK, Some(4)), "{v}");
    drain(app, &cfg).await;
    let got = rx.deliveries();
    assert_eq!(got.len(), 4, "[{}]", app.backend());
    let now_s = jiff::Timestamp::now().as_second();
    let mut case_bodies = Vec::new();
    for (h, body) in &got {
        let sig = h["x-jiesu-signature"].to_str().expect("ascii");
        assert!(
            verify(&secret, sig, body, now_s, 300),
            "bad signature {sig}"
        );
        let v: Value = serde_json::from_slice(body).expect("json body");
        let key = h["x-jiesu-event-id"].to_str().expect("ascii").to_string();
        if v["case_kind"] == "test_alert" {
            let ceid = v["case_event_id"].as_i64().expect("case_event_id");
            assert_eq!(key, format!("case-{ceid}"));
            assert_eq!(h["x-jiesu-event-type"].to_str().ok(), v["type"].as_str());
            assert!(v.get("event_id").is_none() && v.get("request_id").is_none());
            case_bodies.push(v);
        } else {
            assert_eq!(v["request_id"], request, "{v}");
            assert_eq!(key, v["event_id"].as_i64().expect("event_id").to_string());
        }
    }
    assert_eq!(case_bodies.len(), 2);
    case_bodies.sort_by_key(|v| v["event"]["seq"].as_i64());
    let raised = &case_bodies[0];
    assert_eq!(
        (raised["type"].as_str(), raised["case_id"].as_i64()),
        (Some("raised"), Some(case.id))
    );
    assert_eq!(raised["event"]["payload"]["Raised"]["room"], "卧室");
    assert_eq!(raised["event"]["actor"]["username"], "system");
    assert_eq!(case_bodies[1]["event"]["reason"], "false alarm");
    let s = app.store.outbox_stats().await.expect("stats");
    assert_eq!(
        (s.case_outbox, s.outbox, s.pending, s.dead),
        (0, 0, 0, 0),
        "[{}]",
        app.backend()
    );
}

#[tokio::test]
async fn case_events_go_out_like_request_events() {
    on_every_backend!(case_events_share_the_delivery_queue);
}
