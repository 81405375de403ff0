//! What the jobs print, and how fast, and the check that the store holds
//! exactly that.
//!
//! A worker reads each pipe as soon as it can and merges what piled up
//! into one event, so how many events a run makes depends on how far the
//! printing runs ahead of the reading: BENCHMARKS.md's runs of the flat-out
//! load (400,000 lines), across code versions, stored from 3,445 to 65,360
//! `output` events. An events-per-second figure says most when each event
//! is what one write made; so the goal is measured with a paced load, each
//! job printing one line to each stream a tick, and the flat-out load is
//! kept beside it for lines per second. The report gives lines an event
//! for both: above 1, the paced jobs offered more than was read one write
//! at a time.

use corral_proto::Event;
use corral_proto::event::OutputStream;

/// How the jobs print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Each job prints one line to stdout and one to stderr, then waits
    /// for its shell's smallest timeout (a 1 ms `poll`), [`Load::rounds`]
    /// times: lines come one write at a time, far enough apart for the
    /// worker to read each alone while it keeps up.
    Paced,
    /// Each job prints its lines, alternating stdout and stderr, as fast
    /// as its shell can: the worker merges what piles up.
    FlatOut,
}

impl Load {
    /// Jobs printing at once (each is admitted at most 10,000 events a
    /// second). Paced, they offer at most [`Load::ceiling`] lines a second.
    pub fn jobs(self) -> usize {
        match self {
            Self::Paced => 32,
            Self::FlatOut => 10,
        }
    }

    /// Lines each job prints to each of stdout and stderr.
    pub fn rounds(self) -> usize {
        match self {
            Self::Paced => 3_000,
            Self::FlatOut => 20_000,
        }
    }

    /// Paced, the most lines a second the jobs can offer (every tick 1 ms,
    /// printing taking no time); flat out, none is set.
    pub fn ceiling(self) -> Option<usize> {
        (self == Self::Paced).then(|| 2 * self.jobs() * 1000)
    }

    /// The `index`th line (from 0) a job prints to `stream`, without its
    /// line feed (`$i` for the script's own).
    pub fn line(stream: OutputStream, index: impl std::fmt::Display) -> String {
        match stream {
            OutputStream::Stdout => format!("stdout line {index} of a chatty job"),
            OutputStream::Stderr => format!("stderr line {index}"),
        }
    }

    /// Checks one job's stored events: each stream's text, joined across
    /// its events, must be exactly [`Load::line`] 0, 1, 2… to the last
    /// round, each once and in order. Returns the lines read.
    pub fn check(self, events: &[Event]) -> anyhow::Result<u64> {
        let mut text = [String::new(), String::new()];
        for output in events.iter().filter_map(Event::output) {
            text[usize::from(output.stream == OutputStream::Stderr)].push_str(output.text);
        }
        let mut lines = 0;
        for (stream, text) in [OutputStream::Stdout, OutputStream::Stderr]
            .into_iter()
            .zip(&text)
        {
            let expected: String = (0..self.rounds())
                .map(|index| Self::line(stream, index) + "\n")
                .collect();
            if *text != expected {
                let at = text
                    .bytes()
                    .zip(expected.bytes())
                    .take_while(|(got, want)| got == want)
                    .count();
                anyhow::bail!(
                    "{stream:?} is not the lines printed: it differs at byte {at} ({} bytes \
                     stored, {} printed)",
                    text.len(),
                    expected.len()
                );
            }
            lines += self.rounds() as u64;
        }
        Ok(lines)
    }

    /// What each job runs: it waits for `/workspace/go`, then prints.
    pub fn script(self) -> String {
        let rounds = self.rounds();
        let lines = format!(
            "echo \"{}\"; echo \"{}\" >&2",
            Self::line(OutputStream::Stdout, "$i"),
            Self::line(OutputStream::Stderr, "$i")
        );
        match self {
            // `read -t` on a FIFO no one writes to is busybox sh's only
            // sleep that forks nothing; it rounds to whole milliseconds.
            // Without the FIFO, `read` would return at once (a file) or
            // the shell would end: the job fails instead, saying why.
            Self::Paced => format!(
                "{{ mkfifo /tmp/tick && exec 3<>/tmp/tick; }} || \
                 {{ echo 'no FIFO to wait on' >&2; exit 97; }}; \
                 while [ ! -e /workspace/go ]; do sleep 0.05; done; i=0; \
                 while [ $i -lt {rounds} ]; do {lines}; read -t 0.001 -u 3 x; \
                 i=$((i+1)); done"
            ),
            Self::FlatOut => format!(
                "while [ ! -e /workspace/go ]; do sleep 0.05; done; i=0; \
                 while [ $i -lt {rounds} ]; do {lines}; i=$((i+1)); done"
            ),
        }
    }

    /// The load in words, for the report.
    pub fn describe(self) -> String {
        let (jobs, rounds) = (self.jobs(), self.rounds());
        match self {
            Self::Paced => format!(
                "{jobs} exec jobs at once, each printing a line to stdout and a line to stderr, \
                 then waiting about 1 ms (its shell's 1 ms `poll`), {rounds} times"
            ),
            Self::FlatOut => format!(
                "{jobs} exec jobs at once, each printing {rounds} lines to stdout and {rounds} to \
                 stderr, alternating, as fast as its shell can"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use corral_proto::EventKind;
    use serde_json::json;

    use super::*;

    /// Output events of `texts`, each `(stream, text)`, in order.
    fn events(texts: &[(&str, String)]) -> Vec<Event> {
        texts
            .iter()
            .zip(1..)
            .map(|((stream, text), seq)| Event {
                job_id: "j".into(),
                seq,
                ts: time::OffsetDateTime::UNIX_EPOCH,
                kind: EventKind::Output,
                data: json!({ "stream": stream, "text": text }),
                redacted: false,
            })
            .collect()
    }

    /// What a paced job prints, one event a line, streams alternating.
    fn printed() -> Vec<(&'static str, String)> {
        (0..Load::Paced.rounds())
            .flat_map(|index| {
                [
                    ("stdout", Load::line(OutputStream::Stdout, index) + "\n"),
                    ("stderr", Load::line(OutputStream::Stderr, index) + "\n"),
                ]
            })
            .collect()
    }

    #[test]
    fn a_job_s_lines_pass_however_its_events_cut_them() {
        let lines = 2 * Load::Paced.rounds() as u64;
        let whole = Load::Paced
            .check(&events(&printed()))
            .expect("the lines printed");
        assert_eq!(whole, lines);
        // Merged, and cut inside a line.
        let mut cut = printed();
        let (_, second) = cut.remove(2);
        let (head, tail) = second.split_at(5);
        cut[0].1.push_str(head);
        cut.insert(2, ("stdout", tail.to_owned()));
        assert_eq!(
            Load::Paced.check(&events(&cut)).expect("the same lines"),
            lines
        );
    }

    #[test]
    fn a_line_lost_doubled_moved_or_changed_fails() {
        let mut lost_and_doubled = printed();
        lost_and_doubled[4] = lost_and_doubled[2].clone();
        let mut moved = printed();
        moved[3].0 = "stdout";
        let mut changed = printed();
        changed[10].1 = changed[10].1.replace("line", "lime");
        let mut swapped = printed();
        swapped.swap(0, 2);
        let mut short = printed();
        short.pop();
        for (case, texts) in [
            ("lost and doubled", lost_and_doubled),
            ("moved", moved),
            ("changed", changed),
            ("out of order", swapped),
            ("missing the last", short),
        ] {
            assert!(Load::Paced.check(&events(&texts)).is_err(), "{case}");
        }
    }
}
