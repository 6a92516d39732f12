//! The kill test: the real `jiesu` binary serves a fresh database with a webhook pointing at a
//! receiver inside this test, while requests are filed and handled against it; the server is
//! SIGKILLed and restarted several times mid-load. At the end every event stored in the
//! database must have reached the receiver at least once (deduplicated by event id), and
//! nothing that was never stored may have arrived, and the audit log's hash chain, written to
//! by logins under the same kills, must verify whole (`jiesu audit verify`). On PostgreSQL (`JIESU_TEST_PG_URL`) two
//! servers share the database and are killed in turn, so claims also race across processes.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use jiesu_store::Store;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, PASSWORD, add_user as add_account, login, serve};
// Meets the shipped password policy (three kinds of character): accounts are made by `jiesu user add`.
/// 什刹海街道 and a category its street office handles.
const STREET: &str = "110102012";
const CATEGORY: &str = "property.service";
/// Short, so deliveries cut off by a kill are re-sent within the test.
const LEASE_SECS: &str = "3";
/// Callers sealed at rest, as in production: kills must not break that either.
const SEALED: &[(&str, &str)] = &[("JIESU_PII_KEYRING", jiesu_store::testing::TEST_KEYRING)];

/// `jiesu serve` as this test runs it: short webhook leases, no sweeps in the way, sealed.
fn start_server(db: &str) -> (Child, String) {
    serve(
        db,
        &["--sweep-every", "3600"],
        &[("JIESU_WEBHOOK_LEASE_SECS", LEASE_SECS), SEALED[0]],
    )
}

#[derive(Default)]
struct Received {
    /// Event id → how many times it arrived.
    seen: Mutex<HashMap<i64, u32>>,
    bad_signatures: AtomicU64,
    secret: RwLock<String>,
}

async fn start_receiver(r: Arc<Received>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let r = r.clone();
            async move {
                let secret = r.secret.read().map(|s| s.clone()).unwrap_or_default();
                let sig = headers
                    .get("x-jiesu-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let now = jiff::Timestamp::now().as_second();
                if !jiesu_server::events::sign::verify(&secret, sig, &body, now, 300) {
                    r.bad_signatures.fetch_add(1, Ordering::SeqCst);
                    return StatusCode::UNAUTHORIZED;
                }
                let Some(id) = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["event_id"].as_i64())
                else {
                    return StatusCode::BAD_REQUEST;
                };
                // A little latency keeps deliveries in flight when the kill comes.
                tokio::time::sleep(Duration::from_millis(3)).await;
                *r.seen.lock().expect("lock").entry(id).or_default() += 1;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/hook")
}

/// SIGKILL: no shutdown hook, no flush, no goodbye.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Logs in and out as the admin against whichever servers are up, until `stop`: two audit
/// rows per round. Counts the calls the server acknowledged.
async fn audit_load(
    bases: Arc<RwLock<Vec<String>>>,
    stop: Arc<AtomicBool>,
    audited: Arc<AtomicU64>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let base = {
            let b = bases.read().expect("lock");
            (!b.is_empty()).then(|| b[i % b.len()].clone())
        };
        let Some(base) = base else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Ok(r) = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
        else {
            continue;
        };
        let Some(token) = r
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["token"].as_str().map(str::to_string))
        else {
            continue;
        };
        audited.fetch_add(1, Ordering::SeqCst);
        if let Ok(r) = client
            .post(format!("{base}/api/v1/auth/logout"))
            .bearer_auth(&token)
            .send()
            .await
            && r.status().is_success()
        {
            audited.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Files requests and accepts them, against whichever servers are up, until `stop`.
async fn load(
    bases: Arc<RwLock<Vec<String>>>,
    operator: String,
    handler: String,
    stop: Arc<AtomicBool>,
    filed: Arc<AtomicU64>,
    n: usize,
) -> (u64, u64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let base = {
            let b = bases.read().expect("lock");
            (!b.is_empty()).then(|| b[(i + n) % b.len()].clone())
        };
        let Some(base) = base else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let r = client
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&operator)
            .json(&json!({
                "request_type": "complaint", "category": CATEGORY, "street": STREET,
                "text": format!("楼道堆放杂物，物业不清理（压测 {n}-{i}）"),
                "caller_phone": "13812345678", "dispatch_to": STREET,
            }))
            .send()
            .await;
        let id = match r {
            Ok(r) if r.status().is_success() => {
                r.json::<Value>().await.ok().and_then(|v| v["id"].as_i64())
            }
            _ => None,
        };
        let Some(id) = id else {
            failed += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        ok += 1;
        filed.fetch_add(1, Ordering::SeqCst);
        let _ = client
            .post(format!("{base}/api/v1/requests/{id}/accept"))
            .bearer_auth(&handler)
            .send()
            .await;
    }
    (ok, failed)
}

async fn db_event_ids(db: &str) -> Vec<i64> {
    let store = Store::connect_with(db, jiesu_store::testing::test_pii())
        .await
        .expect("connect");
    let mut ids = Vec::new();
    loop {
        let page = store
            .event_ids(ids.last().copied().unwrap_or(0), 10_000)
            .await
            .expect("event ids");
        if page.is_empty() {
            break;
        }
        ids.extend(page);
    }
    store.close().await;
    ids
}

async fn scenario(db: &str, servers: usize, kills: usize) {
    for (name, role, unit) in [
        ("admin", "admin", None),
        ("operator", "operator", None),
        ("handler", "handler", Some(STREET)),
    ] {
        add_account(db, name, role, unit, SEALED);
    }
    let received = Arc::new(Received::default());
    let hook_url = start_receiver(received.clone()).await;

    let mut procs: Vec<(Child, String)> = (0..servers).map(|_| start_server(db)).collect();
    let client = reqwest::Client::new();
    let base0 = procs[0].1.clone();
    let admin = login(&client, &base0, "admin").await;
    let created: Value = client
        .post(format!("{base0}/api/v1/webhooks"))
        .bearer_auth(&admin)
        .json(&json!({"name": "kill test", "url": hook_url}))
        .send()
        .await
        .expect("create webhook")
        .json()
        .await
        .expect("json");
    let secret = created["secret"].as_str().expect("secret").to_string();
    *received.secret.write().expect("lock") = secret;
    let operator = login(&client, &base0, "operator").await;
    let handler = login(&client, &base0, "handler").await;

    let bases = Arc::new(RwLock::new(
        procs.iter().map(|p| p.1.clone()).collect::<Vec<_>>(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let filed_now = Arc::new(AtomicU64::new(0));
    let loaders: Vec<_> = (0..4)
        .map(|n| {
            tokio::spawn(load(
                bases.clone(),
                operator.clone(),
                handler.clone(),
                stop.clone(),
                filed_now.clone(),
                n,
            ))
        })
        .collect();

    // Audit writes (logins and logouts, each a link of the hash chain) go on under the kills.
    let audited = Arc::new(AtomicU64::new(0));
    let auditor = tokio::spawn(audit_load(bases.clone(), stop.clone(), audited.clone()));

    let started = Instant::now();
    for k in 0..kills {
        // Kill only under load: wait for 30 more requests since the last (re)start, however
        // slow the machine, then vary the moment (mid-intake, mid-fan-out, mid-delivery).
        let target = filed_now.load(Ordering::SeqCst) + 30;
        let wait_until = Instant::now() + Duration::from_secs(60);
        while filed_now.load(Ordering::SeqCst) < target && Instant::now() < wait_until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(97 * (k as u64 % 5))).await;
        let victim = k % servers;
        {
            let mut b = bases.write().expect("lock");
            b.retain(|u| *u != procs[victim].1);
        }
        kill(&mut procs[victim].0);
        let (child, url) = start_server(db);
        procs[victim] = (child, url.clone());
        bases.write().expect("lock").push(url);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    auditor.await.expect("auditor");
    // The chain survived every kill: each row links to the one before.
    let out = Command::new(BIN)
        // Callers sealed at rest, as in production: kills must not break that either.
        .env("JIESU_PII_KEYRING", jiesu_store::testing::TEST_KEYRING)
        .args(["audit", "verify", "--db", db])
        .output()
        .expect("jiesu audit verify");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "audit chain broken after kills: {report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = report["rows"].as_u64().unwrap_or(0);
    assert!(
        rows >= audited.load(Ordering::SeqCst),
        "{rows} chained rows for {} audited calls",
        audited.load(Ordering::SeqCst)
    );
    let (mut filed, mut refused) = (0, 0);
    for l in loaders {
        let (ok, failed) = l.await.expect("loader");
        filed += ok;
        refused += failed;
    }

    // Everything stored must arrive; leases cut by a kill expire after LEASE_SECS.
    let in_db: HashSet<i64> = db_event_ids(db).await.into_iter().collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let missing = {
            let seen = received.seen.lock().expect("lock");
            in_db.iter().filter(|id| !seen.contains_key(id)).count()
        };
        if missing == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A moment more for late duplicates to show in the counts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for p in &mut procs {
        kill(&mut p.0);
    }
    let seen = received.seen.lock().expect("lock").clone();
    let delivered_unique = seen.len();
    let deliveries: u64 = seen.values().map(|&n| u64::from(n)).sum();
    let missing: Vec<i64> = in_db
        .iter()
        .filter(|id| !seen.contains_key(id))
        .copied()
        .collect();
    let phantom: Vec<i64> = seen
        .keys()
        .filter(|id| !in_db.contains(id))
        .copied()
        .collect();
    let bad = received.bad_signatures.load(Ordering::SeqCst);
    println!(
        "kill test [{}]: {kills} SIGKILLs of {servers} server(s) in {:.1}s; requests filed {filed} \
         (calls refused while down {refused}); events in db {}; delivered unique {delivered_unique}; \
         deliveries {deliveries} (duplicates {}); missing {}; never-stored {}; bad signatures {bad}",
        if db.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        },
        started.elapsed().as_secs_f64(),
        in_db.len(),
        deliveries - delivered_unique as u64,
        missing.len(),
        phantom.len(),
    );
    assert!(filed > 50, "too little load to mean anything: {filed}");
    assert!(
        missing.is_empty(),
        "{} events never delivered, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
    assert!(
        phantom.is_empty(),
        "delivered events that are not stored: {phantom:?}"
    );
    assert_eq!(bad, 0, "deliveries with a bad signature");
}

/// The two scenarios one after the other: each wants the machine's cores for its servers.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkilled_servers_lose_no_events_sqlite() {
    let _serial = SERIAL.lock().await;
    let dir = std::env::temp_dir().join(format!("jiesu-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = format!("sqlite://{}", dir.join("kill.db").display());
    scenario(&db, 1, 6).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkilled_servers_lose_no_events_postgres() {
    let _serial = SERIAL.lock().await;
    let Ok(admin_url) = std::env::var("JIESU_TEST_PG_URL") else {
        eprintln!("skipped: JIESU_TEST_PG_URL is not set");
        return;
    };
    let db = jiesu_store::testing::TestDb::postgres(&admin_url)
        .await
        .expect("test database");
    let url = db.url.clone();
    scenario(&url, 2, 6).await;
    db.cleanup().await;
}
