//! `jiesu train`: trains the text services from the database's requests and stores the models.

use crate::{init_world, print_out};
use anyhow::{Context, Result, anyhow};
use jiesu_store::Store;

pub async fn run(db: String, limit: u32) -> Result<()> {
    let store = Store::open(&db).await.context("opening the database")?;
    let dir = init_world(&store, None).await?;
    let report = jiesu_app::text::train_from_store(&store, &dir, limit)
        .await
        .map_err(|e| anyhow!("training failed: {e}"))?;
    store.close().await;
    print_out(&serde_json::to_string_pretty(&report)?);
    Ok(())
}
