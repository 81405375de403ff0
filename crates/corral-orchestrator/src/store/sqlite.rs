//! The embedded store: `SQLite` in WAL mode, migrated with `user_version`.
//!
//! rusqlite is synchronous, so every write runs on one writer thread over
//! the one connection that writes (`SQLite` serialises writers anyway), in
//! the order asked; event appends, the hot path, that wait there are
//! stored together (see `group`). Reads run on the blocking pool, on
//! read-only connections.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use corral_proto::{Isolation, Job, JobMode, JobState};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use rows::{JOB_COLUMNS, TERMINAL, millis, query_jobs, to_json};

use super::{Finish, JobRecords, StoreError};

/// Read-only connections for the hot read path (event pages): in WAL mode
/// they read while the writer writes, so followers never hold up ingest.
const READERS: usize = 4;
/// Bytes the WAL is cut back to once a checkpoint empties it: a reader
/// that held an old snapshot through a flood of events let it grow past
/// what one checkpoint interval writes, and the file otherwise stays at
/// its largest.
pub(super) const WAL_KEPT_BYTES: i64 = 32 << 20;

/// SQLite-backed [`Store`](super::Store).
#[derive(Clone)]
pub struct SqliteStore {
    /// The connection that writes, the writer thread's; tests hold it to
    /// keep the writer waiting.
    #[cfg(test)]
    connection: Arc<Mutex<Connection>>,
    readers: Arc<[Mutex<Connection>]>,
    next_reader: Arc<std::sync::atomic::AtomicUsize>,
    writer: group::Writer,
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        }
        let mut connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "journal_size_limit", WAL_KEPT_BYTES)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut connection)?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                reader.busy_timeout(std::time::Duration::from_secs(5))?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let connection = Arc::new(Mutex::new(connection));
        let writer =
            group::Writer::start(Arc::clone(&connection)).map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            #[cfg(test)]
            connection,
            readers: readers.into(),
            next_reader: Arc::default(),
            writer,
        })
    }
}

#[async_trait]
impl JobRecords for SqliteStore {
    async fn insert_job(&self, job: &Job) -> Result<(), StoreError> {
        let job = job.clone();
        self.call(move |connection| {
            let command = job
                .command
                .as_ref()
                .map(|c| to_json("command", c))
                .transpose()?;
            connection.execute(
                "INSERT INTO jobs (id, mode, state, image, command, prompt, project, limits, \
                 created_at, grants, isolation, llm, interactive, claude, isolation_level, \
                 egress, project_mode, project_check, queue_order) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
                 (SELECT COALESCE(MAX(queue_order), 0) + 1 FROM jobs))",
                params![
                    job.id,
                    job.mode.as_str(),
                    job.state.as_str(),
                    job.image,
                    command,
                    job.prompt,
                    job.project,
                    to_json("limits", &job.limits)?,
                    millis(job.created_at),
                    to_json("grants", &job.grants)?,
                    job.isolation
                        .as_ref()
                        .map(|isolation| to_json("isolation", isolation))
                        .transpose()?,
                    job.llm
                        .as_ref()
                        .map(|llm| to_json("llm", llm))
                        .transpose()?,
                    job.interactive,
                    job.claude
                        .as_ref()
                        .map(|claude| to_json("claude", claude))
                        .transpose()?,
                    job.isolation_level.as_str(),
                    job.egress
                        .as_ref()
                        .map(|egress| to_json("egress", egress))
                        .transpose()?,
                    job.project_mode.as_str(),
                    job.project_check
                        .as_ref()
                        .map(|check| to_json("project_check", check))
                        .transpose()?,
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn get_job(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
            Ok(query_jobs(connection, &sql, [job_id])?.into_iter().next())
        })
        .await
    }

    async fn list_jobs(
        &self,
        state: Option<JobState>,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let before = before.map(str::to_owned);
        self.read(move |connection| {
            query_jobs(
                connection,
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs \
                     WHERE (?1 IS NULL OR state = ?1) \
                     AND (?2 IS NULL OR queue_order < \
                          (SELECT queue_order FROM jobs WHERE id = ?2)) \
                     ORDER BY queue_order DESC LIMIT ?3"
                ),
                params![state.map(JobState::as_str), before, limit],
            )
        })
        .await
    }

    async fn jobs_with_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Job>, StoreError> {
        let prefix = prefix.to_owned();
        self.read(move |connection| {
            query_jobs(
                connection,
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE substr(id, 1, length(?1)) = ?1 \
                     ORDER BY queue_order DESC LIMIT ?2"
                ),
                params![prefix, limit],
            )
        })
        .await
    }

    async fn count_by_state(
        &self,
        mode: Option<JobMode>,
    ) -> Result<Vec<(JobState, u64)>, StoreError> {
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT state, COUNT(*) FROM jobs WHERE ?1 IS NULL OR mode = ?1 GROUP BY state",
            )?;
            let mut rows = statement.query([mode.map(JobMode::as_str)])?;
            let mut counts = Vec::new();
            while let Some(row) = rows.next()? {
                let state: String = row.get(0)?;
                if let Some(state) = JobState::parse(&state) {
                    counts.push((state, row.get(1)?));
                }
            }
            Ok(counts)
        })
        .await
    }

    async fn unfinished_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.read(|connection| {
            query_jobs(
                connection,
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('starting', 'running')"),
                [],
            )
        })
        .await
    }

    async fn claim_next_queued(&self) -> Result<Option<Job>, StoreError> {
        self.call(|connection| {
            let transaction = connection.transaction()?;
            let id: Option<String> = transaction
                .query_row(
                    "SELECT id FROM jobs WHERE state = 'queued' ORDER BY queue_order LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(id) = id else { return Ok(None) };
            transaction.execute("UPDATE jobs SET state = 'starting' WHERE id = ?1", [&id])?;
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
            let job = query_jobs(&transaction, &sql, [&id])?.into_iter().next();
            transaction.commit()?;
            Ok(job)
        })
        .await
    }

    async fn set_token_hash(&self, job_id: &str, hash: &str) -> Result<(), StoreError> {
        let (job_id, hash) = (job_id.to_owned(), hash.to_owned());
        self.call(move |connection| {
            connection.execute(
                "UPDATE jobs SET token_hash = ?2 WHERE id = ?1",
                [job_id, hash],
            )?;
            Ok(())
        })
        .await
    }

    async fn token_hash(&self, job_id: &str) -> Result<Option<String>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            Ok(connection
                .query_row(
                    "SELECT token_hash FROM jobs WHERE id = ?1",
                    [job_id],
                    |row| row.get(0),
                )
                .optional()?
                .flatten())
        })
        .await
    }

    async fn set_container(&self, job_id: &str, container_id: &str) -> Result<(), StoreError> {
        let (job_id, container_id) = (job_id.to_owned(), container_id.to_owned());
        self.call(move |connection| {
            connection.execute(
                "UPDATE jobs SET container_id = ?2 WHERE id = ?1",
                [job_id, container_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_isolation(&self, job_id: &str, isolation: &Isolation) -> Result<(), StoreError> {
        let (job_id, isolation) = (job_id.to_owned(), to_json("isolation", isolation)?);
        self.call(move |connection| {
            connection.execute(
                "UPDATE jobs SET isolation = ?2 WHERE id = ?1",
                [job_id, isolation],
            )?;
            Ok(())
        })
        .await
    }

    async fn mark_running(&self, job_id: &str) -> Result<bool, StoreError> {
        let job_id = job_id.to_owned();
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            let changed = connection.execute(
                "UPDATE jobs SET state = 'running', started_at = ?2 WHERE id = ?1 AND state = 'starting'",
                params![job_id, now],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn mark_stopped(&self, job_id: &str) -> Result<bool, StoreError> {
        let job_id = job_id.to_owned();
        self.call(move |connection| {
            let changed = connection.execute(
                // The next container's worker numbers its batches from 1:
                // the last container's number must not make them retries.
                // The sequence number stays: the next execs are numbered
                // past it, so none is taken for one of this container's.
                // Starting too: a start that failed before its container
                // ran leaves it stopped again.
                "UPDATE jobs SET state = 'stopped', container_id = NULL, last_batch = 0 \
                 WHERE id = ?1 AND state IN ('running', 'starting')",
                params![job_id],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn requeue_stopped(&self, job_id: &str) -> Result<bool, StoreError> {
        let job_id = job_id.to_owned();
        self.call(move |connection| {
            let changed = connection.execute(
                "UPDATE jobs SET state = 'queued', \
                 queue_order = (SELECT COALESCE(MAX(queue_order), 0) + 1 FROM jobs) \
                 WHERE id = ?1 AND state = 'stopped'",
                params![job_id],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn finish(
        &self,
        job_id: &str,
        finish: &Finish,
        only_from: Option<JobState>,
    ) -> Result<bool, StoreError> {
        let (job_id, finish) = (job_id.to_owned(), finish.clone());
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            let changed = connection.execute(
                &format!(
                    "UPDATE jobs SET state = ?2, exit_code = ?3, reason = ?4, finished_at = ?5, \
                     waiting_since = NULL \
                     WHERE id = ?1 AND state NOT IN {TERMINAL} AND (?6 IS NULL OR state = ?6)"
                ),
                params![
                    job_id,
                    finish.state.as_str(),
                    finish.exit_code,
                    finish.reason,
                    now,
                    only_from.map(JobState::as_str),
                ],
            )?;
            Ok(changed == 1)
        })
        .await
    }
}

mod calls;
mod events;
mod group;
mod prompts;
mod rows;
mod schema;
mod secrets;
#[cfg(test)]
mod tests;
