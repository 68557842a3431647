//! The one place where errors become HTTP responses.
//!
//! Owns [`ApiError`], its status codes and the JSON error shape
//! `{"error": {"code": "...", "message": "..."}}`, and the handlers that give actix's own
//! extractor failures the same shape. A 500 tells the client nothing internal and logs
//! the whole cause chain.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use super::access::AccessError;
use crate::auth::AuthError;
use crate::domain::DomainError;
use crate::image::ImageError;
use crate::protocol::{self, ProtocolError};
use crate::rooms::{JoinError, Kick};
use crate::store::StoreError;
use crate::telemetry::chain;

/// An error a handler returns; each variant has one status and one machine-readable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials (401).
    #[error("authentication required: {0}")]
    Unauthorized(AuthError),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Clashes with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The thing existed but is no longer usable, such as an expired share link (410).
    #[error("{0}")]
    Gone(&'static str),
    /// The body is larger than this route accepts (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body's `Content-Type` is not one this route reads, or its content is not of a
    /// type the route accepts (415).
    #[error("{0}")]
    UnsupportedMediaType(std::borrow::Cow<'static, str>),
    /// Too many attempts; retry after this many seconds (429).
    #[error("too many attempts; retry in {0} s")]
    TooManyRequests(u64),
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
            ApiError::Gone(_) => "gone",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests(_) => "too_many_requests",
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
            StoreError::TooManyVersions(max) => ApiError::Conflict(format!(
                "this board already has {max} named versions, the most this server keeps \
                 (EASEL_MAX_VERSIONS_PER_BOARD); an administrator can raise it"
            )),
            StoreError::AssetsFull(max) => ApiError::Conflict(format!(
                "this image would take the board's images past {max} bytes, the most this \
                 server keeps per board (EASEL_MAX_BOARD_ASSET_BYTES); an administrator can \
                 raise it"
            )),
            StoreError::Invalid(msg) => ApiError::BadRequest(msg),
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %chain(&e), "store unavailable");
                ApiError::Unavailable("the database is unreachable; try again shortly")
            }
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Key(_) | AuthError::Hash(_) => ApiError::Internal(Box::new(e)),
            other => ApiError::Unauthorized(other),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Revoked => ApiError::Unauthorized(AuthError::Invalid(e.to_string())),
            AccessError::Disabled => ApiError::Forbidden("account disabled"),
            AccessError::NoBoard => ApiError::NotFound("board"),
            AccessError::NoRole => ApiError::Forbidden("you have no access to this board"),
            AccessError::Store(e) => e.into(),
        }
    }
}

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> Self {
        ApiError::UnsupportedMediaType(e.to_string().into())
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
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = %chain(cause.as_ref()), "internal error");
        }
        let mut response = error_body(self.status_code(), self.code(), &self.to_string());
        if let ApiError::TooManyRequests(secs) = self
            && let Ok(value) = actix_web::http::header::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// The JSON shape of every error response, for the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, such as `not_found` or `forbidden`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

/// The JSON error body every failure uses.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": { "code": code, "message": message } }))
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

/// Why the server closes a WebSocket. Codes follow the stock y-websocket client's
/// convention: 4400–4499 means "do not reconnect", anything else is transient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketClose {
    /// 4401: missing, invalid or expired token.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 4403: no access to this board (or access revoked).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 4404: no such board, or it was deleted.
    #[error("board not found")]
    NotFound,
    /// Dropped by the room for a reason of its own.
    #[error(transparent)]
    Kicked(#[from] Kick),
    /// 1007: a frame that does not decode.
    #[error("invalid frame: {0}")]
    Malformed(#[from] ProtocolError),
    /// 1003: a text frame (y-sync is binary).
    #[error("binary frames only")]
    TextFrame,
    /// 1009: a frame over `EASEL_MAX_MESSAGE_BYTES`.
    #[error("message too big")]
    TooBig,
    /// 1008: sustained flooding past the rate limit.
    #[error("rate limit exceeded")]
    RateLimited,
    /// 1002: a WebSocket protocol violation.
    #[error("websocket protocol error")]
    Protocol,
    /// 1001: nothing heard from the client for too long.
    #[error("no traffic; reconnect")]
    Silent,
    /// 1011: the board could not be loaded.
    #[error("internal error")]
    Internal,
}

impl SocketClose {
    /// The close code sent to the client.
    pub fn code(&self) -> u16 {
        match self {
            SocketClose::Unauthorized(_) => 4401,
            SocketClose::Forbidden(_) => 4403,
            SocketClose::NotFound => 4404,
            SocketClose::Kicked(kick) => match kick {
                Kick::ReadOnly => 4403,
                Kick::BoardDeleted => 4404,
                Kick::DocumentTooLarge => 4413,
                Kick::SlowConsumer => 1013,
                Kick::BacklogFull | Kick::Unavailable => 4503,
                Kick::ShuttingDown => 1001,
                Kick::Invalid(_) => 1007,
                Kick::Revoked(_) => 4403,
                Kick::SignedOut => 4401,
            },
            SocketClose::Malformed(ProtocolError::TooManyMessages(_)) => 1008,
            SocketClose::Malformed(
                ProtocolError::AwarenessTooLarge(_) | ProtocolError::TooCostly(_),
            ) => 1009,
            SocketClose::Malformed(_) => 1007,
            SocketClose::TextFrame => 1003,
            SocketClose::TooBig => 1009,
            SocketClose::RateLimited => 1008,
            SocketClose::Protocol => 1002,
            SocketClose::Silent => 1001,
            SocketClose::Internal => 1011,
        }
    }

    /// A short name of the reason, for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            SocketClose::Unauthorized(_) => "unauthorized",
            SocketClose::Forbidden(_) => "forbidden",
            SocketClose::NotFound => "not_found",
            SocketClose::Kicked(kick) => match kick {
                Kick::SlowConsumer => "slow_consumer",
                Kick::ReadOnly => "read_only",
                Kick::DocumentTooLarge => "document_too_large",
                Kick::BoardDeleted => "board_deleted",
                Kick::BacklogFull => "backlog_full",
                Kick::ShuttingDown => "shutting_down",
                Kick::Invalid(_) => "invalid_update",
                Kick::Unavailable => "unavailable",
                Kick::Revoked(_) => "revoked",
                Kick::SignedOut => "signed_out",
            },
            SocketClose::Malformed(ProtocolError::TooManyMessages(_)) => "too_many_messages",
            SocketClose::Malformed(ProtocolError::AwarenessTooLarge(_)) => "awareness_too_large",
            SocketClose::Malformed(ProtocolError::TooCostly(_)) => "too_costly",
            SocketClose::Malformed(ProtocolError::Update(protocol::ScanError::TooDeep)) => {
                "too_deep"
            }
            SocketClose::Malformed(_) => "malformed",
            SocketClose::TextFrame => "text_frame",
            SocketClose::TooBig => "too_big",
            SocketClose::RateLimited => "rate_limited",
            SocketClose::Protocol => "protocol_error",
            SocketClose::Silent => "silent",
            SocketClose::Internal => "internal",
        }
    }

    /// The close frame: code plus a short reason (a close reason may hold at most 123 bytes).
    pub fn reason(&self) -> actix_ws::CloseReason {
        let mut text = self.to_string();
        while text.len() > 123 {
            text.pop();
        }
        actix_ws::CloseReason {
            code: actix_ws::CloseCode::from(self.code()),
            description: Some(text),
        }
    }
}

impl From<AuthError> for SocketClose {
    fn from(e: AuthError) -> Self {
        SocketClose::Unauthorized(e.to_string())
    }
}

impl From<AccessError> for SocketClose {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Revoked => AuthError::Invalid(e.to_string()).into(),
            AccessError::Disabled => SocketClose::Forbidden("account disabled"),
            AccessError::NoBoard => SocketClose::NotFound,
            AccessError::NoRole => SocketClose::Forbidden("you are not a member of this board"),
            AccessError::Store(e) => {
                tracing::error!(error = %chain(&e), "reading access failed");
                SocketClose::Internal
            }
        }
    }
}

impl From<JoinError> for SocketClose {
    fn from(e: JoinError) -> Self {
        match e {
            JoinError::NotFound => SocketClose::NotFound,
            JoinError::ShuttingDown => SocketClose::Kicked(Kick::ShuttingDown),
            JoinError::Load(e) if e.is_unavailable() => SocketClose::Kicked(Kick::Unavailable),
            other => {
                tracing::error!(error = %chain(&other), "joining a room failed");
                SocketClose::Internal
            }
        }
    }
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
