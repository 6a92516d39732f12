//! `jiesu export`: writes the filtered requests to a file and prints the summary.

use crate::{export, print_out};
use anyhow::Result;
use std::path::PathBuf;

pub async fn run(db: String, format: String, out: PathBuf, filters: export::Filters) -> Result<()> {
    let report = export::run(&db, &format, &out, filters).await?;
    print_out(&serde_json::to_string_pretty(&report)?);
    Ok(())
}
