//! Keeping jobs out of a repository while corral's git runs in it.
//!
//! corral checks the user's repository before its git runs there as root
//! (see `workspace::git`); the check holds only if no job can change the
//! repository until git is done. So a hold is refused while a running job
//! has the project bound read-write (allowed overlap or not), and while a
//! hold lasts, a job that would bind an overlapping project waits to start.

use std::path::Path;
use std::sync::Arc;

use super::JobManager;
use crate::project::PinnedDir;
use crate::workspace::WorkspaceError;

/// corral's git may run in a project while this lives.
pub(super) struct GitHold {
    manager: JobManager,
    /// The held directory; `None` when it could not be opened (git then
    /// fails on its own).
    dir: Option<Arc<PinnedDir>>,
}

impl JobManager {
    /// Holds `project` for corral's git; refused while a running job can
    /// write it.
    pub(super) fn hold_for_git(&self, project: &Path) -> Result<GitHold, WorkspaceError> {
        let Ok(pinned) = PinnedDir::open(project) else {
            return Ok(GitHold {
                manager: self.clone(),
                dir: None,
            });
        };
        let pinned = Arc::new(pinned);
        // Lock order: `writable`, then `git_holds` (as in `claim_project`).
        let writable = self.lock_writable();
        if let Some((job_id, _)) = writable.iter().find(|(_, other)| other.overlaps(&pinned)) {
            return Err(WorkspaceError::Writable {
                project: project.to_owned(),
                job_id: job_id.clone(),
            });
        }
        self.lock_git_holds().push(Arc::clone(&pinned));
        drop(writable);
        Ok(GitHold {
            manager: self.clone(),
            dir: Some(pinned),
        })
    }

    /// Whether corral's git runs in a directory overlapping `project`; the
    /// caller holds the `writable` lock.
    pub(super) fn held_for_git(&self, project: &PinnedDir) -> bool {
        self.lock_git_holds()
            .iter()
            .any(|held| held.overlaps(project))
    }

    fn lock_git_holds(&self) -> std::sync::MutexGuard<'_, Vec<Arc<PinnedDir>>> {
        self.inner
            .git_holds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for GitHold {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            self.manager
                .lock_git_holds()
                .retain(|held| !Arc::ptr_eq(held, &dir));
            self.manager.inner.git_released.notify_waiters();
        }
    }
}
