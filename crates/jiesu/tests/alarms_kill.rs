//! 一键呼 under SIGKILL: `jiesu serve` consuming a private Mosquitto is killed several times
//! while `jiesu device simulate` publishes a burst of alarms (with device retries); afterwards
//! every alarm the simulator published is stored exactly once, and every alarm's clock fired
//! its escalation once although the servers that raised them died.

mod common;

use common::{BIN, add_user, login, serve};
use jiesu_server::mqtt::testing::Broker;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 什刹海街道 and a community in it.
const STREET: &str = "110102012";
const COMMUNITY: &str = "110102012001";
const DEVICES: u32 = 20;

fn start_server(db: &str, broker: &str) -> (Child, String) {
    serve(
        db,
        &["--sweep-every", "3600"],
        &[
            ("JIESU_MQTT", broker),
            // The same session across restarts: the broker keeps what arrives meanwhile.
            ("JIESU_MQTT_CLIENT_ID", "jiesu-kill-test"),
        ],
    )
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn call(
    client: &reqwest::Client,
    token: &str,
    method: &str,
    url: String,
    body: Value,
) -> Value {
    let r = client
        .request(method.parse().expect("method"), url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("call");
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(s.is_success(), "{s}: {v}");
    v
}

async fn scenario(db: &str) {
    let broker = Broker::start().await;
    add_user(db, "care-admin", "care_admin", None, &[]);
    let (mut server, mut base) = start_server(db, &broker.url());
    let client = reqwest::Client::new();
    let token = login(&client, &base, "care-admin").await;

    // Provisioning: a vendor, an elder, DEVICES devices; a short chain (2 s) so the clocks of
    // the burst's alarms fire while servers are being killed.
    call(
        &client,
        &token,
        "POST",
        format!("{base}/api/v1/devices/vendors"),
        json!({"code": "sim", "name": "模拟厂商"}),
    )
    .await;
    let elder = call(&client, &token, "POST", format!("{base}/api/v1/care/elders"), json!({
        "name": "赵淑珍", "id_number": jiesu_domain::care::person::with_check_character("11010219400101002"),
        "birth_date": "1940-01-01", "street": STREET, "community": COMMUNITY, "address": "后海北沿1号",
        "living_alone": true, "basic_service_object": false, "family": [], "medical_notes": "",
    })).await;
    for i in 1..=DEVICES {
        call(
            &client,
            &token,
            "POST",
            format!("{base}/api/v1/devices"),
            json!({
                "device_id": format!("SIM-{i:06}"), "vendor": "sim", "model": "SIM-1",
                "elder_id": elder["id"], "installed_on": "2026-01-05", "heartbeat_secs": 60,
            }),
        )
        .await;
    }
    call(
        &client,
        &token,
        "PUT",
        format!("{base}/api/v1/alarms/chains/{STREET}"),
        json!({
            "steps": [{"after_secs": 2, "notify": ["desk_supervisor"]}], "on_site_secs": 1800,
        }),
    )
    .await;

    // The burst: 6 s at 60 alarms/s, a tenth of them retried by their device.
    let sim = Command::new(BIN)
        .args([
            "device",
            "simulate",
            "--broker",
            &broker.url(),
            "--devices",
            &DEVICES.to_string(),
            "--alarms-per-s",
            "60",
            "--seconds",
            "6",
            "--duplicate-share",
            "0.1",
            "--malformed-share",
            "0",
            "--drain-secs",
            "30",
            "--prefix",
            "SIM",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn simulate");
    // Three kills during the burst, each followed by a restart on the same database.
    for wait_ms in [1200, 1200, 1500] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        kill(&mut server);
        (server, base) = start_server(db, &broker.url());
    }
    let out = tokio::task::spawn_blocking(move || sim.wait_with_output())
        .await
        .expect("join")
        .expect("simulate");
    let report: Value = serde_json::from_slice(&out.stdout).expect("simulate prints JSON");
    let unique = report["sent"]["alarms_unique"].as_i64().expect("unique");
    assert!(unique > 200, "{report}");
    assert!(report["sent"]["retries"].as_i64() > Some(0), "{report}");

    // Every published alarm stored exactly once (the unique index makes "twice" impossible;
    // the count shows none is missing).
    let token = login(&client, &base, "care-admin").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let total = loop {
        let v = call(
            &client,
            &token,
            "GET",
            format!("{base}/api/v1/alarms?scope=all&limit=1"),
            Value::Null,
        )
        .await;
        let total = v["total"].as_i64().unwrap_or(0);
        if total >= unique || Instant::now() > deadline {
            break total;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(total, unique, "stored vs published: {report}");
    eprintln!("published {unique} distinct alarms, stored {total}: {report}");

    // Every clock resumed: each alarm escalated once, whichever server raised it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let store = jiesu_store::Store::connect(db).await.expect("store");
    let (alarms, _) = store
        .list_cases::<jiesu_domain::alarms::Alarm>(&jiesu_store::CaseQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .expect("alarms");
    assert_eq!(alarms.len() as i64, unique);
    let not_once: Vec<(i64, u8)> = alarms
        .iter()
        .filter(|a| a.escalations != 1)
        .map(|a| (a.id, a.escalations))
        .collect();
    assert!(
        not_once.is_empty(),
        "alarms not escalated exactly once: {not_once:?}"
    );
    kill(&mut server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_servers_store_every_alarm_once() {
    let dir = std::env::temp_dir().join(format!("jiesu-alarm-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = format!("sqlite://{}", dir.join("kill.db").display());
    scenario(&db).await;
    let _ = std::fs::remove_dir_all(&dir);
}
