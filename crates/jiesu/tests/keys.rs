//! `jiesu keys` through the real binary: a keyring made (owner-only, never overwritten), a
//! database that ran without one sealed by `rotate`, a key added and rotated to, the old key
//! retired, and a server without the keyring refused.

use jiesu_domain::lifecycle::{Caller, Intake};
use jiesu_domain::{Actor, Channel, Directory, RequestType, Role};
use jiesu_store::{NewRequest, Pii, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_jiesu");
const PHONE: &str = "13911112222";

fn run(args: &[&str], keyring: Option<&Path>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("JIESU_LOG", "warn")
        .env_remove("JIESU_PII_KEYRING")
        .env_remove("JIESU_PII_KEY_FILE");
    if let Some(k) = keyring {
        c.env("JIESU_PII_KEY_FILE", k);
    }
    c.output().expect("run jiesu")
}

fn json_of(args: &[&str], keyring: Option<&Path>) -> Value {
    let out = run(args, keyring);
    assert!(
        out.status.success(),
        "jiesu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng")
}

async fn plaintext_request(url: &str) {
    let dir = Directory::new(jiesu_world::load_dir(&world()).expect("world"));
    let store = Store::open_with(url, Pii::off()).await.expect("open");
    store
        .create_request(NewRequest {
            dir: &dir,
            actor: &Actor {
                user_id: None,
                username: "operator".into(),
                role: Role::Operator,
                unit: None,
            },
            intake: Intake {
                request_type: RequestType::Complaint,
                channel: Channel::Hotline,
                category: Some("property.service".into()),
                street: Some("110102012".into()),
                community: Some("110102012001".into()),
                address: None,
                title: None,
                text: "楼道灯不亮。".into(),
                caller: Caller {
                    name: Some("赵六".into()),
                    phone: Some(PHONE.into()),
                },
                urgent: false,
                received_at: jiff::Timestamp::now(),
            },
            idempotency_key: None,
            follow_up: None,
            suggestion: None,
            now: jiff::Timestamp::now(),
        })
        .await
        .expect("create");
    store.close().await;
}

fn on_disk(db: &Path, needle: &str) -> bool {
    let mut bytes = Vec::new();
    for s in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{s}", db.display())) {
            bytes.extend(b);
        }
    }
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn count(status: &Value, key: &str) -> u64 {
    status["values_by_key"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p[0] == key)
        .and_then(|p| p[1].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_new_rotate_add_and_refuse() {
    let dir = std::env::temp_dir().join(format!("jiesu-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let ring = dir.join("pii.keys");
    let db_path = dir.join("k.db");
    let db = format!("sqlite://{}", db_path.display());
    let ring_s = ring.to_str().expect("path");

    let made = json_of(&["keys", "new", "--out", ring_s, "--id", "k1"], None);
    assert_eq!(made["active"], "k1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ring).expect("ring").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a keyring is for its owner only");
    }
    let again = run(&["keys", "new", "--out", ring_s], None);
    assert!(
        !again.status.success(),
        "a keyring must never be overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // A district that ran without a keyring.
    plaintext_request(&db).await;
    assert!(on_disk(&db_path, PHONE));
    let status = json_of(&["keys", "status", "--db", &db], Some(&ring));
    assert_eq!(count(&status, "plaintext"), 4, "{status}");

    let r = json_of(&["keys", "rotate", "--db", &db], Some(&ring));
    assert_eq!(
        (r["states"].as_u64(), r["events"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert!(
        !on_disk(&db_path, PHONE),
        "the phone is still on disk after rotate"
    );

    // Without the keyring the database no longer opens for serving.
    let refused = run(
        &[
            "serve",
            "--db",
            &db,
            "--bind",
            "127.0.0.1:0",
            "--world",
            world().to_str().expect("p"),
        ],
        None,
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("JIESU_PII_KEY_FILE"), "{err}");

    // A new key: it seals after the next rotate; the first is retired then.
    let added = json_of(
        &[
            "keys",
            "add",
            "--file",
            ring_s,
            "--algorithm",
            "sm4-gcm",
            "--id",
            "k2",
        ],
        None,
    );
    assert_eq!(added["active"], "k2");
    let r = json_of(&["keys", "rotate", "--db", &db], Some(&ring));
    assert_eq!(r["states"].as_u64(), Some(1), "{r}");
    assert_eq!(r["retired"], serde_json::json!(["k1"]));
    let status = json_of(&["keys", "status", "--db", &db], Some(&ring));
    assert_eq!(count(&status, "k2"), 4, "{status}");
    assert_eq!(status["stale_indexes"], 0);
    let bad = run(&["keys", "add", "--file", ring_s, "--id", "k2"], None);
    assert!(!bad.status.success(), "a key id twice");
    let _ = std::fs::remove_dir_all(&dir);
}
