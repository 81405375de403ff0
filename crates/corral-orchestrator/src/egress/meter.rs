//! Byte counting on the job's side of a proxy connection, with the job's
//! byte budget enforced there: past it, reads and writes fail.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes one connection moved, and whether the budget cut it.
#[derive(Debug, Default)]
pub struct Counters {
    /// From the job.
    pub up: AtomicU64,
    /// To the job.
    pub down: AtomicU64,
    /// Set when the job's byte budget ended it.
    pub cut: AtomicBool,
    /// Set once a connection was admitted: from then on the budget holds.
    /// Before, the job's request is still read, so a refusal can be told
    /// and recorded.
    pub armed: AtomicBool,
}

/// The job's budget: bytes moved so far by all its connections, and the most.
#[derive(Debug)]
pub struct Budget {
    /// Bytes so far.
    pub used: AtomicU64,
    /// Most bytes.
    pub max: u64,
}

impl Budget {
    /// Whether the budget is spent.
    pub fn spent(&self) -> bool {
        self.used.load(Ordering::Relaxed) >= self.max
    }
}

/// `inner`, counted into `counters` and `budget`.
pub struct Metered<T> {
    inner: T,
    counters: Arc<Counters>,
    budget: Arc<Budget>,
}

impl<T> Metered<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, counters: Arc<Counters>, budget: Arc<Budget>) -> Self {
        Self {
            inner,
            counters,
            budget,
        }
    }

    fn over(&self) -> Option<io::Error> {
        let enforced = self.counters.armed.load(Ordering::Relaxed);
        (enforced && self.budget.spent()).then(|| {
            self.counters.cut.store(true, Ordering::Relaxed);
            io::Error::other(format!(
                "the job's egress byte limit ({} bytes) is reached",
                self.budget.max
            ))
        })
    }

    fn count(&self, counter: &AtomicU64, bytes: usize) {
        let bytes = bytes as u64;
        counter.fetch_add(bytes, Ordering::Relaxed);
        self.budget.used.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Metered<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(error) = this.over() {
            return Poll::Ready(Err(error));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.count(&this.counters.up, buf.filled().len() - before);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Metered<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(error) = this.over() {
            return Poll::Ready(Err(error));
        }
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = polled {
            this.count(&this.counters.down, written);
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn bytes_are_counted_both_ways_and_the_budget_cuts_the_stream() {
        let (near, mut far) = tokio::io::duplex(1024);
        let counters = Arc::new(Counters::default());
        let budget = Arc::new(Budget {
            used: AtomicU64::new(0),
            max: 10,
        });
        counters.armed.store(true, Ordering::Relaxed);
        let mut metered = Metered::new(near, Arc::clone(&counters), Arc::clone(&budget));
        far.write_all(b"hello").await.expect("write");
        let mut got = [0; 5];
        metered.read_exact(&mut got).await.expect("read");
        metered.write_all(b"world").await.expect("write");
        assert_eq!(counters.up.load(Ordering::Relaxed), 5);
        assert_eq!(counters.down.load(Ordering::Relaxed), 5);
        let error = metered.write_all(b"more").await.expect_err("over budget");
        assert!(error.to_string().contains("byte limit"), "{error}");
        assert!(counters.cut.load(Ordering::Relaxed));
    }
}
