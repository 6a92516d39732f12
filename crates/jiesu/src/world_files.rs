//! Finding the world: `--world DIR`, else `./world/xicheng`, else the copy of the Xicheng world
//! files shipped inside the binary (parsed by the same loader at run time).

use jiesu_world::{World, WorldErrors, WorldSources};
use std::path::Path;

macro_rules! shipped {
    ($f:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../world/xicheng/",
            $f
        ))
        .to_string()
    };
}

/// The Xicheng world files as shipped with this build.
pub fn shipped_sources() -> WorldSources {
    WorldSources {
        district: shipped!("district.toml"),
        streets: shipped!("streets.csv"),
        communities: shipped!("communities.csv"),
        units: shipped!("units.csv"),
        categories: shipped!("categories.csv"),
        sla: shipped!("sla.toml"),
        weights: shipped!("weights.toml"),
        holidays: vec![
            (
                "holidays/cn_2024.csv".into(),
                shipped!("holidays/cn_2024.csv"),
            ),
            (
                "holidays/cn_2025.csv".into(),
                shipped!("holidays/cn_2025.csv"),
            ),
            (
                "holidays/cn_2026.csv".into(),
                shipped!("holidays/cn_2026.csv"),
            ),
        ],
    }
}

/// Loads the world named on the command line, or the default.
pub fn load(dir: Option<&Path>) -> Result<(World, String), WorldErrors> {
    match dir {
        Some(d) => Ok((jiesu_world::load_dir(d)?, d.display().to_string())),
        None => {
            let local = Path::new("world/xicheng");
            if local.join("district.toml").exists() {
                Ok((jiesu_world::load_dir(local)?, local.display().to_string()))
            } else {
                let mut world = jiesu_world::load_sources(&shipped_sources())?;
                jiesu_world::add_places(&mut world, "places.csv", &shipped!("places.csv"))?;
                Ok((world, "shipped:xicheng".to_string()))
            }
        }
    }
}
