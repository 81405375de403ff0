//! A file order's answer: what the worker sent, who waits for it, and the
//! claim of the one answer being received for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use corral_proto::sandbox::order::OrderFailure;
use tokio::sync::oneshot;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::sandbox::chunks::{Chunks, Scanned};

/// A file order's answer, as the worker sent it.
#[derive(Debug)]
pub struct FileAnswer {
    /// Set when the order could not be done.
    pub failure: Option<OrderFailure>,
    /// What a read's bytes are: `file` or `tar`.
    pub content: Option<String>,
    /// The bytes (a read), or JSON (a listing).
    pub body: Chunks,
    /// For an order sent with `Desk::transfer_scanned`, what the leak
    /// detector found in `body` (not set for a failure).
    pub scanned: Option<Scanned>,
}

/// What the answer to an order must be: at most `cap` bytes, and scanned
/// as it arrives when `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Awaited {
    /// The most bytes the answer may have.
    pub cap: usize,
    /// Whether the leak detector scans its bytes.
    pub scan: bool,
}

/// Who waits for an order's answer, and what it takes.
#[derive(Debug)]
pub(super) struct Waiting {
    pub(super) answer: oneshot::Sender<FileAnswer>,
    awaited: Awaited,
    /// An answer is being received: one at a time, so a worker holds no
    /// more receivers (and scans) than requests wait.
    claimed: Arc<AtomicBool>,
    /// Cancelled when the waiting request ends, however it ends.
    gone: CancellationToken,
}

impl Waiting {
    /// A wait for `answer`, and the guard that ends it when dropped.
    pub(super) fn new(answer: oneshot::Sender<FileAnswer>, awaited: Awaited) -> (Self, DropGuard) {
        let gone = CancellationToken::new();
        let guard = gone.clone().drop_guard();
        let waiting = Self {
            answer,
            awaited,
            claimed: Arc::new(AtomicBool::new(false)),
            gone,
        };
        (waiting, guard)
    }

    /// The right to receive an answer, unless one is being received.
    pub(super) fn claim(&self) -> Option<Claim> {
        if self.claimed.swap(true, Ordering::SeqCst) {
            return None;
        }
        Some(Claim {
            awaited: self.awaited,
            claimed: Arc::clone(&self.claimed),
            gone: self.gone.clone(),
        })
    }
}

/// The one answer to an order being received; dropped, another may be.
#[derive(Debug)]
pub struct Claim {
    /// What the answer must be.
    pub awaited: Awaited,
    claimed: Arc<AtomicBool>,
    gone: CancellationToken,
}

impl Claim {
    /// Returns once the request waiting for the answer ended (its timeout,
    /// the sandbox's end, or its client gone): then nobody needs the rest.
    pub async fn waiter_gone(&self) {
        self.gone.cancelled().await;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.claimed.store(false, Ordering::SeqCst);
    }
}
