//! Authentication: who is calling. Issues and verifies JWTs.
//!
//! Owns token formats, keys and claim validation. It must not touch HTTP types, the store
//! or rooms: callers hand it a token string and get a [`Principal`] or an [`AuthError`].

mod jwt;

pub use jwt::{Claims, JwtKeys, Principal, TokenRequest};

/// Why a token was refused. Every variant means "not authenticated" (4401 / HTTP 401).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token was presented.
    #[error("no token")]
    Missing,
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// Bad signature, wrong algorithm, malformed, or missing claims.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The signing key could not be loaded or created.
    #[error("signing key unavailable: {0}")]
    Key(String),
}
