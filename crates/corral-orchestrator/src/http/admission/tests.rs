//! A client that never finishes a request's head is let go, and one past
//! the connection limit waits for a place.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::{Limits, serve};

/// Reads until the server closes the connection (or 10 s pass); what came.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut read = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut read)).await;
    read
}

#[tokio::test]
async fn a_dribbled_head_is_cut_and_a_client_past_the_limit_waits_for_a_place() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route("/", get(|| async { "hello" }));
    let stop = CancellationToken::new();
    let limits = Limits {
        connections: 2,
        head_time: Duration::from_millis(300),
        buffer: 8 << 10,
    };
    let mut server = tokio::task::JoinSet::new();
    server.spawn(serve(listener, app, stop.clone(), limits));
    // Two clients take both places, one with half a head.
    let mut dribbling = TcpStream::connect(addr).await.expect("connect");
    dribbling
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a head");
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    // A third asks in full: it is answered once a place is free, which is
    // once the others were let go for their heads.
    let mut asking = TcpStream::connect(addr).await.expect("connect");
    asking
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("a request");
    let answer = until_closed(&mut asking).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    // Both were closed by the server (a read ends at once), not answered.
    for stream in [&mut dribbling, &mut silent] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut byte)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "still open, or answered: {read:?}"
        );
    }
    stop.cancel();
    while server.join_next().await.is_some() {}
}
