//! Training the classifiers on the deployment's own closed requests (`jiesu train`).

use super::lexicon;
use crate::error::{AppError, AppResult};
use jiesu_domain::Directory;
use jiesu_store::{NewModel, Store};
use jiesu_text::{Model, TrainConfig};
use jiff::Timestamp;
use serde::Serialize;
use std::time::Instant;

/// Fewest examples (and distinct labels) a model is trained on; below that rules are better.
const MIN_TRAINING_EXAMPLES: usize = 20;
/// Default cap on training examples: the most recently closed requests.
pub const DEFAULT_TRAIN_LIMIT: u32 = 50_000;

// ------------------------------------------------------------------ training

/// What one model's training did.
#[derive(Debug, Clone, Serialize)]
pub struct KindReport {
    pub kind: String,
    pub examples: usize,
    pub labels: usize,
    /// Stored version, or `None` when skipped.
    pub version: Option<i64>,
    pub seconds: f64,
    pub features: usize,
    pub model_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// `jiesu train` output.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Closed requests read (the most recently closed, at most `limit`).
    pub closed_requests: usize,
    pub limit: u32,
    /// True when more closed requests exist than were used.
    pub subsampled: bool,
    pub models: Vec<KindReport>,
    pub seconds: f64,
}

/// Trains the category, request-type and unit classifiers on the most recently closed
/// requests (at most `limit`) and stores each as a new version. A kind with fewer than
/// [`MIN_TRAINING_EXAMPLES`] examples or a single label is skipped (rules stay in force).
pub async fn train_from_store(
    store: &Store,
    dir: &Directory,
    limit: u32,
) -> AppResult<TrainReport> {
    let started = Instant::now();
    let limit = limit.max(1);
    let rows = store.training_examples(limit.saturating_add(1)).await?;
    let subsampled = rows.len() > limit as usize;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let closed = rows.len();
    let words = lexicon(dir);
    let mut sets: Vec<(&str, Vec<(String, String)>)> = vec![
        ("category", Vec::new()),
        ("request_type", Vec::new()),
        ("unit", Vec::new()),
    ];
    for r in rows {
        if let Some(c) = &r.category {
            sets[0].1.push((r.text.clone(), c.clone()));
        }
        sets[1].1.push((r.text.clone(), r.request_type.clone()));
        if let Some(u) = r.lead_unit {
            sets[2].1.push((r.text, u));
        }
    }
    let mut reports = Vec::new();
    for (kind, examples) in sets {
        let mut labels: Vec<&str> = examples.iter().map(|(_, l)| l.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        let n_labels = labels.len();
        let mut report = KindReport {
            kind: kind.to_string(),
            examples: examples.len(),
            labels: n_labels,
            version: None,
            seconds: 0.0,
            features: 0,
            model_bytes: 0,
            skipped: None,
        };
        if examples.len() < MIN_TRAINING_EXAMPLES || n_labels < 2 {
            report.skipped = Some(format!(
                "needs at least {MIN_TRAINING_EXAMPLES} examples with 2 or more labels"
            ));
            reports.push(report);
            continue;
        }
        let cfg = TrainConfig {
            extra_words: words.clone(),
            ..TrainConfig::default()
        };
        let t = Instant::now();
        let trained = tokio::task::spawn_blocking(move || Model::train(&examples, &cfg))
            .await
            .map_err(AppError::internal)?;
        let model = match trained {
            Ok(m) => m,
            Err(e) => {
                report.skipped = Some(e.to_string());
                reports.push(report);
                continue;
            }
        };
        report.seconds = t.elapsed().as_secs_f64();
        report.features = model.feature_count();
        let bytes = model.to_bytes();
        report.model_bytes = bytes.len();
        let summary = serde_json::json!({
            "examples": report.examples,
            "labels": model.labels(),
            "seconds": report.seconds,
            "features": report.features,
            "temperature": model.temperature(),
        });
        let version = store
            .save_model(&NewModel {
                kind: kind.to_string(),
                created_at: Timestamp::now(),
                trained_on: report.examples as i64,
                report: summary.to_string(),
                bytes,
            })
            .await?;
        report.version = Some(version);
        reports.push(report);
    }
    Ok(TrainReport {
        closed_requests: closed,
        limit,
        subsampled,
        models: reports,
        seconds: started.elapsed().as_secs_f64(),
    })
}
