//! Row sources: CSV (any encoding, decoded to UTF-8) or an XLSX worksheet.

use super::building::Importer;
use anyhow::{Context, Result, anyhow, bail};
use std::io::Read;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Row sources: CSV (any encoding, decoded to UTF-8) or an XLSX worksheet

/// Whether `path` is an XLSX workbook: by its extension, or by the zip signature every XLSX
/// starts with (a workbook saved as `.csv` by mistake is still read as what it is).
pub(super) fn is_xlsx(path: &Path) -> Result<bool> {
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
pub(super) enum XCell {
    Text(String),
    /// A date-time cell: (year, month, day, hour, minute, second) on the sheet's wall clock.
    DateTime(i16, i8, i8, i8, i8, i8),
    /// `#N/A`, `#DIV/0!` …
    Error(String),
}

/// What the XLSX reader thread sends.
pub(super) enum XMsg {
    Header(Vec<String>),
    /// A non-empty row: its sheet row number (1-based) and cells by column (sparse).
    Row(u64, Vec<(usize, XCell)>),
    Failed(String),
}

/// Where rows come from.
pub(super) enum Rows {
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
pub(super) enum Next {
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
    pub(super) fn open_csv(
        path: &Path,
        stream: Box<dyn Read>,
        delimiter: u8,
    ) -> Result<(Rows, Vec<String>)> {
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
    pub(super) fn open_xlsx(
        path: &Path,
        sheet: Option<&str>,
    ) -> Result<(Rows, Vec<String>, String)> {
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
    pub(super) fn next(&mut self, rec: &mut csv::ByteRecord, imp: &Importer<'_>) -> Result<Next> {
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
