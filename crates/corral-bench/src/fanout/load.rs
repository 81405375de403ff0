//! What the jobs print, and how fast.
//!
//! A worker reads each pipe as soon as it can and merges what piled up
//! into one event, so how many events a run makes depends on how far the
//! printing runs ahead of the reading: the same 400,000 lines printed flat
//! out made between 5,600 and 65,000 events in runs on this machine. An
//! events-per-second figure means something only when each event is what
//! one write made; so the goal is measured with a paced load, each job
//! printing one line to each stream a tick, and the flat-out load is kept
//! beside it for lines per second.

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
    /// Both, in the order they run.
    pub const ALL: [Self; 2] = [Self::Paced, Self::FlatOut];

    /// Jobs printing at once (each is admitted at most 10,000 events a
    /// second): paced, enough for the offered lines to pass the goal.
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

    /// Lines all jobs print together.
    pub fn lines(self) -> usize {
        2 * self.jobs() * self.rounds()
    }

    /// What each job runs: it waits for `/workspace/go`, then prints.
    pub fn script(self) -> String {
        let rounds = self.rounds();
        let lines = "echo \"stdout line $i of a chatty job\"; echo \"stderr line $i\" >&2";
        match self {
            // `read -t` on a FIFO no one writes to is busybox sh's only
            // sleep that forks nothing; it rounds to whole milliseconds.
            Self::Paced => format!(
                "mkfifo /tmp/tick; exec 3<>/tmp/tick; \
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
                 then waiting 1 ms, {rounds} times"
            ),
            Self::FlatOut => format!(
                "{jobs} exec jobs at once, each printing {rounds} lines to stdout and {rounds} to \
                 stderr, alternating, as fast as its shell can"
            ),
        }
    }
}
