//! The log itself: [`EventLog`] appends, stores first, then wakes the
//! job's followers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use corral_proto::event::StatusData;
use corral_proto::{Event, NewEvent};
use tokio::sync::broadcast;

use super::window::{self, PAGE_BYTES, SharedEvent, Window};
use crate::store::{HeldStreams, Store, StoreError};

/// Wake-ups buffered per job before a reader counts as lagged (and re-reads).
const WAKE_CAPACITY: usize = 16;
/// Appends events and wakes followers.
#[derive(Clone)]
pub struct EventLog {
    store: Arc<dyn Store>,
    /// Per-job wake-up channels and latest events. A std mutex: held only
    /// to look up a sender or copy a few events, never across an `.await`.
    channels: Arc<Mutex<HashMap<String, Followed>>>,
    /// Events stored since start.
    stored: Arc<std::sync::atomic::AtomicU64>,
    /// What every window holds, all told, and the most it may.
    windows: Arc<std::sync::atomic::AtomicUsize>,
    windows_bytes: usize,
}

/// A watched job: its wake-up channel, and its latest events, contiguous,
/// kept while a [`Follower`](super::Follower) follows it.
struct Followed {
    wake: broadcast::Sender<()>,
    /// A clone for each follower: only followers keep the window. A
    /// receiver that only waits to be woken (a prompt's long poll, a
    /// sandbox waiting for its exec's end) does not, and an idle job it
    /// waits on holds no events in memory.
    follows: Arc<()>,
    window: Window,
    /// The highest sequence number any append returned: when the window
    /// ends below it (appends finishing out of order), it is not the latest.
    highest: u64,
    /// Whether a store read begun once this entry was made has come back
    /// (and raised `highest` to the job's highest stored then). Until then
    /// the window never passes for the latest: an append that found no
    /// entry left no trace here, and its events may come after the
    /// window's last (a late wake-up of an older append fills it).
    checked: bool,
}

impl EventLog {
    /// An event log over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_windows_bytes(store, window::ALL_WINDOWS_BYTES)
    }

    /// An event log whose windows hold `bytes` at most, all told.
    pub(super) fn with_windows_bytes(store: Arc<dyn Store>, bytes: usize) -> Self {
        Self {
            store,
            channels: Arc::default(),
            stored: Arc::default(),
            windows: Arc::default(),
            windows_bytes: bytes,
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
        let entry = self.entry(job_id);
        let (stored, highest) = self
            .store
            .events_within(job_id, after, limit, PAGE_BYTES)
            .await?;
        // The window must not take an event before the store's last for
        // the latest: an append it never saw (made before anyone followed)
        // may come after it, and nothing would wake its reader for it.
        self.stored_past(job_id, highest, entry.as_ref());
        Ok(stored
            .into_iter()
            .map(|event| Arc::new(SharedEvent::new(event)))
            .collect())
    }

    /// The window's events after `after` (see [`Window::read`]).
    fn read_window(&self, job_id: &str, after: u64, limit: u32) -> Option<Vec<Arc<SharedEvent>>> {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let followed = channels.get(job_id)?;
        let highest = if followed.checked {
            followed.highest
        } else {
            u64::MAX
        };
        followed.window.read(after, limit, highest)
    }

    /// Which entry `job_id` has now, if any (see [`Followed::checked`]).
    fn entry(&self, job_id: &str) -> Option<Weak<()>> {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .get(job_id)
            .map(|followed| Arc::downgrade(&followed.follows))
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

    /// A receiver woken after each append for `job_id`, which keeps no
    /// window. Subscribe *before* reading the store so no append can slip
    /// between the two.
    pub fn subscribe(&self, job_id: &str) -> Waiter {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        Waiter {
            wake: Some(self.watched(&mut channels, job_id).wake.subscribe()),
            log: self.clone(),
            job_id: job_id.to_owned(),
        }
    }

    /// A follower's subscription to `job_id`: its wake-ups, and a share in
    /// keeping the job's window.
    pub(super) fn subscribe_following(&self, job_id: &str) -> Following {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let followed = self.watched(&mut channels, job_id);
        Following {
            wake: followed.wake.subscribe(),
            _keeps: Arc::clone(&followed.follows),
        }
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

    /// Current number of followers across all jobs (not the receivers
    /// that only wait to be woken).
    pub fn follower_count(&self) -> usize {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.values().map(followers).sum()
    }

    /// Adds `stored` to a followed job's window, then wakes whoever
    /// watches it.
    fn keep_and_wake(&self, job_id: &str, stored: Vec<Event>) {
        // Before weighing: the window may take none of the batch.
        let last = stored.last().map(|event| event.seq);
        let batch = match self.watchers(job_id) {
            Watchers::None => return,
            Watchers::Waiting => Vec::new(),
            Watchers::Following => window::weigh(stored),
        };
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(followed) = channels.get_mut(job_id) else {
            return;
        };
        if let Some(last) = last {
            followed.highest = followed.highest.max(last);
        }
        // Its last follower may have left since the look (the window then
        // went with it), or a first one come: the window skips this batch,
        // and restarts at the gap.
        let mut gone = if followers(followed) > 0 {
            followed.window.extend(batch)
        } else {
            batch
        };
        // No receiver is fine: nobody follows this job right now.
        let _ = followed.wake.send(());
        if self.windows.load(std::sync::atomic::Ordering::Relaxed) > self.windows_bytes {
            let mut windows: Vec<&mut Window> = channels
                .values_mut()
                .map(|followed| &mut followed.window)
                .collect();
            window::shed(&mut windows, &self.windows, self.windows_bytes, &mut gone);
        }
        drop(channels);
        // Freed with no lock held: a large event's data takes a while.
        drop(gone);
    }

    /// Records that `job_id` had stored up to event `seq` (its highest, as
    /// a store read begun while `entry` was its entry found it).
    fn stored_past(&self, job_id: &str, seq: u64, entry: Option<&Weak<()>>) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(followed) = channels.get_mut(job_id) {
            followed.highest = followed.highest.max(seq);
            // The weak reference keeps the entry's allocation: no other
            // entry can have its address meanwhile.
            if entry.is_some_and(|entry| entry.as_ptr() == Arc::as_ptr(&followed.follows)) {
                followed.checked = true;
            }
        }
    }

    /// Who watches `job_id`. When nobody does (the last receiver left),
    /// its channel and window go; when only receivers that wait to be
    /// woken do, its window goes. Under the same lock as the look: a
    /// window that stays must see every append (a follower that came
    /// between the two would read a window missing one, and never be woken
    /// for it). The next to follow makes them again, and reads from the
    /// store what came before.
    pub(super) fn watchers(&self, job_id: &str) -> Watchers {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(followed) = channels.get_mut(job_id) else {
            return Watchers::None;
        };
        if followed.wake.receiver_count() == 0 {
            let gone = channels.remove(job_id);
            drop(channels);
            drop(gone);
            return Watchers::None;
        }
        if followers(followed) == 0 {
            let gone = followed.window.take();
            drop(channels);
            drop(gone);
            return Watchers::Waiting;
        }
        Watchers::Following
    }

    /// `job_id`'s entry, made when it has none.
    fn watched<'a>(
        &self,
        channels: &'a mut HashMap<String, Followed>,
        job_id: &str,
    ) -> &'a mut Followed {
        channels
            .entry(job_id.to_owned())
            .or_insert_with(|| Followed {
                wake: broadcast::channel(WAKE_CAPACITY).0,
                follows: Arc::new(()),
                window: Window::new(Arc::clone(&self.windows)),
                highest: 0,
                checked: false,
            })
    }
}

/// Who watches a job (see [`EventLog::watchers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Watchers {
    /// Nobody.
    None,
    /// Only receivers that wait to be woken.
    Waiting,
    /// At least one follower.
    Following,
}

/// A follower's subscription (see [`EventLog::subscribe_following`]).
pub(super) struct Following {
    wake: broadcast::Receiver<()>,
    /// Counted by [`followers`] while held. Tied to the entry it was
    /// taken from: one made after the job's channel was closed and made
    /// again counts only in its own.
    _keeps: Arc<()>,
}

impl Following {
    /// The next wake-up (see [`broadcast::Receiver::recv`]).
    pub(super) async fn recv(&mut self) -> Result<(), broadcast::error::RecvError> {
        self.wake.recv().await
    }
}

/// A receiver that only waits to be woken after each append for a job
/// (see [`EventLog::subscribe`]). The last to go of a job nobody follows
/// takes the job's entry along, as a follower does: a finished job gets
/// no more appends to let it go (a call on an ended sandbox, a probe job
/// found ended), so it would stay until the server stops, one a job.
pub struct Waiter {
    wake: Option<broadcast::Receiver<()>>,
    log: EventLog,
    job_id: String,
}

impl Waiter {
    /// The next wake-up (see [`broadcast::Receiver::recv`]).
    pub async fn recv(&mut self) -> Result<(), broadcast::error::RecvError> {
        match &mut self.wake {
            Some(wake) => wake.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }

    /// A wake-up already sent, if any (see [`broadcast::Receiver::try_recv`]).
    #[cfg(test)]
    pub fn try_recv(&mut self) -> Result<(), broadcast::error::TryRecvError> {
        match &mut self.wake {
            Some(wake) => wake.try_recv(),
            None => Err(broadcast::error::TryRecvError::Closed),
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if self.wake.take().is_some() {
            self.log.watchers(&self.job_id);
        }
    }
}

/// How many followers hold a share in `followed`'s window.
fn followers(followed: &Followed) -> usize {
    Arc::strong_count(&followed.follows) - 1
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod waiting_tests;
#[cfg(test)]
mod windows_tests;
