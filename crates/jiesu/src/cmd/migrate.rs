//! `jiesu migrate`: applies pending migrations and says which.

use anyhow::Result;
use jiesu_store::Store;

pub async fn run(db: String) -> Result<()> {
    let store = Store::connect(&db).await?;
    let applied = store.migrate().await?;
    println!(
        "{}",
        serde_json::json!({"backend": store.backend(), "applied": applied})
    );
    Ok(())
}
