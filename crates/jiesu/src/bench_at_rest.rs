//! `jiesu bench at-rest`: what security at rest costs. Intake through HTTP with callers sealed
//! under AES-256-GCM and SM4-GCM and without, in alternating rounds (each on a fresh SQLite
//! file, so no run inherits another's file size); the CPU cost of sealing, opening and
//! indexing one caller; and the audit chain's cost per write. Prints JSON with medians.

use anyhow::Result;
use jiesu_store::audit_chain::{ChainHash, link};
use jiesu_store::{Algorithm, AuditEntry, Keyring, Pii, Store};
use serde_json::{Value, json};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn keyring(alg: Algorithm) -> Pii {
    Pii::with_keyring(Keyring::from_toml(&Keyring::generate(alg, "bench")).expect("fresh keyring"))
}

/// Microseconds per caller (name and phone) to seal, to open, and to index the phone.
fn per_caller(pii: &Pii) -> Value {
    const N: usize = 50_000;
    let t = Instant::now();
    let mut sealed = Vec::with_capacity(N);
    for i in 0..N {
        let phone = format!("138{i:08}");
        sealed.push((
            pii.seal("caller.name", "王建国"),
            pii.seal("caller.phone", &phone),
        ));
    }
    let seal = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    let t = Instant::now();
    for (n, p) in &sealed {
        let _ = pii.open("caller.name", n).expect("opens");
        let _ = pii.open("caller.phone", p).expect("opens");
    }
    let open = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    let t = Instant::now();
    for i in 0..N {
        let _ = pii.phone_index(&format!("138{i:08}"));
    }
    let index = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    json!({
        "seal_us": round(seal, 2),
        "open_us": round(open, 2),
        "phone_index_us": round(index, 2),
        "sealed_bytes": sealed[0].0.len() + sealed[0].1.len(),
    })
}

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        at: jiff::Timestamp::now(),
        user_id: Some(1),
        username: "dispatcher@110102".into(),
        role: "dispatcher".into(),
        action: "view_caller_identity".into(),
        target_type: "request".into(),
        target_id: i.to_string(),
        detail: Some("request page".into()),
    }
}

/// The audit chain: the hash alone (µs per link) and a whole chained append (head read, link,
/// insert, commit; ms per write, one writer), for SHA-256 and SM3.
async fn audit_chain() -> Result<Value> {
    let mut out = serde_json::Map::new();
    for (name, alg) in [("sha256", ChainHash::Sha256), ("sm3", ChainHash::Sm3)] {
        const N: usize = 100_000;
        let e = entry(7);
        let mut prev = "genesis".to_string();
        let t = Instant::now();
        for seq in 1..=N as i64 {
            prev = link(alg, &prev, seq, 1_764_000_000_000, &e);
        }
        let hash_us = t.elapsed().as_secs_f64() * 1e6 / N as f64;

        let path = std::env::temp_dir().join(format!(
            "jiesu_bench_audit_{}_{name}.db",
            std::process::id()
        ));
        let url = format!("sqlite://{}", path.display());
        let store = Store::open_with(&url, Pii::off()).await?;
        const W: usize = 2_000;
        let mut lat = Vec::with_capacity(W);
        let t = Instant::now();
        for i in 0..W {
            let t1 = Instant::now();
            store.audit_with(&entry(i), alg).await?;
            lat.push(t1.elapsed().as_secs_f64() * 1e3);
        }
        let per_s = W as f64 / t.elapsed().as_secs_f64();
        let verify = Instant::now();
        let report = store.verify_audit().await?;
        let verify_ms = verify.elapsed().as_secs_f64() * 1e3;
        store.close().await;
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", path.display()));
        }
        let write_ms = median(lat);
        out.insert(
            name.into(),
            json!({
                "hash_us": round(hash_us, 3),
                "append_ms_p50": round(write_ms, 3),
                "appends_per_s": round(per_s, 1),
                "hash_share_of_append": round(hash_us / 1e3 / write_ms, 4),
                "verify_rows": report.rows,
                "verify_ms": round(verify_ms, 1),
            }),
        );
    }
    Ok(Value::Object(out))
}

pub async fn run(seconds: u64, connections: usize, rounds: usize) -> Result<()> {
    let cpu = json!({
        "aes-256-gcm": per_caller(&keyring(Algorithm::Aes256Gcm)),
        "sm4-gcm": per_caller(&keyring(Algorithm::Sm4Gcm)),
    });
    let modes: [(&str, Option<Algorithm>); 3] = [
        ("off", None),
        ("aes-256-gcm", Some(Algorithm::Aes256Gcm)),
        ("sm4-gcm", Some(Algorithm::Sm4Gcm)),
    ];
    let mut runs: Vec<Vec<Value>> = vec![Vec::new(); modes.len()];
    for round in 0..rounds.max(1) {
        for (i, (name, alg)) in modes.iter().enumerate() {
            let pii = alg.map(keyring).unwrap_or_else(Pii::off);
            let v = crate::bench::intake(None, seconds, connections, Some(pii)).await?;
            eprintln!(
                "round {}: {name}: {} creates/s",
                round + 1,
                v["http_creates_per_s"]
            );
            runs[i].push(v);
        }
    }
    let pick = |vs: &[Value], k: &str| median(vs.iter().filter_map(|v| v[k].as_f64()).collect());
    let mut intake = serde_json::Map::new();
    for (i, (name, _)) in modes.iter().enumerate() {
        intake.insert(
            (*name).into(),
            json!({
                "http_creates_per_s": round(pick(&runs[i], "http_creates_per_s"), 1),
                "http_p50_ms": pick(&runs[i], "http_p50_ms"),
                "http_p99_ms": pick(&runs[i], "http_p99_ms"),
                "http_errors": runs[i].iter().filter_map(|v| v["http_errors"].as_u64()).sum::<u64>(),
                "runs": runs[i].iter().map(|v| v["http_creates_per_s"].clone()).collect::<Vec<_>>(),
            }),
        );
    }
    let off = pick(&runs[0], "http_creates_per_s");
    let ratio = |i: usize| {
        if off > 0.0 {
            round(pick(&runs[i], "http_creates_per_s") / off, 3)
        } else {
            0.0
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "bench": "at-rest",
            "backend": "sqlite",
            "seconds": seconds,
            "connections": connections,
            "rounds": rounds,
            "intake": intake,
            "intake_vs_off": { "aes-256-gcm": ratio(1), "sm4-gcm": ratio(2) },
            "per_caller": cpu,
            "audit_chain": audit_chain().await?,
        }))?
    );
    Ok(())
}
