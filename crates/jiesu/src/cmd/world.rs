//! `jiesu world check`: loads a world folder and summarises it, or lists every error.

use crate::WorldCmd;
use anyhow::Result;

pub fn run(cmd: WorldCmd) -> Result<()> {
    let WorldCmd::Check { dir } = cmd;
    match jiesu_world::load_dir(&dir) {
        Ok(w) => {
            println!(
                "{}: ok — {} streets, {} communities, {} units, {} categories, {} SLA classes, holidays for {:?}",
                dir.display(),
                w.streets.len(),
                w.communities.len(),
                w.units.len(),
                w.categories.len(),
                w.sla.classes.len(),
                w.holidays.years
            );
            Ok(())
        }
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("{}/{e}", dir.display());
            }
            std::process::exit(1);
        }
    }
}
