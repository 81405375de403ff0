//! A small HTTP/1.1 client over the job's Unix socket, bearer token on
//! every request. One connection per request (on a local socket that costs
//! microseconds and leaves no state to go stale), but for event batches:
//! a chatty job sends thousands a second, one after the other, so they
//! share one kept connection, opened again whenever it closed.
//!
//! # Layout
//! - `body`: what a request's body must be
//! - `kept`: the kept connection event batches go on

mod body;
mod kept;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use corral_proto::NewEvent;
use corral_proto::worker::{
    COMPLETE_PATH, Completion, EVENTS_PATH, EventBatch, EventsAck, JOB_PATH,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::upgrade::Upgraded;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

pub use body::SendBody;

/// Attempts for a request that fails to reach the orchestrator: about a
/// minute in all, long enough to ride out an orchestrator restart.
const ATTEMPTS: u32 = 36;
/// First pause between attempts; doubles each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Why a call to the orchestrator failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("bad request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The orchestrator answered with an error status.
    #[error("orchestrator answered {status}: {body}")]
    Status {
        /// The status.
        status: StatusCode,
        /// Its body (an error message, never a secret).
        body: String,
    },
    /// A body could not be encoded or decoded.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The worker's handle on its job's socket.
pub struct Client {
    socket: PathBuf,
    token: String,
    /// The number of the last event batch sent.
    batches: AtomicU64,
    /// The connection event batches are sent on, once one was opened. A
    /// tokio mutex: held while a batch is sent.
    events_connection: tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
}

/// Which connection a request goes on.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// A connection of its own.
    Fresh,
    /// The kept connection of event batches.
    Kept,
}

impl Client {
    /// A client for `socket`, presenting `token`.
    pub fn new(socket: PathBuf, token: String) -> Self {
        Self {
            socket,
            token,
            batches: AtomicU64::new(0),
            events_connection: tokio::sync::Mutex::new(None),
        }
    }

    /// `GET path`, decoded.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let body = self
            .call(Method::GET, path, Bytes::new(), Via::Fresh)
            .await?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// The job: `GET /v1/job`, asked again while the orchestrator answers
    /// `204` (a warm-pool container waiting for its job).
    pub async fn job<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        loop {
            let body = self
                .call(Method::GET, JOB_PATH, Bytes::new(), Via::Fresh)
                .await?;
            if !body.is_empty() {
                return Ok(serde_json::from_slice(&body)?);
            }
        }
    }

    /// `POST path` with a JSON body, decoded.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let body = Bytes::from(serde_json::to_vec(body)?);
        let answer = self.call(Method::POST, path, body, Via::Fresh).await?;
        Ok(serde_json::from_slice(&answer)?)
    }

    /// `PUT path` with a JSON body; the answer's body is not read.
    pub async fn put_json<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ClientError> {
        let body = Bytes::from(serde_json::to_vec(body)?);
        self.call(Method::PUT, path, body, Via::Fresh).await?;
        Ok(())
    }

    /// Sends a batch of events. The batch is numbered, so resending it
    /// after a lost answer stores it once.
    pub async fn send_events(&self, events: Vec<NewEvent>) -> Result<(), ClientError> {
        let batch = Some(self.batches.fetch_add(1, Ordering::SeqCst) + 1);
        let body = serde_json::to_vec(&EventBatch { batch, events })?;
        let answer = self
            .call(Method::POST, EVENTS_PATH, Bytes::from(body), Via::Kept)
            .await?;
        let _: EventsAck = serde_json::from_slice(&answer)?;
        Ok(())
    }

    /// Reports how the job ended (the orchestrator stores what its leak
    /// detector still holds first).
    pub async fn complete(&self, completion: &Completion) -> Result<(), ClientError> {
        let _: EventsAck = self.post_json(COMPLETE_PATH, completion).await?;
        Ok(())
    }

    /// One request, retried with backoff when the socket cannot be reached,
    /// the exchange breaks, or the orchestrator could not store what it
    /// was sent (500: a full disk, a busy database); every call is safe to
    /// repeat (event batches are numbered, a batch or completion the store
    /// refused was undone, a second completion once stored is refused).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        via: Via,
    ) -> Result<Bytes, ClientError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self
                .call_once(method.clone(), path, body.clone(), via)
                .await
            {
                Err(error) if attempt < ATTEMPTS && worth_again(&error) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn call_once(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        via: Via,
    ) -> Result<Bytes, ClientError> {
        let response = match via {
            Via::Fresh => self.open(method, path, body).await?,
            Via::Kept => self.send_kept(method, path, body).await?,
        };
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(body)
    }

    /// A second handle on the same socket and token, for the relay's tasks.
    /// It must not send event batches (their numbers are this handle's).
    #[must_use]
    pub fn relay_handle(&self) -> Self {
        Self::new(self.socket.clone(), self.token.clone())
    }

    /// Sends one request and returns the answer's head, its body still to
    /// read (a streamed model answer is read as it arrives). Retried only
    /// while the socket cannot be reached: nothing was sent yet.
    pub async fn open(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<Incoming>, ClientError> {
        self.forward(method, path, &json_headers(), body).await
    }

    /// Like [`Client::open`] with the caller's headers (the relay's), minus
    /// any credential or hop-by-hop header: the job token is added here.
    pub async fn forward(
        &self,
        method: Method,
        path: &str,
        headers: &hyper::HeaderMap,
        body: Bytes,
    ) -> Result<Response<Incoming>, ClientError> {
        self.forward_body(method, path, headers, Full::new(body))
            .await
    }

    /// Like [`Client::forward`] with a body of any kind (a file read as
    /// it is sent).
    pub async fn forward_body<B: SendBody>(
        &self,
        method: Method,
        path: &str,
        headers: &hyper::HeaderMap,
        body: B,
    ) -> Result<Response<Incoming>, ClientError> {
        let mut sender = self.handshake().await?;
        let request = self.request(method, path, headers, body)?;
        Ok(sender.send_request(request).await?)
    }

    /// A new connection, ready for requests.
    async fn handshake<B: SendBody>(&self) -> Result<SendRequest<B>, ClientError> {
        let stream = self.connect().await?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection ends once its sender is dropped and its last
        // response read (or dropped).
        #[expect(
            clippy::disallowed_methods,
            reason = "the connection task lives exactly as long as its sender and responses"
        )]
        tokio::spawn(connection);
        Ok(sender)
    }

    /// A request with the job token and the caller's headers, minus any
    /// credential or hop-by-hop header.
    fn request<B>(
        &self,
        method: Method,
        path: &str,
        headers: &hyper::HeaderMap,
        body: B,
    ) -> Result<Request<B>, ClientError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "corral")
            .header("authorization", format!("Bearer {}", self.token));
        for (name, value) in headers {
            if !matches!(
                name.as_str(),
                "host" | "authorization" | "content-length" | "connection" | "transfer-encoding"
            ) {
                request = request.header(name, value);
            }
        }
        Ok(request.body(body)?)
    }

    /// `GET path` with `Upgrade: protocol`; the connection, once the
    /// orchestrator switched protocols, as a byte stream.
    pub async fn upgrade(&self, path: &str, protocol: &str) -> Result<Upgraded, ClientError> {
        let stream = self.connect().await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        #[expect(
            clippy::disallowed_methods,
            reason = "the connection task lives exactly as long as the upgraded stream"
        )]
        tokio::spawn(connection.with_upgrades());
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("host", "corral")
            .header("authorization", format!("Bearer {}", self.token))
            .header("connection", "upgrade")
            .header("upgrade", protocol)
            .body(Full::new(Bytes::new()))?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            let body = response.into_body().collect().await?.to_bytes();
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(hyper::upgrade::on(response).await?)
    }

    /// A connection to the job socket, retried with backoff while it
    /// cannot be reached.
    async fn connect(&self) -> Result<UnixStream, ClientError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match UnixStream::connect(&self.socket).await {
                Ok(stream) => return Ok(stream),
                Err(_) if attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                Err(source) => {
                    return Err(ClientError::Connect {
                        path: self.socket.display().to_string(),
                        source,
                    });
                }
            }
        }
    }
}

/// Whether a call that failed so may succeed sent again as it was.
fn worth_again(error: &ClientError) -> bool {
    match error {
        ClientError::Connect { .. } | ClientError::Http(_) => true,
        ClientError::Status { status, .. } => *status == StatusCode::INTERNAL_SERVER_ERROR,
        _ => false,
    }
}

/// The headers of a request with a JSON body.
fn json_headers() -> hyper::HeaderMap {
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    headers
}

#[cfg(test)]
mod tests;
