//! Model usage totals, follow-up prompts and Claude sessions of a job.

use corral_proto::Prompt;
use corral_proto::worker::ClaudeSession;
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use async_trait::async_trait;

use super::SqliteStore;
use super::rows::millis;
use crate::store::{AgentRecords, StoreError};

#[async_trait]
impl AgentRecords for SqliteStore {
    async fn add_llm_usage(
        &self,
        job_id: &str,
        input_tokens: u64,
        output_tokens: u64,
        cost_usd: f64,
    ) -> Result<(), StoreError> {
        let job_id = job_id.to_owned();
        self.call(move |connection| {
            connection.execute(
                "UPDATE jobs SET llm_calls = llm_calls + 1, input_tokens = input_tokens + ?2, \
                 output_tokens = output_tokens + ?3, cost_usd = cost_usd + ?4 WHERE id = ?1",
                params![job_id, input_tokens, output_tokens, cost_usd],
            )?;
            Ok(())
        })
        .await
    }

    async fn llm_totals(&self) -> Result<(u64, u64, u64, f64), StoreError> {
        self.read(|connection| {
            Ok(connection.query_row(
                "SELECT COALESCE(SUM(llm_calls), 0), COALESCE(SUM(input_tokens), 0), \
                 COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_usd), 0.0) FROM jobs",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )?)
        })
        .await
    }

    async fn add_prompt(
        &self,
        job_id: &str,
        text: &str,
        end: bool,
    ) -> Result<Option<u64>, StoreError> {
        let (job_id, text) = (job_id.to_owned(), text.to_owned());
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            // One transaction: nothing is queued behind the job's end, even
            // by a prompt that raced it.
            let transaction = connection.transaction()?;
            let (next, ending): (u64, bool) = transaction.query_row(
                "SELECT COALESCE(MAX(seq), 0) + 1, COALESCE(MAX(ends), 0) FROM prompts \
                 WHERE job_id = ?1",
                [&job_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if ending {
                return Ok(None);
            }
            transaction.execute(
                "INSERT INTO prompts (job_id, seq, ts, text, ends) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job_id, next, now, text, end],
            )?;
            transaction.commit()?;
            Ok(Some(next))
        })
        .await
    }

    async fn prompts_after(&self, job_id: &str, after: u64) -> Result<Vec<Prompt>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT seq, text, ends FROM prompts WHERE job_id = ?1 AND seq > ?2 ORDER BY seq",
            )?;
            let prompts = statement
                .query_map(params![job_id, after], |row| {
                    Ok(Prompt {
                        seq: row.get(0)?,
                        text: row.get(1)?,
                        continued_in: None,
                        end: row.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(prompts)
        })
        .await
    }

    async fn continuations(
        &self,
        job_id: &str,
        limit: u32,
    ) -> Result<Vec<corral_proto::Job>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            super::rows::query_jobs(
                connection,
                &format!(
                    "SELECT {} FROM jobs WHERE mode = 'claude' \
                     AND json_extract(claude, '$.continues') = ?1 ORDER BY queue_order LIMIT ?2",
                    super::rows::JOB_COLUMNS
                ),
                params![job_id, limit],
            )
        })
        .await
    }

    async fn mark_waiting(&self, job_id: &str, seen: u64) -> Result<bool, StoreError> {
        self.update_waiting(job_id, Some(seen)).await
    }

    async fn clear_waiting(&self, job_id: &str) -> Result<(), StoreError> {
        self.update_waiting(job_id, None).await.map(drop)
    }

    async fn save_claude_session(
        &self,
        job_id: &str,
        session: &ClaudeSession,
    ) -> Result<(), StoreError> {
        let (job_id, session) = (job_id.to_owned(), session.clone());
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            connection.execute(
                "INSERT INTO claude_sessions (job_id, session_id, dir, transcript, ts) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (job_id) DO UPDATE SET \
                 session_id = excluded.session_id, dir = excluded.dir, \
                 transcript = excluded.transcript, ts = excluded.ts",
                params![
                    job_id,
                    session.session_id,
                    session.dir,
                    session.transcript,
                    now
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn claude_session(&self, job_id: &str) -> Result<Option<ClaudeSession>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            Ok(connection
                .query_row(
                    "SELECT session_id, dir, transcript FROM claude_sessions WHERE job_id = ?1",
                    [&job_id],
                    |row| {
                        Ok(ClaudeSession {
                            session_id: row.get(0)?,
                            dir: row.get(1)?,
                            transcript: row.get(2)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }
}

impl SqliteStore {
    /// Marks a job waiting (when `seen` is given: the last prompt its
    /// worker was handed) or clears the mark; whether a mark was set. The
    /// mark needs an interactive running job with nothing queued past
    /// `seen`, checked in the same statement as the write, so a prompt
    /// queued meanwhile is never hidden behind a "waiting".
    async fn update_waiting(&self, job_id: &str, seen: Option<u64>) -> Result<bool, StoreError> {
        let job_id = job_id.to_owned();
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            let changed = match seen {
                Some(seen) => connection.execute(
                    "UPDATE jobs SET waiting_since = ?2 WHERE id = ?1 AND waiting_since IS NULL \
                     AND state = 'running' AND interactive = 1 AND NOT EXISTS \
                     (SELECT 1 FROM prompts WHERE job_id = ?1 AND seq > ?3)",
                    params![job_id, now, seen],
                )?,
                None => connection.execute(
                    "UPDATE jobs SET waiting_since = NULL WHERE id = ?1 AND waiting_since IS NOT NULL",
                    [job_id],
                )?,
            };
            Ok(changed > 0)
        })
        .await
    }
}
