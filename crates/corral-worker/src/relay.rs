//! The model relay: an HTTP server on `127.0.0.1` inside the container for
//! programs that only speak TCP HTTP (the `claude` CLI; a sandbox's
//! programs). Each request goes to the job socket under a prefix (the
//! Anthropic passthrough's, or the OpenAI-format model proxy's), with the
//! job token added; answers stream back as they arrive.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::client::Client;

/// Largest request body relayed (a long conversation).
const MAX_REQUEST_BYTES: usize = 32 << 20;

type Answer = Response<BoxBody<Bytes, hyper::Error>>;

/// Listens on an ephemeral loopback port; returns it. Each request's path
/// goes to the job socket under `prefix`. The relay runs on `tasks` until
/// they are dropped.
pub async fn start(
    client: Client,
    prefix: &'static str,
    tasks: &mut JoinSet<()>,
) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let client = Arc::new(client);
    tasks.spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            // Streamed answers are many small writes: none may wait for a
            // delayed acknowledgement (Nagle).
            let _ = stream.set_nodelay(true);
            let client = Arc::clone(&client);
            connections.spawn(async move {
                let service =
                    service_fn(move |request| relay(Arc::clone(&client), prefix, request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(port)
}

async fn relay(
    client: Arc<Client>,
    prefix: &str,
    request: Request<Incoming>,
) -> Result<Answer, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(failure(StatusCode::PAYLOAD_TOO_LARGE, "request too large")),
    };
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let target = format!("{prefix}{path}");
    match client
        .forward(parts.method, &target, &parts.headers, body)
        .await
    {
        Ok(answer) => Ok(answer.map(BodyExt::boxed)),
        Err(error) => Ok(failure(
            StatusCode::BAD_GATEWAY,
            &format!("corral relay: {error}"),
        )),
    }
}

fn failure(status: StatusCode, message: &str) -> Answer {
    let body =
        serde_json::json!({"type": "error", "error": {"type": "api_error", "message": message}});
    let mut answer = Response::new(
        Full::new(Bytes::from(body.to_string()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *answer.status_mut() = status;
    answer
}
