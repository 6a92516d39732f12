//! Accounts at the HTTP door: bearer tokens and the session cookie (server-side revocable
//! sessions, only a SHA-256 of the token stored), CSRF for cookie calls, the client address.
//! The rules — password policy, login throttling, idle timeout, audit — are `jiesu_app::accounts`.

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
pub const SESSION_COOKIE: &str = "jiesu_session";

pub use jiesu_app::accounts::{hash_password, new_token, token_hash, verify_password};

/// The client's address for throttling and the audit log: the peer of the TCP connection or,
/// behind a reverse proxy the deployment trusts (`serve --trust-proxy`), the address the proxy
/// appended last to `X-Forwarded-For` (a client can forge the ones before it).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if app.trust_proxy
            && let Some(last) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|s| !s.is_empty())
            && let Ok(ip) = last.parse::<std::net::IpAddr>()
        {
            return Ok(ClientAddr(ip.to_string()));
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(ClientAddr(peer.unwrap_or_else(|| "unknown".into())))
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
    /// The holder must change the password (`POST /auth/password`) before anything else.
    pub must_change_password: bool,
}

pub async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    body: crate::ApiJson<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    let body = body.0;
    let (token, expires_at, user) =
        authenticate(&app, &body.username, body.password, &addr.0).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        must_change_password: jiesu_app::accounts::must_change_password(&app, &user),
        user,
    }))
}

/// Checks a username and password (throttled in the database per name and address, audited)
/// and opens a session: the token to hand the client, its expiry and the user. Shared by the
/// API login and the web login form.
pub async fn authenticate(
    app: &AppState,
    username: &str,
    password: String,
    addr: &str,
) -> ApiResult<(String, Timestamp, User)> {
    let user = jiesu_app::accounts::login(&app.app, username, password, addr).await?;
    let (token, expires_at) =
        jiesu_app::accounts::open_session(&app.app, &user, app.session_ttl).await?;
    Ok((token, expires_at, user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    pub password: String,
}

/// `POST /auth/password`: change one's own password (the current one proves the holder);
/// every other session of the account ends.
pub async fn change_password(
    State(app): State<AppState>,
    parts: Parts,
    body: crate::ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    let (token, via) = credentials(&parts).ok_or_else(ApiError::unauthorized)?;
    let user = user_for_token(&app, &token).await?;
    csrf_checked(&parts, &token, via)?;
    let body = body.0;
    jiesu_app::accounts::change_password(
        &app,
        &user,
        &token_hash(&token),
        body.current_password,
        &body.password,
    )
    .await?;
    app.sessions.forget_user(user.id);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn logout(State(app): State<AppState>, parts: Parts) -> ApiResult<StatusCode> {
    match credentials(&parts) {
        Some((t, via)) => {
            csrf_checked(&parts, &t, via)?;
            let hash = token_hash(&t);
            if let Ok(u) = user_for_token(&app, &t).await {
                jiesu_app::accounts::audit_logout(&app, &u).await?;
            }
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
    credentials(parts).map(|(t, _)| t)
}

/// Where a request's session token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Header,
    /// A browser sends cookies on cross-site forms too: such calls need a CSRF proof.
    Cookie,
}

fn credentials(parts: &Parts) -> Option<(String, Via)> {
    if let Some(v) = parts.headers.get(axum::http::header::AUTHORIZATION)
        && let Ok(s) = v.to_str()
        && let Some(t) = s.strip_prefix("Bearer ")
    {
        return Some((t.trim().to_string(), Via::Header));
    }
    for v in parts.headers.get_all(axum::http::header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for kv in s.split(';') {
            if let Some((k, val)) = kv.trim().split_once('=')
                && k == SESSION_COOKIE
            {
                return Some((val.to_string(), Via::Cookie));
            }
        }
    }
    None
}

/// The CSRF token of a session: a hash of the secret session token, so a page from another
/// site can neither read nor compute it, and nothing extra is stored.
pub fn csrf_token(session_token: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("jiesu-csrf\0{session_token}").as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Compares a presented secret with the expected one in constant time (the web forms' and the
/// API's CSRF checks).
pub fn same_secret(given: &str, want: &str) -> bool {
    given.len() == want.len()
        && given
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A state-changing API call authenticated by the session cookie alone must carry the
/// session's CSRF token in `X-CSRF-Token` (which a cross-site form cannot set); reads and
/// bearer-token calls need none.
fn csrf_checked(parts: &Parts, token: &str, via: Via) -> Result<(), ApiError> {
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if via == Via::Header || safe {
        return Ok(());
    }
    let want = csrf_token(token);
    let given = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if same_secret(given, &want) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "a call authenticated by the session cookie must send X-CSRF-Token; API clients use Authorization: Bearer",
        ))
    }
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
    /// Drops every cached session of a user (disabled, reset, sessions revoked): on this
    /// server the change applies at once.
    pub fn forget_user(&self, user_id: i64) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|_, (u, _)| u.id != user_id);
        }
    }
}

/// The logged-in user; rejects with 401.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let (token, via) = credentials(parts).ok_or_else(ApiError::unauthorized)?;
        let user = user_for_token(app, &token).await?;
        crate::metrics::note_user(parts, user.id);
        csrf_checked(parts, &token, via)?;
        // After an admin's reset (or past the policy's age) the password comes first; what
        // the holder may still do is see who they are, change it (`change_password`, which
        // does not take this extractor) and log out.
        let path = parts.uri.path();
        if jiesu_app::accounts::must_change_password(app, &user)
            && !path.ends_with("/auth/me")
            && !path.ends_with("/auth/logout")
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "change your password first: POST /api/v1/auth/password",
            ));
        }
        Ok(CurrentUser(user))
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
        match jiesu_app::accounts::session_user(app, &hash, app.session_idle).await? {
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
