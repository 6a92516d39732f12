//! Events out: the transactional outbox and webhook deliveries. Mounted in each backend module
//! (see sqlite.rs, postgres.rs), whose `DB`, `PG`, `begin_write`, `Tx` and helpers it shares.
//! Generic cases (engine.rs) write `case_outbox` rows the same way; the fan-out takes both
//! outboxes into the one `webhook_deliveries` queue (a row names a request event or a case
//! event), so retries, leases, dead letters and counts are the same for every kind.
//!
//! Flow: a live command writes its events and, in the same transaction, one `event_outbox` row
//! per event (`outbox_request(s)`). A worker fans each outbox row out into one
//! `webhook_deliveries` row per active subscriber and deletes it (one transaction), then claims
//! due deliveries under a lease, posts them, and records the outcome. Every step commits before
//! the next begins, so a crash anywhere leaves either the outbox row or a pending delivery:
//! nothing committed is ever lost, and a delivery in flight when the process died is sent again
//! once its lease runs out (at-least-once; receivers dedupe on the event id).

use super::*;

/// Claims that two servers on one PostgreSQL must not share: each locks the rows it takes and
/// skips the ones another holds. SQLite has one writer, and `BEGIN IMMEDIATE` serialises claims.
pub(super) const SKIP_LOCKED: &str = if PG { " FOR UPDATE SKIP LOCKED" } else { "" };

/// `$from, $from+1, …` for `n` bind parameters.
pub(super) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) const WEBHOOK_COLUMNS: &str = "SELECT w.id, w.name, w.url, w.created_at, w.created_by, w.disabled_at, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS pending, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'delivered') AS delivered, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'dead') AS dead \
     FROM webhooks w";

pub(super) fn webhook_from_row(r: &<DB as sqlx::Database>::Row) -> Result<Webhook> {
    Ok(Webhook {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        created_at: ts(r.try_get("created_at")?)?,
        created_by: r.try_get("created_by")?,
        disabled_at: r
            .try_get::<Option<i64>, _>("disabled_at")?
            .map(ts)
            .transpose()?,
        pending: r.try_get("pending")?,
        delivered: r.try_get("delivered")?,
        dead: r.try_get("dead")?,
    })
}

impl Db {
    /// Outbox rows for request `id`'s events from `from_seq` on, inside their transaction.
    pub(super) async fn outbox_request(tx: &mut Tx, id: RequestId, from_seq: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO event_outbox (event_id, request_id, created_at) \
             SELECT id, request_id, at FROM request_events WHERE request_id = $1 AND seq >= $2 ORDER BY id",
        )
        .bind(id)
        .bind(from_seq)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Outbox rows for every event of these (new) requests, inside their transaction.
    pub(super) async fn outbox_requests(tx: &mut Tx, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "INSERT INTO event_outbox (event_id, request_id, created_at) \
                 SELECT id, request_id, at FROM request_events WHERE request_id IN ({}) ORDER BY id",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Moves up to `limit` rows of each outbox (requests', cases') into one pending delivery
    /// per active subscriber, one transaction per outbox; returns how many outbox rows it took.
    /// Rows fanned out when no subscriber is active are simply consumed: a webhook receives the
    /// events after its creation.
    pub async fn outbox_fan_out(&self, now: Timestamp, limit: u32) -> Result<usize> {
        let requests = self
            .fan_out_one(now, limit, "event_outbox", "event_id", "event_id")
            .await?;
        let cases = self
            .fan_out_one(now, limit, "case_outbox", "case_event_id", "case_event_id")
            .await?;
        Ok(requests + cases)
    }

    /// One outbox table into deliveries: `column` of `outbox` names the event, stored in the
    /// delivery's `target` column.
    async fn fan_out_one(
        &self,
        now: Timestamp,
        limit: u32,
        outbox: &str,
        column: &str,
        target: &str,
    ) -> Result<usize> {
        // Look before taking the write lock: an idle worker must not queue behind (or in front
        // of) intake on SQLite's single writer every quarter second.
        let any: Option<i64> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT id FROM {outbox} LIMIT 1")))
                .fetch_optional(&self.read)
                .await?;
        if any.is_none() {
            return Ok(0);
        }
        let mut tx = begin_write(&self.write).await?;
        let sql = format!("SELECT id FROM {outbox} ORDER BY id LIMIT $1{SKIP_LOCKED}");
        let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(i64::from(limit.max(1)))
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let n = ids.len();
        let list = placeholders(1, n);
        // `WHERE` before `ON CONFLICT` also keeps SQLite from reading `ON` as a join constraint.
        let insert = format!(
            "INSERT INTO webhook_deliveries (webhook_id, {target}, state, attempts, next_attempt_at, created_at) \
             SELECT w.id, o.{column}, 'pending', 0, ${t}, ${t} FROM {outbox} o, webhooks w \
             WHERE o.id IN ({list}) AND w.disabled_at IS NULL ORDER BY o.id, w.id \
             ON CONFLICT (webhook_id, {target}) DO NOTHING",
            t = n + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(insert));
        for id in &ids {
            q = q.bind(*id);
        }
        q.bind(ms(now)).execute(&mut *tx).await?;
        let delete = format!("DELETE FROM {outbox} WHERE id IN ({list})");
        let mut q = sqlx::query(AssertSqlSafe(delete));
        for id in &ids {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claims up to `limit` due deliveries of active webhooks: each is pushed `lease_ms` into
    /// the future before the transaction commits, so no other worker takes it meanwhile, and a
    /// worker that dies leaves it due again when the lease ends.
    pub async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND webhook_id IN (SELECT id FROM webhooks WHERE disabled_at IS NULL) LIMIT 1",
        )
        .bind(ms(now))
        .fetch_optional(&self.read)
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = begin_write(&self.write).await?;
        let sql = format!(
            "SELECT d.id FROM webhook_deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
             AND d.webhook_id IN (SELECT id FROM webhooks WHERE disabled_at IS NULL) \
             ORDER BY d.next_attempt_at, d.id LIMIT $2{SKIP_LOCKED}"
        );
        let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(ms(now))
            .bind(i64::from(limit.max(1)))
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let n = ids.len();
        let update = format!(
            "UPDATE webhook_deliveries SET next_attempt_at = ${} WHERE id IN ({})",
            n + 1,
            placeholders(1, n)
        );
        let mut q = sqlx::query(AssertSqlSafe(update));
        for id in &ids {
            q = q.bind(*id);
        }
        q.bind(ms(now) + lease_ms).execute(&mut *tx).await?;
        // Request events and case events come from their own logs: one query each, merged in
        // the order the worker sends them (by event within each stream).
        let bind_ids = |sql: String| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in &ids {
                q = q.bind(*id);
            }
            q
        };
        let requests = bind_ids(format!(
            "SELECT d.id AS delivery_id, d.webhook_id, w.url, w.secret, d.attempts, d.event_id, \
             e.request_id, r.tracking_code, e.seq, e.at, e.actor_user_id, e.actor_name, e.actor_role, \
             e.actor_unit, e.reason, e.payload \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             JOIN request_events e ON e.id = d.event_id JOIN requests r ON r.id = e.request_id \
             WHERE d.id IN ({}) ORDER BY d.event_id, d.webhook_id",
            placeholders(1, n)
        ))
        .fetch_all(&mut *tx)
        .await?;
        let cases = bind_ids(format!(
            "SELECT d.id AS delivery_id, d.webhook_id, w.url, w.secret, d.attempts, d.case_event_id, \
             e.kind, e.case_id, e.seq, e.at, e.name, e.actor_user_id, e.actor_name, e.actor_role, \
             e.actor_unit, e.reason, e.payload \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             JOIN case_events e ON e.id = d.case_event_id \
             WHERE d.id IN ({}) ORDER BY d.case_event_id, d.webhook_id",
            placeholders(1, n)
        ))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let head = |r: &<DB as sqlx::Database>::Row, event_id: i64, subject| {
            Ok::<_, StoreError>(ClaimedDelivery {
                id: r.try_get("delivery_id")?,
                webhook_id: r.try_get("webhook_id")?,
                url: r.try_get("url")?,
                secret: r.try_get("secret")?,
                attempts: r.try_get("attempts")?,
                event_id,
                subject,
            })
        };
        let mut out = Vec::with_capacity(n);
        for r in &requests {
            let subject = DeliveredEvent::Request {
                request_id: r.try_get("request_id")?,
                tracking_code: r.try_get("tracking_code")?,
                event: event_from_row(r, &self.pii)?,
            };
            out.push(head(r, r.try_get("event_id")?, subject)?);
        }
        for r in &cases {
            let subject = DeliveredEvent::Case(CaseEventOut {
                kind: r.try_get("kind")?,
                case_id: r.try_get("case_id")?,
                seq: r.try_get("seq")?,
                at: ts(r.try_get("at")?)?,
                name: r.try_get("name")?,
                actor: actor_from_row(r)?,
                reason: r.try_get("reason")?,
                payload: r.try_get("payload")?,
            });
            out.push(head(r, r.try_get("case_event_id")?, subject)?);
        }
        Ok(out)
    }

    /// Records a delivery the receiver acknowledged.
    pub async fn delivery_succeeded(&self, id: i64, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
             finished_at = $2, last_error = NULL WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: due again at `retry_at`, or dead (no `retry_at`).
    pub async fn delivery_failed(
        &self,
        id: i64,
        now: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        let q = match retry_at {
            Some(t) => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, \
                 last_error = $3 WHERE id = $1 AND state = 'pending'",
            )
            .bind(id)
            .bind(ms(t)),
            None => sqlx::query(
                "UPDATE webhook_deliveries SET state = 'dead', attempts = attempts + 1, finished_at = $2, \
                 last_error = $3 WHERE id = $1 AND state = 'pending'",
            )
            .bind(id)
            .bind(ms(now)),
        };
        q.bind(error).execute(&self.write).await?;
        Ok(())
    }

    pub async fn create_webhook(
        &self,
        name: &str,
        url: &str,
        secret: &str,
        created_by: &str,
        now: Timestamp,
    ) -> Result<Webhook> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (name, url, secret, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name.to_string())
        .bind(url.to_string())
        .bind(secret.to_string())
        .bind(ms(now))
        .bind(created_by.to_string())
        .fetch_one(&self.write)
        .await?;
        self.webhook_on(&self.write, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub(super) async fn webhook_on(&self, pool: &Pool, id: i64) -> Result<Option<Webhook>> {
        let sql = format!("{WEBHOOK_COLUMNS} WHERE w.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?;
        row.map(|r| webhook_from_row(&r)).transpose()
    }

    pub async fn webhook(&self, id: i64) -> Result<Option<Webhook>> {
        self.webhook_on(&self.read, id).await
    }

    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        let sql = format!("{WEBHOOK_COLUMNS} ORDER BY w.id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// Stops deliveries to a webhook (pending ones stay, unsent). Disabling twice keeps the
    /// first time. `NotFound` if no such webhook.
    pub async fn disable_webhook(&self, id: i64, now: Timestamp) -> Result<Webhook> {
        sqlx::query("UPDATE webhooks SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL")
            .bind(id)
            .bind(ms(now))
            .execute(&self.write)
            .await?;
        self.webhook_on(&self.write, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Dead letters (newest first), of one webhook or all, after `before_id` when paging.
    pub async fn dead_letters(
        &self,
        webhook_id: Option<i64>,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT d.id, d.webhook_id, COALESCE(d.event_id, d.case_event_id) AS event_id, e.request_id, \
             ce.kind AS case_kind, ce.case_id, COALESCE(e.kind, ce.name) AS event_type, d.attempts, \
             d.last_error, d.created_at, d.finished_at FROM webhook_deliveries d \
             LEFT JOIN request_events e ON e.id = d.event_id LEFT JOIN case_events ce ON ce.id = d.case_event_id \
             WHERE d.state = 'dead' AND ($1 IS NULL OR d.webhook_id = $1) AND ($2 IS NULL OR d.id < $2) \
             ORDER BY d.id DESC LIMIT $3",
        )
        .bind(webhook_id)
        .bind(before_id)
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    webhook_id: r.try_get("webhook_id")?,
                    event_id: r.try_get("event_id")?,
                    request_id: r.try_get("request_id")?,
                    case_kind: r.try_get("case_kind")?,
                    case_id: r.try_get("case_id")?,
                    event_type: r.try_get("event_type")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    created_at: ts(r.try_get("created_at")?)?,
                    failed_at: r
                        .try_get::<Option<i64>, _>("finished_at")?
                        .map(ts)
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Puts dead letters back in the queue with fresh attempts: one (`id`), or all of one
    /// webhook, or all. Returns how many.
    pub async fn retry_dead_letters(
        &self,
        id: Option<i64>,
        webhook_id: Option<i64>,
        now: Timestamp,
    ) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, \
             finished_at = NULL WHERE state = 'dead' AND ($1 IS NULL OR id = $1) AND ($2 IS NULL OR webhook_id = $2)",
        )
        .bind(id)
        .bind(webhook_id)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected())
    }

    /// Forgets delivered rows finished before `before` (dead ones stay until retried).
    pub async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE state = 'delivered' AND finished_at < $1",
        )
        .bind(ms(before))
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected())
    }

    /// Ids of stored events after `after_id`, in order, at most `limit`: what a delivery audit
    /// (and the kill test) compares the received events against.
    pub async fn event_ids(&self, after_id: i64, limit: u32) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM request_events WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after_id)
                .bind(i64::from(limit.max(1)))
                .fetch_all(&self.read)
                .await?,
        )
    }

    pub fn pool_stats(&self) -> Vec<PoolStats> {
        let one = |pool, p: &Pool| PoolStats {
            pool,
            size: p.size(),
            idle: p.num_idle() as u32,
            max: p.options().get_max_connections(),
        };
        if PG {
            // One pool serves reads and writes (see connect_pools).
            vec![one("shared", &self.write)]
        } else {
            vec![one("write", &self.write), one("read", &self.read)]
        }
    }

    pub async fn outbox_stats(&self) -> Result<OutboxStats> {
        let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox")
            .fetch_one(&self.read)
            .await?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM webhook_deliveries GROUP BY state")
                .fetch_all(&self.read)
                .await?;
        let case_outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_outbox")
            .fetch_one(&self.read)
            .await?;
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM (SELECT MIN(created_at) AS t FROM event_outbox \
             UNION ALL SELECT MIN(created_at) FROM case_outbox \
             UNION ALL SELECT MIN(created_at) FROM webhook_deliveries WHERE state = 'pending') x",
        )
        .fetch_one(&self.read)
        .await?;
        let mut s = OutboxStats {
            outbox,
            case_outbox,
            oldest_waiting_at_ms: oldest,
            ..OutboxStats::default()
        };
        for (state, n) in rows {
            match state.as_str() {
                "pending" => s.pending = n,
                "delivered" => s.delivered = n,
                "dead" => s.dead = n,
                _ => {}
            }
        }
        Ok(s)
    }
}
