//! The use cases' one error type: a kind (what went wrong, which each door maps to its own
//! answer: an HTTP status, a page, an exit code), a stable machine code, a message a person can
//! read and, for a bad field, its name.

use jiesu_domain::DomainError;
use jiesu_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A field's value is wrong (HTTP 422).
    Invalid,
    /// The call itself is malformed: a bad query parameter, a conflicting option (HTTP 400).
    BadInput,
    /// The case's state does not allow it (HTTP 409).
    Refused,
    /// Someone else changed it first, or a unique value is taken (HTTP 409).
    Conflict,
    /// The actor's role may not do this (HTTP 403).
    Forbidden,
    /// No such thing, or not visible to this actor (HTTP 404: ids cannot be probed).
    NotFound,
    /// Too large to take (HTTP 413).
    TooLarge,
    /// Not logged in, or the credentials are wrong (HTTP 401).
    Unauthenticated,
    /// Too many attempts; try again later (HTTP 429).
    Throttled,
    /// A dependency is down (HTTP 503).
    Unavailable,
    /// A bug or a broken dependency; the detail is logged, never shown (HTTP 500).
    Internal,
}

/// Displayed as `field: message` (or the message alone), which is what the CLI prints.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{message}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        AppError {
            kind,
            code: code.to_string(),
            message: message.into(),
            field: None,
        }
    }
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }
    /// A field's value is wrong.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message).with_field(field)
    }
    /// A query parameter is wrong (`bad_query`).
    pub fn bad_query(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, "bad_query", message).with_field(field)
    }
    pub fn bad_input(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, code, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden_role", message)
    }
    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "not_found", "no such resource")
    }
    /// Logs `e` and answers with a message that reveals nothing of it.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid {
                field,
                code,
                message,
            } => AppError::invalid(&field, code, message),
            DomainError::Refused { code, message } => {
                AppError::new(ErrorKind::Refused, code, message)
            }
            DomainError::Forbidden { code, message } => {
                AppError::new(ErrorKind::Forbidden, code, message)
            }
            DomainError::NotVisible => AppError::not_found(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::NotFound => AppError::not_found(),
            StoreError::Duplicate { field } => AppError::new(
                ErrorKind::Conflict,
                "duplicate",
                format!("{field} is already used"),
            )
            .with_field(field),
            StoreError::Conflict => AppError::new(
                ErrorKind::Conflict,
                "concurrent_change",
                "the request changed while you acted; reload and retry",
            ),
            other => AppError::internal(other),
        }
    }
}
