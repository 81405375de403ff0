//! Writes into a sandbox: a file streamed into a new file and renamed into
//! place once all of it came, a tar gathered whole and unpacked.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use corral_proto::sandbox::order::{FailureKind, OrderFailure, UPLOAD_PATH};
use http_body_util::BodyExt;
use hyper::Method;
use hyper::body::Incoming;
use tokio::io::AsyncWriteExt;

use super::common::{Answer, blocking, failed, failure, io_failure, resolve, resolve_followed};
use crate::Client;

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
pub(super) async fn upload(client: &Client, id: u64) -> Result<Bytes, OrderFailure> {
    Ok(open_upload(client, id)
        .await?
        .collect()
        .await
        .map_err(|error| failed(format!("cannot fetch the upload: {error}")))?
        .to_bytes())
}

/// Writes upload `id` to a new file beside `path` as it comes, and renames
/// it into place once all of it came: a cut-off upload leaves nothing.
pub(super) async fn write_streamed(
    client: &Client,
    id: u64,
    path: String,
) -> Result<Answer, OrderFailure> {
    let (target, (temporary, file)) = blocking(move || new_file_for(&path)).await?;
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
pub(super) fn write_tar(path: &str, bytes: &[u8]) -> Result<Answer, OrderFailure> {
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
    crate::sandbox::archive::unpack(bytes, &target).map_err(|error| {
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
        let path = dir.join(format!(
            "{}{}-{attempt}",
            crate::sandbox::archive::UPLOAD_PREFIX,
            std::process::id()
        ));
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
