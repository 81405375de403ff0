//! Following one job's events to its end: the log's side of a live stream,
//! apart from how the stream is written (the user API's SSE).
//!
//! A follower subscribes to the job's wake-ups, re-reads from the last
//! sequence it read, and waits for the next wake-up. It reads the job's row
//! only when the job may have ended: at first, once a `status` event was
//! read (a job's end is stored just before its last status event), once the
//! log closed the job's wake-ups, and after an idle spell. A hundred
//! followers of a chatty job so cost the store nothing.

use std::sync::Arc;
use std::time::Duration;

use corral_proto::{EventKind, JobState};
use tokio::sync::broadcast::error::RecvError;

use super::log::Following;
use super::{EventLog, SharedEvent};
use crate::store::StoreError;

/// Longest wait for a finished job's last status event, which is stored
/// just after its end.
const FINAL_WAIT: Duration = Duration::from_secs(2);
/// Most events one step reads.
const MAX_READ: u32 = 1000;

/// What a follower has next.
#[derive(Debug)]
pub enum Step {
    /// Events after the last ones read, in order.
    Events(Vec<Arc<SharedEvent>>),
    /// Nothing happened for `idle` (a stream sends a keep-alive).
    Idle,
    /// The job ended and every event of it was read.
    End {
        /// Its final state.
        state: JobState,
        /// Its exit code, when it has one.
        exit_code: Option<i64>,
    },
    /// The store failed; the follower is done.
    Failed(StoreError),
}

/// One job's events, followed to its end.
pub struct Follower {
    log: EventLog,
    job_id: String,
    after: u64,
    idle: Duration,
    wake: Option<Following>,
    /// The job may have ended since its row was last read.
    may_have_ended: bool,
    /// Whether the job's last event was read.
    last: LastEvent,
    done: bool,
}

/// What a follower knows of a job's last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastEvent {
    /// Not read yet, as far as the follower knows.
    Unknown,
    /// The job had ended without it, and the follower waited
    /// [`FINAL_WAIT`] for it (one resumed past it never reads it again).
    Waited,
    /// A `status` event with a final state was read, or the log closed
    /// the job's wake-ups (which it does once that event is stored).
    Read,
}

impl EventLog {
    /// Follows `job_id` from after its `after`th event; a step with nothing
    /// to say comes after `idle` without an event.
    pub fn follow(&self, job_id: &str, after: u64, idle: Duration) -> Follower {
        Follower {
            log: self.clone(),
            job_id: job_id.to_owned(),
            after,
            idle,
            wake: None,
            may_have_ended: true,
            last: LastEvent::Unknown,
            done: false,
        }
    }
}

impl Follower {
    /// The next step; `None` once the job ended (or was removed) and the
    /// end was given.
    pub async fn next(&mut self) -> Option<Step> {
        loop {
            if self.done {
                return None;
            }
            let log = self.log.clone();
            let wake = self
                .wake
                .get_or_insert_with(|| log.subscribe_following(&self.job_id));
            let page = match log.events_after(&self.job_id, self.after, MAX_READ).await {
                Ok(page) => page,
                Err(error) => return Some(self.fail(error)),
            };
            if let Some(last) = page.last() {
                self.after = last.event().seq;
                for shared in &page {
                    let event = shared.event();
                    if event.kind == EventKind::Status {
                        self.may_have_ended = true;
                        if event.state().is_some_and(JobState::is_terminal) {
                            self.last = LastEvent::Read;
                        }
                    }
                }
                return Some(Step::Events(page));
            }
            if !self.may_have_ended {
                match tokio::time::timeout(self.idle, wake.recv()).await {
                    Err(_idle) => {
                        self.may_have_ended = true;
                        return Some(Step::Idle);
                    }
                    Ok(Ok(()) | Err(RecvError::Lagged(_))) => {}
                    Ok(Err(RecvError::Closed)) => {
                        self.may_have_ended = true;
                        self.last = LastEvent::Read;
                        self.wake = None;
                    }
                }
                continue;
            }
            self.may_have_ended = false;
            let job = match log.store().get_job(&self.job_id).await {
                Ok(Some(job)) => job,
                Ok(None) => return None,
                Err(error) => return Some(self.fail(error)),
            };
            if job.state.is_terminal() && self.last == LastEvent::Unknown {
                // Its end is stored before its last status event, and the
                // log closes its wake-ups once that is stored: wait for it,
                // a little (a stream resumed past it never sees it again).
                self.last = LastEvent::Waited;
                self.may_have_ended = true;
                let wake = self
                    .wake
                    .get_or_insert_with(|| log.subscribe_following(&self.job_id));
                if let Ok(Err(RecvError::Closed)) =
                    tokio::time::timeout(FINAL_WAIT, wake.recv()).await
                {
                    self.last = LastEvent::Read;
                    self.wake = None;
                }
                continue;
            }
            if job.state.is_terminal() {
                self.done = true;
                self.wake = None;
                log.close(&self.job_id);
                return Some(Step::End {
                    state: job.state,
                    exit_code: job.exit_code,
                });
            }
        }
    }

    /// The job followed.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    fn fail(&mut self, error: StoreError) -> Step {
        self.done = true;
        Step::Failed(error)
    }
}

impl Drop for Follower {
    /// The last follower of a job to go lets its window go (a stream the
    /// client closed, a sandbox's result collected).
    fn drop(&mut self) {
        if self.wake.take().is_some() {
            self.log.watchers(&self.job_id);
        }
    }
}
