//! Fresh databases for tests: a temporary SQLite file always, and a new PostgreSQL database on
//! the server named by `JIESU_TEST_PG_URL` when that is set (CI sets it).

use crate::{Keyring, Pii, Result, Store};
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

/// The keyring every test database is sealed with, so every test runs with callers' data
/// encrypted at rest as production does. Fixed keys, for tests only.
pub const TEST_KEYRING: &str = r#"
algorithm = "aes-256-gcm"
index_key = "dGVzdC1vbmx5IGJsaW5kIGluZGV4IGtleSAzMiBieSE="
[[keys]]
id = "test"
key = "dGVzdC1vbmx5IGFlcy0yNTYtZ2NtIGtleSAzMiBieSE="
"#;

/// A store handle on a test database must use the same keyring: `Store::open_with(url, test_pii())`.
pub fn test_pii() -> Pii {
    Pii::with_keyring(Keyring::from_toml(TEST_KEYRING).expect("the test keyring parses"))
}

impl TestDb {
    pub async fn sqlite() -> Result<TestDb> {
        Self::sqlite_with(test_pii()).await
    }

    /// A SQLite test database with this keyring (or `Pii::off()`).
    pub async fn sqlite_with(pii: Pii) -> Result<TestDb> {
        let path = std::env::temp_dir().join(format!("jiesu_test_{}.db", unique()));
        let url = format!("sqlite://{}", path.display());
        let store = Store::open_with(&url, pii).await?;
        Ok(TestDb {
            url,
            store,
            pg_admin: None,
            sqlite_path: Some(path),
        })
    }

    /// A new database on the PostgreSQL server of `admin_url`.
    pub async fn postgres(admin_url: &str) -> Result<TestDb> {
        Self::postgres_with(admin_url, test_pii()).await
    }

    /// A PostgreSQL test database with this keyring (or `Pii::off()`).
    pub async fn postgres_with(admin_url: &str, pii: Pii) -> Result<TestDb> {
        use sqlx::Connection;
        let name = format!("jiesu_test_{}", unique());
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (base, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
        let url = format!("{base}/{name}");
        let store = Store::open_with(&url, pii).await?;
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
