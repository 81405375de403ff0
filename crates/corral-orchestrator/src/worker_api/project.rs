//! `GET /v1/project`: a copy-mode job's project as a tar stream, which its
//! worker unpacks into the container's own `/workspace`.
//!
//! Only directories, regular files and symbolic links are sent, links as
//! links (never followed, so a link to a host file outside the project
//! carries its target's name, not its content). The tree is read beneath
//! the directory held open when the job started, never by path (see
//! [`crate::project::tree`]): a component swapped for a link on the way
//! cannot lead the reader out of it. The project must fit the job's
//! `/workspace` (its tmpfs size), checked before anything is sent.

use std::io;
use std::io::Read as _;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use corral_proto::ProjectMode;
use tokio_util::io::{ReaderStream, SyncIoBridge};
use tracing::warn;

use crate::http::ApiError;
use crate::project::PinnedDir;
use crate::project::tree::{self, Node};

/// `GET /v1/project`: the copy-mode job's project as a tar stream; 404 for
/// any other job, 400 naming `project` when it is too large.
pub(super) async fn route(
    axum::Extension(session): axum::Extension<std::sync::Arc<super::served::ServedJob>>,
) -> Result<axum::response::Response, ApiError> {
    let job = &session.job;
    let (Some(project), ProjectMode::Copy) = (&session.project, job.project_mode) else {
        return Err(ApiError::NotFound {
            what: "a project to copy for this job".into(),
        });
    };
    let Ok(sending) = Arc::clone(&session.project_sending).try_acquire_owned() else {
        return Err(ApiError::Conflict {
            message: "the project is being sent already".into(),
        });
    };
    match archive(Arc::clone(project), job.limits.tmpfs_bytes, sending).await {
        Ok(body) => Ok(axum::response::Response::builder()
            .header(axum::http::header::CONTENT_TYPE, "application/x-tar")
            .body(body)
            .unwrap_or_default()),
        Err(error @ ProjectError::TooLarge { .. }) => {
            Err(ApiError::bad_field("project", error.to_string()))
        }
        Err(error) => Err(ApiError::Conflict {
            message: error.to_string(),
        }),
    }
}

/// Bytes buffered between the tar writer and the socket.
const PIPE_BYTES: usize = 256 << 10;
/// Bytes a tar entry costs beyond its content (its header and padding),
/// counted so a project of many small files is measured fairly.
const ENTRY_OVERHEAD: u64 = 1024;

/// Why the project cannot be sent.
#[derive(Debug, thiserror::Error)]
pub(super) enum ProjectError {
    /// It is larger than the job's `/workspace`.
    #[error(
        "the project is about {size} bytes, more than the job's /workspace holds ({limit} bytes, limits.tmpfs)"
    )]
    TooLarge {
        /// Its size, tar overhead included.
        size: u64,
        /// The job's tmpfs size.
        limit: u64,
    },
    /// It could not be read.
    #[error("cannot read the project: {0}")]
    Read(#[from] io::Error),
}

/// The project held as `root` as a streamed tar body, once it is known to
/// fit in `limit` bytes; `sending` is held until the tar is written.
pub(super) async fn archive(
    root: Arc<PinnedDir>,
    limit: u64,
    sending: tokio::sync::OwnedSemaphorePermit,
) -> Result<Body, ProjectError> {
    let measured = Arc::clone(&root);
    let size = tokio::task::spawn_blocking(move || measure(measured.fd(), 0))
        .await
        .map_err(|error| io::Error::other(crate::text::task_failure(&error)))??;
    if size > limit {
        return Err(ProjectError::TooLarge { size, limit });
    }
    let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
    let writer = SyncIoBridge::new(writer);
    tokio::task::spawn_blocking(move || {
        let mut builder = tar::Builder::new(writer);
        let written = append_tree(&mut builder, root.fd(), Path::new("")).and_then(|()| {
            builder.finish()?;
            builder.into_inner().map(drop)
        });
        // The reader sees the stream end early; the worker reports it.
        if let Err(error) = written {
            warn!(error = %error, "the project stream broke off");
        }
        drop(sending);
    });
    Ok(Body::from_stream(ReaderStream::new(reader)))
}

fn too_deep() -> io::Error {
    io::Error::other(format!(
        "the project is nested more than {} directories deep",
        tree::MAX_DEPTH
    ))
}

/// Bytes the tree beneath `dir` takes as a tar: content plus a header per
/// entry.
fn measure(dir: BorrowedFd<'_>, depth: usize) -> io::Result<u64> {
    if depth > tree::MAX_DEPTH {
        return Err(too_deep());
    }
    let mut total = 0;
    for name in tree::names(dir)? {
        total += ENTRY_OVERHEAD;
        match tree::open(dir, &name)? {
            Node::Dir { fd, .. } => total += measure(fd.as_fd(), depth + 1)?,
            Node::File { size, .. } => total += size,
            Node::Link { .. } | Node::Other => {}
        }
    }
    Ok(total)
}

/// Appends the directories, files and links beneath `dir` under `prefix`,
/// in name order; anything else (sockets, fifos, devices) is left out.
fn append_tree<W: io::Write>(
    builder: &mut tar::Builder<W>,
    dir: BorrowedFd<'_>,
    prefix: &Path,
) -> io::Result<()> {
    if prefix.components().count() > tree::MAX_DEPTH {
        return Err(too_deep());
    }
    for name in tree::names(dir)? {
        let path = prefix.join(&name);
        let mut header = tar::Header::new_gnu();
        match tree::open(dir, &name)? {
            Node::Dir { fd, mode, mtime } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(mode);
                header.set_mtime(mtime);
                header.set_size(0);
                builder.append_data(&mut header, &path, io::empty())?;
                append_tree(builder, fd.as_fd(), &path)?;
            }
            Node::File {
                file,
                size,
                mode,
                mtime,
            } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                header.set_mtime(mtime);
                header.set_size(size);
                // Exactly `size` bytes whatever the file does meanwhile:
                // a file that shrinks is padded, one that grows is cut.
                let content = file.take(size).chain(io::repeat(0)).take(size);
                builder.append_data(&mut header, &path, content)?;
            }
            Node::Link { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, &path, &target)?;
            }
            Node::Other => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn files_dirs_and_links_as_links_and_nothing_too_large() {
        let outside = tempfile::tempdir().expect("temp dir");
        let secret = outside.path().join("host-only");
        std::fs::write(&secret, "HOST-ONLY").expect("write");
        let project = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(project.path().join("src")).expect("mkdir");
        std::fs::write(project.path().join("src/main.rs"), "fn main() {}").expect("write");
        std::os::unix::fs::symlink(&secret, project.path().join("link")).expect("link");
        let body = archive(held(project.path()), 1 << 20, place())
            .await
            .expect("archive");
        let bytes = body.collect().await.expect("body").to_bytes();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let path = entry.path().expect("path").display().to_string();
            let mut content = String::new();
            io::Read::read_to_string(&mut entry, &mut content).expect("read");
            let link = entry
                .link_name()
                .expect("link")
                .map(|l| l.display().to_string());
            seen.push((path, content, link));
        }
        assert_eq!(
            seen,
            vec![
                (
                    "link".into(),
                    String::new(),
                    Some(secret.display().to_string())
                ),
                ("src".into(), String::new(), None),
                ("src/main.rs".into(), "fn main() {}".into(), None),
            ]
        );
        let error = archive_error(project.path(), 100).await;
        assert!(error.contains("limits.tmpfs"), "{error}");
    }

    fn held(path: &Path) -> Arc<PinnedDir> {
        Arc::new(PinnedDir::open(&path.canonicalize().expect("canonical")).expect("held"))
    }

    /// A place to send a project in, of its own.
    fn place() -> tokio::sync::OwnedSemaphorePermit {
        Arc::new(tokio::sync::Semaphore::new(1))
            .try_acquire_owned()
            .expect("a free place")
    }

    async fn archive_error(root: &Path, limit: u64) -> String {
        match archive(held(root), limit, place()).await {
            Ok(_) => panic!("a project over the limit was sent"),
            Err(error) => error.to_string(),
        }
    }
}
