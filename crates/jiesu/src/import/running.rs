//! The run: reading rows, building, checking, writing in chunks, and the report it returns.

use super::building::{Built, Importer};
use super::decoding::{Rec, open_decoded};
use super::mapping::{Cols, Mapping, Names};
use super::sources::{Next, Rows, is_xlsx};
use anyhow::{Context, Result, bail};
use jiesu_app::App;
use jiesu_app::console;
use jiesu_domain::{Actor, EventKind, RequestState, RequestType, Role};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// Rows written per transaction: large enough for multi-row statements to pay off, small
/// enough that memory stays flat on a million-row file.
pub const DEFAULT_CHUNK: usize = 2_000;
/// How many row errors and warnings the report lists in full (the counts cover all).
const LISTED: usize = 50;

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

    let app = crate::open_app(a.db, None).await?;
    let dir = app.dir.clone();
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
            flush(&app, &mut chunk, &mut report, a.dry_run).await?;
            chunk_keys.clear();
        }
    }
    flush(&app, &mut chunk, &mut report, a.dry_run).await?;
    app.close().await;

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
    app: &App,
    chunk: &mut Vec<Built>,
    report: &mut Report,
    dry_run: bool,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = chunk.iter().map(|b| b.key.clone()).collect();
    let existing = console::imported_keys(app, &keys).await?;
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
        console::import_histories(app, &items)
            .await
            .context("writing a chunk of imported requests")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_domain::{CloseOutcome, Status};
    use jiesu_store::Store;
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
