//! Open311 client API keys: issued per client by an admin (`/api/v1/open311/keys` or
//! `jiesu open311 key add`), shown once, stored only as a SHA-256, revocable; and the public
//! read side's queries.

use crate::App;
use crate::accounts::{new_token, token_hash};
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::RequestState;
use jiesu_store::{ApiKey, Open311Query, User};
use serde::Serialize;

/// Every key starts so; a leaked one is easy to recognise in logs and code.
pub const KEY_PREFIX: &str = "o311_";

/// A new key: the stored record and the key itself, which exists nowhere else.
#[derive(Debug, Serialize)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub api_key: String,
}

/// Checks a client name: 1–100 characters, one line.
pub fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "invalid_name",
            "1–100 characters on one line",
        ));
    }
    Ok(name.to_string())
}

/// Issues a key to `name` from the console (`jiesu open311 key add`: whoever runs the command
/// holds the database).
pub async fn issue(app: &App, name: &str) -> AppResult<IssuedKey> {
    let name = check_name(name)?;
    let api_key = format!("{KEY_PREFIX}{}", new_token().map_err(AppError::internal)?);
    let key = app
        .store
        .create_api_key(&name, &token_hash(&api_key), app.now())
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
pub async fn check_key(app: &App, presented: Option<&str>) -> Result<ApiKey, KeyRefusal> {
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
    match app.store.api_key_by_hash(&token_hash(presented)).await {
        Ok(Some(k)) if k.revoked_at.is_none() => Ok(k),
        Ok(Some(_)) => Err(KeyRefusal::Refused("this api_key has been revoked")),
        Ok(None) => Err(KeyRefusal::Refused("invalid api_key")),
        Err(e) => Err(KeyRefusal::Failed(e)),
    }
}

async fn audit(app: &App, user: &User, action: &str, key: &ApiKey) -> AppResult<()> {
    let (id, name) = (key.id.to_string(), Some(key.name.clone()));
    crate::accounts::audit(app, user, action, "open311_key", id, name).await
}

/// Every key, for an administrator.
pub async fn keys(app: &App, user: &User) -> AppResult<Vec<ApiKey>> {
    require(user, Capability::ManageApiKeys)?;
    Ok(app.store.api_keys().await?)
}

/// Issues a key for an administrator; audited.
pub async fn issue_for(app: &App, user: &User, name: &str) -> AppResult<IssuedKey> {
    require(user, Capability::ManageApiKeys)?;
    let issued = issue(app, name).await?;
    audit(app, user, "open311_key_issued", &issued.key).await?;
    Ok(issued)
}

/// Revokes key `id` for an administrator; audited.
pub async fn revoke(app: &App, user: &User, id: i64) -> AppResult<ApiKey> {
    require(user, Capability::ManageApiKeys)?;
    let key = app.store.revoke_api_key(id, app.now()).await?;
    audit(app, user, "open311_key_revoked", &key).await?;
    Ok(key)
}

/// One request for the public read side (the door decides what of it is public).
pub async fn request(app: &App, id: i64) -> AppResult<Option<RequestState>> {
    Ok(app.store.get(id).await?)
}

/// The public read side's search.
pub async fn requests(app: &App, q: &Open311Query) -> AppResult<Vec<RequestState>> {
    Ok(app.store.open311_requests(q).await?)
}

/// Every key, for the console (`jiesu open311 key list`: whoever runs it holds the database).
pub async fn console_keys(app: &App) -> AppResult<Vec<ApiKey>> {
    Ok(app.store.api_keys().await?)
}

/// Revokes key `id` from the console (`jiesu open311 key revoke`).
pub async fn console_revoke(app: &App, id: i64) -> AppResult<ApiKey> {
    app.store
        .revoke_api_key(id, app.now())
        .await
        .map_err(|e| match e {
            jiesu_store::StoreError::NotFound => AppError::new(
                crate::ErrorKind::NotFound,
                "not_found",
                format!("no Open311 key with id {id}"),
            ),
            other => other.into(),
        })
}
