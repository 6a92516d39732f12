//! Accounts and sessions.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

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
    })
}

impl Db {
    pub async fn create_user(&self, u: &NewUser, now: Timestamp) -> Result<i64> {
        let r = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, unit_code, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) RETURNING id",
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
        let row = sqlx::query(
            "SELECT id, username, display_name, password_hash, role, unit_code, disabled, created_at FROM users WHERE username = $1",
        )
            .bind(username.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, username, display_name, password_hash, role, unit_code, disabled, created_at FROM users ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash.to_string())
            .bind(user_id)
            .bind(ms(now))
            .bind(ms(expires))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.unit_code, u.disabled, u.created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND NOT u.disabled",
        )
        .bind(token_hash.to_string())
        .bind(ms(now))
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| user_from_row(&r)).transpose()
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
}
