//! `jiesu bench care`: on a demo database, a month's settlement of every provider and meal
//! point — computed from the order and meal logs (`settle::compute_lines` per party) and as
//! the desk and `jiesu care settle` read it (`settle::report`) — and the supply–demand view,
//! each the median of runs, with the row counts behind them. Prints JSON.

use anyhow::{Result, anyhow};
use jiesu_app::care::{network, settle, supply};
use jiesu_app::console;
use jiesu_domain::care::claim::{LineKind, PartyKind, month_of, parse_month};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(clap::Args)]
pub struct CareBench {
    #[arg(long, env = "JIESU_DB")]
    pub db: String,
    /// YYYY-MM (default: the last full month).
    #[arg(long)]
    pub month: Option<String>,
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// The 民政养老管理员 account the use cases run as (the demo's `care-admin`).
    #[arg(long, default_value = "care-admin")]
    pub user: String,
}

fn stats(ms: &mut [f64]) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let r = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "median_ms": r(ms[ms.len() / 2]),
        "min_ms": r(ms[0]),
        "max_ms": r(ms[ms.len() - 1]),
    })
}

pub async fn run(b: CareBench) -> Result<()> {
    let runs = b.runs.max(1);
    let app = crate::open_read_only(&b.db).await?;
    let err = |e: jiesu_app::AppError| anyhow!("{e}");
    let person = console::account(&app, &b.user)
        .await
        .map_err(|e| anyhow!("--user: {}", e.message))?;
    let month = match b.month {
        Some(m) => m,
        None => {
            let today = app.dir.calendar.local_date(app.now());
            let last = today
                .first_of_month()
                .checked_sub(jiff::Span::new().months(1))
                .map_err(|e| anyhow!("{e}"))?;
            month_of(last)
        }
    };
    let first = parse_month("month", &month).map_err(|e| anyhow!("--month: {e}"))?;
    let rows = console::care_rows(&app, first).await.map_err(err)?;
    let mut parties: Vec<(PartyKind, String)> = Vec::new();
    for p in network::providers(&app, &person).await.map_err(err)? {
        parties.push((PartyKind::Provider, p.code));
    }
    for m in network::meal_points(&app, &person).await.map_err(err)? {
        parties.push((PartyKind::MealPoint, m.code));
    }

    // From the logs: every party's lines (due less paid) computed afresh.
    let mut compute_ms = Vec::new();
    let mut computed: BTreeMap<&'static str, (usize, i64)> = BTreeMap::new();
    for run in 0..runs {
        let t = Instant::now();
        let mut by_kind: BTreeMap<&'static str, (usize, i64)> = BTreeMap::new();
        for (kind, code) in &parties {
            for l in settle::compute_lines(&app, *kind, code, first)
                .await
                .map_err(err)?
            {
                let k = if l.adjustment {
                    "adjustment"
                } else {
                    l.kind.as_str()
                };
                let e = by_kind.entry(k).or_default();
                e.0 += 1;
                e.1 += l.amount_fen;
            }
        }
        compute_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if run == 0 {
            computed = by_kind;
        }
    }

    // As read by the desk and the CLI: stored claims, drafts for the others.
    let mut report_ms = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = settle::report(&app, &person, &month, None)
            .await
            .map_err(err)?;
        report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(r);
    }
    let r = last.expect("one run");
    let mut status: BTreeMap<String, usize> = BTreeMap::new();
    let mut lines: BTreeMap<&'static str, usize> = BTreeMap::new();
    for c in &r.claims {
        *status.entry(c.status.clone()).or_default() += 1;
        for l in &c.lines {
            let k = match (l.adjustment, l.kind) {
                (true, _) => "adjustment",
                (_, LineKind::Visit) => "visit",
                (_, LineKind::MealSubsidy) => "meal_subsidy",
                (_, LineKind::Operating) => "operating_subsidy",
            };
            *lines.entry(k).or_default() += 1;
        }
    }
    let t = Instant::now();
    let xlsx = settle::to_xlsx(&r).map_err(err)?;
    let xlsx_ms = t.elapsed().as_secs_f64() * 1000.0;

    let mut supply_ms = Vec::new();
    let mut view = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        view = supply::view(&app, &person).await.map_err(err)?;
        supply_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let out = json!({
        "backend": app.backend(),
        "month": month,
        "runs": runs,
        "rows": rows,
        "parties": parties.len(),
        "settlement_from_logs": {
            "time": stats(&mut compute_ms),
            "lines_by_kind": computed.iter().map(|(k, (n, fen))| (k.to_string(), json!({"lines": n, "fen": fen}))).collect::<serde_json::Map<_, _>>(),
        },
        "settlement_report": {
            "time": stats(&mut report_ms),
            "claims": r.claims.len(),
            "claims_by_status": status,
            "lines": lines.values().sum::<usize>(),
            "lines_by_kind": lines,
            "total_fen": r.total_fen,
            "xlsx_ms": (xlsx_ms * 10.0).round() / 10.0,
            "xlsx_bytes": xlsx.len(),
        },
        "supply_demand": {
            "time": stats(&mut supply_ms),
            "communities": view.len(),
            "thin": view.iter().filter(|c| c.thin).count(),
            "elders": view.iter().map(|c| c.elders).sum::<i64>(),
            "requests": view.iter().map(|c| c.requests_total).sum::<i64>(),
        },
    });
    app.close().await;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
