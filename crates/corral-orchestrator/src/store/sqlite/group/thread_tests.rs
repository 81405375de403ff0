//! The writer thread as the rest of the store sees it: reads do not wait
//! for it, and the last store dropped waits for it.

use std::time::Duration;

use super::tests::{Held, store_with_jobs, two_events};
use crate::store::{AgentRecords, EventRecords, JobRecords};

/// A read runs on a read-only connection while the writer is busy: it
/// does not wait in the writer's queue behind appends and other writes.
#[tokio::test]
async fn reads_do_not_wait_for_the_writer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    let held = Held::connection(&store);
    let queued = store.clone();
    let mut appending = tokio::task::JoinSet::new();
    appending.spawn(async move {
        queued
            .append_events("j-0", two_events(0), Some(1), None)
            .await
    });
    let read = async {
        let job = store.get_job("j-1").await.expect("read");
        let prompts = store.prompts_after("j-1", 0).await.expect("read");
        let token = store.token_hash("j-1").await.expect("read");
        (job.is_some(), prompts.len(), token)
    };
    let read = tokio::time::timeout(Duration::from_secs(5), read).await;
    held.release();
    let stored = appending.join_next().await.expect("the append");
    stored.expect("joined").expect("stored");
    assert_eq!(
        read.expect("the reads answered while the writer waited"),
        (true, 0, None)
    );
}

/// Dropping the last clone of a store waits for its writer: what was
/// asked is written and the connection closed, its WAL checkpointed into
/// the database and removed, before the drop returns.
#[tokio::test]
async fn the_last_store_dropped_waits_for_its_writer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    store
        .append_events("j-0", two_events(0), Some(1), None)
        .await
        .expect("stored");
    let clone = store.clone();
    drop(store);
    assert!(
        dir.path().join("corral.db-wal").exists(),
        "a clone still holds it"
    );
    drop(clone);
    assert!(
        !dir.path().join("corral.db-wal").exists(),
        "the WAL is gone with the last connection"
    );
}

/// An event's time is when the writer stored it, not when it was asked
/// for: appends queued behind a busy writer (here, a held connection) get
/// the time they are stored, so times never go back as sequence numbers
/// go up, whichever append was asked for first.
#[tokio::test]
async fn an_event_s_time_is_when_it_was_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store_with_jobs(dir.path()).await;
    let held = Held::connection(&store);
    let mut appends = tokio::task::JoinSet::new();
    for index in 0..4 {
        let store = store.clone();
        appends.spawn(async move {
            store
                .append_events("j-0", two_events(index), None, None)
                .await
        });
    }
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    let released = time::OffsetDateTime::now_utc();
    held.release();
    while let Some(done) = appends.join_next().await {
        done.expect("joined").expect("stored");
    }
    let (events, _) = store
        .events_within("j-0", 0, 100, 1 << 20)
        .await
        .expect("events");
    assert_eq!(events.len(), 8);
    // Stored times keep milliseconds.
    let floor = released - time::Duration::milliseconds(1);
    for pair in events.windows(2) {
        assert!(pair[0].ts <= pair[1].ts, "{pair:?}");
    }
    for event in &events {
        assert!(
            event.ts >= floor,
            "stored at {}, released at {released}",
            event.ts
        );
    }
}
