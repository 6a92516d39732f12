//! One error type for every handler: a status, a stable machine code, a message a person can
//! read and, for a bad field, its name. Internal errors are logged, never shown.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiesu_app::{AppError, ErrorKind};
use jiesu_domain::DomainError;
use jiesu_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_string(),
                message: message.into(),
                field: None,
            },
        }
    }
    pub fn field(status: StatusCode, code: &str, field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(status, code, message);
        e.body.field = Some(field.to_string());
        e
    }
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::field(StatusCode::UNPROCESSABLE_ENTITY, code, field, message)
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in first: send `Authorization: Bearer <token>`",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden_role", message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match e.kind {
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::BadInput => StatusCode::BAD_REQUEST,
            ErrorKind::Refused | ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            // Already logged where it was made.
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            body: ErrorBody {
                code: e.code,
                message: e.message,
                field: e.field,
            },
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        AppError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field ("missing field `text`", "unknown variant …").
                let msg = e.body_text();
                let field = field_from_serde(&msg);
                let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", msg);
                err.body.field = field;
                err
            }
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::bad_request("malformed_json", e.body_text())
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large",
                )
            }
            other => ApiError::bad_request("bad_body", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::field(StatusCode::BAD_REQUEST, "bad_path", "id", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let msg = r.body_text();
        let field = field_from_serde(&msg);
        let mut e = ApiError::bad_request("bad_query", msg);
        e.body.field = field;
        e
    }
}

/// Pulls the field name out of serde messages like "missing field `text`" or
/// "text: invalid type: …" (axum prefixes the latter with its own sentence).
pub(crate) fn field_from_serde(msg: &str) -> Option<String> {
    if let Some(i) = msg.find("field `") {
        let rest = &msg[i + 7..];
        return rest.find('`').map(|j| rest[..j].to_string());
    }
    let body = msg
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .or_else(|| msg.strip_prefix("Failed to deserialize query string: "))
        .unwrap_or(msg);
    let (candidate, _) = body.split_once(": ")?;
    let looks_like_path = !candidate.is_empty()
        && candidate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '[' || c == ']');
    (looks_like_path && candidate != "invalid type").then(|| candidate.to_string())
}

pub type ApiResult<T> = Result<T, ApiError>;
