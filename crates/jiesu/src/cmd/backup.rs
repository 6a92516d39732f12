//! `jiesu backup` and `jiesu restore`: a consistent copy of the whole database taken while the
//! server runs, and its restore into an empty database of either backend.

use anyhow::{Result, anyhow, bail};
use std::path::PathBuf;

pub async fn backup(db: String, out: PathBuf, force: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let report = jiesu_app::maintenance::backup(&db, &out, force)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{}",
        serde_json::json!({
            "file": report.file,
            "backend": report.backend,
            "migration": report.migration,
            "tables": report.tables,
            "rows": report.rows,
            "bytes": report.bytes,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

pub async fn restore(db: String, from: PathBuf) -> Result<()> {
    let started = std::time::Instant::now();
    let report = jiesu_app::maintenance::restore(&db, &from)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{}",
        serde_json::json!({
            "backend": report.backend,
            "from_backend": report.from_backend,
            "migration": report.migration,
            "tables": report.tables,
            "rows": report.rows,
            "audit": report.audit,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    // The data is in, but a chain that does not verify must not pass unnoticed.
    if let Some(b) = &report.audit.broken {
        bail!(
            "restored, but the audit chain is broken at row id {}: {}",
            b.id,
            b.reason
        );
    }
    Ok(())
}
