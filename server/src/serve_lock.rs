//! The lock that keeps an embedded SQLite store to one serving process.
//!
//! Owns the lock file beside the database (`<db path>.lock`) and the OS advisory lock on it
//! (`File::try_lock`: `flock` on Unix), which `easel serve` holds for as long as it runs.
//! Two servers on one file would each hold a room for the same board and overwrite each
//! other's compactions. The kernel drops the lock when the process ends, however it ends,
//! so a killed server never blocks the next start.
//!
//! Must not touch the database file itself, and only `serve` takes the lock: the one-shot
//! commands (`easel migrate`, `board ...`, `admin ...`) work beside a running server.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

/// Held while one `easel serve` uses an SQLite file; dropping it releases the lock.
#[derive(Debug)]
pub struct ServeLock {
    /// The open lock file: the advisory lock lives as long as it stays open.
    _file: File,
}

/// Why `easel serve` may not use an SQLite file.
#[derive(Debug, thiserror::Error)]
pub enum ServeLockError {
    /// Another process holds the lock: a server is running on this file.
    #[error(
        "another easel serve is using the SQLite store at {} (lock {}); stop it, or use \
         Postgres (DATABASE_URL) to run several processes",
        db.display(),
        lock.display()
    )]
    Held {
        /// The database file.
        db: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The lock file could not be created, opened or locked.
    #[error("cannot lock the SQLite store's lock file {}", lock.display())]
    Io {
        /// The lock file.
        lock: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

impl ServeLock {
    /// Takes the lock for the SQLite file at `db`, creating its directory (0700) and the
    /// lock file (0600) if missing. Fails at once, without waiting, with
    /// [`ServeLockError::Held`] while another process holds it.
    pub fn acquire(db: &Path) -> Result<Self, ServeLockError> {
        let lock = lock_path(db);
        let io = |source| ServeLockError::Io {
            lock: lock.clone(),
            source,
        };
        if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_fs::create_dir_all(dir).map_err(io)?;
        }
        let file = crate::private_fs::file_options()
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(ServeLockError::Held {
                db: db.to_owned(),
                lock,
            }),
            Err(TryLockError::Error(source)) => Err(io(source)),
        }
    }
}

/// The lock file of the database at `db`: its path with `.lock` appended.
fn lock_path(db: &Path) -> PathBuf {
    let mut lock = db.as_os_str().to_owned();
    lock.push(".lock");
    PathBuf::from(lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("easel.db");
        let first = ServeLock::acquire(&db).expect("the first lock");
        match ServeLock::acquire(&db) {
            Err(e @ ServeLockError::Held { .. }) => {
                let message = e.to_string();
                assert!(message.contains(&db.display().to_string()), "{message}");
                assert!(
                    message.contains(&format!("{}.lock", db.display())),
                    "{message}"
                );
                assert!(message.contains("DATABASE_URL"), "{message}");
            }
            other => panic!("expected the lock to be held: {other:?}"),
        }
        drop(first);
        ServeLock::acquire(&db).expect("the lock once the first holder let go");
    }

    #[test]
    fn locks_on_other_files_do_not_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let _one = ServeLock::acquire(&dir.path().join("one.db")).unwrap();
        let _two = ServeLock::acquire(&dir.path().join("two.db")).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_and_a_missing_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let _lock = ServeLock::acquire(&data.join("easel.db")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("easel.db.lock")), 0o600);
        assert!(
            !data.join("easel.db").exists(),
            "the database is not touched"
        );
    }
}
