//! `jiesu backup` under load and `jiesu restore` (issue 12): the real binary serves a fresh
//! database while operators file requests over HTTP; `jiesu backup` runs in the middle of it.
//! The backup restored into a fresh database holds every request acknowledged before the
//! backup started, its audit chain verifies, and backing the restored database up again gives
//! the same row count and SHA-256 for every table. On SQLite, and on PostgreSQL with
//! `JIESU_TEST_PG_URL`. Bad files and an existing output are refused with a non-zero exit.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, login, serve};

fn add_user(db: &str, name: &str, role: &str) {
    common::add_user(db, name, role, None, &[]);
}

fn start_server(db: &str) -> (Child, String) {
    serve(db, &["--sweep-every", "3600"], &[])
}
const STREET: &str = "110102012";
const CATEGORY: &str = "property.service";

fn jiesu(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("JIESU_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run jiesu")
}

/// Files requests until `stop`; every id the server acknowledged goes into `acked`.
async fn load(base: String, token: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<i64>>>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let r = client
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&token)
            .json(&json!({
                "request_type": "complaint", "category": CATEGORY, "street": STREET,
                "text": format!("小区门口共享单车乱停放（备份压测 {i}）"),
                "caller_phone": "13812345678", "dispatch_to": STREET,
            }))
            .send()
            .await;
        if let Ok(r) = r
            && r.status().is_success()
            && let Ok(v) = r.json::<Value>().await
            && let Some(id) = v["id"].as_i64()
        {
            acked.lock().expect("lock").push(id);
        }
    }
}

/// The header's tables: name, rows, hash.
fn header_tables(file: &Path) -> Vec<(String, u64, String)> {
    let f = std::fs::File::open(file).expect("open backup");
    let mut line = String::new();
    BufReader::new(f).read_line(&mut line).expect("header");
    let h: Value = serde_json::from_str(&line).expect("header json");
    h["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().expect("name").to_string(),
                t["rows"].as_u64().expect("rows"),
                t["sha256"].as_str().expect("sha").to_string(),
            )
        })
        .collect()
}

/// The restored requests' ids; each must come with its whole event log (one instant's
/// snapshot, not tables read at different moments).
async fn request_ids(db: &str) -> BTreeSet<i64> {
    let store = jiesu_store::Store::connect(db).await.expect("connect");
    let mut ids = BTreeSet::new();
    loop {
        let page = store
            .search_documents(ids.last().copied().unwrap_or(0), 10_000)
            .await
            .expect("requests");
        if page.is_empty() {
            break;
        }
        for st in &page {
            let events = store.events(st.id).await.expect("events");
            assert_eq!(
                events.len() as i64,
                st.version,
                "request {} restored with {} of its {} events",
                st.id,
                events.len(),
                st.version
            );
        }
        ids.extend(page.iter().map(|r| r.id));
    }
    store.close().await;
    ids
}

fn ok(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

async fn scenario(db: &str, restored: &str, dir: &Path) {
    add_user(db, "admin", "admin");
    add_user(db, "operator", "operator");
    let (mut server, base) = start_server(db);
    let client = reqwest::Client::new();
    // Logins are audited: the chain has rows to carry over.
    login(&client, &base, "admin").await;
    let operator = login(&client, &base, "operator").await;

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let loaders: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(load(
                base.clone(),
                operator.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("lock").len() < 60 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let file = dir.join("live.jsonl");
    let before: Vec<i64> = acked.lock().expect("lock").clone();
    let (db_s, file_s) = (db.to_string(), file.display().to_string());
    let backup =
        tokio::task::spawn_blocking(move || jiesu(&["backup", "--db", &db_s, "--out", &file_s]));
    let backup = backup.await.expect("join");
    let after_backup = acked.lock().expect("lock").len();
    // The load went on around the backup: more requests after it finished.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().expect("lock").len() < after_backup + 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for l in loaders {
        l.await.expect("loader");
    }
    let _ = server.kill();
    let _ = server.wait();
    let report = ok(&backup, "backup under load");
    let total = acked.lock().expect("lock").len();
    println!(
        "backup under load [{}]: {} acknowledged before it, {} while it ran, {total} in all; \
         {report}",
        &db[..db.find(':').unwrap_or(0)],
        before.len(),
        after_backup - before.len()
    );
    assert!(before.len() >= 60, "too little load before the backup");
    assert!(
        after_backup > before.len() && total > after_backup,
        "the load ran on during and after the backup"
    );
    assert!(!Path::new(&format!("{}.partial", file.display())).exists());

    let out = jiesu(&[
        "restore",
        "--db",
        restored,
        "--from",
        &file.display().to_string(),
    ]);
    let r = ok(&out, "restore");
    assert_eq!(r["audit"]["broken"], Value::Null, "{r}");

    let in_restore = request_ids(restored).await;
    let lost: Vec<i64> = before
        .iter()
        .filter(|id| !in_restore.contains(id))
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup but not restored: {lost:?}"
    );
    let verify = ok(
        &jiesu(&["audit", "verify", "--db", restored]),
        "audit verify on the restore",
    );
    assert!(verify["rows"].as_u64().unwrap_or(0) >= 2, "{verify}");

    let again = dir.join("again.jsonl");
    ok(
        &jiesu(&[
            "backup",
            "--db",
            restored,
            "--out",
            &again.display().to_string(),
        ]),
        "backup of the restore",
    );
    let (a, b) = (header_tables(&file), header_tables(&again));
    assert!(
        a.iter()
            .any(|(t, n, _)| t == "requests" && *n as usize >= before.len()),
        "{a:?}"
    );
    assert_eq!(a, b, "every table equal after backup → restore → backup");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jiesu-backup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_restores_everything_acknowledged_sqlite() {
    let _serial = SERIAL.lock().await;
    let dir = temp_dir("sqlite");
    let db = format!("sqlite://{}", dir.join("live.db").display());
    let restored = format!("sqlite://{}", dir.join("restored.db").display());
    scenario(&db, &restored, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_restores_everything_acknowledged_postgres() {
    let _serial = SERIAL.lock().await;
    let Some(admin) = std::env::var("JIESU_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: JIESU_TEST_PG_URL is not set");
        return;
    };
    let dir = temp_dir("postgres");
    let live = pg_database(&admin, "live").await;
    let target = pg_database(&admin, "target").await;
    scenario(&live, &target, &dir).await;
    for url in [live, target] {
        drop_pg_database(&admin, &url).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new, empty database on the server of `admin` (left for `jiesu` to migrate, as a
/// deployment would).
async fn pg_database(admin: &str, what: &str) -> String {
    use sqlx::Connection;
    let name = format!("jiesu_test_backup_{what}_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(admin).await.expect("connect");
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .expect("create database");
    }
    let (base, _) = admin.rsplit_once('/').unwrap_or((admin, ""));
    format!("{base}/{name}")
}

async fn drop_pg_database(admin: &str, url: &str) {
    use sqlx::Connection;
    let name = url.rsplit('/').next().unwrap_or_default();
    if let Ok(mut c) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut c)
        .await;
    }
}

#[tokio::test]
async fn bad_files_and_existing_outputs_exit_non_zero() {
    let _serial = SERIAL.lock().await;
    let dir = temp_dir("bad");
    let db = format!("sqlite://{}", dir.join("src.db").display());
    add_user(&db, "admin", "admin");
    let file = dir.join("b.jsonl");
    let f = file.display().to_string();
    ok(&jiesu(&["backup", "--db", &db, "--out", &f]), "backup");

    let out = jiesu(&["backup", "--db", &db, "--out", &f]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(
        &jiesu(&["backup", "--db", &db, "--out", &f, "--force"]),
        "--force",
    );

    let garbage = dir.join("garbage.jsonl");
    std::fs::write(&garbage, "hello\n").expect("write");
    let target = dir.join("target.db");
    let t = format!("sqlite://{}", target.display());
    let out = jiesu(&[
        "restore",
        "--db",
        &t,
        "--from",
        &garbage.display().to_string(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a jiesu-backup file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.exists(), "nothing written for a bad file");

    // Into the database it came from: refused, naming what is there.
    let out = jiesu(&["restore", "--db", &db, "--from", &f]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("users: 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
