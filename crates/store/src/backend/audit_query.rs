//! The audit viewer's query: filters, newest first, with a total (see `audit_query_api.rs`).
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG` and the items the sibling files share.

use super::*;
use crate::audit_query_api::{AuditPage, AuditQuery, AuditRow};

impl Db {
    pub async fn audit_query(&self, q: &AuditQuery) -> Result<AuditPage> {
        let mut sql = String::from(" FROM audit_log WHERE 1=1");
        let mut params: Vec<P> = Vec::new();
        fn push(sql: &mut String, params: &mut Vec<P>, clause: &str, p: P) {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        }
        if let Some(a) = &q.actor {
            push(&mut sql, &mut params, " AND username = ?", P::S(a.clone()));
        }
        if let Some(a) = &q.action {
            push(&mut sql, &mut params, " AND action = ?", P::S(a.clone()));
        }
        if let Some(t) = &q.target_type {
            push(
                &mut sql,
                &mut params,
                " AND target_type = ?",
                P::S(t.clone()),
            );
        }
        if let Some(t) = &q.target_id {
            push(&mut sql, &mut params, " AND target_id = ?", P::S(t.clone()));
        }
        if let Some(t) = q.from {
            push(&mut sql, &mut params, " AND at >= ?", P::I(ms(t)));
        }
        if let Some(t) = q.to {
            push(&mut sql, &mut params, " AND at < ?", P::I(ms(t)));
        }
        if let Some(t) = &q.text {
            // LIKE wildcards in the admin's text are matched literally; LOWER on both sides
            // so the two backends agree on case (SQLite's LIKE ignores ASCII case, PG's not).
            let escaped = t
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pat = format!("%{escaped}%");
            push(
                &mut sql,
                &mut params,
                " AND (LOWER(COALESCE(detail, '')) LIKE ? ESCAPE '\\'",
                P::S(pat.clone()),
            );
            push(
                &mut sql,
                &mut params,
                " OR LOWER(username) LIKE ? ESCAPE '\\'",
                P::S(pat.clone()),
            );
            push(
                &mut sql,
                &mut params,
                " OR LOWER(action) LIKE ? ESCAPE '\\'",
                P::S(pat.clone()),
            );
            push(
                &mut sql,
                &mut params,
                " OR LOWER(target_id) LIKE ? ESCAPE '\\')",
                P::S(pat),
            );
        }
        let count_sql = format!("SELECT COUNT(*){sql}");
        let count_params: Vec<P> = params
            .iter()
            .map(|p| match p {
                P::I(v) => P::I(*v),
                P::S(v) => P::S(v.clone()),
                P::B(v) => P::B(*v),
            })
            .collect();
        let total: i64 = bind_all(sqlx::query(AssertSqlSafe(count_sql)), count_params)
            .fetch_one(&self.read)
            .await?
            .try_get(0)?;
        push(
            &mut sql,
            &mut params,
            " ORDER BY id DESC LIMIT ?",
            P::I(q.limit.clamp(1, 500) as i64),
        );
        push(&mut sql, &mut params, " OFFSET ?", P::I(q.offset as i64));
        let rows = bind_all(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT id, seq, at, user_id, username, role, action, target_type, target_id, detail{sql}"
            ))),
            params,
        )
        .fetch_all(&self.read)
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get("id")?,
                    seq: r.try_get("seq")?,
                    entry: super::audit::audit_from_row(r)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(AuditPage {
            total: total.max(0) as u64,
            rows,
        })
    }
}
