//! `jiesu bench alarms`: a burst of 一键呼 alarms while a fleet heartbeats. Provisions a fresh
//! database (elders, a vendor, `--devices` devices), starts `jiesu serve` consuming the broker
//! as a separate process, drives it with `jiesu device simulate`, and prints JSON: alarm
//! published → durable (jiesu answers the device only once the case is committed, and the
//! desk's feed reads the same rows) p50/p99, heartbeats/s sustained, the server's CPU and peak
//! memory, and whether every distinct alarm was stored.

use anyhow::{Context, Result, bail};
use jiesu_domain::alarms::device::VendorInput;
use jiesu_domain::care::person::{ElderInput, with_check_character};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct AlarmBench {
    /// Database (default: a new SQLite file in the temp folder). A postgres:// URL must name an
    /// empty database.
    #[arg(long)]
    pub db: Option<String>,
    /// A broker to use (default: a private Mosquitto started for the run, with no queue limit
    /// and 1,000 messages in flight; a stock broker's 20 in flight and 1,000 queued bound
    /// what any consumer can take and drop the rest of a burst).
    #[arg(long)]
    pub broker: Option<String>,
    #[arg(long, default_value_t = 50_000)]
    pub devices: u32,
    #[arg(long, default_value_t = 1000.0)]
    pub alarms_per_s: f64,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

/// utime + stime of a process, in seconds (Linux /proc).
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Peak resident memory of a process, MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn elder(app: &jiesu_app::App, n: usize) -> ElderInput {
    let c = &app.dir.world.communities[n % app.dir.world.communities.len()];
    ElderInput {
        name: format!("测试老人{n}"),
        id_number: with_check_character(&format!("110102193801{:05}", 1000 + n)),
        phone: None,
        birth_date: "1938-01-01".parse().expect("date"),
        street: c.street_code.clone(),
        community: c.code.clone(),
        address: "测试地址".into(),
        living_alone: true,
        basic_service_object: false,
        subsidies: Vec::new(),
        family: Vec::new(),
        care_manager: None,
        medical_notes: String::new(),
        consent: None,
    }
}

pub async fn run(b: AlarmBench) -> Result<()> {
    if b.devices == 0 {
        bail!("--devices: at least 1");
    }
    let tmp = std::env::temp_dir().join(format!("jiesu-bench-alarms-{}", std::process::id()));
    let db = match &b.db {
        Some(d) => d.clone(),
        None => {
            std::fs::create_dir_all(&tmp)?;
            format!("sqlite://{}", tmp.join("bench.db").display())
        }
    };
    let t = Instant::now();
    let app = crate::open_app(&db, None).await?;
    let elders: Vec<ElderInput> = (0..200).map(|n| elder(&app, n)).collect();
    let today = app.dir.calendar.local_date(app.now());
    let ids = jiesu_app::console::load_elders(&app, &elders, today).await?;
    let vendor = VendorInput {
        code: "bench".into(),
        name: "基准测试厂商".into(),
    };
    jiesu_app::console::provision_devices(&app, &vendor, "SIM", b.devices, &ids, today).await?;
    let provision_secs = t.elapsed().as_secs_f64();
    drop(app);

    let private = match &b.broker {
        Some(_) => None,
        None => Some(jiesu_server::mqtt::testing::Broker::start().await),
    };
    let broker = b
        .broker
        .clone()
        .or_else(|| private.as_ref().map(|p| p.url()))
        .context("no broker")?;
    let exe = std::env::current_exe()?;
    let client_id = format!("jiesu-bench-{}", std::process::id());
    let mut server = Command::new(&exe)
        .args([
            "serve",
            "--db",
            &db,
            "--bind",
            "127.0.0.1:0",
            "--sweep-every",
            "3600",
        ])
        .env("JIESU_MQTT", &broker)
        .env("JIESU_MQTT_CLIENT_ID", &client_id)
        .env("JIESU_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting jiesu serve")?;
    let mut line = String::new();
    BufReader::new(server.stdout.take().context("stdout")?).read_line(&mut line)?;
    let pid = server.id();
    // Let it connect and subscribe.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu0 = cpu_secs(pid).unwrap_or(0.0);
    let wall = Instant::now();
    let out = Command::new(&exe)
        .args([
            "device",
            "simulate",
            "--broker",
            &broker,
            "--devices",
            &b.devices.to_string(),
            "--alarms-per-s",
            &b.alarms_per_s.to_string(),
            "--seconds",
            &b.seconds.to_string(),
            "--malformed-share",
            "0",
            "--duplicate-share",
            "0.02",
            "--drain-secs",
            "60",
            "--connections",
            "8",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("running jiesu device simulate")?;
    let wall_secs = wall.elapsed().as_secs_f64();
    let cpu = cpu_secs(pid).unwrap_or(0.0) - cpu0;
    let peak = peak_rss_mib(pid);
    let _ = server.kill();
    let _ = server.wait();
    let sim: Value = serde_json::from_slice(&out.stdout).context("the simulator's JSON")?;
    let report = json!({
        "benchmark": "alarms",
        "backend": if db.starts_with("postgres") { "postgres" } else { "sqlite" },
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "devices": b.devices,
        "alarms_per_s_offered": b.alarms_per_s,
        "seconds": b.seconds,
        "provision_secs": (provision_secs * 10.0).round() / 10.0,
        "publish_to_durable_ms": sim["publish_to_durable"],
        "alarms_published": sim["sent"]["alarms_unique"],
        "alarms_answered": sim["answered"]["unique_stored"],
        "alarms_unanswered": sim["answered"]["unique_unanswered"],
        "heartbeats_per_s": sim["heartbeats_per_s"],
        "server_cpu_pct_of_one_core": ((cpu / wall_secs) * 1000.0).round() / 10.0,
        "server_peak_rss_mib": peak,
        "wall_secs": (wall_secs * 10.0).round() / 10.0,
    });
    drop(private);
    println!("{}", serde_json::to_string_pretty(&report)?);
    if b.db.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}
