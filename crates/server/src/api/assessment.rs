//! `GET /api/v1/assessment`: 考评 of one period, grouped and ranked (`jiesu_app::assessment`).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

pub use jiesu_app::assessment::*;

pub async fn get(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<AssessmentQuery>, QueryRejection>,
) -> ApiResult<Json<AssessmentView>> {
    let Query(q) = query?;
    Ok(Json(jiesu_app::assessment::get(&app, &user, &q).await?))
}
