//! 主动治理 — hot spots, spikes, 每月一题 candidates, keyword trends, the overdue list and
//! persistent bottom flags. The maths is `jiesu_domain::analytics`; the definitions are in
//! `docs/analytics.md`. Who may see them: [`Capability::ViewAnalytics`].
//!
//! The `*_view` functions serve the API, the dashboard and `jiesu report` alike, so the
//! spreadsheet and the API cannot disagree.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Directory;
use jiesu_domain::analytics::{
    self as an, Baseline, BaselineKind, CellCounts, FlagMetric, Granularity, HotSort, HotSpot,
    KeywordTrend, MonthScores, Overdue, PersistentFlag, PlaceCount, PlaceLevel, Recurring,
    RecurringQuery, RecurringWeights, Spike, TermCounts,
};
use jiesu_domain::assessment::{GroupBy, Period};
use jiesu_store::{Store, User};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

fn bad(field: &str, msg: &str) -> AppError {
    AppError::bad_query(field, msg)
}

/// Refuses unless `user` may see analytics.
pub fn allowed(user: &User) -> AppResult<()> {
    require(user, Capability::ViewAnalytics)
}

/// The period of a query; `months_only` insists on a calendar month.
fn period(s: Option<&str>, months_only: bool) -> AppResult<(Period, Granularity)> {
    let msg = if months_only {
        "a month, e.g. 2026-10"
    } else {
        "a week, month or day: 2026-W43, 2026-10 or 2026-10-05"
    };
    let p = s
        .and_then(Period::parse)
        .ok_or_else(|| bad("period", msg))?;
    match Granularity::of(&p) {
        Some(Granularity::Month) => Ok((p, Granularity::Month)),
        Some(g) if !months_only => Ok((p, g)),
        _ => Err(bad("period", msg)),
    }
}

fn parse_or<T: std::str::FromStr>(
    v: Option<&str>,
    default: T,
    field: &str,
    msg: &str,
) -> AppResult<T> {
    match v {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| bad(field, msg)),
    }
}

fn in_range<T: PartialOrd + Copy>(
    v: Option<T>,
    default: T,
    lo: T,
    hi: T,
    field: &str,
    msg: &str,
) -> AppResult<T> {
    let v = v.unwrap_or(default);
    if v < lo || v > hi {
        return Err(bad(field, msg));
    }
    Ok(v)
}

fn as_of(v: Option<&str>, now: Timestamp) -> AppResult<Timestamp> {
    match v {
        None => Ok(now),
        Some(s) => s.parse::<Timestamp>().map_err(|_| {
            bad(
                "as_of",
                "an RFC 3339 instant, e.g. 2026-11-05T00:00:00+08:00",
            )
        }),
    }
}

fn category_name(dir: &Directory, code: &str) -> Option<String> {
    dir.category(code).map(|c| c.name.clone())
}

fn place_name(dir: &Directory, level: PlaceLevel, code: &str) -> Option<String> {
    match level {
        PlaceLevel::Community => dir.community(code).map(|c| c.name.clone()),
        PlaceLevel::Street => dir.street(code).map(|s| s.name.clone()),
        PlaceLevel::District => Some(dir.world.district.name.clone()),
    }
}

// ------------------------------------------------------------------ hot spots and spikes

/// The period's cells and the baseline windows' cells at one level.
pub struct CellWindows {
    pub baseline: Baseline,
    pub current: CellCounts,
    pub windows: Vec<CellCounts>,
}

/// Place counts of each window, queried side by side (the read pool has several connections).
async fn counts_in(store: &Store, windows: &[Period]) -> AppResult<Vec<Vec<PlaceCount>>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, w) in windows.iter().enumerate() {
        let (store, start, end) = (store.clone(), w.start, w.end);
        set.spawn(async move { (i, store.place_counts(start, end).await) });
    }
    let mut out = vec![Vec::new(); windows.len()];
    while let Some(joined) = set.join_next().await {
        let (i, rows) = joined.map_err(AppError::internal)?;
        out[i] = rows?;
    }
    Ok(out)
}

/// Counts the period and its baseline windows (one indexed range query each).
pub async fn cell_windows(
    store: &Store,
    p: &Period,
    g: Granularity,
    level: PlaceLevel,
    kind: BaselineKind,
    trailing: usize,
) -> AppResult<CellWindows> {
    let history = store.history_start().await?;
    let baseline = an::baseline(p, g, kind, trailing, history);
    let mut all: Vec<Period> = vec![p.clone()];
    all.extend(baseline.windows.iter().cloned());
    let mut counts = counts_in(store, &all).await?.into_iter();
    let current = an::cells(&counts.next().unwrap_or_default(), level);
    let windows = counts.map(|rows| an::cells(&rows, level)).collect();
    Ok(CellWindows {
        baseline,
        current,
        windows,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellQuery {
    /// `2026-W43`, `2026-10` or `2026-10-05`.
    pub period: Option<String>,
    /// street (default), community, district.
    pub level: Option<String>,
    /// auto (default), last_year, trailing.
    pub baseline: Option<String>,
    /// Trailing windows (default 8 weeks / 3 months / 28 days).
    pub trailing: Option<usize>,
    /// Hot spots: count (default) or increase.
    pub sort: Option<String>,
    /// Spikes: largest p-value that alerts (default 0.001).
    pub alpha: Option<f64>,
    /// Spikes: fewest requests that may alert (default 5).
    pub min_count: Option<u64>,
    /// Spikes: evidence requests per alert (default 10).
    pub sample: Option<u32>,
    /// Only this leaf category.
    pub category: Option<String>,
    pub limit: Option<usize>,
}

/// Parsed hot-spot / spike parameters.
#[derive(Debug, Clone)]
pub struct CellParams {
    pub period: Period,
    pub granularity: Granularity,
    pub level: PlaceLevel,
    pub baseline: BaselineKind,
    pub trailing: usize,
    pub category: Option<String>,
    pub limit: usize,
}

fn cell_params(q: &CellQuery) -> AppResult<CellParams> {
    let (period, granularity) = period(q.period.as_deref(), false)?;
    let level = parse_or(
        q.level.as_deref(),
        PlaceLevel::Street,
        "level",
        "one of street, community, district",
    )?;
    let baseline = parse_or(
        q.baseline.as_deref(),
        BaselineKind::Auto,
        "baseline",
        "one of auto, last_year, trailing",
    )?;
    let trailing = in_range(
        q.trailing,
        granularity.default_trailing(),
        1,
        60,
        "trailing",
        "1 to 60 windows",
    )?;
    let limit = in_range(q.limit, 20, 1, 1000, "limit", "1 to 1000")?;
    Ok(CellParams {
        period,
        granularity,
        level,
        baseline,
        trailing,
        category: q.category.clone().filter(|c| !c.is_empty()),
        limit,
    })
}

/// The windows `p` asks for, its category filter applied: computed once and shared when a
/// page shows both hot spots and spikes of the same period.
pub async fn windows_of(store: &Store, p: &CellParams) -> AppResult<CellWindows> {
    let mut cw = cell_windows(
        store,
        &p.period,
        p.granularity,
        p.level,
        p.baseline,
        p.trailing,
    )
    .await?;
    if let Some(c) = p.category.as_deref() {
        cw.current.retain(|k, _| k.0 == c);
    }
    Ok(cw)
}

#[derive(Serialize)]
pub struct HotspotsView {
    pub period: Period,
    pub level: PlaceLevel,
    pub baseline: Baseline,
    pub sort: HotSort,
    /// Requests of the period (all cells, before the limit).
    pub requests: u64,
    pub items: Vec<HotSpot>,
}

pub fn hotspots_view(
    dir: &Directory,
    p: &CellParams,
    cw: &CellWindows,
    sort: HotSort,
) -> HotspotsView {
    let requests = cw.current.values().sum();
    let mut items = an::hotspots(&cw.current, &cw.windows, sort, p.limit);
    for h in &mut items {
        h.category_name = category_name(dir, &h.category);
        h.place_name = place_name(dir, p.level, &h.place);
    }
    HotspotsView {
        period: p.period.clone(),
        level: p.level,
        baseline: cw.baseline.clone(),
        sort,
        requests,
        items,
    }
}

#[derive(Serialize)]
pub struct SpikesView {
    pub period: Period,
    pub level: PlaceLevel,
    pub baseline: Baseline,
    pub alpha: f64,
    pub min_count: u64,
    /// Cells with requests in the period (how many were tested).
    pub cells: usize,
    pub alerts: Vec<Spike>,
}

pub async fn spikes_view(
    store: &Store,
    dir: &Directory,
    p: &CellParams,
    cw: &CellWindows,
    alpha: f64,
    min_count: u64,
    sample: u32,
) -> AppResult<SpikesView> {
    let mut alerts = an::spikes(&cw.current, &cw.windows, alpha, min_count);
    alerts.truncate(p.limit);
    for s in &mut alerts {
        s.category_name = category_name(dir, &s.category);
        s.place_name = place_name(dir, p.level, &s.place);
        if sample > 0 {
            let (street, community) = match p.level {
                PlaceLevel::Street => (Some(s.place.as_str()), None),
                PlaceLevel::Community => (None, Some(s.place.as_str())),
                PlaceLevel::District => (None, None),
            };
            s.evidence = store
                .cell_requests(
                    p.period.start,
                    p.period.end,
                    &s.category,
                    street,
                    community,
                    sample,
                )
                .await?;
        }
    }
    Ok(SpikesView {
        period: p.period.clone(),
        level: p.level,
        baseline: cw.baseline.clone(),
        alpha,
        min_count,
        cells: cw.current.len(),
        alerts,
    })
}

// ------------------------------------------------------------------ 每月一题 candidates

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringParams {
    /// The last month, e.g. `2026-10`.
    pub period: Option<String>,
    /// How many months up to and including `period` (default 6).
    pub months: Option<usize>,
    /// community (default), street, district.
    pub level: Option<String>,
    /// Fewest months with requests (default: half the months, rounded up).
    pub min_months: Option<usize>,
    /// Fewest requests in all (default 3).
    pub min_volume: Option<u64>,
    pub limit: Option<usize>,
}

#[derive(Serialize)]
pub struct RecurringView {
    pub period: Period,
    /// The months looked at, oldest first.
    pub months: Vec<String>,
    pub level: PlaceLevel,
    pub min_months: usize,
    pub min_volume: u64,
    pub weights: RecurringWeights,
    pub items: Vec<Recurring>,
}

#[allow(clippy::too_many_arguments)]
pub async fn recurring_view(
    store: &Store,
    dir: &Directory,
    month: &Period,
    months: usize,
    level: PlaceLevel,
    min_months: usize,
    min_volume: u64,
    limit: usize,
) -> AppResult<RecurringView> {
    let periods: Vec<Period> = (0..months as i64)
        .rev()
        .filter_map(|n| an::shift(month, Granularity::Month, -n))
        .collect();
    let (first, last) = match (periods.first(), periods.last()) {
        (Some(f), Some(l)) => (f.start, l.end),
        _ => (month.start, month.end),
    };
    let (counts, answers) = tokio::join!(
        counts_in(store, &periods),
        store.callback_answers(first, last)
    );
    let (counts, answers) = (counts?, answers?);
    let weights = RecurringWeights::default();
    let mut items = an::recurring(
        &counts,
        &answers,
        &RecurringQuery {
            level,
            min_months,
            min_volume,
            weights,
            limit,
        },
    );
    for r in &mut items {
        r.category_name = category_name(dir, &r.category);
        r.place_name = place_name(dir, level, &r.place);
    }
    Ok(RecurringView {
        period: month.clone(),
        months: periods.into_iter().map(|p| p.label).collect(),
        level,
        min_months,
        min_volume,
        weights,
        items,
    })
}

// ------------------------------------------------------------------ keyword trends

/// The segmenter with the deployment's lexicon and the place names keywords skip. Built once
/// per process (jieba's dictionary takes a moment to load). Keeps the term counts of windows
/// already counted: a past week's texts do not change, so only a window whose number of
/// requests changed is segmented again.
pub struct KeywordTools {
    segmenter: jiesu_text::Segmenter,
    places: HashSet<String>,
    cache: Mutex<TermCache>,
}

/// Term counts by window (start, end ms), with the number of requests they were counted from.
type TermCache = HashMap<(i64, i64), (u64, Arc<TermCounts>)>;

/// Windows whose term counts are kept (a year of weeks and a few months).
const KEYWORD_CACHE: usize = 128;

impl KeywordTools {
    pub fn new(dir: &Directory) -> Self {
        let w = &dir.world;
        let mut places: HashSet<String> = HashSet::new();
        let mut add = |name: &str, suffixes: &[&str]| {
            places.insert(name.to_string());
            for s in suffixes {
                if let Some(short) = name.strip_suffix(s)
                    && short.chars().count() >= 2
                {
                    places.insert(short.to_string());
                }
            }
        };
        add(&w.district.name, &["区"]);
        for s in &w.streets {
            add(&s.name, &["街道", "街道办事处"]);
        }
        for c in &w.communities {
            add(&c.name, &["社区", "社区居委会"]);
        }
        for p in &w.places {
            add(&p.name, &[]);
        }
        for u in &w.units {
            add(&u.name, &[]);
        }
        KeywordTools {
            segmenter: jiesu_text::Segmenter::new(crate::text::lexicon(dir)),
            places,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The shared tools (the world does not change under a running process).
    pub fn shared(dir: &Directory) -> Arc<KeywordTools> {
        static TOOLS: OnceLock<Arc<KeywordTools>> = OnceLock::new();
        TOOLS
            .get_or_init(|| Arc::new(KeywordTools::new(dir)))
            .clone()
    }

    /// Document frequencies of the keyword candidates in `texts`.
    pub fn count(&self, texts: &[String]) -> TermCounts {
        let mut tc = TermCounts::default();
        for t in texts {
            let words = self.segmenter.cut(t);
            tc.add_doc(
                words
                    .into_iter()
                    .filter(|w| an::is_keyword_candidate(w) && !self.places.contains(*w)),
            );
        }
        tc
    }

    /// `count` on every core.
    pub fn count_parallel(&self, texts: &[String]) -> TermCounts {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        if threads < 2 || texts.len() < 1000 {
            return self.count(texts);
        }
        let parts: Vec<TermCounts> = std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(texts.len().div_ceil(threads))
                .map(|chunk| scope.spawn(move || self.count(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut total = TermCounts::default();
        for p in parts {
            total.docs += p.docs;
            for (term, n) in p.df {
                *total.df.entry(term).or_default() += n;
            }
        }
        total
    }

    fn cached(&self, w: &Period, docs: u64) -> Option<Arc<TermCounts>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(&(w.start.as_millisecond(), w.end.as_millisecond()))
            .filter(|(n, _)| *n == docs)
            .map(|(_, tc)| tc.clone())
    }

    fn remember(&self, w: &Period, tc: Arc<TermCounts>) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= KEYWORD_CACHE {
                cache.clear();
            }
            cache.insert(
                (w.start.as_millisecond(), w.end.as_millisecond()),
                (tc.docs, tc),
            );
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordParams {
    pub period: Option<String>,
    /// Previous windows compared with (default 4).
    pub previous: Option<usize>,
    /// Fewest requests with the term in the period (default 5).
    pub min_count: Option<u64>,
    pub limit: Option<usize>,
}

#[derive(Serialize)]
pub struct KeywordsView {
    pub period: Period,
    pub previous: Vec<String>,
    /// Requests of the period and of the previous windows.
    pub docs: u64,
    pub previous_docs: u64,
    pub items: Vec<KeywordTrend>,
}

pub async fn keywords_view(
    store: &Store,
    dir: &Directory,
    p: &Period,
    g: Granularity,
    previous: usize,
    min_count: u64,
    limit: usize,
) -> AppResult<KeywordsView> {
    let tools = KeywordTools::shared(dir);
    let windows: Vec<Period> = (1..=previous as i64)
        .rev()
        .filter_map(|n| an::shift(p, g, -n))
        .collect();
    let all: Vec<Period> = windows.iter().chain(std::iter::once(p)).cloned().collect();
    let mut counted: Vec<Option<Arc<TermCounts>>> = Vec::with_capacity(all.len());
    let mut missing: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, w) in all.iter().enumerate() {
        let docs = store.received_count(w.start, w.end).await?;
        match tools.cached(w, docs) {
            Some(tc) => counted.push(Some(tc)),
            None => {
                counted.push(None);
                missing.push((i, store.request_texts(w.start, w.end).await?));
            }
        }
    }
    // Segmentation is CPU work: keep it off the async workers.
    let worker = tools.clone();
    let fresh = tokio::task::spawn_blocking(move || {
        missing
            .into_iter()
            .map(|(i, texts)| (i, Arc::new(worker.count_parallel(&texts))))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(AppError::internal)?;
    for (i, tc) in fresh {
        tools.remember(&all[i], tc.clone());
        counted[i] = Some(tc);
    }
    let counted: Vec<Arc<TermCounts>> = counted.into_iter().flatten().collect();
    let (current, prev) = counted
        .split_last()
        .ok_or_else(|| AppError::internal("no windows"))?;
    let prev: Vec<TermCounts> = prev.iter().map(|t| (**t).clone()).collect();
    Ok(KeywordsView {
        period: p.clone(),
        previous: windows.into_iter().map(|w| w.label).collect(),
        docs: current.docs,
        previous_docs: prev.iter().map(|t| t.docs).sum(),
        items: an::keyword_trends(current, &prev, min_count, limit),
    })
}

// ------------------------------------------------------------------ overdue list

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdueParams {
    /// Deadlines falling in this period (any assessment period form).
    pub period: Option<String>,
    pub as_of: Option<String>,
    /// Only this lead unit.
    pub unit: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Serialize)]
pub struct OverdueView {
    pub period: Period,
    pub as_of: Timestamp,
    /// All overdue requests of the period (before the limit).
    pub total: usize,
    /// Of those, still not replied at the cut-off.
    pub open: usize,
    pub items: Vec<Overdue>,
}

pub async fn overdue_view(
    store: &Store,
    dir: &Directory,
    p: &Period,
    as_of: Timestamp,
    unit: Option<&str>,
    limit: usize,
) -> AppResult<OverdueView> {
    let rows = store.due_unreplied(p.start, p.end).await?;
    let mut items = an::overdue(&rows, as_of);
    if let Some(u) = unit {
        items.retain(|o| o.unit.as_deref() == Some(u));
    }
    let total = items.len();
    let open = items.iter().filter(|o| o.replied_at.is_none()).count();
    items.truncate(limit);
    for o in &mut items {
        o.category_name = o.category.as_deref().and_then(|c| category_name(dir, c));
        o.unit_name = o
            .unit
            .as_deref()
            .and_then(|u| dir.unit(u))
            .map(|u| u.name.clone());
    }
    Ok(OverdueView {
        period: p.clone(),
        as_of,
        total,
        open,
        items,
    })
}

// ------------------------------------------------------------------ persistent bottom flags

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagParams {
    /// The latest month, e.g. `2026-10`.
    pub period: Option<String>,
    /// K: consecutive months (default 3).
    pub months: Option<usize>,
    /// composite (default), response_rate, resolution_rate, satisfaction_score.
    pub metric: Option<String>,
    /// Below this (0–100) for K months flags; without it only the bottom rule applies.
    pub threshold: Option<f64>,
    /// Bottom N of each month's ranking (default 3).
    pub bottom: Option<usize>,
    /// unit (default), street, category, top_category, channel.
    pub by: Option<String>,
    pub as_of: Option<String>,
}

#[derive(Serialize)]
pub struct FlagsView {
    pub period: Period,
    pub months: Vec<String>,
    pub by: GroupBy,
    pub metric: FlagMetric,
    pub threshold: Option<f64>,
    pub k: usize,
    pub bottom: usize,
    pub as_of: Timestamp,
    /// 治理类 candidates: K months in a row below the threshold or in the bottom N.
    pub flags: Vec<PersistentFlag>,
    /// The latest month's last-N flags (as in `GET /assessment`).
    pub bottom_latest: Vec<BottomGroup>,
}

#[derive(Serialize)]
pub struct BottomGroup {
    pub key: String,
    pub name: Option<String>,
    pub composite: Option<f64>,
    pub rank: Option<u32>,
}

#[allow(clippy::too_many_arguments)]
pub async fn flags_view(
    store: &Store,
    dir: &Directory,
    month: &Period,
    k: usize,
    by: GroupBy,
    metric: FlagMetric,
    threshold: Option<f64>,
    bottom: usize,
    as_of: Timestamp,
) -> AppResult<FlagsView> {
    let periods: Vec<Period> = (0..k as i64)
        .rev()
        .filter_map(|n| an::shift(month, Granularity::Month, -n))
        .collect();
    let mut months = Vec::with_capacity(periods.len());
    for p in &periods {
        let view = super::assessment::compute(store, dir, p.clone(), by, as_of, bottom).await?;
        months.push(MonthScores {
            period: p.clone(),
            groups: view.assessment.groups,
        });
    }
    let bottom_latest = months
        .last()
        .map(|m| {
            m.groups
                .iter()
                .filter(|g| g.bottom)
                .map(|g| BottomGroup {
                    key: g.key.clone(),
                    name: g.name.clone(),
                    composite: g.composite,
                    rank: g.rank,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(FlagsView {
        period: month.clone(),
        months: periods.into_iter().map(|p| p.label).collect(),
        by,
        metric,
        threshold,
        k,
        bottom,
        as_of,
        flags: an::persistent_flags(&months, metric, threshold, k),
        bottom_latest,
    })
}

// ------------------------------------------------------------------ use cases

/// `hotspots` for someone who may see analytics.
pub async fn hotspots(app: &App, user: &User, q: &CellQuery) -> AppResult<HotspotsView> {
    allowed(user)?;
    let p = cell_params(q)?;
    let sort = parse_or(
        q.sort.as_deref(),
        HotSort::Count,
        "sort",
        "one of count, increase",
    )?;
    let cw = windows_of(&app.store, &p).await?;
    Ok(hotspots_view(&app.dir, &p, &cw, sort))
}

/// `spikes` for someone who may see analytics.
pub async fn spikes(app: &App, user: &User, q: &CellQuery) -> AppResult<SpikesView> {
    allowed(user)?;
    let p = cell_params(q)?;
    let alpha = q.alpha.unwrap_or(0.001);
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(bad("alpha", "a probability in (0, 1]"));
    }
    let min_count = in_range(q.min_count, 5, 1, 1_000_000, "min_count", "at least 1")?;
    let sample = in_range(q.sample, 10, 0, 100, "sample", "0 to 100")?;
    let cw = windows_of(&app.store, &p).await?;
    spikes_view(&app.store, &app.dir, &p, &cw, alpha, min_count, sample).await
}

/// `recurring` for someone who may see analytics.
pub async fn recurring(app: &App, user: &User, q: &RecurringParams) -> AppResult<RecurringView> {
    allowed(user)?;
    let (month, _) = period(q.period.as_deref(), true)?;
    let months = in_range(q.months, 6, 1, 36, "months", "1 to 36")?;
    let level = parse_or(
        q.level.as_deref(),
        PlaceLevel::Community,
        "level",
        "one of community, street, district",
    )?;
    let min_months = in_range(
        q.min_months,
        months.div_ceil(2),
        1,
        months,
        "min_months",
        "1 to months",
    )?;
    let min_volume = in_range(q.min_volume, 3, 0, u64::MAX, "min_volume", "a count")?;
    let limit = in_range(q.limit, 20, 1, 1000, "limit", "1 to 1000")?;
    recurring_view(
        &app.store, &app.dir, &month, months, level, min_months, min_volume, limit,
    )
    .await
}

/// `keywords` for someone who may see analytics.
pub async fn keywords(app: &App, user: &User, q: &KeywordParams) -> AppResult<KeywordsView> {
    allowed(user)?;
    let (p, g) = period(q.period.as_deref(), false)?;
    let previous = in_range(q.previous, 4, 1, 26, "previous", "1 to 26 windows")?;
    let min_count = in_range(q.min_count, 5, 1, 1_000_000, "min_count", "at least 1")?;
    let limit = in_range(q.limit, 30, 1, 1000, "limit", "1 to 1000")?;
    keywords_view(&app.store, &app.dir, &p, g, previous, min_count, limit).await
}

/// `overdue` for someone who may see analytics.
pub async fn overdue(app: &App, user: &User, q: &OverdueParams) -> AppResult<OverdueView> {
    allowed(user)?;
    let p = q.period.as_deref().and_then(Period::parse).ok_or_else(|| {
        bad(
            "period",
            "one of 2026-10, 2026-W43, 2026-Q4, 2026, 2026-10-05",
        )
    })?;
    let as_of = as_of(q.as_of.as_deref(), app.now())?;
    let limit = in_range(q.limit, 100, 1, 10_000, "limit", "1 to 10000")?;
    let unit = q.unit.as_deref().filter(|u| !u.is_empty());
    if let Some(u) = unit
        && app.dir.unit(u).is_none()
    {
        return Err(bad("unit", "no such unit code"));
    }
    overdue_view(&app.store, &app.dir, &p, as_of, unit, limit).await
}

/// `flags` for someone who may see analytics.
pub async fn flags(app: &App, user: &User, q: &FlagParams) -> AppResult<FlagsView> {
    allowed(user)?;
    let (month, _) = period(q.period.as_deref(), true)?;
    let k = in_range(q.months, 3, 1, 24, "months", "1 to 24")?;
    let metric = parse_or(
        q.metric.as_deref(),
        FlagMetric::Composite,
        "metric",
        "one of composite, response_rate, resolution_rate, satisfaction_score",
    )?;
    if let Some(t) = q.threshold
        && !(0.0..=100.0).contains(&t)
    {
        return Err(bad("threshold", "0 to 100"));
    }
    let bottom = in_range(q.bottom, 3, 0, 1000, "bottom", "0 to 1000")?;
    let by = parse_or(
        q.by.as_deref(),
        GroupBy::Unit,
        "by",
        "one of unit, street, category, top_category, channel",
    )?;
    let as_of = as_of(q.as_of.as_deref(), app.now())?;
    flags_view(
        &app.store,
        &app.dir,
        &month,
        k,
        by,
        metric,
        q.threshold,
        bottom,
        as_of,
    )
    .await
}
