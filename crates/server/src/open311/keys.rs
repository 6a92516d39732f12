//! Open311 client API keys: issued per client by an admin (`/api/v1/open311/keys` or
//! `jiesu open311 key add`), shown once, stored only as a SHA-256, revocable.

use crate::AppState;
use crate::auth::{CurrentUser, new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use jiesu_store::{ApiKey, AuditEntry, Store, User};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Every key starts so; a leaked one is easy to recognise in logs and code.
pub const KEY_PREFIX: &str = "o311_";

/// `/api/v1/open311/keys…`, merged into the `/api/v1` router.
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/open311/keys", get(list).post(create))
        .route("/open311/keys/{id}/revoke", post(revoke))
}

/// A new key: the stored record and the key itself, which exists nowhere else.
#[derive(Debug, Serialize)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub api_key: String,
}

/// Checks a client name: 1–100 characters, one line.
pub fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "invalid_name",
            "1–100 characters on one line",
        ));
    }
    Ok(name.to_string())
}

/// Issues a key to `name` (shared by the admin API and the CLI).
pub async fn issue(store: &Store, name: &str, now: Timestamp) -> ApiResult<IssuedKey> {
    let name = check_name(name)?;
    let api_key = format!("{KEY_PREFIX}{}", new_token().map_err(ApiError::internal)?);
    let key = store
        .create_api_key(&name, &token_hash(&api_key), now)
        .await?;
    Ok(IssuedKey { key, api_key })
}

/// Why a presented key does not open the door.
#[derive(Debug)]
pub enum KeyRefusal {
    /// Missing, unknown or revoked (HTTP 403); the text says which.
    Refused(&'static str),
    /// The key could not be checked (database trouble).
    Failed(jiesu_store::StoreError),
}

/// The live key a client presented, or why it is refused.
pub async fn check_key(store: &Store, presented: Option<&str>) -> Result<ApiKey, KeyRefusal> {
    let presented = presented.map(str::trim).filter(|k| !k.is_empty());
    let Some(presented) = presented else {
        return Err(KeyRefusal::Refused(
            "api_key is required to create a service request",
        ));
    };
    // A key is the prefix and 64 hex characters; anything else cannot match and needs no query.
    let well_formed = presented
        .strip_prefix(KEY_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(KeyRefusal::Refused("invalid api_key"));
    }
    match store.api_key_by_hash(&token_hash(presented)).await {
        Ok(Some(k)) if k.revoked_at.is_none() => Ok(k),
        Ok(Some(_)) => Err(KeyRefusal::Refused("this api_key has been revoked")),
        Ok(None) => Err(KeyRefusal::Refused("invalid api_key")),
        Err(e) => Err(KeyRefusal::Failed(e)),
    }
}

fn require_admin(user: &User) -> ApiResult<()> {
    Ok(jiesu_app::require(
        user,
        jiesu_app::Capability::ManageApiKeys,
    )?)
}

async fn audit(app: &AppState, user: &User, action: &str, key: &ApiKey) -> ApiResult<()> {
    app.store
        .audit(&AuditEntry {
            at: app.now(),
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.as_str().to_string(),
            action: action.to_string(),
            target_type: "open311_key".into(),
            target_id: key.id.to_string(),
            detail: Some(key.name.clone()),
        })
        .await?;
    Ok(())
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<ApiKey>>> {
    require_admin(&user)?;
    Ok(Json(app.store.api_keys().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    pub name: String,
}

pub async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    crate::ApiJson(body): crate::ApiJson<CreateKeyBody>,
) -> ApiResult<(StatusCode, Json<IssuedKey>)> {
    require_admin(&user)?;
    let issued = issue(&app.store, &body.name, app.now()).await?;
    audit(&app, &user, "open311_key_issued", &issued.key).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub async fn revoke(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<ApiKey>> {
    require_admin(&user)?;
    let Path(id) = id?;
    let key = app.store.revoke_api_key(id, app.now()).await?;
    audit(&app, &user, "open311_key_revoked", &key).await?;
    Ok(Json(key))
}
