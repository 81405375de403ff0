use super::*;
use crate::sandbox::Chunks;
use corral_proto::CommandSpec;

pub(super) fn order(exec: u64) -> ExecOrder {
    ExecOrder {
        exec,
        cmd: CommandSpec::Shell("true".into()),
        cwd: "/workspace".into(),
        env: std::collections::BTreeMap::new(),
        stdin_base64: None,
        timeout_secs: 5,
    }
}

#[tokio::test]
async fn execs_past_the_bound_are_refused_until_one_ends() {
    let desk = Desk::new(2, 0, Arc::default(), Arc::default());
    assert_eq!(desk.exec(order).expect("first"), 1);
    assert_eq!(desk.exec(order).expect("second"), 2);
    assert!(matches!(
        desk.exec(order),
        Err(DeskError::TooManyExecs { running: 2 })
    ));
    // An end for an exec that is not running frees nothing.
    assert!(!desk.exec_ended(7, 1));
    assert!(desk.exec(order).is_err());
    assert!(desk.exec_ended(1, 1));
    assert!(!desk.exec_ended(1, 1), "an exec ends once");
    assert_eq!(desk.exec(order).expect("third"), 3);
    assert_eq!(desk.stats.execs.load(Ordering::Relaxed), 3);
    assert_eq!(
        desk.stats.exec_seconds.snapshot().count,
        1,
        "one exec ended once"
    );
    let Some(Order::Exec(first)) = desk.next_order(Duration::ZERO).await else {
        panic!("the first order");
    };
    assert_eq!(first.exec, 1);
}

#[tokio::test]
async fn a_closed_desk_takes_no_exec() {
    let desk = Desk::new(2, 0, Arc::default(), Arc::default());
    assert_eq!(desk.exec(order).expect("open"), 1);
    assert!(!desk.is_closed());
    desk.close();
    assert!(desk.is_closed());
    assert!(matches!(desk.exec(order), Err(DeskError::Closed)));
    // The exec queued before is never handed out, nor counted as running.
    assert_eq!(desk.execs_running(), 0);
    assert!(desk.next_order(Duration::ZERO).await.is_none());
    let transfer = desk.transfer(|id| Order::Exec(order(id)), None, 1, Duration::from_secs(5));
    assert!(matches!(transfer.await, Err(DeskError::Closed)));
    assert!(desk.next_order(Duration::ZERO).await.is_none());
}

#[tokio::test]
async fn a_transfer_gets_the_answer_to_its_own_order_only() {
    let desk = Arc::new(Desk::new(1, 0, Arc::default(), Arc::default()));
    let mut tasks = tokio::task::JoinSet::new();
    {
        let desk = Arc::clone(&desk);
        tasks.spawn(async move {
            desk.transfer(
                |id| Order::List {
                    id,
                    path: "/tmp".into(),
                },
                Some(axum::body::Body::from(bytes::Bytes::from_static(b"up"))),
                1 << 10,
                Duration::from_secs(5),
            )
            .await
        });
    }
    let Some(Order::List { id, .. }) = desk.next_order(Duration::from_secs(5)).await else {
        panic!("a list order");
    };
    let upload = desk.take_upload(id).expect("the upload");
    let bytes = axum::body::to_bytes(upload, 1 << 10)
        .await
        .expect("its bytes");
    assert_eq!(&bytes[..], b"up");
    assert!(
        desk.take_upload(id).is_none(),
        "an upload is handed out once"
    );
    let answer = |body: &'static [u8]| FileAnswer {
        failure: None,
        content: None,
        body: Chunks::from(bytes::Bytes::from_static(body)),
        scanned: None,
    };
    assert!(!desk.answer(id + 1, answer(b"wrong")));
    assert!(desk.answer(id, answer(b"[]")));
    let got = tasks
        .join_next()
        .await
        .expect("a task")
        .expect("joined")
        .expect("answered");
    assert_eq!(&got.body.to_bytes()[..], b"[]");
    assert!(!desk.answer(id, answer(b"again")), "answered once");
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_transfer_times_out() {
    let desk = Desk::new(1, 0, Arc::default(), Arc::default());
    let result = desk
        .transfer(
            |id| Order::List {
                id,
                path: "/tmp".into(),
            },
            None,
            1 << 10,
            Duration::from_secs(3),
        )
        .await;
    assert!(matches!(result, Err(DeskError::NoAnswer(_))));
    assert_eq!(desk.activity.in_flight(), 0);
}

#[tokio::test]
async fn one_answer_at_a_time_is_received_and_a_dropped_request_stops_it_and_is_forgotten() {
    let desk = Arc::new(Desk::new(1, 0, Arc::default(), Arc::default()));
    let mut waiter = tokio::task::JoinSet::new();
    {
        let desk = Arc::clone(&desk);
        waiter.spawn(async move {
            desk.transfer_scanned(
                |id| Order::List {
                    id,
                    path: "/tmp".into(),
                },
                1 << 10,
                Duration::from_mins(1),
            )
            .await
        });
    }
    let Some(Order::List { id, .. }) = desk.next_order(Duration::from_secs(5)).await else {
        panic!("a list order");
    };
    let claim = desk.claim(id).expect("claimed");
    assert!(claim.awaited.scan);
    assert!(
        desk.claim(id).is_none(),
        "a second answer at once is refused"
    );
    drop(claim);
    let claim = desk.claim(id).expect("after a refused answer, another one");
    // The user's request goes away mid-wait: the answer being received
    // learns it, and the order is forgotten.
    waiter.abort_all();
    let _ = waiter.join_next().await;
    tokio::time::timeout(Duration::from_secs(5), claim.waiter_gone())
        .await
        .expect("the claim hears its waiter is gone");
    drop(claim);
    assert!(desk.claim(id).is_none(), "no answer to a forgotten order");
}

#[tokio::test]
async fn at_most_max_downloads_wait_at_once() {
    let desk = Arc::new(Desk::new(1, 0, Arc::default(), Arc::default()));
    let download = |desk: Arc<Desk>, wait: Duration| async move {
        desk.transfer_scanned(
            |id| Order::List {
                id,
                path: "/tmp".into(),
            },
            1 << 10,
            wait,
        )
        .await
    };
    let mut waiting = tokio::task::JoinSet::new();
    for _ in 0..MAX_DOWNLOADS {
        waiting.spawn(download(Arc::clone(&desk), Duration::from_mins(1)));
    }
    for _ in 0..MAX_DOWNLOADS {
        assert!(desk.next_order(Duration::from_secs(5)).await.is_some());
    }
    let refused = download(Arc::clone(&desk), Duration::from_mins(1)).await;
    assert!(
        matches!(refused, Err(DeskError::TooManyDownloads)),
        "{refused:?}"
    );
    // One ends: the next is taken (and waits for its answer).
    waiting.abort_all();
    while waiting.join_next().await.is_some() {}
    let taken = download(Arc::clone(&desk), Duration::from_millis(50)).await;
    assert!(matches!(taken, Err(DeskError::NoAnswer(_))), "{taken:?}");
}

/// A sandbox re-adopted after a restart gets a new desk, while its worker
/// may still answer an order of the desk before (a restore's upload whose
/// fetch the killed server cut off). That late answer is not taken for
/// the new desk's order: it would fail the restore and stop the sandbox.
#[tokio::test]
async fn a_new_desk_takes_no_answer_to_an_order_of_the_desk_before() {
    let list = |id| Order::List {
        id,
        path: "/workspace".into(),
    };
    let answer = |body: &'static [u8]| FileAnswer {
        failure: None,
        content: None,
        body: Chunks::from(bytes::Bytes::from_static(body)),
        scanned: None,
    };
    let mut orders = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let desk = Arc::new(Desk::new(1, 0, Arc::default(), Arc::default()));
        let waiting = Arc::clone(&desk);
        tasks.spawn(async move {
            waiting
                .transfer(list, None, 1 << 10, Duration::from_secs(5))
                .await
        });
        let Some(Order::List { id, .. }) = desk.next_order(Duration::from_secs(5)).await else {
            panic!("a list order");
        };
        orders.push((desk, id));
    }
    let (before, late) = (&orders[0].0, orders[0].1);
    let (desk, own) = (&orders[1].0, orders[1].1);
    assert!(
        !desk.answer(late, answer(b"late")),
        "the desk before's order {late} taken by the new desk"
    );
    assert!(desk.answer(own, answer(b"[]")));
    assert!(before.answer(late, answer(b"[]")));
    while let Some(done) = tasks.join_next().await {
        let got = done.expect("joined").expect("answered");
        assert_eq!(&got.body.to_bytes()[..], b"[]");
    }
}

/// A re-adopted sandbox's execs from before the restart that may still
/// run keep it busy (its idle timer does not end it under them) and count
/// among those it may run at once, until their end.
#[test]
fn execs_from_before_keep_the_sandbox_busy_and_count_until_they_end() {
    let desk = Desk::new(2, 10, Arc::default(), Arc::default());
    assert!(desk.open_before(9));
    assert!(desk.open_before(10));
    assert_eq!(desk.activity.in_flight(), 2);
    assert!(desk.activity.idle_since().is_none(), "busy");
    assert!(matches!(
        desk.exec(order),
        Err(DeskError::TooManyExecs { running: 2 })
    ));
    desk.exec_ended(9, 1);
    assert_eq!(desk.exec(order).expect("one slot free"), 11);
    desk.exec_ended(10, 1);
    desk.exec_ended(11, 1);
    assert_eq!(desk.activity.in_flight(), 0);
    assert!(desk.activity.idle_since().is_some(), "idle once all ended");
}
