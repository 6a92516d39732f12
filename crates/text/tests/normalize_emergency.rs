//! Normalisation, PII masking, segmentation lexicon and emergency flags.

use jiesu_text::{
    EmergencyLevel, Segmenter, Transfer, detect_emergency, looks_tokenised, mask_pii, normalize,
};

#[test]
fn normalize_folds_width_whitespace_and_controls() {
    assert_eq!(normalize("ＡＢＣ１２３，你好！"), "ABC123,你好!");
    assert_eq!(
        normalize("  暖气\t\t不热\r\n\n请处理  "),
        "暖气 不热 请处理"
    );
    assert_eq!(normalize("控制\u{0}字符\u{200b}\u{7}"), "控制字符");
    assert_eq!(normalize("“引号”（括号）"), "\"引号\"(括号)");
    assert_eq!(normalize(""), "");
}

#[test]
fn mask_pii_hides_phones_and_ids_only() {
    assert_eq!(mask_pii("请回电13812345678谢谢"), "请回电138****5678谢谢");
    assert_eq!(
        mask_pii("身份证110102199001011234"),
        "身份证110102********1234"
    );
    assert_eq!(
        mask_pii("身份证11010219900101123X"),
        "身份证110102********123X"
    );
    assert_eq!(mask_pii("座机010-66012345"), "座机************");
    assert_eq!(mask_pii("联系电话66012345"), "联系电话********");
    // Not phone-shaped: amounts, years, order numbers stay.
    assert_eq!(mask_pii("2023年交了3500元"), "2023年交了3500元");
    assert_eq!(mask_pii("单号123456789012345"), "单号123456789012345");
    assert_eq!(mask_pii("编号66012345"), "编号66012345");
    // Long input stays linear and intact apart from the mask.
    let long = "1".repeat(100_000);
    assert_eq!(mask_pii(&long), long);
}

#[test]
fn segmenter_keeps_lexicon_words_whole() {
    let seg = Segmenter::new(["白纸坊街道".to_string(), "右安门内大街".to_string()]);
    let words = seg.cut("白纸坊街道右安门内大街路灯不亮");
    assert!(words.contains(&"白纸坊街道"), "{words:?}");
    assert!(words.contains(&"右安门内大街"), "{words:?}");
    assert_eq!(seg.extra_words().len(), 2);

    let dir = std::env::temp_dir().join(format!("jiesu-lexicon-{}.txt", std::process::id()));
    std::fs::write(&dir, "# comment\n\n大栅栏街道 100 ns\n椿树街道\n").expect("write lexicon");
    let mut seg = Segmenter::default();
    assert_eq!(seg.add_words_from_file(&dir).expect("read lexicon"), 2);
    assert!(seg.cut("大栅栏街道").contains(&"大栅栏街道"));
    let _ = std::fs::remove_file(&dir);
    assert!(
        seg.add_words_from_file(std::path::Path::new("/no/such/file"))
            .is_err()
    );
}

#[test]
fn tokenised_text_is_detected() {
    assert!(looks_tokenised("小区 暖气 不热 物业 不管"));
    assert!(!looks_tokenised(
        "小区暖气不热 物业不管，请尽快处理这个问题"
    ));
}

#[test]
fn emergencies_are_flagged_with_evidence() {
    let cases = [
        ("楼道里闻到燃气味，很浓", Transfer::Fire, "闻到燃气"),
        ("对面楼着火了，冒烟很大", Transfer::Fire, "着火"),
        ("有人困在电梯里半小时了", Transfer::Fire, "困在电梯"),
        ("老人在家摔倒了起不来", Transfer::Ambulance, "摔倒"),
        ("楼下有人持刀打人", Transfer::Police, "持刀"),
        ("路口发生车祸有人受伤", Transfer::Traffic, "车祸"),
    ];
    for (text, transfer, phrase) in cases {
        let flag = detect_emergency(text);
        assert_eq!(flag.level, EmergencyLevel::Immediate, "{text}: {flag:?}");
        assert!(
            flag.evidence.iter().any(|e| e == phrase),
            "{text}: {flag:?}"
        );
        assert!(flag.transfer.is_some());
        if text.contains("燃气") || text.contains("着火") {
            assert_eq!(flag.transfer, Some(transfer));
        }
    }
    let cold = detect_emergency("独居老人家里没有暖气已经三天");
    assert_eq!(cold.level, EmergencyLevel::Urgent);
    assert_eq!(cold.transfer, None);
    let json = serde_json::to_value(detect_emergency("着火了")).expect("json");
    assert_eq!(json["transfer"], "119");
    assert_eq!(json["level"], "immediate");
}

#[test]
fn ordinary_and_negated_texts_are_not_flagged() {
    for text in [
        "小区门口的共享单车乱停乱放",
        "咨询一下孩子入学需要什么材料",
        "物业费收费标准是多少",
        "已经检查过了，没有闻到燃气味",
        "",
        "🔥😱\u{0}",
    ] {
        let flag = detect_emergency(text);
        assert_eq!(flag.level, EmergencyLevel::None, "{text}: {flag:?}");
        assert!(flag.evidence.is_empty());
    }
    // A negation in an earlier clause does not hide a later emergency.
    assert_eq!(
        detect_emergency("没有人管，楼下着火了").level,
        EmergencyLevel::Immediate
    );
    let huge = "正常诉求".repeat(25_000) + "着火";
    assert_eq!(detect_emergency(&huge).level, EmergencyLevel::Immediate);
}
