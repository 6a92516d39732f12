//! Accounts: argon2 password hashes, server-side revocable sessions (only a SHA-256 of the token
//! is stored), and a login rate limit.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use jiesu_store::User;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use std::collections::HashMap;
use std::sync::Mutex;

/// A session lasts one long shift.
pub const SESSION_TTL: SignedDuration = SignedDuration::from_hours(12);
/// Failed logins allowed per username within [`LOCKOUT_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT_WINDOW: SignedDuration = SignedDuration::from_mins(15);
pub const SESSION_COOKIE: &str = "jiesu_session";

pub use jiesu_app::accounts::{hash_password, new_token, token_hash, verify_password};

/// Per-username failure counts. In-process: with several servers each enforces its own window,
/// which still bounds guessing to a small multiple.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Timestamp)>>,
}

impl LoginLimiter {
    fn locked(&self, user: &str, now: Timestamp) -> bool {
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        map.get(user).is_some_and(|(n, since)| {
            *n >= MAX_FAILURES && now.duration_since(*since) < LOCKOUT_WINDOW
        })
    }
    fn fail(&self, user: &str, now: Timestamp) {
        if let Ok(mut map) = self.failures.lock() {
            let e = map.entry(user.to_string()).or_insert((0, now));
            if now.duration_since(e.1) >= LOCKOUT_WINDOW {
                *e = (0, now);
            }
            e.0 += 1;
        }
    }
    fn succeed(&self, user: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(user);
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Serialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

pub async fn login(
    State(app): State<AppState>,
    body: crate::ApiJson<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    let body = body.0;
    let (token, expires_at, user) = authenticate(&app, &body.username, body.password).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user,
    }))
}

/// Checks a username and password (rate-limited) and opens a session: the token to hand the
/// client, its expiry and the user. Shared by the API login and the web login form.
pub async fn authenticate(
    app: &AppState,
    username: &str,
    password: String,
) -> ApiResult<(String, Timestamp, User)> {
    let now = app.now();
    let username = username.trim().to_string();
    if username.is_empty() {
        return Err(ApiError::invalid(
            "username",
            "required",
            "must not be empty",
        ));
    }
    if app.limiter.locked(&username, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed logins; wait 15 minutes",
        ));
    }
    let user = jiesu_app::accounts::verify_login(&app.app, &username, password).await?;
    let user = match user {
        Some(u) => u,
        _ => {
            app.limiter.fail(&username, now);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "wrong username or password",
            ));
        }
    };
    app.limiter.succeed(&username);
    let (token, expires_at) =
        jiesu_app::accounts::open_session(&app.app, &user, app.session_ttl).await?;
    Ok((token, expires_at, user))
}

pub async fn logout(State(app): State<AppState>, parts: Parts) -> ApiResult<StatusCode> {
    match bearer(&parts) {
        Some(t) => {
            let hash = token_hash(&t);
            app.sessions.forget(&hash);
            jiesu_app::accounts::close_session(&app, &hash).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(ApiError::unauthorized()),
    }
}

pub async fn me(user: CurrentUser) -> Json<User> {
    Json(user.0)
}

/// The token from `Authorization: Bearer …` or the session cookie.
fn bearer(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(axum::http::header::AUTHORIZATION)
        && let Ok(s) = v.to_str()
        && let Some(t) = s.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_string());
    }
    for v in parts.headers.get_all(axum::http::header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for kv in s.split(';') {
            if let Some((k, val)) = kv.trim().split_once('=')
                && k == SESSION_COOKIE
            {
                return Some(val.to_string());
            }
        }
    }
    None
}

/// Recently validated sessions, so a busy API does not read the sessions table on every call.
/// An entry lives [`SESSION_CACHE_TTL`]: a revocation on another server takes effect within that
/// time (on this server, at once).
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (User, std::time::Instant)>>,
}

pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl SessionCache {
    fn get(&self, hash: &str) -> Option<User> {
        let map = self.entries.lock().ok()?;
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < SESSION_CACHE_TTL)
            .map(|(u, _)| u.clone())
    }
    fn put(&self, hash: &str, user: &User) {
        if let Ok(mut map) = self.entries.lock() {
            // Bounded: drop stale entries when it grows.
            if map.len() > 10_000 {
                map.retain(|_, (_, at)| at.elapsed() < SESSION_CACHE_TTL);
            }
            map.insert(hash.to_string(), (user.clone(), std::time::Instant::now()));
        }
    }
    pub fn forget(&self, hash: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(hash);
        }
    }
}

/// The logged-in user; rejects with 401.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        user_for_token(app, &token).await.map(CurrentUser)
    }
}

/// The session token from the request (bearer header or cookie), if any.
pub fn session_token(parts: &Parts) -> Option<String> {
    bearer(parts)
}

/// The live session's user for `token`, or 401.
pub async fn user_for_token(app: &AppState, token: &str) -> Result<User, ApiError> {
    {
        // A token is 64 hex chars; anything else cannot match and needs no database trip.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::unauthorized());
        }
        let hash = token_hash(token);
        // A manual clock (tests) must see expiry exactly, so only the system clock uses the cache.
        let cacheable = matches!(app.clock, crate::Clock::System);
        if cacheable && let Some(u) = app.sessions.get(&hash) {
            return Ok(u);
        }
        match jiesu_app::accounts::session_user(app, &hash).await? {
            Some(u) => {
                if cacheable {
                    app.sessions.put(&hash, &u);
                }
                Ok(u)
            }
            None => Err(ApiError::unauthorized()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("s3cret-密码").unwrap();
        assert!(verify_password("s3cret-密码", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", jiesu_app::accounts::DUMMY_HASH));
    }
}
