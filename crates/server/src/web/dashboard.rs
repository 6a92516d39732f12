//! 考评态势: the month's three rates and rankings per street and unit, a six-month trend, a
//! schematic map of the streets shaded by score or volume, the overdue list — every figure a
//! link to the requests behind it.

use super::{Nav, WebUser, api_error_page, fmt, page, work};
use crate::AppState;
use crate::api::analytics::{CellParams, hotspots_view, spikes_view, windows_of};
use crate::api::assessment::compute;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use jiesu_app::Capability;
use jiesu_domain::analytics as an;
use jiesu_domain::assessment::{GroupBy, GroupScore, Period};
use jiesu_store::{ListFilter, ListOrder, OPEN_STATUSES};
use jiff::Timestamp;
use std::sync::Arc;

pub struct RankRow {
    pub rank: String,
    pub name: String,
    pub dispatched: u64,
    pub response: String,
    pub resolution: String,
    pub satisfaction: String,
    pub composite: String,
    pub bottom: bool,
    pub link: String,
}

/// One suggested field's accuracy this month (智能建议).
pub struct SuggestRow {
    pub field: &'static str,
    pub evaluated: u64,
    pub accuracy: String,
    pub confident: String,
    pub top: String,
}

/// A hot spot or a spike alert as a table row.
pub struct CellRow {
    pub place: String,
    pub category: String,
    pub observed: u64,
    pub expected: String,
    pub change: String,
    pub link: String,
    pub evidence: Vec<(i64, String)>,
}

pub struct Tile {
    pub x: u32,
    pub y: u32,
    pub name: String,
    pub fill: String,
    pub value: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    d: Arc<DashData>,
    overdue: Vec<work::Row>,
    overdue_link: String,
}

#[derive(serde::Deserialize)]
pub struct DashQuery {
    month: Option<String>,
    shade: Option<String>,
}

/// `YYYY-MM` of the Beijing month `t` falls in, and its neighbours.
fn month_of(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)))
        .strftime("%Y-%m")
        .to_string()
}

fn shift_month(label: &str, by: i32) -> Option<String> {
    let (y, m) = label.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    let idx = y * 12 + (m - 1) + by;
    Some(format!(
        "{:04}-{:02}",
        idx.div_euclid(12),
        idx.rem_euclid(12) + 1
    ))
}

fn range_query(p: &Period) -> String {
    format!(
        "received_from={}&received_to={}",
        super::session::url_encode(&p.start.to_string()),
        super::session::url_encode(&p.end.to_string())
    )
}

fn rank_row(g: &GroupScore, link: String) -> RankRow {
    RankRow {
        rank: g.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
        name: g.name.clone().unwrap_or_else(|| g.key.clone()),
        dispatched: g.dispatched,
        response: fmt::rate(g.response_rate),
        resolution: fmt::rate(g.resolution_rate),
        satisfaction: fmt::rate(g.satisfaction_score),
        composite: fmt::rate(g.composite),
        bottom: g.bottom,
        link,
    }
}

/// Red (low) to green (high) over [lo, hi].
fn colour(v: f64, lo: f64, hi: f64) -> String {
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let r = (220.0 - 150.0 * t) as u8;
    let g = (90.0 + 110.0 * t) as u8;
    format!("rgb({r},{g},90)")
}

/// Intakes read for the suggestion accuracy card.
const SUGGESTION_SAMPLE: u64 = 20_000;

/// What the dashboard shows of a month (everything but the live overdue list).
pub struct DashData {
    month: String,
    prev: String,
    next: String,
    totals: RankRow,
    streets: Vec<RankRow>,
    units: Vec<RankRow>,
    tiles: Vec<Tile>,
    shade: String,
    trend: String,
    hotspots: Vec<CellRow>,
    spikes: Vec<CellRow>,
    baseline: String,
    /// How often the intake suggestions matched where the month's requests ended up.
    suggestions: Vec<SuggestRow>,
    /// The card read only the month's first intakes.
    suggestions_sampled: bool,
    /// When these figures were computed (Beijing time).
    computed: String,
}

async fn build(
    app: &AppState,
    month: String,
    period: Period,
    shade: &str,
) -> Result<DashData, crate::ApiError> {
    let now = app.now();
    let range = range_query(&period);
    let by_street = match compute(
        &app.store,
        &app.dir,
        period.clone(),
        GroupBy::Street,
        now,
        3,
    )
    .await
    {
        Ok(a) => a.assessment,
        Err(e) => return Err(e.into()),
    };
    let by_unit = match compute(&app.store, &app.dir, period.clone(), GroupBy::Unit, now, 3).await {
        Ok(a) => a.assessment,
        Err(e) => return Err(e.into()),
    };
    let mut streets: Vec<&GroupScore> = by_street.groups.iter().collect();
    streets.sort_by_key(|g| g.rank.unwrap_or(u32::MAX));
    let mut units: Vec<&GroupScore> = by_unit.groups.iter().collect();
    units.sort_by_key(|g| g.rank.unwrap_or(u32::MAX));

    // The map: streets on a 5-wide grid in the world file's order, shaded by score or volume.
    let values: Vec<(String, String, Option<f64>)> = app
        .dir
        .world
        .streets
        .iter()
        .map(|s| {
            let g = by_street.groups.iter().find(|g| g.key == s.code);
            let v = match shade {
                "volume" => g.map(|g| g.dispatched as f64),
                _ => g.and_then(|g| g.composite),
            };
            (s.code.clone(), s.name.clone(), v)
        })
        .collect();
    let known: Vec<f64> = values.iter().filter_map(|v| v.2).collect();
    let lo = known.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = known.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let tiles = values
        .iter()
        .enumerate()
        .map(|(i, (code, name, v))| Tile {
            x: (i % 5) as u32 * 120 + 4,
            y: (i / 5) as u32 * 70 + 4,
            name: name.clone(),
            fill: match v {
                // Volume: more requests, warmer; score: higher, greener.
                Some(x) if shade == "volume" => colour(hi - x + lo, lo, hi),
                Some(x) => colour(*x, lo, hi),
                None => "#ccc".into(),
            },
            value: match v {
                Some(x) if shade == "volume" => format!("{x:.0}件"),
                Some(x) => format!("{x:.1}分"),
                None => "—".into(),
            },
            link: format!("/requests?street={code}&{range}"),
        })
        .collect();

    // Six months of the district's three rates.
    let mut months = Vec::new();
    let (mut resp, mut reso, mut sat) = (Vec::new(), Vec::new(), Vec::new());
    for back in (0..6).rev() {
        let Some(label) = shift_month(&month, -back) else {
            continue;
        };
        let Some(p) = Period::parse(&label) else {
            continue;
        };
        if p.start > now {
            continue;
        }
        let t = if back == 0 {
            by_unit.totals.clone()
        } else {
            match compute(&app.store, &app.dir, p, GroupBy::Unit, now, 0).await {
                Ok(a) => a.assessment.totals,
                Err(e) => return Err(e.into()),
            }
        };
        months.push(label);
        resp.push(t.response_rate);
        reso.push(t.resolution_rate);
        sat.push(t.satisfaction_score);
    }
    let round = |v: &Vec<Option<f64>>| -> Vec<Option<f64>> {
        v.iter()
            .map(|x| x.map(|y| (y * 10.0).round() / 10.0))
            .collect()
    };
    let trend = serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"data": ["响应率", "解决率", "满意率"]},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "scale": true, "max": 100},
        "series": [
            {"name": "响应率", "type": "line", "data": round(&resp)},
            {"name": "解决率", "type": "line", "data": round(&reso)},
            {"name": "满意率", "type": "line", "data": round(&sat)},
        ]
    })
    .to_string();

    // 主动治理: the month's hot spots (street × category against the seasonal baseline) and the
    // Poisson spike alerts with their evidence.
    let (mut hotspots, mut spikes, mut baseline) = (Vec::new(), Vec::new(), String::new());
    if let Some(g) = an::Granularity::of(&period) {
        let cp = CellParams {
            period: period.clone(),
            granularity: g,
            level: an::PlaceLevel::Street,
            baseline: an::BaselineKind::Auto,
            trailing: g.default_trailing(),
            category: None,
            limit: 8,
        };
        let link = |place: &str, category: &str| {
            format!("/requests?street={place}&category={category}&{range}")
        };
        // Hot spots and spikes compare the same windows: count them once.
        let cw = windows_of(&app.store, &cp).await?;
        let v = hotspots_view(&app.dir, &cp, &cw, an::HotSort::Increase);
        baseline = match v.baseline.kind {
            an::BaselineKind::LastYear => "去年同期".into(),
            _ if v.baseline.windows.is_empty() => "无历史".into(),
            _ => format!("前{}个月", v.baseline.windows.len()),
        };
        hotspots = v
            .items
            .iter()
            .map(|h| CellRow {
                place: h.place_name.clone().unwrap_or_else(|| h.place.clone()),
                category: h
                    .category_name
                    .clone()
                    .unwrap_or_else(|| h.category.clone()),
                observed: h.observed,
                expected: h.expected.map(|e| format!("{e:.1}")).unwrap_or_default(),
                change: h
                    .change_pct
                    .map(|c| format!("{c:+.0}%"))
                    .unwrap_or_else(|| "新出现".into()),
                link: link(&h.place, &h.category),
                evidence: Vec::new(),
            })
            .collect();
        match spikes_view(&app.store, &app.dir, &cp, &cw, 0.001, 5, 3).await {
            Ok(v) => {
                spikes = v
                    .alerts
                    .iter()
                    .map(|s| CellRow {
                        place: s.place_name.clone().unwrap_or_else(|| s.place.clone()),
                        category: s
                            .category_name
                            .clone()
                            .unwrap_or_else(|| s.category.clone()),
                        observed: s.observed,
                        expected: format!("{:.1}", s.expected),
                        change: format!("p={:.1e}", s.p_value),
                        link: link(&s.place, &s.category),
                        evidence: s
                            .evidence
                            .iter()
                            .map(|e| (e.id, e.tracking_code.clone()))
                            .collect(),
                    })
                    .collect();
            }
            Err(e) => return Err(e.into()),
        }
    }

    // A sample is plenty for a percentage and keeps the refresh cheap at city scale.
    let acc =
        crate::api::suggest_accuracy::report(&app.store, &period, Some(SUGGESTION_SAMPLE)).await?;
    let pct = |r: Option<f64>| {
        r.map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or("—".into())
    };
    let suggestions = [
        ("诉求类型", &acc.request_type),
        ("问题分类", &acc.category),
        ("承办单位", &acc.unit),
    ]
    .into_iter()
    .map(|(field, f)| SuggestRow {
        field,
        evaluated: f.all.evaluated,
        accuracy: pct(f.all.accuracy),
        confident: format!(
            "{}（{} 条）",
            pct(f.all.confident_accuracy),
            f.all.confident
        ),
        top: pct(f.all.top_accuracy),
    })
    .collect();

    Ok(DashData {
        prev: shift_month(&month, -1).unwrap_or_default(),
        next: shift_month(&month, 1).unwrap_or_default(),
        totals: rank_row(&by_unit.totals, format!("/requests?{range}")),
        streets: streets
            .iter()
            .map(|g| rank_row(g, format!("/requests?street={}&{range}", g.key)))
            .collect(),
        units: units
            .iter()
            .map(|g| rank_row(g, format!("/requests?unit={}&{range}", g.key)))
            .collect(),
        tiles,
        shade: shade.into(),
        trend,
        hotspots,
        spikes,
        baseline,
        suggestions,
        suggestions_sampled: acc.sampled,
        computed: fmt::datetime(now),
        month,
    })
}

/// Figures younger than this are shown as they are; older ones are shown once more while a
/// background task recomputes them, so a page never waits for the month's aggregation twice.
const FRESH: std::time::Duration = std::time::Duration::from_secs(60);

async fn cached(
    app: &AppState,
    month: &str,
    period: &Period,
    shade: &'static str,
) -> Result<Arc<DashData>, crate::ApiError> {
    let key = format!("{month}/{shade}");
    let rev = app.world.get().0;
    match app.web_cache.get(&key, rev) {
        Some((age, d)) if age < FRESH => Ok(d),
        Some((_, d)) => {
            if app.web_cache.start_refresh(&key) {
                let (app, month, period) = (app.clone(), month.to_string(), period.clone());
                tokio::spawn(async move {
                    match build(&app, month, period, shade).await {
                        Ok(n) => app.web_cache.put(&key, rev, Arc::new(n)),
                        Err(e) => {
                            tracing::warn!(error = %e.body.message, "dashboard refresh failed")
                        }
                    }
                    app.web_cache.end_refresh(&key);
                });
            }
            Ok(d)
        }
        None => {
            let d = Arc::new(build(app, month.to_string(), period.clone(), shade).await?);
            app.web_cache.put(&key, rev, d.clone());
            Ok(d)
        }
    }
}

pub async fn page_handler(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<DashQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ViewAssessment) {
        return r;
    }
    let now = app.now();
    let month = q
        .month
        .filter(|m| Period::parse(m).is_some() && m.len() == 7)
        .unwrap_or_else(|| month_of(now));
    let Some(period) = Period::parse(&month) else {
        return super::error_page(
            Some(&user),
            axum::http::StatusCode::BAD_REQUEST,
            "月份格式应为 2026-10。",
        );
    };
    let shade = match q.shade.as_deref() {
        Some("volume") => "volume",
        _ => "score",
    };
    let d = match cached(&app, &month, &period, shade).await {
        Ok(d) => d,
        Err(e) => return api_error_page(&user, &e),
    };
    let f = ListFilter {
        statuses: OPEN_STATUSES.to_vec(),
        overdue: Some(true),
        order: ListOrder::Deadline,
        limit: 15,
        ..Default::default()
    };
    let overdue = match jiesu_app::requests::page(&app, &f).await {
        Ok(p) => p.items.iter().map(|s| work::row(&app, s, now)).collect(),
        Err(e) => return api_error_page(&user, &e.into()),
    };
    page(&DashboardPage {
        nav: Nav::for_user(&user, "/dashboard"),
        d,
        overdue,
        overdue_link: "/requests?status=open&overdue=true".into(),
    })
}
