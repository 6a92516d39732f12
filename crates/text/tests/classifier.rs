//! Classifier behaviour on a small hand-written civic dataset.

use jiesu_text::{
    InputKind, Model, TrainConfig, eval, eval_csv, read_labelled_csv, train_csv, train_csv_with,
};

/// Three request categories, written like hotline records.
fn examples() -> Vec<(String, String)> {
    let rows: &[(&str, &str)] = &[
        ("小区楼下垃圾堆放多日无人清运，气味难闻", "环境卫生"),
        ("胡同里垃圾桶满了没人清理，苍蝇很多", "环境卫生"),
        ("街道垃圾清运不及时，垃圾站臭味大", "环境卫生"),
        ("楼道堆满垃圾，物业不清运", "环境卫生"),
        ("路边垃圾乱堆乱放，请环卫部门清理", "环境卫生"),
        ("公园厕所脏乱，垃圾没人打扫", "环境卫生"),
        ("小区垃圾分类桶破损，垃圾散落一地", "环境卫生"),
        ("早市结束后垃圾遍地无人清扫", "环境卫生"),
        ("晚上十二点工地还在施工，噪音扰民睡不着", "噪音扰民"),
        ("楼上装修电钻噪音太大，周末一早就开始", "噪音扰民"),
        ("广场舞音响声音太大，噪音影响休息", "噪音扰民"),
        ("夜间施工噪音严重，多次反映没人管", "噪音扰民"),
        ("酒吧夜里音乐噪音扰民", "噪音扰民"),
        ("工地凌晨打桩噪音很大", "噪音扰民"),
        ("商铺门口大喇叭噪音不断", "噪音扰民"),
        ("空调外机噪音大影响睡眠", "噪音扰民"),
        ("暖气不热，家里只有十五度，老人受不了", "供暖"),
        ("供暖开始后暖气片一直是凉的", "供暖"),
        ("小区集中供暖温度不达标", "供暖"),
        ("暖气漏水，供热公司不来维修", "供暖"),
        ("冬天暖气时冷时热，请供热单位检查", "供暖"),
        ("新房暖气不通，供暖费已经交了", "供暖"),
        ("室内温度太低，暖气管道不热", "供暖"),
        ("供热管线维修后暖气还是不热", "供暖"),
    ];
    rows.iter()
        .map(|(t, l)| (t.to_string(), l.to_string()))
        .collect()
}

fn small_config() -> TrainConfig {
    TrainConfig {
        min_df: 1,
        threads: 1,
        ..TrainConfig::default()
    }
}

#[test]
fn known_texts_route_to_their_category() {
    let model = Model::train(&examples(), &small_config()).expect("training on valid data");
    assert_eq!(model.labels(), ["供暖", "噪音扰民", "环境卫生"]);
    for (text, label) in [
        ("我家暖气一点都不热，请尽快处理", "供暖"),
        ("隔壁工地夜里施工噪音太吵了", "噪音扰民"),
        ("门口垃圾好几天没人清运了", "环境卫生"),
    ] {
        let p = model.predict(text);
        assert_eq!(p.label, label, "{text}: {p:?}");
        assert_eq!(p.top.len(), 3);
        assert_eq!(p.top[0].0, label);
        let total: f32 = model.predict_top_k(text, 10).iter().map(|(_, c)| c).sum();
        assert!(
            (total - 1.0).abs() < 1e-3,
            "confidences sum to 1, got {total}"
        );
    }
}

#[test]
fn tokens_are_words_and_still_classify() {
    let model = Model::train(&examples(), &small_config()).expect("training");
    let p = model.predict_as("暖气 不热 供热 公司", InputKind::Tokens);
    assert_eq!(p.label, "供暖");
    // Auto-detection sees the spaces and treats it the same way.
    assert_eq!(model.predict("暖气 不热 供热 公司").label, "供暖");
}

#[test]
fn low_confidence_asks_a_human() {
    let mut model = Model::train(&examples(), &small_config()).expect("training");
    model.set_review_threshold(0.99);
    assert!(model.predict("这是什么").needs_review);
    model.set_review_threshold(0.0);
    assert!(!model.predict("暖气不热").needs_review);
    assert!(
        model.predict("").needs_review,
        "empty text always goes to a human"
    );
}

#[test]
fn training_is_deterministic_and_save_load_round_trips() {
    let cfg = TrainConfig {
        threads: 2,
        ..small_config()
    };
    let a = Model::train(&examples(), &cfg).expect("training");
    let b = Model::train(&examples(), &cfg).expect("training");
    assert!(
        a.to_bytes() == b.to_bytes(),
        "same data, same seed, same bytes"
    );

    let dir = tempdir();
    let path = dir.join("model.bin");
    a.save(&path).expect("save");
    let loaded = Model::load(&path).expect("load");
    assert!(loaded.to_bytes() == a.to_bytes());
    for (text, _) in examples() {
        assert_eq!(loaded.predict(&text), a.predict(&text));
    }
    assert!(Model::from_bytes(b"not a model").is_err());
    let bytes = a.to_bytes();
    assert!(Model::from_bytes(&bytes[..bytes.len() - 3]).is_err());
}

#[test]
fn hostile_inputs_do_not_panic() {
    let model = Model::train(&examples(), &small_config()).expect("training");
    let huge = "暖气不热".repeat(25_000); // 100 000 characters
    let inputs = [
        String::new(),
        "   \t\n ".into(),
        "🔥🔥🔥 着火了 😱".into(),
        "\u{0}\u{1}\u{7f}控制字符\u{200b}".into(),
        "ＡＢＣ１２３ mixed العربية русский".into(),
        huge,
    ];
    for text in &inputs {
        let p = model.predict(text);
        assert!(p.confidence.is_finite());
        assert!(model.labels().contains(&p.label));
    }
    assert!(Model::train(&[], &small_config()).is_err());
    assert!(Model::train(&[(String::new(), "x".into())], &small_config()).is_err());
    // One label is allowed: it is always predicted.
    let single =
        Model::train(&[("文本".into(), "唯一".into())], &small_config()).expect("one label");
    assert_eq!(single.predict("anything").label, "唯一");
}

#[test]
fn csv_train_and_eval_report_json() {
    let dir = tempdir();
    let csv_path = dir.join("data.csv");
    let mut writer = csv::Writer::from_path(&csv_path).expect("csv");
    writer.write_record(["内容", "类别"]).expect("header");
    for (t, l) in examples() {
        writer.write_record([t, l]).expect("row");
    }
    writer
        .write_record(["", "供暖"])
        .expect("blank text row is skipped");
    writer.flush().expect("flush");
    drop(writer);

    let model_path = dir.join("m.bin");
    let cfg = small_config();
    let summary =
        train_csv_with(&csv_path, "内容", "类别", &model_path, &cfg).expect("train from csv");
    assert_eq!(summary.examples, 24);
    assert_eq!(summary.skipped_rows, 1);
    assert!(summary.model_bytes > 0);

    let report = eval_csv(&model_path, &csv_path, "内容", "类别").expect("eval");
    assert!(report.accuracy > 0.9, "training data is learnt: {report:?}");
    let json = serde_json::to_value(&report).expect("json");
    for key in [
        "accuracy",
        "macro_f1",
        "per_label",
        "texts_per_sec",
        "train_seconds",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert_eq!(json["per_label"].as_array().map(Vec::len), Some(3));
    assert!(json["per_label"][0].get("precision").is_some());
    assert!(
        report.train_seconds.is_some(),
        "read from the summary beside the model"
    );

    // Errors name what is wrong.
    let err = train_csv(&csv_path, "text", "类别", &dir.join("x.bin")).unwrap_err();
    assert!(err.to_string().contains("\"text\""), "{err}");
    let err = eval_csv(&dir.join("missing.bin"), &csv_path, "内容", "类别").unwrap_err();
    assert!(err.to_string().contains("missing.bin"), "{err}");
    let ragged = dir.join("ragged.csv");
    std::fs::write(&ragged, "a,b,c\n1,2,3\nonly-one\n").expect("write");
    let err = read_labelled_csv(&ragged, "a", "c").unwrap_err();
    assert!(err.to_string().contains("row 3"), "{err}");
}

#[test]
fn eval_counts_every_label() {
    let model = Model::train(&examples(), &small_config()).expect("training");
    let data = vec![
        ("暖气不热".to_string(), "供暖".to_string()),
        ("噪音太大".to_string(), "噪音扰民".to_string()),
        ("外星人来了".to_string(), "未知类别".to_string()),
    ];
    let report = eval(&model, &data);
    assert_eq!(report.examples, 3);
    assert!(
        report
            .per_label
            .iter()
            .any(|s| s.label == "未知类别" && s.recall == 0.0)
    );
}

/// A fresh directory under the system temp dir, unique per test process and call.
fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "jiesu-text-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
