//! `jiesu reindex`: rebuilds the full-text index from the database.

use anyhow::{Context, Result, anyhow};
use std::path::PathBuf;

pub async fn run(db: String, index: PathBuf) -> Result<()> {
    let idx = jiesu_text::search::SearchIndex::open(&index)
        .with_context(|| format!("opening the index {}", index.display()))?;
    let report = jiesu_app::maintenance::reindex(&db, &idx)
        .await
        .map_err(|e| anyhow!("reindex: {e}"))?;
    println!(
        "{}",
        serde_json::json!({
            "docs": report.docs,
            "seconds": report.seconds,
            "docs_per_second": report.docs_per_second,
            "index": index.display().to_string(),
        })
    );
    Ok(())
}
