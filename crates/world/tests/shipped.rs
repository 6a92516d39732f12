//! The world shipped in `world/xicheng` loads and is internally consistent.

use jiesu_world::{DayKind, Responsible, UnitKind, World, load_dir};
use std::path::PathBuf;

fn xicheng_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../world/xicheng"))
}

fn xicheng() -> World {
    match load_dir(&xicheng_dir()) {
        Ok(world) => world,
        Err(errors) => panic!("world/xicheng does not load:\n{errors}"),
    }
}

#[test]
fn regions_match_the_district() {
    let world = xicheng();
    assert_eq!(world.district.code, "110102");
    assert_eq!(world.district.name, "西城区");
    assert_eq!(world.district.time_zone, "Asia/Shanghai");
    assert_eq!(world.streets.len(), 15);
    assert_eq!(world.communities.len(), 263);
    let population: u64 = world.streets.iter().map(|s| s.population).sum();
    assert_eq!(population, world.district.population);

    // Per-street community counts published by the district.
    for (name, count) in [("西长安街街道", 11), ("月坛街道", 26), ("广安门外街道", 38)]
    {
        let street = world.streets.iter().find(|s| s.name == name);
        let Some(street) = street else {
            panic!("street {name} missing")
        };
        assert_eq!(world.communities_of(&street.code).count(), count, "{name}");
    }
    let first = &world.communities[0];
    assert_eq!(
        world
            .street_of_community(&first.code)
            .map(|s| s.name.as_str()),
        Some("西长安街街道")
    );
}

#[test]
fn every_street_has_its_office() {
    let world = xicheng();
    for street in &world.streets {
        let office = world.street_office(&street.code);
        let Some(office) = office else {
            panic!("no office for {}", street.name)
        };
        assert_eq!(office.kind, UnitKind::Street);
        assert_eq!(office.code, street.code);
        assert!(office.name.starts_with(&street.name));
    }
}

#[test]
fn category_tree_is_rich_and_every_leaf_routes() {
    let world = xicheng();
    let leaves: Vec<_> = world.leaf_categories().collect();
    assert!(leaves.len() >= 45, "only {} leaves", leaves.len());
    assert!(world.root_categories().count() >= 20);
    for leaf in &leaves {
        assert!(world.is_leaf(&leaf.code));
        assert!(
            (5..=15).contains(&leaf.keywords.len()),
            "{} has {} keywords",
            leaf.code,
            leaf.keywords.len()
        );
        let class = leaf.sla_class.as_deref().unwrap_or_default();
        assert!(world.sla.class(class).is_some(), "{}", leaf.code);
        if let Some(Responsible::Unit(code)) = &leaf.responsible {
            assert!(world.unit(code).is_some(), "{} → {code}", leaf.code);
        }
        for street in &world.streets {
            assert!(
                world.route(&leaf.code, &street.code).is_some(),
                "{} in {} routes nowhere",
                leaf.code,
                street.name
            );
        }
        assert_eq!(world.category_path(&leaf.code).len(), 2);
    }
    // Non-leaves carry no routing.
    for root in world.root_categories() {
        assert!(!world.is_leaf(&root.code));
        assert!(root.responsible.is_none() && root.sla_class.is_none());
    }
    // A street category routes to the request's own street office.
    let office = world.route("sanitation.garbage", "110102020");
    assert_eq!(office.map(|u| u.name.as_str()), Some("广安门外街道办事处"));
    let heating = world.route("heating.no-heat", "110102020");
    assert_eq!(heating.map(|u| u.kind), Some(UnitKind::Utility));
}

#[test]
fn sla_weights_and_holidays() {
    let world = xicheng();
    assert_eq!(
        world.emergency_class().map(|c| c.code.as_str()),
        Some("emergency")
    );
    assert_eq!(
        world.sla_class_of("gas.leak").map(|c| c.code.as_str()),
        Some("emergency")
    );
    assert_eq!(
        world
            .sla_class_of("no-such-category")
            .map(|c| c.code.as_str()),
        Some("ordinary")
    );
    assert_eq!(world.sla.warning_ratio, 0.8);
    assert_eq!(
        world.weights.response + world.weights.resolution + world.weights.satisfaction,
        100.0
    );

    for year in [2024, 2025, 2026] {
        assert!(world.holidays.covers(year), "{year}");
    }
    assert!(!world.holidays.covers(2027));
    let date = |s: &str| s.parse::<jiff::civil::Date>().unwrap_or_default();
    // Makeup workdays from the State Council notices.
    for d in [
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    ] {
        assert_eq!(
            world.holidays.day(date(d)),
            Some(DayKind::MakeupWorkday),
            "{d}"
        );
    }
    for d in [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ] {
        assert_eq!(
            world.holidays.day(date(d)),
            Some(DayKind::MakeupWorkday),
            "{d}"
        );
    }
    assert_eq!(
        world.holidays.day(date("2025-10-01")),
        Some(DayKind::Holiday)
    );
    assert_eq!(world.holidays.day(date("2025-10-13")), None);
}
