//! Routing suggestions at intake (`jiesu_app::text`), as HTTP:
//!
//! * `POST /api/v1/requests/suggest`: a dry run on an intake body (nothing is stored).
//! * `POST /api/v1/models/reload`: load the newest trained models now (admin).

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::{ApiJson, AppState};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;

pub use jiesu_app::text::*;

/// Routes of this module (merged into `/api/v1`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests/suggest", post(suggest))
        .route("/models/reload", post(reload))
}

pub async fn suggest(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SuggestBody>,
) -> ApiResult<Json<Suggestions>> {
    Ok(Json(jiesu_app::text::suggest(&app, &user, body).await?))
}

pub async fn reload(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Value>> {
    let versions = reload_models(&app, &user).await?;
    Ok(Json(serde_json::json!({ "models": versions })))
}
