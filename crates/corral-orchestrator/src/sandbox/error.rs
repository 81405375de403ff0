//! Why a sandbox operation failed.

use corral_proto::sandbox::SandboxState;

use super::DeskError;

/// Why a sandbox operation failed (besides what any job operation may).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// It is not running: it ended, or still starts after the wait.
    #[error("sandbox {id} is not running ({}){}", .state.as_str(), if *.state == SandboxState::Paused { ": resume it first" } else { "" })]
    NotRunning {
        /// The sandbox.
        id: String,
        /// Where it is.
        state: SandboxState,
    },
    /// `start` of a sandbox that is not stopped.
    #[error("sandbox {id} is not stopped ({}): only a stopped sandbox starts", .state.as_str())]
    NotStopped {
        /// The sandbox.
        id: String,
        /// Where it is.
        state: SandboxState,
    },
    /// It ended while an exec's answer was awaited.
    #[error("sandbox {id} ended ({}) before exec {exec} did", .state.as_str())]
    EndedDuringExec {
        /// The sandbox.
        id: String,
        /// The exec.
        exec: u64,
        /// How it ended.
        state: SandboxState,
    },
    /// It ended while a file transfer waited for it.
    #[error("the sandbox ended before the file transfer was done")]
    EndedDuringTransfer,
    /// As many execs run as it may run at once.
    #[error(transparent)]
    Busy(DeskError),
    /// The worker did not answer in time.
    #[error(transparent)]
    NoAnswer(DeskError),
    /// More bytes than `field` allows.
    #[error("{field}: {message}")]
    TooLarge {
        /// The limit's name (`limits.tmpfs`).
        field: String,
        /// What was too large.
        message: String,
    },
    /// A path the sandbox resolved outside the roots, or of the wrong kind.
    #[error("path: {message}")]
    BadPath {
        /// Why.
        message: String,
    },
    /// Nothing at the path.
    #[error("{message}")]
    NoSuchPath {
        /// What was not found.
        message: String,
    },
    /// A download holds a stored secret: it is not handed out.
    #[error(
        "the file holds what looks like a secret ({names}): corral lets no secret leave a sandbox; remove it, or read the file with an exec (its output is redacted)"
    )]
    HoldsSecret {
        /// What the leak detector found (names, never values).
        names: String,
    },
    /// The sandbox failed to do it.
    #[error("the sandbox could not do it: {message}")]
    Failed {
        /// Its account, redacted.
        message: String,
    },
}

impl From<DeskError> for SandboxError {
    fn from(error: DeskError) -> Self {
        match error {
            DeskError::TooManyExecs { .. }
            | DeskError::TooManyDownloads
            | DeskError::NotReserved => Self::Busy(error),
            DeskError::NoAnswer(_) => Self::NoAnswer(error),
            DeskError::Closed => Self::EndedDuringTransfer,
        }
    }
}
