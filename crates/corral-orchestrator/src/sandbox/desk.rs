//! A running sandbox's desk: orders wait here for the worker's long poll,
//! an upload's bytes wait for the worker to fetch them, and a file order's
//! answer comes back here to the user's request that waits for it.
//!
//! The worker is the sandbox's own code as far as the host knows: nothing
//! it sends here is trusted beyond the one request it answers. An answer to
//! an order nobody waits for is dropped; an exec end for an exec not
//! running changes nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use corral_proto::sandbox::order::{ExecOrder, Order};
use tokio::sync::{Notify, oneshot};

use answer::Waiting;
pub use answer::{Awaited, Claim, FileAnswer};
use before::Before;
use tokio_util::sync::CancellationToken;

use super::activity::{Activity, Busy};
use super::stats::SandboxStats;
use crate::redact::Redactor;

/// Why the desk could not take some work.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// As many execs run as the server allows a sandbox.
    #[error("{running} execs already run in this sandbox, the most it may run at once")]
    TooManyExecs {
        /// How many run.
        running: usize,
    },
    /// As many downloads run from this sandbox as it may run at once.
    #[error("{MAX_DOWNLOADS} downloads already run from this sandbox, the most it may run at once")]
    TooManyDownloads,
    /// The worker did not answer a file order in time.
    #[error("the sandbox did not answer within {}s", .0.as_secs())]
    NoAnswer(Duration),
    /// The sandbox ended while its answer was awaited.
    #[error("the sandbox ended before it answered")]
    Closed,
    /// The next exec number was not reserved in the store yet (another
    /// exec took the last one reserved meanwhile): try again.
    #[error("no exec number is reserved for this sandbox yet; try again")]
    NotReserved,
}

/// Downloads from one sandbox at once: each may hold up to twice its
/// tmpfs in the orchestrator's memory until it is handed out.
pub const MAX_DOWNLOADS: usize = 4;

/// One sandbox's desk. Std mutexes: never held across an `.await`.
#[derive(Debug)]
pub struct Desk {
    /// What keeps the sandbox from idling.
    pub activity: Arc<Activity>,
    /// The sandbox's leak detector: what its worker answers passes it.
    pub redactor: Arc<Redactor>,
    /// The server's sandbox counters.
    pub stats: Arc<SandboxStats>,
    orders: Mutex<VecDeque<Order>>,
    order_ready: Notify,
    next_exec: AtomicU64,
    next_order: AtomicU64,
    /// Execs running, each keeping the sandbox busy until its end.
    running: Mutex<HashMap<u64, Busy>>,
    max_execs: usize,
    /// An upload's body streams through as the worker reads it: nothing
    /// holds it whole.
    uploads: Mutex<HashMap<u64, Body>>,
    /// Who waits for each order's answer, and what it takes.
    answers: Mutex<HashMap<u64, Waiting>>,
    /// A permit per download running.
    downloads: Arc<tokio::sync::Semaphore>,
    /// Set while the sandbox is paused: it keeps the sandbox from idling
    /// (a pause is deliberate; its `ttl` still runs).
    paused: Mutex<Option<Busy>>,
    /// Cancelled when its user stops the sandbox (after its snapshot).
    stop: CancellationToken,
    /// Set once a stop began.
    stopping: std::sync::atomic::AtomicBool,
    /// False while a stopped sandbox's files are put back: no exec or
    /// transfer of the user's may come before.
    ready: tokio::sync::watch::Sender<bool>,
    /// Cancelled when the sandbox ends: whoever waits stops waiting.
    closed: CancellationToken,
    /// The highest event sequence number stored for the sandbox that the
    /// desk heard of: an exec queued after reading it has only later events.
    last_seq: AtomicU64,
    /// Execs handed out before this desk that may still run.
    before: Mutex<Before>,
    /// The highest exec number reserved in the store (see `numbers`).
    reserved: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Desk {
    /// A desk whose sandbox may run `max_execs` execs at once; its execs
    /// are numbered on from `execs_before` (a re-adopted sandbox's).
    pub fn new(
        max_execs: usize,
        execs_before: u64,
        redactor: Arc<Redactor>,
        stats: Arc<SandboxStats>,
    ) -> Self {
        Self {
            activity: Arc::new(Activity::default()),
            redactor,
            stats,
            orders: Mutex::new(VecDeque::new()),
            order_ready: Notify::new(),
            next_exec: AtomicU64::new(execs_before),
            before: Mutex::new(Before::new(execs_before, max_execs)),
            reserved: AtomicU64::new(u64::MAX),
            next_order: AtomicU64::new(orders::first_number()),
            running: Mutex::new(HashMap::new()),
            max_execs,
            uploads: Mutex::new(HashMap::new()),
            answers: Mutex::new(HashMap::new()),
            downloads: Arc::new(tokio::sync::Semaphore::new(MAX_DOWNLOADS)),
            paused: Mutex::new(None),
            stop: CancellationToken::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            ready: tokio::sync::watch::channel(true).0,
            closed: CancellationToken::new(),
            last_seq: AtomicU64::new(0),
        }
    }

    /// Queues a command built by `order` from its exec number; returns the
    /// number. Refused when the sandbox runs as many as it may (its own
    /// and those from before a restart that may still run).
    pub fn exec(&self, order: impl FnOnce(u64) -> ExecOrder) -> Result<u64, DeskError> {
        if self.is_closed() {
            return Err(DeskError::Closed);
        }
        // Execs from before a restart that may still run count too.
        let before = lock(&self.before).open_count();
        let exec = {
            let mut running = lock(&self.running);
            if running.len() + before >= self.max_execs {
                return Err(DeskError::TooManyExecs {
                    running: running.len() + before,
                });
            }
            let exec = self.next_exec.load(Ordering::SeqCst) + 1;
            if exec > self.reserved.load(Ordering::SeqCst) {
                return Err(DeskError::NotReserved);
            }
            self.next_exec.store(exec, Ordering::SeqCst);
            running.insert(exec, self.activity.busy());
            exec
        };
        if let Err(closed) = self.push(Order::Exec(order(exec))) {
            lock(&self.running).remove(&exec);
            return Err(closed);
        }
        self.stats.execs.fetch_add(1, Ordering::Relaxed);
        Ok(exec)
    }

    /// Execs running now.
    pub fn execs_running(&self) -> usize {
        lock(&self.running).len()
    }

    /// Whether exec `exec` was handed out and has not ended.
    pub fn is_running(&self, exec: u64) -> bool {
        lock(&self.running).contains_key(&exec)
    }

    /// The last exec number handed out.
    pub fn last_exec(&self) -> u64 {
        self.next_exec.load(Ordering::SeqCst)
    }

    /// The worker said exec `exec` ended; true when it was running (an
    /// exec ends once, and only one the desk handed out). One from before
    /// this desk is no longer open.
    pub fn exec_ended(&self, exec: u64, duration_ms: u64) -> bool {
        lock(&self.before).end(exec);
        let was_running = lock(&self.running).remove(&exec).is_some();
        self.activity.touch();
        if was_running {
            self.stats
                .exec_seconds
                .observe(Duration::from_millis(duration_ms));
        }
        was_running
    }

    /// Hands the worker a file order built by `order` from its number (and
    /// `upload`, its body) and waits up to `timeout` for the answer. The
    /// sandbox counts as busy meanwhile; the answer may have at most
    /// `answer_cap` bytes. An order not taken when the wait ends is dropped.
    pub async fn transfer(
        &self,
        order: impl FnOnce(u64) -> Order,
        upload: Option<Body>,
        answer_cap: usize,
        timeout: Duration,
    ) -> Result<FileAnswer, DeskError> {
        let awaited = Awaited {
            cap: answer_cap,
            scan: false,
        };
        self.transfer_as(order, upload, awaited, timeout).await
    }

    /// Like [`Desk::transfer`] for an answer the leak detector scans as
    /// it arrives (a download): its findings come with it. At most
    /// [`MAX_DOWNLOADS`] at once.
    pub async fn transfer_scanned(
        &self,
        order: impl FnOnce(u64) -> Order,
        answer_cap: usize,
        timeout: Duration,
    ) -> Result<FileAnswer, DeskError> {
        // Held until the answer's bytes are handed out (their HTTP body
        // sent or dropped), not only until they arrived: a client that
        // does not read kept them in memory past the bound.
        let download = Arc::clone(&self.downloads)
            .try_acquire_owned()
            .map_err(|_| DeskError::TooManyDownloads)?;
        let awaited = Awaited {
            cap: answer_cap,
            scan: true,
        };
        let mut answer = self.transfer_as(order, None, awaited, timeout).await?;
        answer.body = std::mem::take(&mut answer.body).held_by(download);
        Ok(answer)
    }

    async fn transfer_as(
        &self,
        order: impl FnOnce(u64) -> Order,
        upload: Option<Body>,
        awaited: Awaited,
        timeout: Duration,
    ) -> Result<FileAnswer, DeskError> {
        let _busy = self.activity.busy();
        let id = self.next_order.fetch_add(1, Ordering::SeqCst) + 1;
        let (sender, receiver) = oneshot::channel();
        // Dropped when this ends: an answer being received stops.
        let (waiting, _gone) = Waiting::new(sender, awaited);
        lock(&self.answers).insert(id, waiting);
        if let Some(upload) = upload {
            lock(&self.uploads).insert(id, upload);
        }
        let _forget = forget::OnDrop(|| {
            lock(&self.answers).remove(&id);
            lock(&self.uploads).remove(&id);
            lock(&self.orders).retain(|order| order.file_id() != Some(id));
        });
        // Refused when closed: the wait below then ends at once.
        let _ = self.push(order(id));
        tokio::select! {
            answer = tokio::time::timeout(timeout, receiver) => match answer {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(_)) => Err(DeskError::Closed),
                Err(_) => Err(DeskError::NoAnswer(timeout)),
            },
            () = self.closed.cancelled() => Err(DeskError::Closed),
        }
    }

    /// Holds the user's work back until [`Desk::set_ready`]: the sandbox's
    /// files are being put back.
    pub fn set_restoring(&self) {
        self.ready.send_replace(false);
    }

    /// Lets the user's work through.
    pub fn set_ready(&self) {
        self.ready.send_replace(true);
    }

    /// Whether the user's work may go through.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Whether the sandbox is paused.
    pub fn is_paused(&self) -> bool {
        lock(&self.paused).is_some()
    }

    /// Marks the sandbox paused or not.
    pub fn set_paused(&self, paused: bool) {
        *lock(&self.paused) = paused.then(|| self.activity.busy());
    }

    /// Ends the desk: file transfers that wait stop with [`DeskError::Closed`]
    /// and no exec is taken any more.
    /// Orders not yet taken are dropped, their execs no longer running.
    pub fn close(&self) {
        let mut orders = lock(&self.orders);
        self.closed.cancel();
        for order in orders.drain(..) {
            if let Order::Exec(exec) = order {
                lock(&self.running).remove(&exec.exec);
            }
        }
        drop(orders);
        lock(&self.uploads).clear();
    }

    /// Whether [`Desk::close`] was called: the sandbox ends.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Queues `order` for the worker, unless the desk is closed (checked
    /// under the queue's lock, so nothing slips in after `close`).
    fn push(&self, order: Order) -> Result<(), DeskError> {
        let mut orders = lock(&self.orders);
        if self.is_closed() {
            return Err(DeskError::Closed);
        }
        orders.push_back(order);
        drop(orders);
        self.order_ready.notify_one();
        Ok(())
    }

    /// The next order for the worker, waiting up to `wait` for one.
    pub async fn next_order(&self, wait: Duration) -> Option<Order> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let ready = self.order_ready.notified();
            if self.is_closed() {
                return None;
            }
            if let Some(order) = lock(&self.orders).pop_front() {
                return Some(order);
            }
            tokio::select! {
                () = ready => {}
                () = tokio::time::sleep_until(deadline) => return None,
            }
        }
    }

    /// The body of upload `id`, once: the worker reads it.
    pub fn take_upload(&self, id: u64) -> Option<Body> {
        lock(&self.uploads).remove(&id)
    }

    /// The worker's answer to order `id`; false when nobody waits for it.
    pub fn answer(&self, id: u64, answer: FileAnswer) -> bool {
        match lock(&self.answers).remove(&id) {
            Some(waiting) => waiting.answer.send(answer).is_ok(),
            None => false,
        }
    }

    /// The right to receive the answer to order `id`, when someone waits
    /// for it and no other answer to it is being received.
    pub fn claim(&self, id: u64) -> Option<Claim> {
        lock(&self.answers).get(&id)?.claim()
    }

    /// Notes that events up to `seq` are stored.
    pub fn note_seq(&self, seq: u64) {
        self.last_seq.fetch_max(seq, Ordering::SeqCst);
    }

    /// The highest stored sequence number noted.
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::SeqCst)
    }
}

mod answer;
mod before;
mod forget;
mod numbers;
mod orders;
mod stopping;
#[cfg(test)]
mod tests;
