//! Values of the events-out machinery: webhook subscribers, their deliveries, dead letters.
//! The operations are in `outbox.rs` (`backend/`, compiled once per backend).

use jiesu_domain::Event;
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
    /// `request_events.id`: the event's identity across retries, for receivers to dedupe on.
    pub event_id: i64,
    pub request_id: i64,
    pub tracking_code: String,
    pub event: Event,
}

/// A delivery that used up its attempts, as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub request_id: i64,
    pub event_type: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub failed_at: Option<Timestamp>,
}

/// What the outbox and the deliveries hold right now (for admins and tests).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutboxStats {
    /// Outbox rows not yet fanned out to subscribers.
    pub outbox: i64,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}
