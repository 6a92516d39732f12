//! Loading a whole world folder: read every file, parse each, then check references between
//! files. All problems are collected and reported together.

use crate::error::{WorldError, WorldErrors};
use crate::parse;
use crate::{Place, UnitKind, World};
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub const DISTRICT_FILE: &str = "district.toml";
pub const STREETS_FILE: &str = "streets.csv";
pub const COMMUNITIES_FILE: &str = "communities.csv";
pub const UNITS_FILE: &str = "units.csv";
pub const CATEGORIES_FILE: &str = "categories.csv";
pub const SLA_FILE: &str = "sla.toml";
pub const WEIGHTS_FILE: &str = "weights.toml";
/// Optional: elder-care subsidy amounts (`CareRules`).
pub const CARE_FILE: &str = "care.toml";
/// Optional gazetteer (roads, hutongs, compounds, landmarks → street/community).
pub const PLACES_FILE: &str = "places.csv";
/// Folder (inside the world folder) holding one `*.csv` per year.
pub const HOLIDAYS_DIR: &str = "holidays";

/// The texts of a world folder, so a world can be validated without touching the disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldSources {
    pub district: String,
    pub streets: String,
    pub communities: String,
    pub units: String,
    pub categories: String,
    pub sla: String,
    pub weights: String,
    /// `(file name as shown in errors, e.g. "holidays/cn_2025.csv", text)`.
    pub holidays: Vec<(String, String)>,
}

/// Loads and validates the world folder at `dir` (e.g. `world/xicheng`).
pub fn load_dir(dir: &Path) -> Result<World, WorldErrors> {
    let (mut sources, mut read_errors) = read_all(dir);
    if read_errors.is_empty() {
        let mut world = load_sources(&sources)?;
        let places = dir.join(PLACES_FILE);
        // The gazetteer is optional: a world without it resolves addresses from region names
        // and history only.
        if places.is_file() {
            let mut errors = Vec::new();
            let text = read_text(&places, PLACES_FILE, &mut errors);
            if !errors.is_empty() {
                return Err(WorldErrors(errors));
            }
            add_places(&mut world, PLACES_FILE, &text)?;
        }
        let care = dir.join(CARE_FILE);
        if care.is_file() {
            let mut errors = Vec::new();
            let text = read_text(&care, CARE_FILE, &mut errors);
            if !errors.is_empty() {
                return Err(WorldErrors(errors));
            }
            world.care = parse_care(&text)?;
        }
        return Ok(world);
    }
    // An unreadable holiday file affects no other file, so still check the rest; without a
    // core file every reference into it would fail and bury the real cause.
    let core_failed = read_errors
        .iter()
        .any(|e| !e.file.starts_with(&format!("{HOLIDAYS_DIR}/")));
    if !core_failed {
        sources
            .holidays
            .retain(|(name, _)| !read_errors.iter().any(|e| &e.file == name));
        if let Err(more) = load_sources(&sources) {
            read_errors.extend(more);
        }
        sort_errors(&mut read_errors, &sources);
    }
    Err(WorldErrors(read_errors))
}

/// Reads every file of a world folder. Missing or unreadable files are all reported at once.
/// A missing `holidays/` folder is allowed: the calendar is then a plain week.
pub fn read_sources(dir: &Path) -> Result<WorldSources, WorldErrors> {
    let (sources, errors) = read_all(dir);
    WorldErrors::into_result(errors, sources)
}

fn read_all(dir: &Path) -> (WorldSources, Vec<WorldError>) {
    let mut errors = Vec::new();
    let mut read = |name: &str| read_text(&dir.join(name), name, &mut errors);
    let mut sources = WorldSources {
        district: read(DISTRICT_FILE),
        streets: read(STREETS_FILE),
        communities: read(COMMUNITIES_FILE),
        units: read(UNITS_FILE),
        categories: read(CATEGORIES_FILE),
        sla: read(SLA_FILE),
        weights: read(WEIGHTS_FILE),
        holidays: Vec::new(),
    };

    let holiday_dir = dir.join(HOLIDAYS_DIR);
    if holiday_dir.is_dir() {
        match std::fs::read_dir(&holiday_dir) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".csv"))
                    .collect();
                names.sort();
                for name in names {
                    let shown = format!("{HOLIDAYS_DIR}/{name}");
                    let text = read_text(&holiday_dir.join(&name), &shown, &mut errors);
                    sources.holidays.push((shown, text));
                }
            }
            Err(err) => errors.push(unreadable(HOLIDAYS_DIR, &err.to_string())),
        }
    }
    (sources, errors)
}

fn unreadable(file: &str, why: &str) -> WorldError {
    WorldError {
        file: file.to_owned(),
        line: None,
        field: None,
        message: format!("cannot read: {why}"),
    }
}

fn read_text(path: &Path, shown: &str, errors: &mut Vec<WorldError>) -> String {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let valid = err.utf8_error().valid_up_to();
                let line = err.as_bytes()[..valid]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1;
                errors.push(WorldError::at(
                    shown,
                    line,
                    None,
                    "not valid UTF-8 (save the file as UTF-8)".to_owned(),
                ));
                String::new()
            }
        },
        Err(err) => {
            errors.push(unreadable(shown, &err.to_string()));
            String::new()
        }
    }
}

/// Parses and validates a world from its texts: each file on its own, then every reference
/// between files (community → street, unit → street, category → unit and SLA class).
pub fn load_sources(src: &WorldSources) -> Result<World, WorldErrors> {
    let mut errors = Vec::new();
    let mut collect = |mut e: Vec<WorldError>| errors.append(&mut e);

    let (district, e) = parse::district(DISTRICT_FILE, &src.district);
    collect(e);
    let (streets, e) = parse::streets(STREETS_FILE, &src.streets);
    collect(e);
    let (communities, e) = parse::communities(COMMUNITIES_FILE, &src.communities);
    collect(e);
    let (units, e) = parse::units(UNITS_FILE, &src.units);
    collect(e);
    let (categories, e) = parse::categories(CATEGORIES_FILE, &src.categories);
    collect(e);
    let (sla, e) = parse::sla(SLA_FILE, &src.sla);
    collect(e);
    let (weights, e) = parse::weights(WEIGHTS_FILE, &src.weights);
    collect(e);
    let (holidays, e) = parse::holiday_table(
        src.holidays
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str())),
    );
    collect(e);

    // Streets belong to the district.
    if let Some(district) = &district {
        for street in &streets {
            if !street.value.code.starts_with(&district.code) {
                errors.push(WorldError::column(
                    STREETS_FILE,
                    street.line,
                    "code",
                    format!(
                        "street {} is not inside district {}",
                        street.value.code, district.code
                    ),
                ));
            }
        }
    }

    let street_codes: HashSet<&str> = streets.iter().map(|s| s.value.code.as_str()).collect();
    for community in &communities {
        let c = &community.value;
        if !street_codes.contains(c.street_code.as_str()) {
            errors.push(WorldError::column(
                COMMUNITIES_FILE,
                community.line,
                "street_code",
                format!("unknown street {:?}", c.street_code),
            ));
        } else if !c.code.starts_with(&c.street_code) {
            errors.push(WorldError::column(
                COMMUNITIES_FILE,
                community.line,
                "code",
                format!(
                    "community code {} does not start with its street code {}",
                    c.code, c.street_code
                ),
            ));
        }
    }

    // Every street needs exactly one office, or `responsible = street` could not route there.
    let mut offices: HashMap<&str, usize> = HashMap::new();
    for unit in &units {
        let u = &unit.value;
        let Some(street_code) = u.street_code.as_deref() else {
            continue;
        };
        if !street_codes.contains(street_code) {
            errors.push(WorldError::column(
                UNITS_FILE,
                unit.line,
                "street_code",
                format!("unknown street {street_code:?}"),
            ));
            continue;
        }
        if u.kind == UnitKind::Street {
            if let Some(first) = offices.get(street_code) {
                errors.push(WorldError::column(
                    UNITS_FILE,
                    unit.line,
                    "street_code",
                    format!("street {street_code} already has an office on line {first}"),
                ));
            } else {
                offices.insert(street_code, unit.line);
            }
        }
    }
    if !src.units.is_empty() && !units.is_empty() {
        for street in &streets {
            if !offices.contains_key(street.value.code.as_str()) {
                errors.push(WorldError::column(
                    STREETS_FILE,
                    street.line,
                    "code",
                    format!(
                        "street {} has no street office (a units.csv row with kind street)",
                        street.value.code
                    ),
                ));
            }
        }
    }

    let unit_codes: HashSet<&str> = units.iter().map(|u| u.value.code.as_str()).collect();
    for category in &categories {
        let c = &category.value;
        if let Some(crate::Responsible::Unit(unit)) = &c.responsible
            && !unit_codes.contains(unit.as_str())
        {
            errors.push(WorldError::column(
                CATEGORIES_FILE,
                category.line,
                "responsible",
                format!("unknown unit {unit:?}"),
            ));
        }
        if let (Some(class), Some(sla)) = (&c.sla_class, &sla)
            && !sla.classes.iter().any(|k| &k.code == class)
        {
            errors.push(WorldError::column(
                CATEGORIES_FILE,
                category.line,
                "sla_class",
                format!("unknown SLA class {class:?}"),
            ));
        }
    }

    sort_errors(&mut errors, src);
    match (district, sla, weights) {
        (Some(district), Some(sla), Some(weights)) if errors.is_empty() => Ok(World {
            district,
            streets: streets.into_iter().map(|s| s.value).collect(),
            communities: communities.into_iter().map(|c| c.value).collect(),
            units: units.into_iter().map(|u| u.value).collect(),
            categories: categories.into_iter().map(|c| c.value).collect(),
            sla,
            holidays,
            weights,
            places: Vec::new(),
            care: Default::default(),
        }),
        _ => Err(WorldErrors(errors)),
    }
}

/// Parses a gazetteer (`name,kind,street_code,community_code`), checks that every street and
/// community exists (and that a community lies in the row's street), and adds the places to
/// `world`. On any error nothing is added.
pub fn add_places(world: &mut World, file: &str, text: &str) -> Result<(), WorldErrors> {
    let (rows, mut errors) = parse::places(file, text);
    let mut places: Vec<Place> = Vec::with_capacity(rows.len());
    for row in rows {
        let p = row.value;
        if world.street(&p.street_code).is_none() {
            errors.push(WorldError::column(
                file,
                row.line,
                "street_code",
                format!("unknown street {:?}", p.street_code),
            ));
            continue;
        }
        if let Some(c) = &p.community_code {
            match world.community(c) {
                None => {
                    errors.push(WorldError::column(
                        file,
                        row.line,
                        "community_code",
                        format!("unknown community {c:?}"),
                    ));
                    continue;
                }
                Some(community) if community.street_code != p.street_code => {
                    errors.push(WorldError::column(
                        file,
                        row.line,
                        "community_code",
                        format!("community {c} is not in street {}", p.street_code),
                    ));
                    continue;
                }
                Some(_) => {}
            }
        }
        places.push(p);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line.unwrap_or(0));
        return Err(WorldErrors(errors));
    }
    world.places.extend(places);
    Ok(())
}

/// Orders errors by file (in loading order) and line, so a reader can fix them top to bottom.
fn sort_errors(errors: &mut [WorldError], src: &WorldSources) {
    let mut order: Vec<&str> = vec![
        DISTRICT_FILE,
        STREETS_FILE,
        COMMUNITIES_FILE,
        UNITS_FILE,
        CATEGORIES_FILE,
        SLA_FILE,
        WEIGHTS_FILE,
    ];
    order.extend(src.holidays.iter().map(|(name, _)| name.as_str()));
    let rank = |file: &str| order.iter().position(|f| *f == file).unwrap_or(order.len());
    errors.sort_by_key(|e| (rank(&e.file), e.line.unwrap_or(0)));
}

/// Parses `care.toml`: every amount a whole, non-negative number of fen.
pub fn parse_care(text: &str) -> Result<crate::CareRules, WorldErrors> {
    let rules: crate::CareRules = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        WorldErrors(vec![WorldError::at(
            CARE_FILE,
            line,
            None,
            e.message().to_string(),
        )])
    })?;
    for (key, v) in [
        ("elder_meal_subsidy_fen", rules.elder_meal_subsidy_fen),
        (
            "point_operating_subsidy_fen",
            rules.point_operating_subsidy_fen,
        ),
    ] {
        if !(0..=100_000).contains(&v) {
            return Err(WorldErrors(vec![WorldError::key(
                CARE_FILE,
                1,
                key,
                "must be 0–100000 fen".into(),
            )]));
        }
    }
    Ok(rules)
}
