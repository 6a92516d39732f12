//! The SQLite instantiation of the store (see `backend/`).
pub type DB = sqlx::Sqlite;
pub type Pool = sqlx::SqlitePool;
const PG: bool = false;
/// SQLite has no row locks; `BEGIN IMMEDIATE` takes the write lock up front so two writers
/// never deadlock upgrading a read lock.
const FOR_UPDATE: &str = "";
async fn begin_write(pool: &Pool) -> Result<sqlx::Transaction<'static, DB>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "text",
        include_str!("../migrations/sqlite/0002_text.sql"),
    ),
    (
        3,
        "open311",
        include_str!("../migrations/sqlite/0003_open311.sql"),
    ),
    (
        4,
        "outbox",
        include_str!("../migrations/sqlite/0004_outbox.sql"),
    ),
    (
        5,
        "rollups",
        include_str!("../migrations/sqlite/0005_rollups.sql"),
    ),
    (
        6,
        "attachments",
        include_str!("../migrations/sqlite/0006_attachments.sql"),
    ),
    (
        7,
        "cases",
        include_str!("../migrations/sqlite/0007_cases.sql"),
    ),
    (
        8,
        "case_deliveries",
        include_str!("../migrations/sqlite/0008_case_deliveries.sql"),
    ),
    (
        9,
        "identity",
        include_str!("../migrations/sqlite/0009_identity.sql"),
    ),
    (
        10,
        "audit_chain",
        include_str!("../migrations/sqlite/0010_audit_chain.sql"),
    ),
    (11, "pii", include_str!("../migrations/sqlite/0011_pii.sql")),
    (
        12,
        "care",
        include_str!("../migrations/sqlite/0012_care.sql"),
    ),
    (
        13,
        "care_phones",
        include_str!("../migrations/sqlite/0013_care_phones.sql"),
    ),
    (
        14,
        "knowledge",
        include_str!("../migrations/sqlite/0014_knowledge.sql"),
    ),
    (
        15,
        "alarms",
        include_str!("../migrations/sqlite/0015_alarms.sql"),
    ),
    (
        16,
        "childcare",
        include_str!("../migrations/sqlite/0016_childcare.sql"),
    ),
];
async fn connect_pools(url: &str) -> crate::Result<(Pool, Pool)> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let opts: SqliteConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| crate::StoreError::BadUrl(e.to_string()))?;
    // WAL + synchronous=NORMAL: a process crash loses nothing committed; an OS crash may
    // lose the last transactions but never corrupts the file.
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10))
        .pragma("cache_size", "-65536");
    // One writer: SQLite has one anyway, and queueing in the pool is cheaper than
    // busy-waiting on the file lock. Readers run beside it thanks to WAL.
    let write = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(1)
        .connect_with(opts.clone())
        .await?;
    let read = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(4)
        .connect_with(opts)
        .await?;
    Ok((write, read))
}
// What every file of the backend shares; each file is a module of its own with
// `use super::*`, compiled once per backend.
use crate::*;
use jiesu_domain::{Directory, Role};
use sqlx::{AssertSqlSafe, Row};
#[path = "backend/alarms.rs"]
mod alarms;
#[path = "backend/analytics.rs"]
mod analytics;
#[path = "backend/assessment.rs"]
mod assessment;
#[path = "backend/attachments.rs"]
mod attachments;
#[path = "backend/audit.rs"]
mod audit;
#[path = "backend/audit_query.rs"]
mod audit_query;
#[path = "backend/bulk.rs"]
mod bulk;
#[path = "backend/care.rs"]
mod care;
#[path = "backend/childcare.rs"]
mod childcare;
#[path = "backend/conn.rs"]
mod conn;
#[path = "backend/engine.rs"]
mod engine;
#[path = "backend/keys.rs"]
mod keys;
#[path = "backend/knowledge.rs"]
mod knowledge;
#[path = "backend/lifecycle.rs"]
mod lifecycle;
#[path = "backend/open311.rs"]
mod open311;
#[path = "backend/outbox.rs"]
mod outbox;
#[path = "backend/queries.rs"]
mod queries;
#[path = "backend/requests.rs"]
mod requests;
#[path = "backend/rollup.rs"]
mod rollup;
#[path = "backend/text.rs"]
mod text;
#[path = "backend/users.rs"]
mod users;
pub use conn::Db;
// The free items files share (types, helpers); methods of `Db` need no import.
use {conn::*, engine::*, requests::*};
