//! Every followed job's window, all told: within the log's bound.

use std::sync::atomic::Ordering;

use super::tests::{large, log_with_job, running_job, window_weight};
use super::*;

/// Two followed jobs, each storing far more than the log lets all windows
/// hold: the windows together stay within it (each that grew past it let
/// go of its own oldest events), still hold what fits, and every event of
/// each job is read back once and in order, from the window or the store.
#[tokio::test]
async fn every_window_together_holds_no_more_than_the_log_allows() {
    let (_dir, _log, store) = log_with_job().await;
    let ids = ["j-00000000000000e1", "j-00000000000000e2"];
    store
        .insert_job(&running_job(ids[1]))
        .await
        .expect("insert");
    let bytes = 2 << 20;
    let log = EventLog::with_windows_bytes(Arc::clone(&store), bytes);
    let following: Vec<Following> = ids.iter().map(|id| log.subscribe_following(id)).collect();
    for batch in 0..10 {
        for id in ids {
            log.append(id, large(10, batch)).await.expect("append");
        }
    }
    let held: usize = ids.iter().map(|id| window_weight(&log, id).1).sum();
    assert!(held <= bytes, "{held} bytes held, {bytes} allowed");
    assert!(held > bytes / 2, "{held} bytes held: what fits is kept");
    assert_eq!(log.windows.load(Ordering::Relaxed), held, "counted as held");
    for id in ids {
        let mut seqs = Vec::new();
        loop {
            let after = seqs.last().copied().unwrap_or(0);
            let page = log.events_after(id, after, 1000).await.expect("read");
            if page.is_empty() {
                break;
            }
            seqs.extend(page.iter().map(|event| event.event().seq));
        }
        assert_eq!(seqs, (1..=100).collect::<Vec<u64>>(), "{id}");
    }
    // Followed no more: each window goes at its job's next append.
    drop(following);
    for id in ids {
        log.append(id, large(1, 10)).await.expect("append");
    }
    assert_eq!(log.windows.load(Ordering::Relaxed), 0, "none held");
}

/// A job that filled its window and went quiet gives way to one that
/// prints now: the largest window lets go, not the one that grows.
#[tokio::test]
async fn the_largest_window_gives_way_to_the_job_that_prints_now() {
    let (_dir, _log, store) = log_with_job().await;
    let (quiet, loud) = ("j-00000000000000e1", "j-00000000000000e2");
    store.insert_job(&running_job(loud)).await.expect("insert");
    let bytes = 2 << 20;
    let log = EventLog::with_windows_bytes(Arc::clone(&store), bytes);
    let _following = [quiet, loud].map(|id| log.subscribe_following(id));
    log.append(quiet, large(20, 0)).await.expect("append");
    let filled = window_weight(&log, quiet).1;
    assert!(filled > bytes / 2, "{filled} bytes kept for the first job");
    log.append(loud, large(10, 0)).await.expect("append");
    let (quiet_held, loud_held) = (window_weight(&log, quiet).1, window_weight(&log, loud).1);
    assert!(
        quiet_held < filled,
        "the quiet job's window kept {quiet_held}"
    );
    // Both largest in turn, they end about even (the loud one kept what
    // the quiet one did); had the growing window let go, it would keep
    // what the quiet one left it, an event or two.
    assert!(
        loud_held > bytes / 4,
        "the job printing now keeps {loud_held} bytes, the quiet one {quiet_held}"
    );
    assert!(quiet_held + loud_held <= bytes);
}

/// A window let go while a receiver still only waits on its job (a
/// follower's stream closed, a worker's prompt poll still open) is given
/// back to the log's count.
#[tokio::test]
async fn a_window_let_go_under_a_waiting_receiver_is_given_back() {
    let (_dir, log, _store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let waiting = log.subscribe(id);
    let following = log.subscribe_following(id);
    log.append(id, large(5, 0)).await.expect("append");
    assert!(log.windows.load(Ordering::Relaxed) > 0, "a window is held");
    drop(following);
    log.append(id, large(5, 1)).await.expect("append");
    assert_eq!(log.windows.load(Ordering::Relaxed), 0, "none held");
    drop(waiting);
}
