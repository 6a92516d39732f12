//! `jiesu backup` / `jiesu restore`: a portable, self-checking copy of a whole database.
//!
//! The file is JSON lines. Line 1 is the header: format and version, the source backend, the
//! applied migration version, and every table with its columns (name and portable kind), row
//! count and the SHA-256 of its row lines. Then, table by table in foreign-key order, a
//! `{"table":…}` line and one JSON array per row (columns in name order, rows in primary-key
//! order, byte-wise text collation, NULLs first), and a closing `{"end":true}`. Values are
//! written by kind, not by backend type (booleans as `true`/`false`, bytes as hex), so the same
//! data gives the same lines — and the same hashes — from SQLite and from PostgreSQL: a SQLite
//! pilot moves to PostgreSQL by `backup` then `restore`, and back.
//!
//! Tables come from the catalogue (`sqlite_master`, `information_schema`), so a table added by
//! a later migration is covered with no change here; only `schema_migrations` (the migration
//! bookkeeping, re-created by running the migrations on restore) is left out.
//!
//! Backup reads inside one snapshot (a SQLite read transaction under WAL; a PostgreSQL
//! `REPEATABLE READ READ ONLY` transaction) while the server keeps writing, into `FILE.partial`
//! renamed at the end. Restore checks the whole file before touching the target, then migrates
//! an empty target and inserts everything in one transaction, re-reads every table from the
//! target and compares it with the header before committing: a failure leaves it empty.

use crate::{Store, StoreError};
use futures_util::TryStreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _};
use std::io::{BufRead as _, BufReader, BufWriter, Seek as _, Write as _};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "jiesu-backup";
pub const FORMAT_VERSION: u32 = 1;
/// The migration bookkeeping: restore runs the migrations, which write it afresh.
const BOOKKEEPING: &str = "schema_migrations";
/// Rows a store writes when it opens, before any data: the keys it registers for sealing
/// callers' details (migration 0011). The backup's rows replace them, since they describe the
/// backup's sealed data; any other row makes the target "not empty".
const REPLACED_ON_RESTORE: &[&str] = &["pii_keys"];
/// Bind parameters per INSERT, under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;
const MAX_BATCH_ROWS: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The output file exists and `--force` was not given.
    #[error("{0}")]
    Exists(String),
    /// Not a backup, another format version, truncated, or its content does not match its
    /// header (a row changed, a table cut short).
    #[error("bad backup file: {0}")]
    BadFile(String),
    /// The restore target already holds data.
    #[error("{0}")]
    NotEmpty(String),
    /// The backup and this build's schema differ (migration version, tables, columns).
    #[error("{0}")]
    Schema(String),
    /// A column type with no portable kind (a migration added one this module does not map).
    #[error("{0}")]
    Unsupported(String),
    /// What the target holds after the inserts is not what the header says; rolled back.
    #[error("restore verification failed, nothing restored: {0}")]
    Verify(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl BackupError {
    /// A stable code for the CLI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::Exists(_) => "backup_exists",
            BackupError::BadFile(_) => "bad_backup",
            BackupError::NotEmpty(_) => "target_not_empty",
            BackupError::Schema(_) => "schema_mismatch",
            BackupError::Unsupported(_) => "unsupported_column",
            BackupError::Verify(_) => "restore_verify_failed",
            BackupError::Io(_) => "io",
            BackupError::Store(_) | BackupError::Db(_) => "database",
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> BackupError {
    BackupError::Io(format!("{}: {e}", path.display()))
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

/// A column's value kind, the same on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Int,
    Float,
    Bool,
    Text,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    /// In the order of each row's values (by name).
    pub columns: Vec<Column>,
    pub rows: u64,
    /// `sha256:<hex>` of the table's row lines, each with its newline.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// `sqlite` or `postgres`: where it was taken.
    pub backend: String,
    /// The highest migration applied to the source.
    pub migration: i64,
    pub created_at: String,
    /// In foreign-key order: a table comes after every table it references.
    pub tables: Vec<TableSummary>,
}

/// What `backup` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub file: PathBuf,
    pub backend: String,
    pub migration: i64,
    pub tables: usize,
    pub rows: u64,
    pub bytes: u64,
    /// Per table, as in the header.
    pub hashes: Vec<(String, u64, String)>,
}

/// What `restore` loaded.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub backend: String,
    pub from_backend: String,
    pub migration: i64,
    pub tables: usize,
    pub rows: u64,
    /// The restored audit log's hash chain, checked after the commit.
    pub audit: crate::ChainReport,
}

// ---- the catalogue ----

#[derive(Debug, Clone)]
struct Col {
    name: String,
    kind: Kind,
    /// The backend's type name (PostgreSQL casts binds to it).
    sql_type: String,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    /// By name: the order of each row's values.
    columns: Vec<Col>,
    /// Primary-key columns in key order; all columns when there is no key.
    order: Vec<String>,
    /// Tables this one references.
    parents: Vec<String>,
}

impl Table {
    fn summary_columns(&self) -> Vec<Column> {
        self.columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                kind: c.kind,
            })
            .collect()
    }
}

fn sqlite_kind(table: &str, col: &str, declared: &str) -> Result<Kind> {
    // SQLite's affinity rules, with BOOLEAN told apart so it round-trips as a boolean.
    let t = declared.to_ascii_uppercase();
    if t.contains("BOOL") {
        Ok(Kind::Bool)
    } else if t.contains("INT") {
        Ok(Kind::Int)
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") || t == "JSON" {
        Ok(Kind::Text)
    } else if t.contains("BLOB") {
        Ok(Kind::Bytes)
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Ok(Kind::Float)
    } else {
        Err(BackupError::Unsupported(format!(
            "{table}.{col}: column type `{declared}` has no portable kind"
        )))
    }
}

fn pg_kind(table: &str, col: &str, data_type: &str) -> Result<Kind> {
    match data_type {
        "smallint" | "integer" | "bigint" => Ok(Kind::Int),
        "boolean" => Ok(Kind::Bool),
        "text" | "character varying" | "character" | "json" | "jsonb" => Ok(Kind::Text),
        "bytea" => Ok(Kind::Bytes),
        "real" | "double precision" => Ok(Kind::Float),
        other => Err(BackupError::Unsupported(format!(
            "{table}.{col}: column type `{other}` has no portable kind"
        ))),
    }
}

/// Parents before children, ties by name; a cycle cannot be loaded table by table.
fn dependency_order(mut tables: Vec<Table>) -> Result<Vec<Table>> {
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let names: std::collections::HashSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready = tables.iter().position(|t| {
            t.parents
                .iter()
                .all(|p| p == &t.name || done.contains(p) || !names.contains(p))
        });
        let Some(i) = ready else {
            let left: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            return Err(BackupError::Unsupported(format!(
                "foreign keys form a cycle among {}",
                left.join(", ")
            )));
        };
        let t = tables.remove(i);
        done.insert(t.name.clone());
        out.push(t);
    }
    Ok(out)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

// ---- values ----

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// One column of a fetched row as its portable JSON value.
fn decode<'r, R>(row: &'r R, i: usize, kind: Kind) -> Result<Value, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<f64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(match kind {
        Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
        // JSON has no NaN or infinity: refuse rather than write a value that reads back wrong.
        Kind::Float => match row.try_get::<Option<f64>, _>(i)? {
            Some(f) => Some(Value::Number(serde_json::Number::from_f64(f).ok_or_else(
                || sqlx::Error::Decode(format!("column {i}: {f} cannot be written as JSON").into()),
            )?)),
            None => None,
        },
        Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
        Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::String),
        Kind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map(|b| Value::String(hex(&b))),
    }
    .unwrap_or(Value::Null))
}

/// A value from the file, typed for binding.
enum Bind {
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

fn to_bind(v: Value, kind: Kind) -> Option<Bind> {
    if v.is_null() {
        return Some(match kind {
            Kind::Int => Bind::Int(None),
            Kind::Float => Bind::Float(None),
            Kind::Bool => Bind::Bool(None),
            Kind::Text => Bind::Text(None),
            Kind::Bytes => Bind::Bytes(None),
        });
    }
    Some(match (kind, v) {
        (Kind::Int, Value::Number(n)) => Bind::Int(Some(n.as_i64()?)),
        (Kind::Float, Value::Number(n)) => Bind::Float(Some(n.as_f64()?)),
        (Kind::Bool, Value::Bool(b)) => Bind::Bool(Some(b)),
        (Kind::Text, Value::String(s)) => Bind::Text(Some(s)),
        (Kind::Bytes, Value::String(s)) => Bind::Bytes(Some(unhex(&s)?)),
        _ => return None,
    })
}

fn bind_all<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    values: Vec<Bind>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    for<'e> Option<i64>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<f64>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<bool>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<String>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<Vec<u8>>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    for v in values {
        q = match v {
            Bind::Int(v) => q.bind(v),
            Bind::Float(v) => q.bind(v),
            Bind::Bool(v) => q.bind(v),
            Bind::Text(v) => q.bind(v),
            Bind::Bytes(v) => q.bind(v),
        };
    }
    q
}

// ---- one connection, either backend ----

enum Conn {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

impl Conn {
    async fn open(url: &str, create: bool) -> Result<Conn> {
        if url.starts_with("sqlite:") {
            let opts: sqlx::sqlite::SqliteConnectOptions = url
                .parse()
                .map_err(|e: sqlx::Error| StoreError::BadUrl(e.to_string()))?;
            // The same guards as the store's own connections: foreign keys checked, and a
            // writer's lock waited for rather than failed on.
            let opts = opts
                .disable_statement_logging()
                .create_if_missing(create)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(30));
            Ok(Conn::Sqlite(
                sqlx::SqliteConnection::connect_with(&opts).await?,
            ))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts: sqlx::postgres::PgConnectOptions = url
                .parse()
                .map_err(|e: sqlx::Error| StoreError::BadUrl(e.to_string()))?;
            // A whole table is one statement: "slow statement" warnings would be noise.
            let opts = opts.disable_statement_logging();
            Ok(Conn::Pg(sqlx::PgConnection::connect_with(&opts).await?))
        } else {
            Err(StoreError::BadUrl(format!("`{url}`: use sqlite://FILE or postgres://…")).into())
        }
    }

    fn backend(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "sqlite",
            Conn::Pg(_) => "postgres",
        }
    }

    async fn exec(&mut self, sql: &'static str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop)?,
            Conn::Pg(c) => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop)?,
        }
        Ok(())
    }

    async fn execute(&mut self, sql: String) -> Result<()> {
        match self {
            Conn::Sqlite(c) => sqlx::query(AssertSqlSafe(sql))
                .execute(&mut *c)
                .await
                .map(drop)?,
            Conn::Pg(c) => sqlx::query(AssertSqlSafe(sql))
                .execute(&mut *c)
                .await
                .map(drop)?,
        }
        Ok(())
    }

    async fn strings(&mut self, sql: &'static str, arg: &str) -> Result<Vec<String>> {
        Ok(match self {
            Conn::Sqlite(c) => {
                sqlx::query_scalar(sql)
                    .bind(arg.to_string())
                    .fetch_all(&mut *c)
                    .await?
            }
            Conn::Pg(c) => {
                sqlx::query_scalar(sql)
                    .bind(arg.to_string())
                    .fetch_all(&mut *c)
                    .await?
            }
        })
    }

    async fn scalar_i64(&mut self, sql: String) -> Result<i64> {
        Ok(match self {
            Conn::Sqlite(c) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&mut *c)
                    .await?
            }
            Conn::Pg(c) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&mut *c)
                    .await?
            }
        })
    }

    async fn close(self) {
        let _ = match self {
            Conn::Sqlite(c) => c.close().await,
            Conn::Pg(c) => c.close().await,
        };
    }

    /// Every table but the bookkeeping, parents first.
    async fn tables(&mut self) -> Result<Vec<Table>> {
        let names = match self {
            Conn::Sqlite(_) => {
                self.strings(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite^_%' ESCAPE '^' AND name <> $1 ORDER BY name",
                    BOOKKEEPING,
                )
                .await?
            }
            Conn::Pg(_) => {
                self.strings(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                     AND table_name <> $1 ORDER BY 1",
                    BOOKKEEPING,
                )
                .await?
            }
        };
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            tables.push(self.table(name).await?);
        }
        dependency_order(tables)
    }

    async fn table(&mut self, name: String) -> Result<Table> {
        let (mut columns, order, parents) = match self {
            Conn::Sqlite(c) => {
                let rows: Vec<(String, String, i64)> =
                    sqlx::query_as("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                        .bind(name.clone())
                        .fetch_all(&mut *c)
                        .await?;
                let mut columns = Vec::with_capacity(rows.len());
                let mut pk = Vec::new();
                for (col, ty, key) in rows {
                    columns.push(Col {
                        kind: sqlite_kind(&name, &col, &ty)?,
                        sql_type: ty,
                        name: col.clone(),
                    });
                    if key > 0 {
                        pk.push((key, col));
                    }
                }
                pk.sort();
                let order = pk.into_iter().map(|(_, c)| c).collect::<Vec<_>>();
                let parents: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)",
                )
                .bind(name.clone())
                .fetch_all(&mut *c)
                .await?;
                (columns, order, parents)
            }
            Conn::Pg(c) => {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 \
                     ORDER BY ordinal_position",
                )
                .bind(name.clone())
                .fetch_all(&mut *c)
                .await?;
                let mut columns = Vec::with_capacity(rows.len());
                for (col, ty) in rows {
                    columns.push(Col {
                        kind: pg_kind(&name, &col, &ty)?,
                        sql_type: ty,
                        name: col,
                    });
                }
                let order: Vec<String> = sqlx::query_scalar(
                    "SELECT a.attname::text FROM pg_index i \
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                     WHERE i.indisprimary \
                     AND i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass \
                     ORDER BY array_position(i.indkey::int2[], a.attnum)",
                )
                .bind(name.clone())
                .fetch_all(&mut *c)
                .await?;
                let parents: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT p.relname::text FROM pg_constraint k \
                     JOIN pg_class p ON p.oid = k.confrelid WHERE k.contype = 'f' \
                     AND k.conrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass",
                )
                .bind(name.clone())
                .fetch_all(&mut *c)
                .await?;
                (columns, order, parents)
            }
        };
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        // No key: every column, so the order is still total (up to identical rows).
        let order = if order.is_empty() {
            columns.iter().map(|c| c.name.clone()).collect()
        } else {
            order
        };
        Ok(Table {
            name,
            columns,
            order,
            parents,
        })
    }

    /// The highest migration applied; `None` without the bookkeeping table (not a jiesu
    /// database, or a new one).
    async fn migration(&mut self) -> Result<Option<i64>> {
        let exists = match self {
            Conn::Sqlite(_) => {
                self.strings(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1",
                    BOOKKEEPING,
                )
                .await?
            }
            Conn::Pg(_) => {
                self.strings(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = $1",
                    BOOKKEEPING,
                )
                .await?
            }
        };
        if exists.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            self.scalar_i64(format!(
                "SELECT COALESCE(MAX(version), 0) FROM {}",
                quote(BOOKKEEPING)
            ))
            .await?,
        ))
    }

    /// Streams a table's rows in the canonical order, each as its line (with the newline)
    /// handed to `sink`; the count and the hash of those lines.
    async fn dump(
        &mut self,
        t: &Table,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(u64, String)> {
        let pg = matches!(self, Conn::Pg(_));
        let select: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let q = quote(&c.name);
                // PostgreSQL decodes strictly by type: widen integers, JSON as its text.
                match (pg, c.kind) {
                    (true, Kind::Int) => format!("CAST({q} AS BIGINT)"),
                    (true, Kind::Float) => format!("CAST({q} AS DOUBLE PRECISION)"),
                    (true, Kind::Text) => format!("CAST({q} AS TEXT)"),
                    _ => q,
                }
            })
            .collect();
        let order: Vec<String> = t
            .order
            .iter()
            .map(|name| {
                let text = t
                    .columns
                    .iter()
                    .any(|c| &c.name == name && c.kind == Kind::Text);
                // Byte order on both backends (SQLite's BINARY is PostgreSQL's "C").
                let collate = if pg && text { " COLLATE \"C\"" } else { "" };
                format!("{}{collate} NULLS FIRST", quote(name))
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            select.join(", "),
            quote(&t.name),
            order.join(", ")
        );
        let mut hasher = Sha256::new();
        let mut rows = 0u64;
        let mut line = Vec::with_capacity(512);
        let mut emit = |values: Vec<Value>| -> Result<()> {
            line.clear();
            serde_json::to_writer(&mut line, &values)
                .map_err(|e| BackupError::Io(e.to_string()))?;
            line.push(b'\n');
            hasher.update(&line);
            rows += 1;
            sink(&line).map_err(|e| BackupError::Io(e.to_string()))
        };
        match self {
            Conn::Sqlite(c) => {
                let mut s = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *c);
                while let Some(row) = s.try_next().await? {
                    let mut values = Vec::with_capacity(t.columns.len());
                    for (i, col) in t.columns.iter().enumerate() {
                        values.push(decode(&row, i, col.kind)?);
                    }
                    emit(values)?;
                }
            }
            Conn::Pg(c) => {
                let mut s = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *c);
                while let Some(row) = s.try_next().await? {
                    let mut values = Vec::with_capacity(t.columns.len());
                    for (i, col) in t.columns.iter().enumerate() {
                        values.push(decode(&row, i, col.kind)?);
                    }
                    emit(values)?;
                }
            }
        }
        Ok((rows, format!("sha256:{}", hex(&hasher.finalize()))))
    }

    async fn insert(&mut self, t: &Table, rows: Vec<Vec<Bind>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let pg = matches!(self, Conn::Pg(_));
        let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.name)).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}){} VALUES ",
            quote(&t.name),
            cols.join(", "),
            // Ids are kept, identity columns included.
            if pg { " OVERRIDING SYSTEM VALUE" } else { "" }
        );
        let mut n = 0;
        for (r, _) in rows.iter().enumerate() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for (i, c) in t.columns.iter().enumerate() {
                n += 1;
                if i > 0 {
                    sql.push_str(", ");
                }
                if pg {
                    // A text bind into a JSON column, an INT8 into an INT4: say the type.
                    sql.push_str(&format!("CAST(${n} AS {})", c.sql_type));
                } else {
                    // Plain `?`: SQLite looks each named `$N` up in a list, quadratic here.
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        let values: Vec<Bind> = rows.into_iter().flatten().collect();
        match self {
            Conn::Sqlite(c) => {
                bind_all(sqlx::query(AssertSqlSafe(sql)), values)
                    .execute(&mut *c)
                    .await?;
            }
            Conn::Pg(c) => {
                bind_all(sqlx::query(AssertSqlSafe(sql)), values)
                    .execute(&mut *c)
                    .await?;
            }
        }
        Ok(())
    }

    /// Tables holding rows, with their counts.
    async fn nonempty(&mut self, tables: &[Table]) -> Result<Vec<(String, i64)>> {
        let mut found = Vec::new();
        for t in tables
            .iter()
            .filter(|t| !REPLACED_ON_RESTORE.contains(&t.name.as_str()))
        {
            let n = self
                .scalar_i64(format!("SELECT COUNT(*) FROM {}", quote(&t.name)))
                .await?;
            if n > 0 {
                found.push((t.name.clone(), n));
            }
        }
        Ok(found)
    }

    /// PostgreSQL: every serial or identity sequence restarts after the largest restored id.
    async fn reset_sequences(&mut self, tables: &[Table]) -> Result<()> {
        let Conn::Pg(c) = self else { return Ok(()) };
        for t in tables {
            for col in &t.columns {
                let seq: Option<String> = sqlx::query_scalar(
                    "SELECT pg_get_serial_sequence(quote_ident(current_schema()) || '.' || quote_ident($1), $2)",
                )
                .bind(t.name.clone())
                .bind(col.name.clone())
                .fetch_one(&mut *c)
                .await?;
                if let Some(seq) = seq {
                    let sql = format!(
                        "SELECT setval($1, COALESCE(MAX({c}), 0) + 1, false) FROM {t}",
                        c = quote(&col.name),
                        t = quote(&t.name)
                    );
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(seq)
                        .execute(&mut *c)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

// ---- backup ----

fn partial_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Backs the database at `url` up into `out`, consistent as of one instant while others keep
/// writing. Refuses an existing `out` unless `force`.
pub async fn backup(url: &str, out: &Path, force: bool) -> Result<BackupReport> {
    if out.exists() && !force {
        return Err(BackupError::Exists(format!(
            "{} exists; pass --force to replace it",
            out.display()
        )));
    }
    let mut conn = Conn::open(url, false).await?;
    let snapshot = match conn {
        Conn::Sqlite(_) => "BEGIN",
        Conn::Pg(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    };
    conn.exec(snapshot).await?;
    let partial = partial_path(out);
    let r = write_backup(&mut conn, &partial).await;
    let _ = conn.exec("ROLLBACK").await;
    conn.close().await;
    let mut report = match r {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out).map_err(|e| io(out, e))?;
    report.file = out.to_path_buf();
    Ok(report)
}

async fn write_backup(conn: &mut Conn, partial: &Path) -> Result<BackupReport> {
    // The first read fixes the SQLite snapshot; everything after sees the same instant.
    let migration = conn.migration().await?.ok_or_else(|| {
        BackupError::Schema(format!("not a jiesu database: no {BOOKKEEPING} table"))
    })?;
    let tables = conn.tables().await?;
    let mut header = Header {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        backend: conn.backend().into(),
        migration,
        created_at: jiff::Timestamp::now().to_string(),
        tables: tables
            .iter()
            .map(|t| TableSummary {
                name: t.name.clone(),
                columns: t.summary_columns(),
                rows: u64::MAX,
                sha256: format!("sha256:{}", "f".repeat(64)),
            })
            .collect(),
    };
    // The header goes first but its counts and hashes are known last: reserve the widest it
    // can be (every count u64::MAX) and write it over the blanks at the end.
    let reserved = serde_json::to_vec(&header)
        .map_err(|e| BackupError::Io(e.to_string()))?
        .len();
    let file = std::fs::File::create(partial).map_err(|e| io(partial, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let werr = |e: std::io::Error| io(partial, e);
    w.write_all(&vec![b' '; reserved]).map_err(werr)?;
    w.write_all(b"\n").map_err(werr)?;
    for (t, summary) in tables.iter().zip(header.tables.iter_mut()) {
        let marker = serde_json::json!({ "table": t.name }).to_string();
        w.write_all(marker.as_bytes()).map_err(werr)?;
        w.write_all(b"\n").map_err(werr)?;
        let (rows, sha) = conn.dump(t, |line| w.write_all(line)).await?;
        summary.rows = rows;
        summary.sha256 = sha;
    }
    w.write_all(b"{\"end\":true}\n").map_err(werr)?;
    let mut file = w.into_inner().map_err(|e| io(partial, e.into_error()))?;
    let mut line = serde_json::to_vec(&header).map_err(|e| BackupError::Io(e.to_string()))?;
    line.resize(reserved, b' ');
    file.rewind().map_err(werr)?;
    file.write_all(&line).map_err(werr)?;
    file.sync_all().map_err(werr)?;
    let bytes = file.metadata().map_err(werr)?.len();
    Ok(BackupReport {
        file: partial.to_path_buf(),
        backend: header.backend,
        migration,
        tables: header.tables.len(),
        rows: header.tables.iter().map(|t| t.rows).sum(),
        bytes,
        hashes: header
            .tables
            .into_iter()
            .map(|t| (t.name, t.rows, t.sha256))
            .collect(),
    })
}

// ---- reading a backup ----

struct Reader {
    path: PathBuf,
    inner: BufReader<std::fs::File>,
    line: u64,
    buf: Vec<u8>,
}

impl Reader {
    fn open(path: &Path) -> Result<Reader> {
        let f = std::fs::File::open(path).map_err(|e| io(path, e))?;
        Ok(Reader {
            path: path.to_path_buf(),
            inner: BufReader::with_capacity(1 << 20, f),
            line: 0,
            buf: Vec::with_capacity(512),
        })
    }

    fn bad(&self, what: impl std::fmt::Display) -> BackupError {
        BackupError::BadFile(format!(
            "{} line {}: {what}",
            self.path.display(),
            self.line
        ))
    }

    /// The next line with its newline; a missing newline means the file was cut.
    fn next(&mut self) -> Result<Option<&[u8]>> {
        self.buf.clear();
        let n = self
            .inner
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() != Some(&b'\n') {
            return Err(self.bad("truncated (no end of line)"));
        }
        Ok(Some(&self.buf))
    }

    fn expect(&mut self, what: &str) -> Result<Vec<u8>> {
        match self.next()? {
            Some(l) => Ok(l.to_vec()),
            None => Err(self.bad(format!("truncated: expected {what}"))),
        }
    }

    fn header(&mut self) -> Result<Header> {
        let line = self.expect("the header")?;
        let v: Value =
            serde_json::from_slice(&line).map_err(|_| self.bad(format!("not a {FORMAT} file")))?;
        if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(self.bad(format!("not a {FORMAT} file")));
        }
        match v.get("version").and_then(Value::as_u64) {
            Some(n) if n == u64::from(FORMAT_VERSION) => {}
            Some(n) => {
                return Err(self.bad(format!(
                    "format version {n}; this jiesu reads version {FORMAT_VERSION}"
                )));
            }
            None => return Err(self.bad("no format version")),
        }
        let h: Header = serde_json::from_value(v).map_err(|e| self.bad(format!("header: {e}")))?;
        let mut seen = std::collections::HashSet::new();
        for t in &h.tables {
            if !seen.insert(t.name.as_str()) {
                return Err(self.bad(format!("table {} listed twice", t.name)));
            }
        }
        Ok(h)
    }

    fn table_marker(&mut self, name: &str) -> Result<()> {
        let line = self.expect(&format!("table {name}"))?;
        let v: Option<Value> = serde_json::from_slice(&line).ok();
        match v
            .as_ref()
            .and_then(|v| v.get("table"))
            .and_then(Value::as_str)
        {
            Some(n) if n == name => Ok(()),
            _ => Err(self.bad(format!("expected the start of table {name}"))),
        }
    }

    fn end(&mut self) -> Result<()> {
        let line = self.expect("the end marker")?;
        if serde_json::from_slice::<Value>(&line).ok() != Some(serde_json::json!({"end": true})) {
            return Err(self.bad("expected the end marker (more rows than the header counts?)"));
        }
        if self.next()?.is_some() {
            return Err(self.bad("data after the end marker"));
        }
        Ok(())
    }
}

/// Reads the whole file and checks it against its header — structure, counts, hashes —
/// touching no database. The header, when the file is sound.
pub fn check_file(path: &Path) -> Result<Header> {
    let mut r = Reader::open(path)?;
    let h = r.header()?;
    for t in &h.tables {
        r.table_marker(&t.name)?;
        let mut hasher = Sha256::new();
        for _ in 0..t.rows {
            let Some(line) = r.next()? else {
                return Err(r.bad(format!("truncated in table {}", t.name)));
            };
            if line.first() != Some(&b'[') {
                return Err(r.bad(format!("table {}: not a row", t.name)));
            }
            hasher.update(line);
        }
        let sha = format!("sha256:{}", hex(&hasher.finalize()));
        if sha != t.sha256 {
            return Err(BackupError::BadFile(format!(
                "{}: table {} does not match its hash in the header (changed or damaged)",
                path.display(),
                t.name
            )));
        }
    }
    r.end()?;
    Ok(h)
}

// ---- restore ----

/// Restores `from` into the empty database at `url` (created and migrated if need be).
pub async fn restore(url: &str, from: &Path) -> Result<RestoreReport> {
    // A bad file is refused before the target is touched (not even created).
    let header = check_file(from)?;
    let mut conn = Conn::open(url, true).await?;
    // Refuse a used database before migrating it.
    let before = conn.tables().await;
    if let Ok(existing) = before {
        let found = conn.nonempty(&existing).await?;
        if !found.is_empty() {
            conn.close().await;
            return Err(not_empty(&found));
        }
    }
    conn.close().await;
    // Migrate only: opening for service may also check or record encryption keys, and the
    // key rows are among what the backup brings.
    let store = Store::connect(url).await?;
    let migrated = store.migrate().await;
    store.close().await;
    migrated?;

    let mut conn = Conn::open(url, false).await?;
    let begin = match conn {
        Conn::Sqlite(_) => "BEGIN IMMEDIATE",
        Conn::Pg(_) => "BEGIN",
    };
    conn.exec(begin).await?;
    let r = load(&mut conn, &header, from).await;
    let r = match r {
        Ok(v) => conn.exec("COMMIT").await.map(|_| v),
        Err(e) => Err(e),
    };
    if r.is_err() {
        let _ = conn.exec("ROLLBACK").await;
    }
    let backend = conn.backend();
    conn.close().await;
    let (tables, rows) = r?;

    let store = Store::connect(url).await?;
    let audit = store.verify_audit().await;
    store.close().await;
    Ok(RestoreReport {
        backend: backend.into(),
        from_backend: header.backend,
        migration: header.migration,
        tables,
        rows,
        audit: audit?,
    })
}

fn not_empty(found: &[(String, i64)]) -> BackupError {
    let list: Vec<String> = found.iter().map(|(t, n)| format!("{t}: {n}")).collect();
    BackupError::NotEmpty(format!(
        "the target database is not empty ({}); restore only into an empty database",
        list.join(", ")
    ))
}

/// Inside the restore transaction: schema checks, inserts, sequences, verification.
async fn load(conn: &mut Conn, header: &Header, from: &Path) -> Result<(usize, u64)> {
    let migration = conn.migration().await?.unwrap_or(0);
    if migration != header.migration {
        return Err(BackupError::Schema(format!(
            "the backup was taken at migration {}, this jiesu's schema is at migration {migration}; \
             restore with the jiesu release that took it, then upgrade",
            header.migration
        )));
    }
    let tables = conn.tables().await?;
    let found = conn.nonempty(&tables).await?;
    if !found.is_empty() {
        return Err(not_empty(&found));
    }
    for t in tables
        .iter()
        .filter(|t| REPLACED_ON_RESTORE.contains(&t.name.as_str()))
    {
        conn.execute(format!("DELETE FROM {}", quote(&t.name)))
            .await?;
    }
    let by_name: std::collections::HashMap<&str, &Table> =
        tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let in_file: std::collections::HashSet<&str> =
        header.tables.iter().map(|t| t.name.as_str()).collect();
    let missing: Vec<&str> = tables
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !in_file.contains(n))
        .collect();
    let extra: Vec<&str> = header
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !by_name.contains_key(n))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(BackupError::Schema(format!(
            "tables differ: not in the backup [{}], not in this schema [{}]",
            missing.join(", "),
            extra.join(", ")
        )));
    }
    let mut loaded = std::collections::HashSet::new();
    for s in &header.tables {
        let t = by_name[s.name.as_str()];
        if s.columns != t.summary_columns() {
            return Err(BackupError::Schema(format!(
                "table {}: columns differ between the backup and this schema",
                s.name
            )));
        }
        if let Some(p) = t
            .parents
            .iter()
            .find(|p| *p != &t.name && !loaded.contains(p.as_str()))
        {
            return Err(BackupError::BadFile(format!(
                "table {} comes before {p}, which it references",
                s.name
            )));
        }
        loaded.insert(s.name.as_str());
    }

    let mut r = Reader::open(from)?;
    r.header()?;
    let mut total = 0u64;
    for s in &header.tables {
        let t = by_name[s.name.as_str()];
        r.table_marker(&s.name)?;
        let per_batch = (MAX_PARAMS / t.columns.len().max(1)).clamp(1, MAX_BATCH_ROWS);
        let mut batch = Vec::with_capacity(per_batch);
        for _ in 0..s.rows {
            let Some(line) = r.next()? else {
                return Err(r.bad(format!("truncated in table {}", s.name)));
            };
            let values: Vec<Value> = serde_json::from_slice(line)
                .map_err(|e| r.bad(format!("table {}: {e}", s.name)))?;
            if values.len() != t.columns.len() {
                return Err(r.bad(format!(
                    "table {}: {} values for {} columns",
                    s.name,
                    values.len(),
                    t.columns.len()
                )));
            }
            let mut row = Vec::with_capacity(values.len());
            for (v, c) in values.into_iter().zip(&t.columns) {
                match to_bind(v, c.kind) {
                    Some(b) => row.push(b),
                    None => {
                        return Err(r.bad(format!(
                            "table {}: column {} is not a {:?}",
                            s.name, c.name, c.kind
                        )));
                    }
                }
            }
            batch.push(row);
            if batch.len() == per_batch {
                conn.insert(t, std::mem::take(&mut batch)).await?;
            }
        }
        conn.insert(t, batch).await?;
        total += s.rows;
    }
    r.end()?;
    conn.reset_sequences(&tables).await?;
    // What the target now holds, read back the way backup reads it, must be the header.
    for s in &header.tables {
        let (rows, sha) = conn.dump(by_name[s.name.as_str()], |_| Ok(())).await?;
        if rows != s.rows || sha != s.sha256 {
            return Err(BackupError::Verify(format!(
                "table {}: {rows} rows read back, {} in the backup{}",
                s.name,
                s.rows,
                if rows == s.rows {
                    " (content differs)"
                } else {
                    ""
                }
            )));
        }
    }
    Ok((header.tables.len(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&all)), Some(all));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn kinds_from_both_catalogues() {
        assert_eq!(sqlite_kind("t", "c", "BOOLEAN").ok(), Some(Kind::Bool));
        assert_eq!(sqlite_kind("t", "c", "INTEGER").ok(), Some(Kind::Int));
        assert_eq!(sqlite_kind("t", "c", "SMALLINT").ok(), Some(Kind::Int));
        assert_eq!(sqlite_kind("t", "c", "TEXT").ok(), Some(Kind::Text));
        assert_eq!(sqlite_kind("t", "c", "BLOB").ok(), Some(Kind::Bytes));
        assert!(sqlite_kind("t", "c", "NUMERIC").is_err());
        assert_eq!(pg_kind("t", "c", "bigint").ok(), Some(Kind::Int));
        assert_eq!(pg_kind("t", "c", "jsonb").ok(), Some(Kind::Text));
        assert!(pg_kind("t", "c", "numeric").is_err());
    }

    #[test]
    fn parents_come_first_and_cycles_are_named() {
        let t = |name: &str, parents: &[&str]| Table {
            name: name.into(),
            columns: vec![],
            order: vec![],
            parents: parents.iter().map(|p| p.to_string()).collect(),
        };
        let order = dependency_order(vec![
            t("a_child", &["z_parent"]),
            t("z_parent", &[]),
            t("self", &["self"]),
        ])
        .expect("order");
        let names: Vec<&str> = order.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["self", "z_parent", "a_child"]);
        let e = dependency_order(vec![t("a", &["b"]), t("b", &["a"])]).unwrap_err();
        assert!(e.to_string().contains("cycle among a, b"), "{e}");
    }
}
