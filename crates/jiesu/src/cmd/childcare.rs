//! `jiesu childcare allocate`: runs an allocation round by the same use cases as the 卫健委
//! desk (`jiesu_app::childcare::rounds`) for a real 卫健委托育管理员 account named by `--user`.
//! A dry run by default (nothing stored; a published round is re-run from its stored market
//! and seed and says whether the result is identical); `--publish` commits it and issues the
//! offers. Prints the result as JSON with each child's outcome and reason.

use crate::print_out;
use anyhow::{Result, anyhow};
use jiesu_app::AppError;

#[derive(clap::Subcommand)]
pub enum ChildcareCmd {
    /// Run (or with --publish, publish) a round; prints each child's outcome and reason.
    Allocate {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        /// The round's code.
        #[arg(long)]
        round: String,
        /// Publish the result and issue the offers (refused when the checker finds a
        /// violation).
        #[arg(long)]
        publish: bool,
        /// The 卫健委托育管理员 account the round is run as.
        #[arg(long, env = "JIESU_USER")]
        user: String,
    },
}

/// An app error as the command line names it: the flag, then the message.
fn flag_error(e: AppError) -> anyhow::Error {
    let flag = match e.field.as_deref() {
        Some("code") => Some("round"),
        Some("username") => Some("user"),
        Some(f) => Some(f),
        None => None,
    };
    anyhow!(
        "{}{} ({})",
        flag.map(|f| format!("--{}: ", f.replace('_', "-")))
            .unwrap_or_default(),
        e.message,
        e.code
    )
}

pub async fn run(cmd: ChildcareCmd) -> Result<()> {
    let ChildcareCmd::Allocate {
        db,
        round,
        publish,
        user,
    } = cmd;
    let app = crate::open_app(&db, None).await?;
    let result = async {
        let person = jiesu_app::console::account(&app, &user)
            .await
            .map_err(flag_error)?;
        let r = if publish {
            jiesu_app::childcare::rounds::publish(&app, &person, &round).await
        } else {
            jiesu_app::childcare::rounds::run(&app, &person, &round).await
        };
        r.map_err(|e| {
            if e.code == "not_found" {
                anyhow!("--round: no round `{round}`")
            } else {
                flag_error(e)
            }
        })
    }
    .await;
    app.close().await;
    let report = result?;
    print_out(&serde_json::to_string_pretty(&report)?);
    Ok(())
}
