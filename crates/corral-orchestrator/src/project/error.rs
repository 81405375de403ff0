//! Why a project directory cannot be used, in terms a user can act on.

use std::path::{Path, PathBuf};

/// Why a project directory cannot be given to a job.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The path is relative.
    #[error("{} is not an absolute path", path.display())]
    NotAbsolute {
        /// The path given.
        path: PathBuf,
    },
    /// The path holds `.` or `..` where a resolved path was expected.
    #[error("{} is not a resolved path", path.display())]
    NotCanonical {
        /// The path.
        path: PathBuf,
    },
    /// A component of the path does not exist or cannot be read.
    #[error("{} cannot be opened: {message}", path.display())]
    Unreadable {
        /// The path, as far as it was walked.
        path: PathBuf,
        /// The system's account.
        message: String,
    },
    /// A component of the checked path is now a symbolic link.
    #[error(
        "{} is a symbolic link now: the project's path changed after it was checked",
        path.display()
    )]
    Symlink {
        /// The path up to the link.
        path: PathBuf,
    },
    /// A component is not a directory.
    #[error("{} is not a directory", path.display())]
    NotDirectory {
        /// The path up to the culprit.
        path: PathBuf,
    },
    /// The path leads to another directory than the one checked.
    #[error(
        "{} is not the directory that was checked when the job was created (it was replaced)",
        path.display()
    )]
    Replaced {
        /// The path.
        path: PathBuf,
    },
    /// The directory is one a job may never get.
    #[error("{message}")]
    Protected {
        /// What it is or overlaps.
        message: String,
    },
    /// It lies inside, or holds, a directory another running job can write.
    #[error(
        "{} overlaps {}, which job {job_id} can write while it runs: give a separate directory, or allow the overlap explicitly (allow_overlap, --allow-project-overlap)",
        path.display(), other.display()
    )]
    Overlap {
        /// The project.
        path: PathBuf,
        /// The running job's directory.
        other: PathBuf,
        /// The running job.
        job_id: String,
    },
    /// The held directory could not be mounted for the container.
    #[error("cannot hand the project to the container: {message}")]
    Stage {
        /// Why.
        message: String,
    },
}

impl ProjectError {
    pub(super) fn io(path: &Path, errno: rustix::io::Errno) -> Self {
        Self::Unreadable {
            path: path.to_owned(),
            message: std::io::Error::from(errno).to_string(),
        }
    }
}
