//! Password hashing (argon2id with the crate's recommended parameters).
//!
//! Owns how passwords are hashed and checked (which passwords are acceptable is
//! `domain::NewPassword`'s rule). Hashing is slow on purpose, so it always runs on tokio's
//! blocking pool, never on the async threads. It must not touch the store, HTTP or logs: a
//! password or a hash is never printed.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

use super::AuthError;

/// A hash computed once with the same parameters as real ones. Checking a login for an
/// unknown account (or one without a password) verifies against it, so the time taken does
/// not reveal whether the account exists; such a check answers `false` whatever it finds.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_blocking(b"easel: no account has this password").ok());

/// Hashes a password with argon2id into a PHC string (`$argon2id$v=19$...`), with a fresh
/// random salt. Runs on the blocking pool.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_blocking(password.as_bytes()))
        .await
        .map_err(|e| AuthError::Hash(format!("hashing task failed: {e}")))?
}

/// Whether `password` matches `hash`. With no hash (unknown email, account without a
/// password) or an unreadable one, it does the same work against a dummy hash and answers
/// `false`, so timing does not tell those cases apart. Runs on the blocking pool.
pub async fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    tokio::task::spawn_blocking(move || verify_blocking(password.as_bytes(), hash.as_deref()))
        .await
        .unwrap_or(false)
}

fn hash_blocking(password: &[u8]) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn verify_blocking(password: &[u8], hash: Option<&str>) -> bool {
    match hash_to_check(hash) {
        // Same work whichever hash it is; a match against the dummy counts for nothing.
        Some((parsed, counts)) => {
            Argon2::default().verify_password(password, &parsed).is_ok() && counts
        }
        None => false,
    }
}

/// The hash a check verifies against, and whether a match counts: the account's own hash,
/// or (none, or unreadable) [`DUMMY_HASH`], which costs the same to verify.
fn hash_to_check(hash: Option<&str>) -> Option<(PasswordHash, bool)> {
    match hash.and_then(|h| PasswordHash::new(h).ok()) {
        Some(parsed) => Some((parsed, true)),
        None => DUMMY_HASH
            .as_deref()
            .and_then(|h| PasswordHash::new(h).ok())
            .map(|dummy| (dummy, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", Some(&hash)).await);
        assert!(!verify_password("correct horse battery!", Some(&hash)).await);
        assert!(!verify_password("", Some(&hash)).await);
        let again = hash_password("correct horse battery").await.unwrap();
        assert_ne!(hash, again, "a fresh salt every time");
    }

    #[tokio::test]
    async fn no_hash_or_a_malformed_hash_never_verifies() {
        assert!(!verify_password("anything at all", None).await);
        assert!(!verify_password("anything at all", Some("not-a-phc-string")).await);
        assert!(DUMMY_HASH.is_some(), "the dummy hash was computed");
    }

    #[tokio::test]
    async fn unknown_accounts_cost_as_much_as_known_ones() {
        let real = hash_password("some password").await.unwrap();
        let (own, counts) = hash_to_check(Some(&real)).unwrap();
        assert!(counts);
        // Without a usable hash the check runs argon2 on a hash with the very same
        // algorithm, version, parameters and salt length: the same work, by construction.
        for missing in [None, Some("not-a-phc-string"), Some("")] {
            let (dummy, counts) = hash_to_check(missing).expect("the dummy hash is usable");
            assert!(!counts, "{missing:?}");
            assert_eq!(dummy.algorithm, own.algorithm);
            assert_eq!(dummy.version, own.version);
            assert_eq!(dummy.params, own.params);
            assert_eq!(
                dummy.salt.map(|s| s.len()),
                own.salt.map(|s| s.len()),
                "{missing:?}"
            );
        }
        // The dummy's own password does not unlock an account without one.
        assert!(!verify_password("easel: no account has this password", None).await);
    }
}
