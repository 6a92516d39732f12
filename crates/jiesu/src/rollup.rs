//! `jiesu rollup rebuild|check` and `jiesu bench assessment`: the 考评 fast path's facts
//! (docs/assessment.md, "Rollups") rebuilt from the event log, checked against the replay of
//! the event logs, and timed.

use crate::open_read_only;
use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use jiesu_app::App;
use jiesu_app::assessment::{AssessmentView, Method, compute_with};
use jiesu_app::console;
use jiesu_domain::assessment::{GroupBy, Period};
use jiff::Timestamp;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand)]
pub enum RollupCmd {
    /// Derive every assessment fact again from the event log (one transaction).
    Rebuild {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
    },
    /// Compare the fast path with the replay of the event logs for periods × groupings; prints
    /// JSON and fails on any difference.
    Check {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        /// Periods (repeatable), e.g. 2026-10, 2026-W43, 2026-Q4.
        #[arg(long = "period", required = true)]
        periods: Vec<String>,
        /// RFC 3339 cut-offs (repeatable; default now).
        #[arg(long = "as-of")]
        as_of: Vec<String>,
    },
}

#[derive(Args)]
pub struct AssessmentBench {
    #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
    db: String,
    /// The month (or any period) to assess.
    #[arg(long)]
    period: String,
    #[arg(long, default_value = "unit")]
    by: String,
    /// RFC 3339; default now.
    #[arg(long)]
    as_of: Option<String>,
    /// Timed runs (the median is reported); one untimed warm-up run precedes them.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Also time the replay of the event logs once (the method before the facts) and check
    /// that both give the same assessment.
    #[arg(long)]
    replay: bool,
    /// Write the three statements, with the period and cut-off filled in, to this file (one
    /// per line) so another engine can run exactly them.
    #[arg(long)]
    sql_out: Option<PathBuf>,
}

const ALL_BY: [GroupBy; 5] = [
    GroupBy::Unit,
    GroupBy::Street,
    GroupBy::Category,
    GroupBy::TopCategory,
    GroupBy::Channel,
];

async fn assessment(
    m: Method,
    app: &App,
    period: &Period,
    by: GroupBy,
    as_of: Timestamp,
) -> Result<AssessmentView> {
    compute_with(m, &app.store, &app.dir, period.clone(), by, as_of, 3)
        .await
        .map_err(|e| anyhow!("{e}"))
}

/// Compares both methods on every combination; returns (comparisons, differences).
pub async fn check(
    app: &App,
    periods: &[Period],
    as_ofs: &[Timestamp],
) -> Result<(usize, Vec<String>)> {
    let mut n = 0;
    let mut diffs = Vec::new();
    for p in periods {
        for &a in as_ofs {
            for by in ALL_BY {
                let fast = assessment(Method::Facts, app, p, by, a).await?;
                let slow = assessment(Method::Replay, app, p, by, a).await?;
                n += 1;
                if fast.assessment != slow.assessment {
                    diffs.push(format!("period {} by {by:?} as of {a}", p.label));
                }
            }
        }
    }
    Ok((n, diffs))
}

pub async fn run(cmd: RollupCmd) -> Result<()> {
    match cmd {
        RollupCmd::Rebuild { db } => {
            let app = open_read_only(&db).await?;
            let started = Instant::now();
            let (requests, events) = console::rebuild_facts(&app).await?;
            let (cycles, callbacks, whistles) = console::fact_rows(&app).await?;
            println!(
                "{}",
                serde_json::json!({
                    "backend": app.backend(),
                    "requests": requests,
                    "events": events,
                    "fact_rows": {"cycles": cycles, "callbacks": callbacks, "whistles": whistles},
                    "seconds": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
                })
            );
            app.close().await;
            Ok(())
        }
        RollupCmd::Check { db, periods, as_of } => {
            let app = open_read_only(&db).await?;
            let periods = periods
                .iter()
                .map(|p| Period::parse(p).ok_or_else(|| anyhow!("--period `{p}`")))
                .collect::<Result<Vec<_>>>()?;
            let mut as_ofs = as_of
                .iter()
                .map(|s| {
                    s.parse::<Timestamp>()
                        .with_context(|| format!("--as-of `{s}`"))
                })
                .collect::<Result<Vec<_>>>()?;
            if as_ofs.is_empty() {
                as_ofs.push(Timestamp::now());
            }
            let (n, diffs) = check(&app, &periods, &as_ofs).await?;
            println!(
                "{}",
                serde_json::json!({"comparisons": n, "differences": diffs})
            );
            app.close().await;
            if diffs.is_empty() {
                Ok(())
            } else {
                Err(anyhow!("{} differences", diffs.len()))
            }
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `jiesu bench assessment`: the month's assessment of all groups and the ranking through the
/// fast path (what the API and the report run), median of `runs`. Prints JSON.
pub async fn bench(b: AssessmentBench) -> Result<()> {
    let app = open_read_only(&b.db).await?;
    let period = Period::parse(&b.period).ok_or_else(|| anyhow!("--period `{}`", b.period))?;
    let by: GroupBy =
        b.by.parse()
            .map_err(|()| anyhow!("--by: one of unit, street, category, top_category, channel"))?;
    let as_of = match &b.as_of {
        Some(s) => s
            .parse::<Timestamp>()
            .with_context(|| format!("--as-of `{s}`"))?,
        None => Timestamp::now(),
    };
    let (cycles, callbacks, whistles) = console::fact_rows(&app).await?;
    let warm = assessment(Method::Facts, &app, &period, by, as_of).await?;
    let mut runs = Vec::new();
    for _ in 0..b.runs.max(1) {
        let t = Instant::now();
        let v = assessment(Method::Facts, &app, &period, by, as_of).await?;
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
        if v.assessment != warm.assessment {
            return Err(anyhow!("two runs of the fast path disagree"));
        }
    }
    let mut replay = serde_json::Value::Null;
    if b.replay {
        let t = Instant::now();
        let v = assessment(Method::Replay, &app, &period, by, as_of).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        replay = serde_json::json!({
            "ms": round2(ms),
            "equal": v.assessment == warm.assessment,
        });
    }
    if let Some(path) = &b.sql_out {
        let (s, e, a) = (
            period.start.as_millisecond(),
            period.end.as_millisecond(),
            as_of.as_millisecond(),
        );
        let text: String = jiesu_store::assessment_sql(by)
            .iter()
            .map(|q| {
                let q = q
                    .replace("$1", &s.to_string())
                    .replace("$2", &e.to_string())
                    .replace("$3", &a.to_string());
                format!("{}\n", q.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let t = &warm.assessment.totals;
    let scored = warm
        .assessment
        .groups
        .iter()
        .filter(|g| g.composite.is_some())
        .count();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "bench": "assessment",
            "backend": app.backend(),
            "period": period.label,
            "by": b.by,
            "as_of": as_of.to_string(),
            "fact_rows": {"cycles": cycles, "callbacks": callbacks, "whistles": whistles},
            "groups": warm.assessment.groups.len(),
            "groups_ranked": scored,
            "totals": {
                "dispatched": t.dispatched,
                "callbacks_reached": t.callbacks_reached,
                "response_rate": t.response_rate,
                "resolution_rate": t.resolution_rate,
                "satisfaction_score": t.satisfaction_score,
            },
            "runs": runs.len(),
            "runs_ms": runs.iter().map(|x| round2(*x)).collect::<Vec<_>>(),
            "median_ms": round2(median(&runs)),
            "replay": replay,
        }))?
    );
    app.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn world() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../world/xicheng"))
    }

    fn periods() -> Vec<Period> {
        [
            "2026-04",
            "2026-05",
            "2026-06",
            "2026-W19",
            "2026-W21",
            "2026-05-20",
            "2026-Q2",
            "2026",
        ]
        .iter()
        .map(|p| Period::parse(p).unwrap())
        .collect()
    }

    fn as_ofs() -> Vec<Timestamp> {
        [
            "2026-04-20T09:30:00+08:00",
            "2026-05-01T00:00:00+08:00",
            "2026-05-19T13:07:11+08:00",
            "2026-05-31T23:59:59.999+08:00",
            "2026-06-04T18:00:00+08:00",
            "2026-06-10T15:20:00+08:00",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect()
    }

    /// Generates a varied history (every path, rare ones multiplied), then: the facts written
    /// with the bulk load equal the replay for every period × grouping × cut-off; a rebuild
    /// from the event log gives the same answers again.
    async fn facts_equal_replay(url: &str) {
        let end: Timestamp = "2026-06-10T15:20:00+08:00".parse().unwrap();
        let app = crate::demo::generate_for_test(url, world(), 11, 4_000, end, 62, 6.0)
            .await
            .unwrap();
        let (n, diffs) = check(&app, &periods(), &as_ofs()).await.unwrap();
        assert_eq!(n, 8 * 6 * 5);
        assert!(diffs.is_empty(), "{} differences: {diffs:#?}", diffs.len());
        // Not vacuous: the month has every kind of count.
        let p = Period::parse("2026-05").unwrap();
        let v = assessment(Method::Facts, &app, &p, GroupBy::Unit, end)
            .await
            .unwrap();
        let t = &v.assessment.totals;
        assert!(t.dispatched > 1_000 && t.responded_in_time > 0, "{t:?}");
        assert!(
            t.callbacks_unreached > 0 && t.callbacks_reached > 0,
            "{t:?}"
        );
        assert!(t.whistled > 0 && t.replied_in_time < t.replied, "{t:?}");
        assert!(t.dispatched > t.responded_in_time);
        let before = console::fact_rows(&app).await.unwrap();
        console::rebuild_facts(&app).await.unwrap();
        assert_eq!(console::fact_rows(&app).await.unwrap(), before);
        let (_, diffs) = check(&app, &periods()[..3], &as_ofs()[3..]).await.unwrap();
        assert!(diffs.is_empty(), "after rebuild: {diffs:#?}");
        app.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn facts_equal_replay_sqlite() {
        let path = std::env::temp_dir().join(format!("jiesu-facts-{}.db", std::process::id()));
        facts_equal_replay(&format!("sqlite://{}", path.display())).await;
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", path.display()));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn facts_equal_replay_postgres() {
        let Ok(admin) = std::env::var("JIESU_TEST_PG_URL") else {
            return;
        };
        // Replayed through `Store::open` with the environment's keyring (none in tests).
        let db = jiesu_store::testing::TestDb::postgres_with(&admin, jiesu_store::Pii::off())
            .await
            .unwrap();
        db.store.close().await;
        facts_equal_replay(&db.url).await;
        db.cleanup().await;
    }

    /// The city generator's facts on SQLite: loaded, and every city street is a group.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn city_generator_small() {
        let path = std::env::temp_dir().join(format!("jiesu-city-{}.db", std::process::id()));
        let url = format!("sqlite://{}", path.display());
        let end: Timestamp = "2026-06-10T15:20:00+08:00".parse().unwrap();
        let summary = crate::city::build(crate::city::CityArgs {
            db: &url,
            requests: 30_000,
            seed: 3,
            world: Some(world()),
            threads: 2,
            end: Some(end),
        })
        .await
        .unwrap();
        assert_eq!(summary["requests"], 30_000);
        let app = open_read_only(&url).await.unwrap();
        let p = Period::parse("2026-05").unwrap();
        let v = assessment(Method::Facts, &app, &p, GroupBy::Street, end)
            .await
            .unwrap();
        assert!(
            v.assessment.groups.len() > 300,
            "{}",
            v.assessment.groups.len()
        );
        app.close().await;
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", path.display()));
        }
    }
}
