//! What a job's socket takes in at once. The socket belongs to the job,
//! whose code may be hostile: without a bound, a job opening thousands of
//! connections, or sending thousands of 8 MiB bodies that then wait for
//! their turn, would take the orchestrator's file descriptors or memory,
//! and every other job with them. Past either bound the job waits on its
//! own socket (the kernel queues further connections; a body is not read
//! until its request has a place), and no other job notices.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream, unix};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most connections open at once on one job's socket: the worker keeps
/// one for its event batches and opens one a call, and one per egress
/// connection (a package manager's parallel downloads).
pub const MAX_CONNECTIONS: usize = 256;
/// Most requests with a body (every method but `GET` and `HEAD`) taken at
/// once on one job's socket, each up to the route's body limit.
pub const MAX_BODIES: usize = 8;

/// A listener that accepts a connection only while fewer than
/// [`MAX_CONNECTIONS`] are open.
pub(super) struct Bounded {
    listener: UnixListener,
    open: Arc<Semaphore>,
}

impl Bounded {
    pub(super) fn new(listener: UnixListener) -> Self {
        Self {
            listener,
            open: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }
}

impl Listener for Bounded {
    type Io = Counted;
    type Addr = unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Never closed, so a place always comes.
        let Ok(place) = Arc::clone(&self.open).acquire_owned().await else {
            return std::future::pending().await;
        };
        let (stream, address) = Listener::accept(&mut self.listener).await;
        (
            Counted {
                stream,
                _place: place,
            },
            address,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A connection, holding its place until it closes.
pub(super) struct Counted {
    stream: UnixStream,
    _place: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The places of a socket's requests with a body.
pub(super) fn body_places() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_BODIES))
}

/// Lets a request with a body on only once it has a place among
/// [`MAX_BODIES`]; the place is held until its response begins (the body
/// has been read by then).
pub(super) async fn one_of_few(
    State(places): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    // Never closed, so a place always comes.
    let Ok(_place) = places.acquire_owned().await else {
        return std::future::pending().await;
    };
    next.run(request).await
}
