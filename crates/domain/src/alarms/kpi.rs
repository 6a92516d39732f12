//! The alarm desk's figures for a street and month: how fast alarms were taken, how fast
//! someone was on site, how many were false. The standards ask 98.5% of alarms answered within
//! 60 s and 99% within 180 s (EN 50134-7 / CLC TS 50134-9 practice).

use super::{AlarmState, Outcome, seconds_to_acknowledge};
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlarmKpis {
    pub alarms: i64,
    pub acknowledged: i64,
    /// Share of all alarms acknowledged within 60 s / 180 s, percent with one decimal
    /// (`None` without alarms).
    pub ack_within_60s_pct: Option<f64>,
    pub ack_within_180s_pct: Option<f64>,
    /// Median seconds from raising to acknowledgement, and from acknowledgement to on site.
    pub median_ack_secs: Option<i64>,
    pub median_on_site_secs: Option<i64>,
    pub resolved: i64,
    /// Share of resolved alarms that were false alarms, percent.
    pub false_alarm_pct: Option<f64>,
    /// Alarms that escalated at least once before anyone took them.
    pub escalated: i64,
}

fn pct(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 * 1000.0 / d as f64).round() / 10.0)
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// The figures over `alarms` (the caller picks the street and month).
pub fn kpis<'a>(alarms: impl IntoIterator<Item = &'a AlarmState>) -> AlarmKpis {
    let mut k = AlarmKpis::default();
    let (mut within60, mut within180, mut false_alarms) = (0, 0, 0);
    let mut ack = Vec::new();
    let mut on_site = Vec::new();
    for a in alarms {
        k.alarms += 1;
        if a.escalations > 0 {
            k.escalated += 1;
        }
        if let Some(s) = seconds_to_acknowledge(a) {
            k.acknowledged += 1;
            within60 += i64::from(s <= 60);
            within180 += i64::from(s <= 180);
            ack.push(s);
        }
        if let (Some(ackd), Some(site)) = (a.acknowledged_at, a.on_site_at) {
            on_site.push(site.duration_since(ackd).as_secs());
        }
        if let Some(o) = a.outcome {
            k.resolved += 1;
            false_alarms += i64::from(o == Outcome::FalseAlarm);
        }
    }
    k.ack_within_60s_pct = pct(within60, k.alarms);
    k.ack_within_180s_pct = pct(within180, k.alarms);
    k.median_ack_secs = median(ack);
    k.median_on_site_secs = median(on_site);
    k.false_alarm_pct = pct(false_alarms, k.resolved);
    k
}
