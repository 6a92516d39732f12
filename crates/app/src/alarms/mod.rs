//! 一老一小 (2): 一键呼 emergency buttons — the device registry, ingestion from MQTT and from
//! vendors' signed HTTP posts, devices' liveness and faults, the alarm desk (alarms are a kind
//! of case on the one engine: `jiesu_domain::alarms::Alarm`) and its KPIs.
//!
//! An alarm is stored once: its index code is `device:reference`, unique per kind, so a QoS 1
//! redelivery, a device's retry or the same press reaching two servers finds the first.

pub mod desk;
pub mod devices;
pub mod ingest;
pub mod liveness;

/// What the server keeps in memory for 一键呼: devices' liveness and the ingestion counters.
#[derive(Default)]
pub struct Runtime {
    pub live: liveness::Tracker,
    pub stats: ingest::Stats,
    /// Writes alarms in batches (group commit).
    pub writer: ingest::Writer,
    /// Devices and chains for a few seconds (a burst reads each once).
    pub cache: ingest::Cache,
}

/// Runs the alarms' clocks until the process ends: every `every` the due escalation and
/// on-site timers fire (exactly once across servers: the engine's row lock and version check),
/// devices' online/offline transitions are written together, every fifth tick silent devices
/// go offline, and every minute the device list is reloaded
/// (devices another server registered).
pub fn spawn_clock(app: crate::App, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            if let Err(e) = app
                .store
                .sweep_case_timers::<jiesu_domain::alarms::Alarm>(app.now())
                .await
            {
                tracing::warn!(error = %e, "alarm clock sweep failed");
            }
            if let Err(e) = app.alarms.live.flush(&app).await {
                tracing::warn!(error = %e, "device transitions not written yet");
            }
            if n.is_multiple_of(5)
                && let Err(e) = app.alarms.live.sweep(&app).await
            {
                tracing::warn!(error = %e, "device liveness sweep failed");
            }
            if n % 60 == 59
                && let Err(e) = app.alarms.live.load(&app).await
            {
                tracing::warn!(error = %e, "device list reload failed");
            }
            n += 1;
        }
    })
}
