//! Values of the events-out machinery: webhook subscribers, their deliveries, dead letters.
//! The operations are in `outbox.rs` (`backend/`, compiled once per backend).

use jiesu_domain::{Actor, Event};
use jiff::Timestamp;
use serde::Serialize;

/// A webhook subscriber as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub disabled_at: Option<Timestamp>,
    /// Deliveries waiting (first attempt or a retry).
    pub pending: i64,
    pub delivered: i64,
    /// Deliveries that used up their attempts (the dead-letter list).
    pub dead: i64,
}

/// A delivery a worker has claimed: the event, where to send it and the key to sign it with.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// `request_events.id` or `case_events.id` (see `subject`): the event's identity across
    /// retries, for receivers to dedupe on (with `dedupe_key`, unique across both logs).
    pub event_id: i64,
    pub subject: DeliveredEvent,
}

/// What a delivery carries: an event of a 12345 request or of a generic case.
#[derive(Debug, Clone)]
pub enum DeliveredEvent {
    Request {
        request_id: i64,
        tracking_code: String,
        event: Event,
    },
    Case(CaseEventOut),
}

/// A generic case's event as it goes out: the stored row, its payload the kind's JSON.
#[derive(Debug, Clone)]
pub struct CaseEventOut {
    /// `CaseKind::KIND`.
    pub kind: String,
    pub case_id: i64,
    pub seq: i64,
    pub at: Timestamp,
    /// `CaseKind::event_name`.
    pub name: String,
    pub actor: Actor,
    pub reason: Option<String>,
    /// The event payload (JSON) as stored.
    pub payload: String,
}

impl ClaimedDelivery {
    /// The event's identity for receivers: the request event's id as before (`"812"`), a case
    /// event's prefixed (`"case-17"`) since the two logs number their events independently.
    pub fn dedupe_key(&self) -> String {
        match &self.subject {
            DeliveredEvent::Request { .. } => self.event_id.to_string(),
            DeliveredEvent::Case(_) => format!("case-{}", self.event_id),
        }
    }

    /// The event's type code (`received`, `dispatched`, … or the case kind's event name).
    pub fn event_type(&self) -> &str {
        match &self.subject {
            DeliveredEvent::Request { event, .. } => event.kind.name(),
            DeliveredEvent::Case(c) => &c.name,
        }
    }

    /// The stream whose events one receiver gets in order: one request, or one case of a kind.
    pub fn stream(&self) -> (&str, i64) {
        match &self.subject {
            DeliveredEvent::Request { request_id, .. } => ("request", *request_id),
            DeliveredEvent::Case(c) => (&c.kind, c.case_id),
        }
    }
}

/// A delivery that used up its attempts, as admins see it: of a request event (`request_id`)
/// or of a case event (`case_kind`, `case_id`; `event_id` is then the case event's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    pub event_type: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub failed_at: Option<Timestamp>,
}

/// What the outbox and the deliveries hold right now (for admins and tests).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutboxStats {
    /// Request outbox rows not yet fanned out to subscribers.
    pub outbox: i64,
    /// Generic cases' outbox rows not yet fanned out.
    pub case_outbox: i64,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    /// When the oldest event still waiting (in either outbox, or as a pending delivery) was
    /// written, Unix ms; None when nothing waits. Its age is the events-out lag.
    pub oldest_waiting_at_ms: Option<i64>,
}

/// One connection pool at an instant: SQLite has a writer and a reader pool, PostgreSQL one
/// shared pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub pool: &'static str,
    /// Open connections.
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}
