//! Administration: accounts, the audit log, and a manual SLA sweep (`jiesu_app::accounts`,
//! `jiesu_app::sla`).

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::{ApiJson, AppState};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use jiesu_app::accounts::{self, AccountForm};
use jiesu_store::{AuditEntry, SweepReport, User};
use serde::Deserialize;

pub use jiesu_app::accounts::new_user;

pub async fn users(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(accounts::users(&app, &user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub role: String,
    pub unit: Option<String>,
}

pub async fn create_user(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let form = AccountForm {
        username: &body.username,
        display_name: body.display_name.as_deref(),
        password: &body.password,
        role: &body.role,
        unit: body.unit.as_deref(),
    };
    let created = accounts::create_user(&app, &user, form).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `request:123` or `user:7`.
    pub target: String,
}

pub async fn audit(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let Query(q) = q?;
    Ok(Json(accounts::audit_trail(&app, &user, &q.target).await?))
}

/// Runs the SLA sweep now (it also runs periodically in the background).
pub async fn sweep(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<SweepReport>> {
    Ok(Json(jiesu_app::sla::sweep(&app, &user).await?))
}
