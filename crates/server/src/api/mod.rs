//! `/api/v1` handlers, one module per resource.

pub mod admin;
pub mod alarms;
pub mod analytics;
pub mod assessment;
pub mod care;
pub mod childcare;
pub mod export;
pub mod knowledge;
pub mod requests;
pub mod suggest;
pub mod suggest_accuracy;
pub mod world;

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub async fn healthz(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    match app.health().await {
        (true, backend) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "backend": backend})),
        ),
        (false, backend) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "backend": backend})),
        ),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
