//! A batch's events as they are stored. How many rows a batch becomes
//! must not depend on what the leak detector holds: a job that sends the
//! start of a guess, then something else, many times in one batch, would
//! otherwise count the rows off the request's time (one insert more or
//! less each) and learn whether its guess starts a secret.
//!
//! So what the detector lets go joins the last row when that row is output
//! of the same exec and stream (up to [`MAX_EVENT_TEXT`] in a row, the
//! size `split_output` cuts the worker's events to), and each output event
//! the worker sent ends with a row of its own exec and stream: one with no
//! text when the detector held all of it (its text comes in a later row).
//! Held or not, the same input makes the same number of rows.

use corral_proto::NewEvent;
use corral_proto::event::{OutputData, OutputStream};

use super::limits::MAX_EVENT_TEXT;
use super::streams::Emitted;

/// One row to store.
enum Row {
    Output {
        exec: Option<u64>,
        stream: OutputStream,
        text: String,
        redacted: bool,
    },
    Other(NewEvent),
}

/// The rows of one batch, in order.
#[derive(Default)]
pub(super) struct Rows {
    rows: Vec<Row>,
}

impl Rows {
    /// Adds what the detector let go, each piece joining the last row when
    /// it is output of the same exec and stream.
    pub(super) fn emitted(&mut self, emitted: impl IntoIterator<Item = Emitted>) {
        for emitted in emitted {
            self.emitted_one(emitted);
        }
    }

    fn emitted_one(&mut self, emitted: Emitted) {
        for piece in emitted.pieces {
            if let Some(Row::Output {
                exec,
                stream,
                text,
                redacted,
            }) = self.rows.last_mut()
                && *exec == emitted.exec
                && *stream == piece.stream
                && text.len() + piece.text.len() <= MAX_EVENT_TEXT
            {
                text.push_str(&piece.text);
                *redacted |= emitted.redacted;
                continue;
            }
            self.rows.push(Row::Output {
                exec: emitted.exec,
                stream: piece.stream,
                text: piece.text,
                redacted: emitted.redacted,
            });
        }
    }

    /// Ends an output event the worker sent for `exec`'s `stream`: the last
    /// row is of that exec and stream, with no text if none was let go.
    pub(super) fn sent(&mut self, exec: Option<u64>, stream: OutputStream) {
        let ends_it = matches!(
            self.rows.last(),
            Some(Row::Output { exec: last_exec, stream: last_stream, .. })
                if *last_exec == exec && *last_stream == stream
        );
        if !ends_it {
            self.rows.push(Row::Output {
                exec,
                stream,
                text: String::new(),
                redacted: false,
            });
        }
    }

    /// Adds an event that is not output.
    pub(super) fn other(&mut self, event: NewEvent) {
        self.rows.push(Row::Other(event));
    }

    /// The events to store.
    pub(super) fn into_events(self) -> Vec<NewEvent> {
        self.rows
            .into_iter()
            .map(|row| match row {
                Row::Output {
                    exec,
                    stream,
                    text,
                    redacted,
                } => NewEvent {
                    redacted,
                    ..NewEvent::of(&OutputData { stream, text, exec })
                },
                Row::Other(event) => event,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use corral_proto::NewEvent;
    use corral_proto::event::OutputStream;

    use super::Rows;
    use crate::redact::{Findings, Redactor};
    use crate::worker_api::streams::OutputStreams;

    #[derive(Clone, Copy)]
    enum Input<'a> {
        Out(OutputStream, &'a str),
        Other,
    }

    /// The events a batch of `inputs` becomes, the job's output then ended.
    fn events(redactor: &Redactor, inputs: &[Input<'_>]) -> Vec<NewEvent> {
        let mut streams = OutputStreams::default();
        let mut rows = Rows::default();
        let mut findings = Findings::default();
        for input in inputs {
            match *input {
                Input::Out(stream, text) => {
                    rows.emitted(streams.push(redactor, None, stream, text, &mut findings));
                    rows.sent(None, stream);
                }
                Input::Other => rows.other(NewEvent::new(
                    corral_proto::EventKind::Message,
                    serde_json::json!({"text": "note"}),
                )),
            }
        }
        rows.emitted(streams.flush(redactor, &mut findings));
        rows.into_events()
    }

    /// The texts of `events`' output, in order.
    fn texts(events: &[NewEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|event| event.output().map(|output| output.text.to_owned()))
            .collect()
    }

    /// A guess that starts a secret, and one that does not, each sent many
    /// times between other output, other streams and other events: the
    /// batch becomes as many rows either way.
    #[test]
    fn a_batch_makes_as_many_rows_whether_its_output_is_held_or_not() {
        let redactor = Redactor::new([("KEY", "zq7-secret-value-0042")]);
        let plain = Redactor::new([("KEY", "unrelated-9")]);
        let (out, err) = (OutputStream::Stdout, OutputStream::Stderr);
        for guess in ["zq7-s", "zq7-x"] {
            let patterns: [Vec<Input<'_>>; 4] = [
                vec![Input::Out(out, guess), Input::Out(out, "!")],
                vec![Input::Out(out, guess), Input::Out(err, "!")],
                vec![Input::Out(out, guess), Input::Other, Input::Out(out, "!")],
                vec![
                    Input::Other,
                    Input::Out(out, guess),
                    Input::Other,
                    Input::Out(out, "!"),
                ],
            ];
            for pattern in patterns {
                let mut inputs = vec![Input::Out(out, "line\n")];
                for _ in 0..50 {
                    inputs.extend_from_slice(&pattern);
                }
                let stored = events(&redactor, &inputs);
                let text = texts(&stored).concat();
                assert_eq!(
                    stored.len(),
                    events(&plain, &inputs).len(),
                    "{guess}: held or not, as many rows"
                );
                assert!(
                    text.contains(guess),
                    "{guess}: every byte comes out: {text}"
                );
            }
        }
    }

    /// Output joined into one row stays within the size events are cut to.
    #[test]
    fn joined_output_stays_within_an_events_size() {
        let redactor = Redactor::new([("KEY", "zq7-secret-value-0042")]);
        let line = "x".repeat(1000) + "\n";
        let inputs = vec![Input::Out(OutputStream::Stdout, line.as_str()); 200];
        let sizes: Vec<usize> = texts(&events(&redactor, &inputs))
            .iter()
            .map(String::len)
            .collect();
        assert!(
            sizes.iter().all(|&size| size <= super::MAX_EVENT_TEXT),
            "{sizes:?}"
        );
        assert_eq!(sizes.iter().sum::<usize>(), 200 * 1001);
        assert!(sizes.len() < 10, "joined: {} rows", sizes.len());
    }
}
