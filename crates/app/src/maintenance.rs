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

/// `jiesu backup`: the whole database into `out` (see `jiesu_store::backup`). Errors keep
/// their message: the operator at the console is the one who fixes them.
pub async fn backup(
    url: &str,
    out: &std::path::Path,
    force: bool,
) -> AppResult<jiesu_store::backup::BackupReport> {
    jiesu_store::backup::backup(url, out, force)
        .await
        .map_err(backup_error)
}

/// `jiesu restore`: a backup into an empty database, verified before it commits.
pub async fn restore(
    url: &str,
    from: &std::path::Path,
) -> AppResult<jiesu_store::backup::RestoreReport> {
    jiesu_store::backup::restore(url, from)
        .await
        .map_err(backup_error)
}

fn backup_error(e: jiesu_store::backup::BackupError) -> AppError {
    use jiesu_store::backup::BackupError as B;
    let kind = match &e {
        B::Exists(_) | B::NotEmpty(_) => crate::ErrorKind::Conflict,
        B::BadFile(_) | B::Schema(_) | B::Unsupported(_) => crate::ErrorKind::Invalid,
        B::Verify(_) | B::Io(_) | B::Store(_) | B::Db(_) => crate::ErrorKind::Unavailable,
    };
    AppError::new(kind, e.code(), e.to_string())
}

/// Seals every caller under the active key of the environment's keyring and brings the blind
/// indexes up to date (`jiesu keys rotate`); retires keys nothing uses any more. Opens with
/// the keyring check, so a keyring that cannot read the database stops before any write.
pub async fn reseal(
    url: &str,
    progress: &mut (dyn FnMut(&jiesu_store::ResealReport) + Send),
) -> AppResult<jiesu_store::ResealReport> {
    let store = Store::open(url).await?;
    let report = store.reseal(progress).await;
    store.close().await;
    Ok(report?)
}

/// What seals this database's callers, by key (`jiesu keys status`). Read-only.
pub async fn key_status(url: &str) -> AppResult<jiesu_store::KeyStatus> {
    let store = Store::connect(url).await?;
    let status = store.key_status().await;
    store.close().await;
    Ok(status?)
}
