//! 一键呼 devices: what the 民政 admin registers (one device in one elder's home), the vendors
//! whose platforms sign their alarms, and the liveness rule (silent past k intervals → offline).

use crate::error::DomainError;
use crate::model::vocabulary;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

vocabulary! {
    DeviceStatus {
        Active = "active" / "在用",
        Retired = "retired" / "已停用",
    }
}

vocabulary! {
    /// A maintenance task a device's reports open (closed when the device reports well again).
    FaultKind {
        BatteryLow = "battery_low" / "电量低",
        TestCallMissing = "test_call_missing" / "测试呼叫缺失",
        Offline = "offline" / "离线",
    }
}

/// Heartbeats below this battery level open a battery fault.
pub const BATTERY_LOW_PCT: u8 = 20;
/// A device is offline after this many heartbeat intervals of silence.
pub const SILENT_INTERVALS: i64 = 3;
/// A device that has not made its test call for this many days opens a fault (the 一键呼
/// contracts ask for a monthly test call).
pub const TEST_CALL_DAYS: i64 = 31;

/// What the admin registers for one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceInput {
    /// The device's own id, as in its topic (`jiesu/v1/devices/{device_id}/…`).
    pub device_id: String,
    pub vendor: String,
    pub model: String,
    pub elder_id: i64,
    pub installed_on: Date,
    /// Where in the home (卧室, 卫生间…).
    #[serde(default)]
    pub room: String,
    /// The SIM's ICCID or the network id.
    #[serde(default)]
    pub network_id: String,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_secs: i64,
}

fn default_heartbeat() -> i64 {
    60
}

/// A device id or vendor code: 3–64 of `A–Z a–z 0–9 - _ .`, so it can stand in an MQTT topic
/// (no `/`, `+`, `#`) and in a URL.
pub fn check_code(field: &str, v: &str) -> Result<(), DomainError> {
    let n = v.chars().count();
    if n == 0 {
        return Err(DomainError::invalid(field, "empty", "must not be empty"));
    }
    if !(3..=64).contains(&n)
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(DomainError::invalid(
            field,
            "bad_device_code",
            "3–64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

fn at_most(field: &str, v: &str, max: usize) -> Result<(), DomainError> {
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

impl DeviceInput {
    /// Trims the text fields and checks every field; `today` bounds the install date.
    pub fn normalized(mut self, today: Date) -> Result<DeviceInput, DomainError> {
        self.device_id = self.device_id.trim().to_string();
        self.vendor = self.vendor.trim().to_string();
        self.model = self.model.trim().to_string();
        self.room = self.room.trim().to_string();
        self.network_id = self.network_id.trim().to_string();
        check_code("device_id", &self.device_id)?;
        check_code("vendor", &self.vendor)?;
        if self.model.is_empty() {
            return Err(DomainError::invalid("model", "empty", "must not be empty"));
        }
        at_most("model", &self.model, 60)?;
        at_most("room", &self.room, 40)?;
        at_most("network_id", &self.network_id, 40)?;
        if self.installed_on > today {
            return Err(DomainError::invalid(
                "installed_on",
                "date_in_future",
                "must not be after today",
            ));
        }
        if !(10..=86_400).contains(&self.heartbeat_secs) {
            return Err(DomainError::invalid(
                "heartbeat_secs",
                "out_of_range",
                "10 to 86400 seconds",
            ));
        }
        if self.elder_id <= 0 {
            return Err(DomainError::invalid(
                "elder_id",
                "required",
                "the elder the device serves",
            ));
        }
        Ok(self)
    }
}

/// A vendor platform that may post alarms over HTTP (its secret signs them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorInput {
    pub code: String,
    pub name: String,
}

impl VendorInput {
    pub fn normalized(mut self) -> Result<VendorInput, DomainError> {
        self.code = self.code.trim().to_string();
        self.name = self.name.trim().to_string();
        check_code("code", &self.code)?;
        if self.name.is_empty() {
            return Err(DomainError::invalid("name", "empty", "must not be empty"));
        }
        at_most("name", &self.name, 60)?;
        Ok(self)
    }
}

/// When a device last heard from at `last_seen`, reporting every `interval_secs`, counts as
/// offline: after [`SILENT_INTERVALS`] intervals of silence.
pub fn offline_after(last_seen: Timestamp, interval_secs: i64) -> Timestamp {
    last_seen + SignedDuration::from_secs(interval_secs.max(1) * SILENT_INTERVALS)
}

/// Whether a device's last test call (or, never having made one, its installation) is too old.
pub fn test_call_missing(
    last_test: Option<Timestamp>,
    installed: Timestamp,
    now: Timestamp,
) -> bool {
    let since = last_test.unwrap_or(installed);
    now.duration_since(since) > SignedDuration::from_hours(24 * TEST_CALL_DAYS)
}
