//! `jiesu device simulate`: drives N simulated 一键呼 devices on a broker — heartbeats at their
//! interval, alarms at a rate, some device retries (the same reference again) and some
//! malformed messages — listens for jiesu's replies, and prints what it sent and what came
//! back as JSON, so a run can be reconciled against the store.
//!
//! Devices `{prefix}-000001 …` must be registered for their alarms to be accepted
//! (`POST /api/v1/devices`); unregistered ones are answered `unknown_device`.

use anyhow::{Result, bail};
use jiesu_domain::alarms::message::{self, Channel, Reply, ReplyResult};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum DeviceCmd {
    /// Simulate devices on a broker and print what was sent and answered (JSON).
    Simulate {
        #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
        broker: String,
        #[arg(long, default_value_t = 100)]
        devices: u32,
        /// Alarms published per second (over all devices).
        #[arg(long, default_value_t = 1.0)]
        alarms_per_s: f64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Device ids are `{prefix}-000001` …
        #[arg(long, default_value = "SIM")]
        prefix: String,
        /// Seconds between a device's heartbeats (spread evenly over the interval).
        #[arg(long, default_value_t = 60)]
        heartbeat_secs: u64,
        /// Share of alarms sent twice (a device retrying the same reference).
        #[arg(long, default_value_t = 0.05)]
        duplicate_share: f64,
        /// Share of alarm messages that are malformed (broken JSON, a time in the future).
        #[arg(long, default_value_t = 0.02)]
        malformed_share: f64,
        /// Seconds to wait for outstanding replies after the last message.
        #[arg(long, default_value_t = 10)]
        drain_secs: u64,
        /// MQTT connections the devices share.
        #[arg(long, default_value_t = 4)]
        connections: u32,
        /// Seed of the run's choices (which device, which alarm is retried); references are
        /// unique per run anyway.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Default, Serialize)]
struct Sent {
    /// Distinct (device, reference) alarms published: what the store must hold once each.
    alarms_unique: u64,
    /// Alarm messages in all (retries included).
    alarm_messages: u64,
    retries: u64,
    malformed: u64,
    heartbeats: u64,
}

#[derive(Default, Serialize)]
struct Answered {
    accepted: u64,
    duplicate: u64,
    refused: u64,
    refused_by_code: HashMap<String, u64>,
    /// Unique alarms answered accepted or duplicate.
    unique_stored: u64,
    /// Unique alarms never answered (the store may still hold them: a reply can be lost).
    unique_unanswered: u64,
}

#[derive(Serialize)]
struct Latency {
    samples: usize,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    broker: String,
    devices: u32,
    seconds: u64,
    alarms_per_s: f64,
    run_id: String,
    sent: Sent,
    answered: Answered,
    /// From publishing an alarm to jiesu's reply (sent once the alarm is durable).
    publish_to_durable: Latency,
    heartbeats_per_s: f64,
}

/// splitmix64: a small, seedable generator; the run needs no cryptographic randomness.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    Some((sorted[i] * 10.0).round() / 10.0)
}

/// What the listener tracks per unique alarm: when it was first published, and whether answered.
#[derive(Default)]
struct Pending {
    sent_at: HashMap<String, Instant>,
    answered: HashMap<String, ReplyResult>,
    latencies: Vec<f64>,
    counts: Answered,
}

pub async fn run(cmd: DeviceCmd) -> Result<()> {
    let DeviceCmd::Simulate {
        broker,
        devices,
        alarms_per_s,
        seconds,
        prefix,
        heartbeat_secs,
        duplicate_share,
        malformed_share,
        drain_secs,
        connections,
        seed,
    } = cmd;
    if devices == 0 || devices > 1_000_000 {
        bail!("--devices: 1 to 1000000");
    }
    if !(0.0..=100_000.0).contains(&alarms_per_s) {
        bail!("--alarms-per-s: 0 to 100000");
    }
    if !(0.0..=1.0).contains(&duplicate_share) || !(0.0..=1.0).contains(&malformed_share) {
        bail!("--duplicate-share and --malformed-share: 0 to 1");
    }
    if connections == 0 || connections > 64 {
        bail!("--connections: 1 to 64");
    }
    let cfg = jiesu_server::mqtt::MqttConfig::from_url(&broker, "sim")
        .map_err(|e| anyhow::anyhow!("--broker: {e}"))?;
    let run_id = format!("{:x}", jiff::Timestamp::now().as_millisecond());
    let pending = Arc::new(Mutex::new(Pending::default()));

    // The listener: one connection subscribed to every device's reply topic.
    let (listener, mut lel) = {
        let mut o = MqttOptions::new(format!("sim-listen-{run_id}"), cfg.host.clone(), cfg.port);
        o.set_keep_alive(Duration::from_secs(30));
        AsyncClient::new(o, 1000)
    };
    listener
        .subscribe(format!("{}/+/reply", message::PREFIX), QoS::AtLeastOnce)
        .await?;
    let subscribed = Arc::new(tokio::sync::Notify::new());
    {
        let pending = pending.clone();
        let subscribed = subscribed.clone();
        tokio::spawn(async move {
            loop {
                match lel.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => subscribed.notify_one(),
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let Ok(r) = serde_json::from_slice::<Reply>(&p.payload) else {
                            continue;
                        };
                        let mut g = pending.lock().unwrap_or_else(|e| e.into_inner());
                        match r.result {
                            ReplyResult::Accepted => g.counts.accepted += 1,
                            ReplyResult::Duplicate => g.counts.duplicate += 1,
                            ReplyResult::Refused => {
                                g.counts.refused += 1;
                                *g.counts
                                    .refused_by_code
                                    .entry(r.code.clone().unwrap_or_default())
                                    .or_default() += 1;
                            }
                        }
                        let Some(reference) = r.reference else {
                            continue;
                        };
                        let key = format!("{}|{reference}", p.topic);
                        if r.result != ReplyResult::Refused && !g.answered.contains_key(&key) {
                            if let Some(t) = g.sent_at.get(&key) {
                                let ms = t.elapsed().as_secs_f64() * 1000.0;
                                g.latencies.push(ms);
                            }
                            g.answered.insert(key, r.result);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), subscribed.notified()).await;

    // The publishers: `connections` clients sharing the devices.
    let mut clients = Vec::new();
    for c in 0..connections {
        let mut o = MqttOptions::new(format!("sim-{run_id}-{c}"), cfg.host.clone(), cfg.port);
        o.set_keep_alive(Duration::from_secs(30))
            .set_inflight(1000)
            .set_request_channel_capacity(10_000);
        let (client, mut el) = AsyncClient::new(o, 10_000);
        tokio::spawn(async move {
            loop {
                if el.poll().await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        clients.push(client);
    }
    let device = |i: u32| format!("{prefix}-{:06}", i + 1);
    let mut rng = Rng(seed);
    let mut sent = Sent::default();
    let started = Instant::now();
    let tick = Duration::from_millis(10);
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total_ticks = seconds * 100;
    let (mut alarm_budget, mut hb_budget) = (0.0f64, 0.0f64);
    let hb_per_tick = f64::from(devices) / (heartbeat_secs.max(1) as f64 * 100.0);
    let mut hb_next: u32 = 0;
    let mut retry_queue: Vec<(u64, String, Vec<u8>)> = Vec::new();
    let mut n_alarm: u64 = 0;
    for t in 0..total_ticks {
        ticker.tick().await;
        let client = &clients[(t % u64::from(connections)) as usize];
        hb_budget += hb_per_tick;
        while hb_budget >= 1.0 {
            hb_budget -= 1.0;
            let d = device(hb_next % devices);
            hb_next = hb_next.wrapping_add(1);
            let battery = 20 + (rng.next() % 80) as u8;
            let body = format!(r#"{{"battery":{battery},"signal":-70}}"#);
            if client
                .try_publish(
                    message::topic(&d, Channel::Heartbeat),
                    QoS::AtMostOnce,
                    false,
                    body,
                )
                .is_ok()
            {
                sent.heartbeats += 1;
            }
        }
        alarm_budget += alarms_per_s / 100.0;
        while alarm_budget >= 1.0 {
            alarm_budget -= 1.0;
            let d = device((rng.next() % u64::from(devices)) as u32);
            let topic = message::topic(&d, Channel::Alarm);
            if rng.unit() < malformed_share {
                let body: Vec<u8> = if rng.next().is_multiple_of(2) {
                    b"{\"reference\": \"broken".to_vec()
                } else {
                    let future = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
                    format!(r#"{{"reference":"bad-{run_id}-{n_alarm}","status_code":"button","time":"{future}"}}"#).into_bytes()
                };
                n_alarm += 1;
                if client
                    .publish(topic, QoS::AtLeastOnce, false, body)
                    .await
                    .is_ok()
                {
                    sent.malformed += 1;
                }
                continue;
            }
            let reference = format!("{run_id}-{n_alarm}");
            n_alarm += 1;
            let code = ["button", "button", "button", "fall", "inactivity", "smoke"]
                [(rng.next() % 6) as usize];
            let body = format!(
                r#"{{"reference":"{reference}","device_type":"pendant","status_code":"{code}","time":"{}"}}"#,
                jiff::Timestamp::now()
            )
            .into_bytes();
            let key = format!("{}|{reference}", message::reply_topic(&d));
            pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .sent_at
                .insert(key, Instant::now());
            if client
                .publish(topic.clone(), QoS::AtLeastOnce, false, body.clone())
                .await
                .is_ok()
            {
                sent.alarms_unique += 1;
                sent.alarm_messages += 1;
                if rng.unit() < duplicate_share {
                    // The device retries a little later, as one that missed its answer would.
                    retry_queue.push((t + 20 + rng.next() % 100, topic, body));
                }
            }
        }
        let (due, later): (Vec<_>, Vec<_>) = retry_queue.drain(..).partition(|(at, ..)| *at <= t);
        retry_queue = later;
        for (_, topic, body) in due {
            if client
                .publish(topic, QoS::AtLeastOnce, false, body)
                .await
                .is_ok()
            {
                sent.retries += 1;
                sent.alarm_messages += 1;
            }
        }
    }
    for (_, topic, body) in retry_queue.drain(..) {
        if clients[0]
            .publish(topic, QoS::AtLeastOnce, false, body)
            .await
            .is_ok()
        {
            sent.retries += 1;
            sent.alarm_messages += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Wait for the answers.
    let deadline = Instant::now() + Duration::from_secs(drain_secs);
    loop {
        let done = {
            let g = pending.lock().unwrap_or_else(|e| e.into_inner());
            g.answered.len() as u64 >= sent.alarms_unique
        };
        if done || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut g = pending.lock().unwrap_or_else(|e| e.into_inner());
    let mut lat = std::mem::take(&mut g.latencies);
    lat.sort_by(f64::total_cmp);
    let mut answered = std::mem::take(&mut g.counts);
    answered.unique_stored = g.answered.len() as u64;
    answered.unique_unanswered = sent.alarms_unique.saturating_sub(answered.unique_stored);
    let report = Report {
        broker,
        devices,
        seconds,
        alarms_per_s,
        run_id,
        heartbeats_per_s: (sent.heartbeats as f64 / elapsed * 10.0).round() / 10.0,
        sent,
        answered,
        publish_to_durable: Latency {
            samples: lat.len(),
            p50_ms: percentile(&lat, 0.5),
            p99_ms: percentile(&lat, 0.99),
            max_ms: lat.last().map(|m| (m * 10.0).round() / 10.0),
        },
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
