//! Accounts and sessions.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;
use jiff::SignedDuration;

pub(super) fn user_from_row(r: &<DB as sqlx::Database>::Row) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        role: role
            .parse::<Role>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        unit_code: r.try_get("unit_code")?,
        disabled: r.try_get("disabled")?,
        created_at: ts(r.try_get("created_at")?)?,
        must_change_password: r.try_get("must_change_password")?,
        password_changed_at: match r.try_get::<Option<i64>, _>("password_changed_at")? {
            Some(t) => ts(t)?,
            None => ts(r.try_get("created_at")?)?,
        },
    })
}

impl Db {
    pub async fn create_user(&self, u: &NewUser, now: Timestamp) -> Result<i64> {
        let r = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, unit_code, disabled, created_at, \
             must_change_password, password_changed_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6, FALSE, $6) RETURNING id",
        )
        .bind(u.username.clone())
        .bind(u.display_name.clone())
        .bind(u.password_hash.clone())
        .bind(u.role.as_str())
        .bind(u.unit_code.clone())
        .bind(ms(now))
        .fetch_one(&self.write)
        .await;
        match r {
            Ok(id) => Ok(id),
            Err(e) if is_unique_violation_of(&e, USERNAME_KEY) => {
                Err(StoreError::Duplicate { field: "username" })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(username.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Stores a new password hash; `must_change` makes its holder change it before anything
    /// else (an admin's reset). `NotFound` if no such user.
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
        now: Timestamp,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE users SET password_hash = $2, must_change_password = $3, password_changed_at = $4 WHERE id = $1",
        )
        .bind(user_id)
        .bind(password_hash.to_string())
        .bind(must_change)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Disables or re-enables an account. `NotFound` if no such user.
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> Result<()> {
        let r = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(user_id)
            .bind(disabled)
            .execute(&self.write)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends every live session of a user, but the one whose token hashes to `keep`; returns
    /// how many.
    pub async fn revoke_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
             AND expires_at > $2 AND ($3 IS NULL OR token_hash <> $3)",
        )
        .bind(user_id)
        .bind(ms(now))
        .bind(keep.map(str::to_string))
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(token_hash.to_string())
        .bind(user_id)
        .bind(ms(now))
        .bind(ms(expires))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The user of a live session: not revoked, not expired, used within `idle` if given (and
    /// marked used now, at most once a minute so a busy session costs no write per call).
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
        idle: Option<SignedDuration>,
    ) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.last_seen_at AS session_seen \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND NOT u.disabled \
             AND (s.last_seen_at IS NULL OR s.last_seen_at > $3)"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token_hash.to_string())
            .bind(ms(now))
            .bind(idle.map_or(i64::MIN, |d| {
                ms(now).saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            }))
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let seen: Option<i64> = row.try_get("session_seen")?;
        if seen.is_none_or(|t| ms(now) - t > 60_000) {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash.to_string())
                .bind(ms(now))
                .execute(&self.write)
                .await?;
        }
        user_from_row(&row).map(Some)
    }

    pub async fn revoke_session(&self, token_hash: &str, now: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash.to_string())
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Counts one failed login against each key (a window of `window` restarts a key's
    /// count) and returns the counts after it, in the keys' order.
    pub async fn throttle_fail(
        &self,
        keys: &[String],
        now: Timestamp,
        window: SignedDuration,
    ) -> Result<Vec<i64>> {
        let start = ms(now).saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
        let mut tx = begin_write(&self.write).await?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let n: i64 = sqlx::query_scalar(
                "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
                 RETURNING failures",
            )
            .bind(k.clone())
            .bind(ms(now))
            .bind(start)
            .fetch_one(&mut *tx)
            .await?;
            out.push(n);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The failures counted within `window` for each key (0 when none), in the keys' order.
    pub async fn throttle_counts(
        &self,
        keys: &[String],
        now: Timestamp,
        window: SignedDuration,
    ) -> Result<Vec<i64>> {
        let start = ms(now).saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let n: Option<i64> = sqlx::query_scalar(
                "SELECT failures FROM login_throttle WHERE key = $1 AND window_start > $2",
            )
            .bind(k.clone())
            .bind(start)
            .fetch_optional(&self.read)
            .await?;
            out.push(n.unwrap_or(0));
        }
        Ok(out)
    }

    /// Forgets the failures of these keys (a successful login).
    pub async fn throttle_clear(&self, keys: &[String]) -> Result<()> {
        for k in keys {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                .bind(k.clone())
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }
}

/// The user columns, from `users u`.
const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.password_hash, u.role, u.unit_code, \
     u.disabled, u.created_at, u.must_change_password, u.password_changed_at";
