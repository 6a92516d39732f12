//! `jiesu audit verify`: recomputes the audit log's hash chain.

use anyhow::{Result, anyhow, bail};

pub async fn verify(db: String) -> Result<()> {
    let report = jiesu_app::maintenance::verify_audit(&db)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&report)?);
    match &report.broken {
        None => Ok(()),
        Some(b) => bail!(
            "audit chain broken at row id {}{}: {}",
            b.id,
            b.seq.map(|s| format!(" (seq {s})")).unwrap_or_default(),
            b.reason
        ),
    }
}
