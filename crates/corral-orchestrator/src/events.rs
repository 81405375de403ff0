//! The event log: store first, then wake whoever follows the job.
//!
//! Readers never get events pushed to them; they are woken by a per-job
//! `broadcast<()>` and re-read the store from their last sequence number, so
//! a slow reader that lags loses nothing and a reader that connects late
//! sees everything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use corral_proto::{EventKind, NewEvent};
use serde_json::json;
use tokio::sync::broadcast;

use crate::store::{Store, StoreError};

/// Wake-ups buffered per job before a reader counts as lagged (and re-reads).
const WAKE_CAPACITY: usize = 16;

/// Appends events and wakes followers.
#[derive(Clone)]
pub struct EventLog {
    store: Arc<dyn Store>,
    /// Per-job wake-up channels. A std mutex: held only to look up a sender.
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<()>>>>,
    /// Events stored since start.
    stored: Arc<std::sync::atomic::AtomicU64>,
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
        self.append_batch(job_id, events, None).await
    }

    /// Like [`EventLog::append`], recording the worker's batch number with the events.
    pub async fn append_batch(
        &self,
        job_id: &str,
        events: Vec<NewEvent>,
        batch: Option<u64>,
    ) -> Result<u64, StoreError> {
        let count = events.len() as u64;
        let last_seq = self.store.append_events(job_id, events, batch).await?;
        self.stored
            .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        self.wake(job_id);
        Ok(last_seq)
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
        let mut data = json!({ "state": state.as_str() });
        if let Some(reason) = reason {
            data["reason"] = json!(reason);
        }
        self.append(job_id, vec![NewEvent::new(EventKind::Status, data)])
            .await
    }

    /// A receiver woken after each append for `job_id`. Subscribe *before*
    /// reading the store so no append can slip between the two.
    pub fn subscribe(&self, job_id: &str) -> broadcast::Receiver<()> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        channels
            .entry(job_id.to_owned())
            .or_insert_with(|| broadcast::channel(WAKE_CAPACITY).0)
            .subscribe()
    }

    /// Drops a finished job's channel; its followers see `Closed`, re-read and end.
    pub fn close(&self, job_id: &str) {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        channels.remove(job_id);
    }

    /// Events stored since start.
    pub fn stored_count(&self) -> u64 {
        self.stored.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Current number of followers across all jobs.
    pub fn follower_count(&self) -> usize {
        let channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        channels
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }

    fn wake(&self, job_id: &str) {
        let channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = channels.get(job_id) {
            // No receiver is fine: nobody follows this job right now.
            let _ = sender.send(());
        }
    }
}
