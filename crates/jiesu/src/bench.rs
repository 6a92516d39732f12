//! `jiesu bench intake`: sustained creates through HTTP (login, JSON, validation, store) with
//! p50/p99 latency, next to the raw insert rate of the same rows with the same durability,
//! measured in the same run. Prints JSON.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use jiesu_app::App;
use jiesu_app::accounts::AccountForm;
use jiesu_app::console::{self, Database};
use jiesu_domain::lifecycle::{Caller, Intake};
use jiesu_domain::{Actor, Channel, Event, EventKind, RequestState, RequestType, Role};
use jiesu_server::AppState;
use jiff::Timestamp;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Intake through HTTP vs the raw insert rate.
    Intake {
        /// Database (default: a new SQLite file in the temp folder). A postgres:// URL must name
        /// an empty database.
        #[arg(long)]
        db: Option<String>,
        /// Seconds of sustained load per measurement.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent client connections.
        #[arg(long, default_value_t = 16)]
        connections: usize,
    },
    /// 考评: a month's assessment of all units and the ranking (fast path), median of runs.
    Assessment(crate::rollup::AssessmentBench),
    /// 养老: a month's settlement of every provider and meal point (from the logs, and as the
    /// desk reads it) and the supply–demand view, medians of runs, with row counts.
    Care(crate::bench_care::CareBench),
    /// 一键呼: a burst of alarms over MQTT while a fleet heartbeats — published → durable
    /// p50/p99, heartbeats/s, the server's CPU and peak memory (`jiesu serve` as a process).
    Alarms(crate::bench_alarms::AlarmBench),
    /// Security at rest: intake through HTTP with callers sealed (AES-256-GCM, SM4-GCM) and
    /// without, in alternating rounds on fresh SQLite files; the seal/open and blind-index cost
    /// per caller; the audit chain's cost per write (hash and whole chained append).
    AtRest {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Rounds of (off, aes, sm4); medians are reported.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
}

pub async fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Intake {
            db,
            seconds,
            connections,
        } => {
            let v = intake(db, seconds, connections, None).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        BenchCmd::Assessment(b) => crate::rollup::bench(b).await,
        BenchCmd::Care(b) => crate::bench_care::run(b).await,
        BenchCmd::Alarms(b) => crate::bench_alarms::run(b).await,
        BenchCmd::AtRest {
            seconds,
            connections,
            rounds,
        } => crate::bench_at_rest::run(seconds, connections, rounds).await,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One intake measurement. `pii`: seal callers with this keyring (None: the environment's).
pub(crate) async fn intake(
    db: Option<String>,
    seconds: u64,
    connections: usize,
    pii: Option<jiesu_store::Pii>,
) -> Result<serde_json::Value> {
    let (url, temp) = match db {
        Some(u) => (u, None),
        None => {
            static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("jiesu_bench_{}_{n}.db", std::process::id()));
            (format!("sqlite://{}", p.display()), Some(p))
        }
    };
    let database = match pii {
        Some(pii) => Database::open_with(&url, pii).await?,
        None => Database::open(&url).await?,
    };
    if database.holdings().await?.requests > 0 {
        bail!("{url} already has requests: the benchmark needs an empty database");
    }
    let app = crate::with_world(database, None).await?;
    jiesu_app::accounts::bootstrap_user(
        &app,
        AccountForm {
            username: "bench",
            display_name: Some("bench"),
            password: "Load-test-pw-2026",
            role: Role::Operator.as_str(),
            unit: None,
        },
    )
    .await?;

    // Raw: the same rows (request + its received event), one transaction each, same pool and
    // durability, from the same number of concurrent writers.
    let raw = raw_inserts(&app, seconds, connections).await?;

    let bodies = std::sync::Arc::new(
        crate::demo::sample_bodies(&app.dir, 20_000, 7)
            .into_iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>(),
    );
    let state = AppState::from_app(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(jiesu_server::serve(listener, state, std::future::pending()));
    let token = login(addr).await?;
    let http = http_load(addr, &token, &bodies, seconds, connections).await?;
    server.abort();
    app.close().await;
    if let Some(p) = temp {
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", p.display()));
        }
    }
    let ratio = if raw.0 > 0.0 { http.0 / raw.0 } else { 0.0 };
    Ok(json!({
            "bench": "intake",
            "backend": app.backend(),
            "connections": connections,
            "seconds": seconds,
            "http_creates_per_s": (http.0 * 10.0).round() / 10.0,
            "http_p50_ms": (http.1 * 1000.0).round() / 1000.0,
            "http_p99_ms": (http.2 * 1000.0).round() / 1000.0,
            "http_requests": http.3,
            "http_errors": http.4,
            "raw_inserts_per_s": (raw.0 * 10.0).round() / 10.0,
            "raw_p50_ms": (raw.1 * 1000.0).round() / 1000.0,
            "raw_p99_ms": (raw.2 * 1000.0).round() / 1000.0,
            "http_vs_raw": (ratio * 1000.0).round() / 1000.0,
    }))
}

fn sample_state(now: Timestamp, i: usize) -> (RequestState, Vec<Event>) {
    let intake = Intake {
        request_type: RequestType::Complaint,
        channel: Channel::Hotline,
        category: Some("property.service".into()),
        street: Some("110102012".into()),
        community: Some("110102012001".into()),
        address: Some("鼓楼西大街12号院".into()),
        title: None,
        text: format!("第{i}号：小区楼道堆满杂物，物业一直不清理，存在消防隐患，希望尽快处理。"),
        caller: Caller {
            name: Some("王建国".into()),
            phone: Some("13812345678".into()),
        },
        urgent: false,
        received_at: now,
    };
    let mut st = RequestState::new(0, String::new(), intake.clone(), now);
    st.tracking_code = format!("RAW{i:012}{}", std::process::id());
    let e = Event {
        seq: 1,
        at: now,
        actor: Actor::system(),
        reason: None,
        kind: EventKind::Received { intake },
    };
    (st, vec![e])
}

/// (per second, p50 ms, p99 ms)
async fn raw_inserts(app: &App, seconds: u64, connections: usize) -> Result<(f64, f64, f64)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = c * 10_000_000;
            while Instant::now() < deadline {
                let item = sample_state(Timestamp::now(), i);
                i += 1;
                let t = Instant::now();
                console::insert_raw(&app, &item.0, &item.1).await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, jiesu_app::AppError>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Ok((
        all.len() as f64 / secs,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
    ))
}

/// One HTTP/1.1 keep-alive exchange; returns (status, body).
async fn exchange(conn: &mut TcpStream, buf: &mut Vec<u8>, req: &[u8]) -> Result<(u16, Vec<u8>)> {
    conn.write_all(req).await?;
    buf.clear();
    let mut tmp = [0u8; 8192];
    loop {
        let n = conn.read(&mut tmp).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end])?.to_ascii_lowercase();
            let status: u16 = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .context("bad status line")?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut tmp).await?;
                if n == 0 {
                    bail!("connection closed mid-body");
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            return Ok((status, buf[end + 4..end + 4 + len].to_vec()));
        }
    }
}

fn post(path: &str, token: Option<&str>, body: &str) -> Vec<u8> {
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn login(addr: SocketAddr) -> Result<String> {
    let mut c = TcpStream::connect(addr).await?;
    let mut buf = Vec::new();
    let (s, body) = exchange(
        &mut c,
        &mut buf,
        &post(
            "/api/v1/auth/login",
            None,
            r#"{"username":"bench","password":"Load-test-pw-2026"}"#,
        ),
    )
    .await?;
    if s != 200 {
        bail!("login failed: {s}");
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["token"].as_str().context("token")?.to_string())
}

/// (per second, p50 ms, p99 ms, count, errors)
async fn http_load(
    addr: SocketAddr,
    token: &str,
    bodies: &std::sync::Arc<Vec<String>>,
    seconds: u64,
    connections: usize,
) -> Result<(f64, f64, f64, usize, usize)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let token = token.to_string();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(addr).await?;
            conn.set_nodelay(true)?;
            let mut buf = Vec::with_capacity(16 * 1024);
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut i = 0usize;
            while Instant::now() < deadline {
                let body = &bodies[(c * 7919 + i) % bodies.len()];
                i += 1;
                let req = post("/api/v1/requests", Some(&token), body);
                let t = Instant::now();
                let (s, _) = exchange(&mut conn, &mut buf, &req).await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if s != 201 {
                    errors += 1;
                }
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        all.extend(l);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Ok((
        (all.len() - errors) as f64 / secs,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.len(),
        errors,
    ))
}
