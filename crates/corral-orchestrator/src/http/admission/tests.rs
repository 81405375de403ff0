//! A client that never finishes a request's head, or stops reading its
//! answer, is let go, and one past the connection limit waits for a place.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Limits, serve};

/// Reads until the server closes the connection (or 10 s pass); what came.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut read = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut read)).await;
    read
}

/// `app` served within `limits` on loopback: its address, what stops it,
/// and its task.
async fn serving(app: Router, limits: Limits) -> (SocketAddr, CancellationToken, JoinSet<()>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let mut server = JoinSet::new();
    server.spawn(serve(listener, app, stop.clone(), limits));
    (addr, stop, server)
}

/// Sends `head` on a new connection.
async fn asked(addr: SocketAddr, head: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head).await.expect("a request");
    stream
}

/// `GET /` on a new connection, closed after: the whole answer, once the
/// server gives it.
async fn hello(addr: SocketAddr) -> String {
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut asking = asked(addr, head).await;
    String::from_utf8_lossy(&until_closed(&mut asking).await).into_owned()
}

#[tokio::test]
async fn a_dribbled_head_is_cut_and_a_client_past_the_limit_waits_for_a_place() {
    let app = Router::new().route("/", get(|| async { "hello" }));
    let limits = Limits {
        connections: 2,
        head_time: Duration::from_millis(300),
        buffer: 8 << 10,
        write_stall: None,
    };
    let (addr, stop, mut server) = serving(app, limits).await;
    // Two clients take both places, one with half a head.
    let mut dribbling = asked(addr, b"GET / HTTP/1.1\r\nHost: x\r\n").await;
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    // A third asks in full: it is answered once a place is free, which is
    // once the others were let go for their heads.
    let answer = hello(addr).await;
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

/// A client that asks for an endless answer and reads none of it holds
/// its place only until the write has waited the stall out; then the
/// client waiting behind it is answered.
#[tokio::test]
async fn a_client_that_stops_reading_is_let_go() {
    let endless = || async {
        let chunk = bytes::Bytes::from(vec![b'x'; 64 << 10]);
        let chunks = futures_util::stream::repeat(Ok::<_, std::convert::Infallible>(chunk));
        axum::body::Body::from_stream(chunks)
    };
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/endless", get(endless));
    let limits = Limits {
        connections: 1,
        head_time: Duration::from_mins(1),
        buffer: 8 << 10,
        write_stall: Some(Duration::from_millis(300)),
    };
    let (addr, stop, mut server) = serving(app, limits).await;
    let _stalled = asked(addr, b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let answer = hello(addr).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("hello"),
        "{answer:.200}"
    );
    stop.cancel();
    while server.join_next().await.is_some() {}
}
