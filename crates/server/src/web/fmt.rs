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

/// The engine's refusal codes in the words a desk uses; anything else keeps its message.
pub fn error_zh(e: &ApiError) -> String {
    let code = e.body.code.as_str();
    let known = match code {
        "illegal_transition" => Some("当前状态下不能执行此操作。"),
        "forbidden_role" | "forbidden" => Some("您的角色不能执行此操作。"),
        "contact_required" => Some("答复前须先联系诉求人（条例第十五条）。"),
        "callback_required" => Some("答复后须先回访，才能办结。"),
        "already_dispatched" => Some("已派给该单位。"),
        "already_rated" => Some("该诉求已评价过，每件只能评价一次。"),
        "not_found" => Some("诉求不存在或您无权查看。"),
        "concurrent_change" => Some("诉求刚被他人更新，请刷新后重试。"),
        "too_many_requests" | "too_many_attempts" => Some("操作过于频繁，请稍后再试。"),
        _ => None,
    };
    match known {
        // The engine's own message carries the specifics (which statuses, which roles).
        Some(zh) if code == "illegal_transition" || code == "forbidden_role" => {
            format!("{zh}（{}）", e.body.message)
        }
        Some(zh) => zh.to_string(),
        None => e.body.message.clone(),
    }
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
