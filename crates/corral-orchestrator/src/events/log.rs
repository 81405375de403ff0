//! The log itself: [`EventLog`] appends, stores first, then wakes the
//! job's followers; [`SharedEvent`] is one stored event as its followers
//! share it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use corral_proto::event::StatusData;
use corral_proto::{Event, NewEvent};
use tokio::sync::broadcast;

use crate::store::{HeldStreams, Store, StoreError};

/// Wake-ups buffered per job before a reader counts as lagged (and re-reads).
const WAKE_CAPACITY: usize = 16;
/// Most events kept in memory per followed job...
pub const WINDOW: usize = 8192;
/// ...and the most memory they may take ([`SharedEvent::weight`]): a job
/// whose events are each as large as an event may be (64 KiB of text)
/// holds about sixty of them, one of small events thousands, so a
/// follower that falls a few thousand small events behind still reads
/// from memory, and no followed job holds more than this.
pub const WINDOW_BYTES: usize = 8 << 20;
/// What an event in the window takes beside its JSON and the data it was
/// made from: the event's own fields, its `Arc` and its slot.
const EVENT_OVERHEAD: usize = 160;

/// Appends events and wakes followers.
#[derive(Clone)]
pub struct EventLog {
    store: Arc<dyn Store>,
    /// Per-job wake-up channels and latest events. A std mutex: held only
    /// to look up a sender or copy a few events, never across an `.await`.
    channels: Arc<Mutex<HashMap<String, Followed>>>,
    /// Events stored since start.
    stored: Arc<std::sync::atomic::AtomicU64>,
}

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
        self.json
            .get_or_init(|| serde_json::to_vec(&self.event).unwrap_or_default())
    }

    /// About the memory the event takes once its JSON is made: the JSON,
    /// as much again for the data it was made from (a string's text, a
    /// number's digits), and [`EVENT_OVERHEAD`].
    pub fn weight(&self) -> usize {
        2 * self.json().len() + EVENT_OVERHEAD
    }
}

/// A followed job: its wake-up channel and its latest events, contiguous.
struct Followed {
    wake: broadcast::Sender<()>,
    /// Shared, not copied: a hundred followers of one event hold one copy.
    window: VecDeque<Arc<SharedEvent>>,
    /// The window's [`SharedEvent::weight`], all told.
    weight: usize,
    /// The highest sequence number any append returned: when the window
    /// ends below it (appends finishing out of order), it is not the latest.
    highest: u64,
}

impl EventLog {
    /// An event log over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            channels: Arc::default(),
            stored: Arc::default(),
        }
    }

    /// Stores `events` for `job_id`, then wakes its followers; returns the last seq.
    pub async fn append(&self, job_id: &str, events: Vec<NewEvent>) -> Result<u64, StoreError> {
        self.append_batch(job_id, events, None, None).await
    }

    /// Like [`EventLog::append`], recording the worker's batch number and
    /// what the leak detector holds with the events.
    pub async fn append_batch(
        &self,
        job_id: &str,
        events: Vec<NewEvent>,
        batch: Option<u64>,
        held: Option<HeldStreams>,
    ) -> Result<u64, StoreError> {
        let count = events.len() as u64;
        let stored = self
            .store
            .append_events(job_id, events, batch, held)
            .await?;
        let last_seq = stored.last().map_or(0, |event| event.seq);
        self.stored
            .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        self.keep_and_wake(job_id, stored);
        Ok(last_seq)
    }

    /// Up to `limit` events of `job_id` after `after`: from memory when the
    /// job is followed and they are in its window, else from the store.
    pub async fn events_after(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Arc<SharedEvent>>, StoreError> {
        if let Some(events) = self.read_window(job_id, after, limit) {
            return Ok(events);
        }
        let stored = self.store.events_after(job_id, after, limit).await?;
        Ok(stored
            .into_iter()
            .map(|event| Arc::new(SharedEvent::new(event)))
            .collect())
    }

    /// The window's events after `after`, when it holds `after + 1` (or
    /// `after` is its last): `None` sends the reader to the store.
    fn read_window(&self, job_id: &str, after: u64, limit: u32) -> Option<Vec<Arc<SharedEvent>>> {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let followed = channels.get(job_id)?;
        let window = &followed.window;
        let (first, last) = (window.front()?.event.seq, window.back()?.event.seq);
        if after + 1 < first || after > last || (after == last && last < followed.highest) {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).ok()?;
        Some(
            window
                .iter()
                .skip(skip)
                .take(limit as usize)
                .cloned()
                .collect(),
        )
    }

    /// The store behind the log.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stores a `status` event for a state change.
    pub async fn status(
        &self,
        job_id: &str,
        state: corral_proto::JobState,
        reason: Option<&str>,
    ) -> Result<u64, StoreError> {
        let status = StatusData {
            state: Some(state),
            reason: reason.map(str::to_owned),
            ..StatusData::default()
        };
        self.append(job_id, vec![NewEvent::of(&status)]).await
    }

    /// Stores the `running` status event, with the container's profile as
    /// the engine reported it when it was read back.
    pub async fn running(
        &self,
        job_id: &str,
        profile: Option<&corral_proto::verify::ContainerProfile>,
    ) -> Result<u64, StoreError> {
        let status = StatusData {
            state: Some(corral_proto::JobState::Running),
            profile: profile.cloned(),
            ..StatusData::default()
        };
        self.append(job_id, vec![NewEvent::of(&status)]).await
    }

    /// A receiver woken after each append for `job_id`. Subscribe *before*
    /// reading the store so no append can slip between the two.
    pub fn subscribe(&self, job_id: &str) -> broadcast::Receiver<()> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(job_id.to_owned())
            .or_insert_with(|| Followed {
                wake: broadcast::channel(WAKE_CAPACITY).0,
                window: VecDeque::new(),
                weight: 0,
                highest: 0,
            })
            .wake
            .subscribe()
    }

    /// Drops a finished job's channel; its followers see `Closed`, re-read and end.
    pub fn close(&self, job_id: &str) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.remove(job_id);
    }

    /// Events stored since start.
    pub fn stored_count(&self) -> u64 {
        self.stored.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Current number of followers across all jobs.
    pub fn follower_count(&self) -> usize {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .values()
            .map(|followed| followed.wake.receiver_count())
            .sum()
    }

    /// Adds `stored` to a followed job's window, then wakes its followers.
    fn keep_and_wake(&self, job_id: &str, stored: Vec<Event>) {
        if !self.followed(job_id) {
            return;
        }
        // Made before the lock is taken: the JSON weighs each event, and
        // its followers would make it anyway.
        let shared: Vec<Arc<SharedEvent>> = stored
            .into_iter()
            .map(|event| {
                let event = Arc::new(SharedEvent::new(event));
                event.json();
                event
            })
            .collect();
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(followed) = channels.get_mut(job_id) else {
            return;
        };
        if let Some(last) = shared.last() {
            followed.highest = followed.highest.max(last.event.seq);
        }
        // Contiguous or nothing: a gap (appends racing) restarts the window.
        if let (Some(last), Some(next)) = (followed.window.back(), shared.first())
            && last.event.seq + 1 != next.event.seq
        {
            followed.window.clear();
            followed.weight = 0;
        }
        for event in shared {
            followed.weight += event.weight();
            followed.window.push_back(event);
        }
        while followed.window.len() > WINDOW || followed.weight > WINDOW_BYTES {
            let Some(dropped) = followed.window.pop_front() else {
                break;
            };
            followed.weight -= dropped.weight();
        }
        // No receiver is fine: nobody follows this job right now.
        let _ = followed.wake.send(());
    }

    /// Whether `job_id` has a window (someone followed it).
    fn followed(&self, job_id: &str) -> bool {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.contains_key(job_id)
    }
}

#[cfg(test)]
mod tests;
