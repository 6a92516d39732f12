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

type IdPath = Result<axum::extract::Path<i64>, axum::extract::rejection::PathRejection>;

/// `POST /users/{id}/disable`: the account can no longer log in; its sessions end now.
pub async fn disable_user(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<User>> {
    let axum::extract::Path(id) = id?;
    let u = accounts::set_disabled(&app, &user, id, true).await?;
    app.sessions.forget_user(id);
    Ok(Json(u))
}

/// `POST /users/{id}/enable`.
pub async fn enable_user(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<User>> {
    let axum::extract::Path(id) = id?;
    Ok(Json(accounts::set_disabled(&app, &user, id, false).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub password: String,
}

/// `POST /users/{id}/password`: a new password the holder must change at the next login;
/// every session of the account ends.
pub async fn reset_password(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<ResetBody>,
) -> ApiResult<Json<User>> {
    let axum::extract::Path(id) = id?;
    let u = accounts::reset_password(&app, &user, id, &body.password).await?;
    app.sessions.forget_user(id);
    Ok(Json(u))
}

#[derive(serde::Serialize)]
pub struct Revoked {
    pub revoked: u64,
}

/// `POST /users/{id}/sessions/revoke`: ends every live session of the account.
pub async fn revoke_sessions(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<Revoked>> {
    let axum::extract::Path(id) = id?;
    let revoked = accounts::revoke_sessions(&app, &user, id).await?;
    app.sessions.forget_user(id);
    Ok(Json(Revoked { revoked }))
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

/// `GET /audit/verify`: the audit chain recomputed (rows, head, first broken link).
pub async fn verify_audit(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<jiesu_store::ChainReport>> {
    Ok(Json(accounts::verify_audit(&app, &user).await?))
}

/// Runs the SLA sweep now (it also runs periodically in the background).
pub async fn sweep(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<SweepReport>> {
    Ok(Json(jiesu_app::sla::sweep(&app, &user).await?))
}
