//! File orders, done inside the container as the job's user: a write (a
//! file, or a tar unpacked into a directory), a read (a file's bytes, or a
//! directory as a tar whose links stay links), a listing. Every path is
//! resolved here, where its links are the container's; one that leads
//! outside the allowed roots is refused. The orchestrator checked the path
//! as text; this check is the container's own view, and the container's
//! walls, not this code, are what keep the host safe.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use corral_proto::sandbox::order::{
    CONTENT_HEADER, FAILED_HEADER, FailureKind, Order, OrderFailure, RESULT_PATH, UPLOAD_PATH,
};
use corral_proto::sandbox::{FILE_ROOTS, FileEntry, FileKind};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method};
use tokio::io::AsyncWriteExt;

use crate::Client;
use crate::failure::complain;

/// What a file order hands back.
enum Answer {
    /// A file's bytes.
    File(Vec<u8>),
    /// A directory as a tar.
    Tar(Vec<u8>),
    /// A listing, or a write's acknowledgement, as JSON.
    Json(Vec<u8>),
}

/// Does `order` and posts its answer.
pub async fn run(client: Arc<Client>, order: Order) {
    let Some(id) = order.file_id() else {
        return;
    };
    let answer = match order {
        Order::Write {
            id,
            path,
            tar: true,
        } => match upload(&client, id).await {
            Ok(bytes) => blocking(move || write_tar(&path, &bytes)).await,
            Err(failure) => Err(failure),
        },
        Order::Write {
            id,
            path,
            tar: false,
        } => write_streamed(&client, id, path).await,
        Order::Read {
            path, max_bytes, ..
        } => blocking(move || read(&path, max_bytes)).await,
        Order::List { path, .. } => blocking(move || list(&path)).await,
        Order::Exec(_) => return,
    };
    let mut headers = HeaderMap::new();
    let body = match answer {
        Ok(Answer::File(bytes)) => {
            headers.insert(
                CONTENT_HEADER,
                hyper::header::HeaderValue::from_static("file"),
            );
            bytes
        }
        Ok(Answer::Tar(bytes)) => {
            headers.insert(
                CONTENT_HEADER,
                hyper::header::HeaderValue::from_static("tar"),
            );
            bytes
        }
        Ok(Answer::Json(bytes)) => bytes,
        Err(failure) => {
            headers.insert(FAILED_HEADER, hyper::header::HeaderValue::from_static("1"));
            serde_json::to_vec(&failure).unwrap_or_default()
        }
    };
    let path = format!("{RESULT_PATH}/{id}");
    if let Err(error) = client
        .forward(Method::POST, &path, &headers, Bytes::from(body))
        .await
    {
        complain(&format!("cannot send the answer to order {id}: {error}"));
    }
}

/// The body of upload `id`, as it comes.
async fn open_upload(client: &Client, id: u64) -> Result<Incoming, OrderFailure> {
    let answer = client
        .open(Method::GET, &format!("{UPLOAD_PATH}/{id}"), Bytes::new())
        .await
        .map_err(|error| failed(format!("cannot fetch the upload: {error}")))?;
    if !answer.status().is_success() {
        return Err(failed(format!(
            "cannot fetch the upload: {}",
            answer.status()
        )));
    }
    Ok(answer.into_body())
}

/// The whole of upload `id` (a tar, unpacked once it is all there).
async fn upload(client: &Client, id: u64) -> Result<Bytes, OrderFailure> {
    Ok(open_upload(client, id)
        .await?
        .collect()
        .await
        .map_err(|error| failed(format!("cannot fetch the upload: {error}")))?
        .to_bytes())
}

/// Writes upload `id` to a new file beside `path` as it comes, and renames
/// it into place once all of it came: a cut-off upload leaves nothing.
async fn write_streamed(client: &Client, id: u64, path: String) -> Result<Answer, OrderFailure> {
    let (target, (temporary, file)) = tokio::task::spawn_blocking(move || new_file_for(&path))
        .await
        .unwrap_or_else(|error| Err(failed(format!("the file task failed: {error}"))))?;
    let written = async {
        let mut body = open_upload(client, id).await?;
        let mut file = tokio::fs::File::from_std(file);
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|error| failed(format!("cannot fetch the upload: {error}")))?;
            if let Some(data) = frame.data_ref() {
                file.write_all(data)
                    .await
                    .map_err(|error| io_failure(&temporary, &error))?;
            }
        }
        file.flush()
            .await
            .map_err(|error| io_failure(&temporary, &error))?;
        // A rename replaces a link at `target` itself, never what it points to.
        std::fs::rename(&temporary, &target).map_err(|error| io_failure(&target, &error))
    }
    .await;
    if let Err(failure) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(failure);
    }
    Ok(Answer::Json(b"{}".to_vec()))
}

async fn blocking(
    work: impl FnOnce() -> Result<Answer, OrderFailure> + Send + 'static,
) -> Result<Answer, OrderFailure> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| Err(failed(format!("the file task failed: {error}"))))
}

fn failed(message: String) -> OrderFailure {
    OrderFailure {
        kind: FailureKind::Failed,
        message,
    }
}

fn failure(kind: FailureKind, message: String) -> OrderFailure {
    OrderFailure { kind, message }
}

fn io_failure(path: &Path, error: &std::io::Error) -> OrderFailure {
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
fn resolve(path: &str) -> Result<PathBuf, OrderFailure> {
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
fn resolve_followed(path: &str) -> Result<PathBuf, OrderFailure> {
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

/// Makes the directories on the way to `path`, as the job's user: a link
/// on the way is followed here, and then refused by the resolving if it led
/// outside.
fn make_parents(path: &str) -> Result<(), OrderFailure> {
    if let Some(parent) = Path::new(path).parent() {
        std::fs::create_dir_all(parent).map_err(|error| io_failure(parent, &error))?;
    }
    Ok(())
}

/// Unpacks the tar `bytes` into the directory at `path`.
fn write_tar(path: &str, bytes: &[u8]) -> Result<Answer, OrderFailure> {
    make_parents(path)?;
    let target = resolve_followed(path).or_else(|_| {
        let resolved = resolve(path)?;
        std::fs::create_dir_all(&resolved).map_err(|error| io_failure(&resolved, &error))?;
        Ok::<_, OrderFailure>(resolved)
    })?;
    if !target.is_dir() {
        return Err(failure(
            FailureKind::BadPath,
            format!("{path} is not a directory"),
        ));
    }
    super::archive::unpack(bytes, &target).map_err(|error| {
        if matches!(
            error.kind(),
            std::io::ErrorKind::Other | std::io::ErrorKind::InvalidData
        ) {
            tar_failure(&error)
        } else {
            io_failure(&target, &error)
        }
    })?;
    Ok(Answer::Json(b"{}".to_vec()))
}

/// Where a file upload to `path` goes, and a new file beside it to write
/// first.
fn new_file_for(path: &str) -> Result<(PathBuf, (PathBuf, std::fs::File)), OrderFailure> {
    make_parents(path)?;
    let target = resolve(path)?;
    if target.is_dir() && !target.is_symlink() {
        return Err(failure(
            FailureKind::BadPath,
            format!("{path} is a directory: send a tar to unpack into it"),
        ));
    }
    let parent = target.parent().unwrap_or(Path::new("/"));
    let temporary = tempfile_in(parent)?;
    Ok((target, temporary))
}

fn tar_failure(error: &std::io::Error) -> OrderFailure {
    failure(FailureKind::BadPath, format!("not a readable tar: {error}"))
}

/// A new file beside where an upload goes, opened for writing.
fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File), OrderFailure> {
    for attempt in 0..100u32 {
        let path = dir.join(format!(".corral-upload-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => {
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
                return Ok((path, file));
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(io_failure(&path, &error)),
        }
    }
    Err(failed(format!("cannot make a file in {}", dir.display())))
}

fn read(path: &str, max_bytes: u64) -> Result<Answer, OrderFailure> {
    let target = resolve_followed(path)?;
    let too_large = || {
        failure(
            FailureKind::TooLarge,
            format!("{path} is larger than {max_bytes} bytes"),
        )
    };
    if target.is_dir() {
        let packed = super::archive::pack(&target, Limited::new(max_bytes))
            .map_err(|error| limited_failure(&target, &error, too_large()))?;
        return Ok(Answer::Tar(packed.bytes));
    }
    let meta = std::fs::metadata(&target).map_err(|error| io_failure(&target, &error))?;
    if !meta.is_file() {
        // A FIFO or a device would hold the read open for ever.
        return Err(failure(
            FailureKind::BadPath,
            format!("{path} is not a regular file or a directory"),
        ));
    }
    let size = meta.len();
    if size > max_bytes {
        return Err(too_large());
    }
    std::fs::read(&target)
        .map(Answer::File)
        .map_err(|error| io_failure(&target, &error))
}

fn limited_failure(path: &Path, error: &std::io::Error, too_large: OrderFailure) -> OrderFailure {
    if error.kind() == std::io::ErrorKind::FileTooLarge {
        too_large
    } else {
        io_failure(path, error)
    }
}

/// A buffer that refuses to grow past its limit.
struct Limited {
    bytes: Vec<u8>,
    limit: u64,
}

impl Limited {
    fn new(limit: u64) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
        }
    }
}

impl Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.limit {
            return Err(std::io::Error::from(std::io::ErrorKind::FileTooLarge));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn list(path: &str) -> Result<Answer, OrderFailure> {
    let target = resolve_followed(path)?;
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&target).map_err(|error| io_failure(&target, &error))? {
        let entry = entry.map_err(|error| io_failure(&target, &error))?;
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let kind = if meta.file_type().is_symlink() {
            FileKind::Symlink
        } else if meta.is_dir() {
            FileKind::Dir
        } else if meta.is_file() {
            FileKind::File
        } else {
            FileKind::Other
        };
        let target = (kind == FileKind::Symlink)
            .then(|| std::fs::read_link(entry.path()).ok())
            .flatten()
            .map(|link| link.display().to_string());
        entries.push(FileEntry {
            name: entry.file_name().to_string_lossy().into_owned(),
            kind,
            size: meta.len(),
            mode: meta.mode() & 0o7777,
            mtime: meta.mtime(),
            target,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    serde_json::to_vec(&entries)
        .map(Answer::Json)
        .map_err(|error| failed(format!("cannot encode the listing: {error}")))
}
