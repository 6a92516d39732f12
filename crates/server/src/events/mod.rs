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
