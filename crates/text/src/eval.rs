//! Evaluation and the CSV file interface behind `jiesu text train|eval`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::TextError;
use crate::features::InputKind;
use crate::model::{Model, TrainConfig};

/// Precision, recall and F1 of one label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Result of scoring a model on labelled texts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub examples: usize,
    pub accuracy: f64,
    /// Mean F1 over the labels present in the data or predicted.
    pub macro_f1: f64,
    pub per_label: Vec<LabelScore>,
    /// Prediction throughput on one thread, feature extraction included.
    pub texts_per_sec: f64,
    /// How long the model took to train: known for a model trained in this process, or from
    /// the `<model>.json` summary that `train_csv` writes beside the model file.
    pub train_seconds: Option<f64>,
    /// Share of predictions flagged for a human, and the accuracy of the rest.
    pub review_rate: f64,
    pub accuracy_without_review: f64,
}

/// What `train_csv` did.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct TrainSummary {
    pub examples: usize,
    pub skipped_rows: usize,
    pub labels: Vec<String>,
    pub features: usize,
    pub temperature: f32,
    pub train_seconds: f64,
    pub model_bytes: usize,
}

/// Scores `model` on `(text, label)` pairs (input kind detected per text).
pub fn eval(model: &Model, data: &[(String, String)]) -> EvalReport {
    eval_as(model, data, InputKind::Auto)
}

/// As [`eval`], with the caller saying whether texts are raw or tokens.
pub fn eval_as(model: &Model, data: &[(String, String)], kind: InputKind) -> EvalReport {
    let started = Instant::now();
    let predictions: Vec<_> = data
        .iter()
        .map(|(t, _)| model.predict_as(t, kind))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let truth: Vec<&str> = data.iter().map(|(_, l)| l.trim()).collect();
    let predicted: Vec<&str> = predictions.iter().map(|p| p.label.as_str()).collect();
    let mut report = score(&truth, &predicted);
    report.texts_per_sec = if seconds > 0.0 {
        data.len() as f64 / seconds
    } else {
        0.0
    };
    report.train_seconds = model.train_seconds();
    let reviewed = predictions.iter().filter(|p| p.needs_review).count();
    let kept: Vec<usize> = (0..data.len())
        .filter(|&i| !predictions[i].needs_review)
        .collect();
    report.review_rate = ratio(reviewed, data.len());
    report.accuracy_without_review = ratio(
        kept.iter().filter(|&&i| truth[i] == predicted[i]).count(),
        kept.len(),
    );
    report
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Accuracy, macro-F1 and per-label scores of predicted vs true labels.
pub fn score(truth: &[&str], predicted: &[&str]) -> EvalReport {
    // (true positives, predicted count, support) per label, sorted by label.
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut correct = 0;
    for (t, p) in truth.iter().zip(predicted) {
        counts.entry(t).or_default().2 += 1;
        counts.entry(p).or_default().1 += 1;
        if t == p {
            correct += 1;
            counts.entry(t).or_default().0 += 1;
        }
    }
    let per_label: Vec<LabelScore> = counts
        .into_iter()
        .filter(|(label, _)| !label.is_empty())
        .map(|(label, (tp, pred, support))| {
            let precision = ratio(tp, pred);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            LabelScore {
                label: label.to_string(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let macro_f1 = if per_label.is_empty() {
        0.0
    } else {
        per_label.iter().map(|s| s.f1).sum::<f64>() / per_label.len() as f64
    };
    EvalReport {
        examples: truth.len(),
        accuracy: ratio(correct, truth.len()),
        macro_f1,
        per_label,
        texts_per_sec: 0.0,
        train_seconds: None,
        review_rate: 0.0,
        accuracy_without_review: 0.0,
    }
}

/// Labelled rows of a CSV: `(text, label)` plus how many rows were skipped for a blank text or
/// label. Missing columns and malformed rows are errors that name the column or row.
pub fn read_labelled_csv(
    input: &Path,
    text_col: &str,
    label_col: &str,
) -> Result<(Vec<(String, String)>, usize), TextError> {
    let file = std::fs::File::open(input).map_err(|e| TextError::io(input, e))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let csv_err = |e: csv::Error| TextError::Csv {
        path: input.to_path_buf(),
        message: e.to_string(),
    };
    let headers = reader.headers().map_err(csv_err)?.clone();
    // Spreadsheet exports often start with a BOM and pad header cells.
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let find = |col: &str| {
        names
            .iter()
            .position(|n| n == col.trim())
            .ok_or_else(|| TextError::MissingColumn {
                path: input.to_path_buf(),
                column: col.to_string(),
                available: names.join(", "),
            })
    };
    let (text_at, label_at) = (find(text_col)?, find(label_col)?);
    let mut rows = Vec::new();
    let mut skipped = 0;
    for (i, record) in reader.records().enumerate() {
        // Row numbers count the header as row 1, like a spreadsheet.
        let row = i as u64 + 2;
        let record = record.map_err(|e| TextError::BadRow {
            path: input.to_path_buf(),
            row,
            message: e.to_string(),
        })?;
        let (Some(text), Some(label)) = (record.get(text_at), record.get(label_at)) else {
            return Err(TextError::BadRow {
                path: input.to_path_buf(),
                row,
                message: format!(
                    "has {} fields, fewer than the header's {}",
                    record.len(),
                    names.len()
                ),
            });
        };
        if text.trim().is_empty() || label.trim().is_empty() {
            skipped += 1;
            continue;
        }
        rows.push((text.to_string(), label.trim().to_string()));
    }
    Ok((rows, skipped))
}

/// Train on a CSV with the default [`TrainConfig`] and write the model to `model_out`.
pub fn train_csv(
    input: &Path,
    text_col: &str,
    label_col: &str,
    model_out: &Path,
) -> Result<TrainSummary, TextError> {
    train_csv_with(
        input,
        text_col,
        label_col,
        model_out,
        &TrainConfig::default(),
    )
}

/// As [`train_csv`] with explicit settings.
pub fn train_csv_with(
    input: &Path,
    text_col: &str,
    label_col: &str,
    model_out: &Path,
    cfg: &TrainConfig,
) -> Result<TrainSummary, TextError> {
    let (rows, skipped_rows) = read_labelled_csv(input, text_col, label_col)?;
    if rows.is_empty() {
        return Err(TextError::NoData(format!(
            "{}: no row has both {text_col:?} and {label_col:?}",
            input.display()
        )));
    }
    let model = Model::train(&rows, cfg)?;
    let bytes = model.to_bytes();
    model.save(model_out)?;
    let summary = TrainSummary {
        examples: model.train_examples(),
        skipped_rows,
        labels: model.labels().to_vec(),
        features: model.feature_count(),
        temperature: model.temperature(),
        train_seconds: model.train_seconds().unwrap_or(0.0),
        model_bytes: bytes.len(),
    };
    // Timing lives beside the model, not in it: the model bytes stay deterministic.
    let sidecar = summary_path(model_out);
    let json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    std::fs::write(&sidecar, json).map_err(|e| TextError::io(&sidecar, e))?;
    Ok(summary)
}

/// `model.bin` → `model.bin.json`.
fn summary_path(model: &Path) -> std::path::PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".json");
    name.into()
}

/// Score a saved model on a labelled CSV.
pub fn eval_csv(
    model: &Path,
    input: &Path,
    text_col: &str,
    label_col: &str,
) -> Result<EvalReport, TextError> {
    let model_path = model;
    let model = Model::load(model_path)?;
    let (rows, _) = read_labelled_csv(input, text_col, label_col)?;
    let mut report = eval(&model, &rows);
    if report.train_seconds.is_none() {
        report.train_seconds = std::fs::read(summary_path(model_path))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("train_seconds").and_then(serde_json::Value::as_f64));
    }
    Ok(report)
}
