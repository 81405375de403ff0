use corral_proto::{CommandSpec, EventKind, Job, JobMode, JobState, Limits, NewEvent};
use serde_json::json;

use super::SqliteStore;
use crate::store::{AgentRecords, EventRecords, Finish, JobRecords};

fn job(id: &str) -> Job {
    Job {
        command: Some(CommandSpec::Argv(vec!["echo".into(), "hi".into()])),
        ..Job::queued(
            id.to_owned(),
            JobMode::Exec,
            "img".into(),
            Limits {
                memory_bytes: 1 << 28,
                cpu_shares: 512,
                pids: 64,
                timeout_secs: 30,
                tmpfs_bytes: 1 << 26,
                max_llm_calls: 10,
                max_tokens: 1000,
                max_iterations: 5,
                idle_timeout_secs: 60,
            },
        )
    }
}

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("corral.db")).expect("store opens");
    (dir, store)
}

#[tokio::test]
async fn a_job_round_trips_and_survives_reopening() {
    let (dir, store) = open();
    let original = job("j-1");
    store.insert_job(&original).await.expect("insert");
    drop(store);
    let store = SqliteStore::open(&dir.path().join("corral.db")).expect("reopen");
    let loaded = store
        .get_job("j-1")
        .await
        .expect("get")
        .expect("job exists");
    assert_eq!(loaded.command, original.command);
    assert_eq!(loaded.limits, original.limits);
    assert_eq!(loaded.state, JobState::Queued);
    assert!(store.get_job("j-2").await.expect("get").is_none());
}

#[tokio::test]
async fn the_queue_is_first_in_first_out() {
    let (_dir, store) = open();
    for id in ["j-a", "j-b", "j-c"] {
        store.insert_job(&job(id)).await.expect("insert");
    }
    let first = store
        .claim_next_queued()
        .await
        .expect("claim")
        .expect("a job");
    let second = store
        .claim_next_queued()
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!((first.id.as_str(), second.id.as_str()), ("j-a", "j-b"));
    assert_eq!(first.state, JobState::Starting);
}

#[tokio::test]
async fn a_finished_job_cannot_be_finished_again() {
    let (_dir, store) = open();
    store.insert_job(&job("j-1")).await.expect("insert");
    let cancelled = Finish {
        state: JobState::Cancelled,
        exit_code: None,
        reason: Some("cancelled by user".into()),
    };
    assert!(
        store
            .finish("j-1", &cancelled, Some(JobState::Queued))
            .await
            .expect("finish")
    );
    let succeeded = Finish {
        state: JobState::Succeeded,
        exit_code: Some(0),
        reason: None,
    };
    assert!(!store.finish("j-1", &succeeded, None).await.expect("finish"));
    let loaded = store.get_job("j-1").await.expect("get").expect("job");
    assert_eq!(loaded.state, JobState::Cancelled);
    assert!(loaded.finished_at.is_some());
}

#[tokio::test]
async fn events_are_numbered_densely_per_job() {
    let (_dir, store) = open();
    store.insert_job(&job("j-1")).await.expect("insert");
    store.insert_job(&job("j-2")).await.expect("insert");
    let output =
        |text: &str| NewEvent::new(EventKind::Output, json!({"stream": "stdout", "text": text}));
    assert_eq!(
        store
            .append_events("j-1", vec![output("a"), output("b")], None, None)
            .await
            .expect("append")
            .iter()
            .map(|event| event.seq)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        store
            .append_events("j-2", vec![output("x")], Some(1), None)
            .await
            .expect("append")[0]
            .seq,
        1
    );
    assert_eq!(
        store
            .append_events("j-1", vec![output("c")], Some(4), None)
            .await
            .expect("append")[0]
            .seq,
        3
    );
    assert_eq!(
        store.last_batch("j-1").await.expect("batch"),
        Some((4, 3)),
        "batch 4 ended at seq 3"
    );
    assert_eq!(store.last_batch("j-2").await.expect("batch"), Some((1, 1)));
    let events = store.events_after("j-1", 1, 10).await.expect("read");
    let seqs: Vec<u64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(events[1].data["text"], "c");
    let appended = store
        .append_events("j-1", vec![output("d")], None, None)
        .await
        .expect("append");
    let read = store.events_after("j-1", 3, 10).await.expect("read");
    assert_eq!(appended, read, "what append answers is what a reader reads");
}

#[tokio::test]
async fn held_streams_are_written_with_their_append_and_kept_until_given_again() {
    let (_dir, store) = open();
    store.insert_job(&job("j-1")).await.expect("insert");
    let output = NewEvent::new(EventKind::Output, json!({"stream": "stdout", "text": "a"}));
    assert_eq!(store.held_streams("j-1").await.expect("read"), Vec::new());
    // Both in one update of the row; either alone leaves the other be.
    for (seq, batch, held, expected) in [
        (1, Some(1), Some(vec![None, Some(3)]), vec![None, Some(3)]),
        (2, Some(2), None, vec![None, Some(3)]),
        (3, Some(3), Some(Vec::new()), Vec::new()),
        (4, None, Some(vec![Some(7)]), vec![Some(7)]),
        (5, None, None, vec![Some(7)]),
    ] {
        store
            .append_events("j-1", vec![output.clone()], batch, held)
            .await
            .expect("append");
        assert_eq!(store.held_streams("j-1").await.expect("read"), expected);
        let last = batch.map_or((3, 3), |batch| (batch, seq));
        let read = store.last_batch("j-1").await.expect("batch");
        assert_eq!(read, Some(last), "after append {seq}");
    }
}

#[tokio::test]
async fn open_execs_are_those_started_and_not_ended_up_to_the_last_the_highest_first() {
    let (_dir, store) = open();
    store.insert_job(&job("j-1")).await.expect("insert");
    store.insert_job(&job("j-2")).await.expect("insert");
    let event = |kind, exec: serde_json::Value| {
        NewEvent::new(kind, json!({"exec": exec, "cmd": "true", "cwd": "/"}))
    };
    let events = vec![
        event(EventKind::ExecStarted, json!(3)),
        event(EventKind::ExecStarted, json!(5)),
        event(EventKind::ExecStarted, json!(5)),
        event(EventKind::ExecStarted, json!(8)),
        event(EventKind::ExecStarted, json!(9)),
        event(EventKind::ExecEnded, json!(8)),
        event(EventKind::ExecStarted, json!(0)),
        event(EventKind::ExecStarted, json!(-4)),
        event(EventKind::ExecStarted, json!("6")),
        event(EventKind::ExecStarted, json!(7.5)),
        // Past the last this desk handed out, and past what SQLite reads
        // as an integer (2^63): neither is one of its execs, and neither
        // fills the limit ahead of them.
        event(EventKind::ExecStarted, json!(40)),
        event(EventKind::ExecStarted, json!(9_223_372_036_854_775_808_u64)),
        event(EventKind::ExecStarted, json!(u64::MAX)),
        event(EventKind::Output, json!(4)),
    ];
    store
        .append_events("j-1", events, None, None)
        .await
        .expect("append");
    // Another job's end ends nothing of this one's.
    store
        .append_events(
            "j-2",
            vec![event(EventKind::ExecEnded, json!(9))],
            None,
            None,
        )
        .await
        .expect("append");
    let open = |numbers, limit| store.open_execs("j-1", numbers, limit);
    assert_eq!(open(0..=20, 10).await.expect("read"), [9, 5, 3]);
    assert_eq!(open(0..=20, 2).await.expect("read"), [9, 5]);
    assert_eq!(open(0..=u64::MAX, 2).await.expect("read"), [40, 9]);
    assert_eq!(open(0..=8, 10).await.expect("read"), [5, 3]);
    assert_eq!(open(4..=20, 10).await.expect("read"), [9, 5], "from 4 on");
    // The highest started, ended or not, integers only: 2^63 reads as a real.
    assert_eq!(store.highest_started_exec("j-1").await.expect("read"), 40);
    assert_eq!(store.highest_started_exec("j-2").await.expect("read"), 0);
    assert_eq!(
        store.open_execs("j-2", 0..=20, 10).await.expect("read"),
        Vec::<u64>::new()
    );
}

#[tokio::test]
async fn exec_numbers_are_reserved_never_fewer_and_kept_across_a_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corral.db");
    let store = SqliteStore::open(&path).expect("store opens");
    store.insert_job(&job("j-1")).await.expect("insert");
    assert_eq!(store.exec_numbers("j-1").await.expect("read"), (0, 0));
    store.set_execs_from("j-1", 257).await.expect("from");
    store.reserve_execs("j-1", 512).await.expect("reserve");
    store.reserve_execs("j-1", 300).await.expect("reserve less");
    drop(store);
    let store = SqliteStore::open(&path).expect("store opens again");
    assert_eq!(store.exec_numbers("j-1").await.expect("read"), (257, 512));
    assert_eq!(store.exec_numbers("j-none").await.expect("read"), (0, 0));
}

#[tokio::test]
async fn jobs_are_found_by_the_start_of_their_id_and_only_by_it() {
    let (_dir, store) = open();
    for id in ["j-00aa", "j-00ab", "j-01aa", "j-%_aa"] {
        store.insert_job(&job(id)).await.expect("insert");
    }
    let ids = |jobs: Vec<Job>| jobs.into_iter().map(|job| job.id).collect::<Vec<_>>();
    let found = store.jobs_with_id_prefix("j-00", 10).await.expect("prefix");
    assert_eq!(ids(found), ["j-00ab", "j-00aa"], "newest first");
    let found = store.jobs_with_id_prefix("j-01", 10).await.expect("prefix");
    assert_eq!(ids(found), ["j-01aa"]);
    let found = store
        .jobs_with_id_prefix("j-%", 10)
        .await
        .expect("no wildcard");
    assert_eq!(ids(found), ["j-%_aa"], "% is a character, not a wildcard");
    let found = store.jobs_with_id_prefix("j-", 2).await.expect("limit");
    assert_eq!(found.len(), 2);
}

#[tokio::test]
async fn stored_times_load_as_the_wire_shape_whatever_precision_they_were_written_with() {
    let (_dir, store) = open();
    // Rows store Unix milliseconds; a time written before the wire shape
    // changed (nanoseconds, any fraction) loads and is written with three
    // fraction digits.
    let created = time::macros::datetime!(2026-12-01 17:47:10.123_456_789 UTC);
    store
        .insert_job(&Job {
            created_at: created,
            ..job("j-old")
        })
        .await
        .expect("insert");
    let loaded = store.get_job("j-old").await.expect("get").expect("stored");
    let json = serde_json::to_value(&loaded).expect("JSON");
    assert_eq!(json["created_at"], "2026-12-01T17:47:10.123Z");
    let back: Job = serde_json::from_value(json).expect("read back");
    assert_eq!(back.created_at, loaded.created_at);
}

#[tokio::test]
async fn a_claude_job_s_continuations_are_found_oldest_first_and_only_they() {
    let (_dir, store) = open();
    let claude = |id: &str, continues: Option<&str>| Job {
        mode: JobMode::Claude,
        claude: Some(corral_proto::ClaudeSettings {
            allowed_tools: Vec::new(),
            disallowed_tools: Vec::new(),
            max_turns: 5,
            continues: continues.map(str::to_owned),
        }),
        ..job(id)
    };
    for added in [
        claude("j-a", None),
        claude("j-b", Some("j-a")),
        claude("j-c", Some("j-other")),
        claude("j-d", Some("j-a")),
        job("j-e"),
    ] {
        store.insert_job(&added).await.expect("insert");
    }
    let found: Vec<String> = store
        .continuations("j-a", 10)
        .await
        .expect("continuations")
        .into_iter()
        .map(|found| found.id)
        .collect();
    assert_eq!(found, ["j-b", "j-d"]);
    assert!(
        store
            .continuations("j-e", 10)
            .await
            .expect("none")
            .is_empty()
    );
}

#[tokio::test]
async fn a_waiting_mark_needs_a_running_interactive_job_with_nothing_unseen_and_ends_with_it() {
    let (_dir, store) = open();
    let interactive = Job {
        interactive: true,
        ..job("j-w")
    };
    store.insert_job(&interactive).await.expect("insert");
    store.insert_job(&job("j-x")).await.expect("insert");
    assert!(
        !store.mark_waiting("j-w", 0).await.expect("queued"),
        "not running"
    );
    for _ in 0..2 {
        let claimed = store
            .claim_next_queued()
            .await
            .expect("claim")
            .expect("a job");
        store.mark_running(&claimed.id).await.expect("running");
    }
    assert!(
        !store.mark_waiting("j-x", 0).await.expect("x"),
        "not interactive"
    );
    assert_eq!(
        store
            .add_prompt("j-w", "more", false)
            .await
            .expect("prompt"),
        Some(1)
    );
    assert!(
        !store.mark_waiting("j-w", 0).await.expect("unseen"),
        "prompt 1 is unseen"
    );
    assert!(store.mark_waiting("j-w", 1).await.expect("set"));
    assert!(!store.mark_waiting("j-w", 1).await.expect("again"), "once");
    assert!(
        store
            .get_job("j-w")
            .await
            .expect("get")
            .expect("job")
            .waiting_since
            .is_some()
    );
    assert_eq!(
        store.add_prompt("j-w", "", true).await.expect("end"),
        Some(2)
    );
    assert_eq!(
        store.add_prompt("j-w", "late", false).await.expect("late"),
        None,
        "nothing is queued behind the end"
    );
    let finish = Finish {
        state: JobState::Succeeded,
        exit_code: Some(0),
        reason: None,
    };
    store.finish("j-w", &finish, None).await.expect("finish");
    assert_eq!(
        store
            .get_job("j-w")
            .await
            .expect("get")
            .expect("job")
            .waiting_since,
        None
    );
}
