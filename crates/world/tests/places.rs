//! The optional gazetteer (`places.csv`): the shipped one loads, bad rows are reported as
//! file:line, and a world without the file still loads.

use jiesu_world::{PlaceKind, add_places, load_dir, parse_places_csv};
use std::path::PathBuf;

fn xicheng_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../world/xicheng"))
}

#[test]
fn the_shipped_gazetteer_loads_and_points_into_the_world() {
    let world = match load_dir(&xicheng_dir()) {
        Ok(w) => w,
        Err(e) => panic!("world/xicheng does not load:\n{e}"),
    };
    assert!(world.places.len() > 300, "{}", world.places.len());
    let gulou = world.places.iter().find(|p| p.name == "鼓楼西大街");
    assert_eq!(gulou.map(|p| p.street_code.as_str()), Some("110102012"));
    assert_eq!(gulou.map(|p| p.kind), Some(PlaceKind::Road));
    for p in &world.places {
        assert!(world.street(&p.street_code).is_some(), "{p:?}");
        if let Some(c) = &p.community_code {
            assert_eq!(
                world.street_of_community(c).map(|s| &s.code),
                Some(&p.street_code)
            );
        }
    }
    // Boundary roads are listed once per street they border.
    let xidan = world
        .places
        .iter()
        .filter(|p| p.name == "西单北大街")
        .count();
    assert_eq!(xidan, 2);
}

#[test]
fn bad_rows_are_reported_with_file_and_line() {
    let mut world = match load_dir(&xicheng_dir()) {
        Ok(w) => w,
        Err(e) => panic!("{e}"),
    };
    let before = world.places.len();
    let text = "name,kind,street_code,community_code\n\
                好名字,road,110102012,\n\
                坏街道,road,110102099,\n\
                错社区,road,110102012,110102001001\n\
                x,road,110102012,\n\
                怪类型,river,110102012,\n\
                好名字,road,110102012,\n";
    let errors = match add_places(&mut world, "places.csv", text) {
        Ok(()) => panic!("expected errors"),
        Err(e) => e.iter().map(ToString::to_string).collect::<Vec<_>>(),
    };
    assert_eq!(
        errors,
        [
            "places.csv:3: column street_code: unknown street \"110102099\"",
            "places.csv:4: column community_code: community 110102001001 is not in street 110102012",
            "places.csv:5: column name: \"x\" must be at least 2 characters without spaces",
            "places.csv:6: column kind: \"river\" is not one of road, hutong, compound, landmark, area",
            "places.csv:7: column name: \"好名字\" repeats line 2 with the same street and community",
        ]
    );
    assert_eq!(world.places.len(), before, "nothing added on error");
    let err = parse_places_csv("places.csv", "name,street_code\n");
    assert!(err.is_err());
}
