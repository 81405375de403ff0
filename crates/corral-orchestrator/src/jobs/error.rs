//! Why a job operation failed.

use crate::store::StoreError;
use crate::token::RandomError;

/// Why a job operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job spec is invalid; `field` names the culprit.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A listing's filter, limit or cursor is wrong; `field` names it.
    #[error("{message}")]
    BadQuery {
        /// The query parameter at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No such job.
    #[error("job {job_id} not found")]
    NotFound {
        /// The id asked for.
        job_id: String,
    },
    /// The job is already over.
    #[error("job {job_id} already ended ({state})")]
    AlreadyEnded {
        /// The job.
        job_id: String,
        /// Its terminal state.
        state: &'static str,
    },
    /// A prompt went to an interactive job its user has ended.
    #[error("job {job_id} is ending (its user ended it): it takes no more prompts")]
    Ending {
        /// The job.
        job_id: String,
    },
    /// A follow-up prompt went to an ended claude job that left no session.
    #[error("job {job_id} ended without a Claude session to resume")]
    NoSession {
        /// The job.
        job_id: String,
    },
    /// A follow-up prompt went to a job that does not take them.
    #[error("job {job_id} is not interactive: start it with --interactive to send prompts")]
    NotInteractive {
        /// The job.
        job_id: String,
    },
    /// A review operation (diff, apply, discard) cannot be done.
    #[error("job {job_id}: {message}")]
    Review {
        /// The job.
        job_id: String,
        /// Why.
        message: String,
        /// Files that conflict, when applying conflicts.
        conflicts: Vec<String>,
    },
    /// The sandbox check failed (or has not finished): no job runs.
    #[error("{message}")]
    Unverified {
        /// The failing rows, and what to do.
        message: String,
    },
    /// A sandbox operation failed.
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for an id.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl JobError {
    pub(super) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
