//! Branch mode from the job manager's side: bringing a job's work back when
//! it ends, and the user's diff, apply and discard.

use std::path::{Path, PathBuf};

use corral_proto::{Isolation, IsolationKind, Job, JobDiff, ReviewOutcome, Reviewed};

use std::sync::Arc;

use super::{JobError, JobManager};
use crate::redact::Redactor;

/// How a binary file starts in a patch.
const BINARY_PATCH: &[u8] = b"\nGIT binary patch\n";
/// What `secrets` names for binary files a scan cannot read.
const UNSCANNED: &str = "(binary files, not scanned)";

/// Bytes each chunk of a secret scan shares with the next: longer than any
/// secret's longest form.
const SCAN_OVERLAP: usize = 64 << 10;
use crate::workspace::{self, WorkspaceError};

impl JobManager {
    /// Brings an ended job's work into the user's repository (or a patch).
    pub(super) async fn harvest(&self, job: &Job) -> Result<(), WorkspaceError> {
        let Some((project, isolation)) = isolated(job) else {
            return Ok(());
        };
        // A patch needs nothing of the project. A branch is fetched into it:
        // while a job can write it, the copy stays (pruned with the other
        // review files).
        let _hold = match isolation.kind {
            IsolationKind::Git => Some(self.hold_for_git(&project)?),
            IsolationKind::Copy => None,
        };
        let data_dir = self.inner.config.data_dir.clone();
        let job_id = job.id.clone();
        blocking(move || workspace::harvest(&data_dir, &job_id, &project, &isolation)).await
    }

    /// What the job changed (at most [`workspace::REVIEW_CAP`] of it), with
    /// every secret corral knows redacted, and named in `secrets` whether it
    /// is in the part shown or not: a job may have written one into a file.
    pub async fn diff(&self, job_id: &str) -> Result<JobDiff, JobError> {
        let (job, project, isolation) = self.ended_isolated(job_id).await?;
        if let Some(reviewed) = isolation.reviewed
            && reviewed.outcome == ReviewOutcome::Discarded
        {
            return Err(already(job_id, reviewed, "there is nothing left to show"));
        }
        let redactor = self.review_redactor(&job).await?;
        let _hold = self
            .hold_for_git(&project)
            .map_err(|error| review_error(job_id, error))?;
        let data_dir = self.inner.config.data_dir.clone();
        let id = job.id.clone();
        let mut diff = blocking(move || workspace::diff(&data_dir, &id, &project, &isolation))
            .await
            .map_err(|error| redacted_review_error(job_id, error, &redactor))?;
        let mut findings = crate::redact::Findings::default();
        if let Some(clean) = redactor.redact_text(&diff.patch, &mut findings) {
            diff.patch = clean;
        }
        for file in &mut diff.files {
            if let Some(clean) = redactor.redact_text(&file.path, &mut findings) {
                file.path = clean;
            }
        }
        diff.secrets = self.secrets_in_change(&job, redactor).await?;
        Ok(diff)
    }

    /// Applies the job's change onto the user's current branch, all or
    /// nothing; a change that holds a secret is refused unless
    /// `allow_secrets` (the user saw it in the diff and wants it).
    pub async fn apply(&self, job_id: &str, allow_secrets: bool) -> Result<(), JobError> {
        let _review = self.inner.review_lock.lock().await;
        let (job, project, isolation) = self.ended_isolated(job_id).await?;
        if let Some(reviewed) = isolation.reviewed {
            return Err(already(
                job_id,
                reviewed,
                match reviewed.outcome {
                    ReviewOutcome::Applied => "its change is in your working tree",
                    ReviewOutcome::Discarded => "there is nothing left to apply",
                },
            ));
        }
        let _hold = self
            .hold_for_git(&project)
            .map_err(|error| review_error(job_id, error))?;
        let redactor = self.review_redactor(&job).await?;
        if !allow_secrets {
            let secrets = self.secrets_in_change(&job, Arc::clone(&redactor)).await?;
            if !secrets.is_empty() {
                return Err(JobError::Review {
                    job_id: job_id.to_owned(),
                    message: format!(
                        "the change writes secrets into the project ({}): review it with `corral diff`, then apply with --allow-secrets (API: allow_secrets=true) if you mean it",
                        secrets.join(", ")
                    ),
                    conflicts: Vec::new(),
                });
            }
        }
        let data_dir = self.inner.config.data_dir.clone();
        let (id, applied) = (job.id.clone(), isolation.clone());
        blocking(move || workspace::apply(&data_dir, &id, &project, &applied))
            .await
            .map_err(|error| redacted_review_error(job_id, error, &redactor))?;
        self.record_review(&job.id, isolation, ReviewOutcome::Applied)
            .await
    }

    /// Stores what the user did with a job's change.
    async fn record_review(
        &self,
        job_id: &str,
        mut isolation: Isolation,
        outcome: ReviewOutcome,
    ) -> Result<(), JobError> {
        isolation.reviewed = Some(Reviewed {
            outcome,
            at: time::OffsetDateTime::now_utc(),
        });
        self.inner
            .store
            .set_isolation(job_id, &isolation)
            .await
            .map_err(JobError::from)
    }

    async fn review_redactor(&self, job: &Job) -> Result<Arc<Redactor>, JobError> {
        self.job_redactor(job)
            .await
            .map_err(|error| JobError::Review {
                job_id: job.id.clone(),
                message: format!("cannot check the change for secrets: {error}"),
                conflicts: Vec::new(),
            })
    }

    /// The names of the secrets in the whole change (binary files read as
    /// bytes), read a chunk at a time with an overlap, so a secret cut
    /// between two chunks is still found and the change is never held whole.
    async fn secrets_in_change(
        &self,
        job: &Job,
        redactor: Arc<Redactor>,
    ) -> Result<Vec<String>, JobError> {
        let Some((project, isolation)) = isolated(job) else {
            return Ok(Vec::new());
        };
        let _hold = self
            .hold_for_git(&project)
            .map_err(|error| review_error(&job.id, error))?;
        let data_dir = self.inner.config.data_dir.clone();
        let job_id = job.id.clone();
        let scanning = Arc::clone(&redactor);
        let mut names = blocking(move || {
            let redactor = scanning;
            let mut findings = crate::redact::Findings::default();
            let mut window: Vec<u8> = Vec::new();
            workspace::scan_change(&data_dir, &job_id, &project, &isolation, |chunk| {
                window.extend_from_slice(chunk);
                // A plain copy's patch holds binary files compressed: what
                // they hold cannot be read here, so they count as found.
                if window
                    .windows(BINARY_PATCH.len())
                    .any(|line| line == BINARY_PATCH)
                    && !findings.names.iter().any(|name| name == UNSCANNED)
                {
                    findings.names.push(UNSCANNED.to_owned());
                }
                let text = String::from_utf8_lossy(&window);
                let _ = redactor.redact_text(&text, &mut findings);
                let keep = window.len().min(SCAN_OVERLAP);
                window.drain(..window.len() - keep);
            })?;
            Ok(findings.names)
        })
        .await
        .map_err(|error| redacted_review_error(&job.id, error, &redactor))?;
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Removes the job's branch (or patch). An applied change stays in
    /// the user's tree and stays recorded as applied: the answer is that
    /// record (`None` when the change was dropped unapplied).
    pub async fn discard(&self, job_id: &str) -> Result<Option<Reviewed>, JobError> {
        let _review = self.inner.review_lock.lock().await;
        let (job, project, isolation) = self.ended_isolated(job_id).await?;
        if let Some(reviewed) = isolation.reviewed
            && reviewed.outcome == ReviewOutcome::Discarded
        {
            return Err(already(
                job_id,
                reviewed,
                "there is nothing left to discard",
            ));
        }
        let _hold = self
            .hold_for_git(&project)
            .map_err(|error| review_error(job_id, error))?;
        let redactor = self.review_redactor(&job).await?;
        let data_dir = self.inner.config.data_dir.clone();
        let (id, dropped) = (job.id.clone(), isolation.clone());
        blocking(move || workspace::discard(&data_dir, &id, &project, &dropped))
            .await
            .map_err(|error| redacted_review_error(job_id, error, &redactor))?;
        if isolation.reviewed.is_some() {
            return Ok(isolation.reviewed);
        }
        self.record_review(&job.id, isolation, ReviewOutcome::Discarded)
            .await?;
        Ok(None)
    }

    /// Removes the copy of a job that never ran (cancelled while queued).
    pub(super) async fn drop_copy(&self, job: &Job) {
        if let Some((project, isolation)) = isolated(job) {
            let data_dir = self.inner.config.data_dir.clone();
            let Ok(_hold) = self.hold_for_git(&project) else {
                // Its branch never reached the repository: only files to drop.
                let root = workspace::workspaces_dir(&data_dir).join(&job.id);
                let _ = blocking(move || Ok(workspace::remove_copies(&root)?)).await;
                return;
            };
            let job_id = job.id.clone();
            let _ = blocking(move || workspace::discard(&data_dir, &job_id, &project, &isolation))
                .await;
        }
    }

    async fn ended_isolated(&self, job_id: &str) -> Result<(Job, PathBuf, Isolation), JobError> {
        let job = self.get(job_id).await?;
        let Some((project, isolation)) = isolated(&job) else {
            return Err(JobError::Review {
                job_id: job_id.to_owned(),
                message: "the job did not run in branch mode (--branch)".into(),
                conflicts: Vec::new(),
            });
        };
        if !job.state.is_terminal() {
            return Err(JobError::Review {
                job_id: job_id.to_owned(),
                message: "the job has not ended yet".into(),
                conflicts: Vec::new(),
            });
        }
        Ok((job, project, isolation))
    }
}

fn isolated(job: &Job) -> Option<(PathBuf, Isolation)> {
    Some((
        Path::new(job.project.as_ref()?).to_owned(),
        job.isolation.clone()?,
    ))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, WorkspaceError> + Send + 'static,
) -> Result<T, WorkspaceError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        let why = crate::text::task_failure(&error);
        WorkspaceError::Io(std::io::Error::other(format!("the git work failed: {why}")))
    })?
}

/// A review refused because the change was already applied or discarded.
fn already(job_id: &str, reviewed: Reviewed, consequence: &str) -> JobError {
    let at = corral_proto::timestamp::format(reviewed.at);
    JobError::Review {
        job_id: job_id.to_owned(),
        message: format!(
            "already {} at {at}: {consequence}",
            reviewed.outcome.as_str()
        ),
        conflicts: Vec::new(),
    }
}

/// [`review_error`] for an error of git's run over the job's change: git's
/// account names the job's files and quotes their lines, redacted like
/// them.
fn redacted_review_error(job_id: &str, error: WorkspaceError, redactor: &Redactor) -> JobError {
    let mut findings = crate::redact::Findings::default();
    let mut clean = |text: String| redactor.redact_text(&text, &mut findings).unwrap_or(text);
    match review_error(job_id, error) {
        JobError::Review {
            job_id,
            message,
            conflicts,
        } => JobError::Review {
            job_id,
            message: clean(message),
            conflicts: conflicts.into_iter().map(&mut clean).collect(),
        },
        other => other,
    }
}

fn review_error(job_id: &str, error: WorkspaceError) -> JobError {
    let mut message = error.to_string();
    if matches!(error, WorkspaceError::Writable { .. }) {
        message.push_str(": try again once that job has ended");
    }
    let conflicts = match error {
        WorkspaceError::Conflict { files } => files,
        _ => Vec::new(),
    };
    JobError::Review {
        job_id: job_id.to_owned(),
        message,
        conflicts,
    }
}
