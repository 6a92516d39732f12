//! Why the domain says no. Each variant maps to one HTTP status; each carries a stable code the
//! UI translates and a message a person can read.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DomainError {
    /// A field's value is wrong (HTTP 422).
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        code: &'static str,
        message: String,
    },
    /// The action is not allowed in the request's current state (HTTP 409).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The actor's role may not do this (HTTP 403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The actor may not see the request; indistinguishable from a missing one (HTTP 404).
    #[error("request not found")]
    NotVisible,
}

impl DomainError {
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.to_string(),
            code,
            message: message.into(),
        }
    }
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Refused {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        DomainError::Forbidden {
            code: "forbidden_role",
            message: message.into(),
        }
    }
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid { code, .. }
            | DomainError::Refused { code, .. }
            | DomainError::Forbidden { code, .. } => code,
            DomainError::NotVisible => "not_found",
        }
    }
}
