//! What the binary's own tests share: `jiesu serve` on a free port, accounts made through
//! `jiesu user add`, and logging in. Each test file uses a part of it.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_jiesu");
/// Meets the shipped password policy.
pub const PASSWORD: &str = "Correct-horse-battery";

pub fn world_dir() -> String {
    format!("{}/../../world/xicheng", env!("CARGO_MANIFEST_DIR"))
}

/// `jiesu user add` with `PASSWORD` on stdin; `env` reaches the process (a keyring, say).
pub fn add_user(db: &str, name: &str, role: &str, unit: Option<&str>, env: &[(&str, &str)]) {
    let mut args = vec![
        "user",
        "add",
        "--db",
        db,
        "--username",
        name,
        "--role",
        role,
        "--password-stdin",
    ];
    if let Some(u) = unit {
        args.extend(["--unit", u]);
    }
    let mut child = Command::new(BIN)
        .args(&args)
        .envs(env.iter().copied())
        .env("JIESU_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jiesu user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(PASSWORD.as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("user add");
    assert!(
        out.status.success(),
        "user add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `jiesu serve` on a free port with `extra` arguments and `env`; returns the process
/// and the base URL it prints (`http://…` or `https://…`).
pub fn serve(db: &str, extra: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = serve_command(db, extra, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jiesu serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the serving line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no address in `{line}`"))
        .to_string();
    (child, url)
}

/// `jiesu serve` on a free port with `extra` arguments and `env`, not yet started.
pub fn serve_command(db: &str, extra: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "serve",
        "--db",
        db,
        "--bind",
        "127.0.0.1:0",
        "--world",
        &world_dir(),
    ])
    .args(extra)
    .envs(env.iter().copied())
    .env("JIESU_LOG", "warn");
    c
}

/// A bearer token for `user` (retried while the server comes up).
pub async fn login(client: &reqwest::Client, base: &str, user: &str) -> String {
    for _ in 0..50 {
        if let Ok(r) = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            && let Ok(v) = r.json::<Value>().await
            && let Some(t) = v["token"].as_str()
        {
            return t.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot log in as {user}");
}
