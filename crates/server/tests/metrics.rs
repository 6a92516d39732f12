//! Operations (issue 12): `/metrics` in the Prometheus text format — requests by route
//! template and status, latency histograms, intakes by channel, actions by name, the outbox —
//! for the administrator or the scraper's token only; and one access-log line per request that
//! names the route template, never the query string.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One sample line: `name{k="v",…} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample line: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number in: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), HashMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = HashMap::new();
                // Our label values never hold `",` (route templates, codes), so a split is
                // enough to read them back.
                for kv in body.split("\",") {
                    let (k, v) = kv
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("bad label in: {line}"));
                    labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
        };
        out.push(Sample {
            name,
            labels,
            value,
        });
    }
    out
}

/// The value of `name` with (at least) these labels; 0 when the series does not exist yet.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(app: &App, bearer: Option<&str>) -> (StatusCode, String) {
    let mut rb = app.client.get(format!("{}/metrics", app.base));
    if let Some(t) = bearer {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.expect("scrape");
    let s = r.status();
    (s, r.text().await.unwrap_or_default())
}

async fn admin_scrape(app: &App) -> Vec<Sample> {
    let (s, text) = scrape(app, Some(&app.tokens["admin"])).await;
    assert_eq!(s, StatusCode::OK, "[{}] {text}", app.backend());
    parse(&text)
}

async fn counters_move_with_route_templates(app: &App) {
    let b = app.backend();
    // Never public, and not for the other roles.
    let (s, _) = scrape(app, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "[{b}] unauthenticated scrape");
    let (s, _) = scrape(app, Some("not-a-token")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "[{b}] bad token");
    for role in ["operator", "supervisor", "dispatcher"] {
        let (s, _) = scrape(app, Some(&app.tokens[role])).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "[{b}] {role} scraped");
    }
    // The session cookie is not a scraper's credential.
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .header("cookie", format!("jiesu_session={}", app.tokens["admin"]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "[{b}] cookie scrape");

    let before = admin_scrape(app).await;
    let one = "/api/v1/requests/{id}";
    let create = "/api/v1/requests";
    let act = "/api/v1/requests/{id}/{action}";
    let (s, _) = app.get("dispatcher", "/api/v1/requests/987654321").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get("dispatcher", "/no/such/page/12345").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The API's own fallback (a JSON 404) is no route either.
    let (s, _) = app.get("dispatcher", "/api/v1/no-such-thing/12345").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    app.act_ok("handler", id, "accept", json!({})).await;
    let (s, _) = app
        .get("dispatcher", &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let after = admin_scrape(app).await;

    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let req = "jiesu_http_requests_total";
    assert_eq!(
        delta(req, &[("method", "GET"), ("route", one), ("status", "404")]),
        1.0,
        "[{b}] the 404 under its template"
    );
    assert_eq!(
        delta(req, &[("method", "GET"), ("route", one), ("status", "200")]),
        1.0,
        "[{b}] the read under its template"
    );
    assert_eq!(
        delta(
            req,
            &[("method", "POST"), ("route", create), ("status", "201")]
        ),
        1.0,
        "[{b}] the create"
    );
    assert_eq!(
        delta(
            req,
            &[("method", "POST"), ("route", act), ("status", "200")]
        ),
        1.0,
        "[{b}] the action"
    );
    assert_eq!(
        delta(req, &[("route", "unmatched"), ("status", "404")]),
        2.0,
        "[{b}] a path no route matches is one series"
    );
    // No raw path, so ids and scanners' paths never become labels.
    for s in &after {
        if let Some(route) = s.labels.get("route") {
            assert!(
                !route.contains("987654321")
                    && !route.contains("12345")
                    && !route.contains(&format!("/{id}")),
                "[{b}] raw path in a label: {s:?}"
            );
        }
    }
    // The latency histogram: cumulative buckets ending in +Inf = count.
    let h = "jiesu_http_request_duration_seconds";
    let count = value(
        &after,
        &format!("{h}_count"),
        &[("method", "GET"), ("route", one)],
    );
    assert_eq!(
        value(
            &after,
            &format!("{h}_bucket"),
            &[("method", "GET"), ("route", one), ("le", "+Inf")]
        ),
        count
    );
    assert!(count >= 2.0, "[{b}] {count}");
    assert!(
        value(
            &after,
            &format!("{h}_sum"),
            &[("method", "GET"), ("route", one)]
        ) > 0.0
    );
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .filter(|s| {
            s.name == format!("{h}_bucket")
                && s.labels.get("route").map(String::as_str) == Some(one)
                && s.labels["method"] == "GET"
        })
        .map(|s| {
            let le = &s.labels["le"];
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().expect("le")
                },
                s.value,
            )
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        buckets.len() > 5 && buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "{buckets:?}"
    );

    // The database pools: at least one connection open, never more than the most.
    let pool = if app.backend() == "postgres" {
        "shared"
    } else {
        "write"
    };
    let open = value(
        &after,
        "jiesu_db_pool_connections",
        &[("pool", pool), ("state", "open")],
    );
    let max = value(&after, "jiesu_db_pool_max_connections", &[("pool", pool)]);
    assert!(open >= 1.0 && open <= max, "[{b}] pool {open} of {max}");
    // The events-out lag is a number of seconds (an intake above waits in the outbox unless a
    // worker already delivered it).
    let lag = value(&after, "jiesu_outbox_oldest_waiting_age_seconds", &[]);
    assert!((0.0..3600.0).contains(&lag), "[{b}] lag {lag}");

    // The use cases' counters (process-wide: other tests may add, never take away).
    assert!(
        delta("jiesu_intakes_total", &[("channel", "hotline")]) >= 1.0,
        "[{b}] intake"
    );
    assert!(
        delta("jiesu_actions_total", &[("action", "accept")]) >= 1.0,
        "[{b}] action"
    );
    // The outbox holds the new request's events (no delivery worker runs in these tests).
    assert!(
        value(&after, "jiesu_outbox_events", &[("outbox", "request")]) >= 1.0,
        "[{b}]"
    );
    for state in ["pending", "delivered", "dead"] {
        assert!(
            after
                .iter()
                .any(|s| s.name == "jiesu_webhook_deliveries" && s.labels["state"] == state)
        );
    }
    for name in [
        "jiesu_store_up",
        "jiesu_process_uptime_seconds",
        "jiesu_process_start_time_seconds",
        "jiesu_webhook_delivery_failures_total",
        "jiesu_webhook_dead_letters_total",
        "jiesu_sla_sweep_duration_seconds_total",
    ] {
        assert!(after.iter().any(|s| s.name == name), "[{b}] {name} missing");
    }
    assert_eq!(value(&after, "jiesu_store_up", &[]), 1.0);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_for_the_admin_only() {
    on_every_backend!(counters_move_with_route_templates);
}

/// A server like the harness's but with a scraper token configured.
async fn start_with_token(db: &jiesu_store::testing::TestDb, token: &str) -> String {
    let store = db.store.clone();
    let w = world();
    store
        .save_world(&w, "test", jiff::Timestamp::now())
        .await
        .expect("save world");
    let mut state = jiesu_server::AppState::new(
        store,
        jiesu_domain::Directory::new(w),
        jiesu_server::Clock::System,
    );
    state.metrics_token = Some(token.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = jiesu_server::serve(listener, state, std::future::pending()).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn with_a_metrics_token_only_that_token_scrapes() {
    let token = "scrape-3f9a1c7e5b2d4680";
    for db in jiesu_store::testing::TestDb::all().await.expect("dbs") {
        let base = start_with_token(&db, token).await;
        let c = reqwest::Client::new();
        let get = |t: Option<&str>| {
            let mut rb = c.get(format!("{base}/metrics"));
            if let Some(t) = t {
                rb = rb.bearer_auth(t);
            }
            rb.send()
        };
        let r = get(Some(token)).await.expect("scrape");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = r.text().await.expect("body");
        assert!(
            text.contains("# TYPE jiesu_http_requests_total counter"),
            "{text}"
        );
        assert_eq!(
            get(None).await.expect("send").status(),
            StatusCode::UNAUTHORIZED
        );
        let wrong = get(Some("scrape-3f9a1c7e5b2d4681")).await.expect("send");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        db.cleanup().await;
    }
}

/// Everything the subscriber writes, for the access-log test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_log() -> Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let c = Captured::default();
        let w = c.clone();
        // The JSON format `jiesu serve` uses with JIESU_LOG_FORMAT=json.
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter("jiesu::access=info")
            .with_writer(move || w.clone())
            .try_init();
        c
    })
    .clone()
}

async fn one_json_line_per_request_without_the_query(app: &App) {
    let b = app.backend();
    let log = captured_log();
    let phone = "13912345678";
    let (s, _) = app
        .get("dispatcher", &format!("/api/v1/requests?q={phone}&limit=5"))
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}]");
    let (s, _) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"text": format!("电话{phone}")}),
        )
        .await;
    assert!(s.is_client_error(), "[{b}] {s}");
    let text =
        String::from_utf8(log.0.lock().map(|v| v.clone()).unwrap_or_default()).expect("utf-8 log");
    assert!(
        !text.contains(phone),
        "[{b}] a phone reached the log:\n{text}"
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["target"] == "jiesu::access")
        .collect();
    let list = lines
        .iter()
        .rev()
        .find(|v| v["fields"]["route"] == "/api/v1/requests" && v["fields"]["method"] == "GET")
        .unwrap_or_else(|| panic!("[{b}] no access line for the list in:\n{text}"));
    let f = &list["fields"];
    assert_eq!(f["status"], 200);
    assert_eq!(f["client"], "127.0.0.1");
    assert!(f["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{f}");
    assert!(
        f["request_id"].as_str().is_some_and(|r| r.len() == 16),
        "{f}"
    );
    let dispatcher = app
        .store
        .user_by_username("dispatcher")
        .await
        .expect("user")
        .expect("dispatcher");
    assert_eq!(f["user_id"], dispatcher.id, "[{b}] {f}");
    assert!(
        lines.iter().any(|v| v["fields"]["method"] == "POST"
            && v["fields"]["route"] == "/api/v1/requests"
            && v["fields"]["status"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s))),
        "[{b}] no access line for the refused create"
    );
}

#[tokio::test]
async fn the_access_log_has_one_line_per_request_and_no_query_or_body() {
    on_every_backend!(one_json_line_per_request_without_the_query);
}
