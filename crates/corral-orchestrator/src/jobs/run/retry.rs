//! Setting a re-adopted job up again when a step failed. Its container
//! still runs, with the user's work in it: removing it because a store read
//! failed once (a busy database, a full disk freed a moment later) loses
//! that work for good. So those steps are tried again, with backoff, before
//! the container is given up. A fresh job's container is new and has
//! nothing to lose: it is not.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The waits before each try after the first: five tries in about 15 s.
pub(super) const ADOPT_WAITS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// `attempt`'s result, tried again after each of `waits` while it fails
/// (each failure but the last told to `failed`), unless `cancel` is.
pub(super) async fn retried<T, F, Fut>(
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
