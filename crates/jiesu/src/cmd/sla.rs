//! `jiesu sla due`: the deadline our calendar gives for a start time and a span.

use crate::{SlaCmd, local_rfc3339, world_files};
use anyhow::{Context, Result, anyhow, bail};
use jiesu_domain::Directory;
use jiesu_world::Span;
use jiff::Timestamp;

pub fn run(cmd: SlaCmd) -> Result<()> {
    let SlaCmd::Due {
        from,
        working_days,
        hours,
        world,
    } = cmd;
    let (w, _) = world_files::load(world.as_deref()).map_err(|e| anyhow!("{e}"))?;
    let dir = Directory::new(w);
    let from: Timestamp = from
        .parse()
        .with_context(|| format!("--from `{from}`: expected RFC 3339 with an offset"))?;
    let span = match (working_days, hours) {
        (Some(n), _) => Span::WorkingDays(n),
        (None, Some(h)) => Span::Hours(h),
        (None, None) => bail!("give --working-days N or --hours N"),
    };
    let due = dir.calendar.due(from, span);
    println!("{}", local_rfc3339(&dir, due));
    Ok(())
}
