//! Password hashing (argon2id with the crate's recommended parameters).
//!
//! Owns how passwords are hashed and checked (which passwords are acceptable is
//! `domain::NewPassword`'s rule). Hashing is slow on purpose, so it always runs on tokio's
//! blocking pool, never on the async threads, and each run works in 19 MiB of memory. Every
//! hash and verification in the process (sign-up, login, the first administrator, `easel
//! admin create-user`) runs in one of a fixed number of slots, one per core; the rest wait
//! their turn, in order. Each slot keeps its 19 MiB and reuses it for every run, so hashing
//! memory is at most cores × 19 MiB whatever the load, and no run allocates (freeing a
//! 19 MiB block per run made glibc keep ever more of them: 900 MiB after 160 sign-ups,
//! with only two running at a time). It must not touch the store, HTTP or logs: a password
//! or a hash is never printed.

use std::num::NonZeroUsize;
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use tokio::sync::Semaphore;

use super::AuthError;
use crate::metrics::metrics;

/// The hashing slots: at most one argon2 run per slot at a time, one slot per core.
struct Slots {
    permits: Semaphore,
    /// The working memory of the slots not running now. A slot takes a buffer when it
    /// starts a run and puts it back before letting the next run in, so there are never
    /// more buffers than slots.
    idle_memory: Mutex<Vec<Vec<Block>>>,
}

static SLOTS: LazyLock<Slots> = LazyLock::new(|| {
    let slots = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    metrics().password_hash_slots.set(slots as i64);
    Slots {
        permits: Semaphore::new(slots),
        idle_memory: Mutex::new(Vec::with_capacity(slots)),
    }
});

/// Runs `work` (one argon2 run, given a slot's memory) on the blocking pool once a slot is
/// free. The slot is held until the work ends, even if the caller stops waiting for it.
/// `None` if the work panicked.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
) -> Option<T> {
    let permit = SLOTS.permits.acquire().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let _running = metrics().password_hash_started();
        let mut memory = SLOTS
            .idle_memory
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
            .unwrap_or_else(|| vec![Block::default(); Params::default().block_count()]);
        let result = work(&mut memory);
        if let Ok(mut idle) = SLOTS.idle_memory.lock() {
            idle.push(memory);
        }
        result
    })
    .await
    .ok()
}

/// A hash of a password no account has, made with the same algorithm, version, parameters
/// and salt length as real ones. Checking a login for an unknown account (or one without a
/// password) verifies against it, so the time taken does not reveal whether the account
/// exists; such a check answers `false` whatever it finds.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$oUPkjyRI+jd+DX0ahxsPuw$HLEWQxtLzSwJWNDJlJD+J9dPDn56z7xEYprZ9srtnQ0";

/// Hashes a password with argon2id into a PHC string (`$argon2id$v=19$...`), with a fresh
/// random salt. Runs on the blocking pool, in a hashing slot.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    in_slot(move |memory| hash_with(memory, password.as_bytes()))
        .await
        .ok_or_else(|| AuthError::Hash("the hashing task failed".into()))?
}

/// Whether `password` matches `hash`. With no hash (unknown email, account without a
/// password) or an unreadable one, it does the same work against a dummy hash and answers
/// `false`, so timing does not tell those cases apart. Runs on the blocking pool, in a
/// hashing slot.
pub async fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    in_slot(move |memory| verify_with(memory, password.as_bytes(), hash.as_deref()))
        .await
        .unwrap_or(false)
}

fn hash_error(e: impl std::fmt::Display) -> AuthError {
    AuthError::Hash(e.to_string())
}

/// Hashes `password` with the default argon2id parameters, in `memory`.
fn hash_with(memory: &mut [Block], password: &[u8]) -> Result<String, AuthError> {
    let (algorithm, version, params) = (Algorithm::Argon2id, Version::V0x13, Params::default());
    let salt = argon2::password_hash::try_generate_salt().map_err(hash_error)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut output, memory)
        .map_err(hash_error)?;
    let hash = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(hash_error)?,
        salt: Some(Salt::new(&salt).map_err(hash_error)?),
        hash: Some(Output::new(&output).map_err(hash_error)?),
    };
    Ok(hash.to_string())
}

fn verify_with(memory: &mut [Block], password: &[u8], hash: Option<&str>) -> bool {
    match hash_to_check(hash) {
        // Same work whichever hash it is; a match against the dummy counts for nothing.
        Some((parsed, counts)) => matches(memory, password, &parsed) && counts,
        None => false,
    }
}

/// Whether `password` hashes to `hash`'s output with `hash`'s algorithm, version,
/// parameters and salt, computed in `memory` (or, for parameters bigger than the default
/// ones, in memory of its own). The outputs are compared in constant time.
fn matches(memory: &mut [Block], password: &[u8], hash: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let mut own;
    let memory = if params.block_count() <= memory.len() {
        memory
    } else {
        own = vec![Block::default(); params.block_count()];
        own.as_mut_slice()
    };
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut output, memory)
        .is_ok()
        && Output::new(&output).is_ok_and(|computed| computed == *expected)
}

/// The hash a check verifies against, and whether a match counts: the account's own hash,
/// or (none, or unreadable) [`DUMMY_HASH`], which costs the same to verify.
fn hash_to_check(hash: Option<&str>) -> Option<(PasswordHash, bool)> {
    match hash.and_then(|h| PasswordHash::new(h).ok()) {
        Some(parsed) => Some((parsed, true)),
        None => PasswordHash::new(DUMMY_HASH)
            .ok()
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
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses"
        );
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

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut memory = vec![Block::default(); Params::default().block_count()];
        let ours = hash_with(&mut memory, b"correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
        let theirs = Argon2::default().hash_password(b"staple").unwrap();
        assert!(matches(&mut memory, b"staple", &theirs));
        assert!(!matches(&mut memory, b"stapler", &theirs));
        // Parameters bigger than the slot's memory get memory of their own.
        let bigger = Params::new(2 * Params::DEFAULT_M_COST, 1, 1, None).unwrap();
        let big = Argon2::new(Algorithm::Argon2id, Version::V0x13, bigger)
            .hash_password(b"roomy")
            .unwrap();
        assert!(matches(&mut memory, b"roomy", &big));
        assert_eq!(memory.len(), Params::default().block_count());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        let slots = std::thread::available_parallelism().map_or(1, NonZeroUsize::get) as i64;
        let hashes = (0..3 * slots + 2)
            .map(|i| async move { hash_password(&format!("password {i}")).await });
        for hash in futures_util::future::join_all(hashes).await {
            assert!(hash.unwrap().starts_with("$argon2id$"));
        }
        let text = metrics().render();
        let peak: i64 = text
            .lines()
            .find_map(|l| l.strip_prefix("easel_password_hashes_peak "))
            .and_then(|v| v.parse().ok())
            .expect("the peak is on /metrics");
        assert!(
            (1..=slots).contains(&peak),
            "peak {peak} with {slots} slots"
        );
        assert_eq!(metrics().password_hash_slots.get(), slots);
    }
}
