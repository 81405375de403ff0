//! A job's project when the job starts: checked again and held open (see
//! [`crate::project`]), refused when it overlaps a directory another
//! running job can write unless the user allowed it, and, when bound
//! read-write, registered as such until the job's container is gone.

use std::path::Path;
use std::sync::Arc;

use corral_proto::{Job, ProjectMode};

use super::JobManager;
use crate::project::{DirIdentity, PinnedDir, ProjectError};

/// What a starting job gets of the host.
#[derive(Default)]
pub(super) struct HeldProject {
    /// The project as checked now: bound (bind mode) or read for the copy
    /// (copy mode).
    pub project: Option<Arc<PinnedDir>>,
    /// The directory bound at `/workspace`: the project in bind mode, the
    /// job's own copy in branch mode.
    pub source: Option<Arc<PinnedDir>>,
}

impl JobManager {
    /// Checks `job`'s project again and holds it; a bound project is
    /// registered writable until [`JobManager::release_project`]. A job
    /// that would bind a project corral's git runs in waits until it is
    /// done.
    pub(super) async fn claim_project(&self, job: &Job) -> Result<HeldProject, ProjectError> {
        loop {
            // Made before trying: a release in between still wakes it.
            let released = self.inner.git_released.notified();
            if let Some(held) = self.try_claim_project(job)? {
                return Ok(held);
            }
            released.await;
        }
    }

    /// [`JobManager::claim_project`] once; `None` while corral's git runs
    /// in a project the job would bind.
    fn try_claim_project(&self, job: &Job) -> Result<Option<HeldProject>, ProjectError> {
        let Some(path) = job.project.as_deref() else {
            return Ok(Some(HeldProject::default()));
        };
        if job.project_mode == ProjectMode::Branch {
            // The copy was made from the checked directory at creation;
            // its home is the data directory, which no job can bind.
            let source = job
                .isolation
                .as_ref()
                .map(|isolation| PinnedDir::open(Path::new(&isolation.workspace)))
                .transpose()?
                .map(Arc::new);
            return Ok(Some(HeldProject {
                project: None,
                source,
            }));
        }
        let pinned = Arc::new(
            self.inner
                .placement
                .recheck(Path::new(path), job.project_check.map(DirIdentity::from))?,
        );
        let allow_overlap = job.project_check.is_some_and(|check| check.allow_overlap);
        let mut writable = self.lock_writable();
        if !allow_overlap {
            refuse_overlap(&writable, &job.id, &pinned)?;
        }
        if job.project_mode == ProjectMode::Bind {
            if self.held_for_git(&pinned) {
                return Ok(None);
            }
            writable.insert(job.id.clone(), Arc::clone(&pinned));
            return Ok(Some(HeldProject {
                project: Some(Arc::clone(&pinned)),
                source: Some(pinned),
            }));
        }
        Ok(Some(HeldProject {
            project: Some(pinned),
            source: None,
        }))
    }

    /// Refuses, at creation, a project that overlaps a directory a running
    /// job can write (unless allowed); checked again at start.
    pub(super) fn check_overlap(
        &self,
        job_id: &str,
        project: &PinnedDir,
        allowed: bool,
    ) -> Result<(), ProjectError> {
        if allowed {
            return Ok(());
        }
        refuse_overlap(&self.lock_writable(), job_id, project)
    }

    /// Refuses, at creation, a path that goes through a link sitting in a
    /// directory a running job can write (unless allowed): that job chose
    /// where the link leads, and so what this job would get.
    pub(super) fn check_links(&self, given: &Path, allowed: bool) -> Result<(), ProjectError> {
        if allowed {
            return Ok(());
        }
        for ancestor in given.ancestors() {
            let is_link = std::fs::symlink_metadata(ancestor)
                .is_ok_and(|metadata| metadata.file_type().is_symlink());
            let Some(parent) = ancestor.parent().filter(|_| is_link) else {
                continue;
            };
            let Ok(parent) = parent.canonicalize() else {
                continue;
            };
            let holder = PinnedDir::open(&parent)?;
            let writable = self.lock_writable();
            if let Some((job_id, other)) = writable
                .iter()
                .find(|(_, other)| holder.is_within(other.identity()))
            {
                return Err(ProjectError::Overlap {
                    path: ancestor.to_owned(),
                    other: other.path().to_owned(),
                    job_id: job_id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Forgets a job's writable project: its container is gone.
    pub(super) fn release_project(&self, job_id: &str) {
        self.lock_writable().remove(job_id);
    }

    pub(super) fn lock_writable(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<PinnedDir>>> {
        self.inner
            .writable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn refuse_overlap(
    writable: &std::collections::HashMap<String, Arc<PinnedDir>>,
    job_id: &str,
    project: &PinnedDir,
) -> Result<(), ProjectError> {
    let clash = writable
        .iter()
        .filter(|(other_id, _)| other_id.as_str() != job_id)
        .find(|(_, other)| other.overlaps(project));
    match clash {
        Some((other_id, other)) => Err(ProjectError::Overlap {
            path: project.path().to_owned(),
            other: other.path().to_owned(),
            job_id: other_id.clone(),
        }),
        None => Ok(()),
    }
}
