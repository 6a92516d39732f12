//! `jiesu reindex`: rebuilds the full-text index from the database.

use anyhow::{Context, Result};
use jiesu_store::Store;
use std::path::PathBuf;

pub async fn run(db: String, index: PathBuf) -> Result<()> {
    let store = Store::connect(&db).await.context("opening the database")?;
    let idx = jiesu_text::search::SearchIndex::open(&index)
        .with_context(|| format!("opening the index {}", index.display()))?;
    let report = jiesu_server::search::rebuild(&store, &idx).await?;
    println!(
        "{}",
        serde_json::json!({
            "docs": report.docs,
            "seconds": report.seconds,
            "docs_per_second": report.docs_per_second,
            "index": index.display().to_string(),
        })
    );
    store.close().await;
    Ok(())
}
