//! Benchmarks (printing JSON).
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Intake through HTTP vs the raw insert rate.
    Intake,
}

pub async fn run(_cmd: BenchCmd) -> Result<()> {
    anyhow::bail!("not written yet")
}
