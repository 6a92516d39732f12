//! 主动治理 analytics: hot spots, spikes, recurring problems (每月一题 candidates), keyword
//! trends, persistent bottom flags and the overdue list. Pure: the store counts, these
//! functions compare, score and rank. Definitions with examples are in `docs/analytics.md`.
//!
//! * **Cells.** A cell is a (leaf category, place) pair; the place is a community, a street or
//!   the whole district. Requests are counted by the time they were received (受理), whatever
//!   happened to them later (a 并单 child is still a call).
//! * **Baseline.** The same span last year (the period and its two neighbours, so a week is
//!   compared with last year's weeks W−1, W, W+1), or, when the history does not reach back that
//!   far, the trailing periods just before (8 weeks, 3 months or 28 days). A baseline window
//!   that starts before the first request on record is left out rather than counted as zero.
//!   The expected count of a cell is the mean over the baseline windows.
//! * **Spikes.** A cell whose count is improbably high under a Poisson law with the expected
//!   count as its mean (never less than [`MIN_EXPECTED`]): p = P(X ≥ observed) ≤ α and at least
//!   `min_count` requests.

use crate::assessment::{GroupScore, Period};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A cell: (leaf category, place code). The place is `""` for the whole district.
pub type Cell = (String, String);

/// Counts per cell in one window.
pub type CellCounts = BTreeMap<Cell, u64>;

/// A Poisson mean below this is raised to it for the spike test: a cell never seen in the
/// baseline is tested against half a request per window, not against zero (against which any
/// single request would be infinitely improbable).
pub const MIN_EXPECTED: f64 = 0.5;

// ------------------------------------------------------------------ periods and baselines

/// The periods analytics compare: one day, one ISO week or one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    /// Of a parsed period, from its label; quarters and years are not compared this way.
    pub fn of(p: &Period) -> Option<Granularity> {
        let l = p.label.as_str();
        if l.contains('W') {
            Some(Granularity::Week)
        } else if l.contains('Q') {
            None
        } else if l.len() == 10 {
            Some(Granularity::Day)
        } else if l.len() == 7 {
            Some(Granularity::Month)
        } else {
            None
        }
    }

    /// How many of these make a year back (same weekday for days and weeks).
    fn per_year(self) -> i64 {
        match self {
            Granularity::Day => 364,
            Granularity::Week => 52,
            Granularity::Month => 12,
        }
    }

    /// Trailing windows used when there is no history a year back.
    pub fn default_trailing(self) -> usize {
        match self {
            Granularity::Day => 28,
            Granularity::Week => 8,
            Granularity::Month => 3,
        }
    }
}

fn local_date(t: Timestamp) -> Date {
    Offset::constant(8).to_datetime(t).date()
}

/// The period `n` units after `p` (before it when `n < 0`), e.g. `2026-W43` − 1 = `2026-W42`.
pub fn shift(p: &Period, g: Granularity, n: i64) -> Option<Period> {
    let d = local_date(p.start);
    let label = match g {
        Granularity::Day => d.checked_add(jiff::Span::new().days(n)).ok()?.to_string(),
        Granularity::Week => {
            let w = d
                .checked_add(jiff::Span::new().days(7 * n))
                .ok()?
                .iso_week_date();
            format!("{:04}-W{:02}", w.year(), w.week())
        }
        Granularity::Month => {
            let m = d
                .first_of_month()
                .checked_add(jiff::Span::new().months(n))
                .ok()?;
            format!("{:04}-{:02}", m.year(), m.month())
        }
    };
    Period::parse(&label)
}

/// Which baseline to compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// Last year's when the history reaches back that far, else trailing.
    Auto,
    /// The same period last year and its two neighbours.
    LastYear,
    /// The periods just before.
    Trailing,
}

impl std::str::FromStr for BaselineKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "auto" => BaselineKind::Auto,
            "last_year" => BaselineKind::LastYear,
            "trailing" => BaselineKind::Trailing,
            _ => return Err(()),
        })
    }
}

/// The windows a period is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Baseline {
    /// `last_year` or `trailing` (never `auto`: the choice made).
    pub kind: BaselineKind,
    /// The windows used, oldest first; empty when the history covers none of them.
    pub windows: Vec<Period>,
    /// Windows left out because they start before the first request on record.
    pub skipped: Vec<String>,
}

/// Chooses the baseline windows of `p`. `history_start` is the first request on record
/// (`None`: no requests at all); `trailing` is how many trailing windows to use.
pub fn baseline(
    p: &Period,
    g: Granularity,
    want: BaselineKind,
    trailing: usize,
    history_start: Option<Timestamp>,
) -> Baseline {
    let year = g.per_year();
    let last_year: Vec<Period> = [-year - 1, -year, -year + 1]
        .iter()
        .filter_map(|&n| shift(p, g, n))
        .collect();
    let covered = |w: &Period| history_start.is_some_and(|h| h <= w.start);
    let kind = match want {
        BaselineKind::Auto => {
            if !last_year.is_empty() && last_year.iter().all(covered) {
                BaselineKind::LastYear
            } else {
                BaselineKind::Trailing
            }
        }
        k => k,
    };
    let candidates: Vec<Period> = match kind {
        BaselineKind::LastYear => last_year,
        _ => (1..=trailing as i64)
            .rev()
            .filter_map(|n| shift(p, g, -n))
            .collect(),
    };
    let (windows, skipped): (Vec<Period>, Vec<Period>) = candidates.into_iter().partition(covered);
    Baseline {
        kind,
        windows,
        skipped: skipped.into_iter().map(|w| w.label).collect(),
    }
}

/// Mean count of `cell` over the baseline windows; `None` without windows.
fn expected(cell: &Cell, baseline: &[CellCounts]) -> Option<f64> {
    if baseline.is_empty() {
        return None;
    }
    let sum: u64 = baseline
        .iter()
        .map(|w| w.get(cell).copied().unwrap_or(0))
        .sum();
    Some(sum as f64 / baseline.len() as f64)
}

fn counts_of(cell: &Cell, baseline: &[CellCounts]) -> Vec<u64> {
    baseline
        .iter()
        .map(|w| w.get(cell).copied().unwrap_or(0))
        .collect()
}

// ------------------------------------------------------------------ hot spots

/// How hot spots are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HotSort {
    /// Most requests first (ties: larger increase, then by key).
    Count,
    /// Largest increase over the expected count first (ties: more requests, then by key).
    Increase,
}

impl std::str::FromStr for HotSort {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "count" => Ok(HotSort::Count),
            "increase" => Ok(HotSort::Increase),
            _ => Err(()),
        }
    }
}

/// One cell of the period with its change against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotSpot {
    pub rank: u32,
    pub category: String,
    pub category_name: Option<String>,
    pub place: String,
    pub place_name: Option<String>,
    /// Requests received in the period.
    pub observed: u64,
    /// Mean of the baseline windows; `None` without a baseline.
    pub expected: Option<f64>,
    /// observed − expected.
    pub change: Option<f64>,
    /// (observed − expected) ÷ expected, percent; `None` when expected is 0 or unknown.
    pub change_pct: Option<f64>,
    /// The count in each baseline window, oldest first.
    pub baseline: Vec<u64>,
}

/// The period's cells ranked, at most `limit`.
pub fn hotspots(
    current: &CellCounts,
    baseline: &[CellCounts],
    sort: HotSort,
    limit: usize,
) -> Vec<HotSpot> {
    let mut out: Vec<HotSpot> = current
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(cell, &observed)| {
            let expected = expected(cell, baseline);
            HotSpot {
                rank: 0,
                category: cell.0.clone(),
                category_name: None,
                place: cell.1.clone(),
                place_name: None,
                observed,
                expected,
                change: expected.map(|e| observed as f64 - e),
                change_pct: expected
                    .filter(|e| *e > 0.0)
                    .map(|e| (observed as f64 - e) * 100.0 / e),
                baseline: counts_of(cell, baseline),
            }
        })
        .collect();
    let inc = |h: &HotSpot| h.change.unwrap_or(f64::NEG_INFINITY);
    out.sort_by(|a, b| {
        let key = |x: &HotSpot| (x.category.clone(), x.place.clone());
        match sort {
            HotSort::Count => b
                .observed
                .cmp(&a.observed)
                .then_with(|| inc(b).total_cmp(&inc(a))),
            HotSort::Increase => inc(b)
                .total_cmp(&inc(a))
                .then_with(|| b.observed.cmp(&a.observed)),
        }
        .then_with(|| key(a).cmp(&key(b)))
    });
    out.truncate(limit);
    for (i, h) in out.iter_mut().enumerate() {
        h.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    out
}

// ------------------------------------------------------------------ spikes

/// ln(k!), exact by summation for small k, Stirling's series beyond (error < 1e-12).
pub fn ln_factorial(k: u64) -> f64 {
    if k < 256 {
        return (2..=k).map(|i| (i as f64).ln()).sum();
    }
    let x = k as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x * x * x)
}

/// P(X ≥ k) for X ~ Poisson(λ), summed from the side that does not lose precision.
pub fn poisson_sf(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    let term = |i: u64| (-lambda + i as f64 * lambda.ln() - ln_factorial(i)).exp();
    if k as f64 > lambda {
        // Upper tail directly: terms fall from i = k on.
        let mut t = term(k);
        let mut sum = t;
        let mut i = k;
        while t > sum * 1e-17 && i < k + 100_000 {
            i += 1;
            t *= lambda / i as f64;
            sum += t;
        }
        sum.min(1.0)
    } else {
        // 1 − P(X ≤ k − 1), summing down from k − 1 where the terms are largest.
        let mut t = term(k - 1);
        let mut lower = t;
        let mut i = k - 1;
        while i > 0 && t > lower * 1e-17 {
            t *= i as f64 / lambda;
            lower += t;
            i -= 1;
        }
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

/// A request behind an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub tracking_code: String,
    pub received_at: Timestamp,
    /// The first characters of the request's text.
    pub excerpt: String,
}

/// An alert: a cell whose count is improbably high against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spike {
    pub rank: u32,
    pub category: String,
    pub category_name: Option<String>,
    pub place: String,
    pub place_name: Option<String>,
    pub observed: u64,
    /// Mean of the baseline windows.
    pub expected: f64,
    /// The Poisson mean tested: `max(expected, MIN_EXPECTED)`.
    pub tested_mean: f64,
    /// P(X ≥ observed) under Poisson(tested_mean).
    pub p_value: f64,
    /// −log10(p_value) (capped at 300): larger is more surprising.
    pub score: f64,
    /// observed ÷ tested_mean.
    pub ratio: f64,
    pub baseline: Vec<u64>,
    /// Requests of the cell in the period (a sample, oldest first).
    pub evidence: Vec<Evidence>,
}

/// Cells with `observed ≥ min_count` and a Poisson p-value ≤ `alpha`, most surprising first.
/// Without baseline windows nothing can be tested and the answer is empty.
pub fn spikes(
    current: &CellCounts,
    baseline: &[CellCounts],
    alpha: f64,
    min_count: u64,
) -> Vec<Spike> {
    if baseline.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Spike> = current
        .iter()
        .filter(|(_, n)| **n >= min_count.max(1))
        .filter_map(|(cell, &observed)| {
            let expected = expected(cell, baseline)?;
            let mean = expected.max(MIN_EXPECTED);
            if (observed as f64) <= mean {
                return None;
            }
            let p = poisson_sf(observed, mean);
            (p <= alpha).then(|| Spike {
                rank: 0,
                category: cell.0.clone(),
                category_name: None,
                place: cell.1.clone(),
                place_name: None,
                observed,
                expected,
                tested_mean: mean,
                p_value: p,
                score: if p > 0.0 {
                    (-p.log10()).min(300.0)
                } else {
                    300.0
                },
                ratio: observed as f64 / mean,
                baseline: counts_of(cell, baseline),
                evidence: Vec::new(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.p_value
            .total_cmp(&b.p_value)
            .then_with(|| b.observed.cmp(&a.observed))
            .then_with(|| (&a.category, &a.place).cmp(&(&b.category, &b.place)))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    out
}

// ------------------------------------------------------------------ recurring problems

/// Where a recurring problem is located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLevel {
    Community,
    Street,
    District,
}

impl std::str::FromStr for PlaceLevel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "community" => PlaceLevel::Community,
            "street" => PlaceLevel::Street,
            "district" => PlaceLevel::District,
            _ => return Err(()),
        })
    }
}

impl PlaceLevel {
    /// The place of a request at this level; `None` when it is not known at this level.
    pub fn place<'a>(self, street: &'a str, community: &'a str) -> Option<&'a str> {
        match self {
            PlaceLevel::Community => Some(community).filter(|c| !c.is_empty()),
            PlaceLevel::Street => Some(street).filter(|s| !s.is_empty()),
            PlaceLevel::District => Some(""),
        }
    }
}

/// Requests of one (category, street, community) in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceCount {
    pub category: String,
    pub street: String,
    pub community: String,
    pub count: u64,
}

/// Reached callbacks with a satisfaction answer of one (category, street, community).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCount {
    pub category: String,
    pub street: String,
    pub community: String,
    pub answers: u64,
    pub unsatisfied: u64,
}

/// Aggregates place counts to cells of one level.
pub fn cells(rows: &[PlaceCount], level: PlaceLevel) -> CellCounts {
    let mut out = CellCounts::new();
    for r in rows {
        if let Some(place) = level.place(&r.street, &r.community) {
            *out.entry((r.category.clone(), place.to_string()))
                .or_default() += r.count;
        }
    }
    out
}

/// Weights of the 每月一题 score's four parts (they need not sum to 1; the score is scaled to
/// 0–100 by their sum).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecurringWeights {
    pub volume: f64,
    pub persistence: f64,
    pub spread: f64,
    pub dissatisfaction: f64,
}

impl Default for RecurringWeights {
    fn default() -> Self {
        RecurringWeights {
            volume: 35.0,
            persistence: 30.0,
            spread: 15.0,
            dissatisfaction: 20.0,
        }
    }
}

/// What a candidate's score is made of: each part in 0–1 and its points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScorePart {
    pub value: f64,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recurring {
    pub rank: u32,
    pub category: String,
    pub category_name: Option<String>,
    pub place: String,
    pub place_name: Option<String>,
    /// Requests over all months.
    pub volume: u64,
    /// Requests per month, oldest first.
    pub monthly: Vec<u64>,
    /// Months with at least one request.
    pub months_present: usize,
    /// Longest run of consecutive months with requests.
    pub longest_run: usize,
    /// Distinct communities and streets the requests came from.
    pub communities: usize,
    pub streets: usize,
    /// Reached callbacks with an answer, and of those 不满意.
    pub answers: u64,
    pub unsatisfied: u64,
    /// unsatisfied ÷ answers, percent.
    pub unsatisfied_share: Option<f64>,
    /// 0–100.
    pub score: f64,
    pub volume_part: ScorePart,
    pub persistence_part: ScorePart,
    pub spread_part: ScorePart,
    pub dissatisfaction_part: ScorePart,
    /// The score in words, e.g. `volume 120/150 → 28.0; months 6/6 → 30.0; …`.
    pub explanation: String,
}

/// Parameters of [`recurring`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecurringQuery {
    pub level: PlaceLevel,
    /// Candidates must have requests in at least this many months.
    pub min_months: usize,
    /// … and at least this many requests in all.
    pub min_volume: u64,
    pub weights: RecurringWeights,
    pub limit: usize,
}

/// 每月一题 candidates: cells present in many of the months, scored by volume (÷ the largest
/// candidate's), persistence (months present ÷ months), spread (communities ÷ the widest
/// candidate's) and dissatisfaction (不满意 share of the answers).
/// `months` holds each month's place counts, oldest first; `answers` the callbacks of the
/// whole span.
pub fn recurring(
    months: &[Vec<PlaceCount>],
    answers: &[AnswerCount],
    q: &RecurringQuery,
) -> Vec<Recurring> {
    struct Acc {
        monthly: Vec<u64>,
        communities: BTreeSet<String>,
        streets: BTreeSet<String>,
        answers: u64,
        unsatisfied: u64,
    }
    let n = months.len();
    let mut acc: BTreeMap<Cell, Acc> = BTreeMap::new();
    for (i, rows) in months.iter().enumerate() {
        for r in rows {
            let Some(place) = q.level.place(&r.street, &r.community) else {
                continue;
            };
            let a = acc
                .entry((r.category.clone(), place.to_string()))
                .or_insert_with(|| Acc {
                    monthly: vec![0; n],
                    communities: BTreeSet::new(),
                    streets: BTreeSet::new(),
                    answers: 0,
                    unsatisfied: 0,
                });
            a.monthly[i] += r.count;
            if !r.community.is_empty() {
                a.communities.insert(r.community.clone());
            }
            if !r.street.is_empty() {
                a.streets.insert(r.street.clone());
            }
        }
    }
    for r in answers {
        let Some(place) = q.level.place(&r.street, &r.community) else {
            continue;
        };
        if let Some(a) = acc.get_mut(&(r.category.clone(), place.to_string())) {
            a.answers += r.answers;
            a.unsatisfied += r.unsatisfied;
        }
    }
    let eligible: Vec<(Cell, Acc, u64, usize)> = acc
        .into_iter()
        .filter_map(|(cell, a)| {
            let volume: u64 = a.monthly.iter().sum();
            let present = a.monthly.iter().filter(|&&c| c > 0).count();
            (present >= q.min_months.max(1) && volume >= q.min_volume)
                .then_some((cell, a, volume, present))
        })
        .collect();
    let max_volume = eligible.iter().map(|e| e.2).max().unwrap_or(0).max(1);
    let max_spread = eligible
        .iter()
        .map(|e| e.1.communities.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let w = q.weights;
    let wsum = w.volume + w.persistence + w.spread + w.dissatisfaction;
    let scale = if wsum > 0.0 { 100.0 / wsum } else { 0.0 };
    let part = |value: f64, weight: f64| ScorePart {
        value,
        points: value * weight * scale,
    };
    let mut out: Vec<Recurring> = eligible
        .into_iter()
        .map(|(cell, a, volume, present)| {
            let mut longest = 0;
            let mut run = 0;
            for &c in &a.monthly {
                run = if c > 0 { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            let share = (a.answers > 0).then(|| a.unsatisfied as f64 / a.answers as f64);
            let vp = part(volume as f64 / max_volume as f64, w.volume);
            let pp = part(present as f64 / n.max(1) as f64, w.persistence);
            let sp = part(a.communities.len() as f64 / max_spread as f64, w.spread);
            let dp = part(share.unwrap_or(0.0), w.dissatisfaction);
            let score = vp.points + pp.points + sp.points + dp.points;
            let explanation = format!(
                "volume {volume}/{max_volume} → {:.1}; months {present}/{n} → {:.1}; \
                 communities {}/{max_spread} → {:.1}; 不满意 {}/{} → {:.1}; score {score:.1}",
                vp.points,
                pp.points,
                a.communities.len(),
                sp.points,
                a.unsatisfied,
                a.answers,
                dp.points,
            );
            Recurring {
                rank: 0,
                category: cell.0,
                category_name: None,
                place: cell.1,
                place_name: None,
                volume,
                months_present: present,
                longest_run: longest,
                communities: a.communities.len(),
                streets: a.streets.len(),
                answers: a.answers,
                unsatisfied: a.unsatisfied,
                unsatisfied_share: share.map(|s| s * 100.0),
                score,
                volume_part: vp,
                persistence_part: pp,
                spread_part: sp,
                dissatisfaction_part: dp,
                explanation,
                monthly: a.monthly,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.volume.cmp(&a.volume))
            .then_with(|| (&a.category, &a.place).cmp(&(&b.category, &b.place)))
    });
    out.truncate(q.limit);
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    out
}

// ------------------------------------------------------------------ keyword trends

/// Words that say nothing about what a request is about: function words and the formulae of
/// hotline requests. Single characters, numbers and place names are left out separately.
pub const STOP_WORDS: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "自己",
    "这个",
    "那个",
    "这些",
    "那些",
    "这里",
    "那里",
    "什么",
    "怎么",
    "为什么",
    "如何",
    "已经",
    "一直",
    "还是",
    "还有",
    "就是",
    "但是",
    "而且",
    "因为",
    "所以",
    "如果",
    "可以",
    "能够",
    "需要",
    "希望",
    "要求",
    "请求",
    "反映",
    "反应",
    "表示",
    "问题",
    "情况",
    "现在",
    "目前",
    "今天",
    "昨天",
    "明天",
    "时候",
    "时间",
    "期间",
    "以来",
    "多次",
    "几次",
    "一次",
    "没有",
    "不是",
    "不能",
    "不会",
    "不要",
    "非常",
    "特别",
    "比较",
    "十分",
    "严重",
    "影响",
    "相关",
    "部门",
    "有关",
    "单位",
    "处理",
    "解决",
    "尽快",
    "及时",
    "落实",
    "协调",
    "帮助",
    "帮忙",
    "市民",
    "来电",
    "诉求",
    "诉求人",
    "来电人",
    "反馈",
    "咨询",
    "投诉",
    "举报",
    "建议",
    "你好",
    "您好",
    "谢谢",
    "感谢",
    "麻烦",
    "一下",
    "一个",
    "一些",
    "每天",
    "每次",
    "之前",
    "之后",
    "以后",
    "以前",
    "左右",
    "出现",
    "发生",
    "存在",
    "进行",
    "给予",
    "告知",
    "知道",
    "觉得",
    "认为",
    "应该",
    "导致",
    "造成",
    "由于",
    "对于",
    "关于",
    "通过",
    "或者",
    "以及",
    "并且",
    "然后",
    "一样",
    "其他",
    "其中",
    "这样",
    "那样",
    "有人",
    "他们",
    "附近",
    "周边",
    "北京",
    "北京市",
    "西城",
    "西城区",
    "小区",
    "社区",
    "街道",
];

/// Whether a segmenter token may be a keyword: two or more characters, not only digits,
/// Latin letters or punctuation, not a stop word.
pub fn is_keyword_candidate(term: &str) -> bool {
    term.chars().count() >= 2
        && term.chars().any(|c| !c.is_ascii() && c.is_alphabetic())
        && !STOP_WORDS.contains(&term)
}

/// Document frequencies: how many requests of a window contain each term (once per request).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermCounts {
    pub docs: u64,
    pub df: HashMap<String, u64>,
}

impl TermCounts {
    /// Counts one request's terms (each distinct term once).
    pub fn add_doc<'a>(&mut self, terms: impl IntoIterator<Item = &'a str>) {
        self.docs += 1;
        let distinct: BTreeSet<&str> = terms.into_iter().collect();
        for t in distinct {
            *self.df.entry(t.to_string()).or_default() += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeywordTrend {
    pub rank: u32,
    pub term: String,
    /// Requests of the period containing the term.
    pub count: u64,
    /// … as a share of the period's requests, percent.
    pub share: f64,
    /// Requests of the previous windows containing it, and their share, percent.
    pub previous_count: u64,
    pub previous_share: Option<f64>,
    /// count expected from the previous share: period requests × previous share.
    pub expected: Option<f64>,
    /// share ÷ previous share; `None` when the term is new.
    pub ratio: Option<f64>,
    /// (count − expected) ÷ √max(expected, 1): how far above its usual level, in Poisson
    /// standard deviations. Without previous windows: the count itself.
    pub z: f64,
}

/// Terms whose share of requests rose most, at least `min_count` requests in the period.
pub fn keyword_trends(
    current: &TermCounts,
    previous: &[TermCounts],
    min_count: u64,
    limit: usize,
) -> Vec<KeywordTrend> {
    let prev_docs: u64 = previous.iter().map(|p| p.docs).sum();
    let mut out: Vec<KeywordTrend> = current
        .df
        .iter()
        .filter(|(_, n)| **n >= min_count.max(1))
        .filter_map(|(term, &count)| {
            let previous_count: u64 = previous
                .iter()
                .map(|p| p.df.get(term).copied().unwrap_or(0))
                .sum();
            let share = count as f64 * 100.0 / current.docs.max(1) as f64;
            let previous_share =
                (prev_docs > 0).then(|| previous_count as f64 * 100.0 / prev_docs as f64);
            let expected = previous_share.map(|s| s / 100.0 * current.docs as f64);
            let z = match expected {
                Some(e) => (count as f64 - e) / e.max(1.0).sqrt(),
                None => count as f64,
            };
            (z > 0.0).then(|| KeywordTrend {
                rank: 0,
                term: term.clone(),
                count,
                share,
                previous_count,
                previous_share,
                expected,
                ratio: previous_share.filter(|s| *s > 0.0).map(|s| share / s),
                z,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.z.total_cmp(&a.z)
            .then_with(|| b.count.cmp(&a.count))
            .then_with(|| a.term.cmp(&b.term))
    });
    out.truncate(limit);
    for (i, k) in out.iter_mut().enumerate() {
        k.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    out
}

// ------------------------------------------------------------------ persistent bottom flags

/// Which assessment figure the threshold applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagMetric {
    Composite,
    ResponseRate,
    ResolutionRate,
    SatisfactionScore,
}

impl std::str::FromStr for FlagMetric {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "composite" => FlagMetric::Composite,
            "response_rate" => FlagMetric::ResponseRate,
            "resolution_rate" => FlagMetric::ResolutionRate,
            "satisfaction_score" => FlagMetric::SatisfactionScore,
            _ => return Err(()),
        })
    }
}

impl FlagMetric {
    pub fn of(self, g: &GroupScore) -> Option<f64> {
        match self {
            FlagMetric::Composite => g.composite,
            FlagMetric::ResponseRate => g.response_rate,
            FlagMetric::ResolutionRate => g.resolution_rate,
            FlagMetric::SatisfactionScore => g.satisfaction_score,
        }
    }
}

/// One month's assessment groups.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthScores {
    pub period: Period,
    pub groups: Vec<GroupScore>,
}

/// A 治理类 candidate: a group below the threshold, or in the bottom flags, month after month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersistentFlag {
    pub key: String,
    pub name: Option<String>,
    /// The metric in each month, oldest first (`None`: no value that month).
    pub values: Vec<Option<f64>>,
    /// Whether the group was among the bottom flags in each month.
    pub bottom: Vec<bool>,
    /// Consecutive months, ending with the latest, with the metric below the threshold.
    pub below_streak: usize,
    /// Consecutive months, ending with the latest, among the bottom flags.
    pub bottom_streak: usize,
    /// Which rules flagged it: `below_threshold`, `bottom`.
    pub reasons: Vec<String>,
}

fn streak(flags: impl DoubleEndedIterator<Item = bool>) -> usize {
    flags.rev().take_while(|&b| b).count()
}

/// Groups below `threshold` (on `metric`) for the last `k` months in a row, or among the bottom
/// flags for the last `k` months in a row. A month without a value breaks a run. Worst first:
/// longest runs, then lowest latest value, then by key.
pub fn persistent_flags(
    months: &[MonthScores],
    metric: FlagMetric,
    threshold: Option<f64>,
    k: usize,
) -> Vec<PersistentFlag> {
    let k = k.max(1);
    let mut keys: BTreeMap<String, Option<String>> = BTreeMap::new();
    for m in months {
        for g in &m.groups {
            let name = keys.entry(g.key.clone()).or_default();
            if name.is_none() {
                name.clone_from(&g.name);
            }
        }
    }
    let mut out: Vec<PersistentFlag> = keys
        .into_iter()
        .filter_map(|(key, name)| {
            let found: Vec<Option<&GroupScore>> = months
                .iter()
                .map(|m| m.groups.iter().find(|g| g.key == key))
                .collect();
            let values: Vec<Option<f64>> =
                found.iter().map(|g| g.and_then(|g| metric.of(g))).collect();
            let bottom: Vec<bool> = found.iter().map(|g| g.is_some_and(|g| g.bottom)).collect();
            let below_streak = match threshold {
                Some(t) => streak(values.iter().map(|v| v.is_some_and(|v| v < t))),
                None => 0,
            };
            let bottom_streak = streak(bottom.iter().copied());
            let mut reasons = Vec::new();
            if below_streak >= k {
                reasons.push("below_threshold".to_string());
            }
            if bottom_streak >= k {
                reasons.push("bottom".to_string());
            }
            (!reasons.is_empty()).then_some(PersistentFlag {
                key,
                name,
                values,
                bottom,
                below_streak,
                bottom_streak,
                reasons,
            })
        })
        .collect();
    let latest = |f: &PersistentFlag| f.values.last().copied().flatten().unwrap_or(f64::INFINITY);
    out.sort_by(|a, b| {
        b.below_streak
            .max(b.bottom_streak)
            .cmp(&a.below_streak.max(a.bottom_streak))
            .then_with(|| latest(a).total_cmp(&latest(b)))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

// ------------------------------------------------------------------ overdue list

/// A request whose completion deadline fell in the period, as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueRequest {
    pub id: i64,
    pub tracking_code: String,
    pub status: String,
    pub category: Option<String>,
    pub street: Option<String>,
    pub unit: Option<String>,
    pub received_at: Timestamp,
    pub completion_due: Timestamp,
    pub replied_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overdue {
    pub id: i64,
    pub tracking_code: String,
    pub status: String,
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub street: Option<String>,
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    pub received_at: Timestamp,
    pub completion_due: Timestamp,
    /// When it was replied (late), or `None` when still not replied at the cut-off.
    pub replied_at: Option<Timestamp>,
    /// From the deadline to the reply, or to the cut-off when not replied: hours, and days
    /// (hours ÷ 24, one decimal).
    pub late_hours: f64,
    pub late_days: f64,
}

/// The requests past their completion deadline at `as_of`: not replied by the deadline (a
/// reply after `as_of` is not known yet). Latest first (most late first).
pub fn overdue(rows: &[DueRequest], as_of: Timestamp) -> Vec<Overdue> {
    let mut out: Vec<Overdue> = rows
        .iter()
        .filter(|r| r.completion_due < as_of)
        .filter_map(|r| {
            let replied = r.replied_at.filter(|t| *t <= as_of);
            let end = replied.unwrap_or(as_of);
            if end <= r.completion_due {
                return None;
            }
            let ms = end.as_millisecond() - r.completion_due.as_millisecond();
            let hours = ms as f64 / 3_600_000.0;
            Some(Overdue {
                id: r.id,
                tracking_code: r.tracking_code.clone(),
                status: r.status.clone(),
                category: r.category.clone(),
                category_name: None,
                street: r.street.clone(),
                unit: r.unit.clone(),
                unit_name: None,
                received_at: r.received_at,
                completion_due: r.completion_due,
                replied_at: replied,
                late_hours: (hours * 10.0).round() / 10.0,
                late_days: (hours / 24.0 * 10.0).round() / 10.0,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.late_hours
            .total_cmp(&a.late_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}
