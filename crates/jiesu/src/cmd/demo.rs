//! `jiesu demo`: builds a demo database (district or city scale), then serves it unless told not to.

use crate::{city, demo};
use anyhow::{Result, bail};
use std::path::PathBuf;

/// The `jiesu demo` flags, as parsed.
pub struct Args {
    pub db: String,
    pub bind: String,
    pub months: u32,
    pub no_serve: bool,
    pub seed: u64,
    pub world: Option<PathBuf>,
    pub scale: String,
    pub requests: u64,
    pub threads: usize,
}

pub async fn run(a: Args) -> Result<()> {
    let Args {
        db,
        bind,
        months,
        no_serve,
        seed,
        world,
        scale,
        requests,
        threads,
    } = a;
    match scale.as_str() {
        "district" => {}
        "city" => {
            let summary = city::build(city::CityArgs {
                db: &db,
                requests,
                seed,
                world: world.as_deref(),
                threads,
                end: None,
            })
            .await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            return Ok(());
        }
        other => bail!("--scale `{other}`: district or city"),
    }
    let app = demo::build(&db, months, seed, world.as_deref()).await?;
    if no_serve {
        app.close().await;
        Ok(())
    } else {
        super::serve::serve(app, &bind, 60, None, 30).await
    }
}
