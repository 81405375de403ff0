//! Where job-owned copies live, how their scratch space is mounted and
//! how they are removed, and why a workspace operation failed.

/// Why a workspace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The project cannot be isolated (bare, unborn `HEAD`, not the top level).
    #[error("{message}")]
    Unsuitable {
        /// What is wrong with it.
        message: String,
    },
    /// A git command failed.
    #[error("git {what} failed: {message}")]
    Git {
        /// What corral was doing.
        what: String,
        /// git's account.
        message: String,
    },
    /// Applying would conflict; nothing was changed.
    #[error("applying the job's changes conflicts in: {}", files.join(", "))]
    Conflict {
        /// The conflicting files.
        files: Vec<String>,
    },
    /// The job was not run in `branch` mode, or its result is gone.
    #[error("{message}")]
    NoResult {
        /// Why.
        message: String,
    },
    /// The user's repository holds something that would let git run a
    /// command, reach the network or use files outside it.
    #[error("{}: corral does not run git as root in this repository: {problem}", project.display())]
    Untrusted {
        /// The project.
        project: std::path::PathBuf,
        /// What was found, and how to fix it.
        problem: String,
    },
    /// A running job can write the user's repository, so what corral
    /// checks could change before git uses it.
    #[error(
        "job {job_id} can write {} while it runs, and corral runs git as root in a repository only when no job can change it",
        project.display()
    )]
    Writable {
        /// The project.
        project: std::path::PathBuf,
        /// The running job that has it bound.
        job_id: String,
    },
    /// Copying files failed.
    #[error("cannot copy the project: {0}")]
    Io(#[from] std::io::Error),
}

/// Mounts a tmpfs of `bytes` at `work` (created): a branch-mode job's copy
/// lives there, so neither the copy nor what the job writes into it can
/// take more of the host than the job's `limits.tmpfs`. It counts against
/// memory, as every job's `/tmp` does.
pub fn mount_work(work: &std::path::Path, bytes: u64) -> Result<(), WorkspaceError> {
    std::fs::create_dir_all(work)?;
    let options = std::ffi::CString::new(format!("size={bytes},mode=0755"))
        .map_err(|error| WorkspaceError::Io(std::io::Error::other(error)))?;
    rustix::mount::mount(
        "corral-workspace",
        work,
        "tmpfs",
        rustix::mount::MountFlags::NOSUID | rustix::mount::MountFlags::NODEV,
        options.as_c_str(),
    )
    .map_err(|errno| WorkspaceError::Io(errno.into()))
}

/// Removes a job's copies (`root` = its directory under [`workspaces_dir`]),
/// its work tmpfs first.
pub fn remove_copies(root: &std::path::Path) -> std::io::Result<()> {
    let work = root.join("work");
    // Not mounted (already gone, or a copy from before) is fine.
    let _ = rustix::mount::unmount(&work, rustix::mount::UnmountFlags::DETACH);
    std::fs::remove_dir_all(root)
}

/// Where a job's copies live under the data directory.
pub fn workspaces_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("workspaces")
}
