//! Address resolution against the shipped Xicheng gazetteer: known addresses resolve, misspelt
//! or partial ones degrade to lower confidence, ambiguous or foreign ones stay unknown.

use jiesu_text::address::{Gazetteer, GazetteerPlace, MIN_CONFIDENCE, Resolution, Resolver};
use std::path::PathBuf;

const SHICHAHAI: &str = "110102012";
const YUETAN: &str = "110102007";
const GUANGWAI: &str = "110102020";

fn world_file(name: &str) -> Vec<csv::StringRecord> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../world/xicheng")
        .join(name);
    let mut reader = match csv::Reader::from_path(&path) {
        Ok(r) => r,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    reader.records().map(|r| r.expect("csv row")).collect()
}

fn resolver() -> Resolver {
    let streets = world_file("streets.csv")
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let communities = world_file("communities.csv")
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string()))
        .collect();
    let places = world_file("places.csv")
        .iter()
        .map(|r| GazetteerPlace {
            name: r[0].to_string(),
            kind: r[1].to_string(),
            street_code: r[2].to_string(),
            community_code: Some(r[3].to_string()).filter(|c| !c.is_empty()),
        })
        .collect();
    Resolver::new(
        &Gazetteer {
            streets,
            communities,
            places,
        },
        "西城区",
    )
}

fn community_code(name: &str) -> String {
    world_file("communities.csv")
        .iter()
        .find(|r| &r[1] == name)
        .map(|r| r[0].to_string())
        .unwrap_or_else(|| panic!("no community {name}"))
}

fn street(r: &Resolution) -> Option<&str> {
    r.street.as_ref().map(|s| s.code.as_str())
}

fn street_confidence(r: &Resolution) -> f32 {
    r.street.as_ref().map_or(0.0, |s| s.confidence)
}

#[test]
fn known_addresses_resolve_to_their_street() {
    let r = resolver();
    for (address, expected) in [
        ("北京市西城区鼓楼西大街12号院3号楼", SHICHAHAI),
        ("烟袋斜街5号", SHICHAHAI),
        ("什刹海街道", SHICHAHAI),
        ("什刹海地区前海西街17号", SHICHAHAI),
        ("月坛北街7号楼2单元", YUETAN),
        ("三里河一区12号楼", YUETAN),
        ("马连道路9号", GUANGWAI),
        ("广安门外街道红莲南里3号楼", GUANGWAI),
        ("西城区牛街东里2号楼", "110102018"),
        ("琉璃厂西街20号", "110102015"),
        ("天桥南大街3号", "110102014"),
    ] {
        let res = r.resolve(address);
        assert_eq!(street(&res), Some(expected), "{address}: {res:?}");
        assert!(street_confidence(&res) >= 0.75, "{address}: {res:?}");
        assert!(!res.evidence.is_empty(), "{address}: evidence");
    }
}

#[test]
fn community_names_resolve_with_and_without_suffix() {
    let r = resolver();
    let liuyin = community_code("柳荫街社区");
    for address in ["什刹海街道柳荫街社区", "柳荫街社区居委会", "柳荫街8号"] {
        let res = r.resolve(address);
        assert_eq!(street(&res), Some(SHICHAHAI), "{address}: {res:?}");
        assert_eq!(
            res.community.as_ref().map(|c| c.code.as_str()),
            Some(liuyin.as_str()),
            "{address}: {res:?}"
        );
    }
    // A community name without 社区 (three characters or more) is a weaker but usable clue.
    let res = r.resolve("西四北三条15号");
    assert_eq!(street(&res), Some("110102003"), "{res:?}");
    assert!(res.community.is_some(), "{res:?}");
    // A road names no community on its own.
    let res = r.resolve("鼓楼西大街12号");
    assert_eq!(res.community, None, "{res:?}");
}

#[test]
fn misspelt_and_partial_addresses_degrade_gracefully() {
    let r = resolver();
    let exact = street_confidence(&r.resolve("烟袋斜街5号"));
    for address in ["烟袋邪街5号", "烟袋街5号", "鼓楼西街5号"] {
        let res = r.resolve(address);
        assert_eq!(street(&res), Some(SHICHAHAI), "{address}: {res:?}");
        let c = street_confidence(&res);
        assert!(
            c < exact && c >= MIN_CONFIDENCE,
            "{address}: {c} vs {exact}"
        );
        assert!(
            res.evidence
                .iter()
                .any(|e| e.contains("near") || e.contains("partial"))
        );
    }
    // Too little left of the name: unknown, not a guess.
    let res = r.resolve("烟5号");
    assert_eq!(res.street, None, "{res:?}");
}

#[test]
fn ambiguous_conflicting_or_foreign_addresses_are_unknown() {
    let r = resolver();
    // Roads on the boundary of two streets.
    for address in ["西单北大街10号", "太平街8号", "阜成门内大街120号"] {
        let res = r.resolve(address);
        assert_eq!(res.street, None, "{address}: {res:?}");
        assert!(!res.evidence.is_empty(), "{address}: says why");
    }
    // Two places in different streets.
    let res = r.resolve("鼓楼西大街与牛街交叉口");
    assert_eq!(res.street, None, "{res:?}");
    // Outside the district, or no known name at all.
    let res = r.resolve("北京市海淀区中关村大街1号");
    assert_eq!(res.street, None);
    assert!(res.evidence.iter().any(|e| e.contains("海淀区")), "{res:?}");
    let res = r.resolve("幸福小区3号楼");
    assert_eq!(res, Resolution::default());
    // A gate is not the street named after it.
    assert_eq!(r.resolve("德胜门箭楼").street, None);
}

#[test]
fn the_address_outweighs_places_mentioned_in_the_text() {
    let r = resolver();
    let res = r.resolve_parts(Some("鼓楼西大街12号"), "我在金融大街上班，家里暖气不热");
    assert_eq!(street(&res), Some(SHICHAHAI), "{res:?}");
    // Without an address, the text's places count.
    let res = r.resolve_parts(None, "家住后海北沿附近，暖气不热");
    assert_eq!(street(&res), Some(SHICHAHAI), "{res:?}");
    let res = r.resolve_parts(Some(""), "暖气不热");
    assert_eq!(res.street, None);
}

#[test]
fn history_teaches_compounds_the_gazetteer_lacks() {
    let mut r = resolver();
    assert_eq!(r.resolve("锦绣家园5号楼").street, None);
    let comm = community_code("莲花河社区");
    assert!(r.learn("锦绣家园3号楼2单元", GUANGWAI, Some(&comm)));
    let once = street_confidence(&r.resolve("锦绣家园5号楼"));
    for _ in 0..5 {
        r.learn("北京市西城区锦绣家园8号楼", GUANGWAI, Some(&comm));
    }
    let res = r.resolve("锦绣家园5号楼");
    assert_eq!(street(&res), Some(GUANGWAI), "{res:?}");
    assert!(street_confidence(&res) > once, "{res:?} vs {once}");
    assert_eq!(
        res.community.as_ref().map(|c| c.code.as_str()),
        Some(comm.as_str())
    );
    assert_eq!(r.learned_names(), 1);
    // History never overrides the gazetteer, and unknown codes teach nothing.
    assert!(!r.learn("鼓楼西大街9号", GUANGWAI, None));
    assert!(!r.learn("某某园1号", "999999999", None));
    assert_eq!(street(&r.resolve("鼓楼西大街9号")), Some(SHICHAHAI));
    // History that disagrees with itself gives unknown.
    for s in [YUETAN, YUETAN, SHICHAHAI, SHICHAHAI] {
        r.learn("双子家园1号", s, None);
    }
    assert_eq!(r.resolve("双子家园2号").street, None);
}

#[test]
fn bad_input_never_panics() {
    let r = resolver();
    let long = "鼓楼西大街".repeat(20_000);
    for text in [
        "",
        "   ",
        "😀😀😀 鼓楼西大街 🏠",
        "鼓\u{0}楼\u{7}西大街\u{200B}12号",
        "Gulou West St. 12",
        long.as_str(),
    ] {
        let res = r.resolve(text);
        assert!(res.evidence.len() <= 5_000);
        let _ = r.resolve_parts(Some(text), text);
    }
    assert_eq!(street(&r.resolve("😀😀😀 鼓楼西大街 🏠")), Some(SHICHAHAI));
    assert_eq!(
        street(&r.resolve("鼓\u{0}楼\u{7}西大街\u{200B}12号")),
        Some(SHICHAHAI)
    );
}
