//! A batch's events through the output budget and the leak detector, into
//! the rows to store: output through its exec's stream, every other event
//! redacted whole.

use std::sync::PoisonError;

use corral_proto::event::{ExecEndedData, ExecStartedData};
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
        // An exec this desk handed out and that has not ended, or one of
        // the sandbox's from before this session (re-adopted after a
        // restart) that the store or the worker says may still run.
        let runs = |exec| {
            self.desk
                .as_ref()
                .is_some_and(|desk| desk.is_running(exec) || desk.from_before(exec))
        };
        // Output no stream took in this batch.
        let mut dropped = 0_u64;
        let mut gate = self.budget.gate();
        let mut admitted = Vec::new();
        for mut event in events {
            // Every event but output is redacted whole before the gate, so
            // it is admitted at the size it is stored (an 8 MiB message of
            // a short secret over and over stores several times that).
            let mut whole = Findings::default();
            if event.kind != EventKind::Output {
                let end = (event.kind == EventKind::ExecEnded)
                    .then(|| event.payload::<ExecEndedData>())
                    .flatten();
                self.redactor.redact_json(&mut event.data, &mut whole);
                event.redacted = whole.any();
                if let Some(end) = end {
                    still_an_end(&mut event, &end);
                }
            }
            if gate.admit(event, runs, &mut admitted) {
                findings.names.extend(whole.names);
            }
            for capped in admitted.drain(..) {
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
                    // After the output's end, of an exec that does not run
                    // (never started, ended, forged), or past the streams
                    // held at once: no stream takes it, and the dropped text
                    // may be the rest of a secret what its stream holds began.
                    let ended = |exec| ended_here.iter().any(|seen| seen.exec == exec);
                    let open = |exec| runs(exec) && !ended(exec);
                    if finished
                        || output.exec.is_some_and(|exec| !open(exec))
                        || !streams.room_for(output.exec, self.redactor.reach())
                    {
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
                    self.started_before(&event);
                    // An exec's end comes after all its output: what its
                    // redactor holds goes first.
                    // Only once, and only for an exec that runs: a forged end
                    // cannot make another exec's redactor let go early.
                    if let Some(ended) = (event.kind == EventKind::ExecEnded)
                        .then(|| event.payload::<ExecEndedData>())
                        .flatten()
                        && runs(ended.exec)
                        && !ended_here.iter().any(|seen| seen.exec == ended.exec)
                    {
                        rows.emitted(streams.flush_exec(
                            &self.redactor,
                            Some(ended.exec),
                            &mut found,
                        ));
                        ended_here.push(ended);
                    }
                    event.redacted |= found.any();
                    rows.other(event);
                }
                // What the markers added counts before the next event is
                // admitted.
                self.budget.charge_redactions(&found.names);
                findings.names.extend(found.names);
            }
        }
        if dropped > 0
            && self
                .dropped_output
                .fetch_add(dropped, std::sync::atomic::Ordering::SeqCst)
                == 0
        {
            warn!(job_id = %self.job.id, "output after its end, of no running exec or past the streams held at once was dropped (warned once a session)");
        }
        Redacted {
            rows,
            findings,
            ended_here,
        }
    }

    /// A start kept of an exec the desk does not run: one from before a
    /// restart, sent again (the batch that said so first was never
    /// stored). The desk bounds what it opens.
    fn started_before(&self, event: &NewEvent) {
        if event.kind == EventKind::ExecStarted
            && let (Some(desk), Some(started)) = (&self.desk, event.payload::<ExecStartedData>())
            && !desk.is_running(started.exec)
        {
            desk.open_before(started.exec);
        }
    }
}

/// An exec's end (`end` as the worker sent it) whose exit code or
/// duration the leak detector made a string (a number equal to a numeric
/// secret): stored with that number left out, so it still reads as an
/// end and the exec's caller learns it ended, while the secret's digits
/// are stored nowhere. One whose exec number was redacted stays as it is
/// (unread, so that exec waits for its sandbox's end): exec numbers count
/// up from 1, so this takes ten million execs and a secret of their digits.
fn still_an_end(event: &mut NewEvent, end: &ExecEndedData) {
    if event.payload::<ExecEndedData>().is_some() {
        return;
    }
    let data = &event.data;
    if !data.get("exec").is_some_and(serde_json::Value::is_u64) {
        return;
    }
    let kept = |field: &str| data.get(field).is_some_and(serde_json::Value::is_number);
    let exit_code = end.exit_code.filter(|_| kept("exit_code"));
    let duration_ms = if kept("duration_ms") {
        end.duration_ms
    } else {
        0
    };
    let reason = match data.get("reason").and_then(serde_json::Value::as_str) {
        Some(reason) => Some(reason.to_owned()),
        None if exit_code.is_none() && end.exit_code.is_some() => {
            Some("the exit code the worker reported was redacted".to_owned())
        }
        None => None,
    };
    let redacted = event.redacted;
    *event = NewEvent::of(&ExecEndedData {
        exec: end.exec,
        exit_code,
        duration_ms,
        timed_out: end.timed_out,
        reason,
    });
    event.redacted = redacted;
}
