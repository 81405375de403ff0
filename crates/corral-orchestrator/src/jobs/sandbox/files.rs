//! A sandbox's files through its desk: the path checked as text here (a
//! 400 naming `path`), the size against the sandbox's `limits.tmpfs`
//! before anything is written (a 413 naming it), and resolved again by the
//! worker inside the container. A download is scanned by the sandbox's
//! leak detector and refused when it holds a secret: a file's bytes cannot
//! be redacted without breaking it, so they are not handed out at all.

mod upload;

use std::sync::atomic::Ordering;
use std::time::Duration;

use corral_proto::Job;
use corral_proto::sandbox::order::{FailureKind, Order, OrderFailure};
use corral_proto::sandbox::{FileEntry, allowed_path};

pub use upload::Incoming;

use super::{JobError, JobManager, SandboxError};
use crate::redact::{Findings, Redactor};
use crate::sandbox::{Chunks, FileAnswer};

/// Most bytes a write's answer (an acknowledgement or a failure) may have.
const SMALL_ANSWER: usize = 64 << 10;
/// Most bytes a listing may have.
const LISTING_ANSWER: usize = 16 << 20;
/// Longest a file transfer waits for the sandbox's answer.
const FILE_WAIT: Duration = Duration::from_mins(5);

/// A download: a file's bytes, or a directory as a tar.
#[derive(Debug)]
pub enum Download {
    /// A file's bytes.
    File(Chunks),
    /// A directory, as a tar whose links are links.
    Tar(Chunks),
}

/// The most bytes one upload may have: the sandbox's tmpfs size.
pub fn upload_limit(job: &Job) -> u64 {
    job.limits.tmpfs_bytes
}

/// A 413 naming `limits.tmpfs`, for `size` bytes.
pub fn too_large(job: &Job, size: u64) -> JobError {
    SandboxError::TooLarge {
        field: "limits.tmpfs".into(),
        message: format!(
            "{size} bytes is more than the sandbox's limits.tmpfs ({} bytes)",
            job.limits.tmpfs_bytes
        ),
    }
    .into()
}

fn checked(path: &str) -> Result<String, JobError> {
    allowed_path(path).map_err(|message| JobError::invalid("path", message))
}

impl JobManager {
    /// Writes `incoming` at `path` in sandbox `id` (a tar unpacked into the
    /// directory at `path`, with `tar`), streamed to the worker as it comes;
    /// the worker writes a new file and renames it into place only once the
    /// whole body came, so one cut off past the limit writes nothing. A body
    /// `declared` larger than the sandbox's `limits.tmpfs` is refused before
    /// any of it is read: after the path, before waiting for a starting
    /// sandbox.
    pub async fn write_file(
        &self,
        id: &str,
        path: &str,
        incoming: &Incoming,
        declared: Option<u64>,
        tar: bool,
    ) -> Result<(), JobError> {
        let path = checked(path)?;
        if let Some(size) = declared {
            let job = self.sandbox(id).await?.job;
            if size > upload_limit(&job) {
                return Err(too_large(&job, size));
            }
        }
        let (job, desk) = self.running_desk(id).await?;
        let upload = incoming.upload(upload_limit(&job));
        // However this ends, the body stops here (see `Upload`).
        let _over = upload.done.clone().drop_guard();
        let answer = desk
            .transfer(
                |id| Order::Write { id, path, tar },
                Some(upload.body),
                SMALL_ANSWER,
                FILE_WAIT,
            )
            .await
            .map_err(SandboxError::from)?;
        let passed = upload.passed.load(Ordering::Acquire);
        if upload.over.load(Ordering::Acquire) {
            return Err(too_large(&job, passed));
        }
        answered(answer, &desk.redactor)?;
        desk.stats
            .moved(usize::try_from(passed).unwrap_or(usize::MAX), true);
        Ok(())
    }

    /// The file at `path` in sandbox `id`, or the directory as a tar;
    /// refused when the leak detector finds a secret in it (scanned as it
    /// arrives from the sandbox, before a byte is handed out).
    pub async fn read_file(&self, id: &str, path: &str) -> Result<Download, JobError> {
        let path = checked(path)?;
        let (job, desk) = self.running_desk(id).await?;
        let max_bytes = job.limits.tmpfs_bytes.saturating_mul(2);
        let mut answer = desk
            .transfer_scanned(
                |id| Order::Read {
                    id,
                    path,
                    max_bytes,
                },
                usize::try_from(max_bytes).unwrap_or(usize::MAX),
                FILE_WAIT,
            )
            .await
            .map_err(SandboxError::from)?;
        let content = answer.content.clone();
        let scanned = answer.scanned.take();
        let body = answered(answer, &desk.redactor)?;
        if body.len() as u64 > max_bytes {
            return Err(too_large(&job, body.len() as u64));
        }
        // Never handed out unscanned: an answer without findings is refused.
        let findings = scanned
            .unwrap_or_else(|| Err("the answer was not scanned".into()))
            .map_err(|message| SandboxError::Failed { message })?;
        if findings.any() {
            let mut names = findings.names;
            names.sort();
            names.dedup();
            return Err(SandboxError::HoldsSecret {
                names: names.join(", "),
            }
            .into());
        }
        desk.stats.moved(body.len(), false);
        Ok(match content.as_deref() {
            Some("tar") => Download::Tar(body),
            _ => Download::File(body),
        })
    }

    /// The entries of the directory at `path` in sandbox `id`.
    pub async fn list_files(&self, id: &str, path: &str) -> Result<Vec<FileEntry>, JobError> {
        let path = checked(path)?;
        let (_, desk) = self.running_desk(id).await?;
        let answer = desk
            .transfer(
                |id| Order::List { id, path },
                None,
                LISTING_ANSWER,
                FILE_WAIT,
            )
            .await
            .map_err(SandboxError::from)?;
        let body = answered(answer, &desk.redactor)?;
        let mut entries = listing(&body.to_bytes())?;
        // Names and link targets come from the sandbox: redacted like its output.
        let mut findings = Findings::default();
        for entry in &mut entries {
            if let Some(clean) = desk.redactor.redact_text(&entry.name, &mut findings) {
                entry.name = clean;
            }
            if let Some(target) = &mut entry.target
                && let Some(clean) = desk.redactor.redact_text(target, &mut findings)
            {
                *target = clean;
            }
        }
        Ok(entries)
    }
}

/// A listing's entries, as the sandbox sent them. When they do not read,
/// the error says where, never what: a parser's message quotes the text
/// it met, which comes from inside the sandbox (a secret sent as an
/// entry's kind went out in the 502).
fn listing(body: &[u8]) -> Result<Vec<FileEntry>, JobError> {
    serde_json::from_slice(body).map_err(|error| {
        SandboxError::Failed {
            message: format!(
                "an unreadable listing ({:?} error at line {}, column {})",
                error.classify(),
                error.line(),
                error.column()
            ),
        }
        .into()
    })
}

/// The answer's body, or its failure as an error (its message redacted:
/// it comes from inside the sandbox).
pub(super) fn answered(answer: FileAnswer, redactor: &Redactor) -> Result<Chunks, JobError> {
    let Some(OrderFailure { kind, message }) = answer.failure else {
        return Ok(answer.body);
    };
    let mut findings = Findings::default();
    // Redacted whole, then cut: a cut through a secret would leave its start.
    let message = redactor
        .redact_text(&message, &mut findings)
        .unwrap_or(message);
    let message: String = message.chars().take(1000).collect();
    Err(match kind {
        FailureKind::NotFound => SandboxError::NoSuchPath { message },
        FailureKind::BadPath => SandboxError::BadPath { message },
        FailureKind::TooLarge => SandboxError::TooLarge {
            field: "limits.tmpfs".into(),
            message,
        },
        FailureKind::Failed => SandboxError::Failed { message },
    }
    .into())
}

#[cfg(test)]
mod tests {
    /// A listing that does not read names no part of itself in the error.
    #[test]
    fn an_unreadable_listing_quotes_nothing_of_it() {
        let secret = "sk-listing-secret-4b1d";
        for body in [
            format!(r#"[{{"name":"a","kind":"{secret}","size":0,"mode":0,"mtime":0}}]"#),
            format!(r#"[{{"name":"a","kind":"file","size":"{secret}","mode":0,"mtime":0}}]"#),
            format!(r#"{{"{secret}": 1}}"#),
            format!("[{secret}"),
        ] {
            let error = super::listing(body.as_bytes()).expect_err("no listing");
            let message = error.to_string();
            assert!(!message.contains("sk-listing"), "{message}");
            assert!(message.contains("unreadable listing"), "{message}");
        }
    }
}
