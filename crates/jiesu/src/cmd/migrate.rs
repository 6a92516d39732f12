//! `jiesu migrate`: applies pending migrations and says which.

use anyhow::{Result, anyhow};

pub async fn run(db: String) -> Result<()> {
    let (backend, applied) = jiesu_app::maintenance::migrate(&db)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{}",
        serde_json::json!({"backend": backend, "applied": applied})
    );
    Ok(())
}
