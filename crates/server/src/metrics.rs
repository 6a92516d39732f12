//! `/metrics` in the Prometheus text format, and the per-request access log.
//!
//! Every answer passes [`observe`]: it counts the request under its route *template*
//! (`/api/v1/requests/{id}`, never the raw path, so ids cannot blow up the label set), times it
//! into a histogram, and writes one JSON-able log line (method, route, status, latency, client
//! address, user, request id) — never the query string or the body, which may carry phones.
//! The use cases' own counters (intakes, actions, sweeps, webhook failures) are
//! `jiesu_app::metrics`; the outbox backlog is read from the database at scrape time.

use crate::AppState;
use crate::auth::ClientAddr;
use crate::error::ApiError;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Upper bounds (seconds) of the latency histogram's buckets: a page or an API call is
/// expected in tens of milliseconds, an export or an assessment in seconds.
pub const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The label of requests no route matched (404s, scanners): one series for all of them.
pub const UNMATCHED: &str = "unmatched";

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Per bucket of [`BUCKETS`], not cumulative (summed when rendered).
    buckets: [u64; BUCKETS.len()],
    sum_seconds: f64,
    count: u64,
}

/// Request counts and latencies of this server, by (method, route template).
pub struct HttpMetrics {
    routes: Mutex<HashMap<(String, String), RouteStats>>,
    started: Instant,
    started_unix: f64,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            routes: Mutex::new(HashMap::new()),
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        }
    }
}

impl HttpMetrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = match self.routes.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let s = m
            .entry((method.to_string(), route.to_string()))
            .or_default();
        *s.by_status.entry(status).or_insert(0) += 1;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            s.buckets[i] += 1;
        }
        s.sum_seconds += seconds;
        s.count += 1;
    }
}

/// Where an extractor that authenticates a person leaves the user's id for the access log.
#[derive(Clone, Default)]
pub struct UserSlot(Arc<AtomicI64>);

/// Called by the API and web user extractors once they know who is calling.
pub fn note_user(parts: &Parts, user_id: i64) {
    if let Some(slot) = parts.extensions.get::<UserSlot>() {
        slot.0.store(user_id, Ordering::Relaxed);
    }
}

/// A request id from a trusted proxy is kept (one id across the proxy's log and ours) if it
/// looks like one; anything else gets a fresh random id.
fn request_id(headers: &HeaderMap, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(v) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
        && (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return v.to_string();
    }
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // Not a secret: uniqueness within the log is all it needs.
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (n as u64).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The middleware around every route: counts, times, logs, and names the request in
/// `X-Request-Id`.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str())
        // A nested router's fallback matches a catch-all: still "no route".
        .filter(|p| !p.contains("__private__axum"))
        .unwrap_or(UNMATCHED)
        .to_string();
    let rid = request_id(req.headers(), state.trust_proxy);
    let (mut parts, body) = req.into_parts();
    let client = match ClientAddr::from_request_parts(&mut parts, &state).await {
        Ok(a) => a.0,
        Err(never) => match never {},
    };
    let slot = UserSlot::default();
    parts.extensions.insert(slot.clone());
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    state.http_metrics.record(&method, &route, status, elapsed);
    let user = slot.0.load(Ordering::Relaxed);
    tracing::info!(
        target: "jiesu::access",
        method = %method,
        route = %route,
        status,
        latency_ms = (elapsed * 1e6).round() / 1e3,
        client = %client,
        user_id = (user > 0).then_some(user),
        request_id = %rid,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&rid) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// `GET /metrics`: with `JIESU_METRICS_TOKEN` set, only `Authorization: Bearer <that token>`;
/// otherwise only an administrator's API token. Never public: the figures show the load and
/// the backlog of a government service.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match authorize(&state, &headers).await {
        Ok(()) => {}
        Err(e) => return e.into_response(),
    }
    let mut out = String::with_capacity(8 * 1024);
    render_http(&state.http_metrics, &mut out);
    render_app(&mut out);
    match jiesu_app::metrics::outbox(&state.app).await {
        Ok(o) => {
            family(
                &mut out,
                "jiesu_outbox_events",
                "gauge",
                "Events not yet fanned out to webhooks, by outbox.",
            );
            sample(
                &mut out,
                "jiesu_outbox_events",
                &[("outbox", "request")],
                o.outbox as f64,
            );
            sample(
                &mut out,
                "jiesu_outbox_events",
                &[("outbox", "case")],
                o.case_outbox as f64,
            );
            family(
                &mut out,
                "jiesu_webhook_deliveries",
                "gauge",
                "Webhook deliveries in the database, by state (dead = dead letters).",
            );
            for (st, n) in [
                ("pending", o.pending),
                ("delivered", o.delivered),
                ("dead", o.dead),
            ] {
                sample(
                    &mut out,
                    "jiesu_webhook_deliveries",
                    &[("state", st)],
                    n as f64,
                );
            }
            // The events-out lag: how long the oldest waiting event has waited (0: none), on
            // the clock the events were stamped with.
            let now_ms = state.app.now().as_millisecond();
            let age = o
                .oldest_waiting_at_ms
                .map(|t| ((now_ms - t).max(0)) as f64 / 1000.0)
                .unwrap_or(0.0);
            gauge(
                &mut out,
                "jiesu_outbox_oldest_waiting_age_seconds",
                "Age of the oldest event not yet delivered (either outbox or a pending delivery); 0 when none waits.",
                age,
            );
            gauge(
                &mut out,
                "jiesu_store_up",
                "Whether the database answered this scrape.",
                1.0,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e.message, "metrics: reading the outbox failed");
            gauge(
                &mut out,
                "jiesu_store_up",
                "Whether the database answered this scrape.",
                0.0,
            );
        }
    }
    family(
        &mut out,
        "jiesu_db_pool_connections",
        "gauge",
        "Database connections by pool (SQLite: write and read; PostgreSQL: shared) and state.",
    );
    let pools = jiesu_app::metrics::pools(&state.app);
    for p in &pools {
        sample(
            &mut out,
            "jiesu_db_pool_connections",
            &[("pool", p.pool), ("state", "open")],
            f64::from(p.size),
        );
        sample(
            &mut out,
            "jiesu_db_pool_connections",
            &[("pool", p.pool), ("state", "idle")],
            f64::from(p.idle),
        );
    }
    family(
        &mut out,
        "jiesu_db_pool_max_connections",
        "gauge",
        "The most connections each pool opens.",
    );
    for p in &pools {
        sample(
            &mut out,
            "jiesu_db_pool_max_connections",
            &[("pool", p.pool)],
            f64::from(p.max),
        );
    }
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return Err(ApiError::unauthorized());
    };
    if let Some(want) = &state.metrics_token {
        return if crate::auth::same_secret(given, want) {
            Ok(())
        } else {
            Err(ApiError::unauthorized())
        };
    }
    let user = crate::auth::user_for_token(state, given).await?;
    jiesu_app::metrics::may_read_metrics(&user)?;
    Ok(())
}

fn render_http(m: &HttpMetrics, out: &mut String) {
    let routes = match m.routes.lock() {
        Ok(r) => r,
        Err(p) => p.into_inner(),
    };
    let mut keys: Vec<&(String, String)> = routes.keys().collect();
    keys.sort();
    family(
        out,
        "jiesu_http_requests_total",
        "counter",
        "HTTP requests answered, by method, route template and status.",
    );
    for k in &keys {
        for (status, n) in &routes[*k].by_status {
            let status = status.to_string();
            sample(
                out,
                "jiesu_http_requests_total",
                &[("method", &k.0), ("route", &k.1), ("status", &status)],
                *n as f64,
            );
        }
    }
    family(
        out,
        "jiesu_http_request_duration_seconds",
        "histogram",
        "Time to the answer's head (a streamed export goes on after it), by method and route.",
    );
    for k in &keys {
        let s = &routes[*k];
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += s.buckets[i];
            let le = b.to_string();
            sample(
                out,
                "jiesu_http_request_duration_seconds_bucket",
                &[("method", &k.0), ("route", &k.1), ("le", &le)],
                cumulative as f64,
            );
        }
        let labels = [("method", k.0.as_str()), ("route", k.1.as_str())];
        let inf = [
            ("method", k.0.as_str()),
            ("route", k.1.as_str()),
            ("le", "+Inf"),
        ];
        sample(
            out,
            "jiesu_http_request_duration_seconds_bucket",
            &inf,
            s.count as f64,
        );
        sample(
            out,
            "jiesu_http_request_duration_seconds_sum",
            &labels,
            s.sum_seconds,
        );
        sample(
            out,
            "jiesu_http_request_duration_seconds_count",
            &labels,
            s.count as f64,
        );
    }
    let now_unix = m.started_unix + m.started.elapsed().as_secs_f64();
    gauge(
        out,
        "jiesu_process_start_time_seconds",
        "When this server started (unix seconds).",
        m.started_unix,
    );
    gauge(
        out,
        "jiesu_process_uptime_seconds",
        "Seconds since this server started.",
        now_unix - m.started_unix,
    );
}

fn render_app(out: &mut String) {
    let s = jiesu_app::metrics::snapshot();
    family(
        out,
        "jiesu_intakes_total",
        "counter",
        "Requests stored by this process (idempotent replays not counted), by channel.",
    );
    for (channel, n) in &s.intakes {
        sample(
            out,
            "jiesu_intakes_total",
            &[("channel", channel)],
            *n as f64,
        );
    }
    family(
        out,
        "jiesu_actions_total",
        "counter",
        "Lifecycle actions applied to requests by this process, by action.",
    );
    for (action, n) in &s.actions {
        sample(out, "jiesu_actions_total", &[("action", action)], *n as f64);
    }
    family(
        out,
        "jiesu_sla_sweeps_total",
        "counter",
        "Timer sweeps run by the background sweeper, by outcome.",
    );
    sample(
        out,
        "jiesu_sla_sweeps_total",
        &[("outcome", "ok")],
        s.sweeps_ok as f64,
    );
    sample(
        out,
        "jiesu_sla_sweeps_total",
        &[("outcome", "failed")],
        s.sweeps_failed as f64,
    );
    family(
        out,
        "jiesu_sla_sweep_duration_seconds_total",
        "counter",
        "Time spent in timer sweeps.",
    );
    sample(
        out,
        "jiesu_sla_sweep_duration_seconds_total",
        &[],
        s.sweep_seconds_total,
    );
    gauge(
        out,
        "jiesu_sla_sweep_last_duration_seconds",
        "How long the last timer sweep took.",
        s.last_sweep_seconds,
    );
    if let Some(at) = s.last_sweep_at {
        gauge(
            out,
            "jiesu_sla_sweep_last_run_timestamp_seconds",
            "When the last timer sweep ended (unix seconds); alert on time() minus this.",
            at,
        );
    }
    if let Some(at) = s.outbox_drained_at {
        gauge(
            out,
            "jiesu_outbox_last_drained_timestamp_seconds",
            "When this process's delivery worker last found no event waiting (unix seconds).",
            at,
        );
    }
    family(
        out,
        "jiesu_webhook_delivery_failures_total",
        "counter",
        "Failed webhook delivery attempts made by this process.",
    );
    sample(
        out,
        "jiesu_webhook_delivery_failures_total",
        &[],
        s.webhook_failures as f64,
    );
    family(
        out,
        "jiesu_webhook_dead_letters_total",
        "counter",
        "Deliveries this process gave up on (dead letters).",
    );
    sample(
        out,
        "jiesu_webhook_dead_letters_total",
        &[],
        s.webhook_dead_lettered as f64,
    );
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, v: f64) {
    family(out, name, "gauge", help);
    sample(out, name, &[], v);
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], v: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, val)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(val));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {v}");
}

/// The exposition format's label escaping: backslash, double quote, newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let m = HttpMetrics::default();
        m.record("GET", "/a/{id}", 200, 0.003);
        m.record("GET", "/a/{id}", 404, 0.2);
        m.record("GET", "/a/{id}", 200, 99.0);
        let mut out = String::new();
        render_http(&m, &mut out);
        let line = |needle: &str| {
            out.lines()
                .find(|l| l.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle} missing in\n{out}"))
                .to_string()
        };
        assert!(
            line(r#"jiesu_http_requests_total{method="GET",route="/a/{id}",status="200"}"#)
                .ends_with(" 2")
        );
        assert!(line(r#"jiesu_http_request_duration_seconds_bucket{method="GET",route="/a/{id}",le="0.005"}"#).ends_with(" 1"));
        assert!(line(r#"jiesu_http_request_duration_seconds_bucket{method="GET",route="/a/{id}",le="0.25"}"#).ends_with(" 2"));
        assert!(line(r#"jiesu_http_request_duration_seconds_bucket{method="GET",route="/a/{id}",le="30"}"#).ends_with(" 2"));
        assert!(line(r#"jiesu_http_request_duration_seconds_bucket{method="GET",route="/a/{id}",le="+Inf"}"#).ends_with(" 3"));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
