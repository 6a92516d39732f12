//! Sanity check on the real 泰迪杯 messages when the shared data folder is present.

use std::path::PathBuf;

use jiesu_text::{Model, TrainConfig, eval, read_labelled_csv};

#[test]
fn real_messages_are_classified_well_above_chance() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tipdm2020");
    let path = dir.join("messages_labeled.csv");
    if !path.exists() {
        eprintln!("skipped: {} not found", path.display());
        return;
    }
    let (rows, _) = read_labelled_csv(&path, "text", "label").expect("labelled csv");
    // Every other message (the file is grouped by label, so stride, don't slice) keeps the
    // debug-build test quick; every 5th of those is held out.
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, row) in rows.into_iter().step_by(2).enumerate() {
        if i % 5 == 0 {
            test.push(row)
        } else {
            train.push(row)
        }
    }
    let cfg = TrainConfig {
        max_epochs: 30,
        calibration_fraction: 0.0,
        ..TrainConfig::default()
    };
    let model = Model::train(&train, &cfg).expect("training");
    let report = eval(&model, &test);
    // Seven labels: chance is about 0.22 for the largest class.
    assert!(report.accuracy > 0.7, "accuracy {}", report.accuracy);
    assert!(report.macro_f1 > 0.6, "macro-F1 {}", report.macro_f1);
}
