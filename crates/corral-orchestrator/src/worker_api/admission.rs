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

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::UnixListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::http::admission::Limits;

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
    let limits = Limits {
        connections: MAX_CONNECTIONS,
        head_time: HEAD_TIME,
        buffer: MAX_BUFFER,
        // None: a paused sandbox reads nothing for as long as it is
        // paused, and its connections must outlive that; a job that stops
        // reading holds only its own socket's places.
        write_stall: None,
    };
    crate::http::admission::serve(listener, app, stop, limits).await;
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
