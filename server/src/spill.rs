//! The last resort for updates that could not be saved before the process stops.
//!
//! Owns the spill files under `EASEL_DATA_DIR/unsaved/`: when a room shuts down while the
//! store is unreachable, the updates it accepted but could not save are written here, in
//! order and fsynced, instead of being dropped; the next start replays them into the store
//! before serving. It deals in bytes and files: it knows nothing of yrs, sockets or SQL, and
//! reaches the database only through the [`Store`] trait. The directory and its files are
//! the server user's alone (0700, 0600: see `private_fs`). Replaying an update twice is
//! harmless (applying a Yjs update is idempotent), so a crash during replay loses nothing.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::domain::BoardId;
use crate::store::{MAX_APPEND_BATCH, Store, StoreError, now_ms};

const MAGIC: &[u8] = b"EASEL-UNSAVED-1\n";
const SUFFIX: &str = ".updates";

/// Why spilling or replaying failed.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    /// The spill directory or a file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The store refused the replayed updates.
    #[error("replaying {path} into the store failed")]
    Store {
        /// The spill file, kept for the next start.
        path: PathBuf,
        /// The cause.
        source: StoreError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SpillError + '_ {
    move |source| SpillError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `updates` (in order) for `board` to a new file in `dir`, durably: the file is
/// complete and fsynced under a temporary name, then renamed, then the directory is synced.
pub fn write(dir: &Path, board: BoardId, updates: &[Vec<u8>]) -> Result<PathBuf, SpillError> {
    crate::private_fs::create_dir_all(dir).map_err(io_error(dir))?;
    let name = format!(
        "{}.{}.{}{SUFFIX}",
        board.as_uuid(),
        now_ms(),
        std::process::id()
    );
    let path = dir.join(name);
    let tmp = path.with_extension("tmp");
    let mut bytes =
        Vec::with_capacity(MAGIC.len() + updates.iter().map(|u| u.len() + 4).sum::<usize>());
    bytes.extend_from_slice(MAGIC);
    for update in updates {
        let len = u32::try_from(update.len()).map_err(|_| SpillError::Io {
            path: path.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "an update over 4 GiB"),
        })?;
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(update);
    }
    let mut file = crate::private_fs::create_file(&tmp).map_err(io_error(&tmp))?;
    file.write_all(&bytes).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_error(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))?;
    Ok(path)
}

/// What one spill file holds: its board and its updates, in order.
type Spilled = (BoardId, Vec<Vec<u8>>);

/// Parses one spill file; `None` if it is not a complete spill file.
fn read(path: &Path) -> Result<Option<Spilled>, SpillError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some(board) = name
        .split('.')
        .next()
        .and_then(|id| BoardId::parse(id).ok())
    else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_error(path))?;
    let Some(mut rest) = bytes.strip_prefix(MAGIC) else {
        return Ok(None);
    };
    let mut updates = Vec::new();
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_le_bytes(*len) as usize;
        if tail.len() < len {
            return Ok(None);
        }
        updates.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    Ok(Some((board, updates)))
}

/// Replays every spill file in `dir` into the store, oldest first, deleting each once its
/// updates are saved. A file for a board that no longer exists, or one that does not
/// parse, is renamed aside (`.orphaned`, `.corrupt`) and reported, never deleted. Returns
/// how many updates were replayed.
pub async fn replay(dir: &Path, store: &dyn Store) -> Result<usize, SpillError> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_str().is_some_and(|s| s.ends_with(SUFFIX)))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error(dir)(e)),
    };
    for entry in fs::read_dir(dir).map_err(io_error(dir))?.flatten() {
        let path = entry.path();
        crate::private_fs::tighten(&path).map_err(io_error(&path))?;
    }
    files.sort_by_key(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.split('.')
            .nth(1)
            .and_then(|ms| ms.parse::<i64>().ok())
            .unwrap_or(0)
    });
    let mut replayed = 0;
    for path in files {
        let Some((board, updates)) = read(&path)? else {
            tracing::error!(file = %path.display(), "unsaved-updates file does not parse; kept as .corrupt");
            set_aside(&path, "corrupt")?;
            continue;
        };
        let mut orphaned = false;
        for chunk in updates.chunks(MAX_APPEND_BATCH) {
            match store.append_updates(board, chunk).await {
                Ok(_) => {}
                Err(StoreError::NotFound(_)) => {
                    orphaned = true;
                    break;
                }
                Err(source) => return Err(SpillError::Store { path, source }),
            }
        }
        if orphaned {
            tracing::warn!(board_id = %board, file = %path.display(), "unsaved updates of a deleted board; kept as .orphaned");
            set_aside(&path, "orphaned")?;
            continue;
        }
        fs::remove_file(&path).map_err(io_error(&path))?;
        tracing::info!(board_id = %board, updates = updates.len(), "replayed updates saved at the last shutdown");
        replayed += updates.len();
    }
    Ok(replayed)
}

fn set_aside(path: &Path, what: &str) -> Result<(), SpillError> {
    let aside = path.with_extension(what);
    fs::rename(path, &aside).map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spill_file_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let board = BoardId::new();
        let updates = vec![vec![1, 2, 3], Vec::new(), vec![9; 70_000]];
        let path = write(dir.path(), board, &updates).unwrap();
        assert_eq!(read(&path).unwrap(), Some((board, updates)));
        assert!(!path.with_extension("tmp").exists());
    }

    #[cfg(unix)]
    #[test]
    fn spill_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("unsaved");
        let path = write(&dir, BoardId::new(), &[vec![1]]).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn truncated_or_foreign_files_do_not_parse() {
        let dir = tempfile::tempdir().unwrap();
        let board = BoardId::new();
        let path = write(dir.path(), board, &[vec![7; 100]]).unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(read(&path).unwrap(), None);
        fs::write(&path, b"something else").unwrap();
        assert_eq!(read(&path).unwrap(), None);
    }
}
