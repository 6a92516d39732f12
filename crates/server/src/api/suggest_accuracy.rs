//! `GET /api/v1/suggestions/accuracy?period=2026-11`: how well the intake suggestions matched
//! where requests ended up (`jiesu_app::text::accuracy`).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};

pub use jiesu_app::text::accuracy::*;

pub fn routes() -> Router<AppState> {
    Router::new().route("/suggestions/accuracy", get(get_accuracy))
}

async fn get_accuracy(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<AccuracyQuery>, QueryRejection>,
) -> ApiResult<Json<AccuracyReport>> {
    let Query(q) = query?;
    Ok(Json(
        jiesu_app::text::accuracy::accuracy(&app, &user, &q).await?,
    ))
}
