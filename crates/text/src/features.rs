//! Hashed text features: word 1–2-grams (jieba or given tokens) and character n-grams.

use serde::{Deserialize, Serialize};

use crate::normalize::normalize;
use crate::segment::{Dictionary, Segmenter};

/// How a text arrives: raw Chinese, or already segmented into space-separated tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Decide per text (see [`looks_tokenised`]).
    #[default]
    Auto,
    Raw,
    Tokens,
}

/// Feature extraction settings; stored in the model so prediction extracts the same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Longest word n-gram (1 = unigrams only, 2 = + bigrams).
    pub word_ngram_max: usize,
    /// Character n-gram range, inclusive.
    pub char_ngram_min: usize,
    pub char_ngram_max: usize,
    /// Words shorter than this (in characters) are not word features. The token training file
    /// had single characters removed, so 2 keeps raw and tokenised texts alike.
    pub min_word_chars: usize,
    /// Relative weight of the (separately L2-normalised) word and character blocks.
    pub word_weight: f32,
    pub char_weight: f32,
    /// Build character n-grams only from the pieces kept as words (so raw texts lose the
    /// single-character function words the tokenised training data never had).
    pub chars_from_words: bool,
    /// The first this-many words (usually the title) also count as separate "head" features.
    pub head_words: usize,
    /// Map every ASCII digit to `0`: dates, amounts and masked numbers then share features.
    pub fold_digits: bool,
    /// Only the first `max_chars` characters are read, which bounds the cost of huge inputs.
    pub max_chars: usize,
    /// jieba's HMM guess at unknown words. Off (the default), an unknown run stays single
    /// characters, which the word block drops and the character n-grams still see: 0.1 point
    /// of macro-F1 for a faster segmenter. Models saved before the option existed had it on.
    #[serde(default = "hmm_on")]
    pub hmm: bool,
    /// The jieba dictionary the model segments with (models saved before: the full one).
    #[serde(default)]
    pub dictionary: Dictionary,
}

fn hmm_on() -> bool {
    true
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            word_ngram_max: 2,
            char_ngram_min: 1,
            char_ngram_max: 3,
            min_word_chars: 2,
            word_weight: 1.0,
            char_weight: 1.0,
            chars_from_words: false,
            head_words: 0,
            fold_digits: true,
            max_chars: 20_000,
            hmm: false,
            dictionary: Dictionary::Common,
        }
    }
}

/// Hashes of one text's features, per block (duplicates kept: they are term counts).
#[derive(Debug, Default, Clone)]
pub(crate) struct Extracted {
    pub words: Vec<u64>,
    pub chars: Vec<u64>,
}

/// True when a text looks like space-separated tokens rather than running Chinese:
/// several spaces and few characters per space (real messages have at most a handful).
pub fn looks_tokenised(text: &str) -> bool {
    let mut spaces = 0usize;
    let mut cjk = 0usize;
    for c in text.chars() {
        if c == ' ' {
            spaces += 1;
        } else if is_cjk(c) {
            cjk += 1;
        }
    }
    spaces >= 2 && cjk <= spaces * 5
}

/// Letter, digit or ideograph; ASCII and CJK answered without Unicode table lookups
/// (this runs for every character of every text).
#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        is_cjk(c) || c.is_alphanumeric()
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

const WORD_SEED: u64 = 0x5752_4431_0000_0001;
const BIGRAM_SEED: u64 = 0x5752_4432_0000_0002;
const HEAD_SEED: u64 = 0x4845_4144_0000_0004;
const CHAR_SEED: u64 = 0x4348_4152_0000_0003;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(MUL).rotate_left(29)
}

#[inline]
fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    // 0 marks an empty slot in the model's feature table.
    (h ^ (h >> 32)).max(1)
}

fn hash_word(word: &str, fold_digits: bool) -> u64 {
    let mut h = WORD_SEED;
    for c in word.chars() {
        let c = if fold_digits && c.is_ascii_digit() {
            '0'
        } else {
            c.to_ascii_lowercase()
        };
        h = mix(h, c as u64);
    }
    finish(h)
}

/// Truncate to `max_chars` characters without splitting one.
fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((byte, _)) => &text[..byte],
        None => text,
    }
}

/// Extract feature hashes from one text.
pub(crate) fn extract(
    text: &str,
    kind: InputKind,
    segmenter: &Segmenter,
    cfg: &FeatureConfig,
) -> Extracted {
    let text = normalize(truncate_chars(text, cfg.max_chars));
    let tokenised = match kind {
        InputKind::Tokens => true,
        InputKind::Raw => false,
        InputKind::Auto => looks_tokenised(&text),
    };
    let pieces: Vec<&str> = if tokenised {
        text.split(' ').filter(|w| !w.is_empty()).collect()
    } else {
        segmenter.cut_with(&text, cfg.hmm)
    };

    let mut out = Extracted::default();
    // Word features: only pieces with a letter, digit or ideograph count as words.
    let mut prev: Option<u64> = None;
    let mut kept: Vec<&str> = Vec::with_capacity(pieces.len());
    for piece in &pieces {
        let chars = piece.chars().filter(|c| is_word_char(*c)).count();
        if chars == 0 || chars < cfg.min_word_chars {
            continue;
        }
        kept.push(piece);
        let h = hash_word(piece, cfg.fold_digits);
        out.words.push(h);
        if kept.len() <= cfg.head_words {
            out.words.push(finish(mix(HEAD_SEED, h)));
        }
        if cfg.word_ngram_max >= 2
            && let Some(p) = prev
        {
            out.words.push(finish(mix(mix(BIGRAM_SEED, p), h)));
        }
        prev = Some(h);
    }

    // Character stream: letters, digits and ideographs of the whole text (tokens joined), so a
    // tokenised text and its raw original share most character n-grams.
    // The pieces cover every non-space character of the text (jieba emits them all, a token
    // split only drops spaces), so without `chars_from_words` the text itself is the stream.
    let fold = |c: char| {
        if cfg.fold_digits && c.is_ascii_digit() {
            '0' as u64
        } else {
            c.to_ascii_lowercase() as u64
        }
    };
    let stream: Vec<u64> = if cfg.chars_from_words {
        kept.iter()
            .flat_map(|p| p.chars())
            .filter(|c| is_word_char(*c))
            .map(fold)
            .collect()
    } else {
        text.chars()
            .filter(|c| is_word_char(*c))
            .map(fold)
            .collect()
    };
    let (lo, hi) = (cfg.char_ngram_min.max(1), cfg.char_ngram_max);
    out.chars
        .reserve(stream.len() * (hi + 1).saturating_sub(lo));
    for start in 0..stream.len() {
        let mut h = CHAR_SEED;
        for n in 1..=hi {
            let Some(&c) = stream.get(start + n - 1) else {
                break;
            };
            h = mix(h, c);
            if n >= lo {
                out.chars.push(finish(h ^ n as u64));
            }
        }
    }
    out
}
