//! The PII keyring against the database: which keys sealed rows here (`pii_keys`), resealing
//! under the active key (`jiesu keys rotate`) and the count of values by key.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

/// Requests per reseal transaction: short enough not to hold the writer long.
const RESEAL_BATCH: i64 = 200;

/// The stored (sealed) strings of one caller, as read from JSON without opening them.
fn stored_values(c: &jiesu_domain::Caller) -> impl Iterator<Item = &str> {
    c.name.iter().chain(c.phone.iter()).map(String::as_str)
}

impl Db {
    pub async fn check_keys(&self) -> Result<()> {
        let registered: Vec<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, check_value, retired_at FROM pii_keys ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        let Some(ring) = self.pii.keyring() else {
            if registered.is_empty() {
                tracing::warn!(
                    "no PII keyring: callers' names and phones are stored in plaintext \
                     (set JIESU_PII_KEY_FILE; `jiesu keys new` makes one)"
                );
                return Ok(());
            }
            let ids: Vec<&str> = registered.iter().map(|(id, _, _)| id.as_str()).collect();
            return Err(PiiError::Config(format!(
                "this database holds callers' data sealed with key(s) {}; set \
                 JIESU_PII_KEY_FILE (or JIESU_PII_KEYRING) to the keyring",
                ids.join(", ")
            ))
            .into());
        };
        let ours = ring.fingerprints();
        for (id, check, retired) in &registered {
            match ours.iter().find(|(k, _, _)| k == id) {
                Some((_, _, c)) if c != check => {
                    return Err(PiiError::Config(format!(
                        "key `{id}` in the keyring is not the key this database knows by that \
                         id (its check value differs)"
                    ))
                    .into());
                }
                None if retired.is_none() => {
                    return Err(PiiError::Config(format!(
                        "key `{id}` may still seal rows here but is not in the keyring; keep it \
                         until `jiesu keys rotate` has retired it"
                    ))
                    .into());
                }
                _ => {}
            }
        }
        let now = jiff::Timestamp::now().as_millisecond();
        for (id, alg, check) in ours {
            if registered.iter().any(|(k, _, _)| *k == id) {
                continue;
            }
            sqlx::query(
                "INSERT INTO pii_keys (id, algorithm, check_value, registered_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(alg)
            .bind(check)
            .bind(now)
            .execute(&self.write)
            .await?;
        }
        Ok(())
    }

    pub async fn reseal(
        &self,
        progress: &mut (dyn FnMut(&ResealReport) + Send),
    ) -> Result<ResealReport> {
        let ring = self.pii.keyring().ok_or_else(|| {
            PiiError::Config("no keyring configured: nothing to seal with".into())
        })?;
        let active = ring.active_id().to_string();
        let mut report = ResealReport::default();
        let mut after = 0i64;
        loop {
            let ids: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM requests WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(RESEAL_BATCH)
                    .fetch_all(&self.read)
                    .await?;
            let Some(&last) = ids.last() else { break };
            let mut tx = begin_write(&self.write).await?;
            if !PG {
                // The plaintext a reseal replaces must not linger in freed page space.
                sqlx::query("PRAGMA secure_delete = ON")
                    .execute(&mut *tx)
                    .await?;
            }
            for id in ids {
                self.reseal_one(&mut tx, id, &mut report).await?;
            }
            tx.commit().await?;
            after = last;
            progress(&report);
        }
        self.reseal_elders(&mut report).await?;
        progress(&report);
        if !PG {
            // Old page images (with what was resealed) leave the WAL for good.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.write)
                .await?;
        }
        // Every row is under the active key now; a key that is not the active one seals nothing.
        let retired: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM pii_keys WHERE id <> $1 AND retired_at IS NULL ORDER BY id",
        )
        .bind(active.clone())
        .fetch_all(&self.read)
        .await?;
        let now = jiff::Timestamp::now().as_millisecond();
        for id in &retired {
            sqlx::query("UPDATE pii_keys SET retired_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id.clone())
                .execute(&self.write)
                .await?;
        }
        report.retired = retired;
        Ok(report)
    }

    async fn reseal_one(&self, tx: &mut Tx, id: i64, report: &mut ResealReport) -> Result<()> {
        let pii = &*self.pii;
        report.scanned += 1;
        let sql = format!(
            "SELECT tracking_code, state, caller_phone_index FROM requests WHERE id = $1{FOR_UPDATE}"
        );
        let Some((code, raw, index)): Option<(String, String, Option<String>)> =
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        else {
            return Ok(());
        };
        let stored: RequestState = from_json(&raw)?;
        let st = decode_state(pii, id, code, &raw)?;
        if stored_values(&stored.intake.caller).any(|v| pii.needs_reseal(v)) {
            sqlx::query("UPDATE requests SET state = $1 WHERE id = $2")
                .bind(state_json(pii, &st)?)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            report.states += 1;
        }
        let want = st
            .intake
            .caller
            .phone
            .as_deref()
            .and_then(|p| pii.phone_index(p));
        if want != index {
            sqlx::query("UPDATE requests SET caller_phone_index = $1 WHERE id = $2")
                .bind(want)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            report.indexes += 1;
        }
        let events: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, payload FROM request_events WHERE request_id = $1 AND kind = 'received'",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        for (seq, payload) in events {
            let mut kind: EventKind = from_json(&payload)?;
            let EventKind::Received { intake } = &kind else {
                continue;
            };
            if !stored_values(&intake.caller).any(|v| pii.needs_reseal(v)) {
                continue;
            }
            open_event(pii, &mut kind)?;
            sqlx::query(
                "UPDATE request_events SET payload = $1 WHERE request_id = $2 AND seq = $3",
            )
            .bind(event_json(pii, &kind)?)
            .bind(id)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
            report.events += 1;
        }
        Ok(())
    }

    pub async fn key_status(&self) -> Result<KeyStatus> {
        let pii = &*self.pii;
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        let mut count = |v: &str| {
            let k = match Pii::sealed_with(v) {
                SealedWith::Plaintext => "plaintext".to_string(),
                SealedWith::Key(id) => id,
            };
            *counts.entry(k).or_default() += 1;
        };
        let mut stale = 0u64;
        let mut after = 0i64;
        loop {
            let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                "SELECT id, tracking_code, state, caller_phone_index FROM requests WHERE id > $1 ORDER BY id LIMIT 1000",
            )
            .bind(after)
            .fetch_all(&self.read)
            .await?;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            for (id, code, raw, index) in rows {
                let stored: RequestState = from_json(&raw)?;
                stored_values(&stored.intake.caller).for_each(&mut count);
                // A value under a key the ring lacks cannot be indexed: counted as stale.
                let want = decode_state(pii, id, code, &raw)
                    .ok()
                    .and_then(|st| st.intake.caller.phone)
                    .and_then(|p| pii.phone_index(&p));
                if want != index {
                    stale += 1;
                }
            }
            after = last;
        }
        let mut after = (0i64, 0i64);
        loop {
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT request_id, seq, payload FROM request_events WHERE kind = 'received' \
                 AND (request_id > $1 OR (request_id = $1 AND seq > $2)) ORDER BY request_id, seq LIMIT 1000",
            )
            .bind(after.0)
            .bind(after.1)
            .fetch_all(&self.read)
            .await?;
            let Some(last) = rows.last().map(|r| (r.0, r.1)) else {
                break;
            };
            for (_, _, payload) in rows {
                if let EventKind::Received { intake } = from_json::<EventKind>(&payload)? {
                    stored_values(&intake.caller).for_each(&mut count);
                }
            }
            after = last;
        }
        let registered: Vec<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, algorithm, retired_at FROM pii_keys ORDER BY registered_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(KeyStatus {
            values_by_key: counts.into_iter().collect(),
            stale_indexes: stale,
            registered: registered
                .into_iter()
                .map(|(id, alg, r)| (id, alg, r.is_some()))
                .collect(),
            active: pii.keyring().map(|r| r.active_id().to_string()),
        })
    }
}
