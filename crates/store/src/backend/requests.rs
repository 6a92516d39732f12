//! New requests: 受理 one at a time or in group commits (the intake writer), and the request
//! tables the engine writes (events, projection, units).
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

/// A new request whose events the domain has decided, waiting for the intake writer.
pub(super) struct PendingCreate {
    pub(super) st: RequestState,
    pub(super) events: Vec<Event>,
    pub(super) key: Option<String>,
    pub(super) suggestion: Option<String>,
    pub(super) reply: tokio::sync::oneshot::Sender<std::result::Result<RequestState, BatchError>>,
}

/// One new request for a multi-row write.
pub(super) struct BulkRow<'a> {
    pub(super) st: &'a RequestState,
    pub(super) events: &'a [Event],
    pub(super) key: Option<&'a str>,
    pub(super) suggestion: Option<&'a str>,
}

/// What the operator finally chose, stored beside the suggestion.
pub(super) fn chosen_json(st: &RequestState) -> String {
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

pub(super) enum BatchError {
    /// Another request took the idempotency key first; the caller replays it.
    KeyTaken,
    Failed(String),
}

/// Most new requests one group commit carries.
pub(super) const MAX_BATCH: usize = 128;

/// The SQLite intake writer: takes every new request waiting, writes them in one transaction
/// and answers each after the commit. One transaction per request costs two extra round trips
/// and a WAL commit each; under load this turns N of them into one. Each request stays atomic:
/// SQLite reverts a failed statement without aborting the transaction, and a request whose row
/// insert fails writes nothing else.
pub(super) async fn batch_writer(
    pool: Pool,
    mut rx: tokio::sync::mpsc::Receiver<PendingCreate>,
    pii: std::sync::Arc<Pii>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        write_batch(&pool, batch, &pii).await;
    }
}

pub(super) async fn write_batch(pool: &Pool, batch: Vec<PendingCreate>, pii: &Pii) {
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
        let written = Db::bulk_insert_tx(&mut tx, &rows, true, pii).await;
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
    write_batch_one_by_one(pool, batch, pii).await;
}

pub(super) async fn write_batch_one_by_one(pool: &Pool, batch: Vec<PendingCreate>, pii: &Pii) {
    // PostgreSQL aborts a transaction at its first failed statement, so there each request
    // gets a transaction of its own; SQLite reverts only the failed statement and can share one.
    if PG {
        for p in batch {
            write_batch_shared(pool, vec![p], pii).await;
        }
        return;
    }
    write_batch_shared(pool, batch, pii).await;
}

pub(super) async fn write_batch_shared(pool: &Pool, batch: Vec<PendingCreate>, pii: &Pii) {
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
            match Db::insert_request_row(&mut tx, &p.st, p.key.clone(), pii).await {
                Ok(id) => {
                    p.st.id = id;
                    let rest =
                        Db::insert_rest(&mut tx, &p.st, &p.events, p.suggestion.as_deref(), pii)
                            .await;
                    match rest {
                        Ok(()) => answer = Ok(p.st.clone()),
                        Err(e) => fatal = Some(e.to_string()),
                    }
                    break;
                }
                Err(e) if is_unique_violation_of(&e, IDEMPOTENCY_KEY_KEY) => {
                    answer = Err(BatchError::KeyTaken);
                    break;
                }
                Err(e) if is_unique_violation_of(&e, TRACKING_CODE_KEY) => {
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

/// A bind value of a `requests` row.
pub(super) enum V {
    I(Option<i64>),
    S(Option<String>),
    B(bool),
}

pub(super) type Q<'q> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>;

pub(super) fn bind_values(mut q: Q<'_>, vals: Vec<V>) -> Q<'_> {
    for v in vals {
        q = match v {
            V::I(x) => q.bind(x),
            V::S(x) => q.bind(x),
            V::B(x) => q.bind(x),
        };
    }
    q
}

/// The projection of a request's state in `requests`: what every action rewrites. The one
/// list of these columns; `projection_values` gives their values in this order.
pub(super) const PROJECTION_COLUMNS: &[&str] = &[
    "status",
    "category",
    "street",
    "community",
    "lead_unit",
    "dispatched_at",
    "response_due",
    "completion_due",
    "warn_at",
    "next_whistle_due",
    "replied_at",
    "closed_at",
    "response_pending",
    "clock_running",
    "response_overdue",
    "completion_overdue",
    "master_id",
    "version",
    "updated_at",
    "state",
];

pub(super) fn projection_values(st: &RequestState, pii: &Pii) -> Result<Vec<V>> {
    Ok(vec![
        V::S(Some(st.status.as_str().to_string())),
        V::S(st.intake.category.clone()),
        V::S(st.intake.street.clone()),
        V::S(st.intake.community.clone()),
        V::S(st.lead_unit.clone()),
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
        V::I(Some(st.version)),
        V::I(Some(ms(st.updated_at))),
        V::S(Some(state_json(pii, st)?)),
    ])
}

/// Every column a new `requests` row is inserted with: those fixed at intake, then the
/// projection. `request_values` gives their values in this order.
pub(super) static REQUEST_COLUMNS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| {
        let mut v = vec![
            "tracking_code",
            "idempotency_key",
            "request_type",
            "channel",
            "urgent",
            "received_at",
            "text",
            "caller_phone_index",
        ];
        v.extend_from_slice(PROJECTION_COLUMNS);
        v
    });

pub(super) fn request_values(st: &RequestState, key: Option<&str>, pii: &Pii) -> Result<Vec<V>> {
    let mut v = Vec::with_capacity(REQUEST_COLUMNS.len());
    v.extend([
        V::S(Some(st.tracking_code.clone())),
        V::S(key.map(str::to_string)),
        V::S(Some(st.intake.request_type.as_str().to_string())),
        V::S(Some(st.intake.channel.as_str().to_string())),
        V::B(st.intake.urgent),
        V::I(Some(ms(st.intake.received_at))),
        V::S(Some(st.intake.text.clone())),
        V::S(
            st.intake
                .caller
                .phone
                .as_deref()
                .and_then(|p| pii.phone_index(p)),
        ),
    ]);
    v.extend(projection_values(st, pii)?);
    Ok(v)
}

impl Db {
    pub(super) async fn load_for_update(
        tx: &mut Tx,
        id: RequestId,
        pii: &Pii,
    ) -> Result<Option<RequestState>> {
        let sql =
            format!("SELECT id, tracking_code, state FROM requests WHERE id = $1{FOR_UPDATE}");
        let row: Option<(i64, String, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|(id, code, state)| decode_state(pii, id, code, &state))
            .transpose()
    }

    pub(super) async fn insert_events(
        tx: &mut Tx,
        id: RequestId,
        events: &[Event],
        pii: &Pii,
    ) -> Result<()> {
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
            .bind(event_json(pii, &e.kind)?)
            .execute(&mut **tx)
            .await;
            match r {
                Ok(_) => {}
                Err(e) if is_unique_violation_of(&e, REQUEST_EVENT_SEQ_KEY) => {
                    return Err(StoreError::Conflict);
                }
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
    pub(super) async fn update_projection(
        tx: &mut Tx,
        st: &RequestState,
        prev_version: i64,
        pii: &Pii,
    ) -> Result<()> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let set: Vec<String> = PROJECTION_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 2))
                .collect();
            format!(
                "UPDATE requests SET {} WHERE id = $1 AND version = ${}",
                set.join(", "),
                PROJECTION_COLUMNS.len() + 2
            )
        });
        let q = sqlx::query(AssertSqlSafe(SQL.as_str())).bind(st.id);
        let r = bind_values(q, projection_values(st, pii)?)
            .bind(prev_version)
            .execute(&mut **tx)
            .await?;
        if r.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    /// Keeps `request_units` (who may see the request) in step with the state.
    pub(super) async fn sync_units(tx: &mut Tx, st: &RequestState) -> Result<()> {
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

    pub(super) async fn insert_request_row(
        tx: &mut Tx,
        st: &RequestState,
        idempotency_key: Option<String>,
        pii: &Pii,
    ) -> std::result::Result<i64, sqlx::Error> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let n = REQUEST_COLUMNS.len();
            let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
            format!(
                "INSERT INTO requests ({}) VALUES ({}) RETURNING id",
                REQUEST_COLUMNS.join(", "),
                marks.join(", ")
            )
        });
        let vals = request_values(st, idempotency_key.as_deref(), pii)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let row = bind_values(sqlx::query(AssertSqlSafe(SQL.as_str())), vals)
            .fetch_one(&mut **tx)
            .await?;
        row.try_get(0)
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
            let id = match Self::insert_request_row(
                &mut tx,
                &st,
                new.idempotency_key.clone(),
                &self.pii,
            )
            .await
            {
                Ok(id) => id,
                Err(e) if is_unique_violation_of(&e, IDEMPOTENCY_KEY_KEY) => {
                    drop(tx);
                    let key = new.idempotency_key.as_deref().unwrap_or_default();
                    let existing = self
                        .by_idempotency_key(key)
                        .await?
                        .ok_or(StoreError::Conflict)?;
                    return check_replay(existing, &new.intake);
                }
                Err(e) if is_unique_violation_of(&e, TRACKING_CODE_KEY) => continue,
                Err(e) => return Err(e.into()),
            };
            st.id = id;
            Self::insert_rest(&mut tx, &st, &events, new.suggestion.as_deref(), &self.pii).await?;
            tx.commit().await?;
            return Ok(Created {
                state: st,
                replayed: false,
            });
        }
        Err(StoreError::Conflict)
    }

    /// Everything a new request writes after its row: events, visibility, the suggestion.
    pub(super) async fn insert_rest(
        tx: &mut Tx,
        st: &RequestState,
        events: &[Event],
        suggestion: Option<&str>,
        pii: &Pii,
    ) -> Result<()> {
        Self::insert_events(tx, st.id, events, pii).await?;
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

    pub(super) async fn by_idempotency_key(&self, key: &str) -> Result<Option<RequestState>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, tracking_code, state FROM requests WHERE idempotency_key = $1",
        )
        .bind(key.to_string())
        .fetch_optional(&self.read)
        .await?;
        row.map(|(id, code, s)| decode_state(&self.pii, id, code, &s))
            .transpose()
    }
}

pub(super) fn decode_state(pii: &Pii, id: i64, code: String, json: &str) -> Result<RequestState> {
    let mut st: RequestState = from_json(json)?;
    open_caller(pii, &mut st.intake.caller)?;
    st.id = id;
    st.tracking_code = code;
    Ok(st)
}

/// A repeated submission with the same idempotency key must carry the same request.
pub(super) fn check_replay(existing: RequestState, intake: &Intake) -> Result<Created> {
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
