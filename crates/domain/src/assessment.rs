//! 考评: the three rates (响应率, 解决率, 满意率), the composite score and the ranking, computed
//! from requests' event logs as they stood at an instant. Pure: the caller fetches the logs.
//!
//! The full definitions with worked examples are in `docs/assessment.md`; the rules in short:
//!
//! * **Response cycles (响应率).** Every `Dispatched` without `overrule` and every `Reopened` (重办)
//!   opens a cycle for its unit; the cycle counts in the period in which it was opened. It is
//!   *responded in time* when the unit signed (签收, `Accepted`) and made a first contact
//!   (`Contacted`) inside the cycle, both no later than the cycle's `response_due`. A cycle that
//!   ends in a 退单 (`Returned`) followed by a re-route (`Dispatched` without `overrule`) is a
//!   sustained return and does not count at all; an overruled return (`Dispatched` with
//!   `overrule: true`) keeps the cycle, which counts. A cycle whose 退单 is still undecided at the
//!   cut-off is left out until it is decided.
//! * **Callbacks (解决率, 满意率).** A callback counts in the period of its event time. Per request
//!   and period only the latest *reached* callback counts (after a 重办 that is the new cycle's).
//!   Unreached callbacks are left out of both rates (they are reported as `callbacks_unreached`).
//!   The callback is attributed to the lead unit at the time of the callback.
//! * **Excluded requests.** Merged children (并单) count for nothing: the master carries the score.
//!   Requests closed with an Art.11 special handling count for nothing. 咨询 answered at intake
//!   are never dispatched nor called back, so they are in no denominator.
//! * **Extensions (延期).** An approved extension moves the completion deadline (the event carries
//!   it); `replied_in_time` compares each cycle's reply with the deadline as extended.
//! * **吹哨报到 双考核.** The whistling street is scored on the request as its lead. Each whistled
//!   department gets `whistled` / `whistle_reported_in_time` from its `Reported` event vs the
//!   target's `response_due`, counted in the period of the whistle.
//! * **As of.** Only events with `at <= as_of` are seen, so a month recomputed later with the same
//!   `as_of` gives the same numbers.

use crate::lifecycle::{Event, EventKind, RequestId};
use crate::model::Satisfaction;
use jiesu_world::AssessmentWeights;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::Offset;
use serde::Serialize;
use std::collections::BTreeMap;

/// One request's event log, in `seq` order.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    pub id: RequestId,
    pub events: Vec<Event>,
}

/// What the groups are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The unit the cycle / callback / whistle is attributed to.
    Unit,
    /// The request's street (a community's requests belong to its street).
    Street,
    /// The request's leaf category.
    Category,
    /// The request's top-level category.
    TopCategory,
    /// The request's channel.
    Channel,
}

impl std::str::FromStr for GroupBy {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "unit" => GroupBy::Unit,
            "street" => GroupBy::Street,
            "category" => GroupBy::Category,
            "top_category" => GroupBy::TopCategory,
            "channel" => GroupBy::Channel,
            _ => return Err(()),
        })
    }
}

/// A half-open period [start, end) of Beijing civil time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// As written: `2026-10`, `2026-W43`, `2026-Q4`, `2026`, `2026-10-05`.
    pub label: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Midnight in Beijing. Asia/Shanghai has kept UTC+8 without daylight saving since 1991, so a
/// fixed offset is exact for every date jiesu handles and needs no time-zone database.
fn midnight(d: Date) -> Option<Timestamp> {
    Offset::constant(8)
        .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .ok()
}

impl Period {
    /// Parses a period label; `None` when it is not one of the five forms.
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        let num = |t: &str| -> Option<i64> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        };
        let year = |t: &str| -> Option<i16> {
            let y = num(t)?;
            if t.len() == 4 && (1900..=2999).contains(&y) {
                i16::try_from(y).ok()
            } else {
                None
            }
        };
        let (first, last) = match s.split('-').collect::<Vec<_>>().as_slice() {
            [y] => {
                let y = year(y)?;
                (Date::new(y, 1, 1).ok()?, Date::new(y + 1, 1, 1).ok()?)
            }
            [y, q] if q.starts_with('Q') => {
                let y = year(y)?;
                let q = num(&q[1..])?;
                // One digit: `Q4`, not `Q04`.
                if !(1..=4).contains(&q) || s.len() != 7 {
                    return None;
                }
                let m = i8::try_from((q - 1) * 3 + 1).ok()?;
                let start = Date::new(y, m, 1).ok()?;
                (start, start.checked_add(jiff::Span::new().months(3)).ok()?)
            }
            [y, w] if w.starts_with('W') => {
                let y = year(y)?;
                let w = num(&w[1..])?;
                let w = i8::try_from(w).ok()?;
                let start = jiff::civil::ISOWeekDate::new(y, w, Weekday::Monday)
                    .ok()?
                    .date();
                (start, start.checked_add(jiff::Span::new().days(7)).ok()?)
            }
            [y, m] => {
                let y = year(y)?;
                if m.len() != 2 {
                    return None;
                }
                let m = i8::try_from(num(m)?).ok()?;
                let start = Date::new(y, m, 1).ok()?;
                (start, start.checked_add(jiff::Span::new().months(1)).ok()?)
            }
            [y, m, d] => {
                let y = year(y)?;
                if m.len() != 2 || d.len() != 2 {
                    return None;
                }
                let start =
                    Date::new(y, i8::try_from(num(m)?).ok()?, i8::try_from(num(d)?).ok()?).ok()?;
                (start, start.tomorrow().ok()?)
            }
            _ => return None,
        };
        Some(Period {
            label: s.to_string(),
            start: midnight(first)?,
            end: midnight(last)?,
        })
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// Counts and rates of one group. Every rate comes with the counts behind it; a rate whose
/// denominator is zero is `None` (shown as null), never 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupScore {
    pub key: String,
    /// Display name; filled by the caller that knows the world.
    pub name: Option<String>,
    /// Response cycles opened in the period (denominator of 响应率).
    pub dispatched: u64,
    /// Of those, signed and first-contacted by `response_due` (numerator of 响应率).
    pub responded_in_time: u64,
    /// 响应率, percent.
    pub response_rate: Option<f64>,
    /// Cycles opened in the period that were replied to by the cut-off.
    pub replied: u64,
    /// Of those, replied by the completion deadline as extended by approved 延期.
    pub replied_in_time: u64,
    /// Requests with a callback in the period (reached or not).
    pub callbacks: u64,
    /// Requests whose every callback in the period failed to reach the caller.
    pub callbacks_unreached: u64,
    /// Requests with a reached callback in the period (denominator of 解决率 and 满意率).
    pub callbacks_reached: u64,
    /// Of those, the caller said resolved (numerator of 解决率).
    pub resolved: u64,
    /// 解决率, percent.
    pub resolution_rate: Option<f64>,
    /// Reached callbacks with a satisfaction answer.
    pub satisfaction_answers: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    /// 满意率: mean score of the answers (weights file: 满意 100 / 基本满意 80 / 不满意 0).
    pub satisfaction_score: Option<f64>,
    /// Share of answers that were 满意 or 基本满意, percent.
    pub satisfied_share: Option<f64>,
    /// 吹哨: departments whistled in the period.
    pub whistled: u64,
    /// Of those, reported (报到) by the target's `response_due`.
    pub whistle_reported_in_time: u64,
    pub whistle_response_rate: Option<f64>,
    /// weights.response × 响应率 + weights.resolution × 解决率 + weights.satisfaction × 满意率,
    /// divided by the sum of the weights; `None` when any of the three rates is `None`.
    pub composite: Option<f64>,
    /// 1 = best. Groups without a composite are ranked after all groups with one, by key.
    pub rank: Option<u32>,
    /// Among the last `bottom` groups that have a composite (ties included).
    pub bottom: bool,
}

/// The whole assessment: one row per group and the totals over all requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub period: Period,
    pub as_of: Timestamp,
    pub by: GroupBy,
    pub groups: Vec<GroupScore>,
    pub totals: GroupScore,
}

/// What to compute.
pub struct Query<'a> {
    pub period: Period,
    pub as_of: Timestamp,
    pub by: GroupBy,
    pub weights: &'a AssessmentWeights,
    /// How many groups at the bottom are flagged (治理类 candidates).
    pub bottom: usize,
    /// Maps a leaf category to its top-level category (for [`GroupBy::TopCategory`]).
    pub top_category: &'a dyn Fn(&str) -> String,
}

/// One response cycle of one unit.
struct Cycle {
    unit: String,
    opened: Timestamp,
    response_due: Timestamp,
    completion_due: Timestamp,
    accepted: Option<Timestamp>,
    contacted: Option<Timestamp>,
    replied: Option<Timestamp>,
    /// A 退单 not yet decided.
    return_pending: bool,
    /// The 退单 was sustained: the request went elsewhere.
    sustained_return: bool,
}

/// A whistled department's part.
struct Whistle {
    unit: String,
    at: Timestamp,
    due: Timestamp,
    reported: Option<Timestamp>,
}

/// Counts one request into `acc` (per group) and `total`.
fn count_request(
    log: &RequestLog,
    q: &Query<'_>,
    acc: &mut BTreeMap<String, GroupScore>,
    total: &mut GroupScore,
) {
    let events: Vec<&Event> = log.events.iter().filter(|e| e.at <= q.as_of).collect();
    let Some(EventKind::Received { intake }) = events.first().map(|e| &e.kind) else {
        // Not received by the cut-off (or a corrupt log): nothing to count.
        return;
    };
    let mut cycles: Vec<Cycle> = Vec::new();
    let mut whistles: Vec<Whistle> = Vec::new();
    let mut lead: Option<String> = None;
    // The latest callback in the period: (reached, resolved, satisfaction, lead unit then).
    let mut any_callback_unit: Option<String> = None;
    let mut reached_callback: Option<(bool, Option<Satisfaction>, String)> = None;
    for e in &events {
        match &e.kind {
            EventKind::MergedInto { .. } => return, // 并单 child: the master carries the score.
            EventKind::Closed {
                special: Some(_), ..
            } => return, // Art.11 special handling: outside the assessment.
            EventKind::Dispatched {
                unit,
                response_due,
                completion_due,
                overrule,
                ..
            } => {
                lead = Some(unit.clone());
                if let Some(c) = cycles.last_mut().filter(|c| c.return_pending) {
                    c.return_pending = false;
                    if *overrule {
                        // Overruled 退单: the unit keeps the request; its cycle counts.
                        c.response_due = *response_due;
                        c.completion_due = *completion_due;
                        continue;
                    }
                    c.sustained_return = true;
                } else if *overrule {
                    continue;
                }
                cycles.push(Cycle {
                    unit: unit.clone(),
                    opened: e.at,
                    response_due: *response_due,
                    completion_due: *completion_due,
                    accepted: None,
                    contacted: None,
                    replied: None,
                    return_pending: false,
                    sustained_return: false,
                });
            }
            EventKind::Reopened {
                unit,
                response_due,
                completion_due,
                ..
            } => {
                lead = Some(unit.clone());
                cycles.push(Cycle {
                    unit: unit.clone(),
                    opened: e.at,
                    response_due: *response_due,
                    completion_due: *completion_due,
                    accepted: None,
                    contacted: None,
                    replied: None,
                    return_pending: false,
                    sustained_return: false,
                });
            }
            EventKind::Returned { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.return_pending = true;
                }
            }
            EventKind::Accepted { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.accepted.get_or_insert(e.at);
                }
            }
            EventKind::Contacted { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.contacted.get_or_insert(e.at);
                }
            }
            EventKind::Replied { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.replied.get_or_insert(e.at);
                }
            }
            EventKind::ExtensionDecided { completion_due, .. } => {
                // The event carries the deadline as decided (moved by the pause, and by the
                // granted days when approved).
                if let Some(c) = cycles.last_mut() {
                    c.completion_due = *completion_due;
                }
            }
            EventKind::Whistled { targets } => {
                for t in targets {
                    whistles.push(Whistle {
                        unit: t.unit.clone(),
                        at: e.at,
                        due: t.response_due,
                        reported: None,
                    });
                }
            }
            EventKind::Reported { unit, .. } => {
                if let Some(w) = whistles
                    .iter_mut()
                    .rev()
                    .find(|w| &w.unit == unit && w.reported.is_none())
                {
                    w.reported = Some(e.at);
                }
            }
            EventKind::CallbackRecorded {
                reached,
                resolved,
                satisfaction,
                ..
            } if q.period.contains(e.at) => {
                let unit = lead.clone().unwrap_or_default();
                any_callback_unit = Some(unit.clone());
                if *reached {
                    reached_callback = Some((*resolved == Some(true), *satisfaction, unit));
                }
            }
            _ => {}
        }
    }

    // The request's own key for the non-unit groupings.
    let request_key: Option<String> = match q.by {
        GroupBy::Unit => None,
        GroupBy::Street => Some(intake.street.clone().unwrap_or_default()),
        GroupBy::Category => Some(intake.category.clone().unwrap_or_default()),
        GroupBy::TopCategory => Some(
            intake
                .category
                .as_deref()
                .map(q.top_category)
                .unwrap_or_default(),
        ),
        GroupBy::Channel => Some(intake.channel.as_str().to_string()),
    };
    let key_for = |unit: &str| request_key.clone().unwrap_or_else(|| unit.to_string());
    let mut add = |key: String, f: &dyn Fn(&mut GroupScore)| {
        f(total);
        let g = acc.entry(key.clone()).or_insert_with(|| GroupScore {
            key,
            ..GroupScore::default()
        });
        f(g);
    };

    for c in &cycles {
        if !q.period.contains(c.opened) || c.sustained_return || c.return_pending {
            continue;
        }
        let in_time = matches!((c.accepted, c.contacted),
            (Some(a), Some(k)) if a <= c.response_due && k <= c.response_due);
        let replied = c.replied;
        let due = c.completion_due;
        add(key_for(&c.unit), &|g| {
            g.dispatched += 1;
            g.responded_in_time += u64::from(in_time);
            if let Some(r) = replied {
                g.replied += 1;
                g.replied_in_time += u64::from(r <= due);
            }
        });
    }
    for w in &whistles {
        if !q.period.contains(w.at) {
            continue;
        }
        let in_time = w.reported.is_some_and(|r| r <= w.due);
        add(key_for(&w.unit), &|g| {
            g.whistled += 1;
            g.whistle_reported_in_time += u64::from(in_time);
        });
    }
    match (reached_callback, any_callback_unit) {
        (Some((resolved, satisfaction, unit)), _) => {
            add(key_for(&unit), &|g| {
                g.callbacks += 1;
                g.callbacks_reached += 1;
                g.resolved += u64::from(resolved);
                match satisfaction {
                    Some(Satisfaction::Satisfied) => {
                        g.satisfaction_answers += 1;
                        g.satisfied += 1;
                    }
                    Some(Satisfaction::BasicallySatisfied) => {
                        g.satisfaction_answers += 1;
                        g.basically_satisfied += 1;
                    }
                    Some(Satisfaction::Unsatisfied) => {
                        g.satisfaction_answers += 1;
                        g.unsatisfied += 1;
                    }
                    None => {}
                }
            });
        }
        (None, Some(unit)) => add(key_for(&unit), &|g| {
            g.callbacks += 1;
            g.callbacks_unreached += 1;
        }),
        (None, None) => {}
    }
}

fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

/// Fills the rates and the composite from the counts.
fn finish(g: &mut GroupScore, w: &AssessmentWeights) {
    g.response_rate = pct(g.responded_in_time, g.dispatched);
    g.resolution_rate = pct(g.resolved, g.callbacks_reached);
    g.whistle_response_rate = pct(g.whistle_reported_in_time, g.whistled);
    g.satisfied_share = pct(g.satisfied + g.basically_satisfied, g.satisfaction_answers);
    g.satisfaction_score = (g.satisfaction_answers > 0).then(|| {
        (g.satisfied as f64 * w.satisfied_score
            + g.basically_satisfied as f64 * w.basically_satisfied_score
            + g.unsatisfied as f64 * w.unsatisfied_score)
            / g.satisfaction_answers as f64
    });
    let sum = w.response + w.resolution + w.satisfaction;
    g.composite = match (g.response_rate, g.resolution_rate, g.satisfaction_score) {
        (Some(r), Some(s), Some(m)) if sum > 0.0 => {
            Some((w.response * r + w.resolution * s + w.satisfaction * m) / sum)
        }
        _ => None,
    };
}

/// Computes the assessment of `q.period` as of `q.as_of` from the logs.
pub fn assess<'l>(logs: impl IntoIterator<Item = &'l RequestLog>, q: &Query<'_>) -> Assessment {
    let mut acc = BTreeMap::new();
    let mut totals = GroupScore {
        key: "total".into(),
        ..GroupScore::default()
    };
    for log in logs {
        count_request(log, q, &mut acc, &mut totals);
    }
    let mut groups: Vec<GroupScore> = acc.into_values().collect();
    for g in &mut groups {
        finish(g, q.weights);
    }
    finish(&mut totals, q.weights);
    rank(&mut groups, q.bottom);
    Assessment {
        period: q.period.clone(),
        as_of: q.as_of,
        by: q.by,
        groups,
        totals,
    }
}

/// Sorts best first and sets `rank` (ties share a rank: 1, 2, 2, 4) and `bottom`.
fn rank(groups: &mut [GroupScore], bottom: usize) {
    groups.sort_by(|a, b| match (a.composite, b.composite) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.key.cmp(&b.key),
    });
    let scored: Vec<f64> = groups.iter().filter_map(|g| g.composite).collect();
    let mut prev: Option<(f64, u32)> = None;
    for (i, g) in groups.iter_mut().enumerate() {
        let pos = u32::try_from(i + 1).unwrap_or(u32::MAX);
        g.rank = Some(match (g.composite, prev) {
            (Some(c), Some((p, r))) if c == p => r,
            _ => pos,
        });
        if let Some(c) = g.composite {
            prev = Some((c, g.rank.unwrap_or(pos)));
            // Bottom: fewer than `bottom` scored groups are strictly worse.
            let worse = scored.iter().filter(|&&o| o < c).count();
            g.bottom = bottom > 0 && worse < bottom;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fast path: assessment facts.
//
// `assess` replays every log of a period at query time. The store instead keeps, per request,
// the few facts the counting rules read (one row per response cycle version, per callback, per
// whistle target), each with the instants at which it starts and stops counting. "As of A" then
// becomes comparisons of those instants with A, and a period is one GROUP BY per fact table.
// `request_facts` derives the facts from a whole log with exactly the state machine of
// `count_request`; `assemble` turns the grouped counts into the same `Assessment` as `assess`.
// ---------------------------------------------------------------------------------------------

/// `valid_to` of a fact that never stops counting.
pub const FOREVER_MS: i64 = i64::MAX;
/// `prev_reached_at` of a callback with no reached callback before it.
pub const NEVER_MS: i64 = i64::MIN;

/// One version of a response cycle: the cycle counts for every `as_of` in
/// [`valid_from`, `valid_to`) with these deadlines. A new version starts when an overruled 退单
/// or a 延期 decision changes a deadline; there is no version while a 退单 is undecided or after
/// it was sustained, nor after the request was merged away or closed with a special handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleFact {
    /// 0-based cycle number within the request.
    pub cycle: i32,
    /// 0-based version within the cycle.
    pub version: i32,
    pub unit: String,
    /// When the cycle was opened (its period).
    pub opened_at: i64,
    pub valid_from: i64,
    /// Exclusive; [`FOREVER_MS`] when open-ended.
    pub valid_to: i64,
    pub response_due: i64,
    pub completion_due: i64,
    /// First 签收 / contact / reply inside the cycle (any time; compared with `as_of` at query).
    pub accepted_at: Option<i64>,
    pub contacted_at: Option<i64>,
    pub replied_at: Option<i64>,
}

/// One 回访, with what is needed to find "the latest reached callback of the request in the
/// period as of A" without looking at the other rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackFact {
    /// 0-based number within the request.
    pub n: i32,
    pub at: i64,
    /// Exclusive end of validity (merge / special close); [`FOREVER_MS`] otherwise.
    pub valid_to: i64,
    /// The lead unit when the callback was made.
    pub unit: String,
    pub reached: bool,
    pub resolved: bool,
    /// 0 none, 1 满意, 2 基本满意, 3 不满意.
    pub satisfaction: i16,
    /// Time of the next callback of the request ([`FOREVER_MS`] if none).
    pub next_at: i64,
    /// Time of the next *reached* callback ([`FOREVER_MS`] if none).
    pub next_reached_at: i64,
    /// Time of the latest reached callback up to and including this one ([`NEVER_MS`] if none).
    pub prev_reached_at: i64,
}

/// One whistled department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhistleFact {
    /// 0-based number within the request.
    pub n: i32,
    pub unit: String,
    pub at: i64,
    pub valid_to: i64,
    pub due: i64,
    pub reported_at: Option<i64>,
}

/// Everything the fast path knows about one request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RequestFacts {
    pub request_id: RequestId,
    /// Request-level group keys from the intake ("" when absent).
    pub street: String,
    pub category: String,
    pub channel: String,
    pub cycles: Vec<CycleFact>,
    pub callbacks: Vec<CallbackFact>,
    pub whistles: Vec<WhistleFact>,
}

/// Whether an event kind can change a request's facts (others — 督办, 延期 requested, 挂账,
/// ordinary 办结, 并入 — leave them alone, so the store need not recompute).
pub fn affects_facts(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Escalated { .. }
            | EventKind::ExtensionRequested { .. }
            | EventKind::Suspended
            | EventKind::MergeReceived { .. }
            | EventKind::Closed { special: None, .. }
    )
}

/// The facts of one request from its whole log (in `seq` order).
pub fn request_facts(id: RequestId, events: &[Event]) -> RequestFacts {
    struct Open {
        unit: String,
        opened: i64,
        /// Current version's start; `None` while the cycle does not count (退单 undecided or
        /// sustained).
        from: Option<i64>,
        response_due: i64,
        completion_due: i64,
        accepted: Option<i64>,
        contacted: Option<i64>,
        replied: Option<i64>,
        return_pending: bool,
        versions: Vec<(i64, i64, i64, i64)>, // (from, to, response_due, completion_due)
    }
    impl Open {
        /// Ends the current version at `t` (if counting).
        fn close(&mut self, t: i64) {
            if let Some(from) = self.from.take() {
                self.versions
                    .push((from, t, self.response_due, self.completion_due));
            }
        }
    }
    let mut out = RequestFacts {
        request_id: id,
        ..RequestFacts::default()
    };
    let Some(EventKind::Received { intake }) = events.first().map(|e| &e.kind) else {
        return out;
    };
    out.street = intake.street.clone().unwrap_or_default();
    out.category = intake.category.clone().unwrap_or_default();
    out.channel = intake.channel.as_str().to_string();
    let mut cycles: Vec<Open> = Vec::new();
    let mut whistles: Vec<WhistleFact> = Vec::new();
    let mut callbacks: Vec<CallbackFact> = Vec::new();
    let mut lead: Option<String> = None;
    let mut excluded: Option<i64> = None;
    let new_cycle = |unit: &String, at: i64, rd: Timestamp, cd: Timestamp| Open {
        unit: unit.clone(),
        opened: at,
        from: Some(at),
        response_due: rd.as_millisecond(),
        completion_due: cd.as_millisecond(),
        accepted: None,
        contacted: None,
        replied: None,
        return_pending: false,
        versions: Vec::new(),
    };
    for e in events {
        let at = e.at.as_millisecond();
        match &e.kind {
            EventKind::MergedInto { .. }
            | EventKind::Closed {
                special: Some(_), ..
            } => {
                excluded = Some(at);
                break;
            }
            EventKind::Dispatched {
                unit,
                response_due,
                completion_due,
                overrule,
                ..
            } => {
                lead = Some(unit.clone());
                if let Some(c) = cycles.last_mut().filter(|c| c.return_pending) {
                    c.return_pending = false;
                    if *overrule {
                        c.response_due = response_due.as_millisecond();
                        c.completion_due = completion_due.as_millisecond();
                        c.from = Some(at);
                        continue;
                    }
                    // Sustained: the cycle never counts again (it was not counting while
                    // pending, so there is no version to close).
                } else if *overrule {
                    continue;
                }
                cycles.push(new_cycle(unit, at, *response_due, *completion_due));
            }
            EventKind::Reopened {
                unit,
                response_due,
                completion_due,
                ..
            } => {
                lead = Some(unit.clone());
                cycles.push(new_cycle(unit, at, *response_due, *completion_due));
            }
            EventKind::Returned { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.close(at);
                    c.return_pending = true;
                }
            }
            EventKind::Accepted { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.accepted.get_or_insert(at);
                }
            }
            EventKind::Contacted { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.contacted.get_or_insert(at);
                }
            }
            EventKind::Replied { .. } => {
                if let Some(c) = cycles.last_mut() {
                    c.replied.get_or_insert(at);
                }
            }
            EventKind::ExtensionDecided { completion_due, .. } => {
                if let Some(c) = cycles.last_mut() {
                    let counting = c.from.is_some();
                    c.close(at);
                    c.completion_due = completion_due.as_millisecond();
                    if counting {
                        c.from = Some(at);
                    }
                }
            }
            EventKind::Whistled { targets } => {
                for t in targets {
                    whistles.push(WhistleFact {
                        n: i32::try_from(whistles.len()).unwrap_or(i32::MAX),
                        unit: t.unit.clone(),
                        at,
                        valid_to: FOREVER_MS,
                        due: t.response_due.as_millisecond(),
                        reported_at: None,
                    });
                }
            }
            EventKind::Reported { unit, .. } => {
                if let Some(w) = whistles
                    .iter_mut()
                    .rev()
                    .find(|w| &w.unit == unit && w.reported_at.is_none())
                {
                    w.reported_at = Some(at);
                }
            }
            EventKind::CallbackRecorded {
                reached,
                resolved,
                satisfaction,
                ..
            } => {
                callbacks.push(CallbackFact {
                    n: i32::try_from(callbacks.len()).unwrap_or(i32::MAX),
                    at,
                    valid_to: FOREVER_MS,
                    unit: lead.clone().unwrap_or_default(),
                    reached: *reached,
                    resolved: *resolved == Some(true),
                    satisfaction: match satisfaction {
                        None => 0,
                        Some(Satisfaction::Satisfied) => 1,
                        Some(Satisfaction::BasicallySatisfied) => 2,
                        Some(Satisfaction::Unsatisfied) => 3,
                    },
                    next_at: FOREVER_MS,
                    next_reached_at: FOREVER_MS,
                    prev_reached_at: NEVER_MS,
                });
            }
            _ => {}
        }
    }
    let end = excluded.unwrap_or(FOREVER_MS);
    for (i, mut c) in cycles.into_iter().enumerate() {
        c.close(end);
        for (v, (from, to, rd, cd)) in c.versions.into_iter().enumerate() {
            if from >= to {
                continue; // empty: two changes in the same millisecond
            }
            out.cycles.push(CycleFact {
                cycle: i32::try_from(i).unwrap_or(i32::MAX),
                version: i32::try_from(v).unwrap_or(i32::MAX),
                unit: c.unit.clone(),
                opened_at: c.opened,
                valid_from: from,
                valid_to: to,
                response_due: rd,
                completion_due: cd,
                accepted_at: c.accepted,
                contacted_at: c.contacted,
                replied_at: c.replied,
            });
        }
    }
    let mut prev_reached = NEVER_MS;
    for cb in &mut callbacks {
        if cb.reached {
            prev_reached = cb.at;
        }
        cb.prev_reached_at = prev_reached;
        cb.valid_to = end;
    }
    let (mut next, mut next_reached) = (FOREVER_MS, FOREVER_MS);
    for cb in callbacks.iter_mut().rev() {
        cb.next_at = next;
        cb.next_reached_at = next_reached;
        next = cb.at;
        if cb.reached {
            next_reached = cb.at;
        }
    }
    out.callbacks = callbacks;
    for w in &mut whistles {
        w.valid_to = end;
    }
    out.whistles = whistles;
    out
}

impl GroupScore {
    /// Adds another group's counts to this one (rates are recomputed by `assemble`).
    pub fn add_counts(&mut self, o: &GroupScore) {
        self.dispatched += o.dispatched;
        self.responded_in_time += o.responded_in_time;
        self.replied += o.replied;
        self.replied_in_time += o.replied_in_time;
        self.callbacks += o.callbacks;
        self.callbacks_unreached += o.callbacks_unreached;
        self.callbacks_reached += o.callbacks_reached;
        self.resolved += o.resolved;
        self.satisfaction_answers += o.satisfaction_answers;
        self.satisfied += o.satisfied;
        self.basically_satisfied += o.basically_satisfied;
        self.unsatisfied += o.unsatisfied;
        self.whistled += o.whistled;
        self.whistle_reported_in_time += o.whistle_reported_in_time;
    }
}

/// The assessment from grouped counts (the fast path's answer). `counts` are keyed as `q.by`
/// says, except that for [`GroupBy::TopCategory`] they are keyed by leaf category and folded
/// here through `q.top_category`. Rates, composite, ranks and bottom flags as in `assess`.
pub fn assemble(counts: impl IntoIterator<Item = GroupScore>, q: &Query<'_>) -> Assessment {
    let mut acc: BTreeMap<String, GroupScore> = BTreeMap::new();
    let mut totals = GroupScore {
        key: "total".into(),
        ..GroupScore::default()
    };
    for c in counts {
        let key = match q.by {
            GroupBy::TopCategory if !c.key.is_empty() => (q.top_category)(&c.key),
            _ => c.key.clone(),
        };
        totals.add_counts(&c);
        acc.entry(key.clone())
            .or_insert_with(|| GroupScore {
                key,
                ..GroupScore::default()
            })
            .add_counts(&c);
    }
    let mut groups: Vec<GroupScore> = acc.into_values().collect();
    for g in &mut groups {
        finish(g, q.weights);
    }
    finish(&mut totals, q.weights);
    rank(&mut groups, q.bottom);
    Assessment {
        period: q.period.clone(),
        as_of: q.as_of,
        by: q.by,
        groups,
        totals,
    }
}
