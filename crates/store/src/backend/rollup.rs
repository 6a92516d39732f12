//! 考评 fast path: the assessment facts (migration 0005) — written in the transaction that
//! appends a request's events, read by one GROUP BY per table, rebuilt from the event log.
//! Mounted once per backend (see sqlite.rs, postgres.rs); `Db`, `Tx`, `PG` come from there.

use super::*;

use jiesu_domain::assessment::{self as assessment_facts, GroupBy, GroupScore, RequestFacts};

/// Rows per multi-row statement (columns × rows stays under SQLite's 32,766 parameters).
pub(super) const FACT_ROWS: usize = 2_000;

/// A bind value for the fact inserts.
pub(super) enum FV {
    I(Option<i64>),
    S(String),
    B(bool),
}

pub(super) fn fact_values(head: &str, rows: usize, cols: usize) -> String {
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

pub(super) async fn fact_exec(
    tx: &mut Tx,
    head: &str,
    cols: usize,
    rows: usize,
    vals: Vec<FV>,
) -> Result<()> {
    if rows == 0 {
        return Ok(());
    }
    let mut q = sqlx::query(AssertSqlSafe(fact_values(head, rows, cols)));
    for v in vals {
        q = match v {
            FV::I(x) => q.bind(x),
            FV::S(x) => q.bind(x),
            FV::B(x) => q.bind(x),
        };
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

pub(super) const CYCLE_HEAD: &str = "INSERT INTO assessment_cycles (request_id, cycle, version, unit, street, category, channel, \
     opened_at, valid_from, valid_to, response_due, completion_due, accepted_at, contacted_at, replied_at) VALUES";
pub(super) const CYCLE_COLS: usize = 15;
pub(super) const CALLBACK_HEAD: &str = "INSERT INTO assessment_callbacks (request_id, n, unit, street, category, channel, at, \
     valid_to, reached, resolved, satisfaction, next_at, next_reached_at, prev_reached_at) VALUES";
pub(super) const CALLBACK_COLS: usize = 14;
pub(super) const WHISTLE_HEAD: &str = "INSERT INTO assessment_whistles (request_id, n, unit, street, category, channel, at, \
     valid_to, due, reported_at) VALUES";
pub(super) const WHISTLE_COLS: usize = 10;

impl Db {
    /// Inserts the facts of requests that have none yet (new requests, or after a delete).
    pub(super) async fn insert_facts(tx: &mut Tx, all: &[RequestFacts]) -> Result<()> {
        let (mut vals, mut rows) = (Vec::new(), 0);
        for f in all {
            for c in &f.cycles {
                vals.extend([
                    FV::I(Some(f.request_id)),
                    FV::I(Some(i64::from(c.cycle))),
                    FV::I(Some(i64::from(c.version))),
                    FV::S(c.unit.clone()),
                    FV::S(f.street.clone()),
                    FV::S(f.category.clone()),
                    FV::S(f.channel.clone()),
                    FV::I(Some(c.opened_at)),
                    FV::I(Some(c.valid_from)),
                    FV::I(Some(c.valid_to)),
                    FV::I(Some(c.response_due)),
                    FV::I(Some(c.completion_due)),
                    FV::I(c.accepted_at),
                    FV::I(c.contacted_at),
                    FV::I(c.replied_at),
                ]);
                rows += 1;
                if rows == FACT_ROWS {
                    fact_exec(tx, CYCLE_HEAD, CYCLE_COLS, rows, std::mem::take(&mut vals)).await?;
                    rows = 0;
                }
            }
        }
        fact_exec(tx, CYCLE_HEAD, CYCLE_COLS, rows, vals).await?;
        let (mut vals, mut rows) = (Vec::new(), 0);
        for f in all {
            for c in &f.callbacks {
                vals.extend([
                    FV::I(Some(f.request_id)),
                    FV::I(Some(i64::from(c.n))),
                    FV::S(c.unit.clone()),
                    FV::S(f.street.clone()),
                    FV::S(f.category.clone()),
                    FV::S(f.channel.clone()),
                    FV::I(Some(c.at)),
                    FV::I(Some(c.valid_to)),
                    FV::B(c.reached),
                    FV::B(c.resolved),
                    FV::I(Some(i64::from(c.satisfaction))),
                    FV::I(Some(c.next_at)),
                    FV::I(Some(c.next_reached_at)),
                    FV::I(Some(c.prev_reached_at)),
                ]);
                rows += 1;
                if rows == FACT_ROWS {
                    fact_exec(
                        tx,
                        CALLBACK_HEAD,
                        CALLBACK_COLS,
                        rows,
                        std::mem::take(&mut vals),
                    )
                    .await?;
                    rows = 0;
                }
            }
        }
        fact_exec(tx, CALLBACK_HEAD, CALLBACK_COLS, rows, vals).await?;
        let (mut vals, mut rows) = (Vec::new(), 0);
        for f in all {
            for w in &f.whistles {
                vals.extend([
                    FV::I(Some(f.request_id)),
                    FV::I(Some(i64::from(w.n))),
                    FV::S(w.unit.clone()),
                    FV::S(f.street.clone()),
                    FV::S(f.category.clone()),
                    FV::S(f.channel.clone()),
                    FV::I(Some(w.at)),
                    FV::I(Some(w.valid_to)),
                    FV::I(Some(w.due)),
                    FV::I(w.reported_at),
                ]);
                rows += 1;
                if rows == FACT_ROWS {
                    fact_exec(
                        tx,
                        WHISTLE_HEAD,
                        WHISTLE_COLS,
                        rows,
                        std::mem::take(&mut vals),
                    )
                    .await?;
                    rows = 0;
                }
            }
        }
        fact_exec(tx, WHISTLE_HEAD, WHISTLE_COLS, rows, vals).await?;
        Ok(())
    }

    /// Facts of new requests whose whole logs are in hand (intake, bulk loads).
    pub(super) async fn facts_for_new(tx: &mut Tx, logs: &[(RequestId, &[Event])]) -> Result<()> {
        let facts: Vec<RequestFacts> = logs
            .iter()
            .map(|(id, events)| assessment_facts::request_facts(*id, events))
            .collect();
        Self::insert_facts(tx, &facts).await
    }

    /// Recomputes one request's facts from its stored log, after `new_events` were appended in
    /// this transaction. Events that cannot change a fact (督办, 挂账 …) cost nothing.
    pub(super) async fn refresh_facts(
        tx: &mut Tx,
        id: RequestId,
        new_events: &[Event],
    ) -> Result<()> {
        if !new_events
            .iter()
            .any(|e| assessment_facts::affects_facts(&e.kind))
        {
            return Ok(());
        }
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT seq, at, payload FROM request_events WHERE request_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        let events = rows
            .into_iter()
            .map(|(seq, at, payload)| fact_event(seq, at, &payload))
            .collect::<Result<Vec<_>>>()?;
        for table in [
            "assessment_cycles",
            "assessment_callbacks",
            "assessment_whistles",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE request_id = $1"
            )))
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        let facts = assessment_facts::request_facts(id, &events);
        Self::insert_facts(tx, std::slice::from_ref(&facts)).await
    }

    /// The grouped counts of a period as of an instant, from the facts. For
    /// [`GroupBy::TopCategory`] the rows are keyed by leaf category (the domain folds them).
    pub async fn assessment_counts(
        &self,
        start: Timestamp,
        end: Timestamp,
        as_of: Timestamp,
        by: GroupBy,
    ) -> Result<Vec<GroupScore>> {
        let (s, e, a) = (ms(start), ms(end), ms(as_of));
        let [cycles_sql, callbacks_sql, whistles_sql] = crate::assessment_sql(by);
        let run = |sql: String| async move {
            let mut tx = self.read.begin().await?;
            if PG {
                // JIT compiling these expressions costs more (≈150 ms) than it saves on a
                // month's index-only scan.
                sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
            }
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(s)
                .bind(e)
                .bind(a)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(rows)
        };
        // Three scans at once: on PostgreSQL they run on separate connections (and cores).
        let (cycles, callbacks, whistles) =
            tokio::try_join!(run(cycles_sql), run(callbacks_sql), run(whistles_sql))?;
        let mut acc: std::collections::BTreeMap<String, GroupScore> = Default::default();
        fn entry(
            acc: &mut std::collections::BTreeMap<String, GroupScore>,
            key: String,
        ) -> &mut GroupScore {
            acc.entry(key.clone()).or_insert_with(|| GroupScore {
                key,
                ..GroupScore::default()
            })
        }
        let n = |r: &<DB as sqlx::Database>::Row, i: usize| -> Result<u64> {
            let v: Option<i64> = r.try_get(i)?;
            Ok(u64::try_from(v.unwrap_or(0)).unwrap_or(0))
        };
        for r in &cycles {
            let g = entry(&mut acc, r.try_get(0)?);
            g.dispatched += n(r, 1)?;
            g.responded_in_time += n(r, 2)?;
            g.replied += n(r, 3)?;
            g.replied_in_time += n(r, 4)?;
        }
        for r in &callbacks {
            let (reached, unreached) = (n(r, 1)?, n(r, 6)?);
            let (sat, basic, unsat) = (n(r, 3)?, n(r, 4)?, n(r, 5)?);
            if reached + unreached == 0 {
                continue;
            }
            let g = entry(&mut acc, r.try_get(0)?);
            g.callbacks += reached + unreached;
            g.callbacks_reached += reached;
            g.callbacks_unreached += unreached;
            g.resolved += n(r, 2)?;
            g.satisfied += sat;
            g.basically_satisfied += basic;
            g.unsatisfied += unsat;
            g.satisfaction_answers += sat + basic + unsat;
        }
        for r in &whistles {
            let g = entry(&mut acc, r.try_get(0)?);
            g.whistled += n(r, 1)?;
            g.whistle_reported_in_time += n(r, 2)?;
        }
        Ok(acc.into_values().collect())
    }

    /// Deletes every fact and derives them again from `request_events`, in one transaction
    /// (readers see the old facts until it commits). Returns (requests, events) read.
    pub async fn rebuild_assessment_facts(&self) -> Result<(u64, u64)> {
        /// Requests per read.
        const CHUNK: i64 = 5_000;
        let mut tx = begin_write(&self.write).await?;
        for table in [
            "assessment_cycles",
            "assessment_callbacks",
            "assessment_whistles",
        ] {
            let sql = if PG {
                format!("TRUNCATE {table}")
            } else {
                format!("DELETE FROM {table}")
            };
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        }
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(request_id) FROM request_events")
            .fetch_one(&mut *tx)
            .await?;
        let (mut requests, mut events_read) = (0u64, 0u64);
        let mut lo = 0i64;
        while lo < max.unwrap_or(0) {
            let hi = lo + CHUNK;
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
                "SELECT request_id, seq, at, payload FROM request_events \
                 WHERE request_id > $1 AND request_id <= $2 ORDER BY request_id, seq",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *tx)
            .await?;
            events_read += rows.len() as u64;
            let mut facts = Vec::new();
            let mut log: Vec<Event> = Vec::new();
            let mut current: Option<i64> = None;
            for (id, seq, at, payload) in rows {
                if current != Some(id) {
                    if let Some(prev) = current {
                        facts.push(assessment_facts::request_facts(prev, &log));
                        log.clear();
                    }
                    current = Some(id);
                }
                log.push(fact_event(seq, at, &payload)?);
            }
            if let Some(prev) = current {
                facts.push(assessment_facts::request_facts(prev, &log));
            }
            requests += facts.len() as u64;
            Self::insert_facts(&mut tx, &facts).await?;
            lo = hi;
        }
        tx.commit().await?;
        Ok((requests, events_read))
    }

    /// Appends precomputed facts (the city generator; `jiesu rollup rebuild` uses the same
    /// rows). Multi-row inserts in one transaction; PostgreSQL loads go through COPY instead
    /// (`Store::copy_facts`).
    pub async fn append_facts(&self, facts: &[RequestFacts]) -> Result<()> {
        let mut tx = begin_write(&self.write).await?;
        Self::insert_facts(&mut tx, facts).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Bulk loads: drops the fact tables' secondary indexes (`present = false`) or creates them
    /// and refreshes the planner statistics (`present = true`).
    pub async fn fact_indexes(&self, present: bool) -> Result<()> {
        // As in migration 0005 (the covering indexes of the period scans).
        const CYCLE_COLS: &str = "valid_from, valid_to, response_due, completion_due, accepted_at, contacted_at, replied_at, unit, street, category, channel";
        const CALLBACK_COLS: &str = "valid_to, reached, resolved, satisfaction, next_at, next_reached_at, prev_reached_at, unit, street, category, channel";
        let cover = |col: &str, rest: &str| {
            if PG {
                format!("({col}) INCLUDE ({rest})")
            } else {
                format!("({col}, {rest})")
            }
        };
        let indexes = [
            (
                "assessment_cycles_request",
                "assessment_cycles",
                "(request_id)".to_string(),
            ),
            (
                "assessment_cycles_opened",
                "assessment_cycles",
                cover("opened_at", CYCLE_COLS),
            ),
            (
                "assessment_callbacks_request",
                "assessment_callbacks",
                "(request_id)".to_string(),
            ),
            (
                "assessment_callbacks_at",
                "assessment_callbacks",
                cover("at", CALLBACK_COLS),
            ),
            (
                "assessment_whistles_request",
                "assessment_whistles",
                "(request_id)".to_string(),
            ),
            (
                "assessment_whistles_at",
                "assessment_whistles",
                "(at)".to_string(),
            ),
        ];
        for (name, table, cols) in &indexes {
            let sql = if present {
                format!("CREATE INDEX IF NOT EXISTS {name} ON {table} {cols}")
            } else {
                format!("DROP INDEX IF EXISTS {name}")
            };
            sqlx::query(AssertSqlSafe(sql)).execute(&self.write).await?;
        }
        if present {
            for table in [
                "assessment_cycles",
                "assessment_callbacks",
                "assessment_whistles",
            ] {
                // PostgreSQL: VACUUM sets the visibility map that index-only scans need.
                let verb = if PG { "VACUUM ANALYZE" } else { "ANALYZE" };
                sqlx::query(AssertSqlSafe(format!("{verb} {table}")))
                    .execute(&self.write)
                    .await?;
            }
        }
        Ok(())
    }

    /// Rows in the three fact tables (cycles, callbacks, whistles).
    pub async fn fact_rows(&self) -> Result<(i64, i64, i64)> {
        let mut n = [0i64; 3];
        for (i, table) in [
            "assessment_cycles",
            "assessment_callbacks",
            "assessment_whistles",
        ]
        .iter()
        .enumerate()
        {
            n[i] = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&self.read)
                .await?;
        }
        Ok((n[0], n[1], n[2]))
    }

    /// The write pool (COPY on PostgreSQL needs a raw connection; unused on SQLite).
    #[allow(dead_code)]
    pub(crate) fn write_pool(&self) -> &Pool {
        &self.write
    }
}

/// An event as the fact derivation needs it (the actor is not read).
pub(super) fn fact_event(seq: i64, at: i64, payload: &str) -> Result<Event> {
    Ok(Event {
        seq,
        at: ts(at)?,
        actor: Actor::system(),
        reason: None,
        kind: from_json(payload)?,
    })
}
