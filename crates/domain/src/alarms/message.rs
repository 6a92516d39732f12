//! What devices send, modelled on the SCAIP alarm message (CEN/TS 17607: a reference, the
//! device type, a status code, a priority, the location), as JSON over MQTT or HTTP.
//!
//! Topics (QoS 1, never retained):
//!
//! | topic | from | payload |
//! |---|---|---|
//! | `jiesu/v1/devices/{device_id}/alarm` | device | [`AlarmMessage`] |
//! | `jiesu/v1/devices/{device_id}/heartbeat` | device | [`Heartbeat`] |
//! | `jiesu/v1/devices/{device_id}/status` | device (its Last Will says `{"online":false}`) | [`StatusMessage`] |
//! | `jiesu/v1/devices/{device_id}/reply` | jiesu | [`Reply`] |
//!
//! Everything here is hostile input: size-capped, parsed strictly, times bounded.

use crate::error::DomainError;
use crate::model::vocabulary;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The topic prefix; a device's topics are `{PREFIX}/{device_id}/{channel}`.
pub const PREFIX: &str = "jiesu/v1/devices";
/// Larger payloads are refused unread.
pub const MAX_PAYLOAD: usize = 4096;
/// A device clock may run this far ahead; later times are refused.
pub const MAX_AHEAD_SECS: i64 = 300;
/// An alarm older than this (a device that stored it a week offline) is refused as stale.
pub const MAX_AGE_SECS: i64 = 7 * 86_400;

vocabulary! {
    /// SCAIP-style status codes of an alarm message.
    AlarmCode {
        Button = "button" / "一键呼叫",
        Fall = "fall" / "跌倒",
        Smoke = "smoke" / "烟感",
        Gas = "gas" / "燃气",
        Water = "water" / "水浸",
        Inactivity = "inactivity" / "长时间无活动",
        Medical = "medical" / "健康求助",
        /// The monthly test call: recorded on the device, no alarm opened.
        Test = "test" / "测试呼叫",
    }
}

vocabulary! {
    /// What a device's topic carries.
    Channel {
        Alarm = "alarm" / "报警",
        Heartbeat = "heartbeat" / "心跳",
        Status = "status" / "状态",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
}

/// One alarm as a device (or its vendor's platform) reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmMessage {
    /// Present in HTTP posts (a platform speaks for many devices); on MQTT the topic says it,
    /// and a payload naming another device is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The device's id of this alarm: with the device, what makes a retry the same alarm.
    pub reference: String,
    #[serde(default)]
    pub device_type: String,
    pub status_code: AlarmCode,
    /// 1 (highest) … 9; by default from the status code.
    #[serde(default)]
    pub priority: Option<u8>,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub gps: Option<Gps>,
    /// When the button was pressed, by the device's clock (RFC 3339 with an offset).
    pub time: Timestamp,
}

/// A device's periodic sign of life.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Battery level, percent.
    #[serde(default)]
    pub battery: Option<u8>,
    /// Signal strength, dBm.
    #[serde(default)]
    pub signal: Option<i32>,
}

/// Online / offline as the device (or its Last Will) says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusMessage {
    pub online: bool,
}

vocabulary! {
    ReplyResult {
        /// Stored as a new alarm (or a test call recorded).
        Accepted = "accepted" / "已接收",
        /// The same (device, reference) was stored before: nothing new.
        Duplicate = "duplicate" / "重复",
        Refused = "refused" / "已拒收",
    }
}

/// jiesu's answer on `{PREFIX}/{device_id}/reply` (and the HTTP body): a device that gets
/// `accepted` or `duplicate` stops retrying; `refused` names why in `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub reference: Option<String>,
    pub result: ReplyResult,
    /// The stable error code when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The alarm case's id when stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_id: Option<i64>,
}

/// The device and channel of a topic under [`PREFIX`]; `None` for any other topic.
pub fn parse_topic(topic: &str) -> Option<(&str, Channel)> {
    let rest = topic.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let (device, channel) = rest.split_once('/')?;
    if device.is_empty() || channel.contains('/') {
        return None;
    }
    Some((device, channel.parse().ok()?))
}

/// The topic jiesu answers a device on.
pub fn reply_topic(device_id: &str) -> String {
    format!("{PREFIX}/{device_id}/reply")
}

/// A device's topic for `channel`.
pub fn topic(device_id: &str, channel: Channel) -> String {
    format!("{PREFIX}/{device_id}/{}", channel.as_str())
}

fn parse_json<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, DomainError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(DomainError::invalid(
            "payload",
            "too_long",
            format!("at most {MAX_PAYLOAD} bytes"),
        ));
    }
    serde_json::from_slice(payload).map_err(|e| {
        DomainError::invalid("payload", "bad_json", format!("not a valid message: {e}"))
    })
}

/// The default priority of a status code (1 highest).
pub fn default_priority(code: AlarmCode) -> u8 {
    match code {
        AlarmCode::Fall | AlarmCode::Smoke | AlarmCode::Gas | AlarmCode::Medical => 1,
        AlarmCode::Button => 2,
        AlarmCode::Inactivity | AlarmCode::Water => 3,
        AlarmCode::Test => 9,
    }
}

/// Parses and checks an alarm message received at `now`.
pub fn parse_alarm(payload: &[u8], now: Timestamp) -> Result<AlarmMessage, DomainError> {
    let mut m: AlarmMessage = parse_json(payload)?;
    m.reference = m.reference.trim().to_string();
    if m.reference.is_empty() {
        return Err(DomainError::invalid(
            "reference",
            "empty",
            "must not be empty",
        ));
    }
    if m.reference.chars().count() > 64 || m.reference.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "reference",
            "too_long",
            "at most 64 characters",
        ));
    }
    if let Some(d) = &m.device_id {
        super::device::check_code("device_id", d)?;
    }
    if m.device_type.chars().count() > 40 {
        return Err(DomainError::invalid(
            "device_type",
            "too_long",
            "at most 40 characters",
        ));
    }
    match m.priority {
        Some(p) if !(1..=9).contains(&p) => {
            return Err(DomainError::invalid(
                "priority",
                "bad_priority",
                "1 (highest) to 9",
            ));
        }
        Some(_) => {}
        None => m.priority = Some(default_priority(m.status_code)),
    }
    if let Some(room) = &m.room
        && room.chars().count() > 40
    {
        return Err(DomainError::invalid(
            "room",
            "too_long",
            "at most 40 characters",
        ));
    }
    if let Some(g) = &m.gps
        && !(g.lat.is_finite()
            && g.lon.is_finite()
            && (-90.0..=90.0).contains(&g.lat)
            && (-180.0..=180.0).contains(&g.lon))
    {
        return Err(DomainError::invalid(
            "gps",
            "out_of_range",
            "latitude −90…90, longitude −180…180",
        ));
    }
    if m.time > now + SignedDuration::from_secs(MAX_AHEAD_SECS) {
        return Err(DomainError::invalid(
            "time",
            "time_in_future",
            "later than now (device clock wrong?)",
        ));
    }
    if m.time < now - SignedDuration::from_secs(MAX_AGE_SECS) {
        return Err(DomainError::invalid(
            "time",
            "time_too_early",
            "older than a week",
        ));
    }
    Ok(m)
}

/// Parses a heartbeat; an empty payload is a heartbeat without readings.
pub fn parse_heartbeat(payload: &[u8]) -> Result<Heartbeat, DomainError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Heartbeat::default());
    }
    let h: Heartbeat = parse_json(payload)?;
    if h.battery.is_some_and(|b| b > 100) {
        return Err(DomainError::invalid(
            "battery",
            "out_of_range",
            "0 to 100 percent",
        ));
    }
    Ok(h)
}

pub fn parse_status(payload: &[u8]) -> Result<StatusMessage, DomainError> {
    parse_json(payload)
}
