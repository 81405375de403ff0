//! File orders, done inside the container as the job's user: a write (a
//! file, or a tar unpacked into a directory), a read (a file's bytes, or a
//! directory as a tar whose links stay links), a listing. Every path is
//! resolved here, where its links are the container's; one that leads
//! outside the allowed roots is refused. The orchestrator checked the path
//! as text; this check is the container's own view, and the container's
//! walls, not this code, are what keep the host safe.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use corral_proto::sandbox::order::{
    CONTENT_HEADER, FAILED_HEADER, FailureKind, Order, OrderFailure, RESULT_PATH,
};
use corral_proto::sandbox::{FileEntry, FileKind};
use http_body_util::{Either, Full};
use hyper::{HeaderMap, Method};

use crate::Client;
use crate::failure::complain;

mod common;
mod streamed;
mod upload;

use common::{Answer, blocking, failed, failure, io_failure, resolve_followed};
use streamed::FileBody;
use upload::{upload, write_streamed, write_tar};

/// `O_NONBLOCK`: an open that never waits for a writer.
#[expect(clippy::cast_possible_wrap, reason = "a low flag bit")]
const NONBLOCK: i32 = rustix::fs::OFlags::NONBLOCK.bits() as i32;

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
    let mut content = |kind| {
        headers.insert(
            CONTENT_HEADER,
            hyper::header::HeaderValue::from_static(kind),
        );
    };
    // A file is read as it is sent; every other answer is in memory.
    let body = match answer {
        Ok(Answer::File(file, size)) => {
            content("file");
            Either::Right(FileBody::new(file, size))
        }
        Ok(Answer::Tar(bytes)) => {
            content("tar");
            Either::Left(Full::new(Bytes::from(bytes)))
        }
        Ok(Answer::Json(bytes)) => Either::Left(Full::new(Bytes::from(bytes))),
        Err(failure) => {
            headers.insert(FAILED_HEADER, hyper::header::HeaderValue::from_static("1"));
            let failure = serde_json::to_vec(&failure).unwrap_or_default();
            Either::Left(Full::new(Bytes::from(failure)))
        }
    };
    let path = format!("{RESULT_PATH}/{id}");
    if let Err(error) = client
        .forward_body(Method::POST, &path, &headers, body)
        .await
    {
        complain(&format!("cannot send the answer to order {id}: {error}"));
    }
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
    // Opened before it is looked at, so what is checked is what is read;
    // without blocking, so a FIFO swapped in for the file cannot hold the
    // open (and this thread) for ever.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(NONBLOCK)
        .open(&target)
        .map_err(|error| io_failure(&target, &error))?;
    let meta = file
        .metadata()
        .map_err(|error| io_failure(&target, &error))?;
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
    Ok(Answer::File(file, size))
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
