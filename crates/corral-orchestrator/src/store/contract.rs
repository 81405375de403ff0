//! What a store must do for corral: the `Store` traits (jobs, events,
//! agent records, secrets), the rows they pass, and `StoreError`.

use async_trait::async_trait;
use corral_proto::worker::ClaudeSession;
use corral_proto::{Event, EventKind, Isolation, Job, JobState, NewEvent, Prompt};

/// A stored secret: its name, its sealed value and its history. The
/// plaintext never reaches the store.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The secret's name.
    pub name: String,
    /// The AEAD nonce of this write.
    pub nonce: Vec<u8>,
    /// The sealed value.
    pub ciphertext: Vec<u8>,
    /// When it was first stored.
    pub created_at: time::OffsetDateTime,
    /// When its value was last written.
    pub updated_at: time::OffsetDateTime,
    /// When a job last received it.
    pub last_used_at: Option<time::OffsetDateTime>,
}

impl std::fmt::Debug for SecretRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRecord")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Where sealed secrets, server metadata and the redaction audit live.
#[async_trait]
pub trait SecretRecords: Send + Sync {
    /// Stores (or replaces) a sealed value; returns the record.
    async fn put_secret(
        &self,
        name: &str,
        nonce: Vec<u8>,
        ciphertext: Vec<u8>,
    ) -> Result<SecretRecord, StoreError>;
    /// One secret.
    async fn secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError>;
    /// Every secret, by name.
    async fn secrets(&self) -> Result<Vec<SecretRecord>, StoreError>;
    /// Removes a secret; false when there was none.
    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError>;
    /// Stamps `last_used_at`.
    async fn touch_secret(&self, name: &str) -> Result<(), StoreError>;
    /// A server metadata value.
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a server metadata value.
    async fn put_meta(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError>;
    /// Audits redactions: which secret or pattern, in which job, when (never the value).
    async fn record_redactions(&self, job_id: &str, names: Vec<String>) -> Result<(), StoreError>;
    /// The redaction audit of one job.
    async fn redactions(&self, job_id: &str) -> Result<Vec<String>, StoreError>;
    /// Redactions ever recorded.
    async fn redaction_count(&self) -> Result<u64, StoreError>;
}

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
    /// The blocking database task died: how, never its panic's message
    /// (which may quote what was being stored).
    #[error("database task failed: {0}")]
    Task(&'static str),
    /// The thread that writes to the database stopped, or panicked on
    /// this write (and rolled it back).
    #[error("the database's writer failed")]
    WriterGone,
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

impl From<tokio::task::JoinError> for StoreError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Task(crate::text::task_failure(&error))
    }
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

/// Where jobs and events live: a job's row, its events, and what agent
/// jobs add. A store implements each part where its code for that part is.
pub trait Store: JobRecords + EventRecords + AgentRecords {}

impl<T: JobRecords + EventRecords + AgentRecords + ?Sized> Store for T {}

/// Jobs: created, claimed, started, ended, listed.
#[async_trait]
pub trait JobRecords: Send + Sync {
    /// Stores a new job (normally `queued`).
    async fn insert_job(&self, job: &Job) -> Result<(), StoreError>;
    /// One job.
    async fn get_job(&self, job_id: &str) -> Result<Option<Job>, StoreError>;
    /// The newest jobs first, optionally only those in `state`, and only
    /// those created before the job `before` (a page's cursor: the last id
    /// of the page before; an unknown id lists nothing).
    async fn list_jobs(
        &self,
        state: Option<JobState>,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;
    /// The newest jobs whose id starts with `prefix` (at most `limit`), so
    /// a user can name a job by the start of its id.
    async fn jobs_with_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// How many jobs are in each state that has any.
    async fn count_by_state(
        &self,
        mode: Option<corral_proto::JobMode>,
    ) -> Result<Vec<(JobState, u64)>, StoreError>;
    /// Jobs in `starting` or `running`: after a restart these have no owner.
    async fn unfinished_jobs(&self) -> Result<Vec<Job>, StoreError>;
    /// Moves the oldest `queued` job to `starting` and returns it.
    async fn claim_next_queued(&self) -> Result<Option<Job>, StoreError>;
    /// Records the hash of a job's worker token (never the token), so a
    /// restarted orchestrator can re-adopt the job.
    async fn set_token_hash(&self, job_id: &str, hash: &str) -> Result<(), StoreError>;
    /// The stored hash of a job's worker token.
    async fn token_hash(&self, job_id: &str) -> Result<Option<String>, StoreError>;
    /// Records the container a job runs in.
    async fn set_container(&self, job_id: &str, container_id: &str) -> Result<(), StoreError>;
    /// Replaces a branch-mode job's isolation record (a review's outcome).
    async fn set_isolation(&self, job_id: &str, isolation: &Isolation) -> Result<(), StoreError>;
    /// `starting` → `running`, stamping `started_at`; false when the job was no longer starting.
    async fn mark_running(&self, job_id: &str) -> Result<bool, StoreError>;
    /// A sandbox `running` (or `starting`: its start failed) → `stopped`, its
    /// container forgotten; false when it was neither.
    async fn mark_stopped(&self, job_id: &str) -> Result<bool, StoreError>;
    /// A sandbox `stopped` → `queued`, at the end of the queue; false when it was not stopped.
    async fn requeue_stopped(&self, job_id: &str) -> Result<bool, StoreError>;
    /// Ends a job unless it already ended; true when this call ended it.
    /// With `only_from`, only a job in that state is ended.
    async fn finish(
        &self,
        job_id: &str,
        finish: &Finish,
        only_from: Option<JobState>,
    ) -> Result<bool, StoreError>;
}

/// Which of a job's output streams the leak detector holds something of
/// after an append (`None`: the job's own; a number: that sandbox exec's),
/// in order. Never what it holds: that stays in memory, and is lost with
/// it (see `worker_api/held.rs`).
pub type HeldStreams = Vec<Option<u64>>;

/// A job's events: appended densely numbered, read in pages.
#[async_trait]
pub trait EventRecords: Send + Sync {
    /// Appends events with the next sequence numbers; returns the last one.
    /// With a worker batch number, records it in the same transaction, so a
    /// batch resent after a lost answer (even across a restart) is seen by
    /// [`EventRecords::last_batch`]; `held`, when given, is written in
    /// that transaction too.
    async fn append_events(
        &self,
        job_id: &str,
        events: Vec<NewEvent>,
        batch: Option<u64>,
        held: Option<HeldStreams>,
    ) -> Result<Vec<Event>, StoreError>;
    /// The streams the last append that gave them left held.
    async fn held_streams(&self, job_id: &str) -> Result<HeldStreams, StoreError>;
    /// The last worker batch stored for a job, and the sequence number it ended at.
    async fn last_batch(&self, job_id: &str) -> Result<Option<(u64, u64)>, StoreError>;
    /// A sandbox's execs numbered `first` to `last` with an
    /// `exec_started` event and no `exec_ended` (those that may still
    /// run), the highest first, at most `limit`.
    async fn open_execs(
        &self,
        job_id: &str,
        numbers: std::ops::RangeInclusive<u64>,
        limit: u32,
    ) -> Result<Vec<u64>, StoreError>;
    /// A sandbox's exec numbers: the first its current container's (0
    /// when never said), and the highest reserved.
    async fn exec_numbers(&self, job_id: &str) -> Result<(u64, u64), StoreError>;
    /// The highest exec number a sandbox's stored `exec_started` events
    /// name (0 for none): for a sandbox whose numbers were never reserved.
    async fn highest_started_exec(&self, job_id: &str) -> Result<u64, StoreError>;
    /// Its current container's execs are numbered from `first`.
    async fn set_execs_from(&self, job_id: &str, first: u64) -> Result<(), StoreError>;
    /// Exec numbers up to `upto` are reserved (never fewer than before).
    async fn reserve_execs(&self, job_id: &str, upto: u64) -> Result<(), StoreError>;
    /// How many bytes the data of a job's stored events of the kinds a
    /// worker sends take, each row counted `per_row` more (its budget,
    /// when a new session takes it up).
    async fn worker_bytes(&self, job_id: &str, per_row: u64) -> Result<u64, StoreError>;
    /// The sequence number of the job's last `status` event that changed
    /// its state to anything but `running` (0 for none): a sandbox's last
    /// stop or start, before which its current container reported nothing.
    /// Workers cannot send a state.
    async fn last_state_but_running(&self, job_id: &str) -> Result<u64, StoreError>;
    /// A job's last event of `kind`, if it has one.
    async fn last_of_kind(
        &self,
        job_id: &str,
        kind: EventKind,
    ) -> Result<Option<Event>, StoreError>;
    /// Up to `limit` events with `seq > after`, in order.
    async fn events_after(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let (events, _) = self.events_within(job_id, after, limit, usize::MAX).await?;
        Ok(events)
    }
    /// Like [`EventRecords::events_after`], ending once the events' data
    /// as stored (JSON) comes to `max_bytes` (one event at least): what a
    /// reader holds of a job whose events are large stays bounded. With
    /// the highest sequence number the job had stored when it was read (at
    /// least the page's last): events follow the page when it is higher.
    async fn events_within(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<Event>, u64), StoreError>;
}

/// What agent jobs add to a job: model usage, follow-up prompts, the
/// waiting mark of an interactive job, Claude sessions.
#[async_trait]
pub trait AgentRecords: Send + Sync {
    /// Adds one model call's tokens and cost to a job's totals.
    async fn add_llm_usage(
        &self,
        job_id: &str,
        input_tokens: u64,
        output_tokens: u64,
        cost_usd: f64,
    ) -> Result<(), StoreError>;
    /// Model usage of every job ever: calls, input and output tokens, US dollars.
    async fn llm_totals(&self) -> Result<(u64, u64, u64, f64), StoreError>;
    /// Queues a follow-up prompt (or, with `end`, the user's end of an
    /// interactive job); returns its number, or `None` (nothing queued)
    /// when the job's end is already queued.
    async fn add_prompt(
        &self,
        job_id: &str,
        text: &str,
        end: bool,
    ) -> Result<Option<u64>, StoreError>;
    /// A job's prompts numbered above `after`, in order.
    async fn prompts_after(&self, job_id: &str, after: u64) -> Result<Vec<Prompt>, StoreError>;
    /// The claude jobs that continue job `job_id`'s session, oldest first.
    async fn continuations(&self, job_id: &str, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// Marks a running interactive job as waiting for a prompt since now,
    /// unless one numbered above `seen` (the last its worker was given) is
    /// queued or it is marked already; whether it was marked.
    async fn mark_waiting(&self, job_id: &str, seen: u64) -> Result<bool, StoreError>;
    /// Clears a job's waiting mark.
    async fn clear_waiting(&self, job_id: &str) -> Result<(), StoreError>;
    /// Keeps (replacing) a claude job's latest Claude session.
    async fn save_claude_session(
        &self,
        job_id: &str,
        session: &ClaudeSession,
    ) -> Result<(), StoreError>;
    /// A claude job's latest Claude session, if it reported one.
    async fn claude_session(&self, job_id: &str) -> Result<Option<ClaudeSession>, StoreError>;
}

#[cfg(test)]
mod tests {
    /// A database task's panic, as the store reports it, in words and in
    /// its debug form: never its message (the `JoinError` it held quoted
    /// it in its debug form).
    #[tokio::test]
    async fn a_database_task_s_panic_is_told_without_its_message() {
        let error = tokio::task::spawn_blocking(|| panic!("sk-from-inside-the-job"))
            .await
            .expect_err("it panicked");
        let stored = super::StoreError::from(error);
        let told = format!("{stored} {stored:?}");
        assert!(!told.contains("sk-from-inside"), "{told}");
        assert!(told.contains("it panicked"), "{told}");
    }
}
