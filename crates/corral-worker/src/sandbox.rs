//! Sandbox mode: the worker stays up and does what the orchestrator hands
//! it, one order at a time off a long poll, each in a task of its own so a
//! long command never holds up the next order. Every exec's output and end
//! go out through one shipper, in order, tagged with the exec's number.
//!
//! # Layout
//! - `exec`: one command with its stdin, environment, timeout and output
//! - `files`: writing, reading and listing files under the allowed roots
//! - `archive`: directories as tars, links kept, what a tar cannot hold left out

mod archive;
mod exec;
mod files;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corral_proto::sandbox::order::{ORDER_POLL_SECS, ORDERS_PATH, Order};
use corral_proto::worker::{Credential, WorkerJob};
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::Client;
use crate::failure::{EXIT_WORKER_FAILED, complain};
use crate::output::{Outgoing, ship};

/// Output chunks and events buffered before the shipper: past this the
/// commands block on their writes.
const CHANNEL_DEPTH: usize = 256;
/// Where the relay sends a sandbox program's model calls: the job's
/// OpenAI-format proxy (`/chat/completions` becomes its chat route).
const MODEL_PREFIX: &str = "/v1/llm";
/// Pause after a failed poll before the next.
const POLL_BACKOFF: Duration = Duration::from_millis(500);

/// Runs the sandbox until its token is revoked (the orchestrator ends it
/// by removing the container).
pub async fn run(client: &Client, job: &WorkerJob, credentials: &[Credential]) -> u8 {
    let (sender, receiver) = mpsc::channel::<Outgoing>(CHANNEL_DEPTH);
    let orders = Arc::new(client.relay_handle());
    let mut credentials = credentials.to_vec();
    // A sandbox with a model: its programs reach it through the relay, in
    // the OpenAI format, the orchestrator choosing the model and holding
    // the key (the one given here opens nothing).
    let mut relay_tasks = JoinSet::new();
    if job.llm.is_some() {
        match crate::relay::start(client.relay_handle(), MODEL_PREFIX, &mut relay_tasks).await {
            Ok(port) => credentials.extend([
                Credential {
                    env_var: "OPENAI_BASE_URL".into(),
                    value: format!("http://127.0.0.1:{port}"),
                },
                Credential {
                    env_var: "OPENAI_API_KEY".into(),
                    value: "corral-sandbox".into(),
                },
            ]),
            Err(error) => complain(&format!("cannot open the model relay: {error}")),
        }
    }
    let credentials: Arc<[Credential]> = credentials.into();
    let serve = serve(orders, credentials, sender);
    let shipped = ship(client, receiver);
    tokio::select! {
        code = serve => code,
        shipped = shipped => {
            if let Err(error) = shipped {
                complain(&format!("cannot send events: {error}"));
            }
            EXIT_WORKER_FAILED
        }
    }
}

async fn serve(
    client: Arc<Client>,
    credentials: Arc<[Credential]>,
    events: mpsc::Sender<Outgoing>,
) -> u8 {
    let mut tasks = JoinSet::new();
    let path = format!("{ORDERS_PATH}?wait={ORDER_POLL_SECS}");
    loop {
        while tasks.try_join_next().is_some() {}
        match next_order(&client, &path).await {
            Ok(Some(Order::Exec(order))) => {
                tasks.spawn(exec::run(order, Arc::clone(&credentials), events.clone()));
            }
            Ok(Some(order)) => {
                tasks.spawn(files::run(Arc::clone(&client), order));
            }
            Ok(None) => {}
            Err(Poll::Revoked) => return 0,
            Err(Poll::Failed(message)) => {
                complain(&format!("cannot fetch the next order: {message}"));
                tokio::time::sleep(POLL_BACKOFF).await;
            }
        }
    }
}

/// Why a poll brought no order.
enum Poll {
    /// The token was revoked: the sandbox is over.
    Revoked,
    /// Anything else; polled again after a pause.
    Failed(String),
}

async fn next_order(client: &Client, path: &str) -> Result<Option<Order>, Poll> {
    let answer = client
        .open(Method::GET, path, Bytes::new())
        .await
        .map_err(|error| Poll::Failed(error.to_string()))?;
    let status = answer.status();
    let body = answer
        .into_body()
        .collect()
        .await
        .map_err(|error| Poll::Failed(error.to_string()))?
        .to_bytes();
    match status {
        StatusCode::NO_CONTENT => Ok(None),
        StatusCode::UNAUTHORIZED => Err(Poll::Revoked),
        status if status.is_success() => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|error| Poll::Failed(format!("undecodable order: {error}"))),
        status => Err(Poll::Failed(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body)
        ))),
    }
}
