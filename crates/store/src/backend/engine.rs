//! The one case engine (issue 11), mounted in each backend module (see sqlite.rs,
//! postgres.rs), whose `DB`, `Pool`, `PG`, `FOR_UPDATE`, `begin_write`, `Tx` and helpers it shares.
//!
//! `run_act` is the only command loop and `run_sweep` the only timer sweep. Requests (their own
//! tables: projection, 考评 facts, units, outbox — `RequestRows`) and every other kind of case
//! (`cases` / `case_events` / `case_outbox` — `CaseRows<K>`) go through them: a new kind brings
//! its rules (`jiesu_domain::CaseKind`) and no engine code of its own.

use super::*;

use jiesu_domain::case::{CaseEvent, CaseKind, Decided};
use std::future::Future;

/// How one kind of case is stored: all the engine knows of the tables.
pub(super) trait Rows: Sync {
    type State: Send + Sync;
    type Decided: Send;
    type Event: Send + Sync;
    /// The state of case `id`, locked for this transaction.
    fn load(
        &self,
        tx: &mut Tx,
        id: i64,
    ) -> impl Future<Output = Result<Option<Self::State>>> + Send;
    fn version(st: &Self::State) -> i64;
    /// Gives the decided events their position, time and actor, and applies them to `st`.
    fn stamp(
        st: &mut Self::State,
        decided: Vec<Self::Decided>,
        actor: &Actor,
        now: Timestamp,
    ) -> Vec<Self::Event>;
    /// Appends `events` and writes `st` (whose version was `prev`); `Conflict` when another
    /// writer got there first.
    fn write(
        &self,
        tx: &mut Tx,
        st: &Self::State,
        prev: i64,
        events: &[Self::Event],
        now: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Up to 500 ids above `after`, ascending, whose timers may be due at `now`.
    fn due(
        &self,
        read: &Pool,
        after: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<i64>>> + Send;
    /// The PostgreSQL advisory lock one sweeper of this kind holds.
    fn sweep_lock(&self) -> i64;
}

/// Requests: their own tables, projection and side tables.
pub(super) struct RequestRows<'a>(pub(super) &'a Pii);

impl Rows for RequestRows<'_> {
    type State = RequestState;
    type Decided = NewEvent;
    type Event = Event;

    fn load(
        &self,
        tx: &mut Tx,
        id: i64,
    ) -> impl Future<Output = Result<Option<RequestState>>> + Send {
        Db::load_for_update(tx, id, self.0)
    }
    fn version(st: &RequestState) -> i64 {
        st.version
    }
    fn stamp(
        st: &mut RequestState,
        decided: Vec<NewEvent>,
        actor: &Actor,
        now: Timestamp,
    ) -> Vec<Event> {
        crate::stamp(st, decided, actor, now)
    }
    fn write(
        &self,
        tx: &mut Tx,
        st: &RequestState,
        prev: i64,
        events: &[Event],
        _now: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send {
        Db::write_events(tx, st, prev, events, self.0)
    }
    async fn due(&self, read: &Pool, after: i64, now: Timestamp) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM requests WHERE id > $1 AND ( \
             (response_pending AND NOT response_overdue AND response_due < $2) \
             OR (clock_running AND NOT completion_overdue AND completion_due < $2) \
             OR (next_whistle_due < $2)) ORDER BY id LIMIT 500",
        )
        .bind(after)
        .bind(ms(now))
        .fetch_all(read)
        .await?)
    }
    fn sweep_lock(&self) -> i64 {
        74130002
    }
}

/// Every other kind: the generic tables of migration 0007.
pub(super) struct CaseRows<K>(std::marker::PhantomData<K>);

impl<K: CaseKind> CaseRows<K> {
    const NEW: Self = CaseRows(std::marker::PhantomData);
}

impl<K: CaseKind> Rows for CaseRows<K> {
    type State = K::State;
    type Decided = Decided<K::Event>;
    type Event = CaseEvent<K::Event>;

    async fn load(&self, tx: &mut Tx, id: i64) -> Result<Option<K::State>> {
        let sql = format!("SELECT state FROM cases WHERE id = $1 AND kind = $2{FOR_UPDATE}");
        let row: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(id)
            .bind(K::KIND)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|s| from_json(&s)).transpose()
    }
    fn version(st: &K::State) -> i64 {
        K::version(st)
    }
    fn stamp(
        st: &mut K::State,
        decided: Vec<Decided<K::Event>>,
        actor: &Actor,
        now: Timestamp,
    ) -> Vec<CaseEvent<K::Event>> {
        jiesu_domain::case::stamp::<K>(st, decided, actor, now)
    }
    async fn write(
        &self,
        tx: &mut Tx,
        st: &K::State,
        prev: i64,
        events: &[CaseEvent<K::Event>],
        now: Timestamp,
    ) -> Result<()> {
        let id = K::id(st);
        for e in events {
            let r = sqlx::query(
                "INSERT INTO case_events (kind, case_id, seq, at, name, actor_user_id, actor_name, actor_role, actor_unit, reason, payload) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(K::KIND)
            .bind(id)
            .bind(e.seq)
            .bind(ms(e.at))
            .bind(K::event_name(&e.payload))
            .bind(e.actor.user_id)
            .bind(e.actor.username.clone())
            .bind(e.actor.role.as_str())
            .bind(e.actor.unit.clone())
            .bind(e.reason.clone())
            .bind(to_json(&e.payload)?)
            .execute(&mut **tx)
            .await;
            match r {
                Ok(_) => {}
                Err(e) if is_unique_violation_of(&e, CASE_EVENT_SEQ_KEY) => {
                    return Err(StoreError::Conflict);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let ix = K::index(st);
        let r = sqlx::query(
            "UPDATE cases SET status = $3, version = $4, next_timer_at = $5, updated_at = $6, state = $7, \
             code = $9, owner = $10, region = $11, subject = $12, at_ms = $13 \
             WHERE id = $1 AND kind = $2 AND version = $8",
        )
        .bind(id)
        .bind(K::KIND)
        .bind(K::status(st).to_string())
        .bind(K::version(st))
        .bind(K::next_timer(st).map(ms))
        .bind(ms(now))
        .bind(to_json(st)?)
        .bind(prev)
        .bind(ix.code)
        .bind(ix.owner)
        .bind(ix.region)
        .bind(ix.subject)
        .bind(ix.at.map(ms))
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if is_unique_violation_of(&e, CASE_CODE_KEY) {
                StoreError::Duplicate { field: "code" }
            } else {
                e.into()
            }
        })?;
        if r.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        // Events out: published iff committed.
        if let Some(first) = events.first() {
            sqlx::query(
                "INSERT INTO case_outbox (case_event_id, kind, case_id, created_at) \
                 SELECT id, kind, case_id, at FROM case_events WHERE kind = $1 AND case_id = $2 AND seq >= $3 ORDER BY id",
            )
            .bind(K::KIND)
            .bind(id)
            .bind(first.seq)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
    async fn due(&self, read: &Pool, after: i64, now: Timestamp) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM cases WHERE next_timer_at <= $1 AND kind = $2 AND id > $3 \
             ORDER BY id LIMIT 500",
        )
        .bind(ms(now))
        .bind(K::KIND)
        .bind(after)
        .fetch_all(read)
        .await?)
    }
    fn sweep_lock(&self) -> i64 {
        // One sweeper per kind: a key of its own beside the request sweep's.
        let h = K::KIND.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        (74130003i64 << 32) | i64::from(h)
    }
}

impl Db {
    /// The command loop: lock, decide, stamp, write, commit; a concurrent writer's win is
    /// retried on the fresh state. `decide` also checks visibility.
    pub(super) async fn run_act<R: Rows>(
        &self,
        rows: &R,
        id: i64,
        actor: &Actor,
        now: Timestamp,
        decide: impl Fn(&R::State) -> Result<Vec<R::Decided>> + Send + Sync,
    ) -> Result<R::State> {
        for _ in 0..MAX_RETRIES {
            let mut tx = begin_write(&self.write).await?;
            let mut st = rows.load(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
            let decided = decide(&st)?;
            let prev = R::version(&st);
            let events = R::stamp(&mut st, decided, actor, now);
            match rows.write(&mut tx, &st, prev, &events, now).await {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(st);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The timer sweep: every due case is locked, asked for its due events, and written as the
    /// system's action. Safe from several servers at once: on PostgreSQL one holds the sweep
    /// lock (session-held, so a crashed sweeper releases it); exactly-once does not rest on the
    /// lock but on the state (firing moves the timer on), the row lock and the version check.
    pub(super) async fn run_sweep<R: Rows>(
        &self,
        rows: &R,
        now: Timestamp,
        fire: impl Fn(&R::State) -> Vec<R::Decided> + Send + Sync,
    ) -> Result<SweepReport> {
        let mut report = SweepReport::default();
        let key = rows.sweep_lock();
        let mut lock_conn = if PG {
            let mut c = self.write.acquire().await?;
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut *c)
                .await?;
            if !got {
                return Ok(report);
            }
            Some(c)
        } else {
            None
        };
        report.swept = true;
        let result = self.sweep_due(rows, now, &fire, &mut report).await;
        if let Some(c) = lock_conn.as_mut() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut **c)
                .await?;
        }
        result.map(|_| report)
    }

    pub(super) async fn sweep_due<R: Rows>(
        &self,
        rows: &R,
        now: Timestamp,
        fire: &(impl Fn(&R::State) -> Vec<R::Decided> + Send + Sync),
        report: &mut SweepReport,
    ) -> Result<()> {
        let mut after = 0i64;
        loop {
            let ids = rows.due(&self.read, after, now).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            for id in ids {
                report.requests_checked += 1;
                let mut tx = begin_write(&self.write).await?;
                let Some(mut st) = rows.load(&mut tx, id).await? else {
                    continue;
                };
                let decided = fire(&st);
                if decided.is_empty() {
                    continue;
                }
                let prev = R::version(&st);
                let n = decided.len();
                let events = R::stamp(&mut st, decided, &Actor::system(), now);
                match rows.write(&mut tx, &st, prev, &events, now).await {
                    Ok(()) => {
                        tx.commit().await?;
                        report.escalations += n;
                    }
                    // Someone else changed it meanwhile; the next sweep looks again.
                    Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    // ---- generic cases ----

    pub async fn create_case<K: CaseKind>(
        &self,
        dir: &Directory,
        actor: &Actor,
        input: &K::Create,
        now: Timestamp,
    ) -> Result<K::State> {
        self.create_cases::<K>(dir, actor, &[input], now)
            .await?
            .pop()
            .unwrap_or(Err(StoreError::NotFound))
    }

    /// Creates many cases in one transaction (group commit: a burst of alarms pays for one
    /// commit, not one each). Each case is stored or refused on its own — a savepoint per case,
    /// so a duplicate code or a refused input does not undo the others; any other error undoes
    /// the batch.
    pub async fn create_cases<K: CaseKind>(
        &self,
        dir: &Directory,
        actor: &Actor,
        inputs: &[&K::Create],
        now: Timestamp,
    ) -> Result<Vec<Result<K::State>>> {
        let mut tx = begin_write(&self.write).await?;
        let mut out = Vec::with_capacity(inputs.len());
        for input in inputs {
            let decided = match K::create(input, actor, &jiesu_domain::Ctx { dir, now }) {
                Ok(d) => d,
                Err(e) => {
                    out.push(Err(e.into()));
                    continue;
                }
            };
            sqlx::query("SAVEPOINT one_case").execute(&mut *tx).await?;
            let r: Result<K::State> = async {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO cases (kind, status, version, next_timer_at, created_at, updated_at, state) \
                     VALUES ($1, '', 0, NULL, $2, $2, 'null') RETURNING id",
                )
                .bind(K::KIND)
                .bind(ms(now))
                .fetch_one(&mut *tx)
                .await?;
                let mut st = K::initial(id, now);
                let events = jiesu_domain::case::stamp::<K>(&mut st, decided, actor, now);
                CaseRows::<K>::NEW
                    .write(&mut tx, &st, 0, &events, now)
                    .await?;
                Ok(st)
            }
            .await;
            match r {
                Ok(st) => {
                    sqlx::query("RELEASE SAVEPOINT one_case")
                        .execute(&mut *tx)
                        .await?;
                    out.push(Ok(st));
                }
                Err(e @ StoreError::Duplicate { .. }) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT one_case")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("RELEASE SAVEPOINT one_case")
                        .execute(&mut *tx)
                        .await?;
                    out.push(Err(e));
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn act_case<K: CaseKind>(
        &self,
        dir: &Directory,
        actor: &Actor,
        id: i64,
        cmd: &K::Command,
        now: Timestamp,
    ) -> Result<K::State> {
        self.run_act(&CaseRows::<K>::NEW, id, actor, now, |st| {
            if !K::can_see(actor, st) {
                return Err(StoreError::Domain(DomainError::NotVisible));
            }
            Ok(K::decide(st, actor, cmd, &jiesu_domain::Ctx { dir, now })?)
        })
        .await
    }

    pub async fn get_case<K: CaseKind>(&self, id: i64) -> Result<Option<K::State>> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT state FROM cases WHERE id = $1 AND kind = $2")
                .bind(id)
                .bind(K::KIND)
                .fetch_optional(&self.read)
                .await?;
        row.map(|s| from_json(&s)).transpose()
    }

    /// The case of kind `K` whose index code is `code`.
    pub async fn case_by_code<K: CaseKind>(&self, code: &str) -> Result<Option<K::State>> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT state FROM cases WHERE kind = $1 AND code = $2")
                .bind(K::KIND)
                .bind(code)
                .fetch_optional(&self.read)
                .await?;
        row.map(|s| from_json(&s)).transpose()
    }

    /// Cases of kind `K` matching `q` on their index columns, newest first, and how many match.
    pub async fn list_cases<K: CaseKind>(&self, q: &CaseQuery) -> Result<(Vec<K::State>, i64)> {
        let mut cond = String::from("kind = $1");
        let mut n = 1;
        let mut next = |col: &str, op: &str| {
            n += 1;
            format!(" AND {col} {op} ${n}")
        };
        if q.owner.is_some() {
            cond += &next("owner", "=");
        }
        if q.region.is_some() {
            cond += &next("region", "=");
        }
        if q.region_prefix.is_some() {
            cond += &next("region", "LIKE");
        }
        if q.subject.is_some() {
            cond += &next("subject", "=");
        }
        if q.at_from.is_some() {
            cond += &next("at_ms", ">=");
        }
        if q.at_to.is_some() {
            cond += &next("at_ms", "<");
        }
        // Statuses are a kind's own codes (never caller text), so they are bound one by one.
        let statuses: Vec<String> = q.statuses.clone();
        if !statuses.is_empty() {
            let marks: Vec<String> = statuses
                .iter()
                .map(|_| {
                    n += 1;
                    format!("${n}")
                })
                .collect();
            cond += &format!(" AND status IN ({})", marks.join(", "));
        }
        let bind_all = |sql: String| {
            let mut qq = sqlx::query(AssertSqlSafe(sql)).bind(K::KIND);
            for v in [&q.owner, &q.region].into_iter().flatten() {
                qq = qq.bind(v.clone());
            }
            if let Some(p) = &q.region_prefix {
                // A code prefix (a street's communities): digits and letters only.
                let p: String = p.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                qq = qq.bind(format!("{p}%"));
            }
            if let Some(v) = q.subject {
                qq = qq.bind(v);
            }
            for v in [q.at_from, q.at_to].into_iter().flatten() {
                qq = qq.bind(ms(v));
            }
            for s in &statuses {
                qq = qq.bind(s.clone());
            }
            qq
        };
        let total: i64 = bind_all(format!("SELECT COUNT(*) AS n FROM cases WHERE {cond}"))
            .fetch_one(&self.read)
            .await?
            .try_get("n")?;
        let order = if q.oldest_first { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT state FROM cases WHERE {cond} ORDER BY id {order} LIMIT {} OFFSET {}",
            q.limit.clamp(1, 100_000),
            q.offset
        );
        let rows = bind_all(sql).fetch_all(&self.read).await?;
        let states = rows
            .iter()
            .map(|r| from_json(&r.try_get::<String, _>("state")?))
            .collect::<Result<Vec<_>>>()?;
        Ok((states, total))
    }

    pub async fn case_events<K: CaseKind>(&self, id: i64) -> Result<Vec<CaseEvent<K::Event>>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, actor_name, actor_role, actor_unit, reason, payload \
             FROM case_events WHERE kind = $1 AND case_id = $2 ORDER BY seq",
        )
        .bind(K::KIND)
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseEvent {
                    seq: r.try_get("seq")?,
                    at: ts(r.try_get("at")?)?,
                    actor: actor_from_row(r)?,
                    reason: r.try_get("reason")?,
                    payload: from_json(&r.try_get::<String, _>("payload")?)?,
                })
            })
            .collect()
    }

    pub async fn sweep_case_timers<K: CaseKind>(&self, now: Timestamp) -> Result<SweepReport> {
        self.run_sweep(&CaseRows::<K>::NEW, now, |st| K::fire_timers(st, now))
            .await
    }

    pub async fn case_outbox(&self, after_id: i64, limit: u32) -> Result<Vec<CaseOutboxEntry>> {
        let rows = sqlx::query(
            "SELECT o.id, o.kind, o.case_id, e.id AS event_id, e.seq, e.at, e.name, e.payload \
             FROM case_outbox o JOIN case_events e ON e.id = o.case_event_id \
             WHERE o.id > $1 ORDER BY o.id LIMIT $2",
        )
        .bind(after_id)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseOutboxEntry {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    case_id: r.try_get("case_id")?,
                    event_id: r.try_get("event_id")?,
                    seq: r.try_get("seq")?,
                    at: ts(r.try_get("at")?)?,
                    name: r.try_get("name")?,
                    payload: r.try_get("payload")?,
                })
            })
            .collect()
    }
}
