//! Validation errors that point at the exact file, line and field to fix.

use std::fmt;

/// Which part of a row or document an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A CSV column, by its header name.
    Column(String),
    /// A TOML key (the last segment, e.g. `warning_ratio` or `completion`).
    Key(String),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Column(name) => write!(f, "column {name}"),
            Field::Key(name) => write!(f, "key {name}"),
        }
    }
}

/// One problem in the world's files, e.g.
/// `categories.csv:17: column responsible: unknown unit "foo"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldError {
    /// File name relative to the world folder (`units.csv`, `holidays/cn_2025.csv`).
    pub file: String,
    /// 1-based line; `None` only when the file as a whole could not be read.
    pub line: Option<usize>,
    pub field: Option<Field>,
    pub message: String,
}

impl WorldError {
    pub(crate) fn at(file: &str, line: usize, field: Option<Field>, message: String) -> Self {
        WorldError {
            file: file.to_owned(),
            line: Some(line),
            field,
            message,
        }
    }

    pub(crate) fn column(file: &str, line: usize, column: &str, message: String) -> Self {
        Self::at(file, line, Some(Field::Column(column.to_owned())), message)
    }

    pub(crate) fn key(file: &str, line: usize, key: &str, message: String) -> Self {
        Self::at(file, line, Some(Field::Key(key.to_owned())), message)
    }
}

impl fmt::Display for WorldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for WorldError {}

/// Every problem found while loading a world; validation never stops at the first one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldErrors(pub Vec<WorldError>);

impl WorldErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, WorldError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was collected.
    pub(crate) fn into_result<T>(errors: Vec<WorldError>, value: T) -> Result<T, WorldErrors> {
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(WorldErrors(errors))
        }
    }
}

impl fmt::Display for WorldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WorldErrors {}

impl IntoIterator for WorldErrors {
    type Item = WorldError;
    type IntoIter = std::vec::IntoIter<WorldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a WorldErrors {
    type Item = &'a WorldError;
    type IntoIter = std::slice::Iter<'a, WorldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
