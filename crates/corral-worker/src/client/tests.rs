//! The client against a socket that answers as the orchestrator does
//! when its store refuses what it was sent.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;
use tokio::task::JoinSet;

use super::Client;
use corral_proto::NewEvent;

/// Serves `socket`, answering the first `refusals` requests 500 and the
/// rest 200 with `{"batch": N}`; every body received goes into `bodies`.
/// Connections are served one after the other.
fn refusing(
    listener: UnixListener,
    refusals: usize,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
) -> JoinSet<()> {
    let mut server = JoinSet::new();
    server.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let bodies = Arc::clone(&bodies);
            {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let bodies = Arc::clone(&bodies);
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let batch: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        let mut seen = bodies.lock().expect("bodies");
                        seen.push(batch.clone());
                        let answer = if seen.len() <= refusals {
                            Response::builder()
                                .status(StatusCode::INTERNAL_SERVER_ERROR)
                                .body(Full::new(Bytes::from_static(
                                    b"{\"error\":\"database or disk is full\"}",
                                )))
                        } else {
                            Response::builder().body(Full::new(Bytes::from(
                                serde_json::json!({"batch": batch["batch"]}).to_string(),
                            )))
                        };
                        Ok::<_, hyper::Error>(answer.expect("a response"))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }
        }
    });
    server
}

/// A batch the orchestrator could not store (500) is sent again, with
/// the same number, until it is: the worker used to drop it and stop
/// sending the job's output.
#[tokio::test]
async fn a_batch_the_store_refused_is_sent_again_with_its_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("worker.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let _server = refusing(listener, 2, Arc::clone(&bodies));
    let client = Client::new(socket, "token".into());

    client
        .send_events(vec![NewEvent::warning("first")])
        .await
        .expect("stored on the third try");
    client
        .send_events(vec![NewEvent::warning("second")])
        .await
        .expect("stored at once");

    let seen = bodies.lock().expect("bodies").clone();
    let numbers: Vec<u64> = seen
        .iter()
        .map(|body| body["batch"].as_u64().expect("a number"))
        .collect();
    assert_eq!(numbers, [1, 1, 1, 2], "{seen:?}");
    assert!(
        seen[..3].iter().all(|body| body == &seen[0]),
        "the same batch each time: {seen:?}"
    );
}

/// A request the orchestrator refuses for what it is (4xx), or for good
/// (503: the job's intake is closed), is not sent again.
#[tokio::test]
async fn a_refusal_for_good_is_not_sent_again() {
    for (status, expected) in [
        (StatusCode::BAD_REQUEST, "400"),
        (StatusCode::SERVICE_UNAVAILABLE, "503"),
    ] {
        let error = super::ClientError::Status {
            status,
            body: String::new(),
        };
        assert!(!super::worth_again(&error), "{expected}");
    }
    let error = super::ClientError::Status {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        body: String::new(),
    };
    assert!(super::worth_again(&error));
}
