//! `jiesu import`: requests from another platform's CSV export, through a TOML column mapping.
//!
//! Each good row becomes one request with the event history the file supports:
//!
//! * `Received` at the received time (always), validated by the domain's intake rules.
//! * `Dispatched` at the received time to the mapped unit (only if the row names a unit we can
//!   resolve). The deadlines are decided by the domain (`decide`, our SLA); when the file carries
//!   a due date it replaces the completion deadline, because that is the deadline the source
//!   platform actually held the unit to. The file has no dispatch time, so the received time is
//!   used; this is the one reconstructed timestamp.
//! * `Replied` with the file's reply text at the reply time (or, without a reply-time column, the
//!   closed time). Stamped directly: the domain would refuse a reply without 签收/联系 and the
//!   file does not record those, so we write what the file says rather than invent them.
//! * `CallbackRecorded` from the callback-result (and satisfaction) columns at the callback time
//!   (or the closed time).
//! * `Closed` at the closed time when the row is closed. After a callback the outcome follows the
//!   domain's rule (`decide`); otherwise it is `resolved` with a reason saying the source closed
//!   it without recording an outcome.
//!
//! Flaws are reported, never fixed: a row closed before it was received is rejected with the
//! row, column, value and reason; softer oddities are warnings. Every request carries the
//! idempotency key `import:<source>:<id>`, checked in bulk before each chunk is written, so
//! importing a file twice changes nothing. Rows are streamed and written in chunks, one
//! transaction per chunk.

use anyhow::{Context, Result, anyhow, bail};
use jiesu_domain::commands::{optional_text, warn_instant};
use jiesu_domain::intake::IntakeInput;
use jiesu_domain::{
    Actor, Channel, CloseOutcome, Command, Ctx, Directory, DomainError, Event, EventKind, NewEvent,
    RequestState, RequestType, Role, Satisfaction, Status,
};
use jiesu_store::Store;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// Rows written per transaction: large enough for multi-row statements to pay off, small
/// enough that memory stays flat on a million-row file.
pub const DEFAULT_CHUNK: usize = 2_000;
/// How many row errors and warnings the report lists in full (the counts cover all).
const LISTED: usize = 50;
/// Bytes read up front to decide whether the file is UTF-8.
const SNIFF_BYTES: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// The mapping file

/// A column-mapping file (see `world/mappings/*.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Short name of the source platform; part of every idempotency key and tracking code, so
    /// it must stay the same between imports of the same platform's files.
    pub source: String,
    /// `utf-8`, `gbk` or `auto` (UTF-8 if the start of the file is valid UTF-8, else GBK).
    #[serde(default = "default_encoding")]
    pub encoding: String,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// IANA zone the file's times are local to.
    pub time_zone: String,
    /// strftime formats tried in order for date-times.
    pub time_formats: Vec<String>,
    /// strftime formats for date-only values; accepted for the due date only (end of that day).
    #[serde(default)]
    pub date_formats: Vec<String>,
    /// Separator between joined text columns.
    #[serde(default = "default_joiner")]
    pub text_joiner: String,
    /// XLSX files: the worksheet to read (default: the first).
    #[serde(default)]
    pub sheet: Option<String>,
    pub columns: Columns,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub values: Values,
}

fn default_encoding() -> String {
    "auto".into()
}
fn default_delimiter() -> String {
    ",".into()
}
fn default_joiner() -> String {
    "；".into()
}

/// One column, or several joined.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Which header names hold what. Only `id`, `received_at` and `text` are required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub id: String,
    pub received_at: String,
    pub text: OneOrMany,
    pub title: Option<String>,
    pub closed_at: Option<String>,
    pub due_at: Option<String>,
    pub replied_at: Option<String>,
    pub callback_at: Option<String>,
    pub request_type: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
    pub unit: Option<String>,
    pub reply: Option<String>,
    pub callback: Option<String>,
    pub satisfaction: Option<String>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
}

/// Values used when the file has no column (or an empty cell) for them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Request type code when the file has none (e.g. `complaint` for a 311 file).
    pub request_type: Option<String>,
    /// Category code for values the category map does not know; unset = leave it empty.
    pub category: Option<String>,
}

/// Value maps: the file's value → our code. Values not listed are tried as our own codes and
/// Chinese names (streets, communities, units, categories, types) before being reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Values {
    #[serde(default)]
    pub request_type: HashMap<String, String>,
    #[serde(default)]
    pub category: HashMap<String, String>,
    /// → one of our status codes; only `closed` (and `merged`) mean the row is finished.
    #[serde(default)]
    pub status: HashMap<String, String>,
    #[serde(default)]
    pub street: HashMap<String, String>,
    #[serde(default)]
    pub community: HashMap<String, String>,
    #[serde(default)]
    pub unit: HashMap<String, String>,
    /// → `resolved`, `unresolved` or `unreached`.
    #[serde(default)]
    pub callback: HashMap<String, String>,
    /// → `satisfied`, `basically_satisfied`, `unsatisfied`.
    #[serde(default)]
    pub satisfaction: HashMap<String, String>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the mapping {}", path.display()))?;
        let m: Mapping =
            toml::from_str(&text).with_context(|| format!("mapping {}", path.display()))?;
        if m.source.trim().is_empty() || m.source.contains(':') {
            bail!("mapping: `source` must be a non-empty name without `:`");
        }
        if !matches!(m.encoding.as_str(), "utf-8" | "gbk" | "auto") {
            bail!(
                "mapping: encoding `{}`: use `utf-8`, `gbk` or `auto`",
                m.encoding
            );
        }
        if m.delimiter.len() != 1 {
            bail!("mapping: delimiter must be one ASCII character");
        }
        if m.time_formats.is_empty() {
            bail!("mapping: give at least one entry in time_formats");
        }
        TimeZone::get(&m.time_zone)
            .with_context(|| format!("mapping: time_zone `{}`", m.time_zone))?;
        Ok(m)
    }
}

// ---------------------------------------------------------------------------------------------
// The report

/// One problem with one row. `row` counts data rows from 1 (the header is not a row); `line`
/// is the line in the file where the record starts.
#[derive(Debug, Clone, Serialize)]
pub struct RowIssue {
    pub row: u64,
    pub line: u64,
    pub column: Option<String>,
    pub value: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Default, Serialize)]
pub struct DueStats {
    /// Accepted rows that carry a due date.
    pub with_due_date: u64,
    pub closed: u64,
    /// Closed at or before the due date.
    pub closed_on_time: u64,
    pub closed_late: u64,
    /// Not closed in the file.
    pub open: u64,
    /// The latest event time among the accepted rows: the file's snapshot, as near as the
    /// file lets us tell (not the wall clock, which would make every open row overdue).
    pub as_of: Option<Timestamp>,
    /// Open rows our SLA sweep (`sla_breaches`) flags as past their completion deadline at
    /// `as_of`.
    pub open_overdue_as_of: u64,
    /// closed_on_time / closed, percent.
    pub on_time_rate_of_closed: Option<f64>,
    /// closed_on_time / with_due_date, percent (open rows count as not on time).
    pub on_time_rate_of_all: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct SlaStats {
    /// Closed, dispatched rows whose completion deadline came from our SLA policy (no due
    /// date in the file).
    pub closed: u64,
    pub closed_within_sla: u64,
    pub rate: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub file: String,
    pub source: String,
    pub encoding: String,
    pub dry_run: bool,
    pub rows_read: u64,
    pub imported: u64,
    pub skipped_existing: u64,
    pub skipped_duplicate_in_file: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub errors: Vec<RowIssue>,
    pub warnings: u64,
    pub warnings_by_reason: BTreeMap<String, u64>,
    pub warning_examples: Vec<RowIssue>,
    pub events_by_kind: BTreeMap<String, u64>,
    /// Rows with a due date: closed on time, judged against the deadline in the dispatch event.
    pub due_date: Option<DueStats>,
    /// Rows without a due date: closed within our own SLA deadline (our working calendar).
    pub our_sla: SlaStats,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

impl Report {
    fn reject(&mut self, issue: RowIssue) {
        self.rejected += 1;
        *self
            .rejected_by_reason
            .entry(issue.reason.clone())
            .or_default() += 1;
        if self.errors.len() < LISTED {
            self.errors.push(issue);
        }
    }
    fn warn(&mut self, issue: RowIssue) {
        self.warnings += 1;
        *self
            .warnings_by_reason
            .entry(issue.reason.clone())
            .or_default() += 1;
        if self.warning_examples.len() < LISTED {
            self.warning_examples.push(issue);
        }
    }
}

fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| (num as f64 * 10_000.0 / den as f64).round() / 100.0)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Turns GBK bytes into UTF-8 as they stream by. Undecodable bytes become U+FFFD, which the
/// row check then reports per cell.
struct DecodeReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    eof: bool,
    done: bool,
}

impl<R: Read> DecodeReader<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        DecodeReader {
            inner,
            // A BOM, if any, wins over the mapping: it cannot be wrong.
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 32 * 1024],
            in_pos: 0,
            in_len: 0,
            out: vec![0; 64 * 1024],
            out_pos: 0,
            out_len: 0,
            eof: false,
            done: false,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.eof {
                self.in_len = self.inner.read(&mut self.input)?;
                self.in_pos = 0;
                self.eof = self.in_len == 0;
            }
            let (res, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_pos..self.in_len],
                &mut self.out,
                self.eof,
            );
            self.in_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            if self.eof && res == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
        }
    }
}

/// Opens the file as a UTF-8 byte stream, choosing or checking the encoding on its first bytes.
/// Returns the stream, the encoding used and a note when the choice deserves one.
fn open_decoded(path: &Path, declared: &str) -> Result<(Box<dyn Read>, String, Option<String>)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut sample = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)
        .with_context(|| format!("reading {}", path.display()))?;
    // An error with no `error_len` is a character cut by the sample's end, not a bad byte.
    let utf8_error = match std::str::from_utf8(&sample) {
        Ok(_) => None,
        Err(e) if e.error_len().is_none() => None,
        Err(e) => Some(e.valid_up_to()),
    };
    let stream = std::io::Cursor::new(sample).chain(file);
    let gbk = |s| -> Box<dyn Read> { Box::new(DecodeReader::new(s, encoding_rs::GBK)) };
    match (declared, utf8_error) {
        ("utf-8", Some(at)) => bail!(
            "{} is not valid UTF-8 (first bad byte at offset {at}); exports from Chinese \
             government platforms are often GBK: set encoding = \"gbk\" (or \"auto\") in the mapping",
            path.display()
        ),
        ("utf-8", None) => Ok((Box::new(stream), "utf-8".into(), None)),
        ("gbk", _) => Ok((gbk(stream), "gbk".into(), None)),
        (_, Some(at)) => Ok((
            gbk(stream),
            "gbk".into(),
            Some(format!(
                "not valid UTF-8 (offset {at}); decoded as GBK (auto-detected)"
            )),
        )),
        (_, None) => Ok((
            Box::new(stream),
            "utf-8".into(),
            Some("valid UTF-8 (auto-detected)".to_string()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Resolving values against the world

/// Names and codes of the world, for values the mapping does not list.
struct Names {
    categories: HashMap<String, String>,
    streets: HashMap<String, String>,
    communities: HashMap<(String, String), String>,
    communities_any: HashMap<String, Option<String>>,
    units: HashMap<String, String>,
}

impl Names {
    fn new(dir: &Directory) -> Names {
        let w = &dir.world;
        let mut categories = HashMap::new();
        for c in &w.categories {
            if dir.is_leaf_category(&c.code) {
                categories.insert(c.code.clone(), c.code.clone());
                categories
                    .entry(c.name.clone())
                    .or_insert_with(|| c.code.clone());
            }
        }
        let mut streets = HashMap::new();
        for s in &w.streets {
            streets.insert(s.code.clone(), s.code.clone());
            streets.insert(s.name.clone(), s.code.clone());
            // Exports write 西长安街街道, 西长安街 or 西长安街街道办事处.
            if let Some(short) = s.name.strip_suffix("街道") {
                streets.insert(short.to_string(), s.code.clone());
                streets.insert(format!("{}办事处", s.name), s.code.clone());
            }
        }
        let mut communities = HashMap::new();
        let mut communities_any: HashMap<String, Option<String>> = HashMap::new();
        for c in &w.communities {
            communities.insert((c.street_code.clone(), c.name.clone()), c.code.clone());
            communities_any.insert(c.code.clone(), Some(c.code.clone()));
            // A name used in two streets is ambiguous without the street.
            communities_any
                .entry(c.name.clone())
                .and_modify(|v| *v = None)
                .or_insert_with(|| Some(c.code.clone()));
        }
        let mut units = HashMap::new();
        for u in &w.units {
            units.insert(u.code.clone(), u.code.clone());
            units.insert(u.name.clone(), u.code.clone());
        }
        Names {
            categories,
            streets,
            communities,
            communities_any,
            units,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

/// Header positions of the mapped columns.
struct Cols {
    id: usize,
    received_at: usize,
    text: Vec<usize>,
    title: Option<usize>,
    closed_at: Option<usize>,
    due_at: Option<usize>,
    replied_at: Option<usize>,
    callback_at: Option<usize>,
    request_type: Option<usize>,
    category: Option<usize>,
    status: Option<usize>,
    street: Option<usize>,
    community: Option<usize>,
    address: Option<usize>,
    unit: Option<usize>,
    reply: Option<usize>,
    callback: Option<usize>,
    satisfaction: Option<usize>,
    caller_name: Option<usize>,
    caller_phone: Option<usize>,
}

impl Cols {
    /// Whether column `i` is mapped to anything.
    fn uses(&self, i: usize) -> bool {
        [self.id, self.received_at].contains(&i)
            || self.text.contains(&i)
            || [
                self.title,
                self.closed_at,
                self.due_at,
                self.replied_at,
                self.callback_at,
                self.request_type,
                self.category,
                self.status,
                self.street,
                self.community,
                self.address,
                self.unit,
                self.reply,
                self.callback,
                self.satisfaction,
                self.caller_name,
                self.caller_phone,
            ]
            .contains(&Some(i))
    }

    /// Every mapped column must be in the header; all missing ones are named at once.
    fn resolve(c: &Columns, header: &[String]) -> Result<Cols> {
        let mut missing = Vec::new();
        let mut find = |name: &str| -> usize {
            match header.iter().position(|h| h == name) {
                Some(i) => i,
                None => {
                    missing.push(name.to_string());
                    0
                }
            }
        };
        let id = find(&c.id);
        let received_at = find(&c.received_at);
        let text: Vec<usize> = c.text.names().into_iter().map(&mut find).collect();
        let cols = Cols {
            id,
            received_at,
            text,
            title: c.title.as_deref().map(&mut find),
            closed_at: c.closed_at.as_deref().map(&mut find),
            due_at: c.due_at.as_deref().map(&mut find),
            replied_at: c.replied_at.as_deref().map(&mut find),
            callback_at: c.callback_at.as_deref().map(&mut find),
            request_type: c.request_type.as_deref().map(&mut find),
            category: c.category.as_deref().map(&mut find),
            status: c.status.as_deref().map(&mut find),
            street: c.street.as_deref().map(&mut find),
            community: c.community.as_deref().map(&mut find),
            address: c.address.as_deref().map(&mut find),
            unit: c.unit.as_deref().map(&mut find),
            reply: c.reply.as_deref().map(&mut find),
            callback: c.callback.as_deref().map(&mut find),
            satisfaction: c.satisfaction.as_deref().map(&mut find),
            caller_name: c.caller_name.as_deref().map(&mut find),
            caller_phone: c.caller_phone.as_deref().map(&mut find),
        };
        if !missing.is_empty() {
            bail!(
                "the file lacks column(s) the mapping names: {}; its header has: {}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                header.join(", ")
            );
        }
        Ok(cols)
    }
}

/// One record's cells as text, with the header for messages.
struct Rec<'a> {
    cells: Vec<&'a str>,
    header: &'a [String],
    row: u64,
    line: u64,
}

impl Rec<'_> {
    /// The trimmed cell; empty is `None`.
    fn get(&self, i: Option<usize>) -> Option<&str> {
        i.and_then(|i| self.cells.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
    fn issue(&self, col: Option<usize>, reason: &str, message: impl Into<String>) -> RowIssue {
        let value: String = col
            .and_then(|i| self.cells.get(i))
            .map(|v| v.chars().take(120).collect())
            .unwrap_or_default();
        RowIssue {
            row: self.row,
            line: self.line,
            column: col.and_then(|i| self.header.get(i)).cloned(),
            value,
            reason: reason.to_string(),
            message: message.into(),
        }
    }
}

/// A row turned into a request.
struct Built {
    key: String,
    st: RequestState,
    events: Vec<Event>,
    file_due: Option<Timestamp>,
}

struct Importer<'a> {
    m: &'a Mapping,
    /// The file's header, for naming columns in messages.
    header: &'a [String],
    dir: &'a Directory,
    names: Names,
    cols: Cols,
    tz: TimeZone,
    actor: Actor,
    now: Timestamp,
}

/// The role a decision is checked against; the event is then stamped with the import actor,
/// since no person did it.
fn deciding(role: Role) -> Actor {
    Actor {
        user_id: None,
        username: "import".into(),
        role,
        unit: None,
    }
}

impl Importer<'_> {
    fn header_name(&self, col: usize) -> Option<String> {
        self.header.get(col).cloned()
    }

    /// An XLSX date-time cell as text the time parser accepts: RFC 3339 in the mapping's zone
    /// (unambiguous whatever its formats say), or for a due date at midnight the first date
    /// format, so it keeps the date-only meaning (end of that day).
    #[allow(clippy::too_many_arguments)]
    fn render_datetime(
        &self,
        col: usize,
        y: i16,
        mo: i8,
        d: i8,
        h: i8,
        mi: i8,
        s: i8,
    ) -> Option<String> {
        let dt = DateTime::new(y, mo, d, h, mi, s, 0).ok()?;
        if self.cols.due_at == Some(col)
            && (h, mi, s) == (0, 0, 0)
            && let Some(f) = self.m.date_formats.first()
        {
            return Some(dt.date().strftime(f).to_string());
        }
        let z = dt.to_zoned_datetime(self.tz.clone()).ok()?;
        Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
    }

    fn parse_time(&self, s: &str, date_only_ok: bool) -> Option<Timestamp> {
        for f in &self.m.time_formats {
            if let Ok(dt) = DateTime::strptime(f, s)
                && let Ok(z) = dt.to_zoned_datetime(self.tz.clone())
            {
                return Some(z.timestamp());
            }
        }
        // RFC 3339 with an offset is unambiguous whatever the mapping says.
        if let Ok(t) = s.parse::<Timestamp>() {
            return Some(t);
        }
        if date_only_ok {
            for f in &self.m.date_formats {
                if let Ok(d) = Date::strptime(f, s)
                    && let Ok(z) = d.at(23, 59, 59, 0).to_zoned_datetime(self.tz.clone())
                {
                    return Some(z.timestamp());
                }
            }
        }
        None
    }

    fn time(
        &self,
        r: &Rec,
        col: Option<usize>,
        date_only_ok: bool,
    ) -> Result<Option<Timestamp>, RowIssue> {
        match r.get(col) {
            None => Ok(None),
            Some(v) => self.parse_time(v, date_only_ok).map(Some).ok_or_else(|| {
                r.issue(
                    col,
                    "bad_time",
                    format!(
                        "not a time in the formats {:?} (zone {})",
                        self.m.time_formats, self.m.time_zone
                    ),
                )
            }),
        }
    }

    /// Builds one request, or the reason the row is rejected. Warnings go to `warn`.
    fn build(&self, r: &Rec, warn: &mut Vec<RowIssue>) -> Result<Built, RowIssue> {
        // Replacement characters mean bytes the encoding could not decode: the text is damaged.
        for (i, c) in r.cells.iter().enumerate() {
            if c.contains('\u{FFFD}') {
                warn.push(r.issue(
                    Some(i),
                    "undecodable_bytes",
                    "bytes not valid in the file's encoding were replaced by �",
                ));
            }
        }
        let c = &self.cols;
        let id = r
            .get(Some(c.id))
            .ok_or_else(|| r.issue(Some(c.id), "missing_id", "the id is empty"))?;
        let received = self.time(r, Some(c.received_at), false)?.ok_or_else(|| {
            r.issue(
                Some(c.received_at),
                "missing_received_at",
                "the received time is empty",
            )
        })?;
        let closed_at = self.time(r, c.closed_at, false)?;
        let due = self.time(r, c.due_at, true)?;
        let replied_at = self.time(r, c.replied_at, false)?;
        let callback_at = self.time(r, c.callback_at, false)?;

        // Time order: a request cannot end before it began. Rejected, never reordered.
        for (t, col, what) in [
            (closed_at, c.closed_at, "closed"),
            (replied_at, c.replied_at, "replied"),
            (callback_at, c.callback_at, "called back"),
        ] {
            if let Some(t) = t
                && t < received
            {
                return Err(r.issue(
                    col,
                    &format!("{}_before_received", what.replace(' ', "_")),
                    format!(
                        "{what} at {t} before it was received at {received} (`{}`)",
                        r.get(Some(c.received_at)).unwrap_or_default()
                    ),
                ));
            }
        }
        if let Some(d) = due
            && d < received
        {
            warn.push(r.issue(
                c.due_at,
                "due_before_received",
                "the due date precedes the received time; kept as the file says",
            ));
        }

        let text = {
            let parts: Vec<&str> = c.text.iter().filter_map(|&i| r.get(Some(i))).collect();
            parts.join(&self.m.text_joiner)
        };
        let request_type = match r.get(c.request_type) {
            Some(v) => {
                let code = self.m.values.request_type.get(v).map_or(v, String::as_str);
                code.parse::<RequestType>()
                    .map_err(|_| {
                        r.issue(
                            c.request_type,
                            "unknown_request_type",
                            "not in [values.request_type] nor one of our request types",
                        )
                    })?
                    .as_str()
                    .to_string()
            }
            None => self.m.defaults.request_type.clone().ok_or_else(|| {
                r.issue(
                    c.request_type,
                    "missing_request_type",
                    "no request type and no [defaults] request_type",
                )
            })?,
        };
        let category = match r.get(c.category) {
            None => None,
            Some(v) => match self
                .m
                .values
                .category
                .get(v)
                .or_else(|| self.names.categories.get(v))
            {
                Some(code) => Some(code.clone()),
                None => {
                    if self.m.defaults.category.is_none() {
                        warn.push(r.issue(
                            c.category,
                            "unmapped_category",
                            "not in [values.category]; left without a category",
                        ));
                    }
                    self.m.defaults.category.clone()
                }
            },
        };
        let street = match r.get(c.street) {
            None => None,
            Some(v) => match self
                .m
                .values
                .street
                .get(v)
                .or_else(|| self.names.streets.get(v))
            {
                Some(code) => Some(code.clone()),
                None => {
                    warn.push(r.issue(c.street, "unknown_street", "no such street; left empty"));
                    None
                }
            },
        };
        let community = match r.get(c.community) {
            None => None,
            Some(v) => {
                let found = self.m.values.community.get(v).cloned().or_else(|| {
                    street
                        .as_ref()
                        .and_then(|s| self.names.communities.get(&(s.clone(), v.to_string())))
                        .cloned()
                        .or_else(|| self.names.communities_any.get(v).cloned().flatten())
                });
                if found.is_none() {
                    warn.push(r.issue(
                        c.community,
                        "unknown_community",
                        "no such community (in this street); left empty",
                    ));
                }
                found
            }
        };
        let input = IntakeInput {
            request_type,
            channel: Some(Channel::Import.as_str().into()),
            category,
            street,
            community,
            address: r.get(c.address).map(str::to_string),
            title: r.get(c.title).map(|t| t.chars().take(200).collect()),
            text,
            caller_name: r.get(c.caller_name).map(str::to_string),
            caller_phone: r.get(c.caller_phone).map(str::to_string),
            urgent: false,
            received_at: Some(received),
        };
        let intake = jiesu_server::api::requests::validate_intake(
            &input,
            Channel::Import,
            self.dir,
            self.now,
        )
        .map_err(|e| {
            let (field, code) = match &e {
                DomainError::Invalid { field, code, .. } => (field.as_str(), *code),
                other => ("", other.code()),
            };
            let col = match field {
                "text" => c.text.first().copied(),
                "category" => c.category,
                "street" => c.street,
                "community" => c.community,
                "address" => c.address,
                "title" => c.title,
                "caller_name" => c.caller_name,
                "caller_phone" => c.caller_phone,
                "received_at" => Some(c.received_at),
                "request_type" => c.request_type,
                _ => None,
            };
            r.issue(col, code, e.to_string())
        })?;

        // Idempotency key and tracking code derive from the source id, so they are the same
        // on every import of the row.
        let key = format!("import:{}:{id}", self.m.source);
        let tracking = format!("{}-{id}", self.m.source);
        let mut b = Log {
            st: RequestState::new(0, tracking, intake.clone(), received),
            events: vec![Event {
                seq: 1,
                at: received,
                actor: self.actor.clone(),
                reason: None,
                kind: EventKind::Received { intake },
            }],
            actor: &self.actor,
        };

        // 派单
        let unit = match r.get(c.unit) {
            None => None,
            Some(v) => match self
                .m
                .values
                .unit
                .get(v)
                .or_else(|| self.names.units.get(v))
            {
                // Mapped to "": the mapping says this value names no unit of ours.
                Some(u) if u.is_empty() => None,
                Some(u) => Some(u.clone()),
                None => {
                    warn.push(r.issue(
                        c.unit,
                        "unknown_unit",
                        "not in [values.unit] nor one of our units; not dispatched",
                    ));
                    None
                }
            },
        };
        if let Some(unit) = unit {
            let ctx = Ctx {
                dir: self.dir,
                now: received,
            };
            let cmd = Command::Dispatch { unit, reason: None };
            let mut decided = jiesu_domain::decide(&b.st, &deciding(Role::Dispatcher), &cmd, &ctx)
                .map_err(|e| r.issue(c.unit, e.code(), e.to_string()))?;
            if let Some(d) = due {
                for n in &mut decided {
                    if let EventKind::Dispatched {
                        response_due,
                        completion_due,
                        warn_at,
                        ..
                    } = &mut n.kind
                    {
                        *completion_due = d;
                        *response_due = (*response_due).min(d);
                        *warn_at = warn_instant(received, d, self.dir.world.sla.warning_ratio);
                    }
                }
            }
            b.stamp(decided, received);
        }

        // Whether the file says the row is finished.
        let status_says_closed = match r.get(c.status) {
            None => None,
            Some(v) => match self.m.values.status.get(v).map(|s| s.parse::<Status>()) {
                Some(Ok(s)) => Some(s.is_terminal()),
                Some(Err(_)) => {
                    return Err(r.issue(
                        c.status,
                        "bad_mapping",
                        "[values.status] maps this to an unknown status code",
                    ));
                }
                None => match v.parse::<Status>() {
                    Ok(s) => Some(s.is_terminal()),
                    Err(_) => {
                        warn.push(r.issue(
                            c.status,
                            "unknown_status",
                            "not in [values.status]; the closed time alone decides",
                        ));
                        None
                    }
                },
            },
        };
        let closed = match (status_says_closed, closed_at) {
            (Some(true) | None, Some(t)) => Some(t),
            (Some(true), None) => {
                warn.push(r.issue(
                    c.status,
                    "closed_without_time",
                    "status says closed but the closed time is empty; left open",
                ));
                None
            }
            (Some(false), Some(_)) => {
                warn.push(r.issue(
                    c.closed_at,
                    "closed_time_but_open",
                    "a closed time on a row whose status is not closed; left open",
                ));
                None
            }
            (_, None) => None,
        };

        // 答复: stamped as the file says (see the module notes on why not `decide`).
        let reply_at = replied_at.or(closed);
        if let Some(text) = r.get(c.reply) {
            match (reply_at, optional_text("reply", &Some(text.to_string()))) {
                (Some(t), Ok(Some(text))) => b.stamp(
                    vec![NewEvent::because(
                        EventKind::Replied { text },
                        "imported: reply as recorded by the source; 签收 and contact are not in the source",
                    )],
                    t,
                ),
                (None, _) => warn.push(r.issue(
                    c.reply,
                    "reply_without_time",
                    "a reply text but no reply or closed time; the reply is not recorded as an event",
                )),
                (_, Ok(None)) => {}
                (_, Err(e)) => warn.push(r.issue(c.reply, e.code(), e.to_string())),
            }
        }

        // 回访
        let cb_at = callback_at.or(closed);
        let cb = r.get(c.callback);
        let sat = r.get(c.satisfaction);
        if cb.is_some() || sat.is_some() {
            let result = match cb {
                None => Ok(None),
                Some(v) => match self.m.values.callback.get(v).map_or(v, String::as_str) {
                    "resolved" | "已解决" => Ok(Some((true, Some(true)))),
                    "unresolved" | "未解决" => Ok(Some((true, Some(false)))),
                    "unreached" | "未联系上" => Ok(Some((false, None))),
                    _ => Err(r.issue(
                        c.callback,
                        "unknown_callback_result",
                        "not in [values.callback] (→ resolved / unresolved / unreached)",
                    )),
                },
            };
            let satisfaction = match sat {
                None => Ok(None),
                Some(v) => self
                    .m
                    .values
                    .satisfaction
                    .get(v)
                    .map_or(v, String::as_str)
                    .parse::<Satisfaction>()
                    .map(Some)
                    .map_err(|_| {
                        r.issue(
                            c.satisfaction,
                            "unknown_satisfaction",
                            "not in [values.satisfaction] nor one of ours",
                        )
                    }),
            };
            match (result, satisfaction, cb_at) {
                (Err(i), _, _) | (_, Err(i), _) => warn.push(i),
                (_, _, None) => warn.push(r.issue(
                    c.callback.or(c.satisfaction),
                    "callback_without_time",
                    "a callback result but no callback or closed time; not recorded",
                )),
                (Ok(res), Ok(satisfaction), Some(t)) => {
                    // A satisfaction answer alone means the caller was reached.
                    let (reached, resolved) = res.unwrap_or((true, None));
                    b.stamp(
                        vec![NewEvent::because(
                            EventKind::CallbackRecorded {
                                reached,
                                resolved,
                                satisfaction: if reached { satisfaction } else { None },
                                note: String::new(),
                            },
                            "imported: callback as recorded by the source",
                        )],
                        t.max(b.st.updated_at),
                    );
                }
            }
        }

        // 办结
        if let Some(t) = closed {
            let t = t.max(b.st.updated_at);
            let ctx = Ctx {
                dir: self.dir,
                now: t,
            };
            let cmd = Command::Close {
                special: None,
                answer: None,
                reason: Some("imported: closed in the source".into()),
            };
            let decided = if b.st.status == Status::CalledBack {
                jiesu_domain::decide(&b.st, &deciding(Role::Callback), &cmd, &ctx).ok()
            } else {
                None
            };
            let decided = decided.unwrap_or_else(|| {
                vec![NewEvent::because(
                    EventKind::Closed {
                        outcome: CloseOutcome::Resolved,
                        special: None,
                        answer: None,
                    },
                    "imported: closed in the source, which records no outcome",
                )]
            });
            b.stamp(decided, t);
        }

        Ok(Built {
            key,
            st: b.st,
            events: b.events,
            file_due: due,
        })
    }
}

/// A log being built: events stamped with the import actor and applied in order.
struct Log<'a> {
    st: RequestState,
    events: Vec<Event>,
    actor: &'a Actor,
}

impl Log<'_> {
    fn stamp(&mut self, decided: Vec<NewEvent>, at: Timestamp) {
        for n in decided {
            let e = Event {
                seq: self.st.version + 1,
                at,
                actor: self.actor.clone(),
                reason: n.reason,
                kind: n.kind,
            };
            self.st.apply(&e);
            self.events.push(e);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Row sources: CSV (any encoding, decoded to UTF-8) or an XLSX worksheet

/// Whether `path` is an XLSX workbook: by its extension, or by the zip signature every XLSX
/// starts with (a workbook saved as `.csv` by mistake is still read as what it is).
fn is_xlsx(path: &Path) -> Result<bool> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "xls" {
        bail!(
            "{}: legacy .xls workbooks are not supported; save it as .xlsx or CSV",
            path.display()
        );
    }
    if matches!(ext.as_str(), "xlsx" | "xlsm") {
        return Ok(true);
    }
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let n = f
        .read(&mut magic)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(n == 4 && magic == *b"PK\x03\x04")
}

/// The column of a multi-line field that holds a line with at least half a record's
/// delimiters: whole rows swallowed by a quote that was never closed. (A record that came out
/// with the wrong number of fields is caught by the CSV reader; this catches the case where
/// the swallowed text happens to leave the count right.) Real multi-line texts seldom carry
/// that many delimiters on one line.
fn swallowed_lines(rec: &csv::ByteRecord, delimiter: u8, width: usize) -> Option<usize> {
    if width < 4 {
        return None;
    }
    rec.iter().position(|f| {
        f.split(|&b| b == b'\n')
            .skip(1)
            .any(|l| l.iter().filter(|&&b| b == delimiter).count() >= width / 2)
    })
}

/// One XLSX cell as read, before the mapping decides how to write it as text.
enum XCell {
    Text(String),
    /// A date-time cell: (year, month, day, hour, minute, second) on the sheet's wall clock.
    DateTime(i16, i8, i8, i8, i8, i8),
    /// `#N/A`, `#DIV/0!` …
    Error(String),
}

/// What the XLSX reader thread sends.
enum XMsg {
    Header(Vec<String>),
    /// A non-empty row: its sheet row number (1-based) and cells by column (sparse).
    Row(u64, Vec<(usize, XCell)>),
    Failed(String),
}

/// Where rows come from.
enum Rows {
    Csv {
        rdr: csv::Reader<Box<dyn Read>>,
        width: usize,
        delimiter: u8,
    },
    /// A thread owns the workbook and streams rows (calamine's cell reader borrows the
    /// workbook, and parsing the XML beside the import uses the second core).
    Xlsx {
        rx: std::sync::mpsc::Receiver<XMsg>,
        width: usize,
        file: String,
        last_line: u64,
    },
}

/// The next row, or why it could not be read.
enum Next {
    Record(u64),
    Malformed {
        line: u64,
        column: Option<String>,
        value: String,
        reason: &'static str,
        message: String,
    },
    End,
}

impl Rows {
    fn open_csv(path: &Path, stream: Box<dyn Read>, delimiter: u8) -> Result<(Rows, Vec<String>)> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .from_reader(stream);
        let mut header_rec = csv::ByteRecord::new();
        if !rdr
            .read_byte_record(&mut header_rec)
            .with_context(|| format!("reading the header of {}", path.display()))?
        {
            bail!("{} is empty", path.display());
        }
        let header: Vec<String> = header_rec
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = String::from_utf8_lossy(h);
                let h = if i == 0 {
                    h.trim_start_matches('\u{FEFF}')
                } else {
                    &h
                };
                h.trim().to_string()
            })
            .collect();
        let width = header.len();
        Ok((
            Rows::Csv {
                rdr,
                width,
                delimiter,
            },
            header,
        ))
    }

    /// Opens the workbook and reads the header row; a file that is not a readable XLSX (random
    /// bytes, a truncated zip) or lacks the sheet fails here, before anything is written.
    fn open_xlsx(path: &Path, sheet: Option<&str>) -> Result<(Rows, Vec<String>, String)> {
        use calamine::{DataRef, Reader, Xlsx};
        let shown = path.display().to_string();
        let mut wb: Xlsx<_> = calamine::open_workbook(path).map_err(|e| {
            anyhow!("{shown} is not a readable XLSX workbook ({e}); is the file complete?")
        })?;
        let names = wb.sheet_names();
        let name = match sheet {
            Some(s) if names.iter().any(|n| n == s) => s.to_string(),
            Some(s) => bail!(
                "{shown}: no worksheet `{s}` (the mapping's `sheet`); it has: {}",
                names.join(", ")
            ),
            None => names
                .first()
                .cloned()
                .ok_or_else(|| anyhow!("{shown}: the workbook has no worksheet"))?,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<XMsg>(256);
        let sheet_name = name.clone();
        std::thread::spawn(move || {
            let mut reader = match wb.worksheet_cells_reader(&sheet_name) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(XMsg::Failed(format!("worksheet `{sheet_name}`: {e}")));
                    return;
                }
            };
            let mut current: Option<(u32, Vec<(usize, XCell)>)> = None;
            let mut header_sent = false;
            let mut emit = |row: u32, cells: Vec<(usize, XCell)>| -> bool {
                if cells.is_empty() {
                    return true;
                }
                let msg = if header_sent {
                    XMsg::Row(u64::from(row) + 1, cells)
                } else {
                    header_sent = true;
                    let mut h = Vec::new();
                    for (c, v) in cells {
                        if h.len() <= c {
                            h.resize(c + 1, String::new());
                        }
                        h[c] = match v {
                            XCell::Text(t) => t.trim().to_string(),
                            XCell::DateTime(..) | XCell::Error(_) => String::new(),
                        };
                    }
                    XMsg::Header(h)
                };
                tx.send(msg).is_ok()
            };
            loop {
                let cell = match reader.next_cell() {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        let after = current.as_ref().map_or(0, |(r, _)| r + 1);
                        let _ = tx.send(XMsg::Failed(format!(
                            "the worksheet is damaged after row {after}: {e}"
                        )));
                        return;
                    }
                };
                let (r, c) = cell.get_position();
                let v = match cell.get_value() {
                    DataRef::Empty => None,
                    DataRef::String(s) => Some(XCell::Text(s.clone())),
                    DataRef::SharedString(s) => Some(XCell::Text((*s).to_string())),
                    DataRef::Int(i) => Some(XCell::Text(i.to_string())),
                    // Ids and phone numbers typed as numbers come back as floats: 12345.0.
                    DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        Some(XCell::Text(format!("{}", *f as i64)))
                    }
                    DataRef::Float(f) => Some(XCell::Text(f.to_string())),
                    DataRef::Bool(b) => Some(XCell::Text(b.to_string())),
                    DataRef::DateTime(d) if d.is_datetime() => {
                        let (y, mo, day, h, mi, sec, _) = d.to_ymd_hms_milli();
                        Some(XCell::DateTime(
                            y as i16, mo as i8, day as i8, h as i8, mi as i8, sec as i8,
                        ))
                    }
                    DataRef::DateTime(d) => Some(XCell::Text(d.as_f64().to_string())),
                    DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                        Some(XCell::Text(s.clone()))
                    }
                    DataRef::Error(e) => Some(XCell::Error(e.to_string())),
                };
                if current.as_ref().is_some_and(|(cr, _)| *cr != r)
                    && let Some((cr, cells)) = current.take()
                    && !emit(cr, cells)
                {
                    return;
                }
                let entry = current.get_or_insert_with(|| (r, Vec::new()));
                if let Some(v) = v {
                    entry.1.push((c as usize, v));
                }
            }
            if let Some((cr, cells)) = current.take() {
                emit(cr, cells);
            }
        });
        let header = match rx.recv() {
            Ok(XMsg::Header(h)) => h,
            Ok(XMsg::Failed(e)) => bail!("{shown}: {e}"),
            Ok(XMsg::Row(..)) | Err(_) => bail!("{shown}: worksheet `{name}` is empty"),
        };
        let width = header.len();
        Ok((
            Rows::Xlsx {
                rx,
                width,
                file: shown,
                last_line: 1,
            },
            header,
            name,
        ))
    }

    /// Reads the next row into `rec`. `Err` is fatal (the file cannot be read on).
    fn next(&mut self, rec: &mut csv::ByteRecord, imp: &Importer<'_>) -> Result<Next> {
        match self {
            Rows::Csv {
                rdr,
                width,
                delimiter,
            } => {
                let line = rdr.position().line();
                match rdr.read_byte_record(rec) {
                    Ok(false) => Ok(Next::End),
                    Ok(true) => {
                        let end = rdr.position().line();
                        if end > line + 1
                            && let Some(col) = swallowed_lines(rec, *delimiter, *width)
                        {
                            return Ok(Next::Malformed {
                                line,
                                column: imp.header_name(col),
                                value: String::new(),
                                reason: "unbalanced_quote",
                                message: format!(
                                    "a quoted field on line {line} is never closed properly: it runs \
                                     to line {} and holds whole lines of the file; the lines in \
                                     between are part of it and were not imported",
                                    end.saturating_sub(1).max(line)
                                ),
                            });
                        }
                        Ok(Next::Record(line))
                    }
                    Err(e) => {
                        let end = rdr.position().line();
                        match e.kind() {
                            // A record that ran over several lines with the wrong number of
                            // fields is a quote opened and never closed: it swallowed the lines.
                            csv::ErrorKind::UnequalLengths { len, .. } if end > line + 1 => {
                                Ok(Next::Malformed {
                                    line,
                                    column: None,
                                    value: String::new(),
                                    reason: "unbalanced_quote",
                                    message: format!(
                                        "a quoted field on line {line} is never closed: the record \
                                         runs to line {} with {len} fields instead of {width}; \
                                         the lines in between are part of it and were not imported",
                                        end.saturating_sub(1).max(line)
                                    ),
                                })
                            }
                            csv::ErrorKind::UnequalLengths { len, .. } => Ok(Next::Malformed {
                                line,
                                column: None,
                                value: String::new(),
                                reason: "malformed_csv",
                                message: format!("{len} fields where the header has {width}"),
                            }),
                            csv::ErrorKind::Utf8 { .. } => Ok(Next::Malformed {
                                line,
                                column: None,
                                value: String::new(),
                                reason: "malformed_csv",
                                message: e.to_string(),
                            }),
                            _ => Err(anyhow!("line {line}: {e}")),
                        }
                    }
                }
            }
            Rows::Xlsx {
                rx,
                width,
                file,
                last_line,
            } => {
                let (line, cells) = match rx.recv() {
                    Ok(XMsg::Row(line, cells)) => (line, cells),
                    Ok(XMsg::Failed(e)) => bail!(
                        "{file}: {e}; rows before sheet row {} were imported (re-running after \
                         fixing the file skips them)",
                        *last_line + 1
                    ),
                    Ok(XMsg::Header(_)) | Err(_) => return Ok(Next::End),
                };
                *last_line = line;
                rec.clear();
                let mut fields: Vec<String> = vec![String::new(); *width];
                for (c, v) in cells {
                    // Cells right of the header have no column name, so no mapping uses them.
                    if c >= *width {
                        continue;
                    }
                    fields[c] = match v {
                        XCell::Text(t) => t,
                        XCell::DateTime(y, mo, d, h, mi, sec) => {
                            match imp.render_datetime(c, y, mo, d, h, mi, sec) {
                                Some(t) => t,
                                None => {
                                    return Ok(Next::Malformed {
                                        line,
                                        column: imp.header_name(c),
                                        value: format!("{y}-{mo}-{d} {h}:{mi}:{sec}"),
                                        reason: "bad_time",
                                        message: "not a valid date-time".into(),
                                    });
                                }
                            }
                        }
                        XCell::Error(e) if imp.cols.uses(c) => {
                            return Ok(Next::Malformed {
                                line,
                                column: imp.header_name(c),
                                value: e.clone(),
                                reason: "cell_error",
                                message: format!("the cell holds the spreadsheet error {e}"),
                            });
                        }
                        XCell::Error(_) => String::new(),
                    };
                }
                for f in &fields {
                    rec.push_field(f.as_bytes());
                }
                Ok(Next::Record(line))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run

pub struct Args<'a> {
    pub mapping: &'a Path,
    pub db: &'a str,
    pub file: &'a Path,
    pub dry_run: bool,
    pub chunk: usize,
}

/// Imports one file. Fatal problems (unreadable file, wrong encoding, missing columns) fail
/// before anything is written; row problems are reported and the good rows imported.
pub async fn run(a: Args<'_>) -> Result<Report> {
    let started = Instant::now();
    let m = Mapping::load(a.mapping)?;
    let file_name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| a.file.display().to_string());
    let (mut rows, header, encoding, note) = if is_xlsx(a.file)? {
        let (rows, header, sheet) = Rows::open_xlsx(a.file, m.sheet.as_deref())?;
        (rows, header, format!("xlsx (sheet {sheet})"), None)
    } else {
        let (stream, encoding, note) = open_decoded(a.file, &m.encoding)?;
        let (rows, header) = Rows::open_csv(a.file, stream, m.delimiter.as_bytes()[0])?;
        (rows, header, encoding, note)
    };
    let cols = Cols::resolve(&m.columns, &header)?;

    let store = Store::open(a.db).await.context("opening the database")?;
    let dir = crate::init_world(&store, None).await?;
    for (what, code) in [
        ("request_type", m.defaults.request_type.as_deref()),
        ("category", m.defaults.category.as_deref()),
    ] {
        match (what, code) {
            ("request_type", Some(c)) if c.parse::<RequestType>().is_err() => {
                bail!("mapping: [defaults] request_type `{c}` is not one of ours")
            }
            ("category", Some(c)) if !dir.is_leaf_category(c) => {
                bail!("mapping: [defaults] category `{c}` is not a leaf category of the world")
            }
            _ => {}
        }
    }
    let imp = Importer {
        m: &m,
        header: &header,
        names: Names::new(&dir),
        dir: &dir,
        cols,
        tz: TimeZone::get(&m.time_zone)?,
        actor: Actor {
            user_id: None,
            username: format!("import:{file_name}"),
            role: Role::System,
            unit: None,
        },
        now: Timestamp::now(),
    };

    let mut report = Report {
        file: a.file.display().to_string(),
        source: m.source.clone(),
        encoding: match &note {
            Some(n) => format!("{encoding} ({n})"),
            None => encoding.clone(),
        },
        dry_run: a.dry_run,
        due_date: m.columns.due_at.as_ref().map(|_| DueStats::default()),
        ..Report::default()
    };
    // Across chunks a dry run cannot lean on the database to catch repeated ids.
    let mut seen_dry: HashSet<String> = HashSet::new();
    let mut chunk: Vec<Built> = Vec::with_capacity(a.chunk);
    // The chunk's keys: a linear scan of the chunk per row was quadratic in the chunk size.
    let mut chunk_keys: HashSet<String> = HashSet::with_capacity(a.chunk);
    let mut rec = csv::ByteRecord::new();
    let mut row = 0u64;
    // Completion deadlines of open rows with a due date that our SLA rule would flag once
    // passed, judged once the file's last time is known. Only the instant is kept, not the
    // state: memory stays flat however many such rows a file has.
    let mut open_due: Vec<Timestamp> = Vec::new();
    let mut latest: Option<Timestamp> = None;
    loop {
        let line = match rows.next(&mut rec, &imp)? {
            Next::End => break,
            Next::Record(line) => line,
            Next::Malformed {
                line,
                column,
                value,
                reason,
                message,
            } => {
                row += 1;
                report.rows_read += 1;
                report.reject(RowIssue {
                    row,
                    line,
                    column,
                    value,
                    reason: reason.into(),
                    message,
                });
                continue;
            }
        };
        row += 1;
        report.rows_read += 1;
        // Cells must be UTF-8 here (GBK was decoded on the way in).
        let mut cells = Vec::with_capacity(rec.len());
        let mut bad = None;
        for (i, f) in rec.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => cells.push(s),
                Err(_) => {
                    bad = Some(i);
                    cells.push("");
                }
            }
        }
        let r = Rec {
            cells,
            header: &header,
            row,
            line,
        };
        if let Some(i) = bad {
            report.reject(r.issue(
                Some(i),
                "invalid_utf8",
                "the cell is not valid UTF-8 (wrong encoding in the mapping?)",
            ));
            continue;
        }
        let mut warns = Vec::new();
        let built = imp.build(&r, &mut warns);
        for w in warns {
            report.warn(w);
        }
        match built {
            Ok(b) => {
                if chunk_keys.contains(&b.key) || (a.dry_run && !seen_dry.insert(b.key.clone())) {
                    report.skipped_duplicate_in_file += 1;
                    report.warn(r.issue(
                        Some(imp.cols.id),
                        "duplicate_id_in_file",
                        "this id appeared earlier in the file; the first row wins",
                    ));
                    continue;
                }
                count_stats(&mut report, &b);
                latest = latest.max(Some(b.st.updated_at));
                if b.file_due.is_some()
                    && b.st.closed_at.is_none()
                    && let Some(due) = b.st.completion_due
                    && breaches_completion(&b.st, Timestamp::MAX)
                {
                    open_due.push(due);
                }
                chunk_keys.insert(b.key.clone());
                chunk.push(b);
            }
            Err(issue) => report.reject(issue),
        }
        if chunk.len() >= a.chunk {
            flush(&store, &mut chunk, &mut report, a.dry_run).await?;
            chunk_keys.clear();
        }
    }
    flush(&store, &mut chunk, &mut report, a.dry_run).await?;
    store.close().await;

    if let Some(d) = &mut report.due_date {
        d.as_of = latest;
        if let Some(as_of) = latest {
            // `sla_breaches` flags a running completion clock once `completion_due < now`.
            d.open_overdue_as_of = open_due.iter().filter(|&&due| due < as_of).count() as u64;
        }
        d.on_time_rate_of_closed = pct(d.closed_on_time, d.closed);
        d.on_time_rate_of_all = pct(d.closed_on_time, d.with_due_date);
    }
    report.our_sla.rate = pct(report.our_sla.closed_within_sla, report.our_sla.closed);
    report.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    report.rows_per_sec = if report.seconds > 0.0 {
        (report.rows_read as f64 / report.seconds).round()
    } else {
        0.0
    };
    Ok(report)
}

/// Whether our SLA sweep (`sla_breaches`) would raise a completion-overdue 督办 at `now`.
fn breaches_completion(st: &RequestState, now: Timestamp) -> bool {
    jiesu_domain::sla_breaches(st, now).iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Escalated {
                escalation: jiesu_domain::EscalationKind::CompletionOverdue,
                ..
            }
        )
    })
}

/// On-time figures from the replayed state: the deadline is the one in the dispatch event (the
/// file's due date, else our SLA).
fn count_stats(report: &mut Report, b: &Built) {
    let closed = b.st.closed_at;
    if let (Some(d), Some(stats)) = (b.file_due, report.due_date.as_mut()) {
        let due = b.st.completion_due.unwrap_or(d);
        stats.with_due_date += 1;
        match closed {
            Some(t) => {
                stats.closed += 1;
                if t <= due {
                    stats.closed_on_time += 1;
                } else {
                    stats.closed_late += 1;
                }
            }
            None => stats.open += 1,
        }
    } else if let (Some(t), Some(due)) = (closed, b.st.completion_due) {
        report.our_sla.closed += 1;
        report.our_sla.closed_within_sla += u64::from(t <= due);
    }
}

/// Writes a chunk in one transaction, leaving out rows already imported.
async fn flush(
    store: &Store,
    chunk: &mut Vec<Built>,
    report: &mut Report,
    dry_run: bool,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = chunk.iter().map(|b| b.key.clone()).collect();
    let existing = store.existing_idempotency_keys(&keys).await?;
    let mut items = Vec::with_capacity(chunk.len());
    for b in chunk.drain(..) {
        if existing.contains(&b.key) {
            report.skipped_existing += 1;
            continue;
        }
        for e in &b.events {
            *report
                .events_by_kind
                .entry(e.kind.name().to_string())
                .or_default() += 1;
        }
        items.push((b.st, b.events, Some(b.key)));
    }
    report.imported += items.len() as u64;
    if !dry_run && !items.is_empty() {
        store
            .bulk_insert_keyed(&items)
            .await
            .context("writing a chunk of imported requests")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A scratch folder removed when the test ends (pass or fail): CI runs repeatedly on one
    /// machine, and the NYC sample alone is 20 MB per run.
    struct TempDir(PathBuf);

    impl std::ops::Deref for TempDir {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tmp(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("jiesu-import-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    fn shipped(mapping: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../world/mappings")
            .join(mapping)
    }

    const HEADER: &str = "工单编号,受理时间,诉求类型,问题分类,工单标题,诉求内容,所属街道,所属社区,详细地址,承办单位,办理时限,工单状态,答复时间,答复内容,回访时间,回访结果,满意度,办结时间";

    /// Four good rows (one fully handled, one dispatched only, one open with no unit, one
    /// consultation), then a bad time and a row closed before it was received.
    fn generic_csv() -> String {
        [
            HEADER,
            "A001,2025-03-03 09:00:00,投诉,违章停车,门口违停,小区门口长期有车违停堵门,西长安街街道,府右街南社区,府右街1号,北京市公安局公安交通管理局西城交通支队,2025-03-12,已办结,2025-03-04 10:00:00,已联系车主挪车,2025-03-05 10:00:00,已解决,满意,2025-03-05 11:00:00",
            "A002,2025/03/03 10:30,求助,停水,,楼里停水一天了,新街口街道,,,北京市自来水集团西城分公司,,办理中,,,,,,",
            "A003,2025-03-03 11:00:00,建议,,,建议增加公交线路,,,,,,已受理,,,,,,",
            "A004,2025-03-03 12:00:00,咨询,政策咨询,,\"询问居住证办理材料，需要什么\",月坛街道,,,月坛街道办事处,,已办结,2025-03-03 15:00:00,已告知所需材料,,,,2025-03-03 16:00:00",
            "A005,3rd of March,投诉,,,时间写错了,,,,,,已受理,,,,,,",
            "A006,2025-03-03 09:00:00,投诉,,,先办结后受理,,,,,,已办结,,,,,,2025-03-01 09:00:00",
        ]
        .join("\n")
            + "\n"
    }

    async fn import(mapping: &Path, db: &str, file: &Path) -> Result<Report> {
        run(Args {
            mapping,
            db,
            file,
            dry_run: false,
            chunk: 2,
        })
        .await
    }

    #[tokio::test]
    async fn generic_file_imports_reports_bad_rows_and_reimports_nothing() {
        let d = tmp("generic");
        let file = d.join("export.csv");
        std::fs::write(&file, generic_csv()).unwrap();
        let db = format!("sqlite://{}", d.join("j.db").display());
        let m = shipped("generic-12345.toml");
        let r = import(&m, &db, &file).await.unwrap();
        assert_eq!(r.rows_read, 6);
        assert_eq!(r.imported, 4, "{:#?}", r.errors);
        assert_eq!(r.rejected, 2);
        assert_eq!(r.rejected_by_reason.get("bad_time"), Some(&1));
        assert_eq!(r.rejected_by_reason.get("closed_before_received"), Some(&1));
        let bad = &r.errors[0];
        assert_eq!(
            (bad.row, bad.line, bad.column.as_deref(), bad.value.as_str()),
            (5, 6, Some("受理时间"), "3rd of March")
        );
        assert_eq!(r.errors[1].column.as_deref(), Some("办结时间"));
        assert_eq!(r.encoding, "utf-8 (valid UTF-8 (auto-detected))");

        let store = Store::open(&db).await.unwrap();
        let a1 = store
            .get_by_tracking_code("12345-A001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a1.status, Status::Closed);
        assert_eq!(a1.close_outcome, Some(CloseOutcome::Resolved));
        assert_eq!(
            a1.intake.category.as_deref(),
            Some("traffic.illegal-parking")
        );
        assert_eq!(a1.intake.community.as_deref(), Some("110102001001"));
        let kinds: Vec<&str> = store
            .events(a1.id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.kind.name())
            .collect();
        assert_eq!(
            kinds,
            [
                "received",
                "dispatched",
                "replied",
                "callback_recorded",
                "closed"
            ]
        );
        // The file's 办理时限 (a date) is the deadline: end of that day, Beijing time.
        assert_eq!(
            a1.completion_due.map(|t| t.to_string()),
            Some("2025-03-12T15:59:59Z".into())
        );
        let a2 = store
            .get_by_tracking_code("12345-A002")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a2.status, Status::Dispatched);
        assert_eq!(a2.lead_unit.as_deref(), Some("water"));
        let a3 = store
            .get_by_tracking_code("12345-A003")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a3.status, Status::Received);
        store.close().await;

        // Importing the same file again changes nothing.
        let again = import(&m, &db, &file).await.unwrap();
        assert_eq!((again.imported, again.skipped_existing), (0, 4));
        let store = Store::open(&db).await.unwrap();
        let total: i64 = store
            .count_by_status()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(total, 4);
        store.close().await;
    }

    #[tokio::test]
    async fn gbk_files_are_detected_or_refused_with_a_clear_error() {
        let d = tmp("gbk");
        let file = d.join("export-gbk.csv");
        let text = generic_csv();
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        std::fs::write(&file, &bytes).unwrap();
        let db = format!("sqlite://{}", d.join("j.db").display());
        let r = import(&shipped("generic-12345.toml"), &db, &file)
            .await
            .unwrap();
        assert!(r.encoding.starts_with("gbk"), "{}", r.encoding);
        assert_eq!(r.imported, 4);

        // A mapping that insists on UTF-8 is refused before anything is written.
        let text = std::fs::read_to_string(shipped("generic-12345.toml"))
            .unwrap()
            .replace("encoding = \"auto\"", "encoding = \"utf-8\"");
        let strict = d.join("strict.toml");
        std::fs::write(&strict, text).unwrap();
        let db2 = format!("sqlite://{}", d.join("j2.db").display());
        let e = import(&strict, &db2, &file).await.unwrap_err().to_string();
        assert!(e.contains("not valid UTF-8") && e.contains("gbk"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_column_stops_the_import_and_names_it() {
        let d = tmp("missing");
        let file = d.join("export.csv");
        let csv = generic_csv().replace("回访结果", "回访情况");
        std::fs::write(&file, csv).unwrap();
        let db = format!("sqlite://{}", d.join("j.db").display());
        let e = import(&shipped("generic-12345.toml"), &db, &file)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("`回访结果`"), "{e}");
        // Nothing half-imported: the database was never even opened.
        assert!(!d.join("j.db").exists());
    }

    #[tokio::test]
    async fn malformed_rows_are_rejected_and_the_rest_imported() {
        let d = tmp("malformed");
        let file = d.join("export.csv");
        let csv = generic_csv() + "A007,2025-03-03 09:00:00,投诉\n";
        std::fs::write(&file, csv).unwrap();
        let db = format!("sqlite://{}", d.join("j.db").display());
        let r = import(&shipped("generic-12345.toml"), &db, &file)
            .await
            .unwrap();
        assert_eq!(r.imported, 4);
        assert_eq!(r.rejected_by_reason.get("malformed_csv"), Some(&1));
    }

    /// The generic export as a workbook: the same rows as `generic_csv`, with the received
    /// time of A001 a real date-time cell, its 办理时限 a date cell and its id a number.
    fn generic_xlsx(path: &Path, extra_first_sheet: bool) {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut wb = Workbook::new();
        if extra_first_sheet {
            let notes = wb.add_worksheet();
            notes.set_name("说明").unwrap();
            notes.write_string(0, 0, "本表由12345平台导出").unwrap();
        }
        let ws = wb.add_worksheet();
        ws.set_name("工单").unwrap();
        let dt = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let csv = generic_csv();
        for (r, line) in csv.lines().enumerate() {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let rec = rdr.records().next().unwrap().unwrap();
            for (c, v) in rec.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match (r, c) {
                    (1, 0) => {
                        ws.write_number(r, c, 1001.0).unwrap();
                    }
                    (1, 1) => {
                        let t = ExcelDateTime::parse_from_str("2025-03-03 09:00:00").unwrap();
                        ws.write_datetime_with_format(r, c, &t, &dt).unwrap();
                    }
                    (1, 10) => {
                        let t = ExcelDateTime::parse_from_str("2025-03-12").unwrap();
                        ws.write_datetime_with_format(r, c, &t, &date).unwrap();
                    }
                    _ if !v.is_empty() => {
                        ws.write_string(r, c, v).unwrap();
                    }
                    _ => {}
                }
            }
        }
        wb.save(path).unwrap();
    }

    fn mapping_with(d: &Path, extra: &str) -> PathBuf {
        let text = std::fs::read_to_string(shipped("generic-12345.toml")).unwrap();
        // Top-level keys must come before the first table.
        let text = text.replacen("[columns]", &format!("{extra}\n\n[columns]"), 1);
        let p = d.join("mapping.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[tokio::test]
    async fn xlsx_imports_like_csv_with_typed_cells() {
        let d = tmp("xlsx");
        let file = d.join("export.xlsx");
        generic_xlsx(&file, false);
        let db = format!("sqlite://{}", d.join("j.db").display());
        let m = shipped("generic-12345.toml");
        let r = import(&m, &db, &file).await.unwrap();
        assert_eq!(r.encoding, "xlsx (sheet 工单)");
        assert_eq!(r.rows_read, 6);
        assert_eq!(r.imported, 4, "{:#?}", r.errors);
        assert_eq!(r.rejected_by_reason.get("bad_time"), Some(&1));
        assert_eq!(r.rejected_by_reason.get("closed_before_received"), Some(&1));
        // Row numbers are sheet rows: the bad time is on row 6 of the sheet.
        let bad = &r.errors[0];
        assert_eq!(
            (bad.row, bad.line, bad.column.as_deref(), bad.value.as_str()),
            (5, 6, Some("受理时间"), "3rd of March")
        );
        let store = Store::open(&db).await.unwrap();
        // The numeric id 1001 is read as `1001`, not `1001.0`.
        let a1 = store
            .get_by_tracking_code("12345-1001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a1.status, Status::Closed);
        assert_eq!(a1.intake.received_at.to_string(), "2025-03-03T01:00:00Z");
        // A date cell in 办理时限 keeps its date-only meaning: the end of that day.
        assert_eq!(
            a1.completion_due.map(|t| t.to_string()),
            Some("2025-03-12T15:59:59Z".into())
        );
        store.close().await;
        let again = import(&m, &db, &file).await.unwrap();
        assert_eq!((again.imported, again.skipped_existing), (0, 4));
    }

    #[tokio::test]
    async fn the_mapping_chooses_the_sheet() {
        let d = tmp("xlsx-sheet");
        let file = d.join("export.xlsx");
        generic_xlsx(&file, true);
        let db = format!("sqlite://{}", d.join("j.db").display());
        // By default the first sheet, which here is a note without the mapped columns.
        let e = import(&shipped("generic-12345.toml"), &db, &file)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lacks column(s)") && e.contains("`工单编号`"),
            "{e}"
        );
        let m = mapping_with(&d, "sheet = \"工单\"");
        let r = import(&m, &db, &file).await.unwrap();
        assert_eq!(r.imported, 4);
        let m = mapping_with(&d, "sheet = \"工单2\"");
        let e = import(&m, &db, &file).await.unwrap_err().to_string();
        assert!(
            e.contains("no worksheet `工单2`") && e.contains("说明, 工单"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn broken_workbooks_fail_before_anything_is_written() {
        let d = tmp("xlsx-broken");
        let good = d.join("good.xlsx");
        generic_xlsx(&good, false);
        let bytes = std::fs::read(&good).unwrap();
        let m = shipped("generic-12345.toml");
        let mut noise = vec![0u8; 4096];
        for (i, b) in noise.iter_mut().enumerate() {
            *b = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3];
        }
        for (name, content) in [
            ("random.xlsx", noise.clone()),
            // A zip signature, then garbage: what a cut download often looks like.
            ("zipnoise.csv", [b"PK\x03\x04".as_slice(), &noise].concat()),
            ("truncated.xlsx", bytes[..bytes.len() / 2].to_vec()),
            ("empty.xlsx", Vec::new()),
        ] {
            let file = d.join(name);
            std::fs::write(&file, content).unwrap();
            let db_path = d.join(format!("{name}.db"));
            let db = format!("sqlite://{}", db_path.display());
            let e = import(&m, &db, &file).await.unwrap_err().to_string();
            assert!(
                e.contains(name) && e.contains("not a readable XLSX workbook"),
                "{name}: {e}"
            );
            assert!(!db_path.exists(), "{name}: the database was touched");
        }
        let legacy = d.join("old.xls");
        std::fs::write(&legacy, b"\xd0\xcf\x11\xe0").unwrap();
        let e = import(&m, "sqlite:///nonexistent/x.db", &legacy)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("legacy .xls"), "{e}");
    }

    #[tokio::test]
    async fn xlsx_missing_columns_and_cell_errors_are_named() {
        use rust_xlsxwriter::{Formula, Workbook};
        let d = tmp("xlsx-cols");
        let m = shipped("generic-12345.toml");
        // A header lacking two mapped columns: named both, nothing written.
        let file = d.join("missing.xlsx");
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in HEADER
            .split(',')
            .filter(|h| *h != "回访结果" && *h != "满意度")
            .enumerate()
        {
            ws.write_string(0, c as u16, h).unwrap();
        }
        wb.save(&file).unwrap();
        let db_path = d.join("j.db");
        let db = format!("sqlite://{}", db_path.display());
        let e = import(&m, &db, &file).await.unwrap_err().to_string();
        assert!(e.contains("`回访结果`") && e.contains("`满意度`"), "{e}");
        assert!(!db_path.exists());

        // A formula error in a mapped cell rejects that row, naming the column; others import.
        let file = d.join("errors.xlsx");
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in HEADER.split(',').enumerate() {
            ws.write_string(0, c as u16, h).unwrap();
        }
        for (r, id) in [(1u32, "E1"), (2, "E2")] {
            ws.write_string(r, 0, id).unwrap();
            ws.write_string(r, 1, "2025-03-03 09:00:00").unwrap();
            ws.write_string(r, 2, "投诉").unwrap();
            ws.write_string(r, 5, "路灯不亮").unwrap();
        }
        ws.write_formula(2, 6, Formula::new("=1/0").set_result("#DIV/0!"))
            .unwrap();
        wb.save(&file).unwrap();
        let r = import(&m, &db, &file).await.unwrap();
        assert_eq!((r.imported, r.rejected), (1, 1), "{:#?}", r.errors);
        let e = &r.errors[0];
        assert_eq!(
            (
                e.reason.as_str(),
                e.column.as_deref(),
                e.value.as_str(),
                e.line
            ),
            ("cell_error", Some("所属街道"), "#DIV/0!", 3)
        );
    }

    #[tokio::test]
    async fn an_unbalanced_quote_is_reported_with_its_lines_and_nothing_else_is_lost() {
        let d = tmp("quote");
        let file = d.join("export.csv");
        // A002's text opens a quote that only A004's quoted text closes: lines 3–5 become one
        // record, which is rejected as a whole (A005 and A006 then fail on their own flaws).
        let mut lines: Vec<String> = generic_csv().lines().map(str::to_string).collect();
        lines[2] = lines[2].replace("楼里停水一天了", "\"楼里停水一天了");
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let db = format!("sqlite://{}", d.join("j.db").display());
        let r = import(&shipped("generic-12345.toml"), &db, &file)
            .await
            .unwrap();
        assert_eq!(r.imported, 1, "{:#?}", r.errors);
        assert_eq!(r.rejected_by_reason.get("unbalanced_quote"), Some(&1));
        let e = &r.errors[0];
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("line 3 is never closed") && e.message.contains("to line 5"),
            "{}",
            e.message
        );
        assert_eq!(r.rejected, 3);
        // At the end of the file the swallowed record has too few fields: same reason.
        let mut lines: Vec<String> = generic_csv().lines().map(str::to_string).collect();
        lines[6] = lines[6].replace("先办结后受理", "\"先办结后受理");
        lines.push("A008,2025-03-03 09:00:00,投诉,,,不完整".into());
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let db2 = format!("sqlite://{}", d.join("j2.db").display());
        let r2 = import(&shipped("generic-12345.toml"), &db2, &file)
            .await
            .unwrap();
        assert_eq!(r2.imported, 4, "{:#?}", r2.errors);
        let q = r2
            .errors
            .iter()
            .find(|e| e.reason == "unbalanced_quote")
            .expect("reported");
        assert_eq!(q.line, 7, "{}", q.message);
        // Rows are all or nothing: the accepted row has its whole history, nothing else exists.
        let store = Store::open(&db).await.unwrap();
        let total: i64 = store
            .count_by_status()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(total, 1);
        let a1 = store
            .get_by_tracking_code("12345-A001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.events(a1.id).await.unwrap().len(), 5);
        // History is not news: an import publishes no webhook events.
        assert_eq!(store.outbox_stats().await.unwrap().outbox, 0);
        store.close().await;
    }

    #[tokio::test]
    async fn nyc_sample_imports_with_its_flaws_flagged() {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/nyc311/service_requests_2023-02-28_sample.csv");
        if !file.exists() {
            eprintln!("skipped: {} not present", file.display());
            return;
        }
        let d = tmp("nyc");
        let db = format!("sqlite://{}", d.join("j.db").display());
        let m = shipped("nyc311.toml");
        let r = run(Args {
            mapping: &m,
            db: &db,
            file: &file,
            dry_run: false,
            chunk: DEFAULT_CHUNK,
        })
        .await
        .unwrap();
        assert_eq!(r.rows_read, 4999);
        assert!(r.imported > 4000, "{}", r.imported);
        assert!(
            r.rejected_by_reason
                .get("closed_before_received")
                .is_some_and(|&n| n >= 1)
        );
        let due = r.due_date.as_ref().unwrap();
        assert_eq!(due.with_due_date, 121);
        let again = run(Args {
            mapping: &m,
            db: &db,
            file: &file,
            dry_run: false,
            chunk: DEFAULT_CHUNK,
        })
        .await
        .unwrap();
        assert_eq!(again.imported, 0);
        assert_eq!(again.skipped_existing, r.imported);
    }
}
