//! Accounts and the audit log: who may log in, as what, and what was seen or changed.

use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
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
    jiesu_domain::password::check(&dir.world.district.passwords, username, password)?;
    let role: Role = role
        .parse()
        .ok()
        .filter(|r: &Role| r.is_account_role())
        .ok_or_else(|| {
            AppError::invalid(
                "role",
                "unknown_role",
                "one of operator, dispatcher, handler, callback, supervisor, admin, care_admin, care_manager, provider, health_admin, nursery",
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
        // A care manager works in one street.
        (Role::CareManager, Some(u)) => {
            if dir.street(u).is_none() {
                return Err(AppError::invalid(
                    "unit",
                    "unknown_street",
                    format!("unknown street `{u}`"),
                ));
            }
            Some(u.to_string())
        }
        (Role::CareManager, None) => {
            return Err(AppError::invalid(
                "unit",
                "required",
                "a 照护管理师 belongs to one street",
            ));
        }
        // A provider's staff work for one provider or meal point (its code in the registry).
        (Role::Provider | Role::Nursery, Some(u)) => {
            let ok = (2..=32).contains(&u.len())
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(AppError::invalid(
                    "unit",
                    "bad_code",
                    "a provider or meal point code: 2–32 letters, digits, '-' or '_'",
                ));
            }
            Some(u.to_string())
        }
        (Role::Provider, None) => {
            return Err(AppError::invalid(
                "unit",
                "required",
                "a 养老服务商 account belongs to one provider or meal point",
            ));
        }
        // A nursery's staff work for one 托育机构 (its code).
        (Role::Nursery, None) => {
            return Err(AppError::invalid(
                "unit",
                "required",
                "a 托育机构 account belongs to one institution",
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "unit",
                "not_a_handler",
                "only handlers, care managers and providers belong to a unit",
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

/// Longest value of an audit viewer filter.
pub const MAX_AUDIT_FILTER_CHARS: usize = 200;

/// The audit log filtered for its viewer (admin and auditor), newest first with the total.
/// Phone and ID numbers anywhere in a row's detail (an export's raw query, say) are masked:
/// reading the log must not itself disclose a caller.
pub async fn audit_search(
    app: &App,
    user: &User,
    q: &jiesu_store::AuditQuery,
) -> AppResult<jiesu_store::AuditPage> {
    require(user, Capability::ViewAudit)?;
    for (field, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("target", &q.target_type),
        ("target", &q.target_id),
        ("q", &q.text),
    ] {
        if v.as_ref()
            .is_some_and(|v| v.chars().count() > MAX_AUDIT_FILTER_CHARS)
        {
            return Err(AppError::bad_query(
                field,
                format!("at most {MAX_AUDIT_FILTER_CHARS} characters"),
            ));
        }
    }
    let mut page = app.store.audit_query(q).await?;
    for r in &mut page.rows {
        if let Some(d) = r.entry.detail.as_mut() {
            *d = jiesu_text::mask_pii(d);
        }
    }
    Ok(page)
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
        .audit_with(
            &AuditEntry {
                at: app.now(),
                user_id: Some(user.id),
                username: user.username.clone(),
                role: user.role.as_str().into(),
                action: action.into(),
                target_type: target_type.into(),
                target_id,
                detail,
            },
            chain_hash(app),
        )
        .await?;
    Ok(())
}

/// The deployment's audit-chain hash (`audit_hash` in district.toml).
pub fn chain_hash(app: &App) -> jiesu_store::ChainHash {
    app.dir
        .world
        .district
        .audit_hash
        .parse()
        .unwrap_or_default()
}

/// Recomputes the audit chain (admin and auditor): rows, head, the first broken link.
pub async fn verify_audit(app: &App, user: &User) -> AppResult<jiesu_store::ChainReport> {
    require(user, Capability::ViewAudit)?;
    Ok(app.store.verify_audit().await?)
}

/// Failed logins within this window count towards a lock.
pub const LOCKOUT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);
/// Failures of one username from one address before that pair is locked: the real user,
/// elsewhere, can still log in while someone guesses at their name.
pub const MAX_FAILURES_PER_USER_AND_ADDRESS: i64 = 5;
/// Failures from one address, over any usernames, before it is locked (a spray is slowed).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// Failures of one username from anywhere before it is locked: bounds guessing spread over
/// many addresses (which then needs at least ten of them) at the price of a lock they can cause.
pub const MAX_FAILURES_PER_USER: i64 = 50;
/// A session unused this long ends, by default (the absolute limit is the session length).
pub const IDLE_TIMEOUT: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);

/// Where a login attempt came from: the client address as the door knows it.
fn throttle_keys(username: &str, addr: &str) -> [String; 3] {
    let name: String = username.chars().take(64).collect();
    [
        format!("user:{name}@{addr}"),
        format!("addr:{addr}"),
        format!("user:{name}"),
    ]
}

const LIMITS: [i64; 3] = [
    MAX_FAILURES_PER_USER_AND_ADDRESS,
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_USER,
];

/// An audit entry for something that happened to an account without (or before) a session:
/// logins, failures, locks.
async fn audit_login(
    app: &App,
    user: Option<&User>,
    username: &str,
    action: &str,
    detail: String,
) -> AppResult<()> {
    let name: String = username.chars().take(64).collect();
    app.store
        .audit_with(
            &AuditEntry {
                at: app.now(),
                user_id: user.map(|u| u.id),
                username: name.clone(),
                role: user.map_or("none", |u| u.role.as_str()).into(),
                action: action.into(),
                target_type: "user".into(),
                target_id: name,
                detail: Some(detail),
            },
            chain_hash(app),
        )
        .await?;
    Ok(())
}

/// 身份鉴别: the account `username` with `password`, attempted from `addr`. Failures are
/// counted in the database per (username, address), per address and per username
/// ([`LOCKOUT_WINDOW`]); a locked key answers `too_many_attempts` even to the right password.
/// Every success, failure and lock is audited.
pub async fn login(app: &App, username: &str, password: String, addr: &str) -> AppResult<User> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::invalid(
            "username",
            "required",
            "must not be empty",
        ));
    }
    let now = app.now();
    let keys = throttle_keys(username, addr);
    let counts = app
        .store
        .throttle_counts(&keys, now, LOCKOUT_WINDOW)
        .await?;
    if counts.iter().zip(LIMITS).any(|(n, max)| *n >= max) {
        return Err(AppError::new(
            ErrorKind::Throttled,
            "too_many_attempts",
            "too many failed logins; wait 15 minutes",
        ));
    }
    match verify_login(app, username, password).await? {
        Some(user) => {
            // The address's count stays: a sprayer that guesses one password is still slowed.
            app.store
                .throttle_clear(&[keys[0].clone(), keys[2].clone()])
                .await?;
            audit_login(app, Some(&user), username, "login", format!("from {addr}")).await?;
            Ok(user)
        }
        None => {
            let after = app.store.throttle_fail(&keys, now, LOCKOUT_WINDOW).await?;
            audit_login(app, None, username, "login_failed", format!("from {addr}")).await?;
            for ((n, max), key) in after.iter().zip(LIMITS).zip(&keys) {
                if *n == max {
                    audit_login(
                        app,
                        None,
                        username,
                        "lockout",
                        format!("{key} for 15 minutes"),
                    )
                    .await?;
                }
            }
            Err(AppError::new(
                ErrorKind::Unauthenticated,
                "bad_credentials",
                "wrong username or password",
            ))
        }
    }
}

/// Records a logout (the session itself is closed by [`close_session`]).
pub async fn audit_logout(app: &App, user: &User) -> AppResult<()> {
    audit_login(app, Some(user), &user.username, "logout", String::new()).await
}

/// Hashes off the async threads: argon2 is deliberately slow.
async fn hashed(password: &str) -> AppResult<String> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Changes one's own password: the current one proves it is the holder; the new one must
/// meet the policy and differ. Every other session of the account ends; `session` (the hash of
/// the token in use) stays. Clears a forced change.
pub async fn change_password(
    app: &App,
    user: &User,
    session: &str,
    current: String,
    new: &str,
) -> AppResult<()> {
    let Some(holder) = app.store.user_by_id(user.id).await? else {
        return Err(AppError::not_found());
    };
    let hash = holder.password_hash.clone();
    let new_again = new.to_string();
    let (current_ok, same) = tokio::task::spawn_blocking(move || {
        (
            verify_password(&current, &hash),
            verify_password(&new_again, &hash),
        )
    })
    .await
    .map_err(AppError::internal)?;
    if !current_ok {
        return Err(AppError::invalid(
            "current_password",
            "bad_credentials",
            "the current password is wrong",
        ));
    }
    jiesu_domain::password::check(&app.dir.world.district.passwords, &user.username, new)?;
    if same {
        return Err(AppError::invalid(
            "password",
            "reused_password",
            "must differ from the current password",
        ));
    }
    let now = app.now();
    app.store
        .set_password(user.id, &hashed(new).await?, false, now)
        .await?;
    let ended = app
        .store
        .revoke_user_sessions(user.id, Some(session), now)
        .await?;
    audit(
        app,
        user,
        "change_password",
        "user",
        user.id.to_string(),
        Some(format!("{ended} other sessions ended")),
    )
    .await
}

/// The account an administrator acts on; never their own (an admin cannot lock themself out
/// or skip the current-password check by resetting it).
async fn other_account(app: &App, admin: &User, id: i64) -> AppResult<User> {
    require(admin, Capability::ManageUsers)?;
    if id == admin.id {
        return Err(AppError::new(
            ErrorKind::Refused,
            "own_account",
            "use the change-password form for your own account",
        ));
    }
    app.store
        .user_by_id(id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// An administrator sets a new password for account `id`; its holder must change it at the
/// next login, and every session of the account ends. Audited.
pub async fn reset_password(app: &App, admin: &User, id: i64, new: &str) -> AppResult<User> {
    let target = other_account(app, admin, id).await?;
    jiesu_domain::password::check(&app.dir.world.district.passwords, &target.username, new)?;
    let now = app.now();
    app.store
        .set_password(id, &hashed(new).await?, true, now)
        .await?;
    let ended = app.store.revoke_user_sessions(id, None, now).await?;
    changed(app, admin, &target, "reset_password", ended).await
}

/// Disables (or re-enables) account `id`; disabling ends its sessions at once. Audited.
pub async fn set_disabled(app: &App, admin: &User, id: i64, disabled: bool) -> AppResult<User> {
    let target = other_account(app, admin, id).await?;
    let now = app.now();
    app.store.set_user_disabled(id, disabled).await?;
    let ended = if disabled {
        app.store.revoke_user_sessions(id, None, now).await?
    } else {
        0
    };
    let action = if disabled {
        "disable_user"
    } else {
        "enable_user"
    };
    changed(app, admin, &target, action, ended).await
}

/// Audits an admin's change to `target` (with the sessions it ended) and answers the account
/// as it is now.
async fn changed(
    app: &App,
    admin: &User,
    target: &User,
    action: &str,
    ended: u64,
) -> AppResult<User> {
    audit(
        app,
        admin,
        action,
        "user",
        target.id.to_string(),
        Some(format!("{}: {ended} sessions ended", target.username)),
    )
    .await?;
    app.store
        .user_by_id(target.id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Ends every live session of account `id` (a lost phone, a leaked token); returns how many.
/// Audited.
pub async fn revoke_sessions(app: &App, admin: &User, id: i64) -> AppResult<u64> {
    let target = other_account(app, admin, id).await?;
    let ended = app.store.revoke_user_sessions(id, None, app.now()).await?;
    audit(
        app,
        admin,
        "revoke_sessions",
        "user",
        id.to_string(),
        Some(format!("{}: {ended} sessions ended", target.username)),
    )
    .await?;
    Ok(ended)
}

/// Whether `user` must change their password before doing anything else: an admin reset it,
/// or it is older than the policy allows.
pub fn must_change_password(app: &App, user: &User) -> bool {
    user.must_change_password
        || jiesu_domain::password::expired(
            &app.dir.world.district.passwords,
            user.password_changed_at,
            app.now(),
        )
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

/// The user of the live session whose token hashes to `hash`, unused no longer than `idle`.
pub async fn session_user(
    app: &App,
    hash: &str,
    idle: jiff::SignedDuration,
) -> AppResult<Option<User>> {
    Ok(app.store.active_session_user(hash, app.now(), idle).await?)
}

/// Ends the session whose token hashes to `hash`.
pub async fn close_session(app: &App, hash: &str) -> AppResult<()> {
    app.store.revoke_session(hash, app.now()).await?;
    Ok(())
}
