//! `jiesu care settle`: the month's elder-care settlement (every provider's and meal point's
//! claim, or one party's) as JSON or XLSX, computed by the same use case as the 民政 desk
//! (`jiesu_app::care::settle::report`) for a real 民政养老管理员 account named by `--user`.

use crate::print_out;
use anyhow::{Context, Result, anyhow, bail};
use jiesu_app::AppError;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum CareCmd {
    /// A month's settlement: per party its claim (approved, prepared, or a draft from the
    /// order and meal logs), line items and totals in integer fen. Prints a JSON summary.
    Settle {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        /// Only this provider's (or meal point's) claim.
        #[arg(long)]
        provider: Option<String>,
        /// `json` or `xlsx`.
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// The 民政养老管理员 account the settlement is read as.
        #[arg(long, env = "JIESU_USER")]
        user: String,
    },
}

/// An app error as the command line names it: the flag, then the message.
fn flag_error(e: AppError) -> anyhow::Error {
    let flag = match e.field.as_deref() {
        Some("party") => Some("provider"),
        Some(f) => Some(f),
        None => None,
    };
    anyhow!(
        "{}{}",
        flag.map(|f| format!("--{}: ", f.replace('_', "-")))
            .unwrap_or_default(),
        e.message
    )
}

pub async fn run(cmd: CareCmd) -> Result<()> {
    let CareCmd::Settle {
        db,
        month,
        provider,
        format,
        out,
        user,
    } = cmd;
    if !matches!(format.as_str(), "json" | "xlsx") {
        bail!("--format: json or xlsx");
    }
    let app = crate::open_app(&db, None).await?;
    let result = async {
        let person = jiesu_app::console::account(&app, &user)
            .await
            .map_err(flag_error)?;
        jiesu_app::care::settle::report(&app, &person, &month, provider.as_deref())
            .await
            .map_err(flag_error)
    }
    .await;
    app.close().await;
    let report = result?;
    let bytes = match format.as_str() {
        "xlsx" => jiesu_app::care::settle::to_xlsx(&report).map_err(|e| anyhow!("{e}"))?,
        _ => serde_json::to_vec_pretty(&report)?,
    };
    std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
    let lines: usize = report.claims.iter().map(|c| c.lines.len()).sum();
    print_out(&serde_json::to_string_pretty(&serde_json::json!({
        "month": report.month,
        "claims": report.claims.len(),
        "lines": lines,
        "total_fen": report.total_fen,
        "format": format,
        "out": out.display().to_string(),
    }))?);
    Ok(())
}
