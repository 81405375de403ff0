use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::*;
use crate::egress::hello::tests::{hello, rustls_hello, sni};

/// An upstream on loopback that answers `banner` at once and keeps what it
/// is sent until the tunnel closes.
async fn upstream(banner: &'static [u8]) -> (SocketAddr, JoinSet<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut server = JoinSet::new();
    server.spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        stream.write_all(banner).await.expect("banner");
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.expect("read");
        got
    });
    (addr, server)
}

/// An address nothing listens on: a tunnel that tried it would fail, not
/// be refused.
async fn nowhere() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

fn target(host: &str, addr: SocketAddr, access: Access) -> Target {
    Target {
        host: host.to_owned(),
        port: 443,
        addr,
        access,
    }
}

/// Runs a tunnel to `target` for a job that sends `pieces` one write at a
/// time, then closes; what the job got back, or the refusal.
async fn run(target: &Target, pieces: Vec<Vec<u8>>) -> Result<Vec<u8>, String> {
    let (mut job, proxy) = tokio::io::duplex(1 << 20);
    let mut writer = JoinSet::new();
    writer.spawn(async move {
        for piece in pieces {
            job.write_all(&piece).await.expect("job write");
            tokio::task::yield_now().await;
        }
        job.shutdown().await.expect("job shutdown");
        let mut back = Vec::new();
        job.read_to_end(&mut back).await.expect("job read");
        back
    });
    match tunnel(target, proxy).await {
        Ok(()) => Ok(writer.join_next().await.expect("job").expect("job task")),
        Err(Ended::Refused(reason)) => Err(reason),
        Err(Ended::Failed(reason)) => panic!("failed, not refused: {reason}"),
    }
}

async fn refusal(target: &Target, bytes: Vec<u8>) -> String {
    run(target, vec![bytes]).await.expect_err("refused")
}

#[tokio::test]
async fn a_hello_naming_the_host_passes_untouched_however_it_is_cut() {
    let bytes = rustls_hello("API.example.com", true);
    for pieces in [
        vec![bytes.clone()],
        bytes.iter().map(|byte| vec![*byte]).collect(),
    ] {
        let (addr, mut server) = upstream(b"").await;
        let target = target("api.example.com", addr, Access::Tls);
        run(&target, pieces).await.expect("tunnelled");
        let got = server.join_next().await.expect("server").expect("task");
        assert_eq!(got, bytes);
    }
}

#[tokio::test]
async fn plain_bytes_a_hello_without_sni_or_naming_another_host_are_refused() {
    let target = target("api.example.com", nowhere().await, Access::Tls);
    for (bytes, why) in [
        (
            b"GET / HTTP/1.1\r\nHost: other.example.com\r\n\r\n".to_vec(),
            "not a TLS ClientHello",
        ),
        (b"SSH-2.0-client\r\n".to_vec(), "not a TLS ClientHello"),
        (rustls_hello("api.example.com", false), "names no server"),
        (
            rustls_hello("other.example.com", true),
            "TLS SNI `other.example.com`",
        ),
        (
            rustls_hello("api.example.com.evil.com", true),
            "does not match",
        ),
        (
            hello(&[sni(&[b"api.example.com"]), (0xfe0d, vec![1; 40])], 500),
            "Encrypted Client Hello",
        ),
        (
            rustls_hello("api.example.com", true)[..20].to_vec(),
            "closed the tunnel",
        ),
        (Vec::new(), "closed the tunnel"),
    ] {
        let reason = refusal(&target, bytes).await;
        assert!(reason.contains(why), "{why}: {reason}");
    }
}

#[tokio::test]
async fn a_job_that_waits_for_the_server_to_speak_first_is_refused() {
    let target = target("api.example.com", nowhere().await, Access::Tls);
    let (_job, mut proxy) = tokio::io::duplex(1024);
    match read_hello(&target, &mut proxy, Duration::from_millis(50)).await {
        Err(Ended::Refused(reason)) => assert!(reason.contains("no TLS ClientHello"), "{reason}"),
        _ => panic!("a silent job is refused"),
    }
}

#[tokio::test]
async fn an_address_target_takes_a_hello_without_a_name_only() {
    let (addr, mut server) = upstream(b"").await;
    let bytes = rustls_hello("example.com", false);
    run(&target("192.0.2.7", addr, Access::Tls), vec![bytes.clone()])
        .await
        .expect("tunnelled");
    assert_eq!(
        server.join_next().await.expect("server").expect("task"),
        bytes
    );
    let named = target("192.0.2.7", nowhere().await, Access::Tls);
    let reason = refusal(&named, rustls_hello("example.com", true)).await;
    assert!(reason.contains("does not match"), "{reason}");
}

#[tokio::test]
async fn a_raw_tcp_entry_carries_any_bytes_and_lets_the_server_speak_first() {
    let (addr, mut server) = upstream(b"SSH-2.0-server\r\n").await;
    let target = target("db.example.com", addr, Access::Raw);
    let back = run(&target, vec![b"SSH-2.0-client\r\n".to_vec()])
        .await
        .expect("tunnelled");
    assert_eq!(back, b"SSH-2.0-server\r\n");
    let got = server.join_next().await.expect("server").expect("task");
    assert_eq!(got, b"SSH-2.0-client\r\n");
}

/// A hello may name a server of any length its record carries: the
/// refusal quotes none of one past a host name's 253 bytes (each refusal
/// is an event, and a cut could end in the start of a secret).
#[tokio::test]
async fn a_long_server_name_is_quoted_short() {
    let target = target("api.example.com", nowhere().await, Access::Tls);
    let name = "a".repeat(8000);
    let reason = refusal(&target, hello(&[sni(&[name.as_bytes()])], 500)).await;
    assert!(
        reason.contains("(8000 bytes) is not a host name"),
        "{reason:.300}"
    );
    assert!(!reason.contains("aaaa"), "{reason:.300}");
    assert!(reason.len() < 400, "{} bytes: {reason:.300}", reason.len());
}
