//! How values read on a page: Beijing local time, time left, rates, errors in Chinese.

use crate::error::ApiError;
use jiff::Timestamp;
use jiff::tz::TimeZone;

fn beijing() -> TimeZone {
    // Fixed UTC+8: China has no daylight saving, and a fixed zone needs no tz database.
    TimeZone::fixed(jiff::tz::Offset::constant(8))
}

/// `2026-11-02 09:30`
pub fn datetime(t: Timestamp) -> String {
    t.to_zoned_datetime(beijing())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn opt_datetime(t: Option<Timestamp>) -> String {
    t.map(datetime).unwrap_or_default()
}

/// The local date `YYYY-MM-DD` of an instant.
pub fn date(t: Timestamp) -> String {
    t.to_zoned_datetime(beijing())
        .strftime("%Y-%m-%d")
        .to_string()
}

/// Midnight (Beijing) of the day `t` falls on.
pub fn start_of_day(t: Timestamp) -> Timestamp {
    let z = t.to_zoned_datetime(beijing());
    z.start_of_day().map(|d| d.timestamp()).unwrap_or(t)
}

/// "剩2天3小时" before `due`, "超时5小时" after it.
pub fn time_left(due: Timestamp, now: Timestamp) -> String {
    let secs = due.as_second() - now.as_second();
    let (prefix, s) = if secs >= 0 {
        ("剩", secs)
    } else {
        ("超时", -secs)
    };
    let days = s / 86_400;
    let hours = (s % 86_400) / 3600;
    let mins = (s % 3600) / 60;
    if days > 0 {
        format!("{prefix}{days}天{hours}小时")
    } else if hours > 0 {
        format!("{prefix}{hours}小时{mins}分")
    } else {
        format!("{prefix}{mins}分钟")
    }
}

pub fn rate(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into())
}

/// An error in the words a desk uses: the one catalogue (`jiesu_app::messages`), keyed by the
/// stable code; the API's English message is never shown.
pub fn error_zh(e: &ApiError) -> String {
    jiesu_app::messages::zh(&e.body.code, e.body.field.as_deref(), &e.body.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_both_ways() {
        let now: Timestamp = "2026-11-02T01:00:00Z".parse().unwrap();
        let due: Timestamp = "2026-11-04T04:30:00Z".parse().unwrap();
        assert_eq!(time_left(due, now), "剩2天3小时");
        assert_eq!(time_left(now, due), "超时2天3小时");
        let soon: Timestamp = "2026-11-02T01:20:00Z".parse().unwrap();
        assert_eq!(time_left(soon, now), "剩20分钟");
        assert_eq!(datetime(now), "2026-11-02 09:00");
    }
}
