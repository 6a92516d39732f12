//! Reading CSV and TOML text while keeping line numbers for error messages.

use crate::error::WorldError;
use serde::de::DeserializeOwned;

/// A value together with the 1-based line it came from.
#[derive(Debug, Clone)]
pub(crate) struct Lined<T> {
    pub line: usize,
    pub value: T,
}

/// One CSV data row with its fields in the order of the requested columns.
pub(crate) struct Row<'c> {
    pub file: &'c str,
    pub line: usize,
    columns: &'c [&'c str],
    fields: Vec<String>,
    /// Optional columns the header holds, with their fields (absent ones read as empty).
    optional: Vec<(&'c str, String)>,
}

impl Row<'_> {
    /// The trimmed field of `column` (which must be one of the requested columns).
    pub fn get(&self, column: &str) -> &str {
        self.columns
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.fields.get(i))
            .or_else(|| {
                self.optional
                    .iter()
                    .find(|(c, _)| *c == column)
                    .map(|(_, v)| v)
            })
            .map_or("", String::as_str)
    }

    /// The field, or an error naming the column when it is empty.
    pub fn required(&self, column: &str, errors: &mut Vec<WorldError>) -> Option<String> {
        let value = self.get(column);
        if value.is_empty() {
            errors.push(self.error(column, "must not be empty".to_owned()));
            None
        } else {
            Some(value.to_owned())
        }
    }

    pub fn error(&self, column: &str, message: String) -> WorldError {
        WorldError::column(self.file, self.line, column, message)
    }
}

/// Reads a headed CSV text whose header must hold exactly `columns` (in any order).
/// Header problems are reported at line 1 and yield no rows; a malformed row is reported and
/// skipped, so one bad row never hides the others.
pub(crate) fn csv_rows<'c>(
    file: &'c str,
    text: &str,
    columns: &'c [&'c str],
    errors: &mut Vec<WorldError>,
) -> Vec<Row<'c>> {
    csv_rows_with(file, text, columns, &[], errors)
}

/// As [`csv_rows`], with `optional` columns the header may also hold (at most once each), so
/// a column added later does not break a deployment's older file.
pub(crate) fn csv_rows_with<'c>(
    file: &'c str,
    text: &str,
    columns: &'c [&'c str],
    optional: &'c [&'c str],
    errors: &mut Vec<WorldError>,
) -> Vec<Row<'c>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(header) => header.clone(),
        Err(err) => {
            errors.push(csv_error(file, &err));
            return Vec::new();
        }
    };
    if header.iter().all(str::is_empty) {
        errors.push(WorldError::at(
            file,
            1,
            None,
            format!("missing header row; expected {}", columns.join(",")),
        ));
        return Vec::new();
    }

    // Map each wanted column to its index in the file.
    let mut index = Vec::with_capacity(columns.len());
    let mut header_ok = true;
    for column in columns {
        let found: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h == column)
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [i] => index.push(*i),
            [] => {
                header_ok = false;
                errors.push(WorldError::column(
                    file,
                    1,
                    column,
                    "missing from the header".to_owned(),
                ));
            }
            _ => {
                header_ok = false;
                errors.push(WorldError::column(
                    file,
                    1,
                    column,
                    "appears more than once in the header".to_owned(),
                ));
            }
        }
    }
    let mut optional_index: Vec<(&'c str, usize)> = Vec::new();
    for column in optional {
        let found: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h == column)
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [] => {}
            [i] => optional_index.push((column, *i)),
            _ => {
                header_ok = false;
                errors.push(WorldError::column(
                    file,
                    1,
                    column,
                    "appears more than once in the header".to_owned(),
                ));
            }
        }
    }
    for name in header.iter() {
        if !columns.contains(&name) && !optional.contains(&name) {
            header_ok = false;
            let mut expected = columns.join(",");
            for o in optional {
                expected.push_str(&format!(" (optional: {o})"));
            }
            errors.push(WorldError::column(
                file,
                1,
                name,
                format!("unknown column; expected {expected}"),
            ));
        }
    }
    if !header_ok {
        return Vec::new();
    }

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                errors.push(csv_error(file, &err));
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        if record.len() != header.len() {
            errors.push(WorldError::at(
                file,
                line,
                None,
                format!("expected {} fields, found {}", header.len(), record.len()),
            ));
            continue;
        }
        let fields = index
            .iter()
            .map(|&i| record.get(i).unwrap_or("").to_owned())
            .collect();
        let optional = optional_index
            .iter()
            .map(|&(c, i)| (c, record.get(i).unwrap_or("").to_owned()))
            .collect();
        rows.push(Row {
            file,
            line,
            columns,
            fields,
            optional,
        });
    }
    rows
}

fn csv_error(file: &str, err: &csv::Error) -> WorldError {
    let line = err
        .position()
        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    WorldError::at(file, line, None, format!("unreadable CSV: {err}"))
}

/// 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Deserializes a TOML document, turning a syntax or shape error into a located error.
pub(crate) fn parse_toml<T: DeserializeOwned>(
    file: &str,
    text: &str,
    errors: &mut Vec<WorldError>,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(value) => Some(value),
        Err(err) => {
            let line = err.span().map_or(1, |span| line_of(text, span.start));
            errors.push(WorldError::at(file, line, None, err.message().to_owned()));
            None
        }
    }
}
