//! Hostile input through every text entry point: empty, 100 KB, emoji and mixed scripts,
//! control characters. Nothing panics and the answers stay sensible.

use std::sync::Arc;

use jiesu_text::{
    DEFAULT_MAX_DISTANCE, DuplicateIndex, Segmenter, detect_emergency, looks_tokenised, mask_pii,
    normalize, simhash,
};

fn hostile() -> Vec<String> {
    vec![
        String::new(),
        " \t\r\n\u{3000} ".into(),
        "😀🔥🏠👨‍👩‍👧 家里着火了 😱🙏".into(),
        "ＡＢＣ１２３ mixed العربية русский 한국어 ひらがな 暖气不热".into(),
        "\u{0}\u{1}\u{7}\u{1b}[31m控制\u{7f}字符\u{200b}\u{feff}\u{202e}反向".into(),
        "\u{d7ff}\u{e000}\u{fffd}\u{10ffff}".into(),
        // 100 KB and more: mixed scripts and emoji repeated.
        "路灯坏了🔦lamp broken 13812345678，".repeat(2_500),
        "燃".repeat(40_000),
    ]
}

#[test]
fn normalisation_and_masking_survive_hostile_text() {
    for text in hostile() {
        let n = normalize(&text);
        assert!(!n.chars().any(char::is_control), "{n:?}");
        assert!(!n.starts_with(' ') && !n.ends_with(' '));
        let masked = mask_pii(&text);
        assert!(!masked.contains("13812345678"));
        let _ = looks_tokenised(&n);
    }
    assert_eq!(normalize(""), "");
    assert_eq!(normalize("\u{0}\u{7}"), "");
}

#[test]
fn segmentation_survives_hostile_text() {
    let segmenter = Segmenter::default();
    for text in hostile() {
        let words = segmenter.cut(&text);
        assert!(words.iter().all(|w| !w.trim().is_empty()));
        let joined: usize = words.iter().map(|w| w.len()).sum();
        assert!(joined <= text.len());
    }
    assert!(segmenter.cut("").is_empty());
}

#[test]
fn emergencies_survive_hostile_text_and_still_flag() {
    for text in hostile() {
        let _ = detect_emergency(&text);
    }
    assert!(!detect_emergency("").evidence.iter().any(|e| !e.is_empty()));
    // The fire is still found among emoji, controls and mixed scripts.
    let flag = detect_emergency("😀🔥 家里\u{7}着火了 😱 help");
    assert!(!flag.evidence.is_empty(), "{flag:?}");
}

#[test]
fn duplicate_index_survives_hostile_text() {
    let segmenter = Arc::new(Segmenter::default());
    let mut index = DuplicateIndex::new(segmenter.clone(), DEFAULT_MAX_DISTANCE);
    for (i, text) in hostile().iter().enumerate() {
        let _ = simhash(&segmenter, text);
        let _ = index.query(text, "😀", i as i64, 86_400);
        index.insert(i as u64, text, "😀", i as i64);
    }
    // The long emoji text finds itself again.
    let long = hostile().remove(6);
    let hits = index.query(&long, "😀", 7, 86_400);
    assert!(hits.iter().any(|h| h.0 == 6), "{hits:?}");
}
