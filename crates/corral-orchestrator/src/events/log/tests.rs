//! The window against the store, and its bounds.

use corral_proto::EventKind;
use serde_json::json;

use super::super::window::{PAGE_BYTES, WINDOW, WINDOW_BYTES};
use super::*;
use crate::events::Step;

fn output(n: usize) -> NewEvent {
    NewEvent::new(
        EventKind::Output,
        json!({"stream": "stdout", "text": n.to_string()}),
    )
}

pub(super) async fn log_with_job() -> (tempfile::TempDir, EventLog, Arc<dyn Store>) {
    let (dir, store) = crate::testing::store_with_job("j-00000000000000e1").await;
    let store: Arc<dyn Store> = store;
    (dir, EventLog::new(Arc::clone(&store)), store)
}

pub(super) use crate::testing::running_job;

#[tokio::test]
async fn reads_from_the_window_match_the_store_at_every_point() {
    let (_dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe_following(id);
    let mut appended = 0;
    while appended < WINDOW + 300 {
        let batch = (appended..appended + 100).map(output).collect();
        log.append(id, batch).await.expect("append");
        appended += 100;
    }
    assert_eq!(
        window_weight(&log, id).0,
        WINDOW,
        "no more events than the count"
    );
    let end = (WINDOW + 300) as u64;
    for after in [0, 1, 299, 300, 301, 700, end - 101, end - 100, end - 1, end] {
        let logged = log.events_after(id, after, 50).await.expect("log");
        let stored = store.events_after(id, after, 50).await.expect("store");
        let logged: Vec<Event> = logged.iter().map(|event| event.event().clone()).collect();
        assert_eq!(logged, stored, "after {after}");
    }
}

/// The window's weight as kept, and as its events add up.
pub(super) fn window_weight(log: &EventLog, id: &str) -> (usize, usize, usize) {
    let channels = log.channels.lock().expect("lock");
    channels[id].window.weights()
}

/// Output events of 60 KiB of text each, `count` of them.
pub(super) fn large(count: usize, batch: usize) -> Vec<NewEvent> {
    let text = "x".repeat(60 << 10);
    (0..count)
        .map(|n| {
            NewEvent::new(
                EventKind::Output,
                json!({"stream": "stdout", "text": format!("{batch}.{n} {text}")}),
            )
        })
        .collect()
}

/// A followed job that stored `batches` batches of ten [`large`] events.
async fn followed_with_large(
    batches: usize,
) -> (tempfile::TempDir, EventLog, Arc<dyn Store>, Following) {
    let (dir, log, store) = log_with_job().await;
    let follower = log.subscribe_following("j-00000000000000e1");
    for batch in 0..batches {
        log.append("j-00000000000000e1", large(10, batch))
            .await
            .expect("append");
    }
    (dir, log, store, follower)
}

#[tokio::test]
async fn a_window_of_large_events_holds_no_more_than_its_bytes() {
    let (_dir, log, store, _follower) = followed_with_large(30).await;
    let id = "j-00000000000000e1";
    let (kept, weight, sum) = window_weight(&log, id);
    assert_eq!(weight, sum, "the weight kept is its events' weight");
    assert!(weight <= WINDOW_BYTES, "{weight} bytes in {kept} events");
    assert!((60..300).contains(&kept), "{kept} events kept");
    // The latest from memory, those before the window from the store.
    let first_kept = 300 - kept as u64;
    assert!(log.read_window(id, first_kept, 1).is_some());
    assert!(log.read_window(id, first_kept - 1, 1).is_none());
    // Reads across where the window starts still match the store.
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
    let _follower = log.subscribe_following(id);
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
    let _follower = log.subscribe_following(id);
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
    let (kept, weight, sum) = window_weight(&log, id);
    assert_eq!(
        (kept, weight),
        (10, sum),
        "restarted at the gap, weighed anew"
    );
}

#[tokio::test]
async fn a_page_of_large_events_holds_about_its_bytes_from_memory_and_the_store() {
    let (_dir, log, _store, _follower) = followed_with_large(20).await;
    let id = "j-00000000000000e1";
    let stored = log.events_after(id, 0, 1000).await.expect("from the store");
    let in_memory = log.events_after(id, 199 - 20, 1000).await.expect("memory");
    assert!(log.read_window(id, 199 - 20, 1000).is_some());
    for page in [stored, in_memory] {
        let bytes: usize = page.iter().map(|event| event.json().len()).sum();
        // Counted as stored (the data), sent with its envelope.
        let bound = PAGE_BYTES + (64 << 10);
        assert!(
            !page.is_empty() && bytes <= bound,
            "{bytes} in {}",
            page.len()
        );
        assert!(page.len() < 20, "{} events", page.len());
    }
    // One event however large: a page is never empty while more follow.
    let (one, highest) = log.store().events_within(id, 0, 10, 1).await.expect("one");
    assert_eq!(one.len(), 1);
    assert!(highest > one[0].seq, "{highest}: more follow");
}

#[tokio::test]
async fn a_window_nobody_follows_any_more_is_let_go() {
    let (_dir, log, _store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let held = |log: &EventLog| log.channels.lock().expect("lock").contains_key(id);
    // A follower that read, then left (a stream the client closed).
    let mut follower = log.follow(id, 0, std::time::Duration::from_mins(1));
    log.append(id, large(5, 0)).await.expect("append");
    assert!(matches!(follower.next().await, Some(Step::Events(_))));
    log.append(id, large(5, 1)).await.expect("append");
    assert!(held(&log));
    drop(follower);
    assert!(!held(&log), "the last follower's window stayed");
    // Followed once and gone: the next append lets go of the window.
    let wake = log.subscribe_following(id);
    log.append(id, large(5, 2)).await.expect("append");
    assert!(held(&log));
    drop(wake);
    log.append(id, large(5, 3)).await.expect("append");
    assert!(!held(&log), "a window nobody follows is kept");
    // A follower that comes later reads everything, once and in order,
    // from the store.
    let mut late = log.follow(id, 0, std::time::Duration::from_mins(1));
    let mut seqs = Vec::new();
    while seqs.len() < 20 {
        let Some(Step::Events(page)) = late.next().await else {
            panic!("no events after {seqs:?}");
        };
        seqs.extend(page.iter().map(|event| event.event().seq));
    }
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_page_cut_short_never_makes_the_window_look_latest() {
    let (_dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let heavy = |n: usize| {
        vec![NewEvent::new(
            EventKind::Output,
            json!({"stream": "stdout", "text": format!("{n} {}", "x".repeat(800 << 10))}),
        )]
    };
    let first = store
        .append_events(id, heavy(1), None, None)
        .await
        .expect("append");
    let second = store
        .append_events(id, heavy(2), None, None)
        .await
        .expect("append");
    // The second append's wake-up comes while nobody follows...
    log.keep_and_wake(id, second);
    // ...a follower comes, and its first page (from the store) is cut
    // after the first event...
    let _follower = log.subscribe_following(id);
    let page = log.events_after(id, 0, 1000).await.expect("read");
    assert_eq!(page.len(), 1, "cut at its bytes");
    // ...then the first append's wake-up fills the window with it.
    log.keep_and_wake(id, first);
    let next = log.events_after(id, 1, 1000).await.expect("read");
    assert_eq!(
        next.first().map(|event| event.event().seq),
        Some(2),
        "the second event, from the store"
    );
}

#[tokio::test]
async fn a_page_tells_the_highest_stored_whether_cut_at_its_limit_or_bytes() {
    let (_dir, _log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let text = NewEvent::new(
        EventKind::Output,
        json!({"stream": "stdout", "text": "x".repeat(100)}),
    );
    store
        .append_events(id, vec![text; 4], None, None)
        .await
        .expect("append");
    let seqs = |events: &[Event]| events.iter().map(|event| event.seq).collect::<Vec<_>>();
    for (after, limit, bytes, expected) in [
        (0, 2, usize::MAX, vec![1, 2]),
        (2, 2, usize::MAX, vec![3, 4]),
        (0, 10, 300, vec![1, 2]),
        (4, 10, 300, vec![]),
    ] {
        let (events, highest) = store
            .events_within(id, after, limit, bytes)
            .await
            .expect("read");
        assert_eq!((seqs(&events), highest), (expected, 4), "after {after}");
    }
}

/// Stores seqs 1 and 2; the wake-up of 2 comes while nobody watches (it
/// leaves no trace), and 1's is held back: (log, 1's stored events).
async fn a_late_wake_up_after_an_unseen_one() -> (tempfile::TempDir, EventLog, Vec<Event>) {
    let (dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let first = store
        .append_events(id, vec![output(1)], None, None)
        .await
        .expect("append");
    let second = store
        .append_events(id, vec![output(2)], None, None)
        .await
        .expect("append");
    log.keep_and_wake(id, second);
    (dir, log, first)
}

/// helper-57's case: a follower reads all from the store (no cut), then an
/// older append's late wake-up starts the window at 1: a reader at 1 must
/// not be told 1 is the latest while 2 is stored.
#[tokio::test]
async fn a_fresh_window_does_not_pass_for_the_latest_after_a_whole_page() {
    let (_dir, log, first) = a_late_wake_up_after_an_unseen_one().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe_following(id);
    assert_eq!(log.events_after(id, 0, 1000).await.expect("read").len(), 2);
    log.keep_and_wake(id, first);
    let next = log.events_after(id, 1, 1000).await.expect("read");
    assert_eq!(next.first().map(|event| event.event().seq), Some(2));
}

/// The same, with the late wake-up before the follower's first read: the
/// window serves 1, and must not then say 1 is the latest.
#[tokio::test]
async fn a_window_filled_before_any_store_read_does_not_pass_for_the_latest() {
    let (_dir, log, first) = a_late_wake_up_after_an_unseen_one().await;
    let id = "j-00000000000000e1";
    let _follower = log.subscribe_following(id);
    log.keep_and_wake(id, first);
    let page = log.events_after(id, 0, 1000).await.expect("read");
    assert_eq!(page.first().map(|event| event.event().seq), Some(1));
    let next = log.events_after(id, 1, 1000).await.expect("read");
    assert_eq!(next.first().map(|event| event.event().seq), Some(2));
}

/// helper-58's case: a follower's first page from the store is cut (here
/// at its limit) inside a late batch: it must still learn the job's
/// highest, so that the window's last does not pass for the latest.
#[tokio::test]
async fn a_cut_page_still_tells_the_window_the_highest_stored() {
    let (_dir, log, store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let mut stored = Vec::new();
    for n in 1..=3 {
        stored.push(
            store
                .append_events(id, vec![output(n)], None, None)
                .await
                .expect("append"),
        );
    }
    log.keep_and_wake(id, stored.pop().expect("third"));
    let _follower = log.subscribe_following(id);
    log.keep_and_wake(id, stored.pop().expect("second"));
    assert_eq!(log.events_after(id, 0, 1).await.expect("read").len(), 1);
    let page = log.events_after(id, 1, 1000).await.expect("read");
    assert_eq!(page.first().map(|event| event.event().seq), Some(2));
    let next = log.events_after(id, 2, 1000).await.expect("read");
    assert_eq!(next.first().map(|event| event.event().seq), Some(3));
}
