//! Files and directories only the user Easel runs as may read: the embedded database and
//! its WAL and shared-memory files, the generated signing key, the unsaved-updates spill.
//!
//! Owns the modes: directories Easel creates are 0700, files it creates are 0600, and files
//! of its own found more open (made by an older version) are tightened to 0600 when they
//! are next opened, with a warning. An existing directory is never changed: one Easel did
//! not create may be shared on purpose, so a data directory others can read only gets a
//! warning (its files are 0600 all the same). Knows nothing of what the files hold.
//! Elsewhere than on Unix these functions create what is missing and change nothing.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Mode of the directories Easel creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files Easel creates.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents, each 0700. Existing ones are left as they are.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)
}

/// Options that create a file 0600 (and write to it).
pub fn file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// Creates a new file 0600, truncating one left at `path` (a temporary file).
pub fn create_file(path: &Path) -> io::Result<File> {
    let file = file_options().create(true).truncate(true).open(path)?;
    tighten(path)?;
    Ok(file)
}

/// Makes sure the file at `path` exists and only its owner may read it: creates it empty
/// (0600) if missing, tightens it to 0600 if others may read or write it.
pub fn ensure_file(path: &Path) -> io::Result<()> {
    file_options().create(true).truncate(false).open(path)?;
    tighten(path)
}

/// Tightens the file at `path` to 0600 if group or others have any access to it; nothing
/// when it does not exist.
pub fn tighten(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))?;
            tracing::warn!(
                path = %path.display(),
                was = format!("{mode:o}"),
                "other users could read this file; made it 0600"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Warns when the existing directory `dir` lets other users list or enter it.
pub fn warn_if_open(dir: &Path, setting: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() && mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{mode:o}"),
                    "{setting} is open to other users; its files are 0600, but `chmod 700` it to hide even their names"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, setting);
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn what_easel_creates_is_its_own() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        let db = dir.join("db");
        ensure_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn files_left_open_are_tightened_and_kept() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("easel.db");
        std::fs::write(&file, b"contents").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"contents");
        tighten(&root.path().join("missing")).unwrap();
        let dir = root.path().join("shared");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&dir), 0o755, "an existing directory is never changed");
    }
}
