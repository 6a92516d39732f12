//! Near-duplicate candidates (并单).

use std::sync::Arc;

use jiesu_text::{DEFAULT_MAX_DISTANCE, DuplicateIndex, Segmenter};

const DAY: i64 = 86_400;

#[test]
fn a_repeat_at_the_same_place_is_found() {
    let mut index = DuplicateIndex::new(Arc::new(Segmenter::default()), DEFAULT_MAX_DISTANCE);
    let first =
        "西城区白纸坊街道某小区3号楼门口的路灯已经坏了一个多月，晚上出行很不方便，请尽快维修";
    index.insert(1, first, "白纸坊街道", 0);
    index.insert(
        2,
        "德胜门外大街施工噪音扰民，夜间十一点以后还在施工",
        "德胜街道",
        0,
    );
    index.insert(3, first, "德胜街道", 0);
    index.insert(4, first, "白纸坊街道", 400 * DAY);

    let hits = index.query(first, "白纸坊街道", DAY, 30 * DAY);
    assert_eq!(hits.first().map(|h| h.0), Some(1), "{hits:?}");
    assert!(hits[0].1 > 0.99);
    assert!(
        !hits.iter().any(|h| h.0 == 3),
        "other place excluded: {hits:?}"
    );
    assert!(
        !hits.iter().any(|h| h.0 == 4),
        "outside the window: {hits:?}"
    );
    assert!(!hits.iter().any(|h| h.0 == 2), "different matter: {hits:?}");

    // Unknown place on the query side matches any place.
    let anywhere = index.query(first, "", DAY, 30 * DAY);
    assert!(anywhere.iter().any(|h| h.0 == 3));

    // Small rewording still matches.
    let reworded =
        "西城区白纸坊街道某小区3号楼门口的路灯坏了一个多月，晚上出行很不方便，请尽快维修。";
    let hits = index.query(reworded, "白纸坊街道", DAY, 30 * DAY);
    assert!(hits.iter().any(|h| h.0 == 1), "{hits:?}");

    assert!(index.query("", "", 0, DAY).is_empty());
    assert_eq!(index.len(), 4);
}
