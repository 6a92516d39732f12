//! `/api/v1` handlers, one module per resource.

pub mod admin;
pub mod analytics;
pub mod assessment;
pub mod export;
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
    match app.store.count_by_status().await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "backend": app.store.backend()})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "backend": app.store.backend()})),
            )
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
