//! `jiesu train`: trains the text services from the database's requests and stores the models.

use crate::{open_app, print_out};
use anyhow::{Result, anyhow};

pub async fn run(db: String, limit: u32) -> Result<()> {
    let app = open_app(&db, None).await?;
    let report = jiesu_app::console::train(&app, limit)
        .await
        .map_err(|e| anyhow!("training failed: {e}"))?;
    app.close().await;
    print_out(&serde_json::to_string_pretty(&report)?);
    Ok(())
}
