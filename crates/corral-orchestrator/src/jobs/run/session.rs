//! A job's session: its provisions set up and its socket opened. A
//! re-adopted job's are tried again when they fail: its container still
//! runs, with the user's work in it, and removing it because a store read
//! failed once (a busy database, a full disk freed a moment later) loses
//! that work for good. So those steps are tried again, with backoff,
//! before the container is given up. A fresh job's container is new and
//! has nothing to lose: it is not.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use corral_proto::Job;
use corral_runtime::JobUser;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::jobs::JobManager;
use crate::jobs::warm::Taken;
use crate::project::PinnedDir;
use crate::redact::{Findings, Redactor};
use crate::token::TokenHash;
use crate::worker_api::{JobProvisions, WorkerEndpoint};

impl JobManager {
    /// Job `job`'s session, set up and bound to a pool container's socket
    /// when one fits, else to a new socket; a re-adopted job's (`adopt`:
    /// the stored hash of its worker's token) served again, tried again
    /// while it fails (see above).
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, each a step's input"
    )]
    pub(super) async fn open_session(
        &self,
        job: &Job,
        adopt: Option<&TokenHash>,
        user: JobUser,
        project: Option<Arc<PinnedDir>>,
        redactor: &Arc<Redactor>,
        socket_dir: &Path,
        cancel: &CancellationToken,
    ) -> Result<(WorkerEndpoint, Option<Taken>), String> {
        let waits: &[Duration] = if adopt.is_some() { &ADOPT_WAITS } else { &[] };
        let attempt = || async {
            let setup = self
                .provisions(
                    job,
                    user,
                    project.clone(),
                    Arc::clone(redactor),
                    adopt.is_some(),
                )
                .await
                .map_err(|error| error.to_string())?;
            let desk = setup.desk.clone();
            let opened = self.open_socket(job, adopt, setup, socket_dir).await;
            if opened.is_err()
                && let Some(desk) = desk
            {
                // No worker will ever take its orders: what the user sent
                // it meanwhile fails now, not when it times out.
                self.forget_desk(&job.id, &desk);
            }
            opened
        };
        retried(waits, cancel, attempt, |error| {
            warn_retrying(&job.id, redactor, error);
        })
        .await
    }

    /// The job's socket: a pool container's, bound to the job, when one
    /// fits; else a new one, or the re-adopted job's served again.
    async fn open_socket(
        &self,
        job: &Job,
        adopt: Option<&TokenHash>,
        setup: JobProvisions,
        socket_dir: &Path,
    ) -> Result<(WorkerEndpoint, Option<Taken>), String> {
        let tasks = &self.inner.tasks;
        let opened = match adopt {
            None => match self.take_warm(job, socket_dir).await {
                Some(warm) => {
                    let (taken, endpoint) = warm.bind(setup);
                    return Ok((endpoint, Some(taken)));
                }
                None => WorkerEndpoint::open(socket_dir, setup, tasks).await,
            },
            Some(token) => WorkerEndpoint::reopen(socket_dir, setup, token.clone(), tasks).await,
        };
        opened
            .map(|endpoint| (endpoint, None))
            .map_err(|error| format!("cannot open the job socket: {error}"))
    }
}

/// The waits before each try after the first: five tries in about 15 s.
const ADOPT_WAITS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// `attempt`'s result, tried again after each of `waits` while it fails
/// (each failure but the last told to `failed`), unless `cancel` is.
async fn retried<T, F, Fut>(
    waits: &[Duration],
    cancel: &CancellationToken,
    mut attempt: F,
    mut failed: impl FnMut(&str),
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let mut result = attempt().await;
    for wait in waits {
        let Err(error) = &result else { break };
        if cancel.is_cancelled() {
            break;
        }
        failed(error);
        tokio::select! {
            () = tokio::time::sleep(*wait) => {}
            () = cancel.cancelled() => break,
        }
        result = attempt().await;
    }
    result
}

/// Warns that job `job_id`'s setup failed with `error` and is tried
/// again; the text redacted first (it may quote what the store holds).
fn warn_retrying(job_id: &str, redactor: &Redactor, error: &str) {
    let mut findings = Findings::default();
    let clean = redactor.redact_text(error, &mut findings);
    let error = clean.as_deref().unwrap_or(error);
    warn!(
        job_id,
        error, "cannot set a re-adopted job up; trying again"
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::retried;

    const WAITS: [Duration; 3] = [Duration::from_millis(1); 3];

    async fn run(
        fails: usize,
        waits: &[Duration],
        cancel: &CancellationToken,
    ) -> (Result<usize, String>, usize, Vec<String>) {
        let mut tries = 0;
        let mut told = Vec::new();
        let result = retried(
            waits,
            cancel,
            || {
                tries += 1;
                let this = tries;
                async move {
                    if this <= fails {
                        Err(format!("failure {this}"))
                    } else {
                        Ok(this)
                    }
                }
            },
            |error| told.push(error.to_owned()),
        )
        .await;
        (result, tries, told)
    }

    #[tokio::test]
    async fn a_step_that_fails_for_a_while_is_tried_until_it_works_and_no_longer() {
        let cancel = CancellationToken::new();
        let (result, tries, told) = run(2, &WAITS, &cancel).await;
        assert_eq!(result, Ok(3));
        assert_eq!(tries, 3);
        assert_eq!(told, ["failure 1", "failure 2"]);
        let (result, tries, _) = run(0, &WAITS, &cancel).await;
        assert_eq!((result, tries), (Ok(1), 1));
    }

    #[tokio::test]
    async fn a_step_that_keeps_failing_fails_after_every_wait_and_a_fresh_one_at_once() {
        let cancel = CancellationToken::new();
        let (result, tries, told) = run(usize::MAX, &WAITS, &cancel).await;
        assert_eq!(result, Err("failure 4".to_owned()), "the last failure");
        assert_eq!(tries, 4);
        assert_eq!(told.len(), 3);
        let (result, tries, told) = run(usize::MAX, &[], &cancel).await;
        assert_eq!(
            (result, tries, told.len()),
            (Err("failure 1".to_owned()), 1, 0)
        );
    }

    #[tokio::test]
    async fn a_cancelled_job_is_not_tried_again() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let (result, tries, _) = run(usize::MAX, &[Duration::from_hours(1)], &cancel).await;
        assert_eq!((result, tries), (Err("failure 1".to_owned()), 1));
    }
}
