//! A job's output held back by its leak detector, one [`StreamRedactor`]
//! for the job's own processes and one per sandbox exec: each exec's
//! output is redacted as a whole, as a job's is, and an exec's end lets
//! go of its output alone, never of another exec's half-written secret.

use std::collections::{HashMap, HashSet};

use corral_proto::event::OutputStream;

use crate::redact::{Findings, OutputPiece, Redactor, StreamRedactor};

/// Most execs whose output is held at once; past it only a stream that
/// holds nothing is let go ([`OutputStreams::room_for`]).
const MAX_HELD_EXECS: usize = 256;
/// Most execs remembered as having had output dropped for want of room.
const MAX_STARVED: usize = 1024;

/// The held-back output of one job, by exec (`None`: the job's own).
#[derive(Debug, Default)]
pub(super) struct OutputStreams {
    by_exec: HashMap<Option<u64>, StreamRedactor>,
    /// While a batch is taken: each stream it touched as it was before
    /// (`None`: there was none), to go back to should the batch not be
    /// stored. Only what a batch touches is copied.
    journal: Option<HashMap<Option<u64>, Option<StreamRedactor>>>,
    /// Execs whose output found no room ([`OutputStreams::room_for`]),
    /// at most [`MAX_STARVED`]; past them, `all_starved`: every new
    /// stream starts covered.
    starved: HashSet<Option<u64>>,
    all_starved: bool,
}

impl OutputStreams {
    /// Streams after a restart: each of `held` starts with `reach` bytes
    /// redacted as one.
    pub(super) fn covering(held: &[Option<u64>], reach: usize) -> Self {
        Self {
            by_exec: held
                .iter()
                .map(|&exec| (exec, StreamRedactor::after_restart(reach)))
                .collect(),
            ..Self::default()
        }
    }

    /// A batch starts: what it changes can be undone until
    /// [`OutputStreams::commit`].
    pub(super) fn begin(&mut self) {
        self.journal = Some(HashMap::new());
    }

    /// The batch was stored: its changes stay.
    fn commit(&mut self) {
        self.journal = None;
    }

    /// Keeps the batch's changes if it was `stored`, else undoes them.
    /// Returns the streams the batch touched when it was not stored.
    pub(super) fn settle(&mut self, stored: bool) -> Vec<Option<u64>> {
        if stored {
            self.commit();
            Vec::new()
        } else {
            self.roll_back()
        }
    }

    /// The batch was not stored: every stream goes back to what it was
    /// before it, so the batch sent again meets the detector as it was.
    /// Returns the streams it touched.
    pub(super) fn roll_back(&mut self) -> Vec<Option<u64>> {
        let mut touched = Vec::new();
        for (exec, before) in self.journal.take().unwrap_or_default() {
            match before {
                Some(stream) => self.by_exec.insert(exec, stream),
                None => self.by_exec.remove(&exec),
            };
            touched.push(exec);
        }
        touched
    }

    /// The batch that touched `streams` will not come (the worker sent a
    /// later one): each starts covered, as after a restart.
    pub(super) fn lost(&mut self, streams: &[Option<u64>], reach: usize) {
        for exec in streams {
            self.touch(*exec);
            self.by_exec
                .entry(*exec)
                .or_default()
                .lost_before_next(reach);
        }
    }

    /// `exec`'s output after what its stream holds will not be scanned with
    /// it (dropped past the budget, or the stream let go to make room):
    /// what it holds is redacted whole when it is let go.
    pub(super) fn cut(&mut self, exec: Option<u64>) {
        if self
            .by_exec
            .get(&exec)
            .is_some_and(|stream| stream.held() > 0)
        {
            self.touch(exec);
            if let Some(stream) = self.by_exec.get_mut(&exec) {
                stream.cut_short();
            }
        }
    }

    /// Keeps `exec`'s stream as it is now, once a batch, before it changes.
    fn touch(&mut self, exec: Option<u64>) {
        if let Some(journal) = &mut self.journal {
            journal
                .entry(exec)
                .or_insert_with(|| self.by_exec.get(&exec).cloned());
        }
    }

    /// The streams that hold something, or still owe a redaction, in order
    /// (`None`: the job's own).
    pub(super) fn holding(&self) -> Vec<Option<u64>> {
        let mut held: Vec<Option<u64>> = self
            .by_exec
            .iter()
            .filter(|(_, stream)| stream.holds())
            .map(|(&exec, _)| exec)
            .collect();
        held.sort_unstable();
        held
    }

    /// Whether output of `exec` can be taken: its stream is there, or
    /// there is room for one, made if need be by letting go a stream that
    /// holds nothing and owes nothing. A stream that holds something is
    /// never let go before its output ends (what it holds may start a
    /// secret whose rest is still to come), so past [`MAX_HELD_EXECS`]
    /// streams that all do, a new exec's output is not taken.
    /// An exec whose output was not taken so starts covered for `reach`
    /// bytes when it is: what comes may be the rest of a secret it began.
    pub(super) fn room_for(&mut self, exec: Option<u64>, reach: usize) -> bool {
        if self.by_exec.contains_key(&exec) {
            return true;
        }
        if self.by_exec.len() >= MAX_HELD_EXECS {
            let idle = self
                .by_exec
                .iter()
                .find(|(_, stream)| !stream.holds())
                .map(|(&idle, _)| idle);
            let Some(idle) = idle else {
                if self.starved.len() < MAX_STARVED {
                    self.starved.insert(exec);
                } else {
                    self.all_starved = true;
                }
                return false;
            };
            self.touch(idle);
            self.by_exec.remove(&idle);
        }
        if self.starved.remove(&exec) || self.all_starved {
            self.touch(exec);
            self.by_exec
                .entry(exec)
                .or_default()
                .lost_before_next(reach);
        }
        true
    }

    /// Redacts `text` of `exec`'s `stream`; returns what may be stored now
    /// (see [`OutputStreams::room_for`] first).
    pub(super) fn push(
        &mut self,
        redactor: &Redactor,
        exec: Option<u64>,
        stream: OutputStream,
        text: &str,
        findings: &mut Findings,
    ) -> Vec<Emitted> {
        let mut emitted = Vec::new();
        self.touch(exec);
        let mut found = Findings::default();
        let pieces = self
            .by_exec
            .entry(exec)
            .or_default()
            .push(redactor, stream, text, &mut found);
        emitted.push(Emitted {
            exec,
            pieces,
            redacted: found.any(),
        });
        findings.names.extend(found.names);
        emitted
    }

    /// Emits everything `exec` holds, as the end of its output.
    pub(super) fn flush_exec(
        &mut self,
        redactor: &Redactor,
        exec: Option<u64>,
        findings: &mut Findings,
    ) -> Option<Emitted> {
        self.touch(exec);
        let mut held = self.by_exec.remove(&exec)?;
        let mut found = Findings::default();
        let pieces = held.flush(redactor, &mut found);
        findings.names.extend(found.names.iter().cloned());
        Some(Emitted {
            exec,
            pieces,
            redacted: found.any(),
        })
    }

    /// Emits everything held, of every exec.
    pub(super) fn flush(&mut self, redactor: &Redactor, findings: &mut Findings) -> Vec<Emitted> {
        let mut execs: Vec<Option<u64>> = self.by_exec.keys().copied().collect();
        execs.sort_unstable();
        execs
            .into_iter()
            .filter_map(|exec| self.flush_exec(redactor, exec, findings))
            .collect()
    }
}

/// Output the detector let go: `exec`'s pieces, `redacted` when it
/// replaced something in them.
#[derive(Debug)]
pub(super) struct Emitted {
    pub(super) exec: Option<u64>,
    pub(super) pieces: Vec<OutputPiece>,
    pub(super) redacted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past [`MAX_HELD_EXECS`] streams, one that holds the start of a
    /// secret is never let go to make room: a new exec's output is not
    /// taken, and the secret, once whole, is redacted whole.
    #[test]
    fn a_stream_holding_something_is_never_let_go_for_room() {
        let redactor = Redactor::new([("KEY", "room-secret-5c1d0e")]);
        let mut streams = OutputStreams::default();
        let mut findings = Findings::default();
        let mut text = String::new();
        let mut refused = 0;
        for exec in 1..=MAX_HELD_EXECS as u64 + 2 {
            // One idle stream, let go for the first newcomer.
            let chunk = match exec {
                1 => "ok room-secret-5c",
                2 => "done\n",
                _ => "x",
            };
            if !streams.room_for(Some(exec), 64) {
                refused += 1;
                continue;
            }
            for emitted in streams.push(
                &redactor,
                Some(exec),
                OutputStream::Stdout,
                chunk,
                &mut findings,
            ) {
                if emitted.exec == Some(1) {
                    text.extend(emitted.pieces.iter().map(|piece| piece.text.as_str()));
                }
            }
        }
        assert_eq!(refused, 1, "the second newcomer finds no room");
        assert!(streams.room_for(Some(1), 64));
        for emitted in streams.push(
            &redactor,
            Some(1),
            OutputStream::Stdout,
            "1d0e.",
            &mut findings,
        ) {
            text.extend(emitted.pieces.iter().map(|piece| piece.text.as_str()));
        }
        assert_eq!(text, "ok [REDACTED:KEY].");
        // Room made later, the exec whose output found none starts covered.
        let starved = Some(MAX_HELD_EXECS as u64 + 2);
        streams.push(
            &redactor,
            Some(3),
            OutputStream::Stdout,
            "\n",
            &mut findings,
        );
        assert!(streams.room_for(starved, 64));
        let pieces: Vec<String> = streams
            .push(
                &redactor,
                starved,
                OutputStream::Stdout,
                "e5 rest\n",
                &mut findings,
            )
            .into_iter()
            .flat_map(|emitted| emitted.pieces)
            .map(|piece| piece.text)
            .collect();
        assert_eq!(pieces, ["[REDACTED:after-lost-output]"]);
    }
}
