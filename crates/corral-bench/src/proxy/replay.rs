//! An upstream on loopback that answers every chat call with a recorded
//! answer (whole, or streamed when the request asks for it) and counts the
//! connections it accepts. Keep-alive is switched per connection: off, it
//! closes each connection after one answer (`connection: close`), so no
//! client can pool it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A recorded answer: its content type and body.
#[derive(Clone)]
pub struct Answer {
    pub content_type: String,
    pub body: Bytes,
}

/// A running replaying upstream.
pub struct Replay {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    keep_alive: Arc<AtomicBool>,
    stop: CancellationToken,
}

impl Replay {
    /// Serves `whole` and `streamed` on `127.0.0.1:0`; its task is on
    /// `tasks` until [`Replay::stop`].
    pub async fn start(
        whole: Answer,
        streamed: Answer,
        tasks: &TaskTracker,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let replay = Self {
            addr: listener.local_addr()?,
            connections: Arc::new(AtomicU64::new(0)),
            keep_alive: Arc::new(AtomicBool::new(false)),
            stop: CancellationToken::new(),
        };
        let (connections, keep_alive, stop) = (
            replay.connections.clone(),
            replay.keep_alive.clone(),
            replay.stop.clone(),
        );
        let answers = Arc::new((whole, streamed));
        tasks.spawn(async move {
            // Dropped on stop, which ends every connection still open (a
            // client's pool may keep one for minutes).
            let mut served = JoinSet::new();
            loop {
                let accepted = tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                while served.try_join_next().is_some() {}
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.fetch_add(1, Ordering::Relaxed);
                let answers = answers.clone();
                let service = service_fn(move |request| answer(request, answers.clone()));
                let connection = http1::Builder::new()
                    .keep_alive(keep_alive.load(Ordering::Relaxed))
                    .serve_connection(TokioIo::new(stream), service);
                served.spawn(connection);
            }
        });
        Ok(replay)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Whether connections accepted from now on may serve several calls.
    pub fn set_keep_alive(&self, keep_alive: bool) {
        self.keep_alive.store(keep_alive, Ordering::Relaxed);
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// The streamed answer when the request's JSON says `"stream": true`.
async fn answer(
    request: Request<Incoming>,
    answers: Arc<(Answer, Answer)>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let streamed = serde_json::from_slice::<serde_json::Value>(&body)
        .is_ok_and(|request| request["stream"] == true);
    let answer = if streamed { &answers.1 } else { &answers.0 };
    let mut response = Response::new(Full::new(answer.body.clone()));
    if let Ok(value) = answer.content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    Ok(response)
}
