//! Near-duplicate benchmark; prints JSON.
//!
//! `cargo run --release -p jiesu-text --example dedup_bench -- --data /work/shared/data/tipdm2020 [--server-distance 10]`
//!
//! Replays messages_with_votes.csv in time order: each message queries the index (30-day window,
//! same district when one is named) and is then inserted. Recall: share of the 55 known
//! duplicate groups whose every later member finds an earlier member. False merges: suggestions
//! pairing messages outside one known group (an upper bound: unknown duplicates count as false),
//! and the rate on pairs known to differ (members of two different known groups). Both at the
//! library default threshold and at the one the server uses.
//! Then 1,000,000 hashes are indexed and lookup latency is measured.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiesu_text::{DEFAULT_MAX_DISTANCE, DuplicateIndex, Segmenter, simhash};
use serde_json::json;

const WINDOW: i64 = 30 * 86_400;
/// The SimHash threshold the server's intake uses (crates/server/src/api/suggest.rs).
const SERVER_MAX_DISTANCE: u32 = 10;

fn main() {
    if let Err(e) = run() {
        eprintln!("dedup_bench: {e}");
        std::process::exit(1);
    }
}

/// Seconds since 1970 of `YYYY-MM-DD HH:MM:SS` (civil calendar, no zone needed for differences).
fn epoch_seconds(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once(' ')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':').map(|p| p.parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// First `A<digits>区/县` placeholder district named in the text, as the place key.
fn district(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        if chars[i] != 'A' {
            continue;
        }
        let digits = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 && matches!(chars.get(i + 1 + digits), Some('区') | Some('县')) {
            return chars[i..i + 2 + digits].iter().collect();
        }
    }
    String::new()
}

/// Replay the messages in time order at one threshold; recall and false-merge figures.
fn replay(
    messages: &[(u64, String, i64)],
    hashes: &[u64],
    group_of: &HashMap<u64, String>,
    segmenter: &Arc<Segmenter>,
    max_distance: u32,
) -> serde_json::Value {
    let mut index = DuplicateIndex::new(segmenter.clone(), max_distance);
    let mut group_ok: HashMap<String, bool> = HashMap::new();
    let mut seen_group: HashMap<String, usize> = HashMap::new();
    let (mut suggestions, mut false_suggestions, mut flagged_non_dups, mut non_dups) =
        (0usize, 0usize, 0usize, 0usize);
    let started = Instant::now();
    for (id, text, time) in messages {
        let place = district(text);
        let hits = index.query(text, &place, *time, WINDOW);
        let group = group_of.get(id);
        for (other, _) in &hits {
            suggestions += 1;
            if group.is_none() || group_of.get(other) != group {
                false_suggestions += 1;
            }
        }
        match group {
            Some(g) => {
                let earlier = seen_group.entry(g.clone()).or_insert(0);
                if *earlier > 0 {
                    let found = hits.iter().any(|(o, _)| group_of.get(o) == Some(g));
                    let ok = group_ok.entry(g.clone()).or_insert(true);
                    *ok &= found;
                }
                *earlier += 1;
            }
            None => {
                non_dups += 1;
                if !hits.is_empty() {
                    flagged_non_dups += 1;
                }
            }
        }
        index.insert(*id, text, &place, *time);
    }
    let replay_seconds = started.elapsed().as_secs_f64();
    let groups_total = group_ok.len();
    let groups_found = group_ok.values().filter(|ok| **ok).count();

    // Pairs known to differ: members of two different known duplicate groups. How many of
    // them the index would suggest (same place, within the window, SimHash within the
    // threshold), and how many the text alone would (distance only).
    let members: Vec<usize> = (0..messages.len())
        .filter(|&i| group_of.contains_key(&messages[i].0))
        .collect();
    let (mut pairs, mut text_close, mut suggested_pairs, mut gated_pairs) = (0usize, 0, 0, 0);
    for (a, &i) in members.iter().enumerate() {
        for &j in &members[a + 1..] {
            if group_of[&messages[i].0] == group_of[&messages[j].0] {
                continue;
            }
            pairs += 1;
            let close = (hashes[i] ^ hashes[j]).count_ones() <= max_distance;
            let gated = district(&messages[i].1) == district(&messages[j].1)
                && (messages[i].2 - messages[j].2).abs() <= WINDOW;
            text_close += usize::from(close);
            gated_pairs += usize::from(gated);
            suggested_pairs += usize::from(close && gated);
        }
    }
    json!({
        "max_distance": max_distance,
        "known_groups": groups_total,
        "groups_recalled": groups_found,
        "group_recall": groups_found as f64 / groups_total.max(1) as f64,
        "suggestions": suggestions,
        "suggestions_outside_known_groups": false_suggestions,
        // Upper bound: a suggestion involving a message outside every known group counts as false.
        "false_merge_suggestion_rate_upper_bound": false_suggestions as f64 / suggestions.max(1) as f64,
        "non_duplicate_messages": non_dups,
        "non_duplicates_with_a_suggestion_rate": flagged_non_dups as f64 / non_dups.max(1) as f64,
        "known_different_pairs": {
            "pairs": pairs,
            "same_place_within_window": gated_pairs,
            "suggested": suggested_pairs,
            "false_merge_suggestion_rate": suggested_pairs as f64 / pairs.max(1) as f64,
            "false_merge_suggestion_rate_same_place_window": suggested_pairs as f64 / gated_pairs.max(1) as f64,
            "simhash_within_threshold_ignoring_place_and_time": text_close,
        },
        "replay_seconds": replay_seconds,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut data = PathBuf::from("/work/shared/data/tipdm2020");
    let mut server_distance = SERVER_MAX_DISTANCE;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data" => data = args.next().ok_or("--data needs a folder")?.into(),
            "--server-distance" => {
                server_distance = args
                    .next()
                    .and_then(|d| d.parse().ok())
                    .ok_or("--server-distance needs a number of bits")?
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut reader = csv::Reader::from_path(data.join("messages_with_votes.csv"))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column {name}"))
    };
    let (id_at, title_at, time_at, detail_at) = (
        col("留言编号")?,
        col("留言主题")?,
        col("留言时间_iso")?,
        col("留言详情")?,
    );
    let mut messages: Vec<(u64, String, i64)> = Vec::new();
    for record in reader.records() {
        let record = record?;
        let (Some(id), Some(time)) = (
            record.get(id_at).and_then(|v| v.trim().parse::<u64>().ok()),
            record.get(time_at).and_then(epoch_seconds),
        ) else {
            continue;
        };
        let text = format!(
            "{} {}",
            record.get(title_at).unwrap_or(""),
            record.get(detail_at).unwrap_or("")
        );
        messages.push((id, text, time));
    }
    messages.sort_by_key(|m| (m.2, m.0));

    let mut group_of: HashMap<u64, String> = HashMap::new();
    let mut groups = csv::Reader::from_path(data.join("duplicate_groups.csv"))?;
    for record in groups.records() {
        let record = record?;
        if let (Some(g), Some(id)) = (
            record.get(0),
            record.get(1).and_then(|v| v.trim().parse().ok()),
        ) {
            group_of.insert(id, g.to_string());
        }
    }

    let segmenter = Arc::new(Segmenter::default());
    let hashes: Vec<u64> = messages.iter().map(|m| simhash(&segmenter, &m.1)).collect();
    // The library default and the threshold the server uses (`DUPLICATE_MAX_DISTANCE` in
    // crates/server/src/api/suggest.rs; pass `--server-distance N` if it changes).
    let mut distances = vec![DEFAULT_MAX_DISTANCE, server_distance];
    distances.dedup();
    let replays: Vec<serde_json::Value> = distances
        .iter()
        .map(|&d| replay(&messages, &hashes, &group_of, &segmenter, d))
        .collect();

    // Scale test: one million hashes near the real ones (each a real SimHash with a few bits
    // flipped, so buckets are as lumpy as real text makes them), spread over 15 places and a year.
    let real = &hashes;
    let mut big = DuplicateIndex::new(segmenter.clone(), server_distance);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let places: Vec<String> = (0..15).map(|i| format!("street-{i}")).collect();
    let started = Instant::now();
    for i in 0..1_000_000u64 {
        let base = real[(next() % real.len() as u64) as usize];
        let flips = (0..(next() % 12)).fold(0u64, |m, _| m | 1 << (next() % 64));
        let place = &places[(next() % 15) as usize];
        big.insert_hash(i, base ^ flips, place, (next() % (365 * 86_400)) as i64);
    }
    let build_seconds = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = Vec::new();
    let mut returned = 0usize;
    for q in 0..10_000usize {
        let hash = real[q % real.len()];
        let place = &places[q % 15];
        let t = Instant::now();
        returned += big.query_hash(hash, place, 180 * 86_400, WINDOW).len();
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let started = Instant::now();
    for m in messages.iter().take(2000) {
        std::hint::black_box(simhash(&segmenter, &m.1));
    }
    let simhash_ms = started.elapsed().as_secs_f64() * 1000.0 / 2000.0;

    let report = json!({
        "messages": messages.len(),
        "window_days": WINDOW / 86_400,
        "server_max_distance": server_distance,
        "replays": replays,
        "scale": {
            "indexed": big.len(),
            "build_seconds": build_seconds,
            "queries": latencies.len(),
            "mean_results": returned as f64 / latencies.len() as f64,
            "lookup_ms_p50": percentile(&latencies, 0.5),
            "lookup_ms_p99": percentile(&latencies, 0.99),
            "simhash_ms_per_text": simhash_ms,
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
