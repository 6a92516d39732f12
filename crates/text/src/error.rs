use std::path::{Path, PathBuf};

/// Errors of the text crate; each names the file, column or row at fault.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: CSV error: {message}")]
    Csv { path: PathBuf, message: String },
    #[error("{path}: no column named {column:?} (columns: {available})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    #[error("{path}: row {row}: {message}")]
    BadRow {
        path: PathBuf,
        row: u64,
        message: String,
    },
    #[error("no usable training examples: {0}")]
    NoData(String),
    #[error("model file is not valid: {0}")]
    BadModel(String),
}

impl TextError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        TextError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T, E = TextError> = std::result::Result<T, E>;
