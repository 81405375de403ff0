//! An upload's body: counted on its way to the worker, cut off past the
//! sandbox's limit or once its request is over, and what the client still
//! sends after a refusal read and dropped (within bounds) before the answer.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Most bytes of a refused upload read (and dropped) before its answer.
const MOST_DRAINED: u64 = 64 << 20;
/// Longest a refused upload is read before its answer.
const DRAIN_WAIT: Duration = Duration::from_secs(30);

/// A request's body, shared by the [`Upload`] that reads it and the
/// answer that, when the upload is refused, reads what is left of it.
#[derive(Clone)]
pub struct Incoming {
    source: Arc<Mutex<Source>>,
    /// Whether the body was ever read: only then was a client that waits
    /// to be asked (`Expect: 100-continue`) asked for it.
    asked: Arc<AtomicBool>,
}

/// The body, and whether the drain took it over: the upload's stream
/// (which a transfer may still poll) then fails rather than read a chunk
/// the drain is owed or take the wake-up the drain waits for.
struct Source {
    data: BodyDataStream,
    drained: bool,
}

impl Incoming {
    /// `body`, not read yet.
    pub fn new(body: Body) -> Self {
        Self {
            source: Arc::new(Mutex::new(Source {
                data: body.into_data_stream(),
                drained: false,
            })),
            asked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The body as an upload cut off with an error past `limit` bytes.
    pub fn upload(&self, limit: u64) -> Upload {
        Upload::new(Body::from_stream(self.clone()), limit)
    }

    /// Reads and drops what is left of the body, up to [`MOST_DRAINED`]
    /// bytes and [`DRAIN_WAIT`], unless the client `waits` to be asked for
    /// it and never was, or `declared` more than that. A client that
    /// writes its whole body before it reads (Python's httpx) saw the
    /// connection reset under it, not the answer, when the answer closed
    /// the connection with the body unread. Past the bounds it still does.
    pub async fn drain(self, waits: bool, declared: Option<u64>) {
        let asked = self.asked.load(Ordering::Acquire);
        if (waits && !asked) || declared.is_some_and(|size| size > MOST_DRAINED) {
            return;
        }
        self.lock().drained = true;
        let mut read = 0_u64;
        let _ = tokio::time::timeout(DRAIN_WAIT, async {
            while let Some(Ok(chunk)) =
                std::future::poll_fn(|cx| self.lock().data.poll_next_unpin(cx)).await
            {
                read += chunk.len() as u64;
                if read > MOST_DRAINED {
                    break;
                }
            }
        })
        .await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Source> {
        self.source.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Stream for Incoming {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.asked.store(true, Ordering::Release);
        let mut source = self.lock();
        if source.drained {
            return Poll::Ready(Some(Err(axum::Error::new("the upload was refused"))));
        }
        source.data.poll_next_unpin(cx)
    }
}

/// An upload's body on its way to the worker, never held whole: it counts
/// what passes and fails the stream past `limit` bytes, so a body without
/// a length (or with a false one) cannot write more than the sandbox takes.
/// Once the request that brought it is over (answered, timed out), the
/// stream fails too: the worker then drops its half-written file rather
/// than renaming it into place after the user was told it failed.
pub struct Upload {
    pub(super) body: Body,
    pub(super) passed: Arc<AtomicU64>,
    pub(super) over: Arc<AtomicBool>,
    pub(super) done: CancellationToken,
}

impl Upload {
    /// `body`, cut off with an error past `limit` bytes.
    pub fn new(body: Body, limit: u64) -> Self {
        let passed = Arc::new(AtomicU64::new(0));
        let over = Arc::new(AtomicBool::new(false));
        let done = CancellationToken::new();
        let (counted, flagged) = (Arc::clone(&passed), Arc::clone(&over));
        let data = body.into_data_stream().map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            let total =
                counted.fetch_add(chunk.len() as u64, Ordering::AcqRel) + chunk.len() as u64;
            if total > limit {
                flagged.store(true, Ordering::Release);
                return Err(std::io::Error::other(
                    "the upload is larger than limits.tmpfs",
                ));
            }
            Ok(chunk)
        });
        let stream = UntilDone {
            data: Box::pin(data),
            done: Box::pin(done.clone().cancelled_owned()),
            ended: false,
        };
        Self {
            body: Body::from_stream(stream),
            passed,
            over,
            done,
        }
    }
}

/// A body stream that fails once its request is over, unless it ended first.
struct UntilDone {
    data: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    done: Pin<Box<WaitForCancellationFutureOwned>>,
    ended: bool,
}

impl Stream for UntilDone {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.done.as_mut().poll(cx).is_ready() {
            self.ended = true;
            return Poll::Ready(Some(Err(std::io::Error::other(
                "the upload's request is over",
            ))));
        }
        let next = self.data.as_mut().poll_next(cx);
        if matches!(next, Poll::Ready(None | Some(Err(_)))) {
            self.ended = true;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use bytes::Bytes;
    use futures_util::StreamExt;

    use super::{Incoming, Upload};

    fn chunks(parts: &[&'static str], then_wait: bool) -> Body {
        let items = futures_util::stream::iter(
            parts
                .iter()
                .map(|part| Ok::<_, std::io::Error>(Bytes::from_static(part.as_bytes())))
                .collect::<Vec<_>>(),
        );
        if then_wait {
            Body::from_stream(items.chain(futures_util::stream::pending()))
        } else {
            Body::from_stream(items)
        }
    }

    #[tokio::test]
    async fn an_upload_fails_once_its_request_is_over_unless_it_ended_first() {
        let stalled = Upload::new(chunks(&["ab"], true), 10);
        let done = stalled.done.clone();
        let mut data = stalled.body.into_data_stream();
        assert_eq!(
            &data.next().await.expect("a chunk").expect("data")[..],
            b"ab"
        );
        done.cancel();
        let after = tokio::time::timeout(std::time::Duration::from_secs(5), data.next())
            .await
            .expect("the stream ends at once, not when the client sends more");
        assert!(after.expect("an item").is_err(), "a failure, not an end");
        assert!(data.next().await.is_none());

        let whole = Upload::new(chunks(&["ab", "cd"], false), 10);
        let done = whole.done.clone();
        let mut data = whole.body.into_data_stream();
        assert!(data.next().await.expect("a chunk").is_ok());
        assert!(data.next().await.expect("a chunk").is_ok());
        assert!(data.next().await.is_none());
        done.cancel();
        assert!(data.next().await.is_none(), "an ended upload stays ended");
    }

    #[tokio::test]
    async fn an_upload_past_its_limit_fails_and_says_so() {
        let upload = Upload::new(chunks(&["abcd", "efgh", "ijkl"], false), 10);
        let (over, passed) = (upload.over.clone(), upload.passed.clone());
        let mut data = upload.body.into_data_stream();
        assert!(data.next().await.expect("a chunk").is_ok());
        assert!(data.next().await.expect("a chunk").is_ok());
        assert!(data.next().await.expect("an item").is_err());
        assert!(over.load(std::sync::atomic::Ordering::Acquire));
        assert_eq!(passed.load(std::sync::atomic::Ordering::Acquire), 12);
    }

    /// The next chunk left in `incoming`'s body, whoever took it over.
    async fn left(incoming: &Incoming) -> Option<Result<Bytes, axum::Error>> {
        std::future::poll_fn(|cx| incoming.lock().data.poll_next_unpin(cx)).await
    }

    #[tokio::test]
    async fn a_refused_upload_leaves_the_rest_of_its_body_to_the_drain() {
        let incoming = Incoming::new(chunks(&["abcd", "efgh", "ijkl", "mnop"], false));
        let upload = incoming.upload(6);
        let mut data = upload.body.into_data_stream();
        assert!(data.next().await.expect("a chunk").is_ok());
        assert!(data.next().await.expect("an item").is_err(), "past 6 bytes");
        let watcher = incoming.clone();
        let mut late = incoming.clone();
        incoming.drain(true, None).await;
        // Asked once, so drained even for a client that waits to be asked.
        assert!(left(&watcher).await.is_none(), "the drain read the rest");
        assert!(
            late.next().await.expect("an item").is_err(),
            "once drained, a reader of the upload fails and reads nothing"
        );

        let unread = Incoming::new(chunks(&["abcd"], false));
        let watcher = unread.clone();
        unread.drain(true, None).await;
        assert!(
            left(&watcher).await.is_some(),
            "never asked, a waiting client's body is left unread"
        );
        let unread = Incoming::new(chunks(&["abcd"], false));
        let watcher = unread.clone();
        unread.drain(false, Some(super::MOST_DRAINED + 1)).await;
        assert!(
            left(&watcher).await.is_some(),
            "declared past what is drained, nothing is"
        );
        let unread = Incoming::new(chunks(&["abcd"], false));
        let watcher = unread.clone();
        unread.drain(false, Some(4)).await;
        assert!(left(&watcher).await.is_none(), "read to its end");
    }
}
