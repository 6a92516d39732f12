//! `jiesu report`: the monthly 考评 (rankings, each group's rates with their counts) as JSON or
//! CSV, the same numbers as `GET /api/v1/assessment`.

use anyhow::{Context, Result, anyhow, bail};
use jiesu_domain::Directory;
use jiesu_domain::assessment::{GroupBy, GroupScore, Period};
use jiesu_store::Store;
use jiff::Timestamp;
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
    if !matches!(a.format, "json" | "csv") {
        bail!("--format: json or csv (xlsx is not implemented yet)");
    }
    let store = Store::open(a.db).await.context("opening the database")?;
    // Read-only: use the stored world, else the shipped one, without saving it.
    let world = match store.load_world().await? {
        Some(w) => w,
        None => {
            crate::world_files::load(None)
                .map_err(|e| anyhow!("{e}"))?
                .0
        }
    };
    let dir = Directory::new(world);
    let started = std::time::Instant::now();
    let view = jiesu_server::api::assessment::compute(&store, &dir, period, by, as_of, a.bottom)
        .await
        .map_err(|e| anyhow!("{}", e.body.message))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let text = if a.format == "json" {
        serde_json::to_string_pretty(&view)?
    } else {
        csv(&view.assessment.groups, &view.assessment.totals)
    };
    std::fs::write(a.out, text).with_context(|| format!("writing {}", a.out.display()))?;
    eprintln!(
        "{} groups, computed in {ms:.0} ms, written to {}",
        view.assessment.groups.len(),
        a.out.display()
    );
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
