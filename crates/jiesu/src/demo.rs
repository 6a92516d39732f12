//! Demo world generator (being written).
use anyhow::Result;
use jiesu_domain::Directory;
use jiesu_store::Store;
use std::path::Path;

pub async fn build(
    _db: &str,
    _months: u32,
    _seed: u64,
    _world: Option<&Path>,
) -> Result<(Store, Directory)> {
    anyhow::bail!("demo generator not written yet")
}
