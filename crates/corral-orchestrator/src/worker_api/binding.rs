//! What a job socket serves: the token its worker presents and, once one is
//! bound, the job ([`ServedJob`]). A cold job's socket is bound before its
//! container starts; a warm-pool container's socket waits for a job, its
//! worker holding `GET /v1/job` open until one is bound.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::served::ServedJob;
use crate::token::TokenHash;

/// How long `GET /v1/job` is held open on a socket no job is bound to yet;
/// the worker asks again after a `204`.
pub(super) const JOB_HOLD: Duration = Duration::from_secs(25);

/// A socket's binding: the token its worker presents and the job bound to it.
pub(crate) struct SocketBinding {
    /// Only the token's hash is kept: the token itself is in the file until
    /// the worker's first call, and in the worker's memory.
    pub(super) token: TokenHash,
    pub(super) token_file: PathBuf,
    /// Set once the token file is gone, so it is deleted exactly once.
    pub(super) token_consumed: AtomicBool,
    /// The job's session, once bound; bound once, never rebound.
    session: watch::Sender<Option<Arc<ServedJob>>>,
    /// Set when the worker first asks for its job: its container runs.
    asked: watch::Sender<bool>,
    /// Cancelled when the socket closes: held requests end.
    closed: CancellationToken,
}

impl SocketBinding {
    pub(super) fn new(token: TokenHash, token_file: PathBuf, token_consumed: bool) -> Self {
        Self {
            token,
            token_file,
            token_consumed: AtomicBool::new(token_consumed),
            session: watch::channel(None).0,
            asked: watch::channel(token_consumed).0,
            closed: CancellationToken::new(),
        }
    }

    /// The bound session, if any.
    pub(super) fn session(&self) -> Option<Arc<ServedJob>> {
        self.session.borrow().clone()
    }

    /// Binds `session`; false (and nothing changed) when one was bound already.
    pub(super) fn bind(&self, session: Arc<ServedJob>) -> bool {
        self.session.send_if_modified(|binding| {
            if binding.is_some() {
                return false;
            }
            *binding = Some(session);
            true
        })
    }

    /// Records that the worker asked for its job.
    pub(super) fn mark_asked(&self) {
        self.asked
            .send_if_modified(|asked| !std::mem::replace(asked, true));
    }

    /// Waits until the worker has asked for its job (its container is up),
    /// for at most `limit`; true when it has.
    pub(super) async fn until_asked(&self, limit: Duration) -> bool {
        let mut asked = self.asked.subscribe();
        tokio::select! {
            waited = tokio::time::timeout(limit, asked.wait_for(|asked| *asked)) => {
                matches!(waited, Ok(Ok(_)))
            }
            () = self.closed.cancelled() => false,
        }
    }

    /// Waits up to `limit` for a job to be bound; `None` when none was (or
    /// the socket closed first).
    pub(super) async fn until_bound(&self, limit: Duration) -> Option<Arc<ServedJob>> {
        let mut bound = self.session.subscribe();
        tokio::select! {
            waited = tokio::time::timeout(limit, bound.wait_for(Option::is_some)) => {
                waited.ok()?.ok()?.clone()
            }
            () = self.closed.cancelled() => None,
        }
    }

    /// Ends every held request; the socket is closing.
    pub(super) fn close(&self) {
        self.closed.cancel();
    }

    /// Whether the socket is closing.
    pub(super) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Whether the token file was used.
    pub(super) fn consume_token(&self) -> bool {
        !self.token_consumed.swap(true, Ordering::SeqCst)
    }
}
