//! Full-text search of requests: a tantivy index with jieba tokenisation over title, text and
//! address, keyed by request id.
//!
//! The index is a cache of the database: [`SearchIndex::upsert`] replaces a request's document
//! (delete by id term, then add), and `jiesu reindex` rebuilds it from the store. Queries are
//! built programmatically from the tokenizer's tokens, never by tantivy's query parser, so any user
//! input (syntax characters, empty, very long) is a plain query and never an error.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenStream,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Name under which the jieba analyzer is registered with the index.
const TOKENIZER: &str = "jieba_civic";
/// Name of the analyzer of the `chars` field (one token per letter, digit or 汉字).
const CHARS_TOKENIZER: &str = "chars";
/// Writer heap: tantivy needs at least 15 MB; 64 MB keeps segment flushes rare during a rebuild.
const WRITER_HEAP: usize = 64_000_000;
/// A query longer than this is cut (at a char boundary): nobody types 10 KB on purpose, and
/// tokenising it all would cost time for no better answer.
const MAX_QUERY_BYTES: usize = 512;
/// At most this many distinct tokens take part in a query, for the same reason.
const MAX_QUERY_TOKENS: usize = 32;

/// Errors of the search index (opening, writing, committing, reading).
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError(e.to_string())
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        SearchError(e.to_string())
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    received_at: Field,
    status: Field,
    street: Field,
    unit: Field,
    title: Field,
    text: Field,
    address: Field,
    /// Title, text and address one character per token: a word jieba cuts differently in the
    /// text and in the query (路灯不亮 → 路 / 灯不亮, 路灯 → 路灯) is still found as a
    /// character phrase, as a substring match would.
    chars: Field,
}

/// A full-text index of requests; cheap to share behind an `Arc` (writes take an internal lock).
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Cuts queries (default mode; documents are cut by the analyzer registered with the index).
    query_analyzer: TextAnalyzer,
    /// Set by writes, cleared by [`SearchIndex::commit`]; lets a timer commit only when needed.
    dirty: AtomicBool,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let chinese = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        // Indexed for delete-by-term, fast to read the id of a hit without loading the document.
        id: b.add_i64_field("id", INDEXED | FAST | STORED),
        received_at: b.add_i64_field("received_at", INDEXED | FAST | STORED),
        status: b.add_text_field("status", STRING | STORED),
        street: b.add_text_field("street", STRING | STORED),
        unit: b.add_text_field("unit", STRING | STORED),
        title: b.add_text_field("title", chinese.clone()),
        text: b.add_text_field("text", chinese.clone()),
        address: b.add_text_field("address", chinese),
        chars: b.add_text_field(
            "chars",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(CHARS_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
    };
    (b.build(), fields)
}

/// `search_mode`: documents are cut in search mode, which adds the sub-words of long words
/// (中华人民共和国 → 中华, 华人, …) at their own positions, so a query for part of a compound
/// still finds it; queries are cut in default mode (longest words) and matched as phrases.
/// Positions are jieba's character offsets, the same in both modes.
///
/// HMM is off: it guesses new words from context, so the same phrase is cut differently in a
/// long text and in a short query (路灯不亮 → 路 / 灯不亮 with HMM), and the query misses.
fn analyzer(search_mode: bool) -> TextAnalyzer {
    let mut jieba = tantivy_jieba::JiebaTokenizer::with_search_mode(search_mode);
    jieba.set_hmm(false);
    TextAnalyzer::builder(jieba)
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build()
}

/// `text` with a space after each letter, digit or 汉字 and punctuation turned into spaces, so
/// the simple tokenizer yields one character per token at consecutive positions.
fn spaced_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        }
        out.push(' ');
    }
    out
}

/// Whether a token carries meaning (jieba also emits whitespace and punctuation as tokens).
fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index if needed.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        Self::with_index(index, fields)
    }

    /// An index held in memory (the server's default when no `--index` directory is given).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        index.tokenizers().register(TOKENIZER, analyzer(true));
        index.tokenizers().register(
            CHARS_TOKENIZER,
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .build(),
        );
        let writer = index.writer(WRITER_HEAP)?;
        // Reloads are explicit after each commit so a search sees a commit at once.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            query_analyzer: analyzer(false),
            dirty: AtomicBool::new(false),
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the lock leaves the writer usable (its state is tantivy's own),
        // so a poisoned lock is recovered rather than propagated.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces the document of request `id`; visible to searches after [`Self::commit`].
    #[allow(clippy::too_many_arguments)]
    pub fn upsert(
        &self,
        id: i64,
        received_at_ms: i64,
        status: &str,
        street: Option<&str>,
        unit: Option<&str>,
        title: Option<&str>,
        text: &str,
        address: Option<&str>,
    ) -> Result<(), SearchError> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.id, id);
        doc.add_i64(f.received_at, received_at_ms);
        doc.add_text(f.status, status);
        if let Some(s) = street {
            doc.add_text(f.street, s);
        }
        if let Some(u) = unit {
            doc.add_text(f.unit, u);
        }
        if let Some(t) = title {
            doc.add_text(f.title, t);
            doc.add_text(f.chars, spaced_chars(t));
        }
        doc.add_text(f.text, text);
        doc.add_text(f.chars, spaced_chars(text));
        if let Some(a) = address {
            doc.add_text(f.address, a);
            doc.add_text(f.chars, spaced_chars(a));
        }
        let writer = self.writer();
        writer.delete_term(Term::from_field_i64(f.id, id));
        writer.add_document(doc)?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether there are writes not yet committed.
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// Makes the writes so far durable and visible. Expensive: batch writes and commit on a timer.
    pub fn commit(&self) -> Result<(), SearchError> {
        let mut writer = self.writer();
        self.dirty.store(false, Ordering::Release);
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Removes every document (before a rebuild); takes effect at the next commit.
    pub fn clear(&self) -> Result<(), SearchError> {
        self.writer().delete_all_documents()?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Number of committed documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Meaningful tokens of one query word with their positions (jieba character offsets);
    /// punctuation is dropped but keeps its place, so the remaining tokens keep their spacing.
    fn tokens(&self, word: &str) -> Vec<(usize, String)> {
        let mut analyzer = self.query_analyzer.clone();
        let mut stream = analyzer.token_stream(word);
        let mut out: Vec<(usize, String)> = Vec::new();
        while stream.advance() {
            let t = stream.token();
            if is_word(&t.text) {
                out.push((t.position, t.text.clone()));
                if out.len() >= MAX_QUERY_TOKENS {
                    break;
                }
            }
        }
        out
    }

    /// One query word in any of title, text or address: its tokens in order at their offsets
    /// (a phrase), so 第3号 matches "第3号诉求" and not "第1号 … 3号楼".
    /// Or its characters in order in the `chars` field (when jieba cut the text differently).
    fn word_query(&self, word: &str, tokens: &[(usize, String)]) -> Box<dyn Query> {
        let f = self.fields;
        let base = tokens.first().map_or(0, |(p, _)| *p);
        let chars: Vec<Term> = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .take(MAX_QUERY_TOKENS)
            .map(|c| Term::from_field_text(f.chars, c.encode_utf8(&mut [0u8; 4])))
            .collect();
        let by_chars: Option<Box<dyn Query>> = match chars.len() {
            0 => None,
            1 => chars.into_iter().next().map(|t| {
                Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>
            }),
            _ => Some(Box::new(PhraseQuery::new(chars))),
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = [f.title, f.text, f.address]
            .into_iter()
            .map(|field| {
                let q: Box<dyn Query> = match tokens {
                    [(_, t)] => Box::new(TermQuery::new(
                        Term::from_field_text(field, t),
                        IndexRecordOption::WithFreqs,
                    )),
                    _ => Box::new(PhraseQuery::new_with_offset(
                        tokens
                            .iter()
                            .map(|(p, t)| (p.saturating_sub(base), Term::from_field_text(field, t)))
                            .collect(),
                    )),
                };
                (Occur::Should, q)
            })
            .collect();
        if let Some(q) = by_chars {
            clauses.push((Occur::Should, q));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Ids of the best-matching requests with their scores, best first.
    ///
    /// Whitespace separates words that must all match (AND); a word matches where its jieba
    /// tokens occur in order (a phrase) or, failing that, its characters do (a substring).
    pub fn search(&self, query: &str, limit: usize) -> Vec<(i64, f32)> {
        // An index failure (e.g. an I/O error reading a segment) means "no hits": callers fall
        // back to the database, and a user query must not become a server error.
        self.try_search(query, limit, false).unwrap_or_default()
    }

    /// As [`Self::search`], but when the AND query finds nothing any token may match (OR),
    /// ranked by score, so a query segmented differently from the texts still finds something.
    pub fn search_relaxed(&self, query: &str, limit: usize) -> Vec<(i64, f32)> {
        // As in `search`: an index failure is "no hits", never an error for the user.
        self.try_search(query, limit, true).unwrap_or_default()
    }

    /// [`Self::search`] (or, with `relaxed`, [`Self::search_relaxed`]) reporting index errors.
    pub fn try_search(
        &self,
        query: &str,
        limit: usize,
        relaxed: bool,
    ) -> Result<Vec<(i64, f32)>, SearchError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut end = query.len().min(MAX_QUERY_BYTES);
        while !query.is_char_boundary(end) {
            end -= 1;
        }
        let query = &query[..end];

        let mut words: Vec<Box<dyn Query>> = Vec::new();
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in query.split_whitespace().take(MAX_QUERY_TOKENS) {
            let tokens = self.tokens(word);
            if tokens.is_empty() {
                continue;
            }
            if relaxed {
                for t in &tokens {
                    if any.len() < MAX_QUERY_TOKENS {
                        any.push((
                            Occur::Should,
                            self.word_query(&t.1, std::slice::from_ref(t)),
                        ));
                    }
                }
            }
            words.push(self.word_query(word, &tokens));
        }
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let and_query = BooleanQuery::new(words.into_iter().map(|q| (Occur::Must, q)).collect());
        let hits = self.run(&and_query, limit)?;
        if !hits.is_empty() || !relaxed {
            return Ok(hits);
        }
        self.run(&BooleanQuery::new(any), limit)
    }

    fn run(&self, query: &dyn Query, limit: usize) -> Result<Vec<(i64, f32)>, SearchError> {
        let searcher = self.reader.searcher();
        let top = searcher.search(query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        // One id column per segment, opened lazily: hits are few, segments fewer.
        let mut columns: Vec<Option<tantivy::columnar::Column<i64>>> =
            vec![None; searcher.segment_readers().len()];
        for (score, addr) in top {
            let slot = &mut columns[addr.segment_ord as usize];
            if slot.is_none() {
                *slot = Some(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .i64("id")?,
                );
            }
            if let Some(id) = slot.as_ref().and_then(|c| c.first(addr.doc_id)) {
                out.push((id, score));
            }
        }
        Ok(out)
    }

    /// The underlying tantivy index (for diagnostics and benchmarks).
    pub fn index(&self) -> &Index {
        &self.index
    }
}
