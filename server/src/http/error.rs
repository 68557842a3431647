//! The one place where errors become HTTP responses.
//!
//! Owns [`ApiError`], its status codes and the JSON error shape
//! `{"error": {"code": "...", "message": "..."}}`, and the handlers that give actix's own
//! extractor failures the same shape. A 500 tells the client nothing internal and logs
//! the whole cause chain.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::auth::AuthError;
use crate::domain::DomainError;
use crate::store::StoreError;

/// An error a handler returns; each variant has one status and one machine-readable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials (401).
    #[error("authentication required: {0}")]
    Unauthorized(#[from] AuthError),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Clashes with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A dependency is down; retry later (503).
    #[error("{0}")]
    Unavailable(&'static str),
    /// A bug or an unexpected failure (500); the cause is logged, not sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(msg) => ApiError::Conflict(msg.into()),
            StoreError::LastOwner => ApiError::Conflict(e.to_string()),
            StoreError::Invalid(msg) => ApiError::BadRequest(msg),
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %chain(&e), "store unavailable");
                ApiError::Unavailable("the database is unreachable; try again shortly")
            }
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = %chain(cause.as_ref()), "internal error");
        }
        error_body(self.status_code(), self.code(), &self.to_string())
    }
}

/// The JSON error body every failure uses.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": { "code": code, "message": message } }))
}

/// An error and all its causes on one line, for logs.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Malformed or oversized JSON bodies become a 400 (or 413) in the usual shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let response = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
        }
        JsonPayloadError::ContentType => error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        other => error_body(StatusCode::BAD_REQUEST, "bad_request", &other.to_string()),
    };
    actix_web::error::InternalError::from_response(err, response).into()
}

/// Bad path segments (such as a malformed id) become a 400.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    let response = error_body(StatusCode::BAD_REQUEST, "bad_request", &err.to_string());
    actix_web::error::InternalError::from_response(err, response).into()
}

/// Bad query strings become a 400.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let response = error_body(StatusCode::BAD_REQUEST, "bad_request", &err.to_string());
    actix_web::error::InternalError::from_response(err, response).into()
}

/// Unknown routes get a JSON 404.
pub async fn not_found() -> HttpResponse {
    error_body(StatusCode::NOT_FOUND, "not_found", "no such route")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(e: ApiError) -> (StatusCode, serde_json::Value) {
        let res = e.error_response();
        let status = res.status();
        let bytes = to_bytes(res.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn errors_have_one_json_shape() {
        let (status, body) = body_of(StoreError::NotFound("board").into()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "board not found");
        let (status, body) = body_of(StoreError::LastOwner.into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["code"], "conflict");
    }

    #[actix_web::test]
    async fn internal_errors_say_nothing_internal() {
        let e = ApiError::Internal("password=hunter2 connection string leaked".into());
        let (status, body) = body_of(e).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["message"], "internal error");
    }
}
