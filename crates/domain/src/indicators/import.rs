//! Imported statistics: a CSV file of `indicator,period,street,value,source,date` (a header
//! row naming the columns, in any order; a UTF-8 BOM, CRLF and quoted cells as Excel writes
//! them are fine). Good rows are kept; each bad row is reported by its row number — the
//! spreadsheet's, the header being row 1 — and the field at fault, every bad field of the row.
//!
//! `period` is a year (`2025`) or a month (`2025-06`); `street` empty means the district;
//! `value` a plain number (no `%`, no thousands separator); `date` the publication date.

use super::definition::Catalogue;
use crate::error::DomainError;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The columns a file must have.
pub const COLUMNS: [&str; 6] = ["indicator", "period", "street", "value", "source", "date"];

/// A year or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Year(i16),
    Month(i16, i8),
}

impl Period {
    pub fn year(self) -> i16 {
        match self {
            Period::Year(y) | Period::Month(y, _) => y,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Month(y, m) => write!(f, "{y:04}-{m:02}"),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        let year = |y: &str| -> Result<i16, ()> {
            if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            y.parse::<i16>()
                .ok()
                .filter(|y| (1990..=2100).contains(y))
                .ok_or(())
        };
        match s.split_once('-') {
            None => Ok(Period::Year(year(s)?)),
            Some((y, m)) => {
                let m: i8 = (m.len() == 2)
                    .then(|| m.parse().ok())
                    .flatten()
                    .filter(|m| (1..=12).contains(m))
                    .ok_or(())?;
                Ok(Period::Month(year(y)?, m))
            }
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse()
            .map_err(|_| <D::Error as serde::de::Error>::custom("a year YYYY or a month YYYY-MM"))
    }
}

/// A good row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedRow {
    /// The spreadsheet row it came from.
    pub row: usize,
    pub indicator: String,
    pub period: Period,
    /// `None` for the district as a whole.
    pub street: Option<String>,
    pub value: f64,
    pub source: String,
    pub date: Date,
}

/// What is wrong with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// The outcome of reading a file: the good rows, and the bad ones' errors in row order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Import {
    pub rows: Vec<ImportedRow>,
    pub errors: Vec<RowError>,
}

/// Splits CSV text into records of cells, each with the row number it starts on. Quotes may
/// hold commas, doubled quotes and line breaks.
fn records(text: &str) -> Vec<(usize, Vec<String>)> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut out = Vec::new();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if cell.is_empty() => quoted = true,
            '\n' if quoted => {
                line += 1;
                cell.push('\n');
            }
            ',' if !quoted => cells.push(std::mem::take(&mut cell)),
            '\r' if !quoted && chars.peek() == Some(&'\n') => {}
            '\n' => {
                cells.push(std::mem::take(&mut cell));
                out.push((start, std::mem::take(&mut cells)));
                line += 1;
                start = line;
            }
            _ => cell.push(c),
        }
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        out.push((start, cells));
    }
    // Blank lines (every cell empty) are not rows anyone meant.
    out.retain(|(_, cs)| cs.iter().any(|c| !c.trim().is_empty()));
    out
}

/// Reads an import file. The file as a whole is refused (`Err`) only when it cannot be read as
/// a table of these columns: no header, a column missing (`missing_column`, naming it) or
/// unknown (`unknown_field`). Everything else is per row: an unknown indicator
/// (`unknown_value`), one the platform computes (`indicator_not_imported`), a bad period
/// (`bad_period`), value (`bad_number`) or date (`invalid`), a date or period in the future
/// (`date_in_future`), an empty source (`required`), a row repeating an earlier row's
/// indicator, period and street (`duplicate`), a row with the wrong number of cells
/// (`wrong_column_count`).
pub fn parse_import_csv(
    text: &str,
    catalogue: &Catalogue,
    today: Date,
) -> Result<Import, DomainError> {
    let recs = records(text);
    let Some(((_, header), body)) = recs.split_first() else {
        return Err(DomainError::invalid(
            "file",
            "empty",
            "the file has no rows",
        ));
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    if let Some(h) = names.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(DomainError::invalid(
            h,
            "unknown_field",
            format!(
                "unknown column `{h}` (the columns are {})",
                COLUMNS.join(",")
            ),
        ));
    }
    let mut col = [0usize; 6];
    for (i, c) in COLUMNS.iter().enumerate() {
        col[i] = names
            .iter()
            .position(|h| h == c)
            .ok_or_else(|| DomainError::invalid(c, "missing_column", format!("no `{c}` column")))?;
    }
    let mut out = Import::default();
    let mut seen: Vec<(String, Period, Option<String>)> = Vec::new();
    for (row, cells) in body {
        let row = *row;
        let mut errs: Vec<RowError> = Vec::new();
        let mut err = |field: &str, code: &'static str, message: String| {
            errs.push(RowError {
                row,
                field: field.to_string(),
                code,
                message,
            })
        };
        if cells.len() != names.len() {
            err(
                "row",
                "wrong_column_count",
                format!("{} cells, the header has {}", cells.len(), names.len()),
            );
            out.errors.append(&mut errs);
            continue;
        }
        let cell = |i: usize| cells[col[i]].trim();
        let indicator = cell(0).to_string();
        match catalogue.get(&indicator) {
            _ if indicator.is_empty() => err("indicator", "required", "must be given".into()),
            None => err(
                "indicator",
                "unknown_value",
                format!("`{indicator}` is not in the catalogue"),
            ),
            Some(ind) if !ind.is_imported() => err(
                "indicator",
                "indicator_not_imported",
                format!("`{indicator}` is computed from the platform's records"),
            ),
            Some(_) => {}
        }
        let period = match cell(1).parse::<Period>() {
            Ok(p) if p.year() > today.year() => {
                err("period", "date_in_future", format!("{p} is in the future"));
                None
            }
            Ok(p) => Some(p),
            Err(()) => {
                err(
                    "period",
                    "bad_period",
                    format!("`{}` is not a year YYYY or a month YYYY-MM", cell(1)),
                );
                None
            }
        };
        let street = Some(cell(2).to_string()).filter(|s| !s.is_empty());
        if street.as_ref().is_some_and(|s| s.chars().count() > 50) {
            err("street", "too_long", "at most 50 characters".into());
        }
        let value = match cell(3).parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                err(
                    "value",
                    "bad_number",
                    format!("`{}` is not a plain number", cell(3)),
                );
                None
            }
        };
        let source = cell(4).to_string();
        if source.is_empty() {
            err("source", "required", "name the publisher".into());
        } else if source.chars().count() > 100 {
            err("source", "too_long", "at most 100 characters".into());
        }
        let date = match cell(5).parse::<Date>() {
            Ok(d) if d > today => {
                err("date", "date_in_future", format!("{d} is in the future"));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                err(
                    "date",
                    "invalid",
                    format!("`{}` is not a date YYYY-MM-DD", cell(5)),
                );
                None
            }
        };
        // Only a kept row makes a later one a duplicate.
        let key = period.map(|p| (indicator.clone(), p, street.clone()));
        if let Some(k) = &key
            && seen.contains(k)
        {
            err(
                "period",
                "duplicate",
                format!("{indicator} {} is already given above", k.1),
            );
        }
        match (errs.is_empty(), period, value, date) {
            (true, Some(period), Some(value), Some(date)) => {
                seen.extend(key);
                out.rows.push(ImportedRow {
                    row,
                    indicator,
                    period,
                    street,
                    value,
                    source,
                    date,
                })
            }
            _ => out.errors.append(&mut errs),
        }
    }
    Ok(out)
}
