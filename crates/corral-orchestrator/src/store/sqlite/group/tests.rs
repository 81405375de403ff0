use corral_proto::{EventKind, NewEvent};
use serde_json::json;

use crate::store::sqlite::SqliteStore;
use crate::store::{EventRecords, JobRecords};

pub(super) const JOBS: usize = 8;

/// A store holding running jobs `j-0`… (as many as `JOBS`), its WAL empty.
pub(super) async fn store_with_jobs(dir: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("corral.db")).expect("store opens");
    for index in 0..JOBS {
        let job = crate::testing::running_job(&format!("j-{index}"));
        store.insert_job(&job).await.expect("insert");
    }
    wal_frames(&store, "TRUNCATE");
    store
}

/// Checkpoints the WAL in `mode`; the frames it held.
fn wal_frames(store: &SqliteStore, mode: &str) -> i64 {
    let connection = store.connection.lock().expect("the connection");
    connection
        .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            row.get(1)
        })
        .expect("checkpoint")
}

pub(super) fn two_events(index: usize) -> Vec<NewEvent> {
    (0..2)
        .map(|line| {
            NewEvent::new(
                EventKind::Output,
                json!({"stream": "stdout", "text": format!("job {index} line {line}\n")}),
            )
        })
        .collect()
}

/// Appends `j-0`… `j-{count - 1}` (two events each) while the writer
/// waits for the connection, so they queue up; each one's outcome.
async fn appended_while_busy(
    store: &SqliteStore,
    count: usize,
) -> Vec<(
    usize,
    Result<Vec<corral_proto::Event>, crate::store::StoreError>,
)> {
    let ids: Vec<String> = (0..count).map(|index| format!("j-{index}")).collect();
    appended_to_while_busy(store, &ids).await
}

/// [`appended_while_busy`] for jobs `ids`, each by its index in them.
async fn appended_to_while_busy(
    store: &SqliteStore,
    ids: &[String],
) -> Vec<(
    usize,
    Result<Vec<corral_proto::Event>, crate::store::StoreError>,
)> {
    let held = Held::connection(store);
    let mut appends = tokio::task::JoinSet::new();
    for (index, id) in ids.iter().cloned().enumerate() {
        let store = store.clone();
        appends.spawn(async move {
            let stored = store
                .append_events(&id, two_events(job_number(&id)), Some(1), None)
                .await;
            (index, stored)
        });
    }
    // Each task queues its append and waits for the writer.
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    held.release();
    let mut outcomes = Vec::new();
    while let Some(done) = appends.join_next().await {
        outcomes.push(done.expect("joined"));
    }
    outcomes
}

/// The write connection held by another thread, so the writer waits.
pub(super) struct Held {
    release: std::sync::mpsc::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl Held {
    pub(super) fn connection(store: &SqliteStore) -> Self {
        let (locked, is_locked) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let connection = std::sync::Arc::clone(&store.connection);
        let holder = std::thread::spawn(move || {
            let _held = connection.lock().expect("the connection");
            locked.send(()).expect("told");
            let _ = released.recv();
        });
        is_locked.recv().expect("locked");
        Self { release, holder }
    }

    pub(super) fn release(self) {
        self.release.send(()).expect("released");
        self.holder.join().expect("the holder ends");
    }
}

/// The number of test job `id` (`j-3`: 3); 0 for another.
fn job_number(id: &str) -> usize {
    id.strip_prefix("j-")
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}

/// Checks that job `index`'s two events were stored, numbered from 1.
async fn stored_two(store: &SqliteStore, index: usize, stored: &[corral_proto::Event]) {
    let numbered: Vec<u64> = stored.iter().map(|event| event.seq).collect();
    assert_eq!(numbered, [1, 2], "job {index}");
    let text = stored[1].data["text"].as_str().unwrap_or_default();
    assert_eq!(text, format!("job {index} line 1\n"));
    let (read, _) = store
        .events_within(&format!("j-{index}"), 0, 10, 1 << 20)
        .await
        .expect("read back");
    assert_eq!(read.len(), 2, "job {index} stored");
}

/// Appends that wait while the writer is busy are stored in shared
/// transactions: fewer WAL frames than the same appends one by one, each
/// numbered and answered as its own.
#[tokio::test]
async fn appends_that_wait_together_share_a_transaction() {
    let dir = tempfile::tempdir().expect("temp dir");
    let one_by_one = store_with_jobs(&dir.path().join("one-by-one")).await;
    for index in 0..JOBS {
        let id = format!("j-{index}");
        one_by_one
            .append_events(&id, two_events(index), Some(1), None)
            .await
            .expect("stored");
    }
    let alone = wal_frames(&one_by_one, "PASSIVE");

    let store = store_with_jobs(&dir.path().join("together")).await;
    for (index, stored) in appended_while_busy(&store, JOBS).await {
        stored_two(&store, index, &stored.expect("stored")).await;
    }
    let together = wal_frames(&store, "PASSIVE");
    assert!(
        together < alone,
        "{together} WAL frames together, {alone} one by one"
    );
}

/// One append of a group that fails (its job does not exist) fails
/// alone: every other is stored and answered with its events.
#[tokio::test]
async fn an_append_that_fails_among_others_fails_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    // The one past the last names no job.
    for (index, stored) in appended_while_busy(&store, JOBS + 1).await {
        if index == JOBS {
            assert!(stored.is_err(), "an append for no job is refused");
        } else {
            stored_two(&store, index, &stored.expect("stored")).await;
        }
    }
}

/// The sizes of the groups the writer takes from appends of `sizes`
/// bytes of data each, all waiting.
fn groups_of(sizes: &[usize]) -> Vec<usize> {
    let (queue, waiting) = std::sync::mpsc::channel();
    for &size in sizes {
        let (reply, _) = tokio::sync::oneshot::channel();
        queue
            .send(super::Work::Append(super::Append {
                job_id: "j-0".into(),
                events: Vec::new(),
                data: vec!["x".repeat(size)],
                batch: None,
                held: None,
                reply,
            }))
            .expect("queued");
    }
    drop(queue);
    let mut groups = Vec::new();
    while let Ok(super::Work::Append(first)) = waiting.recv() {
        groups.push(super::take_group(first, &waiting).0.len());
    }
    groups
}

/// A group takes no append once it holds 4 MiB of data, nor past 64
/// appends; an append larger than that goes alone.
#[test]
fn a_group_ends_at_its_bytes_or_its_count() {
    const MIB: usize = 1 << 20;
    assert_eq!(groups_of(&[MIB; 10]), [4, 4, 2], "4 MiB a group");
    assert_eq!(
        groups_of(&[MIB - 1; 10]),
        [5, 5],
        "under 4 MiB, one more joins"
    );
    assert_eq!(groups_of(&[10; 150]), [64, 64, 22], "64 a group");
    assert_eq!(groups_of(&[6 * MIB, 10, 10]), [1, 2], "a large one alone");
}

/// An append that panics among others fails alone, its transaction rolled
/// back: the others are stored and answered, and the writer goes on.
#[tokio::test]
async fn an_append_that_panics_among_others_fails_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    let mut ids: Vec<String> = (0..JOBS).map(|index| format!("j-{index}")).collect();
    ids.insert(JOBS / 2, super::PANICS.to_owned());
    for (index, stored) in appended_to_while_busy(&store, &ids).await {
        if ids[index] == super::PANICS {
            assert!(stored.is_err(), "the append that panicked fails");
        } else {
            stored_two(&store, job_number(&ids[index]), &stored.expect("stored")).await;
        }
    }
    let later = store
        .append_events("j-0", two_events(0), Some(2), None)
        .await
        .expect("the writer goes on");
    assert_eq!(later[0].seq, 3);
}

/// A transaction left open on the write connection (a panic, a failed
/// rollback) is undone before another write runs: that write is kept,
/// not run inside it and undone with it by the next append.
#[tokio::test]
async fn a_write_after_an_abandoned_transaction_is_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    store
        .connection
        .lock()
        .expect("the connection")
        .execute_batch("BEGIN IMMEDIATE")
        .expect("a transaction left open");
    store
        .set_token_hash("j-0", "kept-hash")
        .await
        .expect("the write is answered");
    store
        .append_events("j-1", two_events(1), Some(1), None)
        .await
        .expect("stored");
    assert_eq!(
        store.token_hash("j-0").await.expect("read"),
        Some("kept-hash".to_owned())
    );
}

/// A WAL that grew past [`WAL_KEPT_BYTES`](super::super::WAL_KEPT_BYTES)
/// while a reader held an old snapshot is cut back to it once a checkpoint
/// empties it, not kept at its largest on disk.
#[tokio::test]
async fn a_wal_grown_under_a_long_read_is_cut_back_once_checkpointed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    let reader = rusqlite::Connection::open(dir.path().join("corral.db")).expect("a reader");
    reader.execute_batch("BEGIN").expect("begin");
    let _: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .expect("a snapshot held");
    let line = "x".repeat(60_000);
    let kept = usize::try_from(super::super::WAL_KEPT_BYTES).expect("a size");
    let appends = kept * 3 / 2 / line.len();
    for batch in 1..=appends as u64 {
        let event = NewEvent::new(EventKind::Output, json!({"stream": "stdout", "text": line}));
        store
            .append_events("j-0", vec![event], Some(batch), None)
            .await
            .expect("stored");
    }
    let wal = dir.path().join("corral.db-wal");
    let size = || std::fs::metadata(&wal).expect("the WAL").len();
    assert!(size() > kept as u64, "the WAL grew: {} bytes", size());
    reader.execute_batch("COMMIT").expect("the read ends");
    drop(reader);
    wal_frames(&store, "PASSIVE");
    store
        .append_events("j-1", two_events(1), Some(1), None)
        .await
        .expect("stored");
    assert!(size() <= kept as u64, "{} bytes kept", size());
}

/// Another write goes in its turn: after the appends asked before it, and
/// before those asked after it, however many come. (Waiting on the lock,
/// it lost it to the writer's next group.)
#[tokio::test]
async fn another_write_goes_in_its_turn_between_appends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_jobs(dir.path()).await;
    let held = Held::connection(&store);
    let mut tasks = tokio::task::JoinSet::new();
    let append = |index: usize| {
        let store = store.clone();
        async move {
            let id = format!("j-{index}");
            store
                .append_events(&id, two_events(index), Some(1), None)
                .await
                .expect("stored");
            None
        }
    };
    for index in 0..JOBS / 2 {
        tasks.spawn(append(index));
    }
    tokio::task::yield_now().await;
    let counting = store.clone();
    tasks.spawn(async move {
        // The events stored when it runs, by the jobs asked before it.
        let counted = counting
            .call(|connection| {
                Ok(connection.query_row(
                    "SELECT count(*) FILTER (WHERE job_id < 'j-4'), count(*) FROM events",
                    [],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
                )?)
            })
            .await
            .expect("the count");
        Some(counted)
    });
    tokio::task::yield_now().await;
    for index in JOBS / 2..JOBS {
        tasks.spawn(append(index));
    }
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    held.release();
    let mut counted = None;
    while let Some(done) = tasks.join_next().await {
        counted = counted.or(done.expect("joined"));
    }
    // Two events a job, of the half asked before it.
    let before = i64::try_from(JOBS / 2 * 2).expect("a count");
    assert_eq!(
        counted,
        Some((before, before)),
        "(asked before, all) when it ran"
    );
}
