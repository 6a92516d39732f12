//! What the use cases did since the process started, for the server's `/metrics`: intakes by
//! channel, lifecycle actions by name, SLA sweep runs and their duration, webhook delivery
//! failures; and the outbox backlog read from the store at scrape time.
//!
//! Counters are process-wide (one server is one process); Prometheus takes differences between
//! scrapes, so a restart only resets them.

use crate::App;
use crate::error::AppResult;
use jiesu_store::{OutboxStats, User};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

struct Counters {
    intakes: Mutex<BTreeMap<&'static str, u64>>,
    actions: Mutex<BTreeMap<&'static str, u64>>,
    sweeps_ok: AtomicU64,
    sweeps_failed: AtomicU64,
    sweep_micros_total: AtomicU64,
    last_sweep_micros: AtomicU64,
    /// Unix milliseconds of the last finished sweep; 0 before the first.
    last_sweep_at_ms: AtomicI64,
    webhook_failures: AtomicU64,
    webhook_dead_lettered: AtomicU64,
    /// Unix milliseconds when the delivery worker last found the outboxes empty; 0 never.
    outbox_drained_at_ms: AtomicI64,
}

static COUNTERS: Counters = Counters {
    intakes: Mutex::new(BTreeMap::new()),
    actions: Mutex::new(BTreeMap::new()),
    sweeps_ok: AtomicU64::new(0),
    sweeps_failed: AtomicU64::new(0),
    sweep_micros_total: AtomicU64::new(0),
    last_sweep_micros: AtomicU64::new(0),
    last_sweep_at_ms: AtomicI64::new(0),
    webhook_failures: AtomicU64::new(0),
    webhook_dead_lettered: AtomicU64::new(0),
    outbox_drained_at_ms: AtomicI64::new(0),
};

fn bump(map: &Mutex<BTreeMap<&'static str, u64>>, key: &'static str) {
    let mut m = match map.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    *m.entry(key).or_insert(0) += 1;
}

fn read(map: &Mutex<BTreeMap<&'static str, u64>>) -> Vec<(&'static str, u64)> {
    let m = match map.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    m.iter().map(|(k, v)| (*k, *v)).collect()
}

/// A request was stored (not an idempotent replay), from any door.
pub fn intake_recorded(channel: &'static str) {
    bump(&COUNTERS.intakes, channel);
}

/// A lifecycle command (or 并单, `merge`) was applied to a request.
pub fn action_performed(action: &'static str) {
    bump(&COUNTERS.actions, action);
}

/// One timer sweep ended after `took`, at unix milliseconds `at_ms`.
pub fn sweep_finished(took: Duration, ok: bool, at_ms: i64) {
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    if ok {
        COUNTERS.sweeps_ok.fetch_add(1, Ordering::Relaxed);
    } else {
        COUNTERS.sweeps_failed.fetch_add(1, Ordering::Relaxed);
    }
    COUNTERS
        .sweep_micros_total
        .fetch_add(micros, Ordering::Relaxed);
    COUNTERS.last_sweep_micros.store(micros, Ordering::Relaxed);
    COUNTERS.last_sweep_at_ms.store(at_ms, Ordering::Relaxed);
}

/// A webhook delivery attempt failed; `dead` when it will not be retried.
pub fn webhook_failed(dead: bool) {
    COUNTERS.webhook_failures.fetch_add(1, Ordering::Relaxed);
    if dead {
        COUNTERS
            .webhook_dead_lettered
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// The delivery worker's fan-out left no event waiting, at unix milliseconds `at_ms`: the age
/// of this instant bounds how long any event has waited to be queued for its webhooks.
pub fn outbox_drained(at_ms: i64) {
    COUNTERS
        .outbox_drained_at_ms
        .store(at_ms, Ordering::Relaxed);
}

/// The counters at one instant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub intakes: Vec<(&'static str, u64)>,
    pub actions: Vec<(&'static str, u64)>,
    pub sweeps_ok: u64,
    pub sweeps_failed: u64,
    pub sweep_seconds_total: f64,
    pub last_sweep_seconds: f64,
    /// Unix seconds of the last finished sweep, `None` before the first.
    pub last_sweep_at: Option<f64>,
    pub webhook_failures: u64,
    pub webhook_dead_lettered: u64,
    /// Unix seconds the outboxes were last seen empty by this process's worker.
    pub outbox_drained_at: Option<f64>,
}

pub fn snapshot() -> Snapshot {
    let at = COUNTERS.last_sweep_at_ms.load(Ordering::Relaxed);
    let drained = COUNTERS.outbox_drained_at_ms.load(Ordering::Relaxed);
    Snapshot {
        intakes: read(&COUNTERS.intakes),
        actions: read(&COUNTERS.actions),
        sweeps_ok: COUNTERS.sweeps_ok.load(Ordering::Relaxed),
        sweeps_failed: COUNTERS.sweeps_failed.load(Ordering::Relaxed),
        sweep_seconds_total: COUNTERS.sweep_micros_total.load(Ordering::Relaxed) as f64 / 1e6,
        last_sweep_seconds: COUNTERS.last_sweep_micros.load(Ordering::Relaxed) as f64 / 1e6,
        last_sweep_at: (at > 0).then(|| at as f64 / 1e3),
        webhook_failures: COUNTERS.webhook_failures.load(Ordering::Relaxed),
        webhook_dead_lettered: COUNTERS.webhook_dead_lettered.load(Ordering::Relaxed),
        outbox_drained_at: (drained > 0).then(|| drained as f64 / 1e3),
    }
}

/// Operational monitoring is the administrator's (it shows load, not cases). A scraper holding
/// the deployment's metrics token is checked by the server before any user is involved.
pub fn may_read_metrics(user: &User) -> AppResult<()> {
    crate::policy::require(user, crate::policy::Capability::ReadMetrics)
}

/// The database's connection pools now.
pub fn pools(app: &App) -> Vec<jiesu_store::PoolStats> {
    app.store.pool_stats()
}

/// The events waiting to go out and the deliveries pending or dead, read now.
pub async fn outbox(app: &App) -> AppResult<OutboxStats> {
    Ok(app.store.outbox_stats().await?)
}
