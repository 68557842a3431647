//! Share-link secrets: the random token a link carries, and the hash the store keeps.
//!
//! Owns how a link secret is made and hashed. Only the SHA-256 hash is ever stored, so a
//! leaked database does not leak usable links. It must not touch the store, HTTP or logs:
//! a link token is never printed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng;
use sha2::{Digest, Sha256};

/// Random bytes in a link token (256 bits).
pub const LINK_TOKEN_BYTES: usize = 32;

/// A new share-link token from the operating system's random number generator, as
/// URL-safe text (unpadded base64url), and its SHA-256 hash for the store.
pub fn new_link_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; LINK_TOKEN_BYTES];
    // The OS generator failing is not something to work around with a weaker one.
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random number generator failed");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_link_token(&token);
    (token, hash)
}

/// The SHA-256 hash of a link token, as the store keeps it and looks it up.
pub fn hash_link_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_random_and_hashed() {
        let (token, hash) = new_link_token();
        assert_eq!(token.len(), 43, "32 bytes of unpadded base64url");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        assert_eq!(hash.len(), 32);
        assert_eq!(hash, hash_link_token(&token));
        let (other, other_hash) = new_link_token();
        assert_ne!(token, other);
        assert_ne!(hash, other_hash);
    }

    #[test]
    fn the_hash_is_sha256_of_the_text() {
        // SHA-256("abc"), from FIPS 180-2.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = hash_link_token("abc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }
}
