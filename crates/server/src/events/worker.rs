//! The delivery worker: fans the outbox out to webhooks, posts due deliveries signed, and
//! records the outcome (delivered; due again after a backoff; dead after the last attempt).
//!
//! Guarantee: at-least-once. Each step commits before the next: an outbox row is deleted only
//! in the transaction that creates its deliveries, and a delivery is marked delivered only after
//! the receiver answered 2xx. A process killed between a receiver's 2xx and that mark leaves
//! the delivery claimed under a lease; when the lease ends it is sent again. Receivers dedupe on
//! `X-Jiesu-Event-Id` (also `event_id` in the body; a generic case's event is `case-<id>` in the
//! header and `case_event_id` in the body). One request's (or case's) events are sent to one
//! receiver in order within a round, but a retry can be overtaken by later events: receivers
//! that care order by (`request_id`, `seq`) or (`case_kind`, `case_id`, `seq`).

use super::sign::signature_header;
use jiesu_store::{CaseEventOut, ClaimedDelivery, DeliveredEvent, Store};
use jiff::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// Tuning of the worker; `Default` is what `jiesu serve` runs.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How long a claimed delivery is reserved for its worker (longer than `timeout`).
    pub lease: Duration,
    /// Per request to a receiver.
    pub timeout: Duration,
    /// Sleep when there was nothing to do.
    pub idle: Duration,
    /// Deliveries claimed (and sent concurrently) per round.
    pub batch: u32,
    /// Delivered rows are kept this long for the counts, then pruned.
    pub keep_delivered: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 10,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(3600),
            lease: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            idle: Duration::from_millis(250),
            batch: 32,
            keep_delivered: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl DeliveryConfig {
    /// Wait before attempt `failures + 1`: base × 2^(failures−1), capped, with ±20% jitter so
    /// the retries of one outage do not arrive at the receiver all at once.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        let d = self
            .base_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let mut b = [0u8; 2];
        let _ = getrandom::fill(&mut b);
        let jitter = 0.8 + 0.4 * f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX);
        d.mul_f64(jitter)
    }
}

/// The body of a delivery: stable across retries (only the signature's timestamp changes).
#[derive(Serialize)]
struct Payload<'a> {
    /// The event's id: the same on every retry, for receivers to dedupe on.
    event_id: i64,
    request_id: i64,
    tracking_code: &'a str,
    /// The event kind's code (`received`, `dispatched`, …).
    #[serde(rename = "type")]
    kind: &'a str,
    /// The event as the API shows it to a role that does not see callers' identities.
    event: crate::views::EventView,
}

/// The body of a generic case's delivery. The kind's event payload goes out as stored: kinds
/// keep identities out of their events (they refer to registry ids), so nothing is masked here.
#[derive(Serialize)]
struct CasePayload<'a> {
    /// `case_events.id`: the same on every retry.
    case_event_id: i64,
    case_kind: &'a str,
    case_id: i64,
    /// The kind's event name.
    #[serde(rename = "type")]
    kind: &'a str,
    event: CaseEventBody<'a>,
}

#[derive(Serialize)]
struct CaseEventBody<'a> {
    seq: i64,
    at: Timestamp,
    actor: &'a jiesu_domain::Actor,
    reason: Option<&'a str>,
    payload: serde_json::Value,
}

/// The JSON body for a claimed delivery; callers' names and phones are masked (a subscriber is
/// another system, and lists never reveal identities either).
pub fn payload(d: &ClaimedDelivery) -> Vec<u8> {
    match &d.subject {
        DeliveredEvent::Request {
            request_id,
            tracking_code,
            event,
        } => {
            let kind = event.kind.name();
            let Some(event) = crate::views::event_views(vec![event.clone()], false)
                .into_iter()
                .next()
            else {
                return Vec::new();
            };
            let p = Payload {
                event_id: d.event_id,
                request_id: *request_id,
                tracking_code,
                kind,
                event,
            };
            serde_json::to_vec(&p).unwrap_or_default()
        }
        DeliveredEvent::Case(c) => case_payload(d.event_id, c),
    }
}

fn case_payload(case_event_id: i64, c: &CaseEventOut) -> Vec<u8> {
    // The stored payload is the engine's own JSON; were it ever not, send it as a string
    // rather than nothing.
    let payload = serde_json::from_str(&c.payload)
        .unwrap_or_else(|_| serde_json::Value::String(c.payload.clone()));
    let p = CasePayload {
        case_event_id,
        case_kind: &c.kind,
        case_id: c.case_id,
        kind: &c.name,
        event: CaseEventBody {
            seq: c.seq,
            at: c.at,
            actor: &c.actor,
            reason: c.reason.as_deref(),
            payload,
        },
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

/// Runs the worker until the process ends.
pub fn spawn_delivery_worker(store: Store, cfg: DeliveryConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(cfg.timeout)
            // A redirect is answered as a failure: a signed body must not wander elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jiesu-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook client could not be built; no deliveries");
                return;
            }
        };
        let mut last_prune = std::time::Instant::now();
        loop {
            let busy = round(&store, &client, &cfg).await;
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = std::time::Instant::now();
                let keep = jiff::SignedDuration::try_from(cfg.keep_delivered).unwrap_or_default();
                if let Ok(before) = Timestamp::now().checked_sub(keep)
                    && let Err(e) = store.prune_deliveries(before).await
                {
                    tracing::warn!(error = %e, "pruning delivered webhooks failed");
                }
            }
            if !busy {
                tokio::time::sleep(cfg.idle).await;
            }
        }
    })
}

/// One round: fan out, claim, send. Returns whether there was work (then go again at once).
pub async fn round(store: &Store, client: &reqwest::Client, cfg: &DeliveryConfig) -> bool {
    let mut busy = false;
    match store.outbox_fan_out(Timestamp::now(), 500).await {
        Ok(n) => {
            busy |= n > 0;
            // Fewer rows than asked for: both outboxes were empty when this round ended.
            if n < 500 {
                jiesu_app::metrics::outbox_drained(Timestamp::now().as_millisecond());
            }
        }
        Err(e) => tracing::warn!(error = %e, "outbox fan-out failed"),
    }
    let lease_ms = i64::try_from(cfg.lease.as_millis()).unwrap_or(30_000);
    let claimed = match store
        .claim_deliveries(Timestamp::now(), lease_ms, cfg.batch)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed");
            return busy;
        }
    };
    busy |= !claimed.is_empty();
    // One request's (or case's) events go to one receiver one after another, in event order
    // (the claim is ordered by event id); different streams and receivers go concurrently.
    let mut groups: std::collections::BTreeMap<(i64, String, i64), Vec<ClaimedDelivery>> =
        std::collections::BTreeMap::new();
    for d in claimed {
        let (kind, id) = d.stream();
        groups
            .entry((d.webhook_id, kind.to_string(), id))
            .or_default()
            .push(d);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (_, group) in groups {
        let (store, client, cfg) = (store.clone(), client.clone(), cfg.clone());
        tasks.spawn(async move {
            for d in group {
                deliver(&store, &client, &cfg, d).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    busy
}

async fn deliver(
    store: &Store,
    client: &reqwest::Client,
    cfg: &DeliveryConfig,
    d: ClaimedDelivery,
) {
    let body = payload(&d);
    let now = Timestamp::now();
    let sig = signature_header(&d.secret, now.as_second(), &body);
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-jiesu-event-id", d.dedupe_key())
        .header("x-jiesu-event-type", d.event_type())
        .header("x-jiesu-delivery", d.id.to_string())
        .header("x-jiesu-attempt", (d.attempts + 1).to_string())
        .header("x-jiesu-timestamp", now.as_second().to_string())
        .header("x-jiesu-signature", sig)
        .body(body)
        .send()
        .await;
    let failure = match sent {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("HTTP {}", r.status())),
        Err(e) if e.is_timeout() => Some(format!("timed out after {:?}", cfg.timeout)),
        Err(e) if e.is_connect() => Some(format!("cannot connect: {e}")),
        Err(e) => Some(e.to_string()),
    };
    let now = Timestamp::now();
    let recorded = match failure {
        None => store.delivery_succeeded(d.id, now).await,
        Some(err) => {
            let failures = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
            let retry_at = (failures < cfg.max_attempts)
                .then(|| {
                    jiff::SignedDuration::try_from(cfg.backoff(failures))
                        .ok()
                        .and_then(|b| now.checked_add(b).ok())
                })
                .flatten();
            jiesu_app::metrics::webhook_failed(retry_at.is_none());
            if retry_at.is_none() {
                tracing::warn!(delivery = d.id, webhook = d.webhook_id, error = %err, "webhook delivery dead-lettered");
            }
            store.delivery_failed(d.id, now, &err, retry_at).await
        }
    };
    if let Err(e) = recorded {
        // The lease runs out and the delivery is tried again: at-least-once holds.
        tracing::warn!(delivery = d.id, error = %e, "recording a webhook delivery failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let cfg = DeliveryConfig {
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            ..DeliveryConfig::default()
        };
        for (failures, nominal) in [
            (1, 2.0),
            (2, 4.0),
            (3, 8.0),
            (5, 32.0),
            (6, 60.0),
            (40, 60.0),
        ] {
            let b = cfg.backoff(failures).as_secs_f64();
            assert!(
                b >= nominal * 0.79 && b <= nominal * 1.21,
                "{failures}: {b}"
            );
        }
    }
}
