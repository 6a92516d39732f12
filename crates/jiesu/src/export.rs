//! `jiesu export`: requests to CSV or XLSX, filtered like `GET /api/v1/requests` (the same
//! query parsing, so the same filters mean the same rows), identities masked as in every list.

use anyhow::{Context, Result, anyhow};
use jiesu_app::export::{Format, write_csv, write_xlsx};
use jiesu_app::requests::ListQuery;
use std::path::Path;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Filters {
    /// One status or several, comma-separated; `open` for every unfinished one.
    #[arg(long)]
    pub status: Option<String>,
    /// Lead unit code.
    #[arg(long)]
    pub unit: Option<String>,
    #[arg(long)]
    pub street: Option<String>,
    #[arg(long)]
    pub community: Option<String>,
    /// A category code (a parent includes its sub-categories).
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long = "type")]
    pub request_type: Option<String>,
    #[arg(long)]
    pub channel: Option<String>,
    #[arg(long)]
    pub overdue: Option<bool>,
    /// `warning` or `overdue`.
    #[arg(long)]
    pub sla: Option<String>,
    /// RFC 3339, inclusive.
    #[arg(long)]
    pub received_from: Option<String>,
    /// RFC 3339, exclusive.
    #[arg(long)]
    pub received_to: Option<String>,
    /// Text contains.
    #[arg(long)]
    pub q: Option<String>,
}

pub async fn run(db: &str, format: &str, out: &Path, f: Filters) -> Result<serde_json::Value> {
    let format: Format = format
        .parse()
        .map_err(|e: String| anyhow!("--format: {e}"))?;
    let started = Instant::now();
    let mut app = crate::open_app(db, None).await?;
    // No full-text index on the command line: `--q` is a substring match.
    app.search = None;
    let query = ListQuery {
        status: f.status,
        unit: f.unit,
        street: f.street,
        community: f.community,
        category: f.category,
        request_type: f.request_type,
        channel: f.channel,
        overdue: f.overdue,
        sla: f.sla,
        received_from: f.received_from,
        received_to: f.received_to,
        q: f.q,
        ..ListQuery::default()
    };
    let filter = jiesu_app::requests::console_filter(&app, &query)
        .await
        .map_err(|e| {
            anyhow!(
                "{}{}",
                e.field
                    .map(|f| format!("--{}: ", f.replace('_', "-")))
                    .unwrap_or_default(),
                e.message
            )
        })?;
    let written = match format {
        Format::Csv => {
            let file = std::fs::File::create(out)
                .with_context(|| format!("creating {}", out.display()))?;
            write_csv(&app, &filter, std::io::BufWriter::new(file)).await
        }
        Format::Xlsx => write_xlsx(&app, &filter, out).await,
    };
    app.close().await;
    let rows = match written {
        Ok(n) => n,
        Err(e) => {
            // Half a file is worse than none.
            let _ = std::fs::remove_file(out);
            return Err(anyhow!("export failed: {e}"));
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "rows": rows,
        "format": if format == Format::Csv { "csv" } else { "xlsx" },
        "out": out.display().to_string(),
        "seconds": (seconds * 1000.0).round() / 1000.0,
    }))
}
