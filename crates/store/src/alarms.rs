//! The `Store` face of 一键呼 (written once in `backend/alarms.rs`, compiled per backend):
//! vendors, devices, their online/offline transitions and faults, and the streets' escalation
//! chains. The alarms are cases of kind `jiesu_domain::alarms::Alarm` on the one engine.

use crate::{Result, Store};
use jiesu_domain::alarms::Chain;
use jiesu_domain::alarms::device::{DeviceInput, DeviceStatus, FaultKind, VendorInput};
use jiff::Timestamp;
use serde::Serialize;

/// A vendor as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vendor {
    pub code: String,
    pub name: String,
    pub active: bool,
    pub created_at: Timestamp,
}

/// A registered device with what the store knows of its state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    #[serde(flatten)]
    pub data: DeviceInput,
    pub street: String,
    pub community: String,
    pub status: DeviceStatus,
    /// `None` until first heard from.
    pub online: Option<bool>,
    /// The last online/offline transition.
    pub last_change_at: Option<Timestamp>,
    pub last_test_at: Option<Timestamp>,
    pub battery: Option<i64>,
    pub retired_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct DeviceQuery {
    pub street: Option<String>,
    pub elder_id: Option<i64>,
    pub vendor: Option<String>,
    /// `Some(false)`: offline (or never heard); `Some(true)`: online.
    pub online: Option<bool>,
    pub status: Option<DeviceStatus>,
    pub limit: u32,
    pub offset: u32,
}

/// One online↔offline transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub device_id: String,
    pub at: Timestamp,
    pub online: bool,
    pub reason: String,
}

/// A maintenance task a device's reports opened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    pub id: i64,
    pub device_id: String,
    pub kind: FaultKind,
    pub detail: String,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<String>,
    pub street: String,
    pub elder_id: i64,
}

/// What the liveness tracker loads at start: every active device's interval and last state.
#[derive(Debug, Clone, PartialEq)]
pub struct Liveness {
    pub device_id: String,
    pub heartbeat_secs: i64,
    pub online: Option<bool>,
    pub installed_at: Timestamp,
    pub last_test_at: Option<Timestamp>,
}

impl Store {
    /// Registers a vendor with its signing secret; `Duplicate { field: "code" }` when taken.
    pub async fn create_vendor(&self, v: &VendorInput, secret: &str, now: Timestamp) -> Result<()> {
        delegate!(self.create_vendor(v, secret, now))
    }
    pub async fn vendors(&self) -> Result<Vec<Vendor>> {
        delegate!(self.vendors())
    }
    /// The secret of an active vendor.
    pub async fn vendor_secret(&self, code: &str) -> Result<Option<String>> {
        delegate!(self.vendor_secret(code))
    }
    /// Registers a device in `street`/`community` (the elder's);
    /// `Duplicate { field: "device_id" }` when the id is taken.
    pub async fn create_device(
        &self,
        d: &DeviceInput,
        street: &str,
        community: &str,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.create_device(d, street, community, now))
    }
    /// Many devices in one transaction; `Duplicate { field: "device_id" }` refuses the batch.
    pub async fn create_devices(
        &self,
        items: &[(DeviceInput, String, String)],
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.create_devices(items, now))
    }
    /// Retires a device (its alarms stay); `false` when it was not active.
    pub async fn retire_device(&self, device_id: &str, now: Timestamp) -> Result<bool> {
        delegate!(self.retire_device(device_id, now))
    }
    pub async fn device(&self, device_id: &str) -> Result<Option<Device>> {
        delegate!(self.device(device_id))
    }
    pub async fn devices(&self, q: &DeviceQuery) -> Result<(Vec<Device>, i64)> {
        delegate!(self.devices(q))
    }
    pub async fn device_liveness(&self) -> Result<Vec<Liveness>> {
        delegate!(self.device_liveness())
    }
    /// Records a transition if it changes what is stored (two servers seeing the same silence
    /// write it once), opening or closing the offline task; `true` when written.
    pub async fn device_transition(
        &self,
        device_id: &str,
        online: bool,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool> {
        delegate!(self.device_transition(device_id, online, at, reason))
    }
    /// Transitions in one transaction (the liveness tracker flushes each second), each written
    /// only if it changes the stored state, with the offline task opened or closed.
    pub async fn record_transitions(
        &self,
        items: &[(String, bool, Timestamp, String)],
    ) -> Result<usize> {
        delegate!(self.record_transitions(items))
    }
    pub async fn transitions(&self, device_id: &str, limit: u32) -> Result<Vec<Transition>> {
        delegate!(self.transitions(device_id, limit))
    }
    /// The device's monthly test call.
    pub async fn record_test_call(&self, device_id: &str, at: Timestamp) -> Result<()> {
        delegate!(self.record_test_call(device_id, at))
    }
    /// The battery level, written only when a fault opens or closes (not per heartbeat).
    pub async fn record_battery(&self, device_id: &str, pct: i64) -> Result<()> {
        delegate!(self.record_battery(device_id, pct))
    }
    /// Opens a fault unless one of that kind is open; `true` when opened.
    pub async fn open_fault(
        &self,
        device_id: &str,
        kind: FaultKind,
        detail: &str,
        at: Timestamp,
    ) -> Result<bool> {
        delegate!(self.open_fault(device_id, kind, detail, at))
    }
    /// Closes the open fault of that kind; `true` when one was open.
    pub async fn close_fault(
        &self,
        device_id: &str,
        kind: FaultKind,
        by: &str,
        at: Timestamp,
    ) -> Result<bool> {
        delegate!(self.close_fault(device_id, kind, by, at))
    }
    /// Faults, newest first: of a street (a prefix of the community code works too), open
    /// only or all.
    pub async fn faults(
        &self,
        street: Option<&str>,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Fault>> {
        delegate!(self.faults(street, open_only, limit))
    }
    pub async fn save_chain(
        &self,
        street: &str,
        chain: &Chain,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.save_chain(street, chain, by, now))
    }
    pub async fn chain(&self, street: &str) -> Result<Option<Chain>> {
        delegate!(self.chain(street))
    }
    pub async fn chains(&self) -> Result<Vec<(String, Chain)>> {
        delegate!(self.chains())
    }
}
