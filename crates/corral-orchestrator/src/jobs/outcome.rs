//! How a container's end becomes a job's terminal state. Pure, so every
//! case is tested without Docker.

use corral_proto::JobState;
use corral_proto::worker::{Completion, CompletionStatus};

use crate::store::Finish;
use crate::worker_api::WorkerReport;
use corral_runtime::ContainerExit;

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

/// The end of a job whose container exited: its exit status, what its
/// worker reported, and the failures the orchestrator saw itself.
pub fn judge(exit: ContainerExit, report: WorkerReport) -> Outcome {
    let mut outcome = decide(exit, report.completion.as_ref(), report.completion_refused);
    overrule(&mut outcome, report.failure);
    explain(&mut outcome, report.model_error);
    if let Some(lost) = lost(report.lost_batches) {
        outcome.add_warning(lost);
    }
    outcome
}

/// What to tell of `batches` of the job's events never stored: its event
/// log is not all the job said, whatever state it ended in.
fn lost(batches: u64) -> Option<String> {
    let batches = match batches {
        0 => return None,
        1 => "a batch".to_owned(),
        more => format!("{more} batches"),
    };
    Some(format!(
        "{batches} of the job's output and events could not be stored (the orchestrator's \
         store refused them; its log says why) and are missing from the job's events"
    ))
}

/// Decides the state from the container's own exit status. The worker's
/// `completion` only tells whether it finished its protocol: a worker that
/// died before completing fails the job whatever its exit code, and so
/// does one whose completion the store `refused` (never stored, the job's
/// events hold no end).
fn decide(exit: ContainerExit, completion: Option<&Completion>, refused: bool) -> Outcome {
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
    let finish = match completion {
        None if refused => failed(format!(
            "the orchestrator's store refused the worker's completion, so the job's end was \
             never stored (its log says why; exit code {})",
            exit.exit_code
        )),
        None => failed(format!(
            "worker exited without completing (exit code {})",
            exit.exit_code
        )),
        // A worker may only make its own job look worse: a failure it
        // reports stands even when the container exits 0.
        Some(Completion {
            status: CompletionStatus::Failed,
            reason: Some(reason),
            ..
        }) => failed(reason.clone()),
        Some(_) => by_exit_code(exit.exit_code),
    };
    Outcome { finish, warning }
}

fn by_exit_code(exit_code: i64) -> Finish {
    if exit_code == 0 {
        Finish {
            state: JobState::Succeeded,
            exit_code: Some(exit_code),
            reason: None,
        }
    } else {
        Finish {
            state: JobState::Failed,
            exit_code: Some(exit_code),
            reason: Some(format!("exit code {exit_code}")),
        }
    }
}

/// Overrides a job's end with a failure the orchestrator itself saw (its
/// model budget ran out, its provider failed), whatever the worker said.
fn overrule(outcome: &mut Outcome, failure: Option<String>) {
    if let Some(reason) = failure {
        outcome.finish.state = JobState::Failed;
        outcome.finish.reason = Some(reason);
    }
}

/// Passes the reason and the warning, which may quote a job's output, an
/// upstream's answer or a worker's report, through the job's leak detector.
pub fn redact(outcome: &mut Outcome, redactor: &crate::redact::Redactor) {
    let mut findings = crate::redact::Findings::default();
    for text in [&mut outcome.finish.reason, &mut outcome.warning]
        .into_iter()
        .flatten()
    {
        if let Some(clean) = redactor.redact_text(text, &mut findings) {
            *text = clean;
        }
        // Cut once redacted, never before.
        if let std::borrow::Cow::Owned(cut) = crate::text::cut_chars(text, MAX_REASON_CHARS) {
            *text = cut;
        }
    }
}

/// Most characters of a job's reason or warning (an upstream's error
/// message, claude's stderr), once redacted.
const MAX_REASON_CHARS: usize = 2000;

/// Adds the model API's last error to a failed job's reason, when the
/// reason does not say it already (claude reports a 401 as "Invalid API key").
fn explain(outcome: &mut Outcome, model_error: Option<String>) {
    let (Some(error), Some(reason)) = (model_error, outcome.finish.reason.as_mut()) else {
        return;
    };
    if outcome.finish.state == JobState::Failed && !reason.contains(&error) {
        *reason = format!("{reason} (last model API error: {error})");
    }
}

pub(super) fn failure(reason: String) -> Outcome {
    Outcome {
        finish: Finish {
            state: JobState::Failed,
            exit_code: None,
            reason: Some(reason),
        },
        warning: None,
    }
}

/// The end of a job deleted before its container ran anything.
pub(super) fn cancelled() -> Outcome {
    Outcome {
        finish: super::cancel::cancelled(),
        warning: None,
    }
}

#[cfg(test)]
mod tests {
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
            reason: None,
        }
    }

    fn reason(outcome: Outcome) -> String {
        outcome.finish.reason.expect("a reason")
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
            decide(exit(0, false), Some(&done(0)), false).finish.state,
            JobState::Succeeded
        );
        let failed = decide(exit(3, false), Some(&done(3)), false).finish;
        assert_eq!(
            (failed.state, failed.exit_code),
            (JobState::Failed, Some(3))
        );
        assert_eq!(failed.reason.as_deref(), Some("exit code 3"));
    }

    #[test]
    fn the_container_wins_over_a_lying_worker() {
        let outcome = decide(exit(1, false), Some(&done(0)), false);
        assert_eq!(outcome.finish.state, JobState::Failed);
    }

    #[test]
    fn oom_with_a_failure_is_out_of_memory_but_a_killed_child_is_a_warning() {
        let outcome = decide(exit(137, true), Some(&done(137)), false);
        assert_eq!(outcome.finish.reason.as_deref(), Some(OUT_OF_MEMORY));
        let outcome = decide(exit(0, true), Some(&done(0)), false);
        assert_eq!(outcome.finish.state, JobState::Succeeded);
        assert!(outcome.warning.is_some());
    }

    #[test]
    fn a_reported_failure_stands_and_the_orchestrator_overrules_a_success() {
        let reported = Completion {
            reason: Some("iteration limit".into()),
            ..done(1)
        };
        let outcome = decide(exit(0, false), Some(&reported), false);
        assert_eq!(outcome.finish.state, JobState::Failed);
        assert_eq!(outcome.finish.reason.as_deref(), Some("iteration limit"));

        let mut outcome = decide(exit(0, false), Some(&done(0)), false);
        overrule(
            &mut outcome,
            Some("budget exceeded: all 2 model calls used".into()),
        );
        assert_eq!(outcome.finish.state, JobState::Failed);
        assert!(reason(outcome).starts_with("budget exceeded"));
    }

    #[test]
    fn events_never_stored_are_told_whatever_the_job_s_end() {
        let whole = judge(exit(0, false), report_of(done(0), 0));
        assert_eq!(whole.warning, None);
        for (exit_code, lost_batches, state, told) in [
            (0, 1, JobState::Succeeded, "a batch of the job's output"),
            (3, 2, JobState::Failed, "2 batches of the job's output"),
        ] {
            let lost = judge(
                exit(exit_code, false),
                report_of(done(exit_code), lost_batches),
            );
            assert_eq!(lost.finish.state, state);
            let warning = lost.warning.expect("a warning");
            assert!(warning.starts_with(told), "{warning}");
        }
    }

    fn report_of(completion: Completion, lost_batches: u64) -> WorkerReport {
        WorkerReport {
            completion: Some(completion),
            lost_batches,
            ..WorkerReport::default()
        }
    }

    #[test]
    fn a_worker_that_never_completed_fails_with_its_exit_code() {
        let outcome = decide(exit(0, false), None, false);
        assert_eq!(outcome.finish.state, JobState::Failed);
        assert!(reason(outcome).starts_with("worker exited without completing (exit code 0"));
        let refused = decide(exit(0, false), None, true);
        assert_eq!(refused.finish.state, JobState::Failed);
        assert!(reason(refused).starts_with("the orchestrator's store refused"));
    }

    #[test]
    fn a_report_is_judged_with_the_orchestrators_failure_and_the_model_error() {
        let report = WorkerReport {
            completion: Some(done(0)),
            failure: Some("model provider failed".into()),
            model_error: Some("HTTP 401".into()),
            ..WorkerReport::default()
        };
        let outcome = judge(exit(0, false), report);
        assert_eq!(outcome.finish.state, JobState::Failed);
        assert_eq!(
            outcome.finish.reason.as_deref(),
            Some("model provider failed (last model API error: HTTP 401)")
        );
        // A success stays one: the last model error only explains a failure.
        let report = WorkerReport {
            completion: Some(done(0)),
            failure: None,
            model_error: Some("HTTP 429".into()),
            ..WorkerReport::default()
        };
        assert_eq!(
            judge(exit(0, false), report).finish.state,
            JobState::Succeeded
        );
        assert_eq!(
            judge(exit(0, false), WorkerReport::default()).finish.state,
            JobState::Failed
        );
    }
}
