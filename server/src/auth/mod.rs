//! Authentication: who is calling. Issues and verifies JWTs, hashes passwords, makes
//! share-link secrets.
//!
//! Owns token formats, keys, claim validation, password hashing, and link secrets. It must
//! not touch HTTP types, the store or rooms: callers hand it a token string and get a
//! [`Principal`] or an [`AuthError`].

mod jwt;
mod links;
mod password;
#[cfg(test)]
pub(crate) mod test_keys;

pub use jwt::{Audience, Claims, JwtKeys, Principal, TokenRequest};
pub use links::{LINK_TOKEN_BYTES, hash_link_token, new_link_token};
pub use password::{hash_password, verify_password};

/// Why authentication (or a credential operation) failed. `Missing`, `Expired`,
/// `NotYetValid` and `Invalid` mean "not authenticated" (4401 / HTTP 401); `Key` and `Hash`
/// are server faults.
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
    /// Bad signature, wrong algorithm, issuer or audience, malformed, or missing claims.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The signing key could not be loaded or created.
    #[error("signing key unavailable: {0}")]
    Key(String),
    /// Hashing a password failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}
