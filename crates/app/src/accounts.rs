//! Accounts and the audit log: who may log in, as what, and what was seen or changed.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiesu_domain::Role;
use jiesu_store::{AuditEntry, NewUser, User};
use sha2::{Digest, Sha256};

/// An argon2 hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A random token to give the client; only its hash is stored.
pub fn new_token() -> Result<String, String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| e.to_string())?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Validates and hashes a new account (shared by the API and `jiesu user add`).
pub fn new_user(
    dir: &jiesu_domain::Directory,
    username: &str,
    display_name: Option<&str>,
    password: &str,
    role: &str,
    unit: Option<&str>,
) -> AppResult<NewUser> {
    let username = username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(AppError::invalid(
            "username",
            "invalid_username",
            "1–64 characters of letters, digits, . _ -",
        ));
    }
    if password.chars().count() < 10 {
        return Err(AppError::invalid(
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
            AppError::invalid(
                "role",
                "unknown_role",
                "one of operator, dispatcher, handler, callback, supervisor, admin",
            )
        })?;
    let unit_code = match (role, unit) {
        (Role::Handler, None) => {
            return Err(AppError::invalid(
                "unit",
                "required",
                "a handler belongs to one unit",
            ));
        }
        (Role::Handler, Some(u)) => {
            if dir.unit(u).is_none() {
                return Err(AppError::invalid(
                    "unit",
                    "unknown_unit",
                    format!("unknown unit `{u}`"),
                ));
            }
            Some(u.to_string())
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "unit",
                "not_a_handler",
                "only handlers belong to a unit",
            ));
        }
        (_, None) => None,
    };
    let password_hash = hash_password(password).map_err(AppError::internal)?;
    Ok(NewUser {
        username: username.to_string(),
        display_name: display_name.unwrap_or(username).to_string(),
        password_hash,
        role,
        unit_code,
    })
}

/// What a new account is given.
pub struct AccountForm<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub password: &'a str,
    pub role: &'a str,
    pub unit: Option<&'a str>,
}

/// Validates, hashes and stores an account for an administrator; audited.
pub async fn create_user(app: &App, user: &User, form: AccountForm<'_>) -> AppResult<User> {
    require(user, Capability::ManageUsers)?;
    let nu = validated(app, &form).await?;
    let id = app.store.create_user(&nu, app.now()).await?;
    let detail = format!("{} as {}", nu.username, nu.role.as_str());
    audit(
        app,
        user,
        "create_user",
        "user",
        id.to_string(),
        Some(detail),
    )
    .await?;
    app.store
        .user_by_username(&nu.username)
        .await?
        .ok_or_else(|| AppError::internal("user vanished after insert"))
}

/// Creates an account from the console (`jiesu user add`, the demo): whoever runs the command
/// holds the database, so no account stands behind it. Returns the new id.
pub async fn bootstrap_user(app: &App, form: AccountForm<'_>) -> AppResult<i64> {
    let nu = validated(app, &form).await?;
    Ok(app.store.create_user(&nu, app.now()).await?)
}

/// `new_user` off the async threads: argon2 is deliberately slow.
async fn validated(app: &App, form: &AccountForm<'_>) -> AppResult<NewUser> {
    let dir = app.dir.clone();
    let (u, d, p, r, un) = (
        form.username.to_string(),
        form.display_name.map(str::to_string),
        form.password.to_string(),
        form.role.to_string(),
        form.unit.map(str::to_string),
    );
    tokio::task::spawn_blocking(move || new_user(&dir, &u, d.as_deref(), &p, &r, un.as_deref()))
        .await
        .map_err(AppError::internal)?
}

/// Every account, for an administrator.
pub async fn users(app: &App, user: &User) -> AppResult<Vec<User>> {
    require(user, Capability::ManageUsers)?;
    Ok(app.store.users().await?)
}

/// The audit trail of one target, `TYPE:ID` such as `request:123`.
pub async fn audit_trail(app: &App, user: &User, target: &str) -> AppResult<Vec<AuditEntry>> {
    require(user, Capability::ViewAudit)?;
    let (t, id) = target
        .split_once(':')
        .ok_or_else(|| AppError::bad_query("target", "expected TYPE:ID such as request:123"))?;
    Ok(app.store.audit_for(t, id).await?)
}

/// Writes one audit entry for `user` (a door's administrative change).
pub async fn audit(
    app: &App,
    user: &User,
    action: &str,
    target_type: &str,
    target_id: String,
    detail: Option<String>,
) -> AppResult<()> {
    app.store
        .audit(&AuditEntry {
            at: app.now(),
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.as_str().into(),
            action: action.into(),
            target_type: target_type.into(),
            target_id,
            detail,
        })
        .await?;
    Ok(())
}

/// A valid argon2 hash of a random string, used to equalise timing for unknown usernames.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

/// The enabled account `username` whose password is `password`, or `None`. An unknown user is
/// checked against a dummy hash so timing does not reveal who exists. Throttling is the
/// door's (it knows the caller).
pub async fn verify_login(app: &App, username: &str, password: String) -> AppResult<Option<User>> {
    let user = app.store.user_by_username(username).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(AppError::internal)?;
    Ok(user.filter(|u| ok && !u.disabled))
}

/// A new session for `user` lasting `ttl`: the token to hand out (only its hash is stored)
/// and when it expires.
pub async fn open_session(
    app: &App,
    user: &User,
    ttl: jiff::SignedDuration,
) -> AppResult<(String, jiff::Timestamp)> {
    let now = app.now();
    let token = new_token().map_err(AppError::internal)?;
    let expires_at = now.checked_add(ttl).map_err(AppError::internal)?;
    app.store
        .create_session(&token_hash(&token), user.id, now, expires_at)
        .await?;
    Ok((token, expires_at))
}

/// The user of the live session whose token hashes to `hash`.
pub async fn session_user(app: &App, hash: &str) -> AppResult<Option<User>> {
    Ok(app.store.session_user(hash, app.now()).await?)
}

/// Ends the session whose token hashes to `hash`.
pub async fn close_session(app: &App, hash: &str) -> AppResult<()> {
    app.store.revoke_session(hash, app.now()).await?;
    Ok(())
}
