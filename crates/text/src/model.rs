//! Linear text classifier: hashed word + character n-gram TF-IDF, one-vs-rest L2-loss SVM
//! trained by dual coordinate descent, softmax confidence with a fitted temperature.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::TextError;
use crate::features::{Extracted, FeatureConfig, InputKind, extract};
use crate::segment::Segmenter;

/// Training settings. The defaults are the ones the benchmark reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    /// How training texts arrive (per-text detection by default).
    pub input: InputKind,
    /// SVM cost: larger fits the training data more closely.
    pub c: f64,
    /// Scale each label's positive examples by `n / (labels × n_label)` so rare labels weigh
    /// as much as common ones (helps macro-F1).
    pub balanced: bool,
    /// Stop when the projected-gradient spread falls below this (liblinear's criterion).
    pub tolerance: f64,
    pub max_epochs: usize,
    /// Features seen in fewer training texts are dropped: a smaller model whose weights stay
    /// in cache, at no loss of accuracy on the benchmark. Small corpora (a new deployment's
    /// history) keep rarer features: the threshold is one in 800 texts, at most `min_df`.
    pub min_df: u32,
    /// Seed for the example order; same data + same seed = same model bytes.
    pub seed: u64,
    /// Share of examples held out to fit the confidence temperature (0 = no calibration).
    pub calibration_fraction: f64,
    /// Predictions below this confidence are marked `needs_review` (ask a human).
    pub review_threshold: f32,
    /// Worker threads for feature extraction and the per-label solvers (0 = all cores).
    pub threads: usize,
    /// Extra lexicon words for jieba (street, community and unit names); stored in the model.
    pub extra_words: Vec<String>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureConfig::default(),
            input: InputKind::Auto,
            c: 0.5,
            balanced: true,
            tolerance: 0.05,
            max_epochs: 200,
            min_df: 10,
            seed: 0x006a_6965_7375,
            calibration_fraction: 0.1,
            review_threshold: 0.6,
            threads: 0,
            extra_words: Vec::new(),
        }
    }
}

/// A classification with its calibrated confidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub label: String,
    pub confidence: f32,
    /// Confidence below the model's review threshold: an operator should decide.
    pub needs_review: bool,
    /// The best labels with confidences, best first.
    pub top: Vec<(String, f32)>,
}

/// Metadata stored with the weights (JSON header of the model file).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Header {
    format: u32,
    labels: Vec<String>,
    config: TrainConfig,
    temperature: f32,
    train_examples: usize,
}

/// Open-addressing table from feature hash to a slot, with linear probing. Keys are
/// well-mixed 64-bit hashes, so the slot is just their high bits scaled to the capacity.
/// At about half load a lookup touches one cache line of keys and one of rows; the weights
/// (see `Model::packed`) are in vocabulary order, so no memory goes to empty slots.
struct FeatureTable {
    /// Slot-aligned keys; 0 marks an empty slot (feature hashes are never 0).
    keys: Vec<u64>,
    /// Row (position in the sorted vocabulary) of each occupied slot.
    rows: Vec<u32>,
}

impl FeatureTable {
    fn new(sorted_keys: &[u64]) -> Self {
        let capacity = (sorted_keys.len() * 2).max(16);
        let mut table = FeatureTable {
            keys: vec![0; capacity],
            rows: vec![u32::MAX; capacity],
        };
        for (row, &key) in sorted_keys.iter().enumerate() {
            let mut slot = table.home(key);
            while table.keys[slot] != 0 {
                slot = if slot + 1 == capacity { 0 } else { slot + 1 };
            }
            table.keys[slot] = key;
            table.rows[slot] = row as u32;
        }
        table
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        ((u128::from(key) * self.keys.len() as u128) >> 64) as usize
    }

    /// Rows of the known keys among `hashes`, in order, appended to `out`. A first pass
    /// only loads each key's home slot: the loads do not depend on each other, so the CPU
    /// overlaps their cache misses, and the probing pass then finds the lines in cache.
    fn rows_of(&self, hashes: &[u64], out: &mut Vec<u32>) {
        let mut touched = 0u64;
        for &h in hashes {
            touched ^= self.keys[self.home(h)];
        }
        std::hint::black_box(touched);
        out.extend(
            hashes
                .iter()
                .filter_map(|&h| self.slot(h).map(|s| self.rows[s])),
        );
    }

    #[inline]
    fn slot(&self, key: u64) -> Option<usize> {
        let mut slot = self.home(key);
        loop {
            match self.keys[slot] {
                0 => return None,
                k if k == key => return Some(slot),
                _ => {
                    slot = if slot + 1 == self.keys.len() {
                        0
                    } else {
                        slot + 1
                    }
                }
            }
        }
    }
}

/// A trained classifier.
pub struct Model {
    header: Header,
    segmenter: Segmenter,
    /// Sorted feature hashes; position = feature row in the model file.
    keys: Vec<u64>,
    table: FeatureTable,
    /// `[idf, weight per label]` per vocabulary row: one cache line per feature, no memory for
    /// empty slots (about 2 MB at the default `min_df`, near a core's L2 cache).
    packed: Vec<f32>,
    bias: Vec<f32>,
    /// Wall time of `train`; not serialised, so the same data gives the same model bytes.
    train_seconds: Option<f64>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("labels", &self.header.labels)
            .field("features", &self.keys.len())
            .field("temperature", &self.header.temperature)
            .finish()
    }
}

/// Sparse TF-IDF rows in compressed form.
struct Rows {
    offsets: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl Rows {
    fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// Softmax temperature without calibration: what held-out fits give on real hotline-like data
/// (SVM margins are around ±1, so T ≈ 0.3 spreads them into useful probabilities).
const DEFAULT_TEMPERATURE: f32 = 0.3;
const MIN_CALIBRATION_EXAMPLES: usize = 50;

const MAGIC: &[u8; 8] = b"JIESUTXT";
const FORMAT: u32 = 1;

fn thread_count(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Deterministic xorshift generator for example order and hold-out selection.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x2545_F491_4F6C_DD1D | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Extract features of many texts on `threads` threads, keeping order.
fn extract_all(
    texts: &[&str],
    kind: InputKind,
    segmenter: &Segmenter,
    cfg: &FeatureConfig,
    threads: usize,
) -> Vec<Extracted> {
    let chunk = texts.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|t| extract(t, kind, segmenter, cfg))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Sorted, de-duplicated copy with counts.
fn counted(hashes: &[u64]) -> Vec<(u64, u32)> {
    let mut sorted = hashes.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(sorted.len());
    for h in sorted {
        match out.last_mut() {
            Some((last, n)) if *last == h => *n += 1,
            _ => out.push((h, 1)),
        }
    }
    out
}

/// TF-IDF vector of one block: sublinear tf × idf, L2-normalised, times the block weight.
/// `id_of` maps a hash to a feature id (unknown features are skipped), `idf_of` an id to its idf.
fn push_block(
    hashes: &[u64],
    id_of: impl Fn(u64) -> Option<u32>,
    idf_of: impl Fn(u32) -> f32,
    weight: f32,
    indices: &mut Vec<u32>,
    values: &mut Vec<f32>,
) {
    let mut ids: Vec<u32> = hashes.iter().filter_map(|&h| id_of(h)).collect();
    push_ids(&mut ids, idf_of, weight, indices, values);
}

/// [`push_block`] once the hashes are ids: counts repeats (after sorting `ids`), weighs and
/// normalises. Appends in ascending id order, so the sums downstream run in a fixed order.
fn push_ids(
    ids: &mut [u32],
    idf_of: impl Fn(u32) -> f32,
    weight: f32,
    indices: &mut Vec<u32>,
    values: &mut Vec<f32>,
) {
    sort_ids(ids);
    let start = values.len();
    let mut i = 0;
    while i < ids.len() {
        let id = ids[i];
        let run = ids[i..].iter().take_while(|&&x| x == id).count();
        indices.push(id);
        values.push(sublinear_tf(run) * idf_of(id));
        i += run;
    }
    let norm = values[start..].iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        let scale = weight / norm;
        values[start..].iter_mut().for_each(|v| *v *= scale);
    }
}

/// `1 + ln(count)`; small counts (nearly all of them) from a table computed the same way.
#[inline]
fn sublinear_tf(count: usize) -> f32 {
    const SMALL: usize = 16;
    static TABLE: std::sync::OnceLock<[f32; SMALL]> = std::sync::OnceLock::new();
    if count < SMALL {
        let table = TABLE.get_or_init(|| std::array::from_fn(|n| 1.0 + (n as f32).ln()));
        table[count]
    } else {
        1.0 + (count as f32).ln()
    }
}

/// Sort feature ids ascending. A text has a thousand-odd ids below a few million: a
/// least-significant-digit radix sort on bytes (skipping bytes all ids share) is several
/// times faster than a comparison sort there; short lists use the comparison sort.
fn sort_ids(ids: &mut [u32]) {
    if ids.len() < 256 {
        ids.sort_unstable();
        return;
    }
    let (mut or, mut and) = (0u32, u32::MAX);
    for &id in ids.iter() {
        or |= id;
        and &= id;
    }
    let varying = or ^ and;
    let mut buffer = vec![0u32; ids.len()];
    let mut in_ids = true; // sorted data currently in `ids` (else in `buffer`)
    for shift in [0u32, 8, 16, 24] {
        if (varying >> shift) & 0xFF == 0 {
            continue;
        }
        let (from, to): (&[u32], &mut [u32]) = if in_ids {
            (&*ids, &mut buffer[..])
        } else {
            (&buffer[..], &mut *ids)
        };
        let mut counts = [0usize; 256];
        for &id in from {
            counts[((id >> shift) & 0xFF) as usize] += 1;
        }
        let mut total = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = total;
            total += n;
        }
        for &id in from {
            let digit = ((id >> shift) & 0xFF) as usize;
            to[counts[digit]] = id;
            counts[digit] += 1;
        }
        in_ids = !in_ids;
    }
    if !in_ids {
        ids.copy_from_slice(&buffer);
    }
}

/// Training-side vectoriser: ids are vocabulary rows.
fn vectorise_rows(
    doc: &Extracted,
    table: &FeatureTable,
    idf: &[f32],
    cfg: &FeatureConfig,
    indices: &mut Vec<u32>,
    values: &mut Vec<f32>,
) {
    let id_of = |h| table.slot(h).map(|s| table.rows[s]);
    let idf_of = |row: u32| idf[row as usize];
    push_block(&doc.words, id_of, idf_of, cfg.word_weight, indices, values);
    push_block(&doc.chars, id_of, idf_of, cfg.char_weight, indices, values);
}

fn build_rows(docs: &[&Extracted], table: &FeatureTable, idf: &[f32], cfg: &FeatureConfig) -> Rows {
    let mut rows = Rows {
        offsets: vec![0],
        indices: Vec::new(),
        values: Vec::new(),
    };
    for doc in docs {
        vectorise_rows(doc, table, idf, cfg, &mut rows.indices, &mut rows.values);
        rows.offsets.push(rows.values.len());
    }
    rows
}

/// One-vs-rest L2-regularised squared-hinge SVM for one label, by dual coordinate descent
/// (Hsieh et al. 2008, liblinear's default solver). The bias is a constant feature of value 1.
/// Returns weights with the bias last.
fn train_binary(
    rows: &Rows,
    positive: &[bool],
    positive_weight: f64,
    n_features: usize,
    cfg: &TrainConfig,
    seed: u64,
) -> Vec<f32> {
    let n = rows.len();
    // Squared hinge: the per-example cost enters the dual as a diagonal term 1/(2C).
    let diag_pos = 0.5 / (cfg.c * positive_weight);
    let diag_neg = 0.5 / cfg.c;
    let mut w = vec![0.0f64; n_features + 1];
    let mut alpha = vec![0.0f64; n];
    let q: Vec<f64> = (0..n)
        .map(|i| {
            let (_, vals) = rows.row(i);
            let diag = if positive[i] { diag_pos } else { diag_neg };
            vals.iter()
                .map(|v| f64::from(*v) * f64::from(*v))
                .sum::<f64>()
                + 1.0
                + diag
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed);
    for _ in 0..cfg.max_epochs {
        rng.shuffle(&mut order);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let (y, diag) = if positive[i] {
                (1.0, diag_pos)
            } else {
                (-1.0, diag_neg)
            };
            let (idx, vals) = rows.row(i);
            let mut dot = w[n_features];
            for (j, v) in idx.iter().zip(vals) {
                dot += w[*j as usize] * f64::from(*v);
            }
            let g = y * dot - 1.0 + diag * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / q[i]).max(0.0);
                let step = (alpha[i] - old) * y;
                for (j, v) in idx.iter().zip(vals) {
                    w[*j as usize] += step * f64::from(*v);
                }
                w[n_features] += step;
            }
        }
        if pg_max - pg_min <= cfg.tolerance {
            break;
        }
    }
    w.into_iter().map(|x| x as f32).collect()
}

/// Fit all labels; returns row-major weights `[feature][label]` and the bias per label.
fn train_ovr(
    rows: &Rows,
    y: &[usize],
    n_labels: usize,
    n_features: usize,
    cfg: &TrainConfig,
) -> (Vec<f32>, Vec<f32>) {
    let threads = thread_count(cfg.threads).min(n_labels.max(1));
    let labels: Vec<usize> = (0..n_labels).collect();
    let per_label: Vec<Vec<f32>> = std::thread::scope(|scope| {
        let mut results: Vec<Vec<f32>> = vec![Vec::new(); n_labels];
        let chunk = n_labels.div_ceil(threads).max(1);
        let handles: Vec<_> = labels
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&k| {
                            let positive: Vec<bool> = y.iter().map(|&l| l == k).collect();
                            let count = positive.iter().filter(|p| **p).count().max(1);
                            let weight = if cfg.balanced {
                                y.len() as f64 / (n_labels * count) as f64
                            } else {
                                1.0
                            };
                            let seed = cfg.seed.wrapping_add(k as u64 * 0x1000_0001);
                            (
                                k,
                                train_binary(rows, &positive, weight, n_features, cfg, seed),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (k, w) in h.join().unwrap_or_default() {
                results[k] = w;
            }
        }
        results
    });
    let mut weights = vec![0.0f32; n_features * n_labels];
    let mut bias = vec![0.0f32; n_labels];
    for (k, w) in per_label.iter().enumerate() {
        if w.len() != n_features + 1 {
            continue; // a solver thread died; the label keeps zero weights
        }
        for j in 0..n_features {
            weights[j * n_labels + k] = w[j];
        }
        bias[k] = w[n_features];
    }
    (weights, bias)
}

fn scores_of(row: (&[u32], &[f32]), weights: &[f32], bias: &[f32]) -> Vec<f32> {
    let n_labels = bias.len();
    let mut scores = bias.to_vec();
    for (j, v) in row.0.iter().zip(row.1) {
        let base = *j as usize * n_labels;
        for (s, w) in scores.iter_mut().zip(&weights[base..base + n_labels]) {
            *s += w * v;
        }
    }
    scores
}

fn softmax(scores: &[f32], temperature: f32) -> Vec<f32> {
    let t = temperature.max(1e-4);
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = scores.iter().map(|s| ((s - max) / t).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// Temperature minimising the negative log-likelihood of the held-out labels
/// (golden-section search on log T).
fn fit_temperature(scores: &[Vec<f32>], truth: &[usize]) -> f32 {
    let nll = |log_t: f64| -> f64 {
        let t = log_t.exp() as f32;
        scores
            .iter()
            .zip(truth)
            .map(|(s, &k)| -f64::from(softmax(s, t)[k].max(1e-12)).ln())
            .sum()
    };
    let (mut a, mut b) = ((0.05f64).ln(), (5.0f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    for _ in 0..40 {
        if nll(c) < nll(d) {
            b = d;
        } else {
            a = c;
        }
        c = b - g * (b - a);
        d = a + g * (b - a);
    }
    ((a + b) / 2.0).exp() as f32
}

/// Texts per unit of document frequency a feature needs (see [`TrainConfig::min_df`]).
const TEXTS_PER_DF: usize = 800;

fn effective_min_df(min_df: u32, texts: usize) -> u32 {
    min_df.min(
        u32::try_from(texts / TEXTS_PER_DF)
            .unwrap_or(u32::MAX)
            .max(1),
    )
}

/// Vocabulary (sorted hashes with df ≥ min_df) and smooth idf.
fn build_vocabulary(docs: &[&Extracted], min_df: u32) -> (Vec<u64>, Vec<f32>) {
    let mut df: HashMap<u64, u32> = HashMap::new();
    for doc in docs {
        for block in [&doc.words, &doc.chars] {
            for (h, _) in counted(block) {
                *df.entry(h).or_insert(0) += 1;
            }
        }
    }
    let mut keys: Vec<(u64, u32)> = df
        .into_iter()
        .filter(|(_, n)| *n >= min_df.max(1))
        .collect();
    keys.sort_unstable();
    let n = docs.len() as f32;
    let idf = keys
        .iter()
        .map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0)
        .collect();
    (keys.into_iter().map(|(h, _)| h).collect(), idf)
}

/// `[idf, weights…]` per vocabulary row, for prediction.
fn pack(idf: &[f32], weights: &[f32], n_labels: usize) -> Vec<f32> {
    let stride = n_labels + 1;
    let mut packed = vec![0.0f32; idf.len() * stride];
    for (row, out) in packed.chunks_exact_mut(stride).enumerate() {
        out[0] = idf[row];
        out[1..].copy_from_slice(&weights[row * n_labels..(row + 1) * n_labels]);
    }
    packed
}

/// Stratified deterministic hold-out: about `fraction` of each label, at least one kept for training.
fn holdout_split(y: &[usize], n_labels: usize, fraction: f64, seed: u64) -> Vec<bool> {
    let mut held = vec![false; y.len()];
    let mut rng = Rng::new(seed ^ 0xCA1B);
    for k in 0..n_labels {
        let mut members: Vec<usize> = (0..y.len()).filter(|&i| y[i] == k).collect();
        rng.shuffle(&mut members);
        let take = ((members.len() as f64) * fraction).round() as usize;
        for &i in members
            .iter()
            .take(take.min(members.len().saturating_sub(1)))
        {
            held[i] = true;
        }
    }
    held
}

impl Model {
    /// Train on `(text, label)` pairs. Examples with blank text or label are skipped.
    pub fn train(examples: &[(String, String)], cfg: &TrainConfig) -> Result<Model, TextError> {
        let started = Instant::now();
        let examples: Vec<(&str, &str)> = examples
            .iter()
            .map(|(t, l)| (t.as_str(), l.trim()))
            .filter(|(t, l)| !t.trim().is_empty() && !l.is_empty())
            .collect();
        if examples.is_empty() {
            return Err(TextError::NoData(
                "every example has an empty text or label".into(),
            ));
        }
        let mut labels: Vec<String> = examples.iter().map(|(_, l)| l.to_string()).collect();
        labels.sort();
        labels.dedup();
        let label_index: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let y: Vec<usize> = examples.iter().map(|(_, l)| label_index[l]).collect();

        let segmenter =
            Segmenter::with_dictionary(cfg.features.dictionary, cfg.extra_words.iter().cloned());
        let texts: Vec<&str> = examples.iter().map(|(t, _)| *t).collect();
        let threads = thread_count(cfg.threads);
        let docs = extract_all(&texts, cfg.input, &segmenter, &cfg.features, threads);
        let all: Vec<&Extracted> = docs.iter().collect();
        let (keys, idf) = build_vocabulary(&all, effective_min_df(cfg.min_df, all.len()));
        let table = FeatureTable::new(&keys);
        let rows = build_rows(&all, &table, &idf, &cfg.features);
        let n_labels = labels.len();

        // Temperature from a held-out slice: a model trained without it scores it.
        let mut temperature = DEFAULT_TEMPERATURE;
        if cfg.calibration_fraction > 0.0 && n_labels >= 2 && examples.len() >= 20 {
            let held = holdout_split(&y, n_labels, cfg.calibration_fraction, cfg.seed);
            let train_docs: Vec<&Extracted> = all
                .iter()
                .zip(&held)
                .filter(|(_, h)| !**h)
                .map(|(d, _)| *d)
                .collect();
            let train_y: Vec<usize> = y
                .iter()
                .zip(&held)
                .filter(|(_, h)| !**h)
                .map(|(l, _)| *l)
                .collect();
            let part = build_rows(&train_docs, &table, &idf, &cfg.features);
            let (w, b) = train_ovr(&part, &train_y, n_labels, keys.len(), cfg);
            let (mut scores, mut truth) = (Vec::new(), Vec::new());
            for i in (0..y.len()).filter(|&i| held[i]) {
                scores.push(scores_of(rows.row(i), &w, &b));
                truth.push(y[i]);
            }
            // A handful of held-out texts would push the temperature to an extreme.
            if scores.len() >= MIN_CALIBRATION_EXAMPLES {
                temperature = fit_temperature(&scores, &truth);
            }
        }

        let (weights, bias) = train_ovr(&rows, &y, n_labels, keys.len(), cfg);
        let header = Header {
            format: FORMAT,
            labels,
            config: cfg.clone(),
            temperature,
            train_examples: examples.len(),
        };
        let packed = pack(&idf, &weights, n_labels);
        Ok(Model {
            header,
            segmenter,
            keys,
            table,
            packed,
            bias,
            train_seconds: Some(started.elapsed().as_secs_f64()),
        })
    }

    /// Labels the model can predict, sorted.
    pub fn labels(&self) -> &[String] {
        &self.header.labels
    }

    pub fn temperature(&self) -> f32 {
        self.header.temperature
    }

    pub fn feature_count(&self) -> usize {
        self.keys.len()
    }

    /// How long training took, for a model trained in this process (`None` once loaded).
    pub fn train_seconds(&self) -> Option<f64> {
        self.train_seconds
    }

    pub fn train_examples(&self) -> usize {
        self.header.train_examples
    }

    pub fn review_threshold(&self) -> f32 {
        self.header.config.review_threshold
    }

    /// Change the confidence under which predictions ask for a human.
    pub fn set_review_threshold(&mut self, threshold: f32) {
        self.header.config.review_threshold = threshold;
    }

    /// Calibrated probability per label (same order as [`Model::labels`]).
    pub fn probabilities(&self, text: &str, kind: InputKind) -> Vec<f32> {
        let cfg = &self.header.config.features;
        let doc = extract(text, kind, &self.segmenter, cfg);
        let stride = self.bias.len() + 1;
        let mut word_rows = Vec::with_capacity(doc.words.len());
        let mut char_rows = Vec::with_capacity(doc.chars.len());
        self.table.rows_of(&doc.words, &mut word_rows);
        self.table.rows_of(&doc.chars, &mut char_rows);
        // Same trick for the weight rows: independent loads first, so their misses overlap.
        let mut touched = 0u32;
        for &row in word_rows.iter().chain(&char_rows) {
            touched ^= self.packed[row as usize * stride].to_bits();
        }
        std::hint::black_box(touched);
        let idf_of = |row: u32| self.packed[row as usize * stride];
        let mut rows = Vec::with_capacity(word_rows.len() + char_rows.len());
        let mut values = Vec::with_capacity(rows.capacity());
        push_ids(
            &mut word_rows,
            idf_of,
            cfg.word_weight,
            &mut rows,
            &mut values,
        );
        push_ids(
            &mut char_rows,
            idf_of,
            cfg.char_weight,
            &mut rows,
            &mut values,
        );
        let mut scores = self.bias.clone();
        for (row, v) in rows.iter().zip(&values) {
            let base = *row as usize * stride + 1;
            for (s, w) in scores.iter_mut().zip(&self.packed[base..base + stride - 1]) {
                *s += w * v;
            }
        }
        softmax(&scores, self.header.temperature)
    }

    /// The `k` most likely labels with confidences, best first (input kind detected per text).
    pub fn predict_top_k(&self, text: &str, k: usize) -> Vec<(String, f32)> {
        self.top_k_as(text, InputKind::Auto, k)
    }

    fn top_k_as(&self, text: &str, kind: InputKind, k: usize) -> Vec<(String, f32)> {
        let probs = self.probabilities(text, kind);
        let mut ranked: Vec<(usize, f32)> = probs.into_iter().enumerate().collect();
        // Ties broken by label order so results are stable.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(k)
            .map(|(i, p)| (self.header.labels[i].clone(), p))
            .collect()
    }

    /// Best label, its confidence, the top 3 and whether a human should decide.
    pub fn predict(&self, text: &str) -> Prediction {
        self.predict_as(text, InputKind::Auto)
    }

    /// As [`Model::predict`], with the caller saying whether the text is raw or tokens.
    pub fn predict_as(&self, text: &str, kind: InputKind) -> Prediction {
        let top = self.top_k_as(text, kind, 3);
        let (label, confidence) = top.first().cloned().unwrap_or_default();
        Prediction {
            needs_review: confidence < self.header.config.review_threshold
                || text.trim().is_empty(),
            label,
            confidence,
            top,
        }
    }

    /// Serialise: magic, format, JSON header, then little-endian arrays.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out = Vec::with_capacity(
            32 + header.len()
                + self.keys.len() * 12
                + self.keys.len() * self.bias.len() * 4
                + self.bias.len() * 4,
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.keys.len() as u64).to_le_bytes());
        for k in &self.keys {
            out.extend_from_slice(&k.to_le_bytes());
        }
        // Rows in vocabulary order, read back out of the slot-aligned table.
        let stride = self.bias.len() + 1;
        let rows: Vec<&[f32]> = self.packed.chunks_exact(stride).collect();
        for row in &rows {
            out.extend_from_slice(&row[0].to_le_bytes());
        }
        for row in &rows {
            for w in &row[1..] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        out
    }

    /// Inverse of [`Model::to_bytes`]; rejects truncated or foreign files.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, TextError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8)? != MAGIC {
            return Err(TextError::BadModel(
                "not a jiesu text model (bad magic)".into(),
            ));
        }
        let format = u32::from_le_bytes(r.array()?);
        if format != FORMAT {
            return Err(TextError::BadModel(format!("unsupported format {format}")));
        }
        let header_len = r.len_field()?;
        let header: Header = serde_json::from_slice(r.take(header_len)?)
            .map_err(|e| TextError::BadModel(format!("header: {e}")))?;
        let n_features = r.len_field()?;
        let n_labels = header.labels.len();
        if n_labels == 0 {
            return Err(TextError::BadModel("no labels".into()));
        }
        let expected = n_features
            .checked_mul(12 + 4 * n_labels)
            .and_then(|n| n.checked_add(4 * n_labels))
            .ok_or_else(|| TextError::BadModel("sizes overflow".into()))?;
        if r.remaining() != expected {
            return Err(TextError::BadModel(format!(
                "expected {expected} bytes of weights, found {}",
                r.remaining()
            )));
        }
        let keys: Vec<u64> = (0..n_features)
            .map(|_| r.array().map(u64::from_le_bytes))
            .collect::<Result<_, _>>()?;
        let mut floats = |n: usize| -> Result<Vec<f32>, TextError> {
            (0..n).map(|_| r.array().map(f32::from_le_bytes)).collect()
        };
        let idf = floats(n_features)?;
        let weights = floats(n_features * n_labels)?;
        let bias = floats(n_labels)?;
        if keys.windows(2).any(|w| w[0] >= w[1]) || keys.first() == Some(&0) {
            return Err(TextError::BadModel(
                "feature keys are not sorted and unique".into(),
            ));
        }
        let segmenter = Segmenter::with_dictionary(
            header.config.features.dictionary,
            header.config.extra_words.iter().cloned(),
        );
        let table = FeatureTable::new(&keys);
        let packed = pack(&idf, &weights, n_labels);
        Ok(Model {
            header,
            segmenter,
            keys,
            table,
            packed,
            bias,
            train_seconds: None,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), TextError> {
        // Write beside the target, then rename: a crash never leaves a half-written model.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_bytes()).map_err(|e| TextError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| TextError::io(path, e))
    }

    pub fn load(path: &Path) -> Result<Model, TextError> {
        let bytes = std::fs::read(path).map_err(|e| TextError::io(path, e))?;
        Model::from_bytes(&bytes)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TextError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| TextError::BadModel("file is truncated".into()))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TextError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn len_field(&mut self) -> Result<usize, TextError> {
        usize::try_from(u64::from_le_bytes(self.array()?))
            .map_err(|_| TextError::BadModel("length does not fit".into()))
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_df_scales_down_for_small_corpora() {
        assert_eq!(effective_min_df(10, 0), 1);
        assert_eq!(effective_min_df(10, 300), 1);
        assert_eq!(effective_min_df(10, 4_000), 5);
        assert_eq!(effective_min_df(10, 8_283), 10);
        assert_eq!(effective_min_df(10, 10_000_000), 10);
        assert_eq!(effective_min_df(0, 10_000), 0);
    }

    #[test]
    fn models_saved_before_the_hmm_option_keep_it_on() {
        let mut value = serde_json::to_value(FeatureConfig::default()).unwrap();
        value.as_object_mut().unwrap().remove("hmm");
        let old: FeatureConfig = serde_json::from_value(value).unwrap();
        assert!(old.hmm);
        assert!(!FeatureConfig::default().hmm);
    }

    #[test]
    fn radix_sort_matches_comparison_sort() {
        let mut rng = Rng::new(7);
        for (len, bound) in [
            (0, 10),
            (5, 10),
            (300, 1 << 9),
            (1500, 700_000),
            (4000, u32::MAX),
        ] {
            let mut ids: Vec<u32> = (0..len)
                .map(|_| (rng.next() % u64::from(bound)) as u32)
                .collect();
            let mut expected = ids.clone();
            expected.sort_unstable();
            sort_ids(&mut ids);
            assert_eq!(ids, expected, "len {len}");
        }
    }

    #[test]
    fn sublinear_tf_table_is_exact() {
        for n in 1..40usize {
            assert_eq!(sublinear_tf(n), 1.0 + (n as f32).ln());
        }
    }
}
