//! The benchmark commands run (their figures are read by people, not asserted): a short
//! `jiesu bench intake` on a fresh SQLite file creates its account under the password policy,
//! files through HTTP and prints its JSON.

use std::process::Command;

#[test]
fn bench_intake_runs_and_prints_its_figures() {
    let dir = std::env::temp_dir().join(format!("jiesu-bench-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = format!("sqlite://{}", dir.join("b.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_jiesu"))
        .args([
            "bench",
            "intake",
            "--db",
            &db,
            "--seconds",
            "1",
            "--connections",
            "2",
        ])
        .env("JIESU_LOG", "warn")
        .output()
        .expect("run jiesu bench intake");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON figures");
    assert!(v["http_requests"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(v["http_errors"], 0, "{v}");
    assert!(v["raw_inserts_per_s"].as_f64().unwrap_or(0.0) > 0.0, "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}
