//! Administration: accounts, the audit log, and a manual SLA sweep.

use crate::auth::{CurrentUser, hash_password};
use crate::error::{ApiError, ApiResult};
use crate::{ApiJson, AppState};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use jiesu_domain::Role;
use jiesu_store::{AuditEntry, NewUser, SweepReport, User};
use serde::Deserialize;

fn require(user: &User, roles: &[Role]) -> ApiResult<()> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} may not do this",
            user.role.label_zh()
        )))
    }
}

pub async fn users(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<User>>> {
    require(&user, &[Role::Admin])?;
    Ok(Json(app.store.users().await?))
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

/// Validates and hashes a new account (shared by the API and `jiesu user add`).
pub fn new_user(
    dir: &jiesu_domain::Directory,
    username: &str,
    display_name: Option<&str>,
    password: &str,
    role: &str,
    unit: Option<&str>,
) -> ApiResult<NewUser> {
    let username = username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(ApiError::invalid(
            "username",
            "invalid_username",
            "1–64 characters of letters, digits, . _ -",
        ));
    }
    if password.chars().count() < 10 {
        return Err(ApiError::invalid(
            "password",
            "weak_password",
            "at least 10 characters",
        ));
    }
    let role: Role = role
        .parse()
        .ok()
        .filter(|r: &Role| r.is_account_role())
        .ok_or_else(|| {
            ApiError::invalid(
                "role",
                "unknown_role",
                "one of operator, dispatcher, handler, callback, supervisor, admin",
            )
        })?;
    let unit_code = match (role, unit) {
        (Role::Handler, None) => {
            return Err(ApiError::invalid(
                "unit",
                "required",
                "a handler belongs to one unit",
            ));
        }
        (Role::Handler, Some(u)) => {
            if dir.unit(u).is_none() {
                return Err(ApiError::invalid(
                    "unit",
                    "unknown_unit",
                    format!("unknown unit `{u}`"),
                ));
            }
            Some(u.to_string())
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "unit",
                "not_a_handler",
                "only handlers belong to a unit",
            ));
        }
        (_, None) => None,
    };
    let password_hash = hash_password(password).map_err(ApiError::internal)?;
    Ok(NewUser {
        username: username.to_string(),
        display_name: display_name.unwrap_or(username).to_string(),
        password_hash,
        role,
        unit_code,
    })
}

pub async fn create_user(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> ApiResult<(StatusCode, Json<User>)> {
    require(&user, &[Role::Admin])?;
    let dir = app.dir.clone();
    let nu = tokio::task::spawn_blocking(move || {
        new_user(
            &dir,
            &body.username,
            body.display_name.as_deref(),
            &body.password,
            &body.role,
            body.unit.as_deref(),
        )
    })
    .await
    .map_err(ApiError::internal)??;
    let now = app.now();
    let id = app.store.create_user(&nu, now).await?;
    app.store
        .audit(&AuditEntry {
            at: now,
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.as_str().into(),
            action: "create_user".into(),
            target_type: "user".into(),
            target_id: id.to_string(),
            detail: Some(format!("{} as {}", nu.username, nu.role.as_str())),
        })
        .await?;
    let created = app
        .store
        .user_by_username(&nu.username)
        .await?
        .ok_or_else(|| ApiError::internal("user vanished after insert"))?;
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
    require(&user, &[Role::Admin, Role::Supervisor])?;
    let (t, id) = q.target.split_once(':').ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "target",
            "expected TYPE:ID such as request:123",
        )
    })?;
    Ok(Json(app.store.audit_for(t, id).await?))
}

/// Runs the SLA sweep now (it also runs periodically in the background).
pub async fn sweep(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<SweepReport>> {
    require(&user, &[Role::Admin, Role::Supervisor, Role::Dispatcher])?;
    Ok(Json(app.store.sweep_sla(app.now()).await?))
}
