//! Event ingest and fan-out: one job's events appended in worker-sized
//! batches through the event log (store, then wake) while 100 followers read
//! them the way the SSE handler does (woken, then reading on from their last
//! sequence number: from the log's in-memory window, or the store when they
//! fall behind it). Figures: events stored per second, and events delivered
//! per second across all followers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_orchestrator::events::EventLog;
use corral_orchestrator::store::{SqliteStore, Store};
use corral_proto::{EventKind, NewEvent};
use serde_json::json;
use tokio::task::JoinSet;

/// Followers of the job.
pub const FOLLOWERS: usize = 100;
/// Events appended.
pub const EVENTS: u64 = 50_000;
/// Events per appended batch (the worker ships what piled up).
const BATCH: u64 = 100;
/// Events a follower reads per store query (the SSE handler's page).
const PAGE: u32 = 1000;

/// What the run measured.
pub struct FanoutFigures {
    pub ingest: Duration,
    pub all_delivered: Duration,
}

pub async fn measure() -> anyhow::Result<FanoutFigures> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("fanout.db"))?);
    let job = corral_testkit::running_job("j-00000000fan0ut00");
    store.insert_job(&job).await?;
    let log = EventLog::new(store.clone());
    let mut followers = JoinSet::new();
    for _ in 0..FOLLOWERS {
        let mut wake = log.subscribe(&job.id);
        let log = log.clone();
        let id = job.id.clone();
        followers.spawn(async move {
            let mut seen = 0;
            while seen < EVENTS {
                let page = log.events_after(&id, seen, PAGE).await?;
                match page.last() {
                    Some(last) => seen = last.seq,
                    None => {
                        let _ = tokio::time::timeout(Duration::from_millis(50), wake.recv()).await;
                    }
                }
            }
            anyhow::Ok(())
        });
    }
    let started = Instant::now();
    let mut appended = 0;
    while appended < EVENTS {
        let batch = (0..BATCH)
            .map(|n| {
                NewEvent::new(
                    EventKind::Output,
                    json!({"stream": "stdout", "text": format!("line {}\n", appended + n)}),
                )
            })
            .collect();
        log.append(&job.id, batch).await?;
        appended += BATCH;
    }
    let ingest = started.elapsed();
    while let Some(done) = followers.join_next().await {
        done??;
    }
    Ok(FanoutFigures {
        ingest,
        all_delivered: started.elapsed(),
    })
}
