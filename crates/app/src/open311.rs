//! Open311 client API keys: issued per client by an admin (`/api/v1/open311/keys` or
//! `jiesu open311 key add`), shown once, stored only as a SHA-256, revocable; and the public
//! read side, which shows only what the district's publication policy allows (`publish`).

mod publish;

pub use publish::{
    COORDS_CLOSE, COORDS_OPEN, Published, cut_to_building, is_published, publish, redact, scrub,
    split_coordinates,
};

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

/// A request as the public read side may show it.
#[derive(Debug, Clone)]
pub struct PublicRequest {
    pub state: RequestState,
    pub published: Published,
}

fn public(app: &App, state: RequestState) -> Option<PublicRequest> {
    let published = publish(&state, &app.dir.world)?;
    Some(PublicRequest { state, published })
}

/// One request for the public read side: `None` both when it does not exist and when the
/// policy keeps it private, so a door answers the two alike and ids cannot be probed.
pub async fn request(app: &App, id: i64) -> AppResult<Option<PublicRequest>> {
    Ok(app.store.get(id).await?.and_then(|st| public(app, st)))
}

/// The public read side's search: `q`'s filters and page over the published requests only.
/// The policy's channels and public categories go into the query itself, so paging counts
/// published requests and a page is never short because private ones were dropped after.
pub async fn requests(app: &App, q: &Open311Query) -> AppResult<Vec<PublicRequest>> {
    let world = &app.dir.world;
    let mut q = q.clone();
    q.public_only = true;
    q.channels = jiesu_domain::Channel::ALL
        .iter()
        .copied()
        .filter(|c| world.district.publication.publishes_channel(c.as_str()))
        .collect();
    let public_leaves = world
        .leaf_categories()
        .filter(|c| world.category_is_public(&c.code))
        .map(|c| c.code.clone());
    q.categories = if q.categories.is_empty() {
        public_leaves.collect()
    } else {
        let asked = std::mem::take(&mut q.categories);
        public_leaves.filter(|c| asked.contains(c)).collect()
    };
    // Nothing can be published: an empty filter would mean "any", so ask nothing.
    if q.channels.is_empty() || q.categories.is_empty() {
        return Ok(Vec::new());
    }
    let found = app.store.open311_requests(&q).await?;
    // The query already holds the policy; checking each row again keeps the one rule
    // (`is_published`) the last word.
    Ok(found.into_iter().filter_map(|st| public(app, st)).collect())
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

#[cfg(test)]
mod tests {
    use jiesu_domain::Channel;

    /// The world validates `[publication] channels` against its own list, since it cannot
    /// name the domain's enum; the two must stay the same.
    #[test]
    fn the_world_knows_every_channel() {
        let domain: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(domain, jiesu_world::CHANNELS);
    }
}
