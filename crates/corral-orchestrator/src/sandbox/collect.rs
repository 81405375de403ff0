//! An exec's events gathered into one answer: its output (already through
//! the sandbox's leak detector, as stored) kept whole up to a cap per
//! stream, past it its head and its tail with the middle cut, and its end.

use std::time::Duration;

use corral_proto::event::{ExecEndedData, OutputStream};
use corral_proto::sandbox::ExecResult;
use corral_proto::{EventKind, JobState};

use crate::events::{EventLog, Step};
use crate::store::StoreError;

/// How an exec's wait ended.
#[derive(Debug)]
pub enum Collected {
    /// It ended: its result.
    Ended(ExecResult),
    /// It still runs after the wait.
    Running,
    /// The sandbox ended first.
    SandboxEnded(JobState),
}

/// One stream's text: whole up to `cap`, else its head and tail.
#[derive(Debug, Default)]
struct Kept {
    head: String,
    tail: String,
    cut: usize,
}

impl Kept {
    fn push(&mut self, text: &str, cap: usize) {
        let half = cap / 2;
        if self.cut == 0 && self.head.len() + text.len() <= cap {
            self.head.push_str(text);
            return;
        }
        if self.cut == 0 {
            // First overflow: the head keeps its first half, the rest is tail.
            let split = floor(&self.head, half);
            let rest = self.head.split_off(split);
            self.tail = rest;
        }
        self.tail.push_str(text);
        if self.tail.len() > half {
            let start = ceil(&self.tail, self.tail.len() - half);
            self.cut += start;
            self.tail.drain(..start);
        }
    }

    fn text(self) -> (String, bool) {
        if self.cut == 0 {
            return (self.head + &self.tail, false);
        }
        (
            format!(
                "{}\n[… {} bytes cut: the exec's events have them all …]\n{}",
                self.head, self.cut, self.tail
            ),
            true,
        )
    }
}

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Follows `job_id`'s events after `after` until exec `exec` ends, the
/// sandbox ends, or `wait` passes; each stream kept up to `cap` bytes.
pub async fn collect_exec(
    events: &EventLog,
    job_id: &str,
    exec: u64,
    after: u64,
    wait: Duration,
    cap: usize,
) -> Result<Collected, StoreError> {
    let mut follower = events.follow(job_id, after, wait);
    let (mut stdout, mut stderr) = (Kept::default(), Kept::default());
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let step = tokio::select! {
            step = follower.next() => step,
            () = tokio::time::sleep_until(deadline) => return Ok(Collected::Running),
        };
        match step {
            None | Some(Step::Idle) => {
                if tokio::time::Instant::now() >= deadline {
                    return Ok(Collected::Running);
                }
            }
            Some(Step::Failed(error)) => return Err(error),
            Some(Step::End { state, .. }) => return Ok(Collected::SandboxEnded(state)),
            Some(Step::Events(batch)) => {
                for shared in batch {
                    let event = shared.event();
                    if let Some(output) = event.output() {
                        if output.exec == Some(exec) {
                            match output.stream {
                                OutputStream::Stdout => stdout.push(output.text, cap),
                                OutputStream::Stderr => stderr.push(output.text, cap),
                            }
                        }
                        continue;
                    }
                    if event.kind != EventKind::ExecEnded {
                        continue;
                    }
                    let Some(ended) = event.payload::<ExecEndedData>() else {
                        continue;
                    };
                    if ended.exec != exec {
                        continue;
                    }
                    let (stdout, cut_out) = std::mem::take(&mut stdout).text();
                    let (stderr, cut_err) = std::mem::take(&mut stderr).text();
                    return Ok(Collected::Ended(ExecResult {
                        exec,
                        exit_code: ended.exit_code,
                        stdout,
                        stderr,
                        truncated: cut_out || cut_err,
                        duration_ms: ended.duration_ms,
                        timed_out: ended.timed_out,
                        reason: ended.reason,
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_past_its_cap_keeps_its_head_and_tail() {
        let mut kept = Kept::default();
        for index in 0..100 {
            kept.push(&format!("{index:03}\n"), 40);
        }
        let (text, truncated) = kept.text();
        assert!(truncated);
        assert!(text.starts_with("000\n001\n002\n003\n004\n"), "{text}");
        assert!(text.ends_with("095\n096\n097\n098\n099\n"), "{text}");
        assert!(text.contains("360 bytes cut"), "{text}");
    }

    #[test]
    fn a_stream_within_its_cap_is_whole() {
        let mut kept = Kept::default();
        kept.push("héllo ", 13);
        kept.push("wörld", 13);
        assert_eq!(kept.text(), ("héllo wörld".to_owned(), false));
    }
}
