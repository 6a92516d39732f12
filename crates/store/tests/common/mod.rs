//! What the store's tests share.
#![allow(dead_code)]

use std::collections::BTreeMap;

pub type Rows = Vec<Vec<Option<String>>>;

/// Every table (but the migration bookkeeping) with its rows as text, columns by name, rows
/// sorted; booleans as 0/1 and bytes as hex on both backends.
pub async fn snapshot(url: &str) -> BTreeMap<String, (Vec<String>, Rows)> {
    let mut out = BTreeMap::new();
    if url.starts_with("sqlite:") {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
             AND name <> 'schema_migrations'",
        )
        .fetch_all(&mut c)
        .await
        .expect("tables");
        for t in tables {
            let mut cols: Vec<(String, String)> =
                sqlx::query_as("SELECT name, upper(type) FROM pragma_table_info($1)")
                    .bind(&t)
                    .fetch_all(&mut c)
                    .await
                    .expect("columns");
            cols.sort();
            let exprs: Vec<String> = cols
                .iter()
                .map(|(n, ty)| {
                    if ty.contains("BLOB") {
                        format!("lower(hex(\"{n}\"))")
                    } else {
                        format!("CAST(\"{n}\" AS TEXT)")
                    }
                })
                .collect();
            let sql = format!("SELECT {} FROM \"{t}\"", exprs.join(", "));
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .expect("rows");
            let mut rows: Rows = rows
                .iter()
                .map(|r| {
                    use sqlx::Row;
                    (0..cols.len()).map(|i| r.get(i)).collect()
                })
                .collect();
            rows.sort();
            out.insert(t, (cols.into_iter().map(|(n, _)| n).collect(), rows));
        }
        c.close().await.expect("close");
    } else {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> 'schema_migrations'",
        )
        .fetch_all(&mut c)
        .await
        .expect("tables");
        for t in tables {
            let mut cols: Vec<(String, String)> = sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(&t)
            .fetch_all(&mut c)
            .await
            .expect("columns");
            cols.sort();
            let exprs: Vec<String> = cols
                .iter()
                .map(|(n, ty)| match ty.as_str() {
                    "boolean" => {
                        format!("CASE WHEN \"{n}\" THEN '1' WHEN NOT \"{n}\" THEN '0' END")
                    }
                    "bytea" => format!("encode(\"{n}\", 'hex')"),
                    _ => format!("CAST(\"{n}\" AS TEXT)"),
                })
                .collect();
            let sql = format!("SELECT {} FROM \"{t}\"", exprs.join(", "));
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .expect("rows");
            let mut rows: Rows = rows
                .iter()
                .map(|r| {
                    use sqlx::Row;
                    (0..cols.len()).map(|i| r.get(i)).collect()
                })
                .collect();
            rows.sort();
            out.insert(t, (cols.into_iter().map(|(n, _)| n).collect(), rows));
        }
        c.close().await.expect("close");
    }
    out
}
