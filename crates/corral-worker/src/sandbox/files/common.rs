//! What the file orders share: their answer, their failures, and the
//! resolving of a path inside the allowed roots.

use std::path::{Path, PathBuf};

use corral_proto::sandbox::FILE_ROOTS;
use corral_proto::sandbox::order::{FailureKind, OrderFailure};

/// What a file order hands back.
pub(super) enum Answer {
    /// A regular file, opened, and its size then: read as it is sent.
    File(std::fs::File, u64),
    /// A directory as a tar.
    Tar(Vec<u8>),
    /// A listing, or a write's acknowledgement, as JSON.
    Json(Vec<u8>),
}

/// `work` on a thread that may block (disk work), its panic a failure.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, OrderFailure> + Send + 'static,
) -> Result<T, OrderFailure> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| Err(failed(format!("the file task failed: {error}"))))
}

pub(super) fn failed(message: String) -> OrderFailure {
    OrderFailure {
        kind: FailureKind::Failed,
        message,
    }
}

pub(super) fn failure(kind: FailureKind, message: String) -> OrderFailure {
    OrderFailure { kind, message }
}

pub(super) fn io_failure(path: &Path, error: &std::io::Error) -> OrderFailure {
    let kind = match error.kind() {
        std::io::ErrorKind::NotFound => {
            return failure(FailureKind::NotFound, path.display().to_string());
        }
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            FailureKind::TooLarge
        }
        // The path's own fault: a file where a directory must be, or the
        // other way round, or a place the job's user may not write.
        std::io::ErrorKind::NotADirectory
        | std::io::ErrorKind::IsADirectory
        | std::io::ErrorKind::PermissionDenied
        | std::io::ErrorKind::ReadOnlyFilesystem
        | std::io::ErrorKind::AlreadyExists => FailureKind::BadPath,
        _ => FailureKind::Failed,
    };
    failure(kind, format!("{}: {error}", path.display()))
}

/// Whether the resolved `path` is one of the roots or under one.
fn under_roots(path: &Path) -> bool {
    FILE_ROOTS
        .iter()
        .any(|root| path == Path::new(root) || path.starts_with(root))
}

/// `path` with its parent's links resolved (its last part is not
/// followed: a link is itself the thing named), checked to stay inside.
pub(super) fn resolve(path: &str) -> Result<PathBuf, OrderFailure> {
    let path = Path::new(path);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(path.to_path_buf());
    };
    let parent = parent
        .canonicalize()
        .map_err(|error| io_failure(parent, &error))?;
    inside(parent.join(name), path)
}

/// `path` with every link resolved, the last part too, checked to stay inside.
pub(super) fn resolve_followed(path: &str) -> Result<PathBuf, OrderFailure> {
    let path = Path::new(path);
    let resolved = path
        .canonicalize()
        .map_err(|error| io_failure(path, &error))?;
    inside(resolved, path)
}

/// `resolved` when it is under the roots; else why `path` is refused.
fn inside(resolved: PathBuf, path: &Path) -> Result<PathBuf, OrderFailure> {
    if under_roots(&resolved) {
        return Ok(resolved);
    }
    Err(failure(
        FailureKind::BadPath,
        format!(
            "{} leads outside {} through a link",
            path.display(),
            FILE_ROOTS.join(", ")
        ),
    ))
}
