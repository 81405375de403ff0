//! Appends stored together (group commit). Many jobs post their events at
//! once; each append in a transaction of its own would write its pages to
//! the WAL and take a thread of the blocking pool, which then waits on the
//! connection's lock. Instead, one writer thread takes the appends that
//! wait, up to [`MOST_TOGETHER`], and stores them in one transaction: each
//! is answered once that transaction committed, as it was once its own did.
//!
//! One append's failure stays its own: when anything in a group fails (or
//! the commit does), the group is rolled back and each append is stored
//! alone, as before, and answered with its own outcome.
//!
//! Every other write (a job's state, its token, a secret) goes through the
//! same thread, alone and in its turn: first in, first out. Waiting on the
//! connection's lock instead, it could lose it to the writer's next group
//! again and again while jobs flood their events.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use corral_proto::{Event, NewEvent};

use rusqlite::params;

use super::rows::{from_millis, highest_seq, millis};
use rusqlite::Connection;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// Most appends in one transaction: a bound on how long the first waits
/// for the commit of those taken after it.
const MOST_TOGETHER: usize = 64;
/// No append joins a group past this many bytes of events: one
/// transaction writes about this much at most (and one append more), as
/// the WAL cannot be checkpointed while it lasts.
const MOST_BYTES_TOGETHER: usize = 4 << 20;

/// One job's events to append, and where its outcome goes.
pub(super) struct Append {
    pub(super) job_id: String,
    pub(super) events: Vec<NewEvent>,
    /// Each event's data, as JSON.
    pub(super) data: Vec<String>,
    pub(super) batch: Option<u64>,
    pub(super) held: Option<String>,
    pub(super) reply: oneshot::Sender<Result<Vec<Event>, StoreError>>,
}

impl Append {
    /// The bytes of its events' data.
    fn bytes(&self) -> usize {
        self.data.iter().map(String::len).sum()
    }
}

/// What the writer thread is given.
pub(super) enum Work {
    /// Events to append, with the appends waiting beside them.
    Append(Append),
    /// Any other write, run alone; it answers its caller itself.
    Call(Box<dyn FnOnce(&mut Connection) + Send>),
}

/// The queue to the writer thread, shared by every clone of a store.
#[derive(Clone)]
pub(super) struct Writer {
    thread: Arc<Thread>,
}

/// The writer thread and its queue. The last store dropped closes the
/// queue and waits for the thread: what was asked is written and the
/// connection closed (its WAL checkpointed) before the drop returns, as
/// when each write held the connection itself.
struct Thread {
    queue: Option<mpsc::Sender<Work>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Thread {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Writer {
    /// Starts the writer thread over `connection`, the one that writes.
    pub(super) fn start(connection: Arc<Mutex<Connection>>) -> std::io::Result<Self> {
        let (queue, waiting) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("corral-store-writer".into())
            .spawn(move || write(&connection, &waiting))?;
        Ok(Self {
            thread: Arc::new(Thread {
                queue: Some(queue),
                handle: Some(handle),
            }),
        })
    }

    /// Queues the work `work` makes of where its answer goes, and waits
    /// for that answer.
    async fn ask<T>(
        &self,
        work: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Work,
    ) -> Result<T, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.thread
            .queue
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(work(reply))
            .map_err(|_| StoreError::WriterGone)?;
        outcome.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Stores `append` with whatever others wait; its events as stored.
    pub(super) async fn append(
        &self,
        append: impl FnOnce(oneshot::Sender<Result<Vec<Event>, StoreError>>) -> Append,
    ) -> Result<Vec<Event>, StoreError> {
        self.ask(|reply| Work::Append(append(reply))).await
    }

    /// Runs `work` on the write connection in its turn; what it gave.
    pub(super) async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.ask(|reply| {
            Work::Call(Box::new(move |connection: &mut Connection| {
                let _ = reply.send(work(connection));
            }))
        })
        .await
    }
}

/// The writer thread: takes the work that waits, in order, and runs it.
/// The connection's lock is held from a transaction's begin to its commit
/// or rollback, a panic's included: no other write ever runs inside one.
fn write(connection: &Mutex<Connection>, waiting: &mpsc::Receiver<Work>) {
    let mut next = None;
    let mut clock = Clock::default();
    while let Some(work) = next.take().or_else(|| waiting.recv().ok()) {
        let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
        // A panic drops the answers left (that work fails), never the
        // thread: every later write would fail too.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match work {
            Work::Append(first) => {
                let (group, after) = take_group(first, waiting);
                next = after;
                store_group(&mut connection, group, clock.now());
            }
            Work::Call(run) => {
                // Each transaction ends under one hold of the lock: one
                // still open was abandoned (a failed rollback). Undone first,
                // or this write would run inside it and be undone with it;
                // while it cannot be, the write fails (its answer dropped).
                rollback(&connection);
                if connection.is_autocommit() {
                    run(&mut connection);
                }
            }
        }));
        if done.is_err() {
            rollback(&connection);
        }
    }
}

/// `first` and the appends waiting after it, up to [`MOST_TOGETHER`] and
/// while fewer than [`MOST_BYTES_TOGETHER`] bytes are taken; and other
/// work taken meanwhile, which comes next.
fn take_group(first: Append, waiting: &mpsc::Receiver<Work>) -> (Vec<Append>, Option<Work>) {
    let mut bytes = first.bytes();
    let mut group = vec![first];
    while group.len() < MOST_TOGETHER && bytes < MOST_BYTES_TOGETHER {
        match waiting.try_recv() {
            Ok(Work::Append(next)) => {
                bytes += next.bytes();
                group.push(next);
            }
            Ok(call) => return (group, Some(call)),
            Err(_) => break,
        }
    }
    (group, None)
}

/// The longest step back of the wall clock the writer's times hide.
const MOST_HIDDEN_STEP: i64 = 1000;

/// When the writer stores: never earlier than what it stored before when
/// the wall clock steps back a little (an adjustment), so events' times
/// follow their order; a larger step back (a clock set right after a jump
/// ahead) is followed, or every time would stay at the jump's.
#[derive(Default)]
struct Clock {
    last: i64,
}

impl Clock {
    /// Now, in milliseconds, and as read back.
    fn now(&mut self) -> (i64, OffsetDateTime) {
        let wall = millis(OffsetDateTime::now_utc());
        self.last = if wall < self.last && self.last - wall <= MOST_HIDDEN_STEP {
            self.last
        } else {
            wall
        };
        let ts = from_millis("ts", self.last).unwrap_or_else(|_| OffsetDateTime::now_utc());
        (self.last, ts)
    }
}

/// Stores `group` in one transaction at time `now`; or, when any of it
/// fails (or panics), each alone: a panic storing one fails that one only.
fn store_group(connection: &mut Connection, group: Vec<Append>, now: (i64, OffsetDateTime)) {
    let (millis, ts) = now;
    if group.len() > 1
        && let Ok(before) = guarded(connection, &group, millis)
    {
        for (append, before) in group.into_iter().zip(before) {
            let stored = stored_events(&append.job_id, ts, before, append.events);
            let _ = append.reply.send(Ok(stored));
        }
        return;
    }
    for append in group {
        let stored = guarded(connection, std::slice::from_ref(&append), millis)
            .map(|before| stored_events(&append.job_id, ts, before[0], append.events));
        let _ = append.reply.send(stored);
    }
}

/// [`together`], a panic in it rolled back and failed.
fn guarded(connection: &Connection, group: &[Append], now: i64) -> Result<Vec<u64>, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        together(connection, group, now)
    }))
    .unwrap_or_else(|_| {
        rollback(connection);
        Err(StoreError::WriterGone)
    })
}

/// Every append of `group` in one transaction at `now`, committed (or
/// none, rolled back); the sequence number before each one's first event.
fn together(connection: &Connection, group: &[Append], now: i64) -> Result<Vec<u64>, StoreError> {
    let before = begin(connection).and_then(|()| {
        let before = group
            .iter()
            .map(|append| rows(connection, append, now))
            .collect::<Result<Vec<_>, _>>()?;
        connection.prepare_cached("COMMIT")?.execute([])?;
        Ok(before)
    });
    if before.is_err() {
        rollback(connection);
    }
    before
}

/// Begins a transaction, undoing one a panic left open.
fn begin(connection: &Connection) -> Result<(), StoreError> {
    if !connection.is_autocommit() {
        connection.execute_batch("ROLLBACK")?;
    }
    // Immediate: the write lock is taken (or waited for) at once, so
    // another writer of the file makes this wait, never fail midway.
    connection.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    Ok(())
}

/// Undoes the open transaction, if any. The error that led here is the
/// one to report; a failed rollback leaves the transaction to the next
/// `begin`, which undoes it.
fn rollback(connection: &Connection) {
    if !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
}

/// The job whose appends panic, in tests of what a panic breaks.
#[cfg(test)]
const PANICS: &str = "j-panics";

/// Inserts `append`'s rows in the open transaction, stored at `now`.
fn rows(connection: &Connection, append: &Append, now: i64) -> Result<u64, StoreError> {
    #[cfg(test)]
    assert_ne!(append.job_id, PANICS, "a test's panic while storing");
    append_rows(
        connection,
        &append.job_id,
        now,
        &append.events,
        &append.data,
        append.batch,
        append.held.as_deref(),
    )
}

/// Inserts `events` after the job's last, inside the caller's transaction,
/// and records `batch` with the last sequence number and `held` (JSON), in
/// one update of the job's row. Returns the sequence number before the
/// first (see [`stored_events`]).
fn append_rows(
    connection: &rusqlite::Connection,
    job_id: &str,
    now: i64,
    events: &[NewEvent],
    data: &[String],
    batch: Option<u64>,
    held: Option<&str>,
) -> Result<u64, StoreError> {
    let before = highest_seq(connection, job_id)?;
    let mut seq = before;
    let mut insert = connection.prepare_cached(
        "INSERT INTO events (job_id, seq, ts, kind, data, redacted) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (event, data) in events.iter().zip(data) {
        seq += 1;
        insert.execute(params![
            job_id,
            seq,
            now,
            event.kind.as_str(),
            data,
            event.redacted,
        ])?;
    }
    match (batch, held) {
        (Some(batch), Some(held)) => connection
            .prepare_cached(
                "UPDATE jobs SET last_batch = ?2, last_batch_seq = ?3, held_streams = ?4 \
                 WHERE id = ?1",
            )?
            .execute(params![job_id, batch, seq, held])?,
        (Some(batch), None) => connection
            .prepare_cached("UPDATE jobs SET last_batch = ?2, last_batch_seq = ?3 WHERE id = ?1")?
            .execute(params![job_id, batch, seq])?,
        (None, Some(held)) => connection
            .prepare_cached("UPDATE jobs SET held_streams = ?2 WHERE id = ?1")?
            .execute(params![job_id, held])?,
        (None, None) => 0,
    };
    Ok(before)
}

/// `events` as stored for `job_id` at `ts`, numbered on from `before`.
fn stored_events(
    job_id: &str,
    ts: OffsetDateTime,
    before: u64,
    events: Vec<NewEvent>,
) -> Vec<Event> {
    (before + 1..)
        .zip(events)
        .map(|(seq, event)| Event {
            job_id: job_id.to_owned(),
            seq,
            ts,
            kind: event.kind,
            data: event.data,
            redacted: event.redacted,
        })
        .collect()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod thread_tests;
