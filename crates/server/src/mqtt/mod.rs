//! The MQTT door of 一键呼: subscribes to the devices' topics (`jiesu/v1/devices/+/alarm`,
//! `…/heartbeat`, `…/status`; see `jiesu_domain::alarms::message`) with QoS 1 on a persistent
//! session, hands each message to `jiesu_app::alarms::ingest::mqtt` and acknowledges it to the
//! broker only once that returned — for an alarm, once it is durable. While the store cannot
//! be reached the message is retried here and stays unacknowledged at the broker, so a crash
//! loses nothing: the broker redelivers and the (device, reference) dedupe stores it once.
//! Re-subscribes on every ConnAck; reconnects after a broker restart.

pub mod testing;

use jiesu_app::App;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::sync::Arc;
use std::time::Duration;

/// Messages worked at once; the broker's in-flight window bounds what arrives anyway.
const WORKERS: usize = 64;

/// Where the broker is and who we are on it.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// Stable across restarts: the broker keeps this session's unacknowledged messages.
    pub client_id: String,
}

impl MqttConfig {
    /// `mqtt://host[:port]` (1883 by default).
    pub fn from_url(url: &str, client_id: &str) -> Result<MqttConfig, String> {
        let rest = url
            .strip_prefix("mqtt://")
            .ok_or_else(|| format!("{url}: expected mqtt://host[:port]"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("{url}: bad port {p:?}"))?,
            ),
            None => (rest.to_string(), 1883),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        if client_id.is_empty() || client_id.len() > 64 {
            return Err("the MQTT client id must be 1–64 characters".into());
        }
        Ok(MqttConfig {
            host,
            port,
            client_id: client_id.to_string(),
        })
    }
}

const TOPICS: [&str; 3] = [
    "jiesu/v1/devices/+/alarm",
    "jiesu/v1/devices/+/heartbeat",
    "jiesu/v1/devices/+/status",
];

/// Runs the consumer until the process ends.
pub fn spawn(app: App, cfg: MqttConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut opts = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
        opts.set_keep_alive(Duration::from_secs(15))
            .set_clean_session(false)
            .set_manual_acks(true)
            // Larger than any payload we accept (4 KiB), so an oversized one is read, refused
            // and acknowledged instead of breaking the connection and coming back forever.
            .set_max_packet_size(1 << 20, 1 << 16)
            .set_request_channel_capacity(4 * WORKERS);
        let (client, mut eventloop) = AsyncClient::new(opts, 4 * WORKERS);
        let permits = Arc::new(tokio::sync::Semaphore::new(WORKERS));
        tracing::info!(host = %cfg.host, port = cfg.port, "MQTT consumer starting");
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(c))) => {
                    tracing::info!(session_present = c.session_present, "MQTT connected");
                    let subs = TOPICS
                        .iter()
                        .map(|t| rumqttc::SubscribeFilter::new(t.to_string(), QoS::AtLeastOnce));
                    if let Err(e) = client.try_subscribe_many(subs) {
                        tracing::warn!(error = %e, "MQTT subscribe failed");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    // The event loop never waits for a worker: it must keep polling to send
                    // the workers' acks and replies (and the pings), or all would stall. The
                    // broker's in-flight window bounds how many alarms wait here.
                    let (app, client, permits) = (app.clone(), client.clone(), permits.clone());
                    tokio::spawn(async move {
                        let Ok(_permit) = permits.acquire_owned().await else {
                            return;
                        };
                        handle(&app, &client, p).await;
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "MQTT connection lost; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    })
}

/// Ingests one message (retrying while the store is unreachable), answers the device, then
/// acknowledges to the broker.
async fn handle(app: &App, client: &AsyncClient, p: rumqttc::Publish) {
    let mut backoff = Duration::from_millis(100);
    let reply = loop {
        match jiesu_app::alarms::ingest::mqtt(app, &p.topic, &p.payload).await {
            Ok(r) => break r,
            Err(e) => {
                tracing::warn!(error = %e, topic = %p.topic, "MQTT message not stored yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    };
    if let Some((topic, reply)) = reply
        && let Ok(body) = serde_json::to_vec(&reply)
        && let Err(e) = client.publish(topic, QoS::AtLeastOnce, false, body).await
    {
        tracing::warn!(error = %e, "MQTT reply not sent");
    }
    if let Err(e) = client.ack(&p).await {
        tracing::warn!(error = %e, "MQTT ack not sent");
    }
}
