//! Bulk loads (demo, imports) and the raw insert benchmark.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

impl Db {
    pub async fn bulk_insert(&self, items: &[(RequestState, Vec<Event>)]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let rows: Vec<BulkRow<'_>> = items
            .iter()
            .map(|(st, events)| BulkRow {
                st,
                events,
                key: None,
                suggestion: None,
            })
            .collect();
        let mut tx = begin_write(&self.write).await?;
        Self::bulk_insert_tx(&mut tx, &rows, false, &self.pii).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes new requests with multi-row statements inside `tx`; returns each tracking code's
    /// id. Any unique violation fails the whole call (the caller rolls back). `publish`: also
    /// write outbox rows (live intake does; history loads — demo, import — do not: a backfill
    /// is not a live event).
    pub(super) async fn bulk_insert_tx(
        tx: &mut Tx,
        items: &[BulkRow<'_>],
        publish: bool,
        pii: &Pii,
    ) -> Result<std::collections::HashMap<String, i64>> {
        // Multi-row INSERTs: with one row per statement the per-statement round trip dominates
        // a bulk load. Rows per statement keep the bind parameters under SQLite's 32,766
        // (PostgreSQL allows 65,535).
        let bind = bind_values;
        fn values(head: &str, rows: usize, cols: usize) -> String {
            let mut sql = String::with_capacity(head.len() + rows * cols * 7);
            sql.push_str(head);
            let mut n = 0;
            for r in 0..rows {
                sql.push_str(if r == 0 { " (" } else { ",(" });
                for c in 0..cols {
                    n += 1;
                    if c > 0 {
                        sql.push(',');
                    }
                    // SQLite resolves each named `$N` by a linear search over the names seen
                    // so far (quadratic for thousands); anonymous `?` is positional.
                    if PG {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    } else {
                        sql.push('?');
                    }
                }
                sql.push(')');
            }
            sql
        }
        let req_cols = REQUEST_COLUMNS.len();
        const REQ_ROWS: usize = 1_000;
        const EV_COLS: usize = 10;
        const EV_ROWS: usize = 3_000;
        const UNIT_COLS: usize = 3;
        const UNIT_ROWS: usize = 5_000;
        let req_head = format!(
            "INSERT INTO requests ({}) VALUES",
            REQUEST_COLUMNS.join(", ")
        );
        const EV_HEAD: &str = "INSERT INTO request_events (request_id, seq, at, kind, actor_user_id, actor_name, actor_role, actor_unit, reason, payload) VALUES";
        const UNIT_HEAD: &str = "INSERT INTO request_units (request_id, unit_code, lead) VALUES";
        const SUG_COLS: usize = 4;
        const SUG_HEAD: &str =
            "INSERT INTO request_suggestions (request_id, created_at, suggestion, chosen) VALUES";
        // Ids come back with their tracking codes: RETURNING does not promise row order.
        let mut ids: std::collections::HashMap<String, i64> =
            std::collections::HashMap::with_capacity(items.len());
        for batch in items.chunks(REQ_ROWS) {
            let sql = values(&req_head, batch.len(), req_cols) + " RETURNING id, tracking_code";
            let mut vals = Vec::with_capacity(batch.len() * req_cols);
            for row in batch {
                vals.extend(request_values(row.st, row.key, pii)?);
            }
            let rows = match bind(sqlx::query(AssertSqlSafe(sql)), vals)
                .fetch_all(&mut **tx)
                .await
            {
                Ok(rows) => rows,
                Err(e) if is_unique_violation_of(&e, TRACKING_CODE_KEY) => {
                    return Err(StoreError::Duplicate {
                        field: "tracking_code",
                    });
                }
                Err(e) => return Err(e.into()),
            };
            for r in rows {
                ids.insert(r.try_get(1)?, r.try_get(0)?);
            }
        }
        let id_of = |code: &str| {
            ids.get(code)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no id returned for {code}")))
        };

        let full_events = values(EV_HEAD, EV_ROWS, EV_COLS);
        let mut vals: Vec<V> = Vec::with_capacity(EV_ROWS * EV_COLS);
        let mut rows = 0;
        for row in items {
            let id = id_of(&row.st.tracking_code)?;
            for e in row.events {
                vals.extend([
                    V::I(Some(id)),
                    V::I(Some(e.seq)),
                    V::I(Some(ms(e.at))),
                    V::S(Some(e.kind.name().to_string())),
                    V::I(e.actor.user_id),
                    V::S(Some(e.actor.username.clone())),
                    V::S(Some(e.actor.role.as_str().to_string())),
                    V::S(e.actor.unit.clone()),
                    V::S(e.reason.clone()),
                    V::S(Some(event_json(pii, &e.kind)?)),
                ]);
                rows += 1;
                if rows == EV_ROWS {
                    let batch = std::mem::replace(&mut vals, Vec::with_capacity(EV_ROWS * EV_COLS));
                    bind(sqlx::query(AssertSqlSafe(full_events.clone())), batch)
                        .execute(&mut **tx)
                        .await?;
                    rows = 0;
                }
            }
        }
        if rows > 0 {
            bind(
                sqlx::query(AssertSqlSafe(values(EV_HEAD, rows, EV_COLS))),
                vals,
            )
            .execute(&mut **tx)
            .await?;
        }

        let mut vals: Vec<V> = Vec::new();
        let mut rows = 0;
        for (i, row) in items.iter().enumerate() {
            let st = row.st;
            if let Some(lead) = &st.lead_unit {
                let id = id_of(&st.tracking_code)?;
                vals.extend([V::I(Some(id)), V::S(Some(lead.clone())), V::B(true)]);
                rows += 1;
                for c in &st.co_handlers {
                    if &c.unit != lead {
                        vals.extend([V::I(Some(id)), V::S(Some(c.unit.clone())), V::B(false)]);
                        rows += 1;
                    }
                }
            }
            let last = i + 1 == items.len();
            if rows > 0 && (rows >= UNIT_ROWS - 16 || last) {
                let batch = std::mem::take(&mut vals);
                bind(
                    sqlx::query(AssertSqlSafe(values(UNIT_HEAD, rows, UNIT_COLS))),
                    batch,
                )
                .execute(&mut **tx)
                .await?;
                rows = 0;
            }
        }

        let mut vals: Vec<V> = Vec::new();
        let mut rows = 0;
        for row in items {
            if let Some(sug) = row.suggestion {
                vals.extend([
                    V::I(Some(id_of(&row.st.tracking_code)?)),
                    V::I(Some(ms(row.st.updated_at))),
                    V::S(Some(sug.to_string())),
                    V::S(Some(chosen_json(row.st))),
                ]);
                rows += 1;
            }
        }
        if rows > 0 {
            bind(
                sqlx::query(AssertSqlSafe(values(SUG_HEAD, rows, SUG_COLS))),
                vals,
            )
            .execute(&mut **tx)
            .await?;
        }
        // 考评 facts (rollup.rs) of the new requests, in the same transaction.
        let logs = items
            .iter()
            .map(|row| Ok((id_of(&row.st.tracking_code)?, row.events)))
            .collect::<Result<Vec<_>>>()?;
        Self::facts_for_new(tx, &logs).await?;
        if publish {
            let new_ids: Vec<i64> = ids.values().copied().collect();
            Self::outbox_requests(tx, &new_ids).await?;
        }
        Ok(ids)
    }

    /// The bare cost of storing one new request: its row and its events in one transaction,
    /// exactly the statements intake runs, without the domain around them (for benchmarks).
    pub async fn insert_raw(&self, st: &RequestState, events: &[Event]) -> Result<i64> {
        let mut tx = begin_write(&self.write).await?;
        let id = Self::insert_request_row(&mut tx, st, None, &self.pii).await?;
        Self::insert_events(&mut tx, id, events, &self.pii).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Of `keys`, those some request already carries as its idempotency key. Imports check a
    /// whole chunk at once so re-importing a file costs one query per few hundred rows.
    pub async fn existing_idempotency_keys(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let mut found = std::collections::HashSet::new();
        // Well under SQLite's bind-parameter limit per statement.
        for batch in keys.chunks(500) {
            let mut sql =
                String::from("SELECT idempotency_key FROM requests WHERE idempotency_key IN (");
            for i in 0..batch.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('$');
                sql.push_str(&(i + 1).to_string());
            }
            sql.push(')');
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for k in batch {
                q = q.bind(k.clone());
            }
            found.extend(q.fetch_all(&self.read).await?);
        }
        Ok(found)
    }

    /// `bulk_insert` with an idempotency key per request (imports: `import:<source>:<id>`), in
    /// one transaction. A key already taken fails the whole call; check first with
    /// `existing_idempotency_keys`.
    pub async fn bulk_insert_keyed(
        &self,
        items: &[(RequestState, Vec<Event>, Option<String>)],
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let rows: Vec<BulkRow<'_>> = items
            .iter()
            .map(|(st, events, key)| BulkRow {
                st,
                events,
                key: key.as_deref(),
                suggestion: None,
            })
            .collect();
        let mut tx = begin_write(&self.write).await?;
        match Self::bulk_insert_tx(&mut tx, &rows, false, &self.pii).await {
            Ok(_) => {}
            Err(StoreError::Db(e)) if is_unique_violation_of(&e, IDEMPOTENCY_KEY_KEY) => {
                return Err(StoreError::Duplicate {
                    field: "idempotency_key",
                });
            }
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(())
    }
}
