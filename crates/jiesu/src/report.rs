//! `jiesu report`: the monthly 考评 as a file a district office circulates — rankings, each
//! group's rates with their counts, the overdue list, hot spots, spike alerts and 每月一题
//! candidates. XLSX (one sheet each), JSON (everything) or CSV (the rates table). The numbers
//! come from the same functions as `GET /api/v1/assessment` and `/api/v1/analytics/…`.

use anyhow::{Context, Result, anyhow, bail};
use jiesu_app::App;
use jiesu_app::analytics::{
    self as an, CellParams, HotspotsView, OverdueView, RecurringView, SpikesView,
};
use jiesu_app::assessment::AssessmentView;
use jiesu_domain::Directory;
use jiesu_domain::analytics::{BaselineKind, Granularity, HotSort, PlaceLevel};
use jiesu_domain::assessment::{GroupBy, GroupScore, Period};
use jiff::Timestamp;
use serde::Serialize;
use std::path::Path;

pub struct ReportArgs<'a> {
    pub period: &'a str,
    pub by: &'a str,
    pub as_of: Option<&'a str>,
    pub bottom: usize,
    pub db: &'a str,
    pub format: &'a str,
    pub out: &'a Path,
}

/// Hot spots and spike alerts listed in the report.
const HOTSPOTS: usize = 50;
const SPIKES: usize = 50;
/// 每月一题 candidates: the last six months, present in at least three.
const RECURRING_MONTHS: usize = 6;
const RECURRING: usize = 30;

/// Everything the report shows. In JSON the assessment's fields stay at the top level (as
/// `GET /api/v1/assessment` answers), the rest beside them.
#[derive(Serialize)]
pub struct MonthlyReport {
    #[serde(flatten)]
    pub assessment: AssessmentView,
    /// Not computed for the CSV, which shows the rates only.
    pub overdue: Option<OverdueView>,
    /// For a week, month or day (not for a quarter or a year).
    pub hotspots: Option<HotspotsView>,
    pub spikes: Option<SpikesView>,
    /// For a month.
    pub recurring: Option<RecurringView>,
}

/// Computes the report (what the API computes for the same parameters). Without `analytics`
/// only the assessment (what the CSV shows). The parts are read side by side.
pub async fn build(
    app: &App,
    period: Period,
    by: GroupBy,
    as_of: Timestamp,
    bottom: usize,
    analytics: bool,
) -> Result<MonthlyReport> {
    let api = |e: jiesu_app::AppError| anyhow!("{e}");
    let (store, dir) = (&app.store, &*app.dir);
    let granularity = Granularity::of(&period).filter(|_| analytics);
    let cells = granularity.map(|g| CellParams {
        period: period.clone(),
        granularity: g,
        level: PlaceLevel::Street,
        baseline: BaselineKind::Auto,
        trailing: g.default_trailing(),
        category: None,
        limit: HOTSPOTS,
    });
    let assessment = jiesu_app::assessment::compute(store, dir, period.clone(), by, as_of, bottom);
    let overdue = async {
        match analytics {
            true => an::overdue_view(store, dir, &period, as_of, None, usize::MAX)
                .await
                .map(Some),
            false => Ok(None),
        }
    };
    // Hot spots and spikes compare the same windows: counted once, then both views.
    let cells_and_spikes = async {
        let Some(p) = &cells else {
            return Ok((None, None));
        };
        let cw = an::windows_of(store, p).await?;
        let hot = an::hotspots_view(dir, p, &cw, HotSort::Count);
        let spikes_params = CellParams {
            limit: SPIKES,
            ..p.clone()
        };
        let spikes = an::spikes_view(store, dir, &spikes_params, &cw, 0.001, 5, 5).await?;
        Ok((Some(hot), Some(spikes)))
    };
    let recurring = async {
        match granularity {
            Some(Granularity::Month) => an::recurring_view(
                store,
                dir,
                &period,
                RECURRING_MONTHS,
                PlaceLevel::Community,
                RECURRING_MONTHS.div_ceil(2),
                3,
                RECURRING,
            )
            .await
            .map(Some),
            _ => Ok(None),
        }
    };
    let (assessment, overdue, cells_and_spikes, recurring) =
        tokio::join!(assessment, overdue, cells_and_spikes, recurring);
    let (hotspots, spikes) = cells_and_spikes.map_err(api)?;
    Ok(MonthlyReport {
        assessment: assessment.map_err(api)?,
        overdue: overdue.map_err(api)?,
        hotspots,
        spikes,
        recurring: recurring.map_err(api)?,
    })
}

pub async fn run(a: ReportArgs<'_>) -> Result<()> {
    let period = Period::parse(a.period)
        .ok_or_else(|| anyhow!("--month `{}`: expected e.g. 2026-10", a.period))?;
    let by: GroupBy =
        a.by.parse()
            .map_err(|()| anyhow!("--by: one of unit, street, category, top_category, channel"))?;
    let as_of = match a.as_of {
        Some(s) => s
            .parse::<Timestamp>()
            .with_context(|| format!("--as-of `{s}`: expected RFC 3339 with an offset"))?,
        None => Timestamp::now(),
    };
    if !matches!(a.format, "json" | "csv" | "xlsx") {
        bail!("--format: json, csv or xlsx");
    }
    // Read-only: the stored world, else the shipped one, not saved.
    let app = crate::open_read_only(a.db).await?;
    let dir = app.dir.clone();
    let started = std::time::Instant::now();
    let report = build(&app, period, by, as_of, a.bottom, a.format != "csv").await?;
    let computed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match a.format {
        "json" => std::fs::write(a.out, serde_json::to_string_pretty(&report)?),
        "csv" => std::fs::write(
            a.out,
            csv(
                &report.assessment.assessment.groups,
                &report.assessment.assessment.totals,
            ),
        ),
        _ => {
            xlsx(&report, &dir, a.out)?;
            Ok(())
        }
    }
    .with_context(|| format!("writing {}", a.out.display()))?;
    let overdue = match &report.overdue {
        Some(o) => format!(", {} overdue", o.total),
        None => String::new(),
    };
    eprintln!(
        "{} groups{overdue}, computed in {computed_ms:.0} ms, written in {:.0} ms to {}",
        report.assessment.assessment.groups.len(),
        started.elapsed().as_secs_f64() * 1000.0 - computed_ms,
        a.out.display()
    );
    app.close().await;
    Ok(())
}

fn csv(groups: &[GroupScore], totals: &GroupScore) -> String {
    let num = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from(
        "rank,key,name,dispatched,responded_in_time,response_rate,callbacks_reached,resolved,\
         resolution_rate,satisfaction_answers,satisfaction_score,satisfied_share,whistled,\
         whistle_reported_in_time,whistle_response_rate,composite,bottom\n",
    );
    for g in groups.iter().chain(std::iter::once(totals)) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            g.rank.map(|r| r.to_string()).unwrap_or_default(),
            quote(&g.key),
            quote(g.name.as_deref().unwrap_or("")),
            g.dispatched,
            g.responded_in_time,
            num(g.response_rate),
            g.callbacks_reached,
            g.resolved,
            num(g.resolution_rate),
            g.satisfaction_answers,
            num(g.satisfaction_score),
            num(g.satisfied_share),
            g.whistled,
            g.whistle_reported_in_time,
            num(g.whistle_response_rate),
            num(g.composite),
            g.bottom,
        ));
    }
    out
}

// ------------------------------------------------------------------ XLSX

/// One cell of a report sheet.
enum Cell {
    Text(String),
    Int(u64),
    /// A plain number shown with two decimals (scores, hours); blank when `None`.
    Num(Option<f64>),
    /// A rate given in percent (as the API gives it), stored as a fraction with a `0.00%`
    /// format so a spreadsheet computes with it; blank when `None`.
    Pct(Option<f64>),
    /// A probability in scientific notation.
    Sci(f64),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_text(s: Option<&str>) -> Cell {
    Cell::Text(s.unwrap_or("").to_string())
}

/// Beijing time as `2026-10-05 14:30`.
fn local(t: Timestamp) -> String {
    jiff::tz::Offset::constant(8)
        .to_datetime(t)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

struct Formats {
    header: rust_xlsxwriter::Format,
    pct: rust_xlsxwriter::Format,
    num: rust_xlsxwriter::Format,
    sci: rust_xlsxwriter::Format,
    wrap: rust_xlsxwriter::Format,
}

/// A sheet: a bold, filled, frozen header row with filters, column widths, then the rows.
fn sheet(
    wb: &mut rust_xlsxwriter::Workbook,
    f: &Formats,
    name: &str,
    columns: &[(&str, f64)],
    rows: &[Vec<Cell>],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, (header, width)) in columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, *header, &f.header)?;
        ws.set_column_width(c, *width)?;
    }
    ws.set_row_height(0, 30)?;
    ws.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) if s.chars().count() > 40 => {
                    ws.write_string_with_format(r, c, s, &f.wrap)?;
                }
                Cell::Text(s) => {
                    ws.write_string(r, c, s)?;
                }
                Cell::Int(n) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                Cell::Num(Some(x)) => {
                    ws.write_number_with_format(r, c, *x, &f.num)?;
                }
                Cell::Pct(Some(x)) => {
                    ws.write_number_with_format(r, c, *x / 100.0, &f.pct)?;
                }
                Cell::Sci(x) => {
                    ws.write_number_with_format(r, c, *x, &f.sci)?;
                }
                Cell::Num(None) | Cell::Pct(None) => {}
            }
        }
    }
    if !columns.is_empty() {
        let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        ws.autofilter(0, 0, last_row, (columns.len() - 1) as u16)?;
    }
    Ok(())
}

/// The sheet names, in order (tests and readers find the sheets by these).
pub const SHEETS: &[&str] = &[
    "排名",
    "三率明细",
    "超期清单",
    "热点",
    "突增预警",
    "每月一题候选",
    "说明",
];

/// Writes the report as an XLSX workbook.
pub fn xlsx(r: &MonthlyReport, dir: &Directory, out: &Path) -> Result<()> {
    use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook};
    let f = Formats {
        header: Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDEBF7))
            .set_border_bottom(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap(),
        pct: Format::new().set_num_format("0.00%"),
        num: Format::new().set_num_format("0.00"),
        sci: Format::new().set_num_format("0.00E+00"),
        wrap: Format::new().set_text_wrap(),
    };
    let a = &r.assessment.assessment;
    let by_label = match a.by {
        GroupBy::Unit => "单位",
        GroupBy::Street => "街道",
        GroupBy::Category => "类别",
        GroupBy::TopCategory => "一级类别",
        GroupBy::Channel => "渠道",
    };
    let mut wb = Workbook::new();

    // 排名
    let rows: Vec<Vec<Cell>> = a
        .groups
        .iter()
        .map(|g| {
            vec![
                g.rank
                    .map(|n| Cell::Int(u64::from(n)))
                    .unwrap_or(Cell::Num(None)),
                text(&g.key),
                opt_text(g.name.as_deref()),
                Cell::Num(g.composite),
                Cell::Pct(g.response_rate),
                Cell::Pct(g.resolution_rate),
                Cell::Num(g.satisfaction_score),
                text(if g.bottom { "末位" } else { "" }),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        SHEETS[0],
        &[
            ("排名", 7.0),
            ("编码", 14.0),
            (by_label, 26.0),
            ("综合得分", 11.0),
            ("响应率", 10.0),
            ("解决率", 10.0),
            ("满意率(分)", 11.0),
            ("末位标记", 10.0),
        ],
        &rows,
    )?;

    // 三率明细: every count behind every rate, and the totals.
    let detail = |g: &GroupScore, name: &str| {
        vec![
            text(&g.key),
            text(name),
            Cell::Int(g.dispatched),
            Cell::Int(g.responded_in_time),
            Cell::Pct(g.response_rate),
            Cell::Int(g.replied),
            Cell::Int(g.replied_in_time),
            Cell::Int(g.callbacks),
            Cell::Int(g.callbacks_unreached),
            Cell::Int(g.callbacks_reached),
            Cell::Int(g.resolved),
            Cell::Pct(g.resolution_rate),
            Cell::Int(g.satisfaction_answers),
            Cell::Int(g.satisfied),
            Cell::Int(g.basically_satisfied),
            Cell::Int(g.unsatisfied),
            Cell::Num(g.satisfaction_score),
            Cell::Pct(g.satisfied_share),
            Cell::Int(g.whistled),
            Cell::Int(g.whistle_reported_in_time),
            Cell::Pct(g.whistle_response_rate),
            Cell::Num(g.composite),
            g.rank
                .map(|n| Cell::Int(u64::from(n)))
                .unwrap_or(Cell::Num(None)),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = a
        .groups
        .iter()
        .map(|g| detail(g, g.name.as_deref().unwrap_or("")))
        .collect();
    rows.push(detail(&a.totals, "合计"));
    sheet(
        &mut wb,
        &f,
        SHEETS[1],
        &[
            ("编码", 14.0),
            (by_label, 26.0),
            ("派单数", 9.0),
            ("按时响应数", 11.0),
            ("响应率", 10.0),
            ("答复数", 9.0),
            ("按时答复数", 11.0),
            ("回访数", 9.0),
            ("未接通", 9.0),
            ("回访接通数", 11.0),
            ("已解决", 9.0),
            ("解决率", 10.0),
            ("满意度评价数", 12.0),
            ("满意", 8.0),
            ("基本满意", 10.0),
            ("不满意", 9.0),
            ("满意率(分)", 11.0),
            ("满意占比", 10.0),
            ("吹哨数", 9.0),
            ("按时报到数", 11.0),
            ("报到率", 10.0),
            ("综合得分", 11.0),
            ("排名", 7.0),
        ],
        &rows,
    )?;

    // 超期清单
    let rows: Vec<Vec<Cell>> = r
        .overdue
        .iter()
        .flat_map(|o| &o.items)
        .map(|o| {
            vec![
                text(&o.tracking_code),
                Cell::Int(u64::try_from(o.id).unwrap_or(0)),
                opt_text(o.category_name.as_deref().or(o.category.as_deref())),
                opt_text(
                    o.street
                        .as_deref()
                        .and_then(|s| dir.street(s))
                        .map(|s| s.name.as_str()),
                ),
                opt_text(o.unit_name.as_deref().or(o.unit.as_deref())),
                text(local(o.received_at)),
                text(local(o.completion_due)),
                text(o.replied_at.map(local).unwrap_or_else(|| "未答复".into())),
                Cell::Num(Some(o.late_hours)),
                Cell::Num(Some(o.late_days)),
                text(
                    o.status
                        .parse::<jiesu_domain::Status>()
                        .map(|s| s.label_zh().to_string())
                        .unwrap_or_else(|_| o.status.clone()),
                ),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        SHEETS[2],
        &[
            ("受理编号", 16.0),
            ("工单ID", 9.0),
            ("类别", 18.0),
            ("街道", 14.0),
            ("承办单位", 24.0),
            ("受理时间", 17.0),
            ("办理时限", 17.0),
            ("答复时间", 17.0),
            ("超期(小时)", 11.0),
            ("超期(天)", 10.0),
            ("状态", 10.0),
        ],
        &rows,
    )?;

    // 热点
    let rows: Vec<Vec<Cell>> = r
        .hotspots
        .iter()
        .flat_map(|h| &h.items)
        .map(|h| {
            vec![
                Cell::Int(u64::from(h.rank)),
                text(&h.category),
                opt_text(h.category_name.as_deref()),
                text(&h.place),
                opt_text(h.place_name.as_deref()),
                Cell::Int(h.observed),
                Cell::Num(h.expected),
                Cell::Num(h.change),
                Cell::Pct(h.change_pct),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        SHEETS[3],
        &[
            ("排名", 7.0),
            ("类别编码", 22.0),
            ("类别", 18.0),
            ("街道编码", 12.0),
            ("街道", 14.0),
            ("本期诉求量", 11.0),
            ("基线均值", 10.0),
            ("变化量", 9.0),
            ("变化率", 10.0),
        ],
        &rows,
    )?;

    // 突增预警
    let rows: Vec<Vec<Cell>> = r
        .spikes
        .iter()
        .flat_map(|s| &s.alerts)
        .map(|s| {
            vec![
                Cell::Int(u64::from(s.rank)),
                opt_text(s.category_name.as_deref().or(Some(&s.category))),
                opt_text(s.place_name.as_deref().or(Some(&s.place))),
                Cell::Int(s.observed),
                Cell::Num(Some(s.expected)),
                Cell::Sci(s.p_value),
                Cell::Num(Some(s.score)),
                text(
                    s.evidence
                        .iter()
                        .map(|e| e.tracking_code.as_str())
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        SHEETS[4],
        &[
            ("排名", 7.0),
            ("类别", 18.0),
            ("街道", 14.0),
            ("本期诉求量", 11.0),
            ("期望值", 9.0),
            ("p值", 11.0),
            ("得分(-log10 p)", 14.0),
            ("样例受理编号", 60.0),
        ],
        &rows,
    )?;

    // 每月一题候选
    let rows: Vec<Vec<Cell>> = r
        .recurring
        .iter()
        .flat_map(|x| &x.items)
        .map(|x| {
            vec![
                Cell::Int(u64::from(x.rank)),
                opt_text(x.category_name.as_deref().or(Some(&x.category))),
                opt_text(x.place_name.as_deref().or(Some(&x.place))),
                Cell::Int(x.volume),
                Cell::Int(x.months_present as u64),
                Cell::Int(x.communities as u64),
                Cell::Pct(x.unsatisfied_share),
                Cell::Num(Some(x.score)),
                text(&x.explanation),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        &f,
        SHEETS[5],
        &[
            ("排名", 7.0),
            ("类别", 18.0),
            ("社区", 16.0),
            ("诉求总量", 10.0),
            ("出现月数", 10.0),
            ("涉及社区", 10.0),
            ("不满意占比", 11.0),
            ("得分", 9.0),
            ("得分说明", 70.0),
        ],
        &rows,
    )?;

    // 说明
    let w = &r.assessment.weights;
    let baseline = |b: Option<&jiesu_domain::analytics::Baseline>| match b {
        None => "—".to_string(),
        Some(b) => format!(
            "{}：{}",
            match b.kind {
                BaselineKind::LastYear => "去年同期",
                _ => "此前各期",
            },
            b.windows
                .iter()
                .map(|w| w.label.as_str())
                .collect::<Vec<_>>()
                .join("、")
        ),
    };
    let about = [
        ("统计期间", a.period.label.clone()),
        ("数据截止", local(a.as_of)),
        ("分组", by_label.to_string()),
        (
            "综合得分权重",
            format!(
                "响应率 {} / 解决率 {} / 满意率 {}",
                w.response, w.resolution, w.satisfaction
            ),
        ),
        (
            "满意率分值",
            format!(
                "满意 {} / 基本满意 {} / 不满意 {}",
                w.satisfied_score, w.basically_satisfied_score, w.unsatisfied_score
            ),
        ),
        (
            "超期清单",
            format!(
                "办理时限在本期内、截止时未按时答复的诉求 {} 件（其中仍未答复 {} 件）",
                r.overdue.as_ref().map_or(0, |o| o.total),
                r.overdue.as_ref().map_or(0, |o| o.open)
            ),
        ),
        (
            "热点基线",
            baseline(r.hotspots.as_ref().map(|h| &h.baseline)),
        ),
        (
            "突增预警",
            "泊松检验：本期诉求量不低于 5 件且 p ≤ 0.001（期望值为基线均值，最低 0.5）".to_string(),
        ),
        (
            "每月一题候选",
            format!(
                "近 {RECURRING_MONTHS} 个月同一社区同一类别诉求，至少 {} 个月出现；得分 = 诉求量 35 + 持续性 30 + 覆盖面 15 + 不满意占比 20",
                RECURRING_MONTHS.div_ceil(2)
            ),
        ),
        (
            "口径说明",
            "docs/assessment.md（三率）与 docs/analytics.md（主动治理）".to_string(),
        ),
    ];
    let rows: Vec<Vec<Cell>> = about
        .into_iter()
        .map(|(k, v)| vec![text(k), text(v)])
        .collect();
    sheet(
        &mut wb,
        &f,
        SHEETS[6],
        &[("项目", 16.0), ("内容", 100.0)],
        &rows,
    )?;

    wb.save(out)?;
    Ok(())
}
