//! The audit log.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

impl Db {
    pub async fn audit(&self, a: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, username, role, action, target_type, target_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(ms(a.at))
        .bind(a.user_id)
        .bind(a.username.clone())
        .bind(a.role.clone())
        .bind(a.action.clone())
        .bind(a.target_type.clone())
        .bind(a.target_id.clone())
        .bind(a.detail.clone())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn audit_for(&self, target_type: &str, target_id: &str) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, user_id, username, role, action, target_type, target_id, detail FROM audit_log \
             WHERE target_type = $1 AND target_id = $2 ORDER BY id",
        )
        .bind(target_type.to_string())
        .bind(target_id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: ts(r.try_get("at")?)?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    role: r.try_get("role")?,
                    action: r.try_get("action")?,
                    target_type: r.try_get("target_type")?,
                    target_id: r.try_get("target_id")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
