//! The history generator: every request is driven through the real domain (`decide`,
//! `decide_merge`, `sla_breaches`) at simulated times, so the stored logs are exactly what the
//! running system would have written.

use super::rng::{Rng, Weighted};
use super::texts;
use anyhow::{Result, bail};
use jiesu_domain::commands::sla_class_for;
use jiesu_domain::{
    Actor, Caller, Channel, Command, ContactMethod, Ctx, Directory, Event, EventKind, Intake,
    NewEvent, RequestState, RequestType, Role, Satisfaction, SpecialHandling,
};
use jiesu_world::{DayKind, Responsible, Span, UnitKind};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::{HashMap, VecDeque};

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;
/// Asia/Shanghai has been a fixed +08:00 since 1991; local-day arithmetic on plain
/// milliseconds is much cheaper than zoned conversions for millions of steps.
const TZ_OFFSET: i64 = 8 * HOUR;
const OFFICE_OPEN: i64 = 8 * HOUR + 30 * MIN;
const OFFICE_CLOSE: i64 = 17 * HOUR + 30 * MIN;
/// How far back a duplicate may find its master, and how long requests are kept in memory so
/// a later duplicate can still be merged into them.
const MERGE_LOOKBACK: i64 = 2 * DAY;
const WINDOW: i64 = 3 * DAY;

pub fn local_day(ms: i64) -> i64 {
    (ms + TZ_OFFSET).div_euclid(DAY)
}
fn local_tod(ms: i64) -> i64 {
    (ms + TZ_OFFSET).rem_euclid(DAY)
}
/// UTC milliseconds of local midnight starting `day`.
pub fn day_start(day: i64) -> i64 {
    day * DAY - TZ_OFFSET
}
pub fn ts(ms: i64) -> Timestamp {
    // Demo instants lie within a few years of now, far inside jiff's range.
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}
fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}
pub fn date_of(day: i64) -> Date {
    ts(day * DAY).to_zoned_datetime(TimeZone::UTC).date()
}

/// Whether a local day is a working day. Days in years without a holiday file (only reached
/// by timing guesses past the end of the history) count as plain weeks without the
/// calendar's warning, which would only confuse the demo's output.
fn working_day(dir: &Directory, day: i64) -> bool {
    let date = date_of(day);
    if dir.calendar.knows_year(date.year()) {
        dir.calendar.is_working_day(date)
    } else {
        !matches!(
            date.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        )
    }
}

/// The demo accounts acting in the history.
pub struct Accounts {
    pub operator: Actor,
    pub dispatcher: Actor,
    pub callback: Actor,
    pub supervisor: Actor,
    /// Real handler accounts by unit; other units act through a synthetic handler.
    pub handlers: HashMap<String, Actor>,
}

fn citizen() -> Actor {
    Actor {
        user_id: None,
        username: "citizen".into(),
        role: Role::Citizen,
        unit: None,
    }
}

struct Leaf {
    code: String,
    name: String,
    top: String,
    keywords: Vec<String>,
    /// `None`: the street office of the request's street.
    unit: Option<String>,
}

struct StreetInfo {
    code: String,
    name: String,
    office: String,
    communities: Vec<String>,
}

#[derive(Default, Debug)]
pub struct Stats {
    pub requests: u64,
    pub events: u64,
    /// Commands the domain refused: a generator bug, never written.
    pub refused: u64,
    pub first_refusal: Option<String>,
    pub merged: u64,
}

pub type Item = (RequestState, Vec<Event>);

/// One request's log being written.
struct Sim<'a> {
    dir: &'a Directory,
    end: i64,
    st: RequestState,
    events: Vec<Event>,
    stopped: bool,
    refused: Option<String>,
}

impl<'a> Sim<'a> {
    fn last(&self) -> i64 {
        ms(self.st.updated_at)
    }

    fn stamp(&mut self, decided: Vec<NewEvent>, actor: &Actor, t: i64) {
        for n in decided {
            let e = Event {
                seq: self.st.version + 1,
                at: ts(t),
                actor: actor.clone(),
                reason: n.reason,
                kind: n.kind,
            };
            self.st.apply(&e);
            self.events.push(e);
        }
    }

    /// `cmd` by `actor` at `t` (at least a second after the previous event). Breaches due
    /// before `t` are raised first, as the SLA sweep would have. False when `t` lies beyond
    /// the end of the history or the domain refused (the request then stays as it is).
    fn act(&mut self, rng: &mut Rng, t: i64, actor: &Actor, cmd: Command) -> bool {
        if self.stopped {
            return false;
        }
        let t = t.max(self.last() + 1000);
        if t > self.end {
            self.stopped = true;
            return false;
        }
        self.sweep(rng, t);
        let ctx = Ctx {
            dir: self.dir,
            now: ts(t),
        };
        match jiesu_domain::decide(&self.st, actor, &cmd, &ctx) {
            Ok(evs) => {
                self.stamp(evs, actor, t);
                true
            }
            Err(e) => {
                self.refused = Some(format!(
                    "{} on {:?} request {}: {e}",
                    cmd.name(),
                    self.st.status,
                    self.st.id
                ));
                self.stopped = true;
                false
            }
        }
    }

    /// The earliest unflagged deadline the SLA sweep watches.
    fn next_breach(&self) -> Option<i64> {
        let st = &self.st;
        let mut due: Option<i64> = None;
        let mut consider = |d: i64| due = Some(due.map_or(d, |x: i64| x.min(d)));
        if st.response_pending()
            && !st.response_overdue
            && let Some(d) = st.response_due
        {
            consider(ms(d));
        }
        if st.completion_clock_running()
            && !st.completion_overdue
            && let Some(d) = st.completion_due
        {
            consider(ms(d));
        }
        if !st.status.is_terminal() {
            for c in &st.co_handlers {
                if c.reported_at.is_none() && !c.overdue {
                    consider(ms(c.response_due));
                }
            }
        }
        due
    }

    /// Raises every breach due before `t`, each within a minute of its deadline (the sweep's
    /// period), as the system.
    fn sweep(&mut self, rng: &mut Rng, t: i64) {
        let system = Actor::system();
        for _ in 0..8 {
            let Some(due) = self.next_breach() else {
                return;
            };
            let lo = (due + 1).max(self.last() + 1);
            if lo >= t {
                return;
            }
            let at = (lo + rng.range(1000, 60_000)).min(t - 1);
            let evs = jiesu_domain::sla_breaches(&self.st, ts(at));
            if evs.is_empty() {
                return;
            }
            self.stamp(evs, &system, at);
        }
    }
}

/// Per-request choices drawn up front.
#[derive(Clone, Copy)]
struct Plan {
    late_response: bool,
    late_completion: bool,
    extension: bool,
    whistle: bool,
    suspend: bool,
    escalate: bool,
}

pub struct Generator<'a> {
    dir: &'a Directory,
    rng: Rng,
    acc: Accounts,
    end: i64,
    streets: Vec<StreetInfo>,
    street_w: Weighted,
    leaves: Vec<Leaf>,
    /// Leaf weights per calendar month (index 0 = January).
    months: Vec<Weighted>,
    unit_names: HashMap<String, String>,
    handler_actors: HashMap<String, Actor>,
    departments: Vec<String>,
    working: Vec<bool>,
    working_first: i64,
    next_id: i64,
    code_salt: u64,
    window: VecDeque<Item>,
    pub stats: Stats,
    /// Multiplier of the rare paths' probabilities (1 for the demo).
    pub rare: f64,
}

/// Share of all calls per top category (percent; the Xicheng mix, roughly).
fn top_share(top: &str) -> f64 {
    match top {
        "heating" => 5.0,
        "property" => 11.0,
        "housing" => 6.0,
        "market" => 8.0,
        "medical" => 4.0,
        "construction" => 7.0,
        "traffic" => 7.0,
        "noise" => 5.0,
        "sanitation" => 7.0,
        "labor" => 4.0,
        "education" => 3.5,
        "elderly" => 3.0,
        "childcare" => 1.0,
        "enterprise" => 2.0,
        "water" => 3.0,
        "power" => 2.0,
        "gas" => 0.8,
        "greening" => 2.5,
        "municipal" => 4.0,
        "order" => 3.0,
        "civil" => 3.0,
        "culture" => 1.2,
        "commerce" => 1.2,
        "safety" => 2.0,
        "consult" => 6.0,
        _ => 1.5,
    }
}

/// Seasonal multiplier of a top category in month `m` (1–12).
fn season(top: &str, m: usize) -> f64 {
    let table: [f64; 12] = match top {
        // Heating runs 15 November – 15 March; calls peak as it starts.
        "heating" => [2.2, 1.6, 1.0, 0.15, 0.1, 0.1, 0.1, 0.1, 0.15, 0.5, 2.6, 2.8],
        "construction" | "noise" => [0.6, 0.5, 0.8, 1.0, 1.2, 1.4, 1.5, 1.5, 1.2, 1.0, 0.8, 0.6],
        "sanitation" => [0.9, 0.9, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, 1.0, 0.9, 1.0],
        "water" => [0.9, 0.8, 0.8, 0.9, 1.0, 1.2, 1.6, 1.5, 1.0, 0.9, 0.9, 1.0],
        "power" => [1.0, 0.9, 0.8, 0.8, 1.0, 1.3, 1.6, 1.5, 1.0, 0.8, 0.9, 1.0],
        "greening" => [0.4, 0.4, 0.8, 1.5, 1.6, 1.4, 1.3, 1.2, 1.0, 0.9, 0.7, 0.4],
        "education" | "childcare" => [0.8, 0.7, 1.0, 1.3, 1.5, 1.4, 1.3, 1.4, 1.3, 0.9, 0.8, 0.8],
        _ => [1.0; 12],
    };
    table[(m.clamp(1, 12)) - 1]
}

/// Weight of a leaf within its top category in month `m`.
fn leaf_factor(leaf: &str, m: usize) -> f64 {
    let winter = matches!(m, 11 | 12 | 1 | 2 | 3);
    match (leaf, m) {
        ("heating.no-heat", 11 | 12 | 1 | 2) => 3.0,
        ("heating.no-heat", 3) => 1.5,
        ("heating.no-heat", 10) => 0.2,
        ("heating.no-heat", _) => 0.05,
        ("heating.leak", _) if winter => 1.0,
        ("heating.leak", _) => 0.2,
        ("heating.schedule", 10) => 3.0,
        ("heating.schedule", 11 | 3) => 1.0,
        ("heating.schedule", _) => 0.1,
        ("sanitation.street-cleaning", 12 | 1 | 2) => 2.0,
        ("sanitation.street-cleaning", _) => 0.7,
        ("sanitation.fumes", 6..=8) => 1.5,
        ("greening.pests", 6..=9) => 2.0,
        ("greening.pests", _) => 0.3,
        // 杨柳絮 season.
        ("greening.trees", 4 | 5) => 1.6,
        ("property.service" | "traffic.parking" | "market.consumer", _) => 2.0,
        (
            "traffic.illegal-parking"
            | "noise.neighborhood"
            | "sanitation.garbage"
            | "construction.noise"
            | "construction.decoration",
            _,
        ) => 1.5,
        _ => 1.0,
    }
}

/// Calls per hour of the day (local), relative.
const HOURS: [f64; 24] = [
    0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.6, 1.5, 3.5, 6.0, 6.5, 5.5, 3.5, 4.0, 5.5, 6.0, 5.5, 4.0, 3.0,
    3.0, 3.0, 2.5, 1.6, 0.8,
];

/// Overall volume by month (index 0 = January): the Spring Festival dip, summer and heating peaks.
const MONTH_VOLUME: [f64; 12] = [
    1.05, 0.85, 0.95, 0.9, 0.95, 1.0, 1.1, 1.1, 0.95, 0.9, 1.1, 1.15,
];

/// Categories where neighbours call about the same thing (并单 candidates).
fn duplicate_prone(top: &str) -> bool {
    matches!(
        top,
        "heating"
            | "noise"
            | "construction"
            | "water"
            | "power"
            | "sanitation"
            | "municipal"
            | "traffic"
    )
}

/// The department a street whistles in for a top category.
fn whistle_target(top: &str) -> &'static [&'static str] {
    match top {
        "property" => &["housing-admin", "market-regulation"],
        "construction" => &["urban-enforcement", "housing-admin"],
        "noise" => &["public-security", "ecology", "urban-enforcement"],
        "sanitation" => &["city-management", "urban-enforcement"],
        "safety" => &["emergency-management", "urban-enforcement"],
        "traffic" => &["traffic"],
        "municipal" => &["city-management"],
        _ => &["urban-enforcement", "city-management"],
    }
}

fn special_for(top: &str, rng: &mut Rng) -> SpecialHandling {
    use SpecialHandling::*;
    match top {
        "order" => Transfer110,
        "traffic" => Transfer122,
        "medical" => *rng.pick(&[Transfer120, LegalChannel]),
        "gas" | "safety" => Transfer119,
        "labor" | "housing" => LegalChannel,
        _ => *rng.pick(&[
            Repeat,
            OutsideDuty,
            SecretsPrivacy,
            Illegal,
            Repeat,
            OutsideDuty,
        ]),
    }
}

impl<'a> Generator<'a> {
    pub fn new(dir: &'a Directory, seed: u64, end: Timestamp, acc: Accounts) -> Result<Self> {
        let w = &dir.world;
        let mut streets = Vec::new();
        let mut pops = Vec::new();
        for s in &w.streets {
            let Some(office) = dir.street_office(&s.code) else {
                continue;
            };
            streets.push(StreetInfo {
                code: s.code.clone(),
                name: s.name.clone(),
                office: office.code.clone(),
                communities: w
                    .communities
                    .iter()
                    .filter(|c| c.street_code == s.code)
                    .map(|c| c.code.clone())
                    .collect(),
            });
            pops.push(s.population.max(1) as f64);
        }
        if streets.is_empty() {
            bail!("the world has no street with a street office; nothing to simulate");
        }
        let mut leaves = Vec::new();
        for c in &w.categories {
            if !dir.is_leaf_category(&c.code) {
                continue;
            }
            let unit = match &c.responsible {
                Some(Responsible::Street) => None,
                Some(Responsible::Unit(u)) if dir.unit(u).is_some() => Some(u.clone()),
                _ => continue,
            };
            leaves.push(Leaf {
                code: c.code.clone(),
                name: c.name.clone(),
                top: dir.top_category(&c.code).to_string(),
                keywords: c.keywords.clone(),
                unit,
            });
        }
        if leaves.is_empty() {
            bail!("the world has no routable leaf category; nothing to simulate");
        }
        let months = (1..=12)
            .map(|m| {
                Weighted::new(
                    leaves
                        .iter()
                        .map(|l| top_share(&l.top) * season(&l.top, m) * leaf_factor(&l.code, m)),
                )
            })
            .collect();
        let unit_names = w
            .units
            .iter()
            .map(|u| (u.code.clone(), u.name.clone()))
            .collect();
        let handler_actors = w
            .units
            .iter()
            .map(|u| {
                let a = acc.handlers.get(&u.code).cloned().unwrap_or_else(|| Actor {
                    user_id: None,
                    username: format!("handler@{}", u.code),
                    role: Role::Handler,
                    unit: Some(u.code.clone()),
                });
                (u.code.clone(), a)
            })
            .collect();
        let departments = w
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Department)
            .map(|u| u.code.clone())
            .collect();
        let end_ms = ms(end);
        Ok(Generator {
            dir,
            rng: Rng::new(seed),
            acc,
            end: end_ms,
            streets,
            street_w: Weighted::new(pops),
            leaves,
            months,
            unit_names,
            handler_actors,
            departments,
            working: Vec::new(),
            working_first: 0,
            next_id: 1,
            code_salt: seed,
            window: VecDeque::new(),
            stats: Stats::default(),
            rare: 1.0,
        })
    }

    fn is_working(&self, day: i64) -> bool {
        let i = day - self.working_first;
        if i >= 0
            && let Some(&w) = self.working.get(i as usize)
        {
            return w;
        }
        working_day(self.dir, day)
    }

    /// `t` plus `d` milliseconds of office time (08:30–17:30 on working days).
    fn office(&self, t: i64, d: i64) -> i64 {
        let mut t = t;
        let mut left = d.max(0);
        for _ in 0..800 {
            let day = local_day(t);
            let tod = local_tod(t);
            if !self.is_working(day) || tod >= OFFICE_CLOSE {
                t = day_start(day + 1) + OFFICE_OPEN;
                continue;
            }
            if tod < OFFICE_OPEN {
                t = day_start(day) + OFFICE_OPEN;
            }
            let close = day_start(day) + OFFICE_CLOSE;
            if t + left <= close {
                return t + left;
            }
            left -= close - t;
            t = close;
        }
        t
    }

    /// A rare path, scaled by `rare`.
    fn rarely(&mut self, p: f64) -> bool {
        self.rng.chance((p * self.rare).min(0.9))
    }

    /// `t` plus a uniform `lo..hi` of office time.
    fn office_r(&mut self, t: i64, lo: i64, hi: i64) -> i64 {
        let d = self.rng.range(lo, hi);
        self.office(t, d)
    }

    fn handler(&self, unit: &str) -> Actor {
        self.handler_actors
            .get(unit)
            .cloned()
            .unwrap_or_else(|| Actor {
                user_id: None,
                username: format!("handler@{unit}"),
                role: Role::Handler,
                unit: Some(unit.to_string()),
            })
    }

    fn unit_name(&self, unit: &str) -> String {
        self.unit_names
            .get(unit)
            .cloned()
            .unwrap_or_else(|| unit.to_string())
    }

    /// Unique per run (a bijection of the counter), shaped like the store's codes.
    fn tracking_code(&self, id: i64, received: i64) -> String {
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
        const M: u64 = 887_503_681; // 31^6
        let mut x = ((id as u64 % M) * 387_420_489 + self.code_salt % M) % M;
        let d = date_of(local_day(received));
        let mut s = format!("XC{:02}{:02}{:02}", d.year() % 100, d.month(), d.day());
        let mut tail = [0u8; 6];
        for c in tail.iter_mut().rev() {
            *c = ALPHABET[(x % 31) as usize];
            x /= 31;
        }
        s.extend(tail.iter().map(|&b| b as char));
        s
    }

    /// Generates `total` requests received from local day `first_day` to the end, calling
    /// `emit` with chunks of about `chunk` requests in id order. Stops early if `emit` says so.
    pub fn run(
        &mut self,
        total: u64,
        first_day: i64,
        chunk: usize,
        mut emit: impl FnMut(Vec<Item>) -> bool,
    ) {
        let last_day = local_day(self.end);
        self.working_first = first_day - 1;
        self.working = (self.working_first..=last_day + 45)
            .map(|d| working_day(self.dir, d))
            .collect();
        // Day weights: working days, weekends and holidays, the month's volume, and for the
        // last day only the hours already past.
        let end_tod_hours = local_tod(self.end) as f64 / HOUR as f64;
        let day_total: f64 = HOURS.iter().sum();
        let mut weights = Vec::new();
        for d in first_day..=last_day {
            let date = date_of(d);
            let kind = self.dir.world.holidays.day(date);
            let mut w = match kind {
                Some(DayKind::Holiday) => 0.5,
                Some(DayKind::MakeupWorkday) => 0.95,
                None if self.is_working(d) => 1.0,
                None => 0.62,
            };
            w *= MONTH_VOLUME[(date.month() as usize).clamp(1, 12) - 1];
            if d == last_day {
                let mut past = 0.0;
                for (h, hw) in HOURS.iter().enumerate() {
                    let h = h as f64;
                    past += hw * (end_tod_hours - h).clamp(0.0, 1.0);
                }
                w *= past / day_total;
            }
            weights.push(w);
        }
        let sum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let hour_w = Weighted::new(HOURS);
        let mut out: Vec<Item> = Vec::with_capacity(chunk);
        let mut cum = 0.0;
        let mut done: u64 = 0;
        for (i, w) in weights.iter().enumerate() {
            let d = first_day + i as i64;
            cum += w / sum * total as f64;
            let upto = (cum.round() as u64).min(total);
            let n = upto.saturating_sub(done);
            done = upto;
            let mut times: Vec<i64> = (0..n)
                .map(|_| {
                    for _ in 0..32 {
                        let h = hour_w.pick(&mut self.rng) as i64;
                        let t = day_start(d) + h * HOUR + self.rng.range(0, HOUR);
                        if t < self.end {
                            return t;
                        }
                    }
                    self.end - self.rng.range(0, 10 * MIN)
                })
                .collect();
            times.sort_unstable();
            let month = date_of(d).month() as usize;
            for t0 in times {
                let item = self.one(t0, month);
                self.window.push_back(item);
                while self
                    .window
                    .front()
                    .is_some_and(|(st, _)| ms(st.intake.received_at) < t0 - WINDOW)
                {
                    if let Some(x) = self.window.pop_front() {
                        out.push(x);
                    }
                    if out.len() >= chunk
                        && !emit(std::mem::replace(&mut out, Vec::with_capacity(chunk)))
                    {
                        return;
                    }
                }
            }
        }
        out.extend(self.window.drain(..));
        while !out.is_empty() {
            let rest = if out.len() > chunk {
                out.split_off(chunk)
            } else {
                Vec::new()
            };
            if !emit(std::mem::replace(&mut out, rest)) {
                return;
            }
        }
    }

    /// One request received at `t0`.
    fn one(&mut self, t0: i64, month: usize) -> Item {
        let id = self.next_id;
        self.next_id += 1;
        self.stats.requests += 1;
        if self.rarely(0.02)
            && let Some(item) = self.duplicate(id, t0)
        {
            return item;
        }
        let si = self
            .street_w
            .pick(&mut self.rng)
            .min(self.streets.len() - 1);
        let li = self.months[(month.clamp(1, 12)) - 1]
            .pick(&mut self.rng)
            .min(self.leaves.len() - 1);
        let (place, address) = texts::address(&mut self.rng, &self.streets[si].code);
        let community = if self.streets[si].communities.is_empty() {
            None
        } else {
            Some(self.rng.pick(&self.streets[si].communities).clone())
        };
        let leaf = &self.leaves[li];
        let top = leaf.top.as_str();
        let request_type = request_type(&mut self.rng, &leaf.code, top);
        let channel = match self.rng.below(100) {
            _ if top == "enterprise" && self.rng.chance(0.5) => Channel::Enterprise,
            0..=79 => Channel::Hotline,
            80..=87 => Channel::App,
            88..=98 => Channel::Web,
            _ => Channel::Open311,
        };
        let urgent = match leaf.code.as_str() {
            "gas.leak" => self.rng.chance(0.6),
            "safety.building" => self.rng.chance(0.3),
            "property.elevator" | "water.pipe" => self.rng.chance(0.05),
            _ => false,
        };
        let unit = leaf
            .unit
            .clone()
            .unwrap_or_else(|| self.streets[si].office.clone());
        let unit_name = self.unit_name(&unit);
        let street_name = self.streets[si].name.clone();
        let call = texts::Call {
            street_name: &street_name,
            address: &address,
            top,
            leaf: &leaf.code,
            leaf_name: &leaf.name,
            keywords: &leaf.keywords,
            unit_name: &unit_name,
        };
        let text = match request_type {
            RequestType::Consultation => texts::consultation(&mut self.rng, &call),
            RequestType::Report => texts::report(&mut self.rng, &call),
            RequestType::Suggestion => texts::suggestion(&mut self.rng, &call),
            RequestType::Praise => texts::praise(&mut self.rng, &call),
            _ => texts::complaint(&mut self.rng, &call),
        };
        let intake = Intake {
            request_type,
            channel,
            category: Some(leaf.code.clone()),
            street: Some(self.streets[si].code.clone()),
            community,
            address: Some(address),
            title: Some(texts::title(&place, &leaf.name)),
            text,
            caller: Caller {
                name: texts::caller_name(&mut self.rng),
                phone: Some(texts::phone(&mut self.rng)),
            },
            urgent,
            received_at: ts(t0),
        };
        let top = top.to_string();
        let leaf_name = leaf.name.clone();
        let mut sim = self.receive(id, intake, t0);
        self.intake_action(&mut sim, &top, &leaf_name, &street_name, &unit);
        self.finish(sim)
    }
}

fn request_type(rng: &mut Rng, leaf: &str, top: &str) -> RequestType {
    use RequestType::*;
    let x = rng.below(1000);
    if leaf == "consult.policy" {
        return if x < 900 { Consultation } else { HelpRequest };
    }
    if leaf == "civil.marriage" {
        return if x < 700 { Consultation } else { HelpRequest };
    }
    let report_share = if matches!(top, "order")
        || matches!(leaf, "market.food-safety" | "construction.illegal")
    {
        150
    } else if texts::reportable(top, leaf) {
        50
    } else {
        0
    };
    // 投诉 and 求助 dominate; a tenth are questions; 建议, 举报 and 表扬 a few percent.
    match x {
        _ if x < report_share => Report,
        _ if x < report_share + 25 => Suggestion,
        _ if x < report_share + 45 => Praise,
        _ if x < report_share + 165 => Consultation,
        _ if x < report_share + 165 + 340 => HelpRequest,
        _ => Complaint,
    }
}

impl<'a> Generator<'a> {
    fn receive(&mut self, id: i64, intake: Intake, t0: i64) -> Sim<'a> {
        let (actor, at) = if intake.channel == Channel::Hotline {
            (
                self.acc.operator.clone(),
                t0 + self.rng.range(90_000, 8 * MIN),
            )
        } else {
            (citizen(), t0)
        };
        let at = at.min(self.end).max(t0);
        let code = self.tracking_code(id, t0);
        let st = RequestState::new(id, code, intake.clone(), ts(at));
        let received = Event {
            seq: 1,
            at: ts(at),
            actor,
            reason: None,
            kind: EventKind::Received { intake },
        };
        Sim {
            dir: self.dir,
            end: self.end,
            st,
            events: vec![received],
            stopped: false,
            refused: None,
        }
    }

    fn finish(&mut self, mut sim: Sim<'a>) -> Item {
        sim.stopped = false;
        let end = self.end;
        if sim.refused.is_none() {
            sim.sweep(&mut self.rng, end + 1);
        }
        if let Some(r) = sim.refused.take() {
            self.stats.refused += 1;
            if self.stats.first_refusal.is_none() {
                tracing::warn!(refusal = %r, "demo generator: the domain refused a step");
                self.stats.first_refusal = Some(r);
            }
        }
        self.stats.events += sim.events.len() as u64;
        (sim.st, sim.events)
    }

    /// The operator's action on the call: special handling, an answer on the spot, or
    /// dispatch (at once, or by the dispatcher a little later).
    fn intake_action(
        &mut self,
        sim: &mut Sim<'a>,
        top: &str,
        leaf_name: &str,
        street_name: &str,
        unit: &str,
    ) {
        let t = sim.last();
        let hotline = sim.st.intake.channel == Channel::Hotline;
        let consult = sim.st.intake.request_type == RequestType::Consultation;
        if hotline && self.rarely(0.01) {
            let special = special_for(top, &mut self.rng);
            let cmd = Command::Close {
                special: Some(special),
                answer: None,
                reason: Some(format!(
                    "{}：{}",
                    special.label_zh(),
                    "已告知来电人相关渠道"
                )),
            };
            sim.act(&mut self.rng, t, &self.acc.operator, cmd);
            return;
        }
        if consult && hotline && self.rng.chance(0.65) {
            let answer = texts::answer_on_the_spot(&mut self.rng, leaf_name, street_name);
            let cmd = Command::Close {
                special: None,
                answer: Some(answer),
                reason: None,
            };
            sim.act(&mut self.rng, t, &self.acc.operator, cmd);
            return;
        }
        self.dispatch_and_handle(sim, top, unit);
    }

    fn dispatch_and_handle(&mut self, sim: &mut Sim<'a>, top: &str, unit: &str) {
        let t = sim.last();
        let hotline = sim.st.intake.channel == Channel::Hotline;
        let misroute = self.rarely(0.02);
        let first_unit = if misroute {
            self.wrong_unit(unit)
        } else {
            unit.to_string()
        };
        let (actor, at) = if hotline && self.rng.chance(0.65) {
            (self.acc.operator.clone(), t)
        } else {
            (
                self.acc.dispatcher.clone(),
                t + self.rng.range(4 * MIN, 50 * MIN),
            )
        };
        let cmd = Command::Dispatch {
            unit: first_unit.clone(),
            reason: None,
        };
        if !sim.act(&mut self.rng, at, &actor, cmd) {
            return;
        }
        let hours = self.hours_class(sim);
        if first_unit != unit {
            // 退单: the wrong unit objects, the dispatcher re-routes.
            let t = self.quick(sim, hours, 0.3);
            let reason = texts::return_reason(Some(&self.unit_name(unit)));
            let h = self.handler(&first_unit);
            if !sim.act(&mut self.rng, t, &h, Command::Return { reason }) {
                return;
            }
            let t = self.office_r(sim.last(), 10 * MIN, 3 * HOUR);
            let cmd = Command::Dispatch {
                unit: unit.to_string(),
                reason: Some("改派至职责单位".into()),
            };
            if !sim.act(&mut self.rng, t, &self.acc.dispatcher, cmd) {
                return;
            }
        } else if self.rarely(0.012) {
            // 退单 overruled: the unit keeps the request and its deadlines.
            let t = self.quick(sim, hours, 0.3);
            let h = self.handler(unit);
            let cmd = Command::Return {
                reason: texts::return_reason(None),
            };
            if !sim.act(&mut self.rng, t, &h, cmd) {
                return;
            }
            let t = self.office_r(sim.last(), 10 * MIN, 2 * HOUR);
            let cmd = Command::Dispatch {
                unit: unit.to_string(),
                reason: Some(self.rng.pick(texts::OVERRULE_REASONS).to_string()),
            };
            if !sim.act(&mut self.rng, t, &self.acc.dispatcher, cmd) {
                return;
            }
        }
        let plan = self.plan(sim, top, unit);
        if !self.cycle(sim, top, unit, plan) {
            return;
        }
        self.callback_stage(sim, top, unit);
    }

    fn wrong_unit(&mut self, right: &str) -> String {
        let is_street = self
            .dir
            .unit(right)
            .is_some_and(|u| u.kind == UnitKind::Street);
        for _ in 0..4 {
            let cand = if is_street {
                self.rng.pick(&self.streets).office.clone()
            } else if !self.departments.is_empty() {
                self.rng.pick(&self.departments).clone()
            } else {
                break;
            };
            if cand != right {
                return cand;
            }
        }
        right.to_string()
    }

    fn hours_class(&self, sim: &Sim) -> bool {
        matches!(
            sla_class_for(self.dir, &sim.st.intake).completion,
            Span::Hours(_)
        )
    }

    fn complex(&self, sim: &Sim) -> bool {
        sim.st.sla_class.as_deref() == Some("complex")
    }

    fn plan(&mut self, sim: &Sim, top: &str, unit: &str) -> Plan {
        let complex = self.complex(sim);
        let hours = self.hours_class(sim);
        let street_lead = self
            .dir
            .unit(unit)
            .is_some_and(|u| u.kind == UnitKind::Street);
        let whistle_topic = matches!(
            top,
            "property"
                | "construction"
                | "noise"
                | "sanitation"
                | "safety"
                | "traffic"
                | "municipal"
        );
        Plan {
            late_response: self.rarely(0.015),
            late_completion: self.rarely(0.025),
            extension: !hours && self.rarely(if complex { 0.12 } else { 0.02 }),
            whistle: street_lead && whistle_topic && self.rarely(0.08),
            suspend: complex && self.rarely(0.01),
            escalate: self.rarely(0.006),
        }
    }

    /// A prompt step by the unit: within `frac` of the response window for hour classes, a
    /// little office time otherwise; kept before the response deadline.
    fn quick(&mut self, sim: &Sim, hours: bool, frac: f64) -> i64 {
        let last = sim.last();
        let due = sim.st.response_due.map(ms).unwrap_or(last + DAY);
        if hours {
            let window = (due - last).max(2 * MIN);
            last + self.rng.range(MIN, (window as f64 * frac) as i64 + 2 * MIN)
        } else {
            let d = self.rng.exp(1.3 * HOUR as f64) as i64 + 5 * MIN;
            let t = self.office(last, d);
            if t >= due - 10 * MIN {
                (due - self.rng.range(10 * MIN, 3 * HOUR)).max(last + MIN)
            } else {
                t
            }
        }
    }

    /// One round of handling by the lead unit: 签收, contact, the optional extras, 答复.
    fn cycle(&mut self, sim: &mut Sim<'a>, top: &str, unit: &str, plan: Plan) -> bool {
        let hours = self.hours_class(sim);
        let h = self.handler(unit);
        // 签收
        let t = if plan.late_response {
            let due = sim.st.response_due.map(ms).unwrap_or(sim.last());
            if hours {
                due + self.rng.range(5 * MIN, 3 * HOUR)
            } else {
                self.office_r(due, 30 * MIN, 6 * HOUR)
            }
        } else {
            self.quick(sim, hours, 0.35)
        };
        if !sim.act(&mut self.rng, t, &h, Command::Accept) {
            return false;
        }
        // Contact (条例 Art.15), sometimes after a failed attempt.
        if self.rng.chance(0.1) {
            let t = self.quick(sim, hours, 0.15);
            let note = texts::contact_note(&mut self.rng, false);
            let cmd = Command::Contact {
                method: ContactMethod::Phone,
                reached: false,
                note: Some(note),
            };
            if !sim.act(&mut self.rng, t, &h, cmd) {
                return false;
            }
        }
        let t = self.quick(sim, hours, 0.3);
        let method = match self.rng.below(20) {
            0..=16 => ContactMethod::Phone,
            17 | 18 => ContactMethod::Visit,
            _ => ContactMethod::Sms,
        };
        let note = texts::contact_note(&mut self.rng, true);
        let cmd = Command::Contact {
            method,
            reached: true,
            note: Some(note),
        };
        if !sim.act(&mut self.rng, t, &h, cmd) {
            return false;
        }
        if plan.escalate {
            let t = sim.last() + self.rng.range(2 * HOUR, 2 * DAY);
            let cmd = Command::Escalate {
                reason: self.rng.pick(texts::ESCALATE_REASONS).to_string(),
            };
            if !sim.act(&mut self.rng, t, &self.acc.supervisor, cmd) {
                return false;
            }
        }
        if plan.suspend {
            let t = self.office_r(sim.last(), 3 * HOUR, 27 * HOUR);
            let cmd = Command::Suspend {
                reason: self.rng.pick(texts::SUSPEND_REASONS).to_string(),
            };
            if !sim.act(&mut self.rng, t, &self.acc.supervisor, cmd) {
                return false;
            }
            if self.rng.chance(0.5) {
                let t = sim.last() + self.rng.range(20 * DAY, 90 * DAY);
                let cmd = Command::Close {
                    special: None,
                    answer: None,
                    reason: Some("纳入长期规划，挂账办结".into()),
                };
                sim.act(&mut self.rng, t, &self.acc.supervisor, cmd);
            }
            return false;
        }
        let mut not_before = sim.last();
        if plan.whistle
            && let Some(target) = self.whistle_unit(top, unit)
        {
            let t = self.office_r(sim.last(), 20 * MIN, 6 * HOUR);
            let cmd = Command::Whistle {
                units: vec![target.clone()],
                reason: self.rng.pick(texts::WHISTLE_REASONS).to_string(),
            };
            if !sim.act(&mut self.rng, t, &h, cmd) {
                return false;
            }
            let late = self.rng.chance(0.2);
            let t = sim.last()
                + if late {
                    self.rng.range(25 * HOUR, 60 * HOUR)
                } else {
                    self.rng.range(HOUR, 20 * HOUR)
                };
            let cmd = Command::Report {
                note: Some(self.rng.pick(texts::REPORT_NOTES).to_string()),
            };
            let co = self.handler(&target);
            if !sim.act(&mut self.rng, t, &co, cmd) {
                return false;
            }
            not_before = sim.last() + 2 * HOUR;
        }
        if plan.extension {
            let t = self.office_r(sim.last(), 2 * HOUR, 30 * HOUR);
            let cmd = Command::Extend {
                working_days: *self.rng.pick(&[3, 5, 5, 7, 10, 15]),
                reason: self.rng.pick(texts::EXTENSION_REASONS).to_string(),
            };
            if !sim.act(&mut self.rng, t, &h, cmd) {
                return false;
            }
            let t = self.office_r(sim.last(), HOUR, 16 * HOUR);
            let approve = self.rng.chance(0.8);
            let cmd = Command::DecideExtension {
                approve,
                reason: Some(if approve {
                    "同意延期".into()
                } else {
                    "延期理由不充分，请按期办结".into()
                }),
            };
            if !sim.act(&mut self.rng, t, &self.acc.dispatcher, cmd) {
                return false;
            }
        }
        // 答复
        let last = sim.last().max(not_before);
        let due = sim.st.completion_due.map(ms).unwrap_or(last + 7 * DAY);
        let t = if plan.late_completion {
            if hours {
                due + self.rng.range(10 * MIN, 12 * HOUR)
            } else {
                self.office_r(due, HOUR, 27 * HOUR)
            }
        } else if hours {
            let window = (due - last).max(10 * MIN);
            last + (window as f64 * (0.05 + 0.85 * self.rng.f64().powf(1.5))) as i64
        } else {
            let mean = if self.complex(sim) { 40.0 } else { 14.0 } * HOUR as f64;
            let d = self.rng.exp(mean) as i64 + 20 * MIN;
            let t = self.office(last, d);
            if t >= due - 10 * MIN {
                (due - self.rng.range(10 * MIN, 4 * HOUR)).max(last + MIN)
            } else {
                t
            }
        };
        let unit_name = self.unit_name(unit);
        let text = texts::reply(&mut self.rng, top, &unit_name);
        sim.act(&mut self.rng, t, &h, Command::Reply { text })
    }

    fn whistle_unit(&mut self, top: &str, lead: &str) -> Option<String> {
        let cands: Vec<&str> = whistle_target(top)
            .iter()
            .copied()
            .filter(|u| *u != lead && self.dir.unit(u).is_some_and(|x| x.kind != UnitKind::Street))
            .collect();
        if cands.is_empty() {
            None
        } else {
            Some(self.rng.pick(&cands).to_string())
        }
    }

    /// 回访 and 办结, with 重办 after an unresolved callback.
    fn callback_stage(&mut self, sim: &mut Sim<'a>, top: &str, unit: &str) {
        let rt = sim.st.intake.request_type;
        let direct_close = match rt {
            RequestType::Praise => true,
            RequestType::Suggestion | RequestType::Consultation => self.rng.chance(0.7),
            _ => false,
        };
        let d = (self.rng.exp(4.0 * HOUR as f64) as i64).min(16 * HOUR);
        let mut t = self.office(sim.last(), d);
        if direct_close {
            let cmd = Command::Close {
                special: None,
                answer: None,
                reason: None,
            };
            sim.act(&mut self.rng, t, &self.acc.callback, cmd);
            return;
        }
        for attempt in 0..3 {
            let reached = self.rng.chance(if attempt == 0 { 0.93 } else { 0.7 });
            if !reached {
                let cmd = Command::Callback {
                    reached: false,
                    resolved: None,
                    satisfaction: None,
                    note: Some(self.rng.pick(texts::UNREACHED_NOTES).to_string()),
                };
                if !sim.act(&mut self.rng, t, &self.acc.callback, cmd) {
                    return;
                }
                t = self.office_r(sim.last(), 2 * HOUR, 9 * HOUR);
                continue;
            }
            let p_resolved = if sim.st.reopen_count == 0 {
                0.981
            } else {
                0.92
            };
            let resolved = self.rng.chance(p_resolved);
            let x = self.rng.f64();
            let satisfaction = if resolved {
                match x {
                    _ if x < 0.97 => Satisfaction::Satisfied,
                    _ if x < 0.999 => Satisfaction::BasicallySatisfied,
                    _ => Satisfaction::Unsatisfied,
                }
            } else {
                match x {
                    _ if x < 0.10 => Satisfaction::Satisfied,
                    _ if x < 0.60 => Satisfaction::BasicallySatisfied,
                    _ => Satisfaction::Unsatisfied,
                }
            };
            let note = texts::callback_note(&mut self.rng, resolved, satisfaction.label_zh());
            let cmd = Command::Callback {
                reached: true,
                resolved: Some(resolved),
                satisfaction: Some(satisfaction),
                note: Some(note),
            };
            if !sim.act(&mut self.rng, t, &self.acc.callback, cmd) {
                return;
            }
            let t = sim.last() + self.rng.range(MIN, 30 * MIN);
            if !resolved && sim.st.reopen_count == 0 && self.rng.chance(0.6) {
                let cmd = Command::Reopen {
                    reason: self.rng.pick(texts::REOPEN_REASONS).to_string(),
                };
                if !sim.act(&mut self.rng, t, &self.acc.callback, cmd) {
                    return;
                }
                let mut plan = self.plan(sim, top, unit);
                plan.suspend = false;
                plan.whistle = false;
                if self.cycle(sim, top, unit, plan) {
                    self.callback_stage(sim, top, unit);
                }
                return;
            }
            let cmd = Command::Close {
                special: None,
                answer: None,
                reason: None,
            };
            sim.act(&mut self.rng, t, &self.acc.callback, cmd);
            return;
        }
        // Three unreached attempts: closed as unreachable.
        let cmd = Command::Close {
            special: None,
            answer: None,
            reason: Some("三次回访均未联系上诉求人".into()),
        };
        sim.act(&mut self.rng, t, &self.acc.callback, cmd);
    }

    /// 并单: a neighbour calls about a request still open in the last two days; the
    /// dispatcher merges the new call into it. None when no fitting master is found.
    fn duplicate(&mut self, id: i64, t0: i64) -> Option<Item> {
        let n = self.window.len();
        if n == 0 {
            return None;
        }
        let mut master_idx = None;
        for _ in 0..6 {
            let back = self.rng.below(n.min(1500) as u64) as usize;
            let i = n - 1 - back;
            let (st, _) = &self.window[i];
            let fits = ms(st.intake.received_at) >= t0 - MERGE_LOOKBACK
                && st.merged_into.is_none()
                && st.dispatched_at.is_some()
                && st
                    .intake
                    .category
                    .as_deref()
                    .is_some_and(|c| duplicate_prone(self.dir.top_category(c)));
            if fits {
                master_idx = Some(i);
                break;
            }
        }
        let mi = master_idx?;
        let master_intake = self.window[mi].0.intake.clone();
        let master_id = self.window[mi].0.id;
        let cat = master_intake.category.clone().unwrap_or_default();
        let leaf_i = self.leaves.iter().position(|l| l.code == cat)?;
        let street_code = master_intake.street.clone().unwrap_or_default();
        let si = self.streets.iter().position(|s| s.code == street_code)?;
        let address = master_intake.address.clone().unwrap_or_default();
        let leaf = &self.leaves[leaf_i];
        let unit_name = self.unit_name(
            &leaf
                .unit
                .clone()
                .unwrap_or_else(|| self.streets[si].office.clone()),
        );
        let street_name = self.streets[si].name.clone();
        let call = texts::Call {
            street_name: &street_name,
            address: &address,
            top: &leaf.top,
            leaf: &leaf.code,
            leaf_name: &leaf.name,
            keywords: &leaf.keywords,
            unit_name: &unit_name,
        };
        let text = format!(
            "{}{}",
            self.rng.pick(texts::DUPLICATE_PREFIXES),
            texts::complaint(&mut self.rng, &call)
        );
        let intake = Intake {
            channel: Channel::Hotline,
            text,
            caller: Caller {
                name: texts::caller_name(&mut self.rng),
                phone: Some(texts::phone(&mut self.rng)),
            },
            received_at: ts(t0),
            ..master_intake
        };
        let mut sim = self.receive(id, intake, t0);
        let t = sim.last() + self.rng.range(10 * MIN, 2 * HOUR);
        if t > self.end {
            return Some(self.finish(sim));
        }
        // The master as it stood at the merge.
        let (mst, mev) = &self.window[mi];
        let p = mev.partition_point(|e| ms(e.at) <= t);
        let Ok(master_then) = RequestState::replay(master_id, mst.tracking_code.clone(), &mev[..p])
        else {
            return Some(self.finish(sim));
        };
        let dispatcher = self.acc.dispatcher.clone();
        match jiesu_domain::decide_merge(&sim.st, &master_then, &dispatcher) {
            Ok((child_ev, master_ev)) => {
                sim.stamp(vec![child_ev], &dispatcher, t);
                let (mst, mev) = &mut self.window[mi];
                mev.insert(
                    p,
                    Event {
                        seq: 0,
                        at: ts(t),
                        actor: dispatcher,
                        reason: master_ev.reason,
                        kind: master_ev.kind,
                    },
                );
                for (i, e) in mev.iter_mut().enumerate() {
                    e.seq = i as i64 + 1;
                }
                if let Ok(replayed) =
                    RequestState::replay(master_id, mst.tracking_code.clone(), mev)
                {
                    *mst = replayed;
                    self.stats.merged += 1;
                    // The master was counted when it was finished; this event came later.
                    self.stats.events += 1;
                    Some(self.finish(sim))
                } else {
                    // Unreachable: the log starts with `received` and its seqs were just
                    // renumbered. Undo rather than store an inconsistent master.
                    mev.remove(p);
                    for (i, e) in mev.iter_mut().enumerate() {
                        e.seq = i as i64 + 1;
                    }
                    None
                }
            }
            // The master was closed by then: the call is handled on its own.
            Err(_) => {
                let leaf = &self.leaves[leaf_i];
                let top = leaf.top.clone();
                let unit = leaf
                    .unit
                    .clone()
                    .unwrap_or_else(|| self.streets[si].office.clone());
                self.dispatch_and_handle(&mut sim, &top, &unit);
                Some(self.finish(sim))
            }
        }
    }
}
