//! Listing jobs and paging through a job's events: the filters, limits and
//! cursors the user API and `/mcp` both take, checked in one place.

use corral_proto::{Event, Job, JobState};

use super::{JobError, JobManager};

/// Most jobs one page holds.
pub const MAX_JOBS_PAGE: u32 = 1000;
/// Jobs a page holds when the caller names no limit.
pub const DEFAULT_JOBS_PAGE: u32 = 100;
/// Most events one page holds (also the page a caller gets by default).
pub const MAX_EVENTS_PAGE: u32 = 1000;
/// A page of events ends once their data as stored comes to this (one
/// event at least): a thousand output events of 64 KiB would be 64 MiB
/// held for one answer.
pub const EVENTS_PAGE_BYTES: usize = 4 << 20;

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    /// Only jobs in this state (by its name).
    pub state: Option<String>,
    /// At most this many ([`DEFAULT_JOBS_PAGE`] when absent).
    pub limit: Option<u32>,
    /// Only jobs created before this one: the `next` of the page before.
    pub before: Option<String>,
    /// Only jobs whose id starts with this, newest first; no `before`.
    pub id_prefix: Option<String>,
    /// Only the claude jobs that continue this job's session, oldest first;
    /// no `before` nor `id_prefix`.
    pub continues: Option<String>,
}

/// A page of jobs and the cursor of the next (older) one, if any.
#[derive(Debug, Clone)]
pub struct JobPage {
    /// The jobs.
    pub jobs: Vec<Job>,
    /// The `before` that lists the next page; `None` on the last.
    pub next: Option<String>,
}

/// A page of a job's events.
#[derive(Debug, Clone)]
pub struct EventsPage {
    /// In order.
    pub events: Vec<Event>,
    /// Whether the job had stored events after the last of these when the
    /// page was read (it was cut at [`EVENTS_PAGE_BYTES`] or at its limit).
    pub more: bool,
}

impl JobManager {
    /// The page of jobs `query` names.
    pub async fn list(&self, query: JobQuery) -> Result<JobPage, JobError> {
        let filter = query
            .state
            .as_deref()
            .map(|name| {
                JobState::parse(name).ok_or_else(|| {
                    let states: Vec<&str> =
                        JobState::ALL.iter().map(|state| state.as_str()).collect();
                    query_error(
                        "state",
                        format!("unknown state `{name}`: one of {}", states.join(", ")),
                    )
                })
            })
            .transpose()?;
        let limit = query.limit.unwrap_or(DEFAULT_JOBS_PAGE);
        if limit == 0 || limit > MAX_JOBS_PAGE {
            return Err(query_error(
                "limit",
                format!("must be within 1..={MAX_JOBS_PAGE}"),
            ));
        }
        let keep = |mut jobs: Vec<Job>| {
            jobs.retain(|job| filter.is_none_or(|state| job.state == state));
            JobPage { jobs, next: None }
        };
        if let Some(continued) = &query.continues {
            if query.before.is_some() || query.id_prefix.is_some() {
                return Err(query_error("continues", "takes no `before` or `id_prefix`"));
            }
            return Ok(keep(self.store().continuations(continued, limit).await?));
        }
        if let Some(prefix) = &query.id_prefix {
            if query.before.is_some() {
                return Err(query_error("id_prefix", "takes no `before`"));
            }
            return Ok(keep(self.store().jobs_with_id_prefix(prefix, limit).await?));
        }
        if let Some(before) = &query.before
            && self.store().get_job(before).await?.is_none()
        {
            return Err(query_error(
                "before",
                format!("`before` names no job: `{before}`"),
            ));
        }
        // One more than asked, to know whether another page follows.
        let mut jobs = self
            .store()
            .list_jobs(filter, query.before.as_deref(), limit + 1)
            .await?;
        let more = jobs.len() > limit as usize;
        jobs.truncate(limit as usize);
        let next = more
            .then(|| jobs.last().map(|job| job.id.clone()))
            .flatten();
        Ok(JobPage { jobs, next })
    }

    /// Up to `limit` ([`MAX_EVENTS_PAGE`] when absent) of the job's events
    /// after the `after`th, and [`EVENTS_PAGE_BYTES`] of them; 404 for a
    /// job that does not exist.
    pub async fn events_page(
        &self,
        job_id: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<EventsPage, JobError> {
        self.get(job_id).await?;
        let limit = limit.unwrap_or(MAX_EVENTS_PAGE);
        if limit == 0 || limit > MAX_EVENTS_PAGE {
            return Err(query_error(
                "limit",
                format!("must be within 1..={MAX_EVENTS_PAGE}"),
            ));
        }
        let (events, highest) = self
            .store()
            .events_within(job_id, after, limit, EVENTS_PAGE_BYTES)
            .await?;
        let more = events.last().is_some_and(|last| last.seq < highest);
        Ok(EventsPage { events, more })
    }
}

fn query_error(field: &str, message: impl Into<String>) -> JobError {
    JobError::BadQuery {
        field: field.to_owned(),
        message: message.into(),
    }
}
