//! Between rows and wire types: times as Unix milliseconds, structured
//! columns as JSON, a job row as a [`Job`].

use corral_proto::{CommandSpec, Job, JobMode, JobState, JobUsage, Limits};
use rusqlite::{Connection, Row};
use time::OffsetDateTime;

use crate::store::StoreError;

/// Unix milliseconds, as stored.
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored time; `column` names it in errors.
pub(crate) fn from_millis(column: &'static str, value: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * 1_000_000).map_err(|error| {
        StoreError::Corrupt {
            column,
            message: error.to_string(),
        }
    })
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        column,
        message: error.to_string(),
    })
}

pub(super) fn to_json<T: serde::Serialize>(
    column: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt {
        column,
        message: error.to_string(),
    })
}

pub(super) fn job_from_row(row: &Row<'_>) -> Result<Job, StoreError> {
    let mode: String = row.get("mode")?;
    let state: String = row.get("state")?;
    let command: Option<String> = row.get("command")?;
    let limits: String = row.get("limits")?;
    let grants: String = row.get("grants")?;
    let isolation: Option<String> = row.get("isolation")?;
    let llm: Option<String> = row.get("llm")?;
    let claude: Option<String> = row.get("claude")?;
    let isolation_level: String = row.get("isolation_level")?;
    let egress: Option<String> = row.get("egress")?;
    let project_mode: String = row.get("project_mode")?;
    let project_check: Option<String> = row.get("project_check")?;
    let optional_time = |column: &'static str| -> Result<Option<OffsetDateTime>, StoreError> {
        row.get::<_, Option<i64>>(column)?
            .map(|value| from_millis(column, value))
            .transpose()
    };
    Ok(Job {
        id: row.get("id")?,
        mode: from_json::<JobMode>("mode", &format!("\"{mode}\""))?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            column: "state",
            message: state.clone(),
        })?,
        image: row.get("image")?,
        command: command
            .map(|text| from_json::<CommandSpec>("command", &text))
            .transpose()?,
        prompt: row.get("prompt")?,
        project: row.get("project")?,
        isolation: isolation
            .map(|text| from_json("isolation", &text))
            .transpose()?,
        limits: from_json::<Limits>("limits", &limits)?,
        grants: from_json("grants", &grants)?,
        container_id: row.get("container_id")?,
        exit_code: row.get("exit_code")?,
        reason: row.get("reason")?,
        created_at: from_millis("created_at", row.get("created_at")?)?,
        started_at: optional_time("started_at")?,
        finished_at: optional_time("finished_at")?,
        waiting_since: optional_time("waiting_since")?,
        llm: llm.map(|text| from_json("llm", &text)).transpose()?,
        interactive: row.get("interactive")?,
        usage: JobUsage {
            llm_calls: row.get("llm_calls")?,
            input_tokens: row.get("input_tokens")?,
            output_tokens: row.get("output_tokens")?,
            cost_usd: row.get("cost_usd")?,
        },
        claude: claude.map(|text| from_json("claude", &text)).transpose()?,
        isolation_level: from_json("isolation_level", &format!("\"{isolation_level}\""))?,
        egress: egress.map(|text| from_json("egress", &text)).transpose()?,
        project_mode: from_json("project_mode", &format!("\"{project_mode}\""))?,
        project_check: project_check
            .map(|text| from_json("project_check", &text))
            .transpose()?,
    })
}

pub(super) fn query_jobs(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Job>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut jobs = Vec::new();
    while let Some(row) = rows.next()? {
        jobs.push(job_from_row(row)?);
    }
    Ok(jobs)
}

pub(super) const JOB_COLUMNS: &str = "id, mode, state, image, command, prompt, project, isolation, limits, grants, \
     container_id, exit_code, reason, created_at, started_at, finished_at, llm, interactive, \
     llm_calls, input_tokens, output_tokens, cost_usd, claude, isolation_level, egress, project_mode, project_check, \
     waiting_since";

pub(super) const TERMINAL: &str = "('succeeded', 'failed', 'cancelled', 'timed_out')";

/// The highest sequence number `job_id` has stored (0 for none): the
/// primary key's last entry, not a scan.
pub(super) fn highest_seq(
    connection: &rusqlite::Connection,
    job_id: &str,
) -> rusqlite::Result<u64> {
    connection
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id = ?1")?
        .query_row([job_id], |row| row.get(0))
}
