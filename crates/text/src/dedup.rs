//! Near-duplicate index (并单 candidates): 64-bit SimHash over segmented words, looked up by
//! banding. Splitting the 64 bits into `k + 1` bands guarantees that any stored hash within
//! Hamming distance `k` shares at least one whole band with the query (pigeonhole).

use std::collections::HashMap;
use std::sync::Arc;

use crate::normalize::normalize;
use crate::segment::Segmenter;

/// 64-bit FNV-1a; words are short, so a simple byte hash is enough.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Final avalanche: FNV's high bits are weak for short inputs and SimHash uses every bit.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// SimHash of a text: words (2+ characters, from jieba) and character trigrams, each voting
/// with weight 1 per occurrence. Trigrams keep short texts stable under small edits (a word
/// bigram changes with every inserted word); near-identical texts land a few bits apart.
pub fn simhash(segmenter: &Segmenter, text: &str) -> u64 {
    let text = normalize(text);
    let words: Vec<&str> = segmenter
        .cut(&text)
        .into_iter()
        .filter(|w| w.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
        .collect();
    let mut votes = [0i32; 64];
    let mut vote = |h: u64| {
        for (bit, v) in votes.iter_mut().enumerate() {
            *v += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    };
    for w in &words {
        vote(fnv1a(w.as_bytes()));
    }
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut buf = [0u8; 12];
    for gram in chars.windows(3) {
        let mut len = 0;
        for c in gram {
            len += c.encode_utf8(&mut buf[len..]).len();
        }
        vote(fnv1a(&buf[..len]));
    }
    votes.iter().enumerate().fold(
        0u64,
        |acc, (bit, v)| if *v > 0 { acc | 1 << bit } else { acc },
    )
}

struct Entry {
    id: u64,
    hash: u64,
    place: u64,
    time: i64,
}

/// SimHash index of earlier requests.
pub struct DuplicateIndex {
    segmenter: Arc<Segmenter>,
    max_distance: u32,
    /// (start bit, width) of each band.
    bands: Vec<(u32, u32)>,
    entries: Vec<Entry>,
    /// One table per band: band value → entry positions.
    tables: Vec<HashMap<u64, Vec<u32>>>,
}

impl std::fmt::Debug for DuplicateIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuplicateIndex")
            .field("entries", &self.entries.len())
            .field("max_distance", &self.max_distance)
            .finish()
    }
}

/// Default Hamming radius: reworded copies of a complaint land within about 6 of 64 bits,
/// unrelated texts near 32.
/// Entries examined per band bucket in one query (newest first); bounds lookup time when many
/// near-identical requests pile up in one place.
pub const MAX_SCAN_PER_BAND: usize = 512;

pub const DEFAULT_MAX_DISTANCE: u32 = 6;

fn place_hash(place_key: &str) -> u64 {
    let key = place_key.trim();
    if key.is_empty() {
        0
    } else {
        fnv1a(key.as_bytes()) | 1
    }
}

impl DuplicateIndex {
    /// Empty index returning candidates within `max_distance` bits (clamped to 0..=15).
    pub fn new(segmenter: Arc<Segmenter>, max_distance: u32) -> Self {
        let max_distance = max_distance.min(15);
        let n = max_distance + 1;
        let bands = (0..n)
            .map(|i| {
                let start = 64 * i / n;
                (start, 64 * (i + 1) / n - start)
            })
            .collect();
        DuplicateIndex {
            segmenter,
            max_distance,
            bands,
            entries: Vec::new(),
            tables: (0..n).map(|_| HashMap::new()).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn band_value(&self, band: usize, hash: u64) -> u64 {
        let (start, width) = self.bands[band];
        (hash >> start) & ((1u64 << width) - 1)
    }

    /// Add a request. `place_key` is the street/community (empty = unknown place);
    /// `time` is in any unit as long as queries use the same one.
    pub fn insert(&mut self, id: u64, text: &str, place_key: &str, time: i64) {
        let hash = simhash(&self.segmenter, text);
        self.insert_hash(id, hash, place_key, time);
    }

    /// Add a request whose SimHash is already known (e.g. stored in the database).
    pub fn insert_hash(&mut self, id: u64, hash: u64, place_key: &str, time: i64) {
        let Ok(position) = u32::try_from(self.entries.len()) else {
            return; // beyond 4 billion entries; the caller should shard
        };
        for band in 0..self.bands.len() {
            let value = self.band_value(band, hash);
            self.tables[band].entry(value).or_default().push(position);
        }
        self.entries.push(Entry {
            id,
            hash,
            place: place_hash(place_key),
            time,
        });
    }

    /// Earlier requests similar to `text` at the same place (an unknown place on either side
    /// matches any) within `window` of `time`: `(id, similarity)` with similarity
    /// `1 - distance/64`, most similar first.
    pub fn query(&self, text: &str, place_key: &str, time: i64, window: i64) -> Vec<(u64, f32)> {
        self.query_hash(simhash(&self.segmenter, text), place_key, time, window)
    }

    pub fn query_hash(
        &self,
        hash: u64,
        place_key: &str,
        time: i64,
        window: i64,
    ) -> Vec<(u64, f32)> {
        let place = place_hash(place_key);
        let mut seen: Vec<u32> = Vec::new();
        let mut found: Vec<(u64, u32)> = Vec::new();
        for band in 0..self.bands.len() {
            let Some(bucket) = self.tables[band].get(&self.band_value(band, hash)) else {
                continue;
            };
            // Newest first, and only so many: a hot topic (hundreds of calls about one outage)
            // fills one bucket, and the newest repeats are the ones an operator needs.
            for &position in bucket.iter().rev().take(MAX_SCAN_PER_BAND) {
                let entry = &self.entries[position as usize];
                let distance = (entry.hash ^ hash).count_ones();
                if distance > self.max_distance
                    || (place != 0 && entry.place != 0 && place != entry.place)
                    || entry.time.abs_diff(time) > window.unsigned_abs()
                {
                    continue;
                }
                seen.push(position);
                found.push((entry.id, distance));
            }
        }
        // The same entry can share several bands with the query.
        let mut pairs: Vec<(u32, u64, u32)> = seen
            .into_iter()
            .zip(found)
            .map(|(p, (id, d))| (p, id, d))
            .collect();
        pairs.sort_unstable_by_key(|&(p, _, _)| p);
        pairs.dedup_by_key(|&mut (p, _, _)| p);
        pairs.sort_by_key(|&(p, _, d)| (d, std::cmp::Reverse(p)));
        pairs
            .into_iter()
            .map(|(_, id, d)| (id, 1.0 - d as f32 / 64.0))
            .collect()
    }
}
