//! Receivers that only wait to be woken: no window, and no entry left
//! behind once the last of them goes.

use super::tests::{large, log_with_job, window_weight};
use super::*;
use crate::events::Step;

/// A receiver that only waits to be woken (a prompt's long poll, a
/// sandbox waiting for an exec's end) is woken by every append but keeps
/// no events in memory; a follower that comes makes the window, and takes
/// it along when it leaves, while the waiting receiver is still woken.
#[tokio::test]
async fn a_receiver_that_only_waits_keeps_no_window() {
    let (_dir, log, _store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let mut waiting = log.subscribe(id);
    log.append(id, large(5, 0)).await.expect("append");
    waiting.try_recv().expect("woken");
    assert_eq!(window_weight(&log, id).0, 0, "no events kept for a waiter");
    let mut follower = log.follow(id, 0, std::time::Duration::from_mins(1));
    let Some(Step::Events(page)) = follower.next().await else {
        panic!("no events");
    };
    assert_eq!(page.len(), 5, "what came before, from the store");
    log.append(id, large(5, 1)).await.expect("append");
    waiting.try_recv().expect("woken");
    assert_eq!(window_weight(&log, id).0, 5, "the follower's window");
    let Some(Step::Events(page)) = follower.next().await else {
        panic!("no events");
    };
    let seqs: Vec<u64> = page.iter().map(|event| event.event().seq).collect();
    assert_eq!(
        seqs,
        (6..=10).collect::<Vec<_>>(),
        "from the window, in order"
    );
    drop(follower);
    assert_eq!(window_weight(&log, id).0, 0, "went with its last follower");
    log.append(id, large(5, 2)).await.expect("append");
    waiting.try_recv().expect("still woken");
    assert_eq!(
        window_weight(&log, id).0,
        0,
        "none made again for the waiter"
    );
    drop(waiting);
    log.append(id, large(5, 3)).await.expect("append");
    assert!(
        !log.channels.lock().expect("lock").contains_key(id),
        "nobody watches: the channel goes"
    );
}

/// A receiver that only waits, on a job that gets no more appends (one
/// that ended: its channel was closed), takes the job's entry along when
/// it is the last to go; an entry someone else still watches stays.
#[tokio::test]
async fn the_last_waiter_on_a_job_with_no_more_appends_lets_its_entry_go() {
    let (_dir, log, _store) = log_with_job().await;
    let id = "j-00000000000000e1";
    let held = |log: &EventLog| log.channels.lock().expect("lock").contains_key(id);
    log.append(id, large(1, 0)).await.expect("append");
    log.close(id);
    let first = log.subscribe(id);
    let second = log.subscribe(id);
    assert!(held(&log));
    drop(first);
    assert!(held(&log), "another still waits");
    drop(second);
    assert!(!held(&log), "nobody waits, and the entry stayed");
    let following = log.subscribe_following(id);
    drop(log.subscribe(id));
    assert!(held(&log), "a follower still follows");
    drop(following);
    log.append(id, large(1, 1)).await.expect("append");
    assert!(!held(&log));
}
