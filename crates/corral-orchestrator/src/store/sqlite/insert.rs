//! Storing a new job, every column of it.

use corral_proto::Job;
use rusqlite::params;

use super::SqliteStore;
use super::rows::{millis, to_json};
use crate::store::StoreError;

impl SqliteStore {
    pub(super) async fn insert_job_row(&self, job: &Job) -> Result<(), StoreError> {
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
}
