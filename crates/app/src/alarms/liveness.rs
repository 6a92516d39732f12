//! Devices' liveness: tens of thousands of heartbeats a minute are kept in memory; only an
//! online↔offline transition, a fault opened or closed, is written. Several servers may each
//! track every device (each receives every heartbeat): the store writes a transition once.

use crate::App;
use crate::error::AppResult;
use jiesu_domain::alarms::device::{BATTERY_LOW_PCT, FaultKind, offline_after, test_call_missing};
use jiesu_domain::alarms::message::Heartbeat;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// A battery fault closes again above this level (hysteresis: no flapping at the threshold).
const BATTERY_OK_PCT: u8 = BATTERY_LOW_PCT + 10;

#[derive(Debug, Clone)]
struct Live {
    interval: i64,
    last_seen: Option<Timestamp>,
    /// As stored.
    online: Option<bool>,
    battery_low: bool,
    installed_at: Timestamp,
    last_test_at: Option<Timestamp>,
    test_fault_open: bool,
}

/// What one device's liveness is, for pages.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveView {
    pub last_seen: Option<Timestamp>,
    pub online: Option<bool>,
}

#[derive(Default)]
pub struct Tracker {
    map: Mutex<HashMap<String, Live>>,
    /// Transitions decided but not yet written: flushed together (one transaction a second,
    /// not one per device when a whole fleet comes online).
    pending: Mutex<Vec<(String, bool, Timestamp, String)>>,
    loaded: std::sync::atomic::AtomicBool,
    last_test_check: Mutex<Option<Timestamp>>,
}

/// A write the tracker decided under its lock, done after it.
enum Write {
    Online(bool, &'static str),
    OpenFault(FaultKind, String),
    CloseFault(FaultKind),
    Battery(i64),
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        match self.map.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Loads every active device from the store (at start, and to pick up devices another
    /// server registered). A device stored online gets a fresh grace period from `now`.
    pub async fn load(&self, app: &App) -> AppResult<usize> {
        let rows = app.store.device_liveness().await?;
        let now = app.now();
        let mut map = self.lock();
        let mut seen = std::collections::HashSet::with_capacity(rows.len());
        for r in &rows {
            seen.insert(r.device_id.clone());
            let e = map.entry(r.device_id.clone()).or_insert_with(|| Live {
                interval: r.heartbeat_secs,
                last_seen: (r.online == Some(true)).then_some(now),
                online: r.online,
                battery_low: false,
                installed_at: r.installed_at,
                last_test_at: r.last_test_at,
                test_fault_open: false,
            });
            e.interval = r.heartbeat_secs;
            if r.last_test_at > e.last_test_at {
                e.last_test_at = r.last_test_at;
            }
        }
        // Retired devices drop out.
        map.retain(|k, _| seen.contains(k));
        self.loaded.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(map.len())
    }

    async fn ensure_loaded(&self, app: &App) -> AppResult<()> {
        if !self.loaded.load(std::sync::atomic::Ordering::SeqCst) {
            self.load(app).await?;
        }
        Ok(())
    }

    /// A device just registered.
    pub fn add(&self, device_id: &str, interval: i64, installed_at: Timestamp) {
        self.lock().insert(
            device_id.to_string(),
            Live {
                interval,
                last_seen: None,
                online: None,
                battery_low: false,
                installed_at,
                last_test_at: None,
                test_fault_open: false,
            },
        );
    }

    pub fn remove(&self, device_id: &str) {
        self.lock().remove(device_id);
    }

    pub fn is_known(&self, device_id: &str) -> bool {
        self.lock().contains_key(device_id)
    }

    pub fn view(&self, device_id: &str) -> Option<LiveView> {
        self.lock().get(device_id).map(|l| LiveView {
            last_seen: l.last_seen,
            online: l.online,
        })
    }

    /// How many devices are tracked, and how many of them are online.
    pub fn counts(&self) -> (usize, usize) {
        let m = self.lock();
        (
            m.len(),
            m.values().filter(|l| l.online == Some(true)).count(),
        )
    }

    async fn apply(
        app: &App,
        device_id: &str,
        writes: Vec<Write>,
        now: Timestamp,
    ) -> AppResult<()> {
        for w in writes {
            match w {
                Write::Online(online, reason) => {
                    let mut p = match app.alarms.live.pending.lock() {
                        Ok(g) => g,
                        Err(p) => p.into_inner(),
                    };
                    p.push((device_id.to_string(), online, now, reason.to_string()));
                }
                Write::OpenFault(kind, detail) => {
                    app.store.open_fault(device_id, kind, &detail, now).await?;
                }
                Write::CloseFault(kind) => {
                    app.store
                        .close_fault(device_id, kind, "system", now)
                        .await?;
                }
                Write::Battery(pct) => app.store.record_battery(device_id, pct).await?,
            }
        }
        Ok(())
    }

    /// Writes the transitions decided since the last flush, in one transaction; how many
    /// changed the stored state. On failure they are kept for the next flush.
    pub async fn flush(&self, app: &App) -> AppResult<usize> {
        let batch = {
            let mut p = match self.pending.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            std::mem::take(&mut *p)
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match app.store.record_transitions(&batch).await {
            Ok(n) => Ok(n),
            Err(e) => {
                let mut p = match self.pending.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                let newer = std::mem::take(&mut *p);
                *p = batch;
                p.extend(newer);
                Err(e.into())
            }
        }
    }

    /// A heartbeat (or any message) from a device; `false` for a device not registered.
    pub async fn heartbeat(&self, app: &App, device_id: &str, hb: &Heartbeat) -> AppResult<bool> {
        self.ensure_loaded(app).await?;
        let now = app.now();
        let writes = {
            let mut map = self.lock();
            let Some(l) = map.get_mut(device_id) else {
                return Ok(false);
            };
            l.last_seen = Some(now);
            let mut w = Vec::new();
            if l.online != Some(true) {
                l.online = Some(true);
                w.push(Write::Online(true, "heartbeat"));
            }
            if let Some(b) = hb.battery {
                if b < BATTERY_LOW_PCT && !l.battery_low {
                    l.battery_low = true;
                    w.push(Write::Battery(i64::from(b)));
                    w.push(Write::OpenFault(FaultKind::BatteryLow, format!("电量{b}%")));
                } else if b >= BATTERY_OK_PCT && l.battery_low {
                    l.battery_low = false;
                    w.push(Write::Battery(i64::from(b)));
                    w.push(Write::CloseFault(FaultKind::BatteryLow));
                }
            }
            w
        };
        Self::apply(app, device_id, writes, now).await?;
        Ok(true)
    }

    /// The device (or its Last Will) says online or offline; `false` when not registered.
    pub async fn status(&self, app: &App, device_id: &str, online: bool) -> AppResult<bool> {
        self.ensure_loaded(app).await?;
        let now = app.now();
        let writes = {
            let mut map = self.lock();
            let Some(l) = map.get_mut(device_id) else {
                return Ok(false);
            };
            if online {
                l.last_seen = Some(now);
            }
            if l.online == Some(online) {
                Vec::new()
            } else {
                l.online = Some(online);
                vec![Write::Online(
                    online,
                    if online { "connected" } else { "last_will" },
                )]
            }
        };
        Self::apply(app, device_id, writes, now).await?;
        Ok(true)
    }

    /// A test call made.
    pub async fn test_call(&self, app: &App, device_id: &str) -> AppResult<()> {
        let now = app.now();
        let close = {
            let mut map = self.lock();
            map.get_mut(device_id).is_some_and(|l| {
                l.last_test_at = Some(now);
                std::mem::take(&mut l.test_fault_open)
            })
        };
        app.store.record_test_call(device_id, now).await?;
        if close {
            app.store
                .close_fault(device_id, FaultKind::TestCallMissing, "system", now)
                .await?;
        }
        Ok(())
    }

    /// Flags devices silent past their intervals offline, and (hourly) devices whose test call
    /// is overdue; returns how many went offline.
    pub async fn sweep(&self, app: &App) -> AppResult<usize> {
        self.ensure_loaded(app).await?;
        let now = app.now();
        let check_tests = {
            let mut last = match self.last_test_check.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let due = last.is_none_or(|t| now.duration_since(t) >= SignedDuration::from_hours(1));
            if due {
                *last = Some(now);
            }
            due
        };
        let (silent, tests): (Vec<String>, Vec<String>) = {
            let mut map = self.lock();
            let mut silent = Vec::new();
            let mut tests = Vec::new();
            for (id, l) in map.iter_mut() {
                if l.online == Some(true)
                    && l.last_seen
                        .is_some_and(|s| offline_after(s, l.interval) <= now)
                {
                    l.online = Some(false);
                    silent.push(id.clone());
                }
                if check_tests
                    && !l.test_fault_open
                    && test_call_missing(l.last_test_at, l.installed_at, now)
                {
                    l.test_fault_open = true;
                    tests.push(id.clone());
                }
            }
            (silent, tests)
        };
        for id in &silent {
            Self::apply(app, id, vec![Write::Online(false, "silent")], now).await?;
        }
        for id in &tests {
            Self::apply(
                app,
                id,
                vec![Write::OpenFault(
                    FaultKind::TestCallMissing,
                    "超过一个月未做测试呼叫".into(),
                )],
                now,
            )
            .await?;
        }
        self.flush(app).await?;
        Ok(silent.len())
    }
}
