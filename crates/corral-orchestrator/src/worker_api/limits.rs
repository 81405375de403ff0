//! Bounds on what one job's worker may send: output events are cut to a
//! size (a longer line is split across events, never dropped), events are
//! admitted at a bounded rate (past it, the answer to the worker waits, so
//! a flood slows its own job instead of the orchestrator), and what they
//! carry is held to the job's budget of bytes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use corral_proto::event::{ExecEndedData, OutputData};
use corral_proto::{EventKind, NewEvent};

/// Most text one stored output event carries.
pub const MAX_EVENT_TEXT: usize = 64 << 10;
/// Events a job may store per second, sustained.
pub const EVENTS_PER_SECOND: f64 = 10_000.0;
/// Events a job may store in a burst.
pub const EVENT_BURST: f64 = 20_000.0;
/// The longest one batch is held back.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// What every event costs besides its data: about what a stored row takes
/// beside it (its job, number, kind and time). Without it a flood of empty
/// or one-byte events (output alternating between two streams is a row
/// each) cost nothing and grew the store without bound.
pub const ROW_COST: u64 = 32;

/// What `event` costs against its job's budget: its data as JSON, as it is
/// stored (a control byte of output is stored as six), and [`ROW_COST`].
pub fn event_cost(event: &NewEvent) -> u64 {
    ROW_COST + json_size(&event.data)
}

/// A job's budget of bytes (`max_output_bytes`) for what its worker sends:
/// every event by its [`event_cost`] (messages, tool calls and results of
/// up to a request's size each, or rows of empty output, would otherwise
/// grow the store without bound).
pub struct Budget {
    max: u64,
    spent: AtomicU64,
    warned: AtomicBool,
    /// Whether what the job stored before this session (an orchestrator
    /// restarted, a sandbox started again) was counted in.
    counted_before: AtomicBool,
}

/// An event of a batch as the budget leaves it.
#[derive(Debug)]
pub enum Capped {
    /// Within the budget, or an exec's bare end past it: stored.
    Kept(NewEvent),
    /// Output of this stream (an exec's, or `None`: the job's own) was
    /// dropped here: what its redactor holds may be the start of a secret
    /// whose rest never comes, and must not be let go as a whole text's
    /// end.
    Cut(Option<u64>),
}

/// What a [`Budget`] had spent, to give back what a batch not stored took.
#[derive(Clone, Copy)]
pub struct Spent(u64, bool);

impl Budget {
    pub fn new(max: u64) -> Self {
        Self {
            max,
            spent: AtomicU64::new(0),
            warned: AtomicBool::new(false),
            counted_before: AtomicBool::new(false),
        }
    }

    /// Whether what the job stored before this session is counted in.
    pub fn counted_before(&self) -> bool {
        self.counted_before.load(Ordering::SeqCst)
    }

    /// Counts in `stored`, what the job's worker events stored before this
    /// session took, read back from the store by the same measure
    /// (`EventRecords::worker_bytes`): the budget is the job's whole
    /// life's, not a session's. Whether a warning was stored then is not
    /// known, so this session stores one when it first drops something.
    pub fn count_before(&self, stored: u64) {
        if !self.counted_before.swap(true, Ordering::SeqCst) {
            self.spent.fetch_add(stored, Ordering::SeqCst);
        }
    }

    /// A gate for one batch's events, taken one at a time
    /// ([`Gate::admit`]): between two, what the detector made of the last
    /// is charged ([`Budget::charge_redactions`]), so a batch cannot
    /// store more than its budget by what its redactions added.
    pub fn gate(&self) -> Gate<'_> {
        Gate {
            budget: self,
            ended_here: HashSet::new(),
            cut: HashSet::new(),
        }
    }

    /// Charges what redacting took beyond what the events were charged:
    /// each of `names` replaced at least one byte with a marker of up to
    /// its name and [`MARKER_COST`] (a secret shorter than its marker,
    /// printed over and over, stored many times its budget).
    pub fn charge_redactions(&self, names: &[String]) {
        let added: usize = names.iter().map(|name| name.len() + MARKER_COST).sum();
        self.spent
            .fetch_add(u64::try_from(added).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// What is spent now.
    pub fn spent(&self) -> Spent {
        Spent(
            self.spent.load(Ordering::SeqCst),
            self.warned.load(Ordering::SeqCst),
        )
    }

    /// Back to what was spent at `before`: a batch not stored is sent
    /// again, and must not count twice.
    pub fn give_back(&self, before: Spent) {
        self.spent.store(before.0, Ordering::SeqCst);
        self.warned.store(before.1, Ordering::SeqCst);
    }
}

/// Bytes a `[REDACTED:NAME]` marker takes beside its name, as JSON.
pub const MARKER_COST: usize = "[REDACTED:]".len();

/// One batch's way past its job's [`Budget`].
pub struct Gate<'b> {
    budget: &'b Budget,
    /// Every exec this batch ends, within the budget or past it.
    ended_here: HashSet<u64>,
    /// Every stream whose output this batch dropped.
    cut: HashSet<Option<u64>>,
}

impl Gate<'_> {
    /// Admits `event` to `kept`, or drops it past the budget, replacing
    /// what is dropped with one warning. The end of an exec that `runs` is
    /// kept past it, bare (its numbers, no reason), once: a sandbox's
    /// caller waits for it. An end for no running exec is dropped like any
    /// other event, else a worker past its budget could store them without
    /// end. Where a stream's first output is dropped, a [`Capped::Cut`]
    /// takes its place. Whether `event` was kept, itself or as its bare
    /// end: what was redacted in it counts either way.
    pub fn admit(
        &mut self,
        event: NewEvent,
        runs: impl Fn(u64) -> bool,
        kept: &mut Vec<Capped>,
    ) -> bool {
        let budget = self.budget;
        let ended = (event.kind == EventKind::ExecEnded)
            .then(|| event.payload::<ExecEndedData>())
            .flatten();
        let size = event_cost(&event);
        let before = budget.spent.fetch_add(size, Ordering::SeqCst);
        if before.saturating_add(size) <= budget.max {
            if let Some(ended) = &ended {
                self.ended_here.insert(ended.exec);
            }
            kept.push(Capped::Kept(event));
            return true;
        }
        if !budget.warned.swap(true, Ordering::SeqCst) {
            let message = format!("output and events past {} bytes were dropped", budget.max);
            kept.push(Capped::Kept(NewEvent::warning(message)));
        }
        if let Some(output) = event.output()
            && self.cut.insert(output.exec)
        {
            kept.push(Capped::Cut(output.exec));
        }
        if let Some(ended) =
            ended.filter(|ended| runs(ended.exec) && self.ended_here.insert(ended.exec))
        {
            // Its output past the budget may come after it in a batch
            // out of order: its stream is cut before the end lets go.
            if self.cut.insert(Some(ended.exec)) {
                kept.push(Capped::Cut(Some(ended.exec)));
            }
            // Still marked when the detector changed it (its numbers may
            // be the ones left out).
            let mut bare = NewEvent::of(&ExecEndedData {
                reason: None,
                ..ended
            });
            bare.redacted = event.redacted;
            kept.push(Capped::Kept(bare));
            return true;
        }
        false
    }
}

/// How many bytes `value` takes written as JSON, counted as it is written.
fn json_size(value: &serde_json::Value) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Splits output events whose text is over [`MAX_EVENT_TEXT`] into several,
/// on character boundaries, in order.
pub fn split_output(events: Vec<NewEvent>) -> Vec<NewEvent> {
    let mut split = Vec::with_capacity(events.len());
    for event in events {
        let Some(output) = event
            .output()
            .filter(|output| output.text.len() > MAX_EVENT_TEXT)
        else {
            split.push(event);
            continue;
        };
        let mut rest = output.text;
        while !rest.is_empty() {
            let mut cut = rest.len().min(MAX_EVENT_TEXT);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (piece, tail) = rest.split_at(cut);
            split.push(NewEvent::of(&OutputData {
                stream: output.stream,
                text: piece.to_owned(),
                exec: output.exec,
            }));
            rest = tail;
        }
    }
    split
}

/// A token bucket over events.
#[derive(Debug)]
pub struct EventRate {
    state: Mutex<(f64, Instant)>,
    rate: f64,
    burst: f64,
}

impl Default for EventRate {
    fn default() -> Self {
        Self::new(EVENTS_PER_SECOND, EVENT_BURST)
    }
}

impl EventRate {
    /// `rate` events a second, `burst` at once.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            state: Mutex::new((burst, Instant::now())),
            rate,
            burst,
        }
    }

    /// Takes `count` tokens; returns how long to wait before storing them
    /// (zero when within the rate), at most [`MAX_WAIT`].
    pub fn take(&self, count: usize) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let (tokens, last) = *state;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
        #[expect(
            clippy::cast_precision_loss,
            reason = "batches are at most a few thousand events"
        )]
        let left = tokens - count as f64;
        *state = (left, now);
        if left >= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(-left / self.rate).min(MAX_WAIT)
    }

    /// Gives back `count` tokens taken for events that were not stored
    /// (sent again, they are taken again).
    pub fn give_back(&self, count: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        #[expect(
            clippy::cast_precision_loss,
            reason = "batches are at most a few thousand events"
        )]
        let tokens = (state.0 + count as f64).min(self.burst);
        state.0 = tokens;
    }
}

#[cfg(test)]
mod tests {
    use corral_proto::EventKind;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_long_line_is_split_in_order_and_nothing_is_lost() {
        let line = "é".repeat(MAX_EVENT_TEXT); // two bytes each: two events and more
        let events = split_output(vec![
            NewEvent::new(EventKind::Output, json!({"stream": "stdout", "text": line})),
            NewEvent::new(EventKind::Message, json!({"text": "kept"})),
        ]);
        assert_eq!(events.len(), 3);
        let joined: String = events[..2]
            .iter()
            .map(|event| event.data["text"].as_str().expect("text"))
            .collect();
        assert_eq!(joined, line);
        assert!(
            events[..2]
                .iter()
                .all(|event| event.data["stream"] == "stdout")
        );
        assert_eq!(events[2].kind, EventKind::Message);
    }

    #[test]
    fn the_bucket_admits_a_burst_then_holds_back_in_proportion() {
        let rate = EventRate::new(1000.0, 2000.0);
        assert_eq!(rate.take(2000), Duration::ZERO);
        let wait = rate.take(500);
        assert!(
            wait >= Duration::from_millis(400) && wait <= Duration::from_millis(600),
            "{wait:?}"
        );
        assert_eq!(rate.take(1_000_000), MAX_WAIT, "never more than the cap");
    }

    #[test]
    fn tokens_given_back_are_taken_again_without_a_wait() {
        // Slow enough that no token comes back by itself meanwhile.
        let rate = EventRate::new(1.0, 2000.0);
        assert_eq!(rate.take(2000), Duration::ZERO);
        rate.give_back(500);
        assert_eq!(rate.take(500), Duration::ZERO, "the 500 given back");
        assert!(rate.take(500) > Duration::ZERO, "and no more");
        rate.give_back(1_000_000);
        assert_eq!(rate.take(2000), Duration::ZERO);
        assert!(rate.take(10) > Duration::ZERO, "never past the burst");
    }
}
