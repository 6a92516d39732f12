//! Classifier benchmark on the 2020 泰迪杯 messages; prints JSON.
//!
//! `cargo run --release -p jiesu-text --example classify_bench -- --data /work/shared/data/tipdm2020`
//! `[--no-sklearn] [--set key=json]… [--speed-only] [--passes N] [--predictions OUT.tsv]`
//!
//! 5-fold stratified cross-validation over the raw messages (de-duplicated by normalised text);
//! each fold trains on the other four raw folds plus every tokenised message that is not a
//! near-copy of a test message. The same folds go to `bench/sklearn_yardstick.py`
//! (word 1–2 + char 1–3 TF-IDF + LinearSVC) unless `--no-sklearn`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use jiesu_text::{InputKind, Model, Segmenter, TrainConfig, eval_as, normalize, read_labelled_csv};
use serde_json::{Value, json};

const FOLDS: usize = 5;
const SEED: u64 = 20200;
/// Jaccard similarity of word sets above which a tokenised message counts as a copy of a raw one.
const COPY_JACCARD: f64 = 0.6;

struct Args {
    data: PathBuf,
    sklearn: bool,
    python: String,
    /// `features.char_ngram_max=4`-style overrides of the training config, for experiments.
    overrides: Vec<String>,
    /// Diagnostic only: keep tokenised copies of test messages in training (leaks the test).
    keep_copies: bool,
    /// Skip cross-validation: train the full model, time prediction over the raw file in
    /// `--passes` passes and print the median (for profiling the hot path).
    speed_only: bool,
    passes: usize,
    /// Write the full model's prediction for every raw message here (one `label\tconfidence`
    /// per line), to check that an optimisation leaves the outputs unchanged.
    predictions: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        data: PathBuf::from("/work/shared/data/tipdm2020"),
        sklearn: true,
        python: "python3".into(),
        overrides: Vec::new(),
        keep_copies: false,
        speed_only: false,
        passes: 3,
        predictions: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => args.data = it.next().ok_or("--data needs a folder")?.into(),
            "--python" => args.python = it.next().ok_or("--python needs a path")?,
            "--no-sklearn" => args.sklearn = false,
            "--keep-copies" => args.keep_copies = true,
            "--speed-only" => args.speed_only = true,
            "--passes" => {
                args.passes = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--passes needs a positive count")?
            }
            "--predictions" => {
                args.predictions = Some(it.next().ok_or("--predictions needs a file")?.into())
            }
            "--set" => args
                .overrides
                .push(it.next().ok_or("--set needs key=json")?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Keep the first of each normalised text (the README asks for this before splitting).
fn dedupe(rows: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    rows.into_iter()
        .filter(|(t, _)| seen.insert(normalize(t).replace(' ', "")))
        .collect()
}

fn word_set<'a>(words: impl Iterator<Item = &'a str>) -> HashSet<String> {
    words
        .filter(|w| w.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
        .map(str::to_string)
        .collect()
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// For each tokenised row, the raw rows it copies (Jaccard of word sets ≥ COPY_JACCARD).
/// Candidates come from the row's rarest words, so this stays far from all-pairs.
fn copies(raw_words: &[HashSet<String>], token_words: &[HashSet<String>]) -> Vec<Vec<usize>> {
    let mut postings: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, set) in raw_words.iter().enumerate() {
        for w in set {
            postings.entry(w.as_str()).or_default().push(i);
        }
    }
    token_words
        .iter()
        .map(|set| {
            let mut words: Vec<&str> = set.iter().map(String::as_str).collect();
            words.sort_by_key(|w| (postings.get(w).map_or(0, Vec::len), *w));
            let mut candidates: HashSet<usize> = HashSet::new();
            for w in words.iter().filter(|w| postings.contains_key(*w)).take(4) {
                candidates.extend(postings[*w].iter().copied());
            }
            let mut hit: Vec<usize> = candidates
                .into_iter()
                .filter(|&r| jaccard(set, &raw_words[r]) >= COPY_JACCARD)
                .collect();
            hit.sort_unstable();
            hit
        })
        .collect()
}

fn stratified_folds(labels: &[String]) -> Vec<usize> {
    let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_label.entry(l).or_default().push(i);
    }
    let mut names: Vec<&str> = by_label.keys().copied().collect();
    names.sort();
    let mut fold = vec![0; labels.len()];
    let mut state = SEED;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut offset = 0;
    for name in names {
        let members = &mut by_label
            .get_mut(name)
            .map(std::mem::take)
            .unwrap_or_default();
        for i in (1..members.len()).rev() {
            members.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        for (k, &i) in members.iter().enumerate() {
            fold[i] = (k + offset) % FOLDS;
        }
        offset += members.len();
    }
    fold
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("classify_bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let raw_path = args.data.join("messages_labeled.csv");
    let tok_path = args.data.join("messages_tokens_labeled.csv");
    let (raw_all, _) = read_labelled_csv(&raw_path, "text", "label")?;
    let (tok_all, _) = read_labelled_csv(&tok_path, "tokens", "label")?;
    let (raw_rows, tok_rows) = (raw_all.len(), tok_all.len());
    let raw = dedupe(raw_all);
    let tokens = dedupe(tok_all);
    if args.speed_only {
        return speed_only(&args, &raw, &tokens);
    }

    let segmenter = Segmenter::default();
    let raw_segmented: Vec<Vec<String>> = raw
        .iter()
        .map(|(t, _)| {
            segmenter
                .cut(&normalize(t))
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    let raw_words: Vec<HashSet<String>> = raw_segmented
        .iter()
        .map(|w| word_set(w.iter().map(String::as_str)))
        .collect();
    let token_words: Vec<HashSet<String>> = tokens
        .iter()
        .map(|(t, _)| word_set(t.split_whitespace()))
        .collect();
    let copied = if args.keep_copies {
        vec![Vec::new(); tokens.len()]
    } else {
        copies(&raw_words, &token_words)
    };

    let labels: Vec<String> = raw.iter().map(|(_, l)| l.clone()).collect();
    let fold = stratified_folds(&labels);
    let cfg = configure(&args.overrides)?;
    let started = thread_cpu_seconds();
    let mut words = 0;
    for (t, _) in &raw {
        words += segmenter.cut(&normalize(t)).len();
    }
    let segment_per_sec = thread_cpu_seconds()
        .zip(started)
        .map_or(0.0, |(end, start)| raw.len() as f64 / (end - start));
    eprintln!("segmentation alone: {segment_per_sec:.0} texts/s ({words} words)");

    // Shared fold file for the yardstick: raw rows carry their fold, tokenised rows the folds
    // whose training set must leave them out.
    let fold_file = std::env::temp_dir().join(format!("jiesu_folds_{}.csv", std::process::id()));
    {
        let mut out = String::from("kind,fold,exclude_folds,label,text,words\n");
        for (i, (t, l)) in raw.iter().enumerate() {
            out += &format!(
                "raw,{},,{},{},{}\n",
                fold[i],
                csv_field(l),
                csv_field(t),
                csv_field(&raw_segmented[i].join(" "))
            );
        }
        for (j, (t, l)) in tokens.iter().enumerate() {
            let mut ex: Vec<String> = copied[j].iter().map(|&r| fold[r].to_string()).collect();
            ex.sort();
            ex.dedup();
            out += &format!(
                "tokens,-1,{},{},{},{}\n",
                ex.join(" "),
                csv_field(l),
                csv_field(t),
                csv_field(t)
            );
        }
        std::fs::write(&fold_file, out)?;
    }

    let mut fold_reports = Vec::new();
    let (mut f1s, mut accs, mut secs, mut speeds) = (vec![], vec![], vec![], vec![]);
    for k in 0..FOLDS {
        let mut train: Vec<(String, String)> = Vec::new();
        let mut test: Vec<(String, String)> = Vec::new();
        for (i, row) in raw.iter().enumerate() {
            if fold[i] == k {
                test.push(row.clone());
            } else {
                train.push(row.clone());
            }
        }
        let mut excluded = 0;
        for (j, row) in tokens.iter().enumerate() {
            if copied[j].iter().any(|&r| fold[r] == k) {
                excluded += 1;
            } else {
                train.push(row.clone());
            }
        }
        let started = Instant::now();
        let model = Model::train(&train, &cfg)?;
        let train_seconds = started.elapsed().as_secs_f64();
        let report = eval_as(&model, &test, InputKind::Auto);
        f1s.push(report.macro_f1);
        accs.push(report.accuracy);
        secs.push(train_seconds);
        speeds.push(report.texts_per_sec);
        fold_reports.push(json!({
            "fold": k,
            "train": train.len(),
            "test": test.len(),
            "tokens_excluded_as_copies": excluded,
            "macro_f1": report.macro_f1,
            "accuracy": report.accuracy,
            "train_seconds": train_seconds,
            "texts_per_sec": report.texts_per_sec,
            "temperature": model.temperature(),
            "review_rate": report.review_rate,
            "accuracy_without_review": report.accuracy_without_review,
        }));
        eprintln!(
            "fold {k}: macro_f1 {:.4} acc {:.4} train {:.1}s",
            report.macro_f1, report.accuracy, train_seconds
        );
    }

    // Full model: every raw and tokenised message.
    let mut all: Vec<(String, String)> = raw.clone();
    all.extend(tokens.iter().cloned());
    let started = Instant::now();
    let model = Model::train(&all, &cfg)?;
    let full_train_seconds = started.elapsed().as_secs_f64();
    let model_bytes = model.to_bytes().len();
    let (raw_speed, raw_cpu_speed, predictions) = time_predictions(&model, &raw, args.passes);
    let checksum: usize = predictions.iter().map(|(l, _)| l.len()).sum();
    if let Some(path) = &args.predictions {
        write_predictions(path, &predictions)?;
    }

    let sklearn = if args.sklearn {
        run_sklearn(&args.python, &fold_file)
    } else {
        json!({"skipped": true})
    };
    if std::env::var_os("JIESU_KEEP_FOLDS").is_some() {
        eprintln!("fold file kept at {}", fold_file.display());
    } else {
        let _ = std::fs::remove_file(&fold_file);
    }

    let ours_f1 = mean(&f1s);
    let ratio = |ours: f64, key: &str| sklearn.get(key).and_then(Value::as_f64).map(|s| ours / s);
    let report = json!({
        "data": args.data,
        "raw_rows": raw_rows,
        "raw_unique": raw.len(),
        "token_rows": tok_rows,
        "token_unique": tokens.len(),
        "leaky_keep_copies": args.keep_copies,
        "token_rows_copying_a_raw_row": copied.iter().filter(|c| !c.is_empty()).count(),
        "config": cfg,
        "segmentation_texts_per_sec": segment_per_sec,
        "jiesu": {
            "folds": fold_reports,
            "mean_macro_f1": ours_f1,
            "mean_accuracy": mean(&accs),
            "mean_fold_train_seconds": mean(&secs),
            "mean_fold_texts_per_sec_one_thread": mean(&speeds),
            "full_train_examples": all.len(),
            "full_train_seconds": full_train_seconds,
            "full_model_bytes": model_bytes,
            "full_model_features": model.feature_count(),
            "full_model_texts_per_sec_one_thread_raw": raw_speed,
            // Medians over `--passes` passes (default 3) of predicting every raw message.
            // Texts per second of on-CPU time of the predicting thread: robust on a shared machine.
            "full_model_texts_per_cpu_sec_raw": raw_cpu_speed,
            "checksum": checksum,
        },
        "sklearn": sklearn,
        "comparison": {
            "macro_f1_difference": sklearn.get("mean_macro_f1").and_then(Value::as_f64).map(|s| ours_f1 - s),
            "train_speedup": ratio(mean(&secs), "mean_fit_seconds").map(|r| 1.0 / r),
            "inference_speedup": ratio(mean(&speeds), "mean_texts_per_sec"),
        },
        "targets": {
            "macro_f1_ge_0_94": ours_f1 >= 0.94,
            "full_train_lt_60s": full_train_seconds < 60.0,
            "inference_ge_10000_per_sec": raw_speed >= 10_000.0,
            "inference_ge_10000_per_cpu_sec": raw_cpu_speed.map(|s| s >= 10_000.0),
            "model_lt_50mb": model_bytes < 50 * 1024 * 1024,
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Predict every raw message `passes` times on this thread; median texts per wall second and
/// per on-CPU second, and the predictions of the last pass.
fn time_predictions(
    model: &Model,
    raw: &[(String, String)],
    passes: usize,
) -> (f64, Option<f64>, Vec<(String, f32)>) {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut predictions = Vec::new();
    for _ in 0..passes {
        predictions.clear();
        let started = Instant::now();
        let cpu_start = thread_cpu_seconds();
        for (t, _) in raw {
            let p = model.predict_as(t, InputKind::Raw);
            predictions.push((p.label, p.confidence));
        }
        wall.push(raw.len() as f64 / started.elapsed().as_secs_f64());
        if let Some(r) = thread_cpu_seconds()
            .zip(cpu_start)
            .map(|(end, start)| raw.len() as f64 / (end - start))
        {
            cpu.push(r);
        }
    }
    let median = |xs: &mut Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs.get(xs.len() / 2).copied()
    };
    (
        median(&mut wall).unwrap_or(0.0),
        median(&mut cpu),
        predictions,
    )
}

fn write_predictions(path: &Path, predictions: &[(String, f32)]) -> std::io::Result<()> {
    let mut out = String::new();
    for (label, confidence) in predictions {
        out += &format!("{label}\t{confidence:.6}\n");
    }
    std::fs::write(path, out)
}

fn speed_only(
    args: &Args,
    raw: &[(String, String)],
    tokens: &[(String, String)],
) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = configure(&args.overrides)?;
    let mut all: Vec<(String, String)> = raw.to_vec();
    all.extend(tokens.iter().cloned());
    let started = Instant::now();
    let model = Model::train(&all, &cfg)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let (wall, cpu, predictions) = time_predictions(&model, raw, args.passes);
    let segmenter = Segmenter::default();
    let mut segment_rates = Vec::new();
    for _ in 0..args.passes {
        let started = thread_cpu_seconds();
        let words: usize = raw
            .iter()
            .map(|(t, _)| segmenter.cut(&normalize(t)).len())
            .sum();
        std::hint::black_box(words);
        if let Some(r) = thread_cpu_seconds()
            .zip(started)
            .map(|(end, start)| raw.len() as f64 / (end - start))
        {
            segment_rates.push(r);
        }
    }
    segment_rates.sort_by(f64::total_cmp);
    if let Some(path) = &args.predictions {
        write_predictions(path, &predictions)?;
    }
    let report = json!({
        "raw_unique": raw.len(),
        "full_train_examples": all.len(),
        "full_train_seconds": train_seconds,
        "full_model_bytes": model.to_bytes().len(),
        "passes": args.passes,
        "median_texts_per_sec_one_thread_raw": wall,
        "median_texts_per_cpu_sec_raw": cpu,
        "median_normalize_and_segment_texts_per_cpu_sec": segment_rates.get(segment_rates.len() / 2),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// On-CPU time of the current thread (Linux schedstat, nanoseconds), if available.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn configure(overrides: &[String]) -> Result<TrainConfig, Box<dyn std::error::Error>> {
    let mut value = serde_json::to_value(TrainConfig::default())?;
    for o in overrides {
        let (path, v) = o.split_once('=').ok_or("override must be key=json")?;
        let mut slot = &mut value;
        for part in path.split('.') {
            slot = slot
                .get_mut(part)
                .ok_or_else(|| format!("no setting {path}"))?;
        }
        *slot = serde_json::from_str(v)?;
    }
    Ok(serde_json::from_value(value)?)
}

fn run_sklearn(python: &str, fold_file: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/sklearn_yardstick.py");
    match Command::new(python).arg(&script).arg(fold_file).output() {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| json!({"error": format!("bad JSON from yardstick: {e}")})),
        Ok(out) => json!({"error": String::from_utf8_lossy(&out.stderr).trim().to_string()}),
        Err(e) => json!({"error": format!("cannot run {python}: {e}")}),
    }
}
