//! A followed job's latest events in memory, bounded by how many they are
//! and by the memory they take, and the pages read from it; each one a
//! [`SharedEvent`], which its followers share.
//!
//! A hostile job chooses what its events hold: a list of a million zeros
//! is 2 MB of JSON and, as the values it is read into, about 32 MB. So an
//! event is weighed by walking its data, not by its JSON's length.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use corral_proto::Event;

use crate::http::weight::value_weight;

/// Most events kept in memory per followed job...
pub const WINDOW: usize = 8192;
/// ...and the most memory they may take ([`weigh`]): a job whose events
/// are each as large as output gets (64 KiB of text) holds about 250 of
/// them, one of small events (some 1.5 KiB each once read, their JSON
/// beside) all [`WINDOW`], so a follower that falls a few thousand small
/// events behind still reads from memory, and no followed job holds more
/// than this.
pub const WINDOW_BYTES: usize = 16 << 20;
/// Most memory every followed job's window takes, all told: sixteen full
/// ones. Past it the largest windows let go of their oldest events until
/// all hold an eighth less (their readers read those from the store), so
/// a server running many noisy jobs, each followed, does not hold
/// [`WINDOW_BYTES`] for every one.
pub const ALL_WINDOWS_BYTES: usize = 16 * WINDOW_BYTES;
/// Most memory one page of events read for a follower takes, from the
/// window or the store (one event at least, however large): a follower
/// that holds what it read and does not send it holds no more.
pub const PAGE_BYTES: usize = 1 << 20;
/// What an event takes beside its data and its JSON: its own fields, its
/// `Arc` and its slot in the window.
const EVENT_OVERHEAD: usize = 160;

/// An event in the window, and its weight.
pub(super) type Kept = (Arc<SharedEvent>, usize);

/// A stored event as its followers share it: one copy of it, and its JSON
/// made on first use, once for all of them (a hundred followers of a job
/// would otherwise serialise each of its events a hundred times).
#[derive(Debug)]
pub struct SharedEvent {
    event: Event,
    json: OnceLock<Vec<u8>>,
}

impl SharedEvent {
    /// Shares `event`.
    pub fn new(event: Event) -> Self {
        Self {
            event,
            json: OnceLock::new(),
        }
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event as JSON, on one line (every control character in it is
    /// escaped), as the API sends it.
    pub fn json(&self) -> &[u8] {
        self.json.get_or_init(|| {
            let mut json = serde_json::to_vec(&self.event).unwrap_or_default();
            json.shrink_to_fit();
            json
        })
    }
}

/// The latest events of a followed job, contiguous.
pub(super) struct Window {
    /// Shared, not copied: a hundred followers of one event hold one copy.
    kept: VecDeque<Kept>,
    /// The weights of `kept`, all told.
    weight: usize,
    /// What every window of the log holds, this one's `weight` included.
    all: Arc<AtomicUsize>,
}

impl Window {
    /// An empty window, counted in `all` (see [`ALL_WINDOWS_BYTES`]).
    pub(super) fn new(all: Arc<AtomicUsize>) -> Self {
        Self {
            kept: VecDeque::new(),
            weight: 0,
            all,
        }
    }

    /// Adds a batch weighed by [`weigh`] after the window's last event
    /// (a gap, appends racing, restarts it); returns the events let go,
    /// to be dropped once no lock is held.
    pub(super) fn extend(&mut self, batch: Vec<Kept>) -> Vec<Kept> {
        let mut gone = Vec::new();
        if let (Some((last, _)), Some((next, _))) = (self.kept.back(), batch.first())
            && last.event().seq + 1 != next.event().seq
        {
            gone.extend(self.take());
        }
        for (event, weight) in batch {
            self.weight += weight;
            self.all.fetch_add(weight, Ordering::Relaxed);
            self.kept.push_back((event, weight));
        }
        while self.kept.len() > WINDOW || self.weight > WINDOW_BYTES {
            let Some(oldest) = self.pop_oldest() else {
                break;
            };
            gone.push(oldest);
        }
        gone
    }

    /// Lets go of the oldest event, if any (its readers then read it from
    /// the store).
    fn pop_oldest(&mut self) -> Option<Kept> {
        let (event, weight) = self.kept.pop_front()?;
        self.weight -= weight;
        self.all.fetch_sub(weight, Ordering::Relaxed);
        Some((event, weight))
    }

    /// Empties the window; returns what it held.
    pub(super) fn take(&mut self) -> VecDeque<Kept> {
        self.all.fetch_sub(self.weight, Ordering::Relaxed);
        self.weight = 0;
        std::mem::take(&mut self.kept)
    }

    /// The events after `after`, at most `limit` and [`PAGE_BYTES`] of
    /// them, when the window holds `after + 1` (or `after` is its last and
    /// `highest`, the highest number stored, is too): `None` sends the
    /// reader to the store.
    pub(super) fn read(
        &self,
        after: u64,
        limit: u32,
        highest: u64,
    ) -> Option<Vec<Arc<SharedEvent>>> {
        let first = self.kept.front()?.0.event().seq;
        let last = self.kept.back()?.0.event().seq;
        if after + 1 < first || after > last || (after == last && last < highest) {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).ok()?;
        let mut page = Vec::new();
        let mut bytes = 0;
        for (event, weight) in self.kept.iter().skip(skip).take(limit as usize) {
            if !page.is_empty() && bytes + weight > PAGE_BYTES {
                break;
            }
            bytes += weight;
            page.push(Arc::clone(event));
        }
        Some(page)
    }

    /// The window's weight, and its events' weights added up again.
    #[cfg(test)]
    pub(super) fn weights(&self) -> (usize, usize, usize) {
        let sum = self.kept.iter().map(|(_, weight)| weight).sum();
        (self.kept.len(), self.weight, sum)
    }
}

/// When `windows` together hold more than `bytes` (`held`, all told), the
/// largest let go of their oldest events (into `gone`) until all hold an
/// eighth less: a job that filled its window and went quiet gives way to
/// one that prints now, no window is kept empty by the others, and the
/// windows are not walked again for each append that follows. Their
/// readers read what went from the store.
pub(super) fn shed(
    windows: &mut [&mut Window],
    held: &AtomicUsize,
    bytes: usize,
    gone: &mut Vec<Kept>,
) {
    let held = || held.load(Ordering::Relaxed);
    if held() <= bytes {
        return;
    }
    let target = bytes - bytes / 8;
    while held() > target {
        // The largest window (the first of equals), and the weight of the
        // next largest.
        let Some(largest) = (0..windows.len())
            .rev()
            .max_by_key(|&index| windows[index].weight)
        else {
            return;
        };
        let next = windows
            .iter()
            .enumerate()
            .filter(|&(index, _)| index != largest)
            .map(|(_, window)| window.weight)
            .max()
            .unwrap_or(0);
        // One event at least, then down to the next largest.
        loop {
            let Some(oldest) = windows[largest].pop_oldest() else {
                return;
            };
            gone.push(oldest);
            if held() <= target || windows[largest].weight <= next {
                break;
            }
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.all.fetch_sub(self.weight, Ordering::Relaxed);
    }
}

/// The part of a stored batch a window can hold (its last events, as many
/// as fit), shared and weighed: their JSON made, which followers would
/// make anyway, and their data walked. Done before any lock is taken;
/// the events that would be let go at once are neither.
pub(super) fn weigh(stored: Vec<Event>) -> Vec<Kept> {
    let mut kept = Vec::new();
    let mut total = 0;
    for event in stored.into_iter().rev() {
        if kept.len() == WINDOW {
            break;
        }
        let weight = value_weight(&event.data) + EVENT_OVERHEAD;
        // Its JSON is only made once the rest of it fits.
        if total + weight > WINDOW_BYTES {
            break;
        }
        let event = Arc::new(SharedEvent::new(event));
        let weight = weight + event.json().len();
        total += weight;
        if total > WINDOW_BYTES {
            break;
        }
        kept.push((event, weight));
    }
    kept.reverse();
    kept
}
