//! The audit log as a hash chain, on SQLite and (with `JIESU_TEST_PG_URL`) PostgreSQL: rows
//! link in order with SHA-256 or SM3, the database refuses edits and deletes, and when someone
//! with the database's keys removes that guard and edits or deletes a row anyway, `verify`
//! names the first broken link. Rows from before the chain are chained on the next write.

use jiesu_store::testing::TestDb;
use jiesu_store::{AuditEntry, ChainHash, Store};
use jiff::Timestamp;

fn entry(i: i64) -> AuditEntry {
    AuditEntry {
        at: Timestamp::from_second(1_790_000_000 + i).expect("t"),
        user_id: Some(i),
        username: format!("user{i}"),
        role: "admin".into(),
        action: "create_user".into(),
        target_type: "user".into(),
        target_id: i.to_string(),
        detail: (i % 2 == 0).then(|| format!("detail {i}")),
    }
}

/// Runs raw SQL as someone holding the database itself would.
async fn raw(db: &TestDb, sql: &str) -> Result<(), String> {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url)
            .await
            .map_err(|e| e.to_string())?;
        let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await;
        pool.close().await;
        r.map(drop).map_err(|e| e.to_string())
    } else {
        let pool = sqlx::PgPool::connect(&db.url)
            .await
            .map_err(|e| e.to_string())?;
        let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await;
        pool.close().await;
        r.map(drop).map_err(|e| e.to_string())
    }
}

async fn drop_guards(db: &TestDb) {
    let sql = if db.url.starts_with("sqlite:") {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    } else {
        "DROP TRIGGER audit_log_append_only ON audit_log;"
    };
    raw(db, sql).await.expect("drop the guards");
}

async fn write(s: &Store, from: i64, to: i64, alg: ChainHash) {
    for i in from..=to {
        s.audit_with(&entry(i), alg).await.expect("audit");
    }
}

#[tokio::test]
async fn the_chain_links_refuses_edits_and_names_the_first_broken_link() {
    for db in TestDb::all().await.expect("databases") {
        let s = db.store.clone();
        let b = s.backend();
        let empty = s.verify_audit().await.expect("verify");
        assert!(
            empty.ok() && empty.rows == 0 && empty.head_seq.is_none(),
            "[{b}] {empty:?}"
        );
        // Both hash functions in one chain (a deployment may switch to SM3 for 密评).
        write(&s, 1, 3, ChainHash::Sha256).await;
        write(&s, 4, 6, ChainHash::Sm3).await;
        let r = s.verify_audit().await.expect("verify");
        assert!(r.ok(), "[{b}] {r:?}");
        assert_eq!((r.rows, r.head_seq), (6, Some(6)), "[{b}]");
        assert!(
            r.head_hash
                .as_deref()
                .unwrap_or_default()
                .starts_with("sm3:")
        );
        // The application's own connection may not change history.
        let e = raw(
            &db,
            "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3",
        )
        .await;
        assert!(
            e.is_err_and(|m| m.contains("append-only")),
            "[{b}] an update went through"
        );
        let e = raw(&db, "DELETE FROM audit_log WHERE seq = 6").await;
        assert!(
            e.is_err_and(|m| m.contains("append-only")),
            "[{b}] a delete went through"
        );
        assert!(s.verify_audit().await.expect("verify").ok());

        // Someone with the database's keys drops the guard and edits row 3.
        drop_guards(&db).await;
        raw(
            &db,
            "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3",
        )
        .await
        .expect("tamper");
        let r = s.verify_audit().await.expect("verify");
        let broken = r.broken.clone().expect("the edit is seen");
        assert_eq!(broken.seq, Some(3), "[{b}] {r:?}");
        assert!(broken.reason.contains("edited"), "{broken:?}");
        assert_eq!(r.rows, 2, "the rows before it are sound");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn deleted_and_inserted_rows_break_the_chain_and_old_rows_join_it() {
    for db in TestDb::all().await.expect("databases") {
        let s = db.store.clone();
        let b = s.backend();
        // Rows written before the chain existed (no hash) are chained by the next write.
        drop_guards(&db).await;
        for i in 1..=3 {
            raw(
                &db,
                &format!(
                    "INSERT INTO audit_log (at, user_id, username, role, action, target_type, target_id, detail) \
                     VALUES ({}, {i}, 'old{i}', 'admin', 'create_user', 'user', '{i}', NULL)",
                    1_780_000_000_000i64 + i
                ),
            )
            .await
            .expect("legacy row");
        }
        write(&s, 4, 6, ChainHash::Sha256).await;
        let r = s.verify_audit().await.expect("verify");
        assert!(r.ok(), "[{b}] {r:?}");
        assert_eq!(r.rows, 6, "[{b}] the old rows joined the chain");
        let head = r.head_hash.clone();

        // A row removed from the middle.
        raw(&db, "DELETE FROM audit_log WHERE seq = 2")
            .await
            .expect("delete");
        let r = s.verify_audit().await.expect("verify");
        let broken = r.broken.expect("the gap is seen");
        assert_eq!(broken.seq, Some(3), "[{b}]");
        assert!(broken.reason.contains("missing"), "{broken:?}");

        // A row slipped in around the store (no hash) is named too.
        let fresh = if db.url.starts_with("sqlite:") {
            TestDb::sqlite().await
        } else {
            TestDb::postgres(&std::env::var("JIESU_TEST_PG_URL").expect("pg url")).await
        }
        .expect("a fresh database");
        write(&fresh.store, 1, 2, ChainHash::Sha256).await;
        drop_guards(&fresh).await;
        raw(
            &fresh,
            "INSERT INTO audit_log (at, user_id, username, role, action, target_type, target_id, detail) \
             VALUES (1790000009000, NULL, 'ghost', 'admin', 'login', 'user', 'ghost', NULL)",
        )
        .await
        .expect("insert");
        let r = fresh.store.verify_audit().await.expect("verify");
        let broken = r.broken.expect("the stray row is seen");
        assert!(
            broken.seq.is_none() && broken.reason.contains("without a hash"),
            "[{b}] {broken:?}"
        );
        assert_ne!(r.head_hash, head);
        fresh.cleanup().await;
        db.cleanup().await;
    }
}
