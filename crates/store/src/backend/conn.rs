//! The connection, the migrations and the world in force.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

pub(super) type Tx = sqlx::Transaction<'static, DB>;

/// How many times a command is retried when another writer appended to the same request first.
pub(super) const MAX_RETRIES: usize = 5;

#[derive(Clone)]
pub struct Db {
    /// Writers. For SQLite a single connection: SQLite has one writer anyway, and queueing in
    /// the pool is cheaper than busy-waiting on the file lock.
    pub(super) write: Pool,
    /// Readers (WAL lets them run beside the writer).
    pub(super) read: Pool,
    /// SQLite only: new requests are written by one task in group commits (see `batch_writer`).
    pub(super) intake: Option<tokio::sync::mpsc::Sender<PendingCreate>>,
    /// Seals callers' names and phones before every write, opens them on every read.
    pub(crate) pii: std::sync::Arc<Pii>,
}

/// A bind value for dynamically built SQL.
pub(super) enum P {
    I(i64),
    S(String),
    B(bool),
}

pub(super) fn bind_all<'q>(
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
    pub async fn connect(url: &str, pii: std::sync::Arc<Pii>) -> Result<Db> {
        let (write, read) = connect_pools(url).await?;
        // Group commit: one writer task turns concurrent intakes into one transaction with a
        // few multi-row statements (SQLite has a single writer anyway; PostgreSQL saves a WAL
        // flush and the round trips per request).
        let intake = Some({
            let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(batch_writer(write.clone(), rx, pii.clone()));
            tx
        });
        Ok(Db {
            write,
            read,
            intake,
            pii,
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
}

/// Who acted, from the actor columns every event table shares.
pub(super) fn actor_from_row(r: &<DB as sqlx::Database>::Row) -> Result<Actor> {
    let role: String = r.try_get("actor_role")?;
    Ok(Actor {
        user_id: r.try_get("actor_user_id")?,
        username: r.try_get("actor_name")?,
        role: role
            .parse()
            .map_err(|e: jiesu_domain::UnknownCode| StoreError::Corrupt(e.to_string()))?,
        unit: r.try_get("actor_unit")?,
    })
}

/// A request event from a `request_events` row (seq, at, actor columns, reason, payload).
pub(super) fn event_from_row(r: &<DB as sqlx::Database>::Row, pii: &Pii) -> Result<Event> {
    let mut kind = from_json(&r.try_get::<String, _>("payload")?)?;
    open_event(pii, &mut kind)?;
    Ok(Event {
        seq: r.try_get("seq")?,
        at: ts(r.try_get("at")?)?,
        actor: actor_from_row(r)?,
        reason: r.try_get("reason")?,
        kind,
    })
}
