//! The PostgreSQL instantiation of the store (see `backend/`).
pub type DB = sqlx::Postgres;
pub type Pool = sqlx::PgPool;
const PG: bool = true;
/// Row lock: concurrent commands on one request queue instead of racing.
const FOR_UPDATE: &str = " FOR UPDATE";
async fn begin_write(pool: &Pool) -> Result<sqlx::Transaction<'static, DB>, sqlx::Error> {
    pool.begin().await
}
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "text",
        include_str!("../migrations/postgres/0002_text.sql"),
    ),
    (
        3,
        "open311",
        include_str!("../migrations/postgres/0003_open311.sql"),
    ),
    (
        4,
        "outbox",
        include_str!("../migrations/postgres/0004_outbox.sql"),
    ),
    (
        5,
        "rollups",
        include_str!("../migrations/postgres/0005_rollups.sql"),
    ),
    (
        6,
        "attachments",
        include_str!("../migrations/postgres/0006_attachments.sql"),
    ),
    (
        7,
        "cases",
        include_str!("../migrations/postgres/0007_cases.sql"),
    ),
    (
        8,
        "case_deliveries",
        include_str!("../migrations/postgres/0008_case_deliveries.sql"),
    ),
    (
        9,
        "identity",
        include_str!("../migrations/postgres/0009_identity.sql"),
    ),
    (
        10,
        "audit_chain",
        include_str!("../migrations/postgres/0010_audit_chain.sql"),
    ),
    (
        11,
        "pii",
        include_str!("../migrations/postgres/0011_pii.sql"),
    ),
    (
        12,
        "care",
        include_str!("../migrations/postgres/0012_care.sql"),
    ),
    (
        13,
        "care_phones",
        include_str!("../migrations/postgres/0013_care_phones.sql"),
    ),
    (
        14,
        "knowledge",
        include_str!("../migrations/postgres/0014_knowledge.sql"),
    ),
    (
        15,
        "alarms",
        include_str!("../migrations/postgres/0015_alarms.sql"),
    ),
    (
        16,
        "childcare",
        include_str!("../migrations/postgres/0016_childcare.sql"),
    ),
];
async fn connect_pools(url: &str) -> crate::Result<(Pool, Pool)> {
    let opts: sqlx::postgres::PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| crate::StoreError::BadUrl(e.to_string()))?;
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(16)
        .connect_with(opts)
        .await?;
    Ok((pool.clone(), pool))
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
