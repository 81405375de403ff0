//! A sandbox's snapshot: `/workspace` (unless it is a bound host
//! directory, which keeps itself) and `$HOME`, each read by the sandbox's
//! worker as a tar whose links stay links, framed, deflated, and sealed
//! with the master key like a secret (it may hold what the sandbox was
//! granted) in `<data-dir>/sandboxes/<id>.snapshot`, private to the server.
//! A snapshot is sized by the sandbox's own `limits.tmpfs` and is restored
//! into a new container before it takes any exec.
//!
//! A stop's snapshot is kept as `<id>.stopping` until the stop is recorded
//! (its container gone), and only then becomes `<id>.snapshot`: a restart
//! in between finds a container that may still run with newer files, and
//! must not restore the stop's over them (see `jobs::recover`).

use std::path::PathBuf;
use std::time::Duration;

use corral_proto::Job;
use corral_proto::sandbox::order::Order;
use corral_proto::worker::{JOB_HOME, WORKSPACE};
use zeroize::Zeroizing;

use super::files::answered;
use super::{JobError, JobManager, SandboxError};
use crate::sandbox::Desk;

/// Longest one part of a snapshot may take to read or restore.
const SNAPSHOT_WAIT: Duration = Duration::from_mins(10);
/// Bytes of a write's answer.
const SMALL_ANSWER: usize = 64 << 10;

fn failed(message: String) -> JobError {
    SandboxError::Failed { message }.into()
}

/// The label a snapshot of `id` is sealed under: it opens as no other's.
fn label(id: &str) -> String {
    format!("corral-sandbox-snapshot:{id}")
}

/// The most bytes a snapshot of `job` may hold, unpacked: two tars, each
/// of a tmpfs of its size (and their headers).
fn most_bytes(job: &Job) -> u64 {
    job.limits
        .tmpfs_bytes
        .saturating_mul(4)
        .saturating_add(1 << 20)
}

impl JobManager {
    /// Where sandbox `id`'s snapshot is kept.
    pub(super) fn snapshot_path(&self, id: &str) -> PathBuf {
        self.inner
            .data_dir
            .join("sandboxes")
            .join(format!("{id}.snapshot"))
    }

    /// Where a stop of sandbox `id` keeps its snapshot until it is recorded.
    fn stopping_path(&self, id: &str) -> PathBuf {
        self.snapshot_path(id).with_extension("stopping")
    }

    /// The running sandbox's files, framed and deflated (not sealed).
    pub(super) async fn take_snapshot(
        &self,
        job: &Job,
        desk: &Desk,
    ) -> Result<Zeroizing<Vec<u8>>, JobError> {
        let roots: &[&str] = if job.bound_project().is_some() {
            &[JOB_HOME]
        } else {
            &[WORKSPACE, JOB_HOME]
        };
        let max_bytes = job.limits.tmpfs_bytes.saturating_mul(2);
        let mut framed = Zeroizing::new(Vec::new());
        for root in roots {
            let answer = desk
                .transfer(
                    |id| Order::Read {
                        id,
                        path: (*root).to_owned(),
                        max_bytes,
                    },
                    None,
                    usize::try_from(max_bytes).unwrap_or(usize::MAX),
                    SNAPSHOT_WAIT,
                )
                .await
                .map_err(SandboxError::from)?;
            let tar = answered(answer, &desk.redactor)?;
            framed.extend_from_slice(&(root.len() as u64).to_le_bytes());
            framed.extend_from_slice(root.as_bytes());
            framed.extend_from_slice(&(tar.len() as u64).to_le_bytes());
            for piece in tar.pieces() {
                framed.extend_from_slice(piece);
            }
        }
        desk.stats.moved(framed.len(), false);
        // Deflating up to four times a tmpfs takes seconds: off the
        // runtime's threads, which serve every other job meanwhile.
        tokio::task::spawn_blocking(move || {
            Zeroizing::new(miniz_oxide::deflate::compress_to_vec(&framed, 6))
        })
        .await
        .map_err(|error| {
            let why = crate::text::task_failure(&error);
            failed(format!("cannot deflate the snapshot: {why}"))
        })
    }

    /// Seals `snapshot` for sandbox `id` and keeps it (written whole, then
    /// renamed over any earlier one): as its snapshot, or as its stop's
    /// (see [`JobManager::stopped_snapshot`]) when `stopping`.
    pub(super) async fn keep_snapshot(
        &self,
        id: &str,
        snapshot: &[u8],
        stopping: bool,
    ) -> Result<(), JobError> {
        let sealed = self
            .inner
            .secrets
            .key()
            .seal_blob(&label(id), snapshot)
            .map_err(|error| failed(format!("cannot seal the snapshot: {error}")))?;
        self.inner
            .sandbox_stats
            .snapshot_bytes
            .fetch_add(sealed.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let path = if stopping {
            self.stopping_path(id)
        } else {
            self.snapshot_path(id)
        };
        let unique = crate::token::random_hex(8)
            .map_err(|error| failed(format!("cannot keep the snapshot: {error}")))?;
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)?;
            }
            let partial = path.with_extension(format!("{unique}.partial"));
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial)?;
            let kept = file
                .write_all(&sealed)
                .and_then(|()| file.sync_all())
                .and_then(|()| std::fs::rename(&partial, &path));
            if kept.is_err() {
                let _ = std::fs::remove_file(&partial);
            }
            kept
        })
        .await
        .map_err(|error| {
            let why = crate::text::task_failure(&error);
            failed(format!("cannot keep the snapshot: {why}"))
        })?;
        written.map_err(|error| failed(format!("cannot keep the snapshot: {error}")))
    }

    /// Sandbox `id`'s kept snapshot, opened (still deflated).
    pub(super) async fn open_deflated(&self, id: &str) -> Result<Zeroizing<Vec<u8>>, JobError> {
        let sealed = tokio::fs::read(self.snapshot_path(id))
            .await
            .map_err(|error| failed(format!("cannot read its snapshot: {error}")))?;
        self.inner
            .secrets
            .key()
            .open_blob(&label(id), &sealed)
            .map_err(|error| failed(format!("cannot open its snapshot: {error}")))
    }

    /// Sandbox `job`'s kept snapshot, opened and inflated (framed).
    pub(super) async fn open_snapshot(&self, job: &Job) -> Result<Zeroizing<Vec<u8>>, JobError> {
        let deflated = self.open_deflated(&job.id).await?;
        let limit = usize::try_from(most_bytes(job)).unwrap_or(usize::MAX);
        miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, limit)
            .map(Zeroizing::new)
            .map_err(|_| failed("its snapshot does not inflate within its size".into()))
    }

    /// Whether sandbox `id` has a kept snapshot.
    pub(in crate::jobs) fn has_snapshot(&self, id: &str) -> bool {
        self.snapshot_path(id).is_file()
    }

    /// Forgets sandbox `id`'s stop's snapshot, then its snapshot: a start
    /// that moves the first into place meanwhile (see
    /// [`JobManager::settle_stopping`]) either finds it gone or has moved
    /// it where the second removal finds it.
    pub(in crate::jobs) async fn drop_snapshot(&self, id: &str) {
        self.drop_stopping(id).await;
        let _ = tokio::fs::remove_file(self.snapshot_path(id)).await;
    }

    /// Moves the snapshot a stop left as its own (its rename failed, see
    /// `record_stop`) into place as stopped sandbox `id`'s, over any older
    /// one; refused while it cannot be. What starts or forks it reads it.
    pub(in crate::jobs) async fn settle_stopping(&self, id: &str) -> Result<(), JobError> {
        if self.is_stopping(id) && !self.stopped_snapshot(id).await && self.is_stopping(id) {
            return Err(SandboxError::Failed {
                message: "its files, kept by its last stop, cannot be moved into place \
                          (the server's log says why)"
                    .into(),
            }
            .into());
        }
        Ok(())
    }

    /// Whether a stop of sandbox `id` kept its snapshot and was not recorded.
    pub(in crate::jobs) fn is_stopping(&self, id: &str) -> bool {
        self.stopping_path(id).is_file()
    }

    /// Forgets the snapshot of a stop of sandbox `id` that was not recorded.
    pub(in crate::jobs) async fn drop_stopping(&self, id: &str) {
        let _ = tokio::fs::remove_file(self.stopping_path(id)).await;
    }

    /// Makes a stop's snapshot sandbox `id`'s snapshot, once its container
    /// is gone: what its next start restores. False when the stop kept
    /// none (a start that failed stops the sandbox again with the snapshot
    /// it had) or it cannot be moved.
    pub(in crate::jobs) async fn stopped_snapshot(&self, id: &str) -> bool {
        match tokio::fs::rename(self.stopping_path(id), self.snapshot_path(id)).await {
            Ok(()) => true,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
            Err(error) => {
                tracing::error!(job_id = id, error = %error, "cannot keep a stopped sandbox's snapshot");
                false
            }
        }
    }

    /// A started sandbox's files put back from its snapshot, which is then
    /// dropped (a later restart re-adopts the container, files and all);
    /// its desk lets the user's work through after. Why not, when it fails.
    pub(in crate::jobs) async fn restore_files(&self, job: &Job) -> Result<(), String> {
        let Some(desk) = self.desk(&job.id) else {
            return Ok(());
        };
        if desk.is_ready() {
            return Ok(());
        }
        let restored = match self.open_snapshot(job).await {
            Ok(framed) => self.restore(&desk, &framed).await,
            Err(error) => Err(error),
        };
        match restored {
            Ok(()) => {
                let _ = tokio::fs::remove_file(self.snapshot_path(&job.id)).await;
                desk.set_ready();
                Ok(())
            }
            Err(error) => Err(format!("cannot put the sandbox's files back: {error}")),
        }
    }

    /// Puts `framed` back into the sandbox behind `desk`, each part a tar
    /// unpacked where it was taken from.
    pub(super) async fn restore(&self, desk: &Desk, framed: &[u8]) -> Result<(), JobError> {
        let mut rest = framed;
        while !rest.is_empty() {
            let (root, tar, after) = frame(rest)
                .ok_or_else(|| failed("its snapshot is not in corral's shape".into()))?;
            rest = after;
            if ![WORKSPACE, JOB_HOME].contains(&root.as_str()) {
                return Err(failed(
                    "its snapshot names a place outside its roots".into(),
                ));
            }
            desk.stats.moved(tar.len(), true);
            let answer = desk
                .transfer(
                    |id| Order::Write {
                        id,
                        path: root,
                        tar: true,
                    },
                    Some(axum::body::Body::from(bytes::Bytes::copy_from_slice(tar))),
                    SMALL_ANSWER,
                    SNAPSHOT_WAIT,
                )
                .await
                .map_err(SandboxError::from)?;
            answered(answer, &desk.redactor)?;
        }
        Ok(())
    }
}

/// One frame: its root, its tar, and what follows.
fn frame(bytes: &[u8]) -> Option<(String, &[u8], &[u8])> {
    let (length, rest) = bytes.split_first_chunk::<8>()?;
    let length = usize::try_from(u64::from_le_bytes(*length)).ok()?;
    let (root, rest) = rest.split_at_checked(length)?;
    let (size, rest) = rest.split_first_chunk::<8>()?;
    let size = usize::try_from(u64::from_le_bytes(*size)).ok()?;
    let (tar, rest) = rest.split_at_checked(size)?;
    Some((String::from_utf8(root.to_vec()).ok()?, tar, rest))
}

#[cfg(test)]
mod tests {
    use super::frame;

    #[test]
    fn frames_read_back_and_a_short_one_is_refused() {
        let mut framed = Vec::new();
        for (root, tar) in [("/workspace", &b"one"[..]), ("/home/corral", &b"two!"[..])] {
            framed.extend_from_slice(&(root.len() as u64).to_le_bytes());
            framed.extend_from_slice(root.as_bytes());
            framed.extend_from_slice(&(tar.len() as u64).to_le_bytes());
            framed.extend_from_slice(tar);
        }
        let (root, tar, rest) = frame(&framed).expect("first");
        assert_eq!((root.as_str(), tar), ("/workspace", &b"one"[..]));
        let (root, tar, rest) = frame(rest).expect("second");
        assert_eq!((root.as_str(), tar), ("/home/corral", &b"two!"[..]));
        assert!(rest.is_empty());
        assert!(frame(&framed[..27]).is_none(), "a frame cut inside its tar");
        assert!(frame(&u64::MAX.to_le_bytes()).is_none());
    }
}
