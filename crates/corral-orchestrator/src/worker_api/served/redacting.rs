//! A batch's events through the output budget and the leak detector, into
//! the rows to store: output through its exec's stream, every other event
//! redacted whole.

use std::sync::PoisonError;

use corral_proto::event::ExecEndedData;
use corral_proto::{EventKind, NewEvent};
use tracing::warn;

use super::super::limits::Capped;
use super::super::rows::Rows;
use super::ServedJob;
use crate::redact::Findings;

/// What a batch became: its rows, what was redacted in them, and the
/// execs it ended.
pub(super) struct Redacted {
    pub(super) rows: Rows,
    pub(super) findings: Findings,
    /// Told to the desk once the batch is stored: the batch sent again
    /// must find them running, to let go of their output.
    pub(super) ended_here: Vec<ExecEndedData>,
}

impl ServedJob {
    /// Caps `events` to the budget and redacts them into rows; `finished`
    /// when the job's output has ended (its completion was taken).
    pub(super) fn redact_batch(&self, events: Vec<NewEvent>, finished: bool) -> Redacted {
        let mut rows = Rows::default();
        let mut findings = Findings::default();
        let mut ended_here: Vec<ExecEndedData> = Vec::new();
        let runs = |exec| self.desk.as_ref().is_some_and(|desk| desk.is_running(exec));
        // Output no stream took (warned of once a batch, not once an event).
        let mut dropped = 0_usize;
        for capped in self.budget.cap(events, runs) {
            let mut found = Findings::default();
            let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            let mut event = match capped {
                Capped::Kept(event) => event,
                Capped::Cut(exec) => {
                    streams.cut(exec);
                    continue;
                }
            };
            if let Some(output) = event.output() {
                // After the output's end, or of an exec that does not run
                // (never started, ended, forged): no stream takes it. A
                // forged exec's stream would also push a running one's out
                // ([`OutputStreams::push`]), and the dropped text may be
                // the rest of a secret what its stream holds began.
                let ended = |exec| ended_here.iter().any(|seen| seen.exec == exec);
                if finished || output.exec.is_some_and(|exec| !runs(exec) || ended(exec)) {
                    streams.cut(output.exec);
                    dropped += 1;
                    continue;
                }
                rows.emitted(streams.push(
                    &self.redactor,
                    output.exec,
                    output.stream,
                    output.text,
                    &mut found,
                ));
                rows.sent(output.exec, output.stream);
            } else {
                // An exec's end comes after all its output: what its
                // redactor holds goes first.
                // Only once, and only for an exec that runs: a forged end
                // cannot make another exec's redactor let go early.
                if let Some(ended) = (event.kind == EventKind::ExecEnded)
                    .then(|| event.payload::<ExecEndedData>())
                    .flatten()
                    && self
                        .desk
                        .as_ref()
                        .is_some_and(|desk| desk.is_running(ended.exec))
                    && !ended_here.iter().any(|seen| seen.exec == ended.exec)
                {
                    rows.emitted(streams.flush_exec(&self.redactor, Some(ended.exec), &mut found));
                    ended_here.push(ended);
                }
                self.redactor.redact_json(&mut event.data, &mut found);
                event.redacted = found.any();
                rows.other(event);
            }
            findings.names.extend(found.names);
        }
        if dropped > 0 {
            warn!(job_id = %self.job.id, dropped, "output after its end or of no running exec was dropped");
        }
        Redacted {
            rows,
            findings,
            ended_here,
        }
    }
}
