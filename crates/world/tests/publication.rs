//! The publication policy as data: `[publication]` in district.toml and the `public` column of
//! categories.csv, with their defaults, inheritance and located errors.

use jiesu_world::{
    AddressPrecision, CHANNELS, Publication, TextRule, load_dir, parse_categories_csv,
    parse_district_toml,
};
use std::path::PathBuf;

const DISTRICT: &str =
    "code = \"110102\"\nname = \"西城区\"\npopulation = 100\ntime_zone = \"Asia/Shanghai\"\n";

fn district_errors(text: &str) -> Vec<String> {
    match parse_district_toml("district.toml", text) {
        Ok(d) => panic!("expected errors, got {:?}", d.publication),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn without_a_section_the_defaults_hold() {
    let d = parse_district_toml("district.toml", DISTRICT).expect("loads");
    assert_eq!(d.publication, Publication::default());
    assert_eq!(d.publication.channels, ["open311", "web"]);
    assert_eq!(d.publication.address, AddressPrecision::Community);
    assert_eq!(d.publication.text, TextRule::Redacted);
    assert!(!d.publication.publishes_channel("hotline"));
    assert!(!d.publication.publishes_channel("device"));
    assert!(d.publication.publishes_channel("open311"));
}

#[test]
fn a_section_sets_each_key_and_leaves_the_others_default() {
    let text = format!("{DISTRICT}\n[publication]\nchannels = [\"app\", \"web\", \"app\"]\n");
    let d = parse_district_toml("district.toml", &text).expect("loads");
    assert_eq!(d.publication.channels, ["app", "web"], "deduplicated");
    assert_eq!(d.publication.address, AddressPrecision::Community);
    let text = format!(
        "{DISTRICT}[publication]\nchannels = []\naddress = \"building\"\ntext = \"none\"\n"
    );
    let d = parse_district_toml("district.toml", &text).expect("loads");
    assert!(d.publication.channels.is_empty(), "publish nothing");
    assert_eq!(d.publication.address, AddressPrecision::Building);
    assert_eq!(d.publication.text, TextRule::None);
    for p in AddressPrecision::ALL {
        let text = format!("{DISTRICT}[publication]\naddress = \"{}\"\n", p.as_str());
        let d = parse_district_toml("district.toml", &text).expect("loads");
        assert_eq!(d.publication.address, *p);
    }
}

#[test]
fn bad_values_name_the_key_and_line() {
    let text = format!(
        "{DISTRICT}[publication]\nchannels = [\"open311\",\n  \"phone\"]\naddress = \"flat\"\ntext = \"some\"\n"
    );
    assert_eq!(
        district_errors(&text),
        [
            format!(
                "district.toml:7: key publication.channels: \"phone\" is not a channel (one of {})",
                CHANNELS.join(", ")
            ),
            "district.toml:8: key publication.address: \"flat\" is not one of full, building, \
             community, street, none"
                .to_string(),
            "district.toml:9: key publication.text: \"some\" is not one of full, redacted, none"
                .to_string(),
        ]
    );
    let errors = district_errors(&format!("{DISTRICT}[publication]\naddresses = \"full\"\n"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("district.toml:6") && errors[0].contains("addresses"),
        "{errors:?}"
    );
}

const TREE: &str = "code,name,parent,responsible,sla_class,keywords,public\n\
heating,供暖,,,,,yes\n\
heating.no-heat,室温不达标,heating,heating,utility,,\n\
heating.fee,供暖费,heating,heating,ordinary,,no\n\
civil,民政,,,,,no\n\
civil.assistance,社会救助,civil,street,ordinary,,\n\
civil.group,分组,civil,,,,yes\n\
civil.group.leaf,叶,civil.group,street,ordinary,,\n\
misc,其他,,,,,\n\
misc.leaf,叶,misc,street,ordinary,,\n";

#[test]
fn the_public_column_is_inherited_and_unset_is_private() {
    let categories = parse_categories_csv("categories.csv", TREE).expect("loads");
    let mut world = load_dir(&xicheng_dir()).expect("shipped world");
    world.categories = categories;
    for (code, public) in [
        ("heating", true),
        ("heating.no-heat", true),
        ("heating.fee", false),
        ("civil.assistance", false),
        ("civil.group.leaf", true),
        ("misc.leaf", false),
        ("unknown.code", false),
    ] {
        assert_eq!(world.category_is_public(code), public, "{code}");
    }
}

#[test]
fn the_public_column_is_optional_and_checked() {
    // A file written before the column existed still loads; everything is private.
    let old = "code,name,parent,responsible,sla_class,keywords\n\
a,A,,,,\n\
a.b,B,a,street,ordinary,\n";
    let categories = parse_categories_csv("categories.csv", old).expect("loads");
    assert!(categories.iter().all(|c| c.public.is_none()));

    let bad = "code,name,parent,responsible,sla_class,keywords,public\n\
a,A,,,,,maybe\n\
a.b,B,a,street,ordinary,,\n";
    let errors: Vec<String> = match parse_categories_csv("categories.csv", bad) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(
        errors,
        [
            "categories.csv:2: column public: \"maybe\" is not yes or no (or empty to inherit \
          from the parent)"
        ]
    );
    let twice = "code,name,parent,responsible,sla_class,keywords,public,public\na,A,,,,,,\n";
    let errors = parse_categories_csv("categories.csv", twice).expect_err("twice");
    assert!(
        errors.iter().any(|e| e.to_string()
            == "categories.csv:1: column public: appears more than once in the header"),
        "{errors}"
    );
}

fn xicheng_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../world/xicheng"))
}

#[test]
fn xicheng_publishes_public_places_not_people() {
    let world = load_dir(&xicheng_dir()).expect("shipped world");
    assert_eq!(world.district.publication, Publication::default());
    for code in [
        "heating.no-heat",
        "property.service",
        "construction.noise",
        "traffic.illegal-parking",
        "sanitation.garbage",
        "municipal.streetlight",
        "medical.public-health",
        "order.dogs",
    ] {
        assert!(world.category_is_public(code), "{code} should be public");
    }
    for code in [
        "medical.service",
        "medical.insurance",
        "labor.wage",
        "education.enrollment",
        "elderly.home-care",
        "elderly.emergency-call",
        "childcare.nursery",
        "civil.assistance",
        "civil.marriage",
        "civil.disability",
        "housing.public-rental",
        "market.consumer",
        "order.public-security",
        "enterprise.tax",
        "consult.policy",
    ] {
        assert!(!world.category_is_public(code), "{code} should be private");
    }
    // Every root says so explicitly, so no leaf is private merely by omission.
    for root in world.root_categories() {
        assert!(root.public.is_some(), "{} has no public value", root.code);
    }
}
