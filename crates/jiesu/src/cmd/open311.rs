//! `jiesu open311 key add|list|revoke`: Open311 API keys.

use crate::{Open311KeyCmd, print_out};
use anyhow::{Result, anyhow};
use jiesu_app::{App, AppError};

/// The console's door: whoever runs the command holds the database itself.
async fn open(db: &str) -> Result<App> {
    crate::open_app(db, None).await
}

/// `jiesu open311 key …`: prints JSON; `add` prints the key, which is shown only this once.
pub async fn key(cmd: Open311KeyCmd) -> Result<()> {
    // Flags are named as on the command line.
    let app_error = |e: AppError| {
        let field = e.field.map(|f| format!("--{f}: ")).unwrap_or_default();
        anyhow!("{field}{}", e.message)
    };
    let out = match cmd {
        Open311KeyCmd::Add { db, name } => {
            let app = open(&db).await?;
            let issued = jiesu_app::open311::issue(&app, &name)
                .await
                .map_err(app_error)?;
            app.close().await;
            eprintln!("store this api_key now: it cannot be shown again");
            serde_json::to_value(issued)?
        }
        Open311KeyCmd::List { db } => {
            let app = open(&db).await?;
            let keys = jiesu_app::open311::console_keys(&app)
                .await
                .map_err(app_error)?;
            app.close().await;
            serde_json::to_value(keys)?
        }
        Open311KeyCmd::Revoke { db, id } => {
            let app = open(&db).await?;
            let key = jiesu_app::open311::console_revoke(&app, id)
                .await
                .map_err(app_error)?;
            app.close().await;
            serde_json::to_value(key)?
        }
    };
    print_out(&serde_json::to_string_pretty(&out)?);
    Ok(())
}
