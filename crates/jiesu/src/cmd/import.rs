//! `jiesu import`: imports another platform's export through a mapping and prints the report.

use crate::{import, print_out};
use anyhow::Result;
use std::path::PathBuf;

pub async fn run(
    mapping: PathBuf,
    db: String,
    dry_run: bool,
    chunk: usize,
    file: PathBuf,
) -> Result<()> {
    let report = import::run(import::Args {
        mapping: &mapping,
        db: &db,
        file: &file,
        dry_run,
        chunk: chunk.max(1),
    })
    .await?;
    print_out(&serde_json::to_string_pretty(&report)?);
    Ok(())
}
