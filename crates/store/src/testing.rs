//! Fresh databases for tests: a temporary SQLite file always, and a new PostgreSQL database on
//! the server named by `JIESU_TEST_PG_URL` when that is set (CI sets it).

use crate::{Result, Store};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database made for one test; call `cleanup` at the end (best effort: a failed test leaves
/// it behind, named `jiesu_test_*`, for inspection).
pub struct TestDb {
    pub url: String,
    pub store: Store,
    pg_admin: Option<(String, String)>,
    sqlite_path: Option<std::path::PathBuf>,
}

fn unique() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    format!(
        "{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        u32::from_le_bytes(b)
    )
}

impl TestDb {
    pub async fn sqlite() -> Result<TestDb> {
        let path = std::env::temp_dir().join(format!("jiesu_test_{}.db", unique()));
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await?;
        Ok(TestDb {
            url,
            store,
            pg_admin: None,
            sqlite_path: Some(path),
        })
    }

    /// A new database on the PostgreSQL server of `admin_url`.
    pub async fn postgres(admin_url: &str) -> Result<TestDb> {
        use sqlx::Connection;
        let name = format!("jiesu_test_{}", unique());
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (base, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
        let url = format!("{base}/{name}");
        let store = Store::open(&url).await?;
        Ok(TestDb {
            url,
            store,
            pg_admin: Some((admin_url.to_string(), name)),
            sqlite_path: None,
        })
    }

    /// SQLite, plus PostgreSQL when `JIESU_TEST_PG_URL` is set.
    pub async fn all() -> Result<Vec<TestDb>> {
        let mut v = vec![TestDb::sqlite().await?];
        if let Ok(url) = std::env::var("JIESU_TEST_PG_URL")
            && !url.is_empty()
        {
            v.push(TestDb::postgres(&url).await?);
        }
        Ok(v)
    }

    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg_admin {
            use sqlx::Connection;
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await;
            }
        }
        if let Some(p) = self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
    }
}
