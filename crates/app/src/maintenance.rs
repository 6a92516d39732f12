//! What an operator of the installation runs from the console: migrations, the world in force
//! at start, the full-text index rebuild, the audit chain check. Whoever runs these holds the database itself, so no
//! account stands behind them.

use crate::error::{AppError, AppResult};
use jiesu_domain::Directory;
use jiesu_store::Store;
use jiesu_world::World;
use jiff::Timestamp;

/// Applies pending migrations; the backend's name and the versions applied.
pub async fn migrate(url: &str) -> AppResult<(&'static str, Vec<i64>)> {
    let store = Store::connect(url).await?;
    let applied = store.migrate().await?;
    let backend = store.backend();
    store.close().await;
    Ok((backend, applied))
}

/// Recomputes the audit log's hash chain (`jiesu audit verify`): how many rows, the head to
/// keep elsewhere, and the first broken link if any. Opens without migrating: a check must
/// not change what it checks.
pub async fn verify_audit(url: &str) -> AppResult<jiesu_store::ChainReport> {
    let store = Store::connect(url).await?;
    let report = store.verify_audit().await;
    store.close().await;
    Ok(report?)
}

/// The world in force: the database's, else (a new database) the one `files` loads, saved. A
/// world named on the command line (`named`) replaces the stored one if it differs; `files`
/// is called only when a world must come from files.
pub async fn init_world(
    store: &Store,
    named: bool,
    files: impl FnOnce() -> Result<(World, String), String>,
) -> AppResult<Directory> {
    let stored = store.load_world().await?;
    let world = match (stored, named) {
        (Some(w), false) => w,
        (stored, _) => {
            let (w, source) = files().map_err(|e| {
                AppError::new(
                    crate::ErrorKind::Invalid,
                    "invalid_world",
                    format!("world: {e}"),
                )
            })?;
            if stored.as_ref() != Some(&w) {
                store.save_world(&w, &source, Timestamp::now()).await?;
                tracing::info!(source, "world saved to the database");
            }
            w
        }
    };
    Ok(Directory::new(world))
}

/// Rebuilds the on-disk full-text index at `index` from the database at `url`.
pub async fn reindex(
    url: &str,
    index: &jiesu_text::search::SearchIndex,
) -> AppResult<crate::search::RebuildReport> {
    let store = Store::connect(url).await?;
    let report = crate::search::rebuild(&store, index)
        .await
        // The console shows what failed: the operator is the one who can fix it.
        .map_err(|e| {
            AppError::new(
                crate::ErrorKind::Unavailable,
                "reindex_failed",
                e.to_string(),
            )
        });
    store.close().await;
    report
}
