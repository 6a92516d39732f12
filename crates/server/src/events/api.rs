//! Admin API of webhook subscribers: create (the secret is shown once), list with delivery
//! counts, disable, dead letters and their retry. Every change is written to the audit log.

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::{ApiJson, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiesu_store::{DeadLetter, Webhook};

pub use jiesu_app::webhooks::*;

pub async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let created = create_webhook(&app, &user, &body.name, &body.url).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(jiesu_app::webhooks::list(&app, &user).await?))
}

pub async fn disable(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Webhook>> {
    let Path(id) = id?;
    Ok(Json(disable_webhook(&app, &user, id).await?))
}

pub async fn dead_letters(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<DeadLetterQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<DeadLetter>>> {
    let Query(q) = q?;
    Ok(Json(
        jiesu_app::webhooks::dead_letters(
            &app,
            &user,
            q.webhook_id,
            q.before,
            q.limit.unwrap_or(100),
        )
        .await?,
    ))
}

pub async fn retry_one(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Retried>> {
    let Path(id) = id?;
    let n = retry_dead_letter(&app, &user, id).await?;
    Ok(Json(Retried { retried: n }))
}

pub async fn retry_all(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<RetryAllQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Retried>> {
    let Query(q) = q?;
    let n = retry_dead_letters(&app, &user, q.webhook_id).await?;
    Ok(Json(Retried { retried: n }))
}
