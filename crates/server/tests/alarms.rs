//! 一键呼 against a real Mosquitto broker (a private one per test, on its own port and
//! persistence folder, so it can be restarted) on every backend: an alarm becomes a durable case
//! and the device is answered; a retry is stored once; malformed messages are refused and
//! counted without blocking the good ones; the broker restarted and the consumer killed with
//! nothing lost; the acknowledgement clock and escalation chain firing once each across a
//! restart; a vendor's signed HTTP post; the desk's steps to a linked 12345 request; heartbeats,
//! silence and battery faults; the month's KPIs.

mod common;

use common::*;
use jiesu_domain::alarms::Alarm;
use jiesu_server::mqtt::testing::Broker;
use reqwest::StatusCode;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::time::Duration;

/// A device on the broker: publishes with QoS 1 and collects jiesu's replies.
struct DeviceClient {
    client: AsyncClient,
    replies: tokio::sync::mpsc::UnboundedReceiver<Value>,
}

impl DeviceClient {
    async fn connect(port: u16, id: &str, reply_topic: &str) -> DeviceClient {
        let mut o = MqttOptions::new(id, "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(5));
        let (client, mut el) = AsyncClient::new(o, 100);
        let (tx, replies) = tokio::sync::mpsc::unbounded_channel();
        let (subbed_tx, mut subbed) = tokio::sync::mpsc::unbounded_channel();
        let topic = reply_topic.to_string();
        let c2 = client.clone();
        tokio::spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = c2.try_subscribe(topic.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subbed_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if let Ok(v) = serde_json::from_slice::<Value>(&p.payload) {
                            let _ = tx.send(v);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subbed.recv())
            .await
            .expect("device subscribed");
        DeviceClient { client, replies }
    }

    async fn publish(&self, topic: &str, body: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, body.into())
            .await
            .expect("publish");
    }

    async fn reply(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(20), self.replies.recv())
            .await
            .expect("a reply within 20 s")
            .expect("reply channel open")
    }
}

fn alarm_body(reference: &str, time: &str) -> String {
    json!({"reference": reference, "device_type": "pendant", "status_code": "button", "time": time})
        .to_string()
}

async fn alarm_count(app: &App, device: &str, reference: &str) -> usize {
    usize::from(
        app.store
            .case_by_code::<Alarm>(&format!("{device}:{reference}"))
            .await
            .expect("lookup")
            .is_some(),
    )
}

async fn event_names(app: &App, id: i64) -> Vec<String> {
    app.store
        .case_events::<Alarm>(id)
        .await
        .expect("events")
        .iter()
        .map(|e| <Alarm as jiesu_domain::CaseKind>::event_name(&e.payload).to_string())
        .collect()
}

fn elder(id_body: &str) -> Value {
    json!({
        "name": "王桂兰", "id_number": jiesu_domain::care::person::with_check_character(id_body),
        "phone": "13900003333", "birth_date": "1938-05-06",
        "street": STREET, "community": COMMUNITY, "address": "前海北沿8号院2号楼101",
        "living_alone": true, "basic_service_object": false,
        "family": [{"name": "王强", "relation": "儿子", "phone": "13700004444"}],
        "care_manager": "care-manager", "medical_notes": "冠心病，随身带硝酸甘油",
        "consent": {"date": "2026-10-01", "scope": ["基本信息", "健康信息"]},
    })
}

async fn step(app: &App, id: i64, body: Value) -> (StatusCode, Value) {
    app.post("operator", &format!("/api/v1/alarms/{id}/steps"), body)
        .await
}

async fn scenario(app: &App) {
    let mut broker = Broker::start().await;
    let client_id = format!("jiesu-test-{}-{}", app.backend(), broker.port);
    let cfg = jiesu_server::mqtt::MqttConfig::from_url(
        &format!("mqtt://127.0.0.1:{}", broker.port),
        &client_id,
    )
    .expect("config");
    let consumer = jiesu_server::mqtt::spawn(app.app.clone(), cfg.clone());

    // -- provisioning: a vendor, an elder, a device in the elder's home --
    let (s, v) = app
        .post(
            "care-admin",
            "/api/v1/devices/vendors",
            json!({"code": "acme", "name": "Acme 一键呼"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let secret = v["secret"].as_str().expect("secret").to_string();
    let (s, v) = app
        .post(
            "care-admin",
            "/api/v1/care/elders",
            elder("11010219380506002"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let elder_id = v["id"].as_i64().expect("elder id");
    let device = json!({"device_id": "YJH-0001", "vendor": "acme", "model": "AK-100", "elder_id": elder_id,
        "installed_on": "2026-10-01", "room": "卧室", "heartbeat_secs": 60});
    let (s, v) = app
        .post("care-admin", "/api/v1/devices", device.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["street"], STREET, "{v}");
    // Refusals name the field and store nothing.
    let (s, v) = app
        .post("care-admin", "/api/v1/devices", device.clone())
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate")),
        "{v}"
    );
    let mut bad = device.clone();
    bad["device_id"] = json!("bad/id");
    let (s, v) = app.post("care-admin", "/api/v1/devices", bad).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("device_id")),
        "{v}"
    );
    let mut bad = device.clone();
    bad["device_id"] = json!("YJH-0002");
    bad["vendor"] = json!("nobody");
    let (s, v) = app.post("care-admin", "/api/v1/devices", bad).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("vendor")),
        "{v}"
    );
    let (s, _) = app.post("handler", "/api/v1/devices", device.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // -- an alarm over MQTT: durable case, then the answer on the reply topic --
    let now = app.app.now().to_string();
    let mut dev = DeviceClient::connect(
        broker.port,
        &format!("dev-{client_id}"),
        "jiesu/v1/devices/YJH-0001/reply",
    )
    .await;
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", alarm_body("R1", &now))
        .await;
    let r = dev.reply().await;
    assert_eq!(r["result"], "accepted", "{r}");
    let id = r["alarm_id"].as_i64().expect("alarm id");
    assert_eq!(alarm_count(app, "YJH-0001", "R1").await, 1);
    let (s, desk) = app.get("operator", "/api/v1/alarms").await;
    assert_eq!(s, StatusCode::OK, "{desk}");
    assert_eq!(desk["items"][0]["id"], id, "{desk}");
    assert_eq!(desk["items"][0]["status"], "raised");
    assert_eq!(desk["items"][0]["street"], STREET);

    // A device retry (the same reference) is stored once and answered with the first id.
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", alarm_body("R1", &now))
        .await;
    let r = dev.reply().await;
    assert_eq!(
        (r["result"].as_str(), r["alarm_id"].as_i64()),
        (Some("duplicate"), Some(id)),
        "{r}"
    );

    // Malformed, unknown and far-future messages are refused and counted; the good one behind
    // them is stored.
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", "{not json")
        .await;
    assert_eq!(dev.reply().await["code"], "bad_json");
    let future = (app.app.now() + jiff::SignedDuration::from_hours(3)).to_string();
    dev.publish(
        "jiesu/v1/devices/YJH-0001/alarm",
        alarm_body("R-future", &future),
    )
    .await;
    assert_eq!(dev.reply().await["code"], "time_in_future");
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", vec![b'x'; 8000])
        .await;
    assert_eq!(dev.reply().await["code"], "too_long");
    dev.publish("jiesu/v1/devices/NOPE-9/alarm", alarm_body("R9", &now))
        .await;
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", alarm_body("R2", &now))
        .await;
    let r = dev.reply().await;
    assert_eq!(r["result"], "accepted", "{r}");
    let id2 = r["alarm_id"].as_i64().expect("id2");
    let (s, stats) = app.get("care-admin", "/api/v1/devices/ingest-stats").await;
    assert_eq!(s, StatusCode::OK);
    for code in ["bad_json", "time_in_future", "too_long", "unknown_device"] {
        assert!(
            stats["refused"][code].as_u64() >= Some(1),
            "{code}: {stats}"
        );
    }
    assert_eq!(stats["accepted"], 2, "{stats}");
    assert_eq!(stats["duplicates"], 1, "{stats}");

    // -- the broker restarted mid-run: the consumer reconnects and re-subscribes --
    broker.restart().await;
    let mut dev = DeviceClient::connect(
        broker.port,
        &format!("dev2-{client_id}"),
        "jiesu/v1/devices/YJH-0001/reply",
    )
    .await;
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", alarm_body("R3", &now))
        .await;
    let r = dev.reply().await;
    assert_eq!(r["result"], "accepted", "after a broker restart: {r}");

    // -- the server killed: what arrives meanwhile waits at the broker for the same session --
    consumer.abort();
    tokio::time::sleep(Duration::from_millis(200)).await;
    dev.publish("jiesu/v1/devices/YJH-0001/alarm", alarm_body("R4", &now))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(alarm_count(app, "YJH-0001", "R4").await, 0);
    let consumer = jiesu_server::mqtt::spawn(app.app.clone(), cfg);
    let r = dev.reply().await;
    assert_eq!(r["result"], "accepted", "delivered after the restart: {r}");
    assert_eq!(alarm_count(app, "YJH-0001", "R4").await, 1);

    // -- a vendor platform's signed post: the same dedupe --
    let body =
        json!({"device_id": "YJH-0001", "reference": "H1", "status_code": "fall", "time": now})
            .to_string();
    let post = |vendor: &'static str, sig: String, body: String| {
        let c = app.client.clone();
        let url = format!("{}/api/v1/devices/alarms", app.base);
        async move {
            let r = c
                .post(url)
                .header("content-type", "application/json")
                .header("x-jiesu-vendor", vendor)
                .header("x-jiesu-signature", sig)
                .body(body)
                .send()
                .await
                .expect("post");
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let t = app.app.now().as_second();
    let sig = jiesu_app::sign::signature_header(&secret, t, body.as_bytes());
    let (s, v) = post("acme", sig.clone(), body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["result"], "accepted");
    let h1 = v["alarm_id"].as_i64().expect("h1");
    let (s, v) = post("acme", sig.clone(), body.clone()).await;
    assert_eq!(
        (s, v["alarm_id"].as_i64()),
        (StatusCode::OK, Some(h1)),
        "{v}"
    );
    let (s, v) = post(
        "acme",
        jiesu_app::sign::signature_header("wrong", t, body.as_bytes()),
        body.clone(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_signature")),
        "{v}"
    );
    let (s, v) = post("nobody", sig.clone(), body.clone()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unknown_vendor")),
        "{v}"
    );
    let stale = jiesu_app::sign::signature_header(&secret, t - 3600, body.as_bytes());
    let (s, _) = post("acme", stale, body.clone()).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an hour-old signature is a replay"
    );
    let other =
        json!({"device_id": "NOPE-9", "reference": "H2", "status_code": "fall", "time": now})
            .to_string();
    let (s, v) = post(
        "acme",
        jiesu_app::sign::signature_header(&secret, t, other.as_bytes()),
        other,
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("device_id")),
        "{v}"
    );

    // -- the acknowledgement clock and the chain: each step once, across a restart --
    let at = |secs: i64| app.app.now() + jiff::SignedDuration::from_secs(secs);
    app.store
        .sweep_case_timers::<Alarm>(at(61))
        .await
        .expect("sweep");
    app.store
        .sweep_case_timers::<Alarm>(at(61))
        .await
        .expect("sweep");
    let again = jiesu_store::Store::connect_with(&app.db_url(), jiesu_store::testing::test_pii())
        .await
        .expect("reconnect");
    again
        .sweep_case_timers::<Alarm>(at(62))
        .await
        .expect("sweep");
    let names = event_names(app, id2).await;
    assert_eq!(
        names.iter().filter(|n| *n == "alarm.escalated").count(),
        1,
        "{names:?}"
    );
    // Two servers at 181 s: the second step fires once.
    let (a, b) = tokio::join!(
        app.store.sweep_case_timers::<Alarm>(at(181)),
        again.sweep_case_timers::<Alarm>(at(181))
    );
    a.expect("sweep");
    b.expect("sweep");
    let names = event_names(app, id2).await;
    assert_eq!(
        names.iter().filter(|n| *n == "alarm.escalated").count(),
        2,
        "{names:?}"
    );

    // -- the desk: acknowledge, contact, dispatch, on site, resolve, follow up --
    let (s, v) = step(app, id, json!({"action": "acknowledge"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = step(app, id, json!({"action": "acknowledge"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition")),
        "{v}"
    );
    let (s, v) = step(
        app,
        id,
        json!({"action": "dispatch", "responder": "nobody"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Nobody on site within 30 minutes of acknowledging re-escalates, once per limit.
    let acked = app
        .store
        .get_case::<Alarm>(id)
        .await
        .expect("get")
        .expect("alarm")
        .acknowledged_at
        .expect("acked");
    let late = acked + jiff::SignedDuration::from_secs(1801);
    app.store
        .sweep_case_timers::<Alarm>(late)
        .await
        .expect("sweep");
    again.sweep_case_timers::<Alarm>(late).await.expect("sweep");
    let names = event_names(app, id).await;
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "alarm.on_site_overdue")
            .count(),
        1,
        "{names:?}"
    );
    for body in [
        json!({"action": "contact", "reached": true, "note": "老人说胸口疼"}),
        json!({"action": "dispatch", "responder": "transfer_999", "note": "已转999"}),
        json!({"action": "on_site"}),
        json!({"action": "resolve", "outcome": "taken_to_hospital", "note": "送人民医院"}),
    ] {
        let (s, v) = step(app, id, body.clone()).await;
        assert_eq!(s, StatusCode::OK, "{body}: {v}");
    }
    let (s, v) = step(app, id, json!({"action": "follow_up"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let request_id = v["request_id"].as_i64().expect("linked request");
    let (s, req) = app
        .get("dispatcher", &format!("/api/v1/requests/{request_id}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{req}");
    assert_eq!(req["intake"]["channel"], "device", "{req}");
    assert_eq!(req["intake"]["urgent"], true, "{req}");
    assert_eq!(req["intake"]["street"], STREET, "{req}");
    let (s, v) = step(app, id, json!({"action": "follow_up"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_linked")),
        "{v}"
    );
    // The elder's profile is one glance away on the desk, and viewing it is audited.
    let (s, detail) = app.get("operator", &format!("/api/v1/alarms/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    assert_eq!(
        detail["elder"]["medical_notes"], "冠心病，随身带硝酸甘油",
        "{detail}"
    );
    assert_eq!(detail["elder"]["masked"], false);
    assert!(
        detail["events"].as_array().is_some_and(|e| e.len() >= 7),
        "{detail}"
    );
    // Not the desk's: a handler may not, a care manager of another street does not see it.
    let (s, _) = app.get("handler", &format!("/api/v1/alarms/{id}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // -- heartbeats: online once, silent → offline with a task, a low battery opens a task --
    dev.publish("jiesu/v1/devices/YJH-0001/heartbeat", r#"{"battery":85}"#)
        .await;
    dev.publish("jiesu/v1/devices/YJH-0001/heartbeat", r#"{"battery":12}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The server's clock task writes transitions each second; here the test flushes.
    app.app.alarms.live.flush(&app.app).await.expect("flush");
    let (_, d) = app.get("care-manager", "/api/v1/devices/YJH-0001").await;
    assert_eq!(d["device"]["online"], true, "{d}");
    let (_, faults) = app.get("care-manager", "/api/v1/devices/faults").await;
    assert!(
        faults
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["kind"] == "battery_low")),
        "{faults}"
    );
    app.clock
        .set(app.app.now() + jiff::SignedDuration::from_secs(181));
    app.app
        .alarms
        .live
        .sweep(&app.app)
        .await
        .expect("liveness sweep");
    let (_, d) = app.get("care-manager", "/api/v1/devices/YJH-0001").await;
    assert_eq!(d["device"]["online"], false, "{d}");
    assert_eq!(d["transitions"][0]["reason"], "silent", "{d}");
    let (_, offline) = app
        .get("care-manager", "/api/v1/devices?online=false")
        .await;
    assert_eq!(offline["total"], 1, "{offline}");

    // -- the month's KPIs --
    let (s, k) = app
        .get("care-admin", "/api/v1/alarms/kpis?month=2026-11")
        .await;
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!(k["alarms"], 5, "{k}");
    // Every alarm waited past 60 s on this test's still clock.
    assert_eq!(k["escalated"], 5, "{k}");
    assert_eq!(k["devices"], 1, "{k}");
    let (s, _) = app
        .get("care-admin", "/api/v1/alarms/kpis?month=2026-13")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    consumer.abort();
}

#[tokio::test]
async fn alarms_over_mqtt_and_http() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    on_every_backend!(scenario);
}
