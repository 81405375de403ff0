//! What a job's socket takes in at once. The socket belongs to the job,
//! whose code may be hostile: without a bound, a job opening thousands of
//! connections, or sending thousands of 8 MiB bodies that then wait for
//! their turn, would take the orchestrator's file descriptors or memory,
//! and every other job with them. Past either bound the job waits on its
//! own socket (the kernel queues further connections; a body is not read
//! until its request has a place), and no other job notices. The socket
//! speaks HTTP/1.1 alone (HTTP/2 would carry hundreds of requests on each
//! connection), a request's head must come within [`HEAD_TIME`], and a
//! connection buffers at most [`MAX_BUFFER`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream, unix};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Most connections open at once on one job's socket: the worker keeps
/// one for its event batches and opens one a call, and one per egress
/// connection (a package manager's parallel downloads).
pub const MAX_CONNECTIONS: usize = 256;
/// Most requests with a body taken at once on one job's socket, each up
/// to the route's body limit.
pub const MAX_BODIES: usize = 8;
/// Longest a request's head may take to arrive.
const HEAD_TIME: Duration = Duration::from_secs(10);
/// Most a connection buffers of what it reads.
const MAX_BUFFER: usize = 64 << 10;

/// Serves `app` on `listener` over HTTP/1.1 until `stop`, then lets the
/// connections finish their requests (an aborted task drops them all).
pub(super) async fn serve(listener: UnixListener, app: Router, stop: CancellationToken) {
    let mut listener = Bounded::new(listener);
    let mut connections = JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
            // Reaps finished connections as it goes.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let app = app.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                app.clone().oneshot(request.map(axum::body::Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIME)
                .max_buf_size(MAX_BUFFER);
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

/// A listener that accepts a connection only while fewer than
/// [`MAX_CONNECTIONS`] are open.
struct Bounded {
    listener: UnixListener,
    open: Arc<Semaphore>,
}

impl Bounded {
    fn new(listener: UnixListener) -> Self {
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
struct Counted {
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

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
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

/// Lets a request with a body (whatever its method) on only once it has
/// a place among [`MAX_BODIES`]; the place is held until its response
/// begins (the body has been read by then).
pub(super) async fn one_of_few(
    State(places): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    if !crate::http::declares_body(request.headers()) {
        return next.run(request).await;
    }
    // Never closed, so a place always comes.
    let Ok(_place) = places.acquire_owned().await else {
        return std::future::pending().await;
    };
    next.run(request).await
}
