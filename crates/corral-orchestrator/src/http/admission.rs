//! Serving HTTP/1.1 to clients that may be hostile, within bounds: at
//! most so many connections at once (past them the kernel queues further
//! ones), a request's head within a time (a client dribbling its headers
//! holds nothing for long), a write that waits on the client within a time
//! (a client that stops reading holds nothing for long either), and so
//! much buffered a connection. A job's
//! socket and the user API are both served this way, each with its own
//! [`Limits`].

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// What a server takes in at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most connections open at once.
    pub connections: usize,
    /// Longest a request's head may take to arrive.
    pub head_time: Duration,
    /// Most a connection buffers of what it reads.
    pub buffer: usize,
    /// Longest a write may wait on the client (it reads nothing); then the
    /// connection fails. Nothing is timed while there is nothing to write
    /// (an event stream waiting for events). `None`: no bound.
    pub write_stall: Option<Duration>,
}

/// Serves `app` on `listener` over HTTP/1.1 within `limits` until `stop`,
/// then lets the connections finish their requests (an aborted task drops
/// them all).
pub async fn serve<L: Listener>(listener: L, app: Router, stop: CancellationToken, limits: Limits) {
    let mut listener = Bounded {
        listener,
        open: Arc::new(Semaphore::new(limits.connections)),
        write_stall: limits.write_stall,
    };
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
                .header_read_timeout(limits.head_time)
                .max_buf_size(limits.buffer);
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

/// A listener that accepts a connection only while fewer than its limit
/// are open.
struct Bounded<L> {
    listener: L,
    open: Arc<Semaphore>,
    write_stall: Option<Duration>,
}

impl<L: Listener> Listener for Bounded<L> {
    type Io = Counted<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Never closed, so a place always comes.
        let Ok(place) = Arc::clone(&self.open).acquire_owned().await else {
            return std::future::pending().await;
        };
        let (stream, address) = self.listener.accept().await;
        (
            Counted {
                stream,
                _place: place,
                stall: self.write_stall,
                stalled: None,
            },
            address,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A connection, holding its place until it closes.
struct Counted<S> {
    stream: S,
    _place: OwnedSemaphorePermit,
    /// Longest a write may wait on the client, if bounded.
    stall: Option<Duration>,
    /// Armed while a write waits; cleared when one goes through.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Counted<S> {
    /// `result` of a write or flush: as it is when the stream took it,
    /// otherwise pending until the stall is over, then an error.
    fn within_stall<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let Some(stall) = self.stall.filter(|_| result.is_pending()) else {
            self.stalled = None;
            return result;
        };
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.within_stall(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.within_stall(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.stream).poll_flush(cx);
        self.within_stall(cx, flushed)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
