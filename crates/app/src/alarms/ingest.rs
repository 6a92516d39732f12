//! Alarms, heartbeats and status in, from any door: the MQTT consumer hands over a topic and
//! its payload, the HTTP door a vendor's signed post. Bad input is refused with a stable code
//! and counted; it never stops the good messages behind it. An `Err` here means the store could
//! not be reached: the door must not acknowledge the message (the broker keeps it).

use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
use jiesu_domain::alarms::device::DeviceStatus;
use jiesu_domain::alarms::message::{self, AlarmCode, AlarmMessage, Channel, Reply, ReplyResult};
use jiesu_domain::alarms::{Alarm, Chain, NewAlarm};
use jiesu_domain::{Actor, DomainError};
use jiesu_store::StoreError;
use jiesu_store::alarms::Device;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How far a vendor's signature timestamp may be from our clock.
const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// Ingestion counters since the server started.
#[derive(Default)]
pub struct Stats {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    test_calls: AtomicU64,
    heartbeats: AtomicU64,
    statuses: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatsView {
    pub accepted: u64,
    pub duplicates: u64,
    pub test_calls: u64,
    pub heartbeats: u64,
    pub statuses: u64,
    /// Refused messages by code (`bad_json`, `unknown_device`, `bad_signature`, …).
    pub refused: BTreeMap<String, u64>,
    pub refused_total: u64,
}

impl Stats {
    fn refuse(&self, code: &str) {
        let mut m = match self.refused.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *m.entry(code.to_string()).or_default() += 1;
    }

    pub fn view(&self) -> StatsView {
        let refused = match self.refused.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        StatsView {
            accepted: self.accepted.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            test_calls: self.test_calls.load(Ordering::Relaxed),
            heartbeats: self.heartbeats.load(Ordering::Relaxed),
            statuses: self.statuses.load(Ordering::Relaxed),
            refused_total: refused.values().sum(),
            refused,
        }
    }
}

/// One alarm waiting for the writer, and where its outcome goes.
type Job = (
    NewAlarm,
    tokio::sync::oneshot::Sender<Result<jiesu_domain::alarms::AlarmState, StoreError>>,
);

/// Group commit for a burst: alarms arriving while the previous batch commits are written
/// together in the next transaction (each stored or refused on its own). Nothing waits to fill
/// a batch: a lone alarm is written at once.
#[derive(Default)]
pub struct Writer {
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<Job>>,
}

/// Alarms per transaction at most.
const BATCH: usize = 200;

impl Writer {
    async fn create(
        &self,
        app: &App,
        n: NewAlarm,
    ) -> Result<jiesu_domain::alarms::AlarmState, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * BATCH);
            tokio::spawn(write_batches(app.clone(), rx));
            tx
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let gone = || StoreError::Unavailable("the alarm writer stopped".into());
        queue.send((n, tx)).await.map_err(|_| gone())?;
        rx.await.unwrap_or_else(|_| Err(gone()))
    }
}

async fn write_batches(app: App, mut rx: tokio::sync::mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let inputs: Vec<&NewAlarm> = jobs.iter().map(|j| &j.0).collect();
        let done = app
            .store
            .create_cases::<Alarm>(&app.dir, &Actor::system(), &inputs, app.now())
            .await;
        match done {
            Ok(results) => {
                for ((_, reply), r) in jobs.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            // Nothing of the batch is stored: every caller retries (the broker keeps them).
            Err(e) => {
                let msg = e.to_string();
                for (_, reply) in jobs {
                    let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }
}

fn refused(reference: Option<String>, code: &str) -> Reply {
    Reply {
        reference,
        result: ReplyResult::Refused,
        code: Some(code.to_string()),
        alarm_id: None,
    }
}

/// The chain of `street` (the default where the street has none).
async fn chain_of(app: &App, street: &str) -> AppResult<Chain> {
    if let Some(c) = app.alarms.cache.chain(street) {
        return Ok(c);
    }
    let c = app.store.chain(street).await?.unwrap_or_default();
    app.alarms.cache.put_chain(street, &c);
    Ok(c)
}

/// What each alarm needs before it is queued — its device, its street's chain — kept for a
/// few seconds, so a burst does not read them from the database once per alarm. An edit on this
/// server takes effect at once; one made on another server within [`CACHE_SECS`].
#[derive(Default)]
pub struct Cache {
    devices: Mutex<std::collections::HashMap<String, (Option<Device>, std::time::Instant)>>,
    chains: Mutex<std::collections::HashMap<String, (Chain, std::time::Instant)>>,
}

/// How long a cached device or chain is used.
pub const CACHE_SECS: u64 = 10;

fn fresh(at: std::time::Instant) -> bool {
    at.elapsed() < std::time::Duration::from_secs(CACHE_SECS)
}

impl Cache {
    fn device(&self, id: &str) -> Option<Option<Device>> {
        let m = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        m.get(id)
            .filter(|(_, at)| fresh(*at))
            .map(|(d, _)| d.clone())
    }
    fn put_device(&self, id: &str, d: &Option<Device>) {
        let mut m = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 200_000 {
            m.retain(|_, (_, at)| fresh(*at));
        }
        m.insert(id.to_string(), (d.clone(), std::time::Instant::now()));
    }
    fn chain(&self, street: &str) -> Option<Chain> {
        let m = self.chains.lock().unwrap_or_else(|p| p.into_inner());
        m.get(street)
            .filter(|(_, at)| fresh(*at))
            .map(|(c, _)| c.clone())
    }
    fn put_chain(&self, street: &str, c: &Chain) {
        let mut m = self.chains.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(street.to_string(), (c.clone(), std::time::Instant::now()));
    }
    /// Forgets a device (registered, retired) or a street's chain (edited) on this server.
    pub fn forget_device(&self, id: &str) {
        self.devices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
    pub fn forget_chain(&self, street: &str) {
        self.chains
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(street);
    }
}

/// Stores one parsed alarm of an active device, once: a (device, reference) seen before is
/// answered `duplicate` with the first alarm's id.
async fn store_alarm(app: &App, device: &Device, m: AlarmMessage) -> AppResult<Reply> {
    let stats = &app.alarms.stats;
    let device_id = &device.data.device_id;
    let reference = Some(m.reference.clone());
    // Any message is a sign of life.
    app.alarms
        .live
        .heartbeat(app, device_id, &Default::default())
        .await?;
    if m.status_code == AlarmCode::Test {
        app.alarms.live.test_call(app, device_id).await?;
        stats.test_calls.fetch_add(1, Ordering::Relaxed);
        return Ok(Reply {
            reference,
            result: ReplyResult::Accepted,
            code: None,
            alarm_id: None,
        });
    }
    // No lookup first: the case index's unique code refuses a second insert, and a retry is
    // rare beside the burst of new alarms that each lookup would slow.
    let code = format!("{device_id}:{}", m.reference);
    let n = NewAlarm {
        device_id: device_id.clone(),
        reference: m.reference.clone(),
        elder_id: Some(device.data.elder_id),
        street: device.street.clone(),
        community: device.community.clone(),
        priority: m
            .priority
            .unwrap_or_else(|| message::default_priority(m.status_code)),
        room: m
            .room
            .clone()
            .or_else(|| (!device.data.room.is_empty()).then(|| device.data.room.clone())),
        chain: chain_of(app, &device.street).await?,
        code: Some(m.status_code),
        pressed_at: Some(m.time),
    };
    match app.alarms.writer.create(app, n).await {
        Ok(st) => {
            stats.accepted.fetch_add(1, Ordering::Relaxed);
            Ok(Reply {
                reference,
                result: ReplyResult::Accepted,
                code: None,
                alarm_id: Some(st.id),
            })
        }
        // Stored before: a device's retry, a QoS 1 redelivery, or another server's copy.
        Err(StoreError::Duplicate { .. }) => {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            let first = app.store.case_by_code::<Alarm>(&code).await?;
            Ok(Reply {
                reference,
                result: ReplyResult::Duplicate,
                code: None,
                alarm_id: first.map(|s| s.id),
            })
        }
        Err(StoreError::Domain(d)) => {
            stats.refuse(d.code());
            Ok(refused(reference, d.code()))
        }
        Err(e) => Err(e.into()),
    }
}

/// An active device by id, or `None` (unknown or retired).
async fn active_device(app: &App, device_id: &str) -> AppResult<Option<Device>> {
    if let Some(d) = app.alarms.cache.device(device_id) {
        return Ok(d);
    }
    let d = app
        .store
        .device(device_id)
        .await?
        .filter(|d| d.status == DeviceStatus::Active);
    app.alarms.cache.put_device(device_id, &d);
    Ok(d)
}

/// One MQTT message: the answer to publish on the device's reply topic, if any (alarms are
/// answered; heartbeats and status are not).
pub async fn mqtt(app: &App, topic: &str, payload: &[u8]) -> AppResult<Option<(String, Reply)>> {
    let stats = &app.alarms.stats;
    let Some((device_id, channel)) = message::parse_topic(topic) else {
        stats.refuse("bad_topic");
        return Ok(None);
    };
    if jiesu_domain::alarms::device::check_code("device_id", device_id).is_err() {
        stats.refuse("bad_device_code");
        return Ok(None);
    }
    let reply_to = message::reply_topic(device_id);
    match channel {
        Channel::Alarm => {
            let m = match message::parse_alarm(payload, app.now()) {
                Ok(m) => m,
                Err(e) => {
                    stats.refuse(e.code());
                    return Ok(Some((reply_to, refused(None, e.code()))));
                }
            };
            if m.device_id.as_deref().is_some_and(|d| d != device_id) {
                stats.refuse("device_mismatch");
                return Ok(Some((
                    reply_to,
                    refused(Some(m.reference), "device_mismatch"),
                )));
            }
            let Some(device) = active_device(app, device_id).await? else {
                stats.refuse("unknown_device");
                return Ok(Some((
                    reply_to,
                    refused(Some(m.reference), "unknown_device"),
                )));
            };
            Ok(Some((reply_to, store_alarm(app, &device, m).await?)))
        }
        Channel::Heartbeat => {
            match message::parse_heartbeat(payload) {
                Ok(h) => {
                    if app.alarms.live.heartbeat(app, device_id, &h).await? {
                        stats.heartbeats.fetch_add(1, Ordering::Relaxed);
                    } else {
                        stats.refuse("unknown_device");
                    }
                }
                Err(e) => stats.refuse(e.code()),
            }
            Ok(None)
        }
        Channel::Status => {
            match message::parse_status(payload) {
                Ok(s) => {
                    if app.alarms.live.status(app, device_id, s.online).await? {
                        stats.statuses.fetch_add(1, Ordering::Relaxed);
                    } else {
                        stats.refuse("unknown_device");
                    }
                }
                Err(e) => stats.refuse(e.code()),
            }
            Ok(None)
        }
    }
}

/// A vendor platform's post (`POST /api/v1/devices/alarms`): `X-Jiesu-Vendor` names the vendor,
/// `X-Jiesu-Signature` signs the body as our webhooks do (`t=…,v1=HMAC-SHA256(secret, "t.body")`).
/// The device must be the vendor's.
pub async fn http(
    app: &App,
    vendor: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> AppResult<Reply> {
    let stats = &app.alarms.stats;
    let unauthenticated = |code: &str, msg: &str| {
        stats.refuse(code);
        AppError::new(ErrorKind::Unauthenticated, code, msg)
    };
    let Some(vendor) =
        vendor.filter(|v| jiesu_domain::alarms::device::check_code("vendor", v).is_ok())
    else {
        return Err(unauthenticated(
            "unknown_vendor",
            "X-Jiesu-Vendor names no vendor",
        ));
    };
    let Some(secret) = app.store.vendor_secret(vendor).await? else {
        return Err(unauthenticated(
            "unknown_vendor",
            "X-Jiesu-Vendor names no vendor",
        ));
    };
    let ok = signature.is_some_and(|s| {
        crate::sign::verify(
            &secret,
            s,
            body,
            app.now().as_second(),
            SIGNATURE_TOLERANCE_SECS,
        )
    });
    if !ok {
        return Err(unauthenticated(
            "bad_signature",
            "X-Jiesu-Signature does not sign this body (or its time is off by more than 5 minutes)",
        ));
    }
    let m = message::parse_alarm(body, app.now()).map_err(|e: DomainError| {
        stats.refuse(e.code());
        AppError::from(e)
    })?;
    let Some(device_id) = m.device_id.clone() else {
        stats.refuse("required");
        return Err(AppError::invalid(
            "device_id",
            "required",
            "name the device",
        ));
    };
    let device = active_device(app, &device_id)
        .await?
        .filter(|d| d.data.vendor == vendor);
    let Some(device) = device else {
        stats.refuse("unknown_device");
        return Err(AppError::invalid(
            "device_id",
            "unknown_device",
            "no active device of this vendor has this id",
        ));
    };
    store_alarm(app, &device, m).await
}
