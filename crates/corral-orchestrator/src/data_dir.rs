//! The server's data directory: made private, locked to one live server,
//! and the one-line secret files in it read or created with mode 0600.
//!
//! A leaf: it imports nothing of the crate, so the server, the secrets
//! store and anything else that keeps a file there can use it.

use std::io;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use corral_proto::local_server::{LOCK_FILE, SERVER_FILE, ServerInfo};

/// Why the data directory or a file in it is unusable.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A file or the directory cannot be used.
    #[error("data directory {path}: {message}")]
    Unusable {
        /// The path at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another live server owns the directory.
    #[error(
        "data directory {path} belongs to another corral server ({owner}); stop it first, or give this one --data-dir"
    )]
    Busy {
        /// The data directory.
        path: PathBuf,
        /// The other server, as its `server.json` names it.
        owner: String,
    },
}

fn unusable(path: &Path, error: &dyn std::fmt::Display) -> DataDirError {
    DataDirError::Unusable {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Creates the directory if needed and makes it private (0700).
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    std::fs::create_dir_all(dir).map_err(|error| unusable(dir, &error))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|error| unusable(dir, &error))
}

/// Takes the data directory for this process: one live server per data
/// directory, or a second one would re-adopt (and on stopping, kill) the
/// first one's jobs and remove its files. The lock lasts as long as the
/// returned file is open; the kernel drops it when the process dies.
pub fn lock(dir: &Path) -> Result<std::fs::File, DataDirError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|error| unusable(&path, &error))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            let owner = std::fs::read_to_string(dir.join(SERVER_FILE))
                .ok()
                .and_then(|text| serde_json::from_str::<ServerInfo>(&text).ok())
                .map_or_else(
                    || "starting up".to_owned(),
                    |info| format!("pid {}, {}", info.pid, info.url),
                );
            Err(DataDirError::Busy {
                path: dir.to_owned(),
                owner,
            })
        }
        Err(errno) => Err(unusable(&path, &errno)),
    }
}

/// Writes where this server listens, for clients on the same machine.
pub fn write_server_info(dir: &Path, info: &ServerInfo) -> Result<(), DataDirError> {
    let path = dir.join(SERVER_FILE);
    let text = serde_json::to_string(info).map_err(|error| unusable(&path, &error))?;
    std::fs::write(&path, text).map_err(|error| unusable(&path, &error))
}

/// Reads a one-line secret file, or creates it with mode 0600. A file that
/// others can read is refused: its secret may already be known.
pub fn read_or_create_private<E: std::fmt::Display>(
    path: &Path,
    make: impl FnOnce() -> Result<String, E>,
) -> Result<String, DataDirError> {
    match std::fs::metadata(path) {
        Ok(metadata) => {
            if metadata.permissions().mode() & 0o077 != 0 {
                return Err(unusable(
                    path,
                    &"readable by others; chmod 600 it or delete it",
                ));
            }
            let value = std::fs::read_to_string(path).map_err(|error| unusable(path, &error))?;
            let value = value.trim();
            if value.is_empty() {
                // An empty API token would match no request, or, in a
                // check less careful than ours, every one.
                return Err(unusable(path, &"empty; delete it and a new one is made"));
            }
            Ok(value.to_owned())
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let value = make().map_err(|error| unusable(path, &error))?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|error| unusable(path, &error))?;
            io::Write::write_all(&mut file, value.as_bytes())
                .map_err(|error| unusable(path, &error))?;
            Ok(value)
        }
        Err(error) => Err(unusable(path, &error)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    /// A private file left empty (a crash while it was written, a user
    /// emptying it) is refused, naming it, not taken as an empty secret;
    /// one missing is made.
    #[test]
    fn an_empty_private_file_is_refused_and_a_missing_one_made() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("api-token");
        let made = read_or_create_private(&path, || Ok::<_, String>("t0ken".into()));
        assert_eq!(made.expect("made"), "t0ken");
        std::fs::write(&path, " \n").expect("emptied");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("mode");
        let error = read_or_create_private(&path, || Ok::<_, String>("unused".into()))
            .expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains("empty") && message.contains("api-token"),
            "{message}"
        );
    }
}
