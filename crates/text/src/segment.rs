//! Word segmentation: jieba with a civic lexicon (street, community, unit names …).

use std::io::BufRead;
use std::path::Path;

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};

use crate::TextError;

/// Frequency given to lexicon words: high enough that jieba keeps `什刹海街道` whole
/// instead of splitting it into dictionary words.
const LEXICON_FREQ: usize = 50_000;

/// Which jieba dictionary a segmenter starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dictionary {
    /// jieba's full dictionary (349,045 words).
    #[default]
    Full,
    /// Its words of frequency 5 or more (136,547; `data/jieba_common.txt`): a smaller trie,
    /// so a faster segmenter, for the classifier.
    Common,
}

/// jieba's dictionary without its rarest words (see `data/README.md`).
const COMMON_DICT: &str = include_str!("../data/jieba_common.txt");

/// jieba segmenter plus the extra words it was given (kept so a saved model can rebuild it).
pub struct Segmenter {
    jieba: Jieba,
    extra_words: Vec<String>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("extra_words", &self.extra_words.len())
            .finish()
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new(Vec::<String>::new())
    }
}

impl Segmenter {
    /// Default jieba dictionary plus `extra_words` (blank entries are ignored).
    pub fn new(extra_words: impl IntoIterator<Item = String>) -> Self {
        Self::with_dictionary(Dictionary::Full, extra_words)
    }

    /// `dictionary` plus `extra_words` (blank entries are ignored).
    pub fn with_dictionary(
        dictionary: Dictionary,
        extra_words: impl IntoIterator<Item = String>,
    ) -> Self {
        let jieba = match dictionary {
            Dictionary::Full => Jieba::new(),
            // The file is compiled in and tested to load; an error here is a build defect.
            Dictionary::Common => Jieba::with_dict(&mut COMMON_DICT.as_bytes())
                .expect("data/jieba_common.txt is a valid jieba dictionary"),
        };
        let mut segmenter = Segmenter {
            jieba,
            extra_words: Vec::new(),
        };
        for word in extra_words {
            segmenter.add_word(&word);
        }
        segmenter
    }

    /// Add one word to the lexicon; returns false for blank input.
    pub fn add_word(&mut self, word: &str) -> bool {
        let word = word.trim();
        if word.is_empty() || word.chars().any(char::is_whitespace) {
            return false;
        }
        self.jieba.add_word(word, Some(LEXICON_FREQ), None);
        self.extra_words.push(word.to_string());
        true
    }

    /// Add words from a UTF-8 file, one per line (`word [freq [tag]]` as in jieba dictionaries;
    /// only the word is used). Blank lines and lines starting with `#` are skipped.
    /// Returns how many words were added.
    pub fn add_words_from_file(&mut self, path: &Path) -> Result<usize, TextError> {
        let file = std::fs::File::open(path).map_err(|e| TextError::io(path, e))?;
        let mut added = 0;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| TextError::io(path, e))?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(word) = line.split_whitespace().next()
                && self.add_word(word)
            {
                added += 1;
            }
        }
        Ok(added)
    }

    /// The words added on top of jieba's dictionary, in insertion order.
    pub fn extra_words(&self) -> &[String] {
        &self.extra_words
    }

    /// Segment `text` into words (HMM on for unknown words), dropping whitespace-only pieces.
    pub fn cut<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.cut_with(text, true)
    }

    /// Segment with jieba's HMM for unknown words on or off (off is several times faster).
    pub fn cut_with<'a>(&self, text: &'a str, hmm: bool) -> Vec<&'a str> {
        self.jieba
            .cut(text, hmm)
            .into_iter()
            .map(|token| token.word)
            .filter(|w| !w.chars().all(char::is_whitespace))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dictionary_loads_and_segments_like_the_full_one_on_common_words() {
        let full = Segmenter::new(["什刹海街道".to_string()]);
        let common = Segmenter::with_dictionary(Dictionary::Common, ["什刹海街道".to_string()]);
        let text = "什刹海街道的小区楼道堆满杂物，物业不清理";
        assert_eq!(full.cut_with(text, false), common.cut_with(text, false));
        assert!(common.cut_with(text, false).contains(&"什刹海街道"));
        assert_eq!(COMMON_DICT.lines().count(), 136_547);
    }
}
