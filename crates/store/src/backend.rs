// One implementation of the store, included once per backend (see lib.rs): `DB`, `Pool`, `PG`,
// `FOR_UPDATE`, `begin_write` and `MIGRATIONS` are defined by the including module.

use crate::*;
use jiesu_domain::{Directory, Role};
use sqlx::{AssertSqlSafe, Row};

type Tx = sqlx::Transaction<'static, DB>;

/// How many times a command is retried when another writer appended to the same request first.
const MAX_RETRIES: usize = 5;

#[derive(Clone)]
pub struct Db {
    /// Writers. For SQLite a single connection: SQLite has one writer anyway, and queueing in
    /// the pool is cheaper than busy-waiting on the file lock.
    write: Pool,
    /// Readers (WAL lets them run beside the writer).
    read: Pool,
    /// SQLite only: new requests are written by one task in group commits (see `batch_writer`).
    intake: Option<tokio::sync::mpsc::Sender<PendingCreate>>,
}

/// A new request whose events the domain has decided, waiting for the intake writer.
struct PendingCreate {
    st: RequestState,
    events: Vec<Event>,
    key: Option<String>,
    suggestion: Option<String>,
    reply: tokio::sync::oneshot::Sender<std::result::Result<RequestState, BatchError>>,
}

/// One new request for a multi-row write.
struct BulkRow<'a> {
    st: &'a RequestState,
    events: &'a [Event],
    key: Option<&'a str>,
    suggestion: Option<&'a str>,
}

/// What the operator finally chose, stored beside the suggestion.
fn chosen_json(st: &RequestState) -> String {
    serde_json::json!({
        "request_type": st.intake.request_type.as_str(),
        "category": st.intake.category,
        "street": st.intake.street,
        "community": st.intake.community,
        "unit": st.lead_unit,
        "urgent": st.intake.urgent,
    })
    .to_string()
}

enum BatchError {
    /// Another request took the idempotency key first; the caller replays it.
    KeyTaken,
    Failed(String),
}

/// Most new requests one group commit carries.
const MAX_BATCH: usize = 128;

/// The SQLite intake writer: takes every new request waiting, writes them in one transaction
/// and answers each after the commit. One transaction per request costs two extra round trips
/// and a WAL commit each; under load this turns N of them into one. Each request stays atomic:
/// SQLite reverts a failed statement without aborting the transaction, and a request whose row
/// insert fails writes nothing else.
async fn batch_writer(pool: Pool, mut rx: tokio::sync::mpsc::Receiver<PendingCreate>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        write_batch(&pool, batch).await;
    }
}

async fn write_batch(pool: &Pool, batch: Vec<PendingCreate>) {
    // Fast path: the whole batch in a handful of multi-row statements. Any unique violation
    // (a repeated idempotency key, a tracking-code collision) rolls it back and the batch is
    // written request by request below, where each conflict is handled on its own.
    if batch.len() > 1
        && let Ok(mut tx) = begin_write(pool).await
    {
        let rows: Vec<BulkRow<'_>> = batch
            .iter()
            .map(|p| BulkRow {
                st: &p.st,
                events: &p.events,
                key: p.key.as_deref(),
                suggestion: p.suggestion.as_deref(),
            })
            .collect();
        let written = Db::bulk_insert_tx(&mut tx, &rows, true).await;
        drop(rows);
        match written {
            Ok(ids) => {
                if let Err(e) = tx.commit().await {
                    let msg = e.to_string();
                    for p in batch {
                        let _ = p.reply.send(Err(BatchError::Failed(msg.clone())));
                    }
                    return;
                }
                for mut p in batch {
                    let answer = match ids.get(&p.st.tracking_code) {
                        Some(&id) => {
                            p.st.id = id;
                            Ok(p.st)
                        }
                        None => Err(BatchError::Failed("no id returned".into())),
                    };
                    let _ = p.reply.send(answer);
                }
                return;
            }
            Err(_) => {
                let _ = tx.rollback().await;
            }
        }
    }
    write_batch_one_by_one(pool, batch).await;
}

async fn write_batch_one_by_one(pool: &Pool, batch: Vec<PendingCreate>) {
    // PostgreSQL aborts a transaction at its first failed statement, so there each request
    // gets a transaction of its own; SQLite reverts only the failed statement and can share one.
    if PG {
        for p in batch {
            write_batch_shared(pool, vec![p]).await;
        }
        return;
    }
    write_batch_shared(pool, batch).await;
}

async fn write_batch_shared(pool: &Pool, batch: Vec<PendingCreate>) {
    let fail_all = |batch: Vec<PendingCreate>, msg: String| {
        for p in batch {
            let _ = p.reply.send(Err(BatchError::Failed(msg.clone())));
        }
    };
    let mut tx = match begin_write(pool).await {
        Ok(tx) => tx,
        Err(e) => return fail_all(batch, e.to_string()),
    };
    let mut answers = Vec::with_capacity(batch.len());
    let mut fatal: Option<String> = None;
    let mut pending = batch.into_iter();
    for mut p in pending.by_ref() {
        let mut answer = Err(BatchError::Failed("tracking code collisions".into()));
        for _ in 0..MAX_RETRIES {
            match Db::insert_request_row(&mut tx, &p.st, p.key.clone()).await {
                Ok(id) => {
                    p.st.id = id;
                    let rest = Db::insert_rest(&mut tx, &p.st, &p.events, p.suggestion.as_deref()).await;
                    match rest {
                        Ok(()) => answer = Ok(p.st.clone()),
                        Err(e) => fatal = Some(e.to_string()),
                    }
                    break;
                }
                Err(e) if unique_violation(&e, "idempotency") => {
                    answer = Err(BatchError::KeyTaken);
                    break;
                }
                Err(e) if unique_violation(&e, "tracking_code") => {
                    p.st.tracking_code = tracking_code(p.st.intake.received_at);
                }
                Err(e) => {
                    fatal = Some(e.to_string());
                    break;
                }
            }
        }
        answers.push((p.reply, answer));
        if fatal.is_some() {
            break;
        }
    }
    if let Some(msg) = fatal {
        let _ = tx.rollback().await;
        for (reply, _) in answers {
            let _ = reply.send(Err(BatchError::Failed(msg.clone())));
        }
        return fail_all(pending.collect(), msg);
    }
    if let Err(e) = tx.commit().await {
        let msg = e.to_string();
        for (reply, _) in answers {
            let _ = reply.send(Err(BatchError::Failed(msg.clone())));
        }
        return;
    }
    for (reply, answer) in answers {
        let _ = reply.send(answer);
    }
}

/// A bind value for dynamically built SQL.
enum P {
    I(i64),
    S(String),
    B(bool),
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    params: Vec<P>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments> {
    for p in params {
        q = match p {
            P::I(v) => q.bind(v),
            P::S(v) => q.bind(v),
            P::B(v) => q.bind(v),
        };
    }
    q
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db> {
        let (write, read) = connect_pools(url).await?;
        // Group commit: one writer task turns concurrent intakes into one transaction with a
        // few multi-row statements (SQLite has a single writer anyway; PostgreSQL saves a WAL
        // flush and the round trips per request).
        let intake = Some({
            let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(batch_writer(write.clone(), rx));
            tx
        });
        Ok(Db {
            write,
            read,
            intake,
        })
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    pub async fn migrate(&self) -> Result<Vec<i64>> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&self.write)
        .await?;
        let mut applied = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            let mut tx = begin_write(&self.write).await?;
            if PG {
                // Two servers starting together must not both run a migration.
                sqlx::query("SELECT pg_advisory_xact_lock(74130001)")
                    .execute(&mut *tx)
                    .await?;
            }
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                tx.rollback().await?;
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(name.to_string())
            .bind(ms(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            applied.push(*version);
        }
        Ok(applied)
    }

    // ---- world ----

    pub async fn save_world(&self, json: String, source: &str, now: Timestamp) -> Result<()> {
        sqlx::query("INSERT INTO world_versions (loaded_at, source, world) VALUES ($1, $2, $3)")
            .bind(ms(now))
            .bind(source.to_string())
            .bind(json)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn load_world(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT world FROM world_versions ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.read)
                .await?,
        )
    }

    // ---- requests ----

    async fn load_for_update(tx: &mut Tx, id: RequestId) -> Result<Option<RequestState>> {
        let sql =
            format!("SELECT id, tracking_code, state FROM requests WHERE id = $1{FOR_UPDATE}");
        let row: Option<(i64, String, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|(id, code, state)| decode_state(id, code, &state))
            .transpose()
    }

    async fn insert_events(tx: &mut Tx, id: RequestId, events: &[Event]) -> Result<()> {
        for e in events {
            let r = sqlx::query(
                "INSERT INTO request_events (request_id, seq, at, kind, actor_user_id, actor_name, actor_role, actor_unit, reason, payload) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(e.seq)
            .bind(ms(e.at))
            .bind(e.kind.name())
            .bind(e.actor.user_id)
            .bind(e.actor.username.clone())
            .bind(e.actor.role.as_str())
            .bind(e.actor.unit.clone())
            .bind(e.reason.clone())
            .bind(to_json(&e.kind)?)
            .execute(&mut **tx)
            .await;
            match r {
                Ok(_) => {}
                Err(e) if is_any_unique_violation(&e) => return Err(StoreError::Conflict),
                Err(e) => return Err(e.into()),
            }
        }
        // Events out: published iff committed (outbox.rs).
        if let Some(first) = events.first() {
            Self::outbox_request(tx, id, first.seq).await?;
        }
        Ok(())
    }

    /// Writes the projection row of `st`, whose previous version was `prev_version`.
    async fn update_projection(tx: &mut Tx, st: &RequestState, prev_version: i64) -> Result<()> {
        let r = sqlx::query(
            "UPDATE requests SET status = $2, category = $3, street = $4, community = $5, lead_unit = $6, \
             dispatched_at = $7, response_due = $8, completion_due = $9, warn_at = $10, next_whistle_due = $11, \
             replied_at = $12, closed_at = $13, response_pending = $14, clock_running = $15, \
             response_overdue = $16, completion_overdue = $17, master_id = $18, version = $19, updated_at = $20, \
             state = $21 WHERE id = $1 AND version = $22",
        )
        .bind(st.id)
        .bind(st.status.as_str())
        .bind(st.intake.category.clone())
        .bind(st.intake.street.clone())
        .bind(st.intake.community.clone())
        .bind(st.lead_unit.clone())
        .bind(st.dispatched_at.map(ms))
        .bind(st.response_due.map(ms))
        .bind(st.completion_due.map(ms))
        .bind(st.warn_at.map(ms))
        .bind(next_whistle_due(st))
        .bind(st.replied_at.map(ms))
        .bind(st.closed_at.map(ms))
        .bind(st.response_pending())
        .bind(st.completion_clock_running())
        .bind(st.response_overdue)
        .bind(st.completion_overdue)
        .bind(st.merged_into)
        .bind(st.version)
        .bind(ms(st.updated_at))
        .bind(to_json(st)?)
        .bind(prev_version)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    /// Keeps `request_units` (who may see the request) in step with the state.
    async fn sync_units(tx: &mut Tx, st: &RequestState) -> Result<()> {
        sqlx::query("DELETE FROM request_units WHERE request_id = $1")
            .bind(st.id)
            .execute(&mut **tx)
            .await?;
        if let Some(lead) = &st.lead_unit {
            sqlx::query(
                "INSERT INTO request_units (request_id, unit_code, lead) VALUES ($1, $2, TRUE)",
            )
            .bind(st.id)
            .bind(lead.clone())
            .execute(&mut **tx)
            .await?;
        }
        for c in &st.co_handlers {
            if Some(&c.unit) == st.lead_unit.as_ref() {
                continue;
            }
            sqlx::query(
                "INSERT INTO request_units (request_id, unit_code, lead) VALUES ($1, $2, FALSE)",
            )
            .bind(st.id)
            .bind(c.unit.clone())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    async fn insert_request_row(
        tx: &mut Tx,
        st: &RequestState,
        idempotency_key: Option<String>,
    ) -> std::result::Result<i64, sqlx::Error> {
        let sql = "INSERT INTO requests (tracking_code, idempotency_key, status, request_type, channel, category, street, community, \
             lead_unit, urgent, received_at, dispatched_at, response_due, completion_due, warn_at, next_whistle_due, replied_at, \
             closed_at, response_pending, clock_running, response_overdue, completion_overdue, master_id, text, version, updated_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) RETURNING id";
        let json = serde_json::to_string(st).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let id: i64 = sqlx::query_scalar(sql)
            .bind(st.tracking_code.clone())
            .bind(idempotency_key)
            .bind(st.status.as_str())
            .bind(st.intake.request_type.as_str())
            .bind(st.intake.channel.as_str())
            .bind(st.intake.category.clone())
            .bind(st.intake.street.clone())
            .bind(st.intake.community.clone())
            .bind(st.lead_unit.clone())
            .bind(st.intake.urgent)
            .bind(ms(st.intake.received_at))
            .bind(st.dispatched_at.map(ms))
            .bind(st.response_due.map(ms))
            .bind(st.completion_due.map(ms))
            .bind(st.warn_at.map(ms))
            .bind(next_whistle_due(st))
            .bind(st.replied_at.map(ms))
            .bind(st.closed_at.map(ms))
            .bind(st.response_pending())
            .bind(st.completion_clock_running())
            .bind(st.response_overdue)
            .bind(st.completion_overdue)
            .bind(st.merged_into)
            .bind(st.intake.text.clone())
            .bind(st.version)
            .bind(ms(st.updated_at))
            .bind(json)
            .fetch_one(&mut **tx)
            .await?;
        Ok(id)
    }

    pub async fn create_request(&self, new: NewRequest<'_>) -> Result<Created> {
        if let Some(key) = &new.idempotency_key
            && let Some(existing) = self.by_idempotency_key(key).await?
        {
            return check_replay(existing, &new.intake);
        }
        // The domain decides everything before the database is touched: a refusal of the
        // follow-up action stores nothing.
        let mut st = RequestState::new(0, String::new(), new.intake.clone(), new.now);
        let received = Event {
            seq: 1,
            at: new.now,
            actor: new.actor.clone(),
            reason: None,
            kind: EventKind::Received {
                intake: new.intake.clone(),
            },
        };
        let mut events = vec![received];
        if let Some(cmd) = &new.follow_up {
            let ctx = jiesu_domain::Ctx {
                dir: new.dir,
                now: new.now,
            };
            let decided = jiesu_domain::decide(&st, new.actor, cmd, &ctx)?;
            events.extend(stamp(&mut st, decided, new.actor, new.now));
        }
        if let Some(intake) = &self.intake {
            st.tracking_code = tracking_code(new.intake.received_at);
            let (reply, answer) = tokio::sync::oneshot::channel();
            let pending = PendingCreate {
                st,
                events,
                key: new.idempotency_key.clone(),
                suggestion: new.suggestion.clone(),
                reply,
            };
            intake
                .send(pending)
                .await
                .map_err(|_| StoreError::Unavailable("the intake writer has stopped".into()))?;
            return match answer.await {
                Ok(Ok(state)) => Ok(Created {
                    state,
                    replayed: false,
                }),
                Ok(Err(BatchError::KeyTaken)) => {
                    let key = new.idempotency_key.as_deref().unwrap_or_default();
                    let existing = self
                        .by_idempotency_key(key)
                        .await?
                        .ok_or(StoreError::Conflict)?;
                    check_replay(existing, &new.intake)
                }
                Ok(Err(BatchError::Failed(msg))) => Err(StoreError::Unavailable(msg)),
                Err(_) => Err(StoreError::Unavailable(
                    "the intake writer has stopped".into(),
                )),
            };
        }
        for _ in 0..MAX_RETRIES {
            st.tracking_code = tracking_code(new.intake.received_at);
            let mut tx = begin_write(&self.write).await?;
            let id = match Self::insert_request_row(&mut tx, &st, new.idempotency_key.clone()).await
            {
                Ok(id) => id,
                Err(e) if unique_violation(&e, "idempotency") => {
                    drop(tx);
                    let key = new.idempotency_key.as_deref().unwrap_or_default();
                    let existing = self
                        .by_idempotency_key(key)
                        .await?
                        .ok_or(StoreError::Conflict)?;
                    return check_replay(existing, &new.intake);
                }
                Err(e) if unique_violation(&e, "tracking_code") => continue,
                Err(e) => return Err(e.into()),
            };
            st.id = id;
            Self::insert_rest(&mut tx, &st, &events, new.suggestion.as_deref()).await?;
            tx.commit().await?;
            return Ok(Created {
                state: st,
                replayed: false,
            });
        }
        Err(StoreError::Conflict)
    }

    /// Everything a new request writes after its row: events, visibility, the suggestion.
    async fn insert_rest(
        tx: &mut Tx,
        st: &RequestState,
        events: &[Event],
        suggestion: Option<&str>,
    ) -> Result<()> {
        Self::insert_events(tx, st.id, events).await?;
        // 考评 facts (rollup.rs), in the same transaction.
        Self::facts_for_new(tx, &[(st.id, events)]).await?;
        if st.lead_unit.is_some() {
            Self::sync_units(tx, st).await?;
        }
        if let Some(s) = suggestion {
            sqlx::query(
                "INSERT INTO request_suggestions (request_id, created_at, suggestion, chosen) VALUES ($1, $2, $3, $4)",
            )
            .bind(st.id)
            .bind(ms(st.updated_at))
            .bind(s.to_string())
            .bind(chosen_json(st))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    async fn by_idempotency_key(&self, key: &str) -> Result<Option<RequestState>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, tracking_code, state FROM requests WHERE idempotency_key = $1",
        )
        .bind(key.to_string())
        .fetch_optional(&self.read)
        .await?;
        row.map(|(id, code, s)| decode_state(id, code, &s))
            .transpose()
    }

    pub async fn act(
        &self,
        dir: &Directory,
        actor: &Actor,
        id: RequestId,
        cmd: &Command,
        now: Timestamp,
    ) -> Result<RequestState> {
        // The one command loop (engine.rs).
        self.run_act(&RequestRows, id, actor, now, |st| {
            if !jiesu_domain::can_see(actor, st) {
                return Err(StoreError::Domain(DomainError::NotVisible));
            }
            let ctx = jiesu_domain::Ctx { dir, now };
            Ok(jiesu_domain::decide(st, actor, cmd, &ctx)?)
        })
        .await
    }

    async fn write_events(
        tx: &mut Tx,
        st: &RequestState,
        prev: i64,
        events: &[Event],
    ) -> Result<()> {
        Self::insert_events(tx, st.id, events).await?;
        Self::update_projection(tx, st, prev).await?;
        // 考评 facts (rollup.rs), in the same transaction.
        Self::refresh_facts(tx, st.id, events).await?;
        if events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Dispatched { .. }
                    | EventKind::Reopened { .. }
                    | EventKind::Whistled { .. }
            )
        }) {
            Self::sync_units(tx, st).await?;
        }
        Ok(())
    }

    pub async fn merge(
        &self,
        actor: &Actor,
        child: RequestId,
        master: RequestId,
        now: Timestamp,
    ) -> Result<RequestState> {
        for _ in 0..MAX_RETRIES {
            let mut tx = begin_write(&self.write).await?;
            // Lock in id order so two opposite merges cannot deadlock.
            let (first, second) = if child < master {
                (child, master)
            } else {
                (master, child)
            };
            let a = Self::load_for_update(&mut tx, first).await?;
            let b = Self::load_for_update(&mut tx, second).await?;
            let (c, m) = if child < master { (a, b) } else { (b, a) };
            let mut c = c.ok_or(StoreError::NotFound)?;
            let mut m = m.ok_or_else(|| {
                StoreError::Domain(DomainError::invalid(
                    "master_id",
                    "unknown_request",
                    format!("no request {master}"),
                ))
            })?;
            if !jiesu_domain::can_see(actor, &c) {
                return Err(StoreError::Domain(DomainError::NotVisible));
            }
            let (ce, me) = jiesu_domain::decide_merge(&c, &m, actor)?;
            let (cp, mp) = (c.version, m.version);
            let cev = stamp(&mut c, vec![ce], actor, now);
            let mev = stamp(&mut m, vec![me], actor, now);
            let r = async {
                Self::write_events(&mut tx, &c, cp, &cev).await?;
                Self::write_events(&mut tx, &m, mp, &mev).await
            }
            .await;
            match r {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(c);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    pub async fn get(&self, id: RequestId) -> Result<Option<RequestState>> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, tracking_code, state FROM requests WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|(id, code, s)| decode_state(id, code, &s))
            .transpose()
    }

    pub async fn get_by_tracking_code(&self, code: &str) -> Result<Option<RequestState>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, tracking_code, state FROM requests WHERE tracking_code = $1",
        )
        .bind(code.to_string())
        .fetch_optional(&self.read)
        .await?;
        row.map(|(id, code, s)| decode_state(id, code, &s))
            .transpose()
    }

    pub async fn events(&self, id: RequestId) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, actor_name, actor_role, actor_unit, reason, payload \
             FROM request_events WHERE request_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("actor_role")?;
                Ok(Event {
                    seq: r.try_get("seq")?,
                    at: ts(r.try_get("at")?)?,
                    actor: Actor {
                        user_id: r.try_get("actor_user_id")?,
                        username: r.try_get("actor_name")?,
                        role: role.parse().map_err(|e: jiesu_domain::UnknownCode| {
                            StoreError::Corrupt(e.to_string())
                        })?,
                        unit: r.try_get("actor_unit")?,
                    },
                    reason: r.try_get("reason")?,
                    kind: from_json(&r.try_get::<String, _>("payload")?)?,
                })
            })
            .collect()
    }

    pub async fn list(&self, f: &ListFilter) -> Result<Page> {
        let mut sql =
            String::from("SELECT id, tracking_code, state, received_at FROM requests WHERE 1=1");
        let mut params: Vec<P> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, p: P| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if !f.statuses.is_empty() {
            sql.push_str(" AND status IN (");
            for (i, s) in f.statuses.iter().enumerate() {
                push(
                    &mut sql,
                    if i == 0 { "?" } else { ", ?" },
                    P::S(s.as_str().into()),
                );
            }
            sql.push(')');
        }
        if let Some(u) = &f.unit {
            push(&mut sql, " AND lead_unit = ?", P::S(u.clone()));
        }
        if let Some(u) = &f.scope_unit {
            push(
                &mut sql,
                " AND id IN (SELECT request_id FROM request_units WHERE unit_code = ?)",
                P::S(u.clone()),
            );
        }
        if let Some(s) = &f.street {
            push(&mut sql, " AND street = ?", P::S(s.clone()));
        }
        if let Some(c) = &f.community {
            push(&mut sql, " AND community = ?", P::S(c.clone()));
        }
        if !f.categories.is_empty() {
            sql.push_str(" AND category IN (");
            for (i, c) in f.categories.iter().enumerate() {
                push(&mut sql, if i == 0 { "?" } else { ", ?" }, P::S(c.clone()));
            }
            sql.push(')');
        }
        if let Some(t) = &f.request_type {
            push(&mut sql, " AND request_type = ?", P::S(t.clone()));
        }
        if let Some(c) = &f.channel {
            push(&mut sql, " AND channel = ?", P::S(c.clone()));
        }
        match f.overdue {
            Some(true) => sql.push_str(" AND (response_overdue OR completion_overdue)"),
            Some(false) => sql.push_str(" AND NOT response_overdue AND NOT completion_overdue"),
            None => {}
        }
        if let Some(t) = f.warning_at {
            push(
                &mut sql,
                " AND clock_running AND NOT completion_overdue AND warn_at <= ?",
                P::I(ms(t)),
            );
        }
        if let Some(t) = f.received_from {
            push(&mut sql, " AND received_at >= ?", P::I(ms(t)));
        }
        if let Some(t) = f.received_to {
            push(&mut sql, " AND received_at < ?", P::I(ms(t)));
        }
        if let Some(t) = &f.text {
            // LIKE wildcards in the user's text are matched literally.
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            push(
                &mut sql,
                " AND text LIKE ? ESCAPE '\\'",
                P::S(format!("%{escaped}%")),
            );
        }
        if let Some(ids) = &f.ids {
            // Candidates from the search index; an empty list matches nothing.
            if ids.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(" AND id IN (");
                for (i, id) in ids.iter().enumerate() {
                    push(&mut sql, if i == 0 { "?" } else { ", ?" }, P::I(*id));
                }
                sql.push(')');
            }
        }
        if f.extension_pending {
            sql.push_str(" AND status IN ('accepted', 'in_progress') AND NOT clock_running");
        }
        let newest = f.order == ListOrder::Newest;
        if let Some(c) = f.cursor.filter(|_| newest) {
            push(&mut sql, " AND (received_at < ?", P::I(c.received_at_ms));
            push(&mut sql, " OR (received_at = ?", P::I(c.received_at_ms));
            push(&mut sql, " AND id < ?))", P::I(c.id));
        }
        let limit = f.limit.clamp(1, 500) as i64;
        let order = match f.order {
            ListOrder::Newest => " ORDER BY received_at DESC, id DESC LIMIT ?",
            ListOrder::Deadline => {
                " ORDER BY CASE WHEN completion_due IS NULL THEN 1 ELSE 0 END, completion_due, id LIMIT ?"
            }
            ListOrder::OldestReply => {
                " ORDER BY CASE WHEN replied_at IS NULL THEN 1 ELSE 0 END, replied_at, id LIMIT ?"
            }
        };
        push(&mut sql, order, P::I(limit + 1));
        let _ = P::B(false); // keeps the bool variant for future filters
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.read)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let code: String = r.try_get(1)?;
            let state: String = r.try_get(2)?;
            let received: i64 = r.try_get(3)?;
            items.push(decode_state(id, code, &state)?);
            keys.push(Cursor {
                received_at_ms: received,
                id,
            });
        }
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            keys.get(limit as usize - 1).copied().filter(|_| newest)
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    pub async fn sweep_sla(&self, now: Timestamp) -> Result<SweepReport> {
        // The one timer sweep (engine.rs); SLA breaches are the request's timers.
        self.run_sweep(&RequestRows, now, |st| jiesu_domain::sla_breaches(st, now))
            .await
    }

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
        Self::bulk_insert_tx(&mut tx, &rows, false).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes new requests with multi-row statements inside `tx`; returns each tracking code's
    /// id. Any unique violation fails the whole call (the caller rolls back). `publish`: also
    /// write outbox rows (live intake does; history loads — demo, import — do not: a backfill
    /// is not a live event).
    async fn bulk_insert_tx(
        tx: &mut Tx,
        items: &[BulkRow<'_>],
        publish: bool,
    ) -> Result<std::collections::HashMap<String, i64>> {
        // Multi-row INSERTs: with one row per statement the per-statement round trip dominates
        // a bulk load. Rows per statement keep the bind parameters under SQLite's 32,766
        // (PostgreSQL allows 65,535).
        enum V {
            I(Option<i64>),
            S(Option<String>),
            B(bool),
        }
        type Q<'q> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>;
        fn bind(mut q: Q<'_>, vals: Vec<V>) -> Q<'_> {
            for v in vals {
                q = match v {
                    V::I(x) => q.bind(x),
                    V::S(x) => q.bind(x),
                    V::B(x) => q.bind(x),
                };
            }
            q
        }
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
        const REQ_COLS: usize = 27;
        const REQ_ROWS: usize = 1_000;
        const EV_COLS: usize = 10;
        const EV_ROWS: usize = 3_000;
        const UNIT_COLS: usize = 3;
        const UNIT_ROWS: usize = 5_000;
        const REQ_HEAD: &str = "INSERT INTO requests (tracking_code, idempotency_key, status, request_type, channel, category, street, community, \
             lead_unit, urgent, received_at, dispatched_at, response_due, completion_due, warn_at, next_whistle_due, replied_at, \
             closed_at, response_pending, clock_running, response_overdue, completion_overdue, master_id, text, version, updated_at, state) VALUES";
        const EV_HEAD: &str = "INSERT INTO request_events (request_id, seq, at, kind, actor_user_id, actor_name, actor_role, actor_unit, reason, payload) VALUES";
        const UNIT_HEAD: &str = "INSERT INTO request_units (request_id, unit_code, lead) VALUES";
        const SUG_COLS: usize = 4;
        const SUG_HEAD: &str =
            "INSERT INTO request_suggestions (request_id, created_at, suggestion, chosen) VALUES";
        // Ids come back with their tracking codes: RETURNING does not promise row order.
        let mut ids: std::collections::HashMap<String, i64> =
            std::collections::HashMap::with_capacity(items.len());
        for batch in items.chunks(REQ_ROWS) {
            let sql = values(REQ_HEAD, batch.len(), REQ_COLS) + " RETURNING id, tracking_code";
            let mut vals = Vec::with_capacity(batch.len() * REQ_COLS);
            for row in batch {
                let st = row.st;
                vals.extend([
                    V::S(Some(st.tracking_code.clone())),
                    V::S(row.key.map(str::to_string)),
                    V::S(Some(st.status.as_str().to_string())),
                    V::S(Some(st.intake.request_type.as_str().to_string())),
                    V::S(Some(st.intake.channel.as_str().to_string())),
                    V::S(st.intake.category.clone()),
                    V::S(st.intake.street.clone()),
                    V::S(st.intake.community.clone()),
                    V::S(st.lead_unit.clone()),
                    V::B(st.intake.urgent),
                    V::I(Some(ms(st.intake.received_at))),
                    V::I(st.dispatched_at.map(ms)),
                    V::I(st.response_due.map(ms)),
                    V::I(st.completion_due.map(ms)),
                    V::I(st.warn_at.map(ms)),
                    V::I(next_whistle_due(st)),
                    V::I(st.replied_at.map(ms)),
                    V::I(st.closed_at.map(ms)),
                    V::B(st.response_pending()),
                    V::B(st.completion_clock_running()),
                    V::B(st.response_overdue),
                    V::B(st.completion_overdue),
                    V::I(st.merged_into),
                    V::S(Some(st.intake.text.clone())),
                    V::I(Some(st.version)),
                    V::I(Some(ms(st.updated_at))),
                    V::S(Some(to_json(st)?)),
                ]);
            }
            let rows = match bind(sqlx::query(AssertSqlSafe(sql)), vals)
                .fetch_all(&mut **tx)
                .await
            {
                Ok(rows) => rows,
                Err(e) if unique_violation(&e, "tracking_code") => {
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
                    V::S(Some(to_json(&e.kind)?)),
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
            bind(sqlx::query(AssertSqlSafe(values(SUG_HEAD, rows, SUG_COLS))), vals)
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
        let id = Self::insert_request_row(&mut tx, st, None).await?;
        Self::insert_events(&mut tx, id, events).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM requests GROUP BY status ORDER BY status")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Requests this user recorded (受理) since `since`: the intake desk's shift counter.
    pub async fn intakes_by(&self, user_id: i64, since: Timestamp) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM request_events WHERE kind = 'received' AND actor_user_id = $1 AND at >= $2",
        )
        .bind(user_id)
        .bind(ms(since))
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }

    // ---- accounts ----

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
            Err(e) if unique_violation(&e, "username") => {
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

    // ---- audit ----

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

    // ---- text: models, suggestions, history ----

    pub async fn save_model(&self, m: &NewModel) -> Result<i64> {
        let mut tx = begin_write(&self.write).await?;
        if PG {
            // Two trainers finishing together must not pick the same version.
            sqlx::query("SELECT pg_advisory_xact_lock(74130002)")
                .execute(&mut *tx)
                .await?;
        }
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM models WHERE kind = $1")
                .bind(m.kind.clone())
                .fetch_one(&mut *tx)
                .await?;
        let version = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO models (kind, version, created_at, trained_on, report, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(m.kind.clone())
        .bind(version)
        .bind(ms(m.created_at))
        .bind(m.trained_on)
        .bind(m.report.clone())
        .bind(m.bytes.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    pub async fn latest_models(&self) -> Result<Vec<ModelInfo>> {
        let rows: Vec<(i64, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT m.id, m.kind, m.version, m.created_at, m.trained_on FROM models m \
             WHERE m.version = (SELECT MAX(version) FROM models x WHERE x.kind = m.kind) \
             ORDER BY m.kind",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, kind, version, created_at, trained_on)| {
                Ok(ModelInfo {
                    id,
                    kind,
                    version,
                    created_at: ts(created_at)?,
                    trained_on,
                })
            })
            .collect()
    }

    pub async fn model_bytes(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT bytes FROM models WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?)
    }

    pub async fn save_suggestion(
        &self,
        request_id: i64,
        suggestion: &str,
        chosen: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO request_suggestions (request_id, created_at, suggestion, chosen) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(request_id)
        .bind(ms(now))
        .bind(suggestion.to_string())
        .bind(chosen.to_string())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn suggestion(&self, request_id: i64) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT suggestion, chosen FROM request_suggestions WHERE request_id = $1",
        )
        .bind(request_id)
        .fetch_optional(&self.read)
        .await?)
    }

    pub async fn suggestion_outcomes(
        &self,
        from: Timestamp,
        to: Timestamp,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SuggestionOutcome>> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.request_id, s.suggestion, r.request_type, r.category, r.street, \
             r.community, r.lead_unit FROM request_suggestions s \
             JOIN requests r ON r.id = s.request_id \
             WHERE s.created_at >= $1 AND s.created_at < $2 AND s.request_id > $3 \
             ORDER BY s.request_id LIMIT $4",
        )
        .bind(ms(from))
        .bind(ms(to))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(request_id, suggestion, request_type, category, street, community, lead_unit)| {
                    SuggestionOutcome {
                        request_id,
                        suggestion,
                        request_type,
                        category,
                        street,
                        community,
                        lead_unit,
                    }
                },
            )
            .collect())
    }

    pub async fn training_examples(&self, limit: u32) -> Result<Vec<TrainingExample>> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT text, request_type, category, lead_unit FROM requests \
             WHERE status = 'closed' ORDER BY closed_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(text, request_type, category, lead_unit)| TrainingExample {
                    text,
                    request_type,
                    category,
                    lead_unit,
                },
            )
            .collect())
    }

    pub async fn text_history(&self, since: Timestamp, limit: u32) -> Result<Vec<TextHistory>> {
        // The address lives only in the state document; each dialect reads JSON its own way.
        let address = if PG {
            "(state::json -> 'intake' ->> 'address')"
        } else {
            "json_extract(state, '$.intake.address')"
        };
        let sql = format!(
            "SELECT id, tracking_code, status, text, {address} AS address, street, community, \
             received_at FROM requests WHERE received_at >= $1 \
             ORDER BY received_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ms(since))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TextHistory {
                    id: r.try_get("id")?,
                    tracking_code: r.try_get("tracking_code")?,
                    status: r.try_get("status")?,
                    text: r.try_get("text")?,
                    address: r.try_get("address")?,
                    street: r.try_get("street")?,
                    community: r.try_get("community")?,
                    received_at: ts(r.try_get("received_at")?)?,
                })
            })
            .collect()
    }

    // ---- Open311 ----

    pub async fn create_api_key(
        &self,
        name: &str,
        key_hash: &str,
        now: Timestamp,
    ) -> Result<ApiKey> {
        let r = sqlx::query_scalar(
            "INSERT INTO api_keys (name, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name.to_string())
        .bind(key_hash.to_string())
        .bind(ms(now))
        .fetch_one(&self.write)
        .await;
        match r {
            Ok(id) => Ok(ApiKey {
                id,
                name: name.to_string(),
                // As stored (milliseconds), so this answer and later lists agree.
                created_at: ts(ms(now))?,
                revoked_at: None,
            }),
            Err(e) if unique_violation(&e, "key_hash") => {
                Err(StoreError::Duplicate { field: "key_hash" })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows: Vec<(i64, String, i64, Option<i64>)> =
            sqlx::query_as("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter().map(api_key_from_row).collect()
    }

    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let row: Option<(i64, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys WHERE key_hash = $1",
        )
        .bind(key_hash.to_string())
        // The writer pool: a key revoked a moment ago must not pass on a lagging reader.
        .fetch_optional(&self.write)
        .await?;
        row.map(api_key_from_row).transpose()
    }

    pub async fn revoke_api_key(&self, id: i64, now: Timestamp) -> Result<ApiKey> {
        let mut tx = begin_write(&self.write).await?;
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let row: Option<(i64, String, i64, Option<i64>)> =
            sqlx::query_as("SELECT id, name, created_at, revoked_at FROM api_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        row.map(api_key_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn open311_requests(&self, q: &Open311Query) -> Result<Vec<RequestState>> {
        let mut sql = String::from("SELECT id, tracking_code, state FROM requests WHERE 1=1");
        let mut params: Vec<P> = Vec::new();
        // Appends `clause` with each `?` numbered as the next bind parameter.
        fn push(sql: &mut String, params: &mut Vec<P>, clause: &str, p: P) {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        }
        fn push_in(sql: &mut String, params: &mut Vec<P>, column: &str, values: Vec<P>) {
            sql.push_str(&format!(" AND {column} IN ("));
            for (i, v) in values.into_iter().enumerate() {
                push(sql, params, if i == 0 { "?" } else { ", ?" }, v);
            }
            sql.push(')');
        }
        if !q.ids.is_empty() {
            let ids = q.ids.iter().map(|&i| P::I(i)).collect();
            push_in(&mut sql, &mut params, "id", ids);
        }
        if !q.categories.is_empty() {
            let cats = q.categories.iter().map(|c| P::S(c.clone())).collect();
            push_in(&mut sql, &mut params, "category", cats);
        }
        if !q.statuses.is_empty() {
            let sts = q.statuses.iter().map(|s| P::S(s.as_str().into())).collect();
            push_in(&mut sql, &mut params, "status", sts);
        }
        if let Some(t) = q.from {
            push(&mut sql, &mut params, " AND received_at >= ?", P::I(ms(t)));
        }
        if let Some(t) = q.to {
            push(&mut sql, &mut params, " AND received_at <= ?", P::I(ms(t)));
        }
        if q.public_only {
            // The special handling lives only in the state document; each dialect reads JSON
            // its own way.
            let special = if PG {
                "(state::json ->> 'special')"
            } else {
                "json_extract(state, '$.special')"
            };
            sql.push_str(&format!(
                " AND ({special} IS NULL OR {special} <> 'secrets_privacy')"
            ));
        }
        let limit = i64::from(q.limit.clamp(1, 1000));
        let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
        push(
            &mut sql,
            &mut params,
            " ORDER BY received_at DESC, id DESC LIMIT ?",
            P::I(limit),
        );
        push(&mut sql, &mut params, " OFFSET ?", P::I(offset));
        let rows: Vec<(i64, String, String)> = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_>>()?;
        rows.into_iter()
            .map(|(id, code, state)| decode_state(id, code, &state))
            .collect()
    }

    /// 考评 input: the event logs, up to `as_of`, of the requests that have any event in
    /// [start, end) no later than `as_of`. Read in chunks of request ids so no single result
    /// set holds a whole period's rows.
    pub async fn assessment_logs(
        &self,
        start: Timestamp,
        end: Timestamp,
        as_of: Timestamp,
    ) -> Result<Vec<jiesu_domain::assessment::RequestLog>> {
        /// Requests per chunk: a few tens of thousands of rows each.
        const CHUNK: usize = 4000;
        let (start, end, as_of) = (
            start.as_millisecond(),
            end.as_millisecond(),
            as_of.as_millisecond(),
        );
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT request_id FROM request_events \
             WHERE at >= $1 AND at < $2 AND at <= $3 ORDER BY request_id",
        )
        .bind(start)
        .bind(end)
        .bind(as_of)
        .fetch_all(&self.read)
        .await?;
        let mut logs: Vec<jiesu_domain::assessment::RequestLog> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let (Some(&lo), Some(&hi)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            // The id range bounds the chunk; the subquery keeps out ids in the range that have
            // no event in the period.
            let rows = sqlx::query(
                "SELECT request_id, seq, at, actor_user_id, actor_name, actor_role, actor_unit, reason, payload \
                 FROM request_events WHERE request_id >= $1 AND request_id <= $2 AND at <= $3 \
                 AND request_id IN (SELECT request_id FROM request_events \
                     WHERE request_id >= $1 AND request_id <= $2 AND at >= $4 AND at < $5 AND at <= $3) \
                 ORDER BY request_id, seq",
            )
            .bind(lo)
            .bind(hi)
            .bind(as_of)
            .bind(start)
            .bind(end)
            .fetch_all(&self.read)
            .await?;
            for r in &rows {
                let id: i64 = r.try_get("request_id")?;
                let role: String = r.try_get("actor_role")?;
                let e = Event {
                    seq: r.try_get("seq")?,
                    at: ts(r.try_get("at")?)?,
                    actor: Actor {
                        user_id: r.try_get("actor_user_id")?,
                        username: r.try_get("actor_name")?,
                        role: role.parse().map_err(|e: jiesu_domain::UnknownCode| {
                            StoreError::Corrupt(e.to_string())
                        })?,
                        unit: r.try_get("actor_unit")?,
                    },
                    reason: r.try_get("reason")?,
                    kind: from_json(&r.try_get::<String, _>("payload")?)?,
                };
                match logs.last_mut() {
                    Some(l) if l.id == id => l.events.push(e),
                    _ => logs.push(jiesu_domain::assessment::RequestLog {
                        id,
                        events: vec![e],
                    }),
                }
            }
        }
        Ok(logs)
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
        match Self::bulk_insert_tx(&mut tx, &rows, false).await {
            Ok(_) => {}
            Err(StoreError::Db(e)) if unique_violation(&e, "idempotency") => {
                return Err(StoreError::Duplicate {
                    field: "idempotency_key",
                });
            }
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(())
    }

    /// Requests with id > `after_id`, by id, at most `limit`: the stream the search index is
    /// built from (keyset paging, so a rebuild over a million rows stays cheap per page).
    pub async fn search_documents(&self, after_id: i64, limit: u32) -> Result<Vec<RequestState>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, tracking_code, state FROM requests WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, code, state)| decode_state(id, code, &state))
            .collect()
    }
}

fn api_key_from_row(
    (id, name, created_at, revoked_at): (i64, String, i64, Option<i64>),
) -> Result<ApiKey> {
    Ok(ApiKey {
        id,
        name,
        created_at: ts(created_at)?,
        revoked_at: revoked_at.map(ts).transpose()?,
    })
}

fn user_from_row(r: &<DB as sqlx::Database>::Row) -> Result<User> {
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

fn decode_state(id: i64, code: String, json: &str) -> Result<RequestState> {
    let mut st: RequestState = from_json(json)?;
    st.id = id;
    st.tracking_code = code;
    Ok(st)
}

/// A repeated submission with the same idempotency key must carry the same request.
fn check_replay(existing: RequestState, intake: &Intake) -> Result<Created> {
    if existing.intake.text != intake.text || existing.intake.request_type != intake.request_type {
        return Err(StoreError::Duplicate {
            field: "idempotency_key",
        });
    }
    Ok(Created {
        state: existing,
        replayed: true,
    })
}
