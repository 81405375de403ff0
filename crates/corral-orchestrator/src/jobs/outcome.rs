//! How a container's end becomes a job's terminal state. Pure, so every
//! case is tested without Docker.

use corral_proto::JobState;
use corral_proto::worker::Completion;

use crate::runtime::ContainerExit;
use crate::store::Finish;

/// The reason recorded when the OOM killer ended the job.
pub const OUT_OF_MEMORY: &str = "out of memory";

/// What the orchestrator concludes from an exited container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The terminal state to record.
    pub finish: Finish,
    /// Worth telling the user, but not the job's failure.
    pub warning: Option<String>,
}

impl Outcome {
    /// Adds a warning, keeping any earlier one.
    pub fn add_warning(&mut self, warning: String) {
        self.warning = Some(match self.warning.take() {
            Some(earlier) => format!("{earlier}; {warning}"),
            None => warning,
        });
    }
}

/// Decides the state from the container's own exit status. The worker's
/// `completion` only tells whether it finished its protocol: a worker that
/// died before completing fails the job whatever its exit code.
pub fn decide(exit: ContainerExit, completion: Option<&Completion>) -> Outcome {
    let exit_code = Some(exit.exit_code);
    let failed = |reason: String| Finish {
        state: JobState::Failed,
        exit_code,
        reason: Some(reason),
    };
    if exit.oom_killed && exit.exit_code != 0 {
        return Outcome {
            finish: failed(OUT_OF_MEMORY.to_owned()),
            warning: None,
        };
    }
    let warning = exit.oom_killed.then(|| {
        "a process in the job was killed for exceeding the memory limit; the job went on".to_owned()
    });
    let finish = if completion.is_none() {
        failed(format!(
            "worker exited without completing (exit code {})",
            exit.exit_code
        ))
    } else if exit.exit_code == 0 {
        Finish {
            state: JobState::Succeeded,
            exit_code,
            reason: None,
        }
    } else {
        failed(format!("exit code {}", exit.exit_code))
    };
    Outcome { finish, warning }
}

#[cfg(test)]
mod tests {
    use corral_proto::worker::CompletionStatus;

    use super::*;

    fn done(exit_code: i64) -> Completion {
        Completion {
            status: if exit_code == 0 {
                CompletionStatus::Succeeded
            } else {
                CompletionStatus::Failed
            },
            summary: String::new(),
            exit_code: Some(exit_code),
        }
    }

    fn exit(exit_code: i64, oom_killed: bool) -> ContainerExit {
        ContainerExit {
            exit_code,
            oom_killed,
        }
    }

    #[test]
    fn a_clean_exit_succeeds_and_a_non_zero_one_fails() {
        assert_eq!(
            decide(exit(0, false), Some(&done(0))).finish.state,
            JobState::Succeeded
        );
        let failed = decide(exit(3, false), Some(&done(3))).finish;
        assert_eq!(
            (failed.state, failed.exit_code),
            (JobState::Failed, Some(3))
        );
        assert_eq!(failed.reason.as_deref(), Some("exit code 3"));
    }

    #[test]
    fn the_container_wins_over_a_lying_worker() {
        let outcome = decide(exit(1, false), Some(&done(0)));
        assert_eq!(outcome.finish.state, JobState::Failed);
    }

    #[test]
    fn oom_with_a_failure_is_out_of_memory_but_a_killed_child_is_a_warning() {
        let outcome = decide(exit(137, true), Some(&done(137)));
        assert_eq!(outcome.finish.reason.as_deref(), Some(OUT_OF_MEMORY));
        let outcome = decide(exit(0, true), Some(&done(0)));
        assert_eq!(outcome.finish.state, JobState::Succeeded);
        assert!(outcome.warning.is_some());
    }

    #[test]
    fn a_worker_that_never_completed_fails_with_its_exit_code() {
        let outcome = decide(exit(0, false), None);
        assert_eq!(outcome.finish.state, JobState::Failed);
        assert!(
            outcome
                .finish
                .reason
                .expect("reason")
                .contains("exit code 0")
        );
    }
}
