//! The audit log: an append-only hash chain (see `audit_chain.rs` for the link).
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;
use crate::audit_chain::{self, BrokenLink, ChainHash, ChainReport};

impl Db {
    /// Appends one entry to the hash chain, in one transaction: rows from before the chain are
    /// chained first (once, after the upgrade), then the new row links to the head. On
    /// PostgreSQL an advisory lock orders concurrent writers (several servers too); SQLite's
    /// single writer does the same.
    pub async fn audit(&self, a: &AuditEntry, alg: ChainHash) -> Result<()> {
        let mut tx = begin_write(&self.write).await?;
        if PG {
            sqlx::query("SELECT pg_advisory_xact_lock(74130003)")
                .execute(&mut *tx)
                .await?;
        }
        let (mut seq, mut prev) = Self::chain_head(&mut tx).await?;
        // Legacy rows (written before migration 0010) join the chain in id order.
        let legacy = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, {AUDIT_COLUMNS} FROM audit_log WHERE hash IS NULL ORDER BY id"
        )))
        .fetch_all(&mut *tx)
        .await?;
        for r in &legacy {
            let e = audit_from_row(r)?;
            seq += 1;
            let hash = audit_chain::link(alg, &prev, seq, ms(e.at), &e);
            sqlx::query("UPDATE audit_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1")
                .bind(r.try_get::<i64, _>("id")?)
                .bind(seq)
                .bind(prev.clone())
                .bind(hash.clone())
                .execute(&mut *tx)
                .await?;
            prev = hash;
        }
        seq += 1;
        let hash = audit_chain::link(alg, &prev, seq, ms(a.at), a);
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, username, role, action, target_type, target_id, detail, seq, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(ms(a.at))
        .bind(a.user_id)
        .bind(a.username.clone())
        .bind(a.role.clone())
        .bind(a.action.clone())
        .bind(a.target_type.clone())
        .bind(a.target_id.clone())
        .bind(a.detail.clone())
        .bind(seq)
        .bind(prev)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The last chained row's `seq` and hash (0 and the genesis marker for an empty chain).
    async fn chain_head(tx: &mut Tx) -> Result<(i64, String)> {
        let head: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut **tx)
        .await?;
        Ok(head.unwrap_or((0, audit_chain::GENESIS.to_string())))
    }

    /// Walks the whole chain in `seq` order and recomputes every link; the report names the
    /// first row that does not match (edited, removed, inserted, reordered) and the head.
    pub async fn verify_audit(&self) -> Result<ChainReport> {
        let mut report = ChainReport {
            rows: 0,
            head_seq: None,
            head_hash: None,
            broken: None,
        };
        let mut prev = audit_chain::GENESIS.to_string();
        let mut expect_seq = 1i64;
        let mut after: Option<i64> = None;
        loop {
            // Unchained rows sort last (seq NULL); paged by (seq, id).
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT id, seq, prev_hash, hash, {AUDIT_COLUMNS} FROM audit_log \
                 WHERE hash IS NOT NULL AND ($1 IS NULL OR seq > $1) ORDER BY seq LIMIT 5000"
            )))
            .bind(after)
            .fetch_all(&self.read)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                let seq: i64 = r.try_get("seq")?;
                let stored_prev: Option<String> = r.try_get("prev_hash")?;
                let stored: String = r.try_get("hash")?;
                let e = audit_from_row(r)?;
                let problem = if seq != expect_seq {
                    Some(format!(
                        "seq {seq} where {expect_seq} was expected: rows are missing or were inserted"
                    ))
                } else if stored_prev.as_deref() != Some(prev.as_str()) {
                    Some("prev_hash does not match the hash of the row before: a row before it was removed or replaced".into())
                } else {
                    match audit_chain::recompute(&stored, &prev, seq, ms(e.at), &e) {
                        None => Some(format!("unknown hash function in `{stored}`")),
                        Some(h) if h != stored => {
                            Some("the row's content does not match its hash: it was edited".into())
                        }
                        Some(_) => None,
                    }
                };
                if let Some(reason) = problem {
                    report.broken = Some(BrokenLink {
                        id,
                        seq: Some(seq),
                        reason,
                    });
                    return Ok(report);
                }
                report.rows += 1;
                report.head_seq = Some(seq);
                report.head_hash = Some(stored.clone());
                prev = stored;
                expect_seq = seq + 1;
                after = Some(seq);
            }
        }
        // A row with no hash after the chain began was written around the store.
        let stray: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM audit_log WHERE hash IS NULL AND id > COALESCE((SELECT MIN(id) FROM audit_log WHERE hash IS NOT NULL), -1) \
             ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await?;
        if let Some(id) = stray
            && report.rows > 0
        {
            report.broken = Some(BrokenLink {
                id,
                seq: None,
                reason: "a row without a hash: written outside the application".into(),
            });
        }
        Ok(report)
    }

    pub async fn audit_for(&self, target_type: &str, target_id: &str) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE target_type = $1 AND target_id = $2 ORDER BY id"
        )))
        .bind(target_type.to_string())
        .bind(target_id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }
}

const AUDIT_COLUMNS: &str = "at, user_id, username, role, action, target_type, target_id, detail";

pub(super) fn audit_from_row(r: &<DB as sqlx::Database>::Row) -> Result<AuditEntry> {
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
}
