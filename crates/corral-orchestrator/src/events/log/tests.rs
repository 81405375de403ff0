//! The window against the store, and its bounds.

use corral_proto::EventKind;
use serde_json::json;

use super::*;
use crate::store::SqliteStore;

fn output(n: usize) -> NewEvent {
    NewEvent::new(
        EventKind::Output,
        json!({"stream": "stdout", "text": n.to_string()}),
    )
}

async fn log_with_job() -> (tempfile::TempDir, EventLog, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("events.db")).expect("store"));
    let job = running_job("j-00000000000000e1");
    store.insert_job(&job).await.expect("insert");
    (dir, EventLog::new(Arc::clone(&store)), store)
}

/// A minimal running job (the testkit depends on this crate).
fn running_job(id: &str) -> corral_proto::Job {
    serde_json::from_value(json!({
        "id": id, "mode": "exec", "state": "running", "image": "i",
        "command": "true", "prompt": null, "project": null, "isolation": null,
        "grants": [], "limits": {"memory_bytes": 1, "cpu_shares": 2, "pids": 8,
            "timeout_secs": 1, "tmpfs_bytes": 1},
        "container_id": null, "exit_code": null, "reason": null,
        "created_at": "2026-01-01T00:00:00Z", "started_at": null, "finished_at": null,
    }))
    .expect("job")
}

#[tokio::test]
async fn reads_from_the_window_match_the_store_at_every_point() {
    let (_dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe(id);
    let mut appended = 0;
    while appended < WINDOW + 300 {
        let batch = (appended..appended + 100).map(output).collect();
        log.append(id, batch).await.expect("append");
        appended += 100;
    }
    let end = (WINDOW + 300) as u64;
    for after in [0, 1, 299, 300, 301, 700, end - 101, end - 100, end - 1, end] {
        let logged = log.events_after(id, after, 50).await.expect("log");
        let stored = store.events_after(id, after, 50).await.expect("store");
        let logged: Vec<Event> = logged.iter().map(|event| event.event().clone()).collect();
        assert_eq!(logged, stored, "after {after}");
    }
}

/// The window's weight as kept, and as its events add up.
fn window_weight(log: &EventLog, id: &str) -> (usize, usize, usize) {
    let channels = log.channels.lock().expect("lock");
    let followed = &channels[id];
    let sum = followed.window.iter().map(|event| event.weight()).sum();
    (followed.window.len(), followed.weight, sum)
}

#[tokio::test]
async fn a_window_of_large_events_holds_no_more_than_its_bytes() {
    let (_dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe(id);
    let text = "x".repeat(60 << 10);
    for batch in 0..30 {
        let events = (0..10)
            .map(|n| {
                NewEvent::new(
                    EventKind::Output,
                    json!({"stream": "stdout", "text": format!("{batch}.{n} {text}")}),
                )
            })
            .collect();
        log.append(id, events).await.expect("append");
    }
    let (kept, weight, sum) = window_weight(&log, id);
    assert_eq!(weight, sum, "the weight kept is its events' weight");
    assert!(weight <= WINDOW_BYTES, "{weight} bytes in {kept} events");
    assert!((60..300).contains(&kept), "{kept} events kept");
    // Reads across where the window starts still match the store.
    let first_kept = 300 - kept as u64;
    for after in [0, first_kept - 1, first_kept, first_kept + 1, 299] {
        let logged = log.events_after(id, after, 5).await.expect("log");
        let stored = store.events_after(id, after, 5).await.expect("store");
        let logged: Vec<Event> = logged.iter().map(|event| event.event().clone()).collect();
        assert_eq!(logged, stored, "after {after}");
    }
}

#[tokio::test]
async fn thousands_of_small_events_are_read_from_memory() {
    let (_dir, log, _store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe(id);
    for batch in 0..50 {
        log.append(id, (batch * 100..(batch + 1) * 100).map(output).collect())
            .await
            .expect("append");
    }
    let (kept, weight, _) = window_weight(&log, id);
    assert_eq!(kept, 5000, "{weight} bytes");
    let read = log
        .read_window(id, 0, 10)
        .expect("from the first event on, in memory");
    assert_eq!(read[0].event().seq, 1);
}

#[tokio::test]
async fn a_window_behind_the_latest_append_sends_readers_to_the_store() {
    let (_dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe(id);
    let first = store
        .append_events(id, (0..10).map(output).collect(), None, None)
        .await
        .expect("append");
    let second = store
        .append_events(id, (10..20).map(output).collect(), None, None)
        .await
        .expect("append");
    // The second append's wake-up comes first, then the first's.
    log.keep_and_wake(id, second);
    log.keep_and_wake(id, first);
    let read = log.events_after(id, 10, 100).await.expect("read");
    assert_eq!(read.len(), 10, "events 11..=20 come from the store");
    assert_eq!(read[0].event().seq, 11);
}
