//! Durable state: jobs and their events, behind the [`Store`] trait so the
//! `SQLite` store can give way to `PostgreSQL` when several orchestrators share
//! one database.
//!
//! Conditional updates (`finish` only from a live state, `claim_next_queued`)
//! live here rather than in the job manager, so two racing paths (a cancel
//! and a scheduler, say) cannot both win.

mod sqlite;

use async_trait::async_trait;
use corral_proto::{Event, Job, JobState, NewEvent};

pub use sqlite::SqliteStore;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    /// A stored value could not be read back.
    #[error("corrupt stored value in {column}: {message}")]
    Corrupt {
        /// Where it was.
        column: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The blocking database task died.
    #[error("database task failed")]
    Task(#[from] tokio::task::JoinError),
    /// The database file or its directory could not be prepared.
    #[error("cannot open database at {path}")]
    Open {
        /// The database file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// How a job ended, written once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// A terminal state.
    pub state: JobState,
    /// The container's exit code, when it ran.
    pub exit_code: Option<i64>,
    /// Why, for anything but plain success.
    pub reason: Option<String>,
}

/// Where jobs and events live.
#[async_trait]
pub trait Store: Send + Sync {
    /// Stores a new job (normally `queued`).
    async fn insert_job(&self, job: &Job) -> Result<(), StoreError>;
    /// One job.
    async fn get_job(&self, job_id: &str) -> Result<Option<Job>, StoreError>;
    /// The newest jobs first, optionally only those in `state`.
    async fn list_jobs(&self, state: Option<JobState>, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// Jobs in `starting` or `running`: after a restart these have no owner.
    async fn unfinished_jobs(&self) -> Result<Vec<Job>, StoreError>;
    /// Moves the oldest `queued` job to `starting` and returns it.
    async fn claim_next_queued(&self) -> Result<Option<Job>, StoreError>;
    /// Records the container a job runs in.
    async fn set_container(&self, job_id: &str, container_id: &str) -> Result<(), StoreError>;
    /// `starting` → `running`, stamping `started_at`; false when the job was no longer starting.
    async fn mark_running(&self, job_id: &str) -> Result<bool, StoreError>;
    /// Ends a job unless it already ended; true when this call ended it.
    /// With `only_from`, only a job in that state is ended.
    async fn finish(
        &self,
        job_id: &str,
        finish: &Finish,
        only_from: Option<JobState>,
    ) -> Result<bool, StoreError>;
    /// Appends events with the next sequence numbers; returns the last one.
    async fn append_events(&self, job_id: &str, events: Vec<NewEvent>) -> Result<u64, StoreError>;
    /// Up to `limit` events with `seq > after`, in order.
    async fn events_after(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError>;
}
