//! A hostile job against the egress proxy, end to end: an inject host that
//! echoes the credential back every way it can, and tunnels that try to
//! carry something else than TLS naming the allowed host, or to reach a
//! port nobody allowed. Every upstream listens on 127.0.0.1, reached
//! through names the server pins.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use corral_orchestrator::internals::EgressNet;
use corral_proto::EventKind;
use corral_testkit::{Handler, TestServer, TlsUpstream, UpstreamBody, curl_image};
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::claude_mode::of_kind;

/// Mixed case, so a lowercased echo is told from the leak detector's work.
const SECRET: &str = "ghp_EchoTest-Secret-0123456789ABCdef";
/// What a raw TCP upstream says first, as an SSH server would.
const BANNER: &str = "SSH-2.0-corral-test";

/// A server pinning each name to its address and trusting `ca_pem`.
async fn server_with(pins: &[(&str, SocketAddr)], ca_pem: &str) -> TestServer {
    let image = curl_image().await;
    let pins: HashMap<String, SocketAddr> = pins
        .iter()
        .map(|(name, addr)| ((*name).to_owned(), *addr))
        .collect();
    let ca = ca_pem.as_bytes().to_vec();
    TestServer::start_with(move |config| {
        config.default_image = image;
        config.egress = Arc::new(EgressNet {
            pins,
            upstream_ca: Some(ca),
        });
    })
    .await
}

/// An upstream that hands back whatever it is sent: every header in its
/// body (as is, lowercased, base64, hex, percent-encoded, in JSON), the
/// `Authorization` header in answer headers (its own, `Location`,
/// `Set-Cookie`, and a header named after the token), honouring `Range`,
/// a few bytes per chunk so the value straddles them; `/gzip` claims to be
/// compressed.
fn echo() -> Handler {
    Arc::new(|request: Request<Incoming>| Box::pin(async move { answer(&request) }))
}

fn answer(request: &Request<Incoming>) -> Response<UpstreamBody> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    let authorization = header("authorization");
    let mut lines = vec![
        format!("authorization: {authorization}"),
        format!("{} {}", request.method(), request.uri()),
    ];
    for (name, value) in request.headers() {
        lines.push(format!(
            "{name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    lines.extend([
        format!("lower: {}", authorization.to_lowercase()),
        format!("base64: {}", STANDARD.encode(&authorization)),
        format!("hex: {}", hex::encode(&authorization)),
        format!(
            "url: {}",
            authorization.replace(' ', "%20").replace('-', "%2d")
        ),
        json!({ "headers": { "Authorization": authorization } }).to_string(),
        String::new(),
    ]);
    let whole = lines.join("\n");
    let range = header("range")
        .strip_prefix("bytes=")
        .and_then(|range| range.split_once('-'))
        .and_then(|(start, end)| Some((start.parse::<usize>().ok()?, end.parse::<usize>().ok()?)));
    let (status, body) = match range {
        Some((start, end)) => (
            206,
            whole
                .get(start..=end.min(whole.len() - 1))
                .unwrap_or_default()
                .to_owned(),
        ),
        None => (200, whole),
    };
    let token = authorization.trim_start_matches("Bearer ").to_owned();
    let mut response = Response::builder()
        .status(status)
        .header("x-echo-authorization", &authorization)
        .header("location", format!("https://elsewhere.test/?auth={token}"))
        .header("set-cookie", format!("session={token}; Secure"));
    if let Ok(name) = hyper::header::HeaderName::from_bytes(format!("x-token-{token}").as_bytes()) {
        response = response.header(name, "1");
    }
    if request.uri().path() == "/gzip" {
        response = response.header("content-encoding", "gzip");
    }
    let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = body
        .into_bytes()
        .chunks(5)
        .map(|piece| Ok(Frame::data(Bytes::copy_from_slice(piece))))
        .collect();
    let stream = futures_util::stream::iter(chunks).then(|frame| async {
        tokio::task::yield_now().await;
        frame
    });
    response
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("echo answer")
}

/// The part of `stdout` under `== name`.
fn section<'a>(stdout: &'a str, name: &str) -> &'a str {
    let start = stdout.find(&format!("== {name}\n"));
    assert!(start.is_some(), "no section {name}: {stdout}");
    let start = start.expect("checked");
    let rest = &stdout[start + name.len() + 4..];
    &rest[..rest.find("\n== ").unwrap_or(rest.len())]
}

#[tokio::test]
async fn an_inject_host_that_echoes_the_credential_never_shows_it_to_the_job() {
    let upstream = TlsUpstream::start_with(&["api.inject.test", "plain.test"], echo()).await;
    let pins = [
        ("api.inject.test", upstream.addr),
        ("plain.test", upstream.addr),
    ];
    let server = server_with(&pins, &upstream.ca_pem).await;
    server.put_secret("GITHUB_TOKEN", SECRET).await;
    let script = r#"url=https://api.inject.test/echo
run() { name=$1; shift; echo "== $name"; curl -sS -i "$@" 2>&1; echo; }
run echo "$url"
run trace -X TRACE "$url"
run track -X track "$url"
run connect -X CONNECT --request-target api.inject.test:443 "$url"
run override -X POST -H 'X-HTTP-Method-Override: TRACE' "$url"
run gzip https://api.inject.test/gzip
run upgrade -H 'Connection: Upgrade' -H 'Upgrade: websocket' "$url"
echo "== ranges"
for start in 0 8 16 24 32 40 48 56 64 72; do curl -sS -r "$start-$((start + 7))" "$url"; done
echo
run plain-trace -X TRACE http://plain.test/
echo "== done""#;
    // The proxy's side is the same under either kernel; the relay in the
    // container is what differs.
    for isolation in ["runc", "gvisor"] {
        let id = server
            .create(&json!({
                "command": script,
                "isolation": isolation,
                "egress": {
                    "allow": ["api.inject.test", "plain.test"],
                    "inject": [{"host": "api.inject.test", "header": "Authorization",
                                "secret": "GITHUB_TOKEN", "format": "Bearer {}"}],
                },
            }))
            .await;
        let followed = server.follow(&id).await;
        followed.assert_succeeded();
        let stdout = followed.stdout();
        assert!(
            upstream
                .authorizations
                .lock()
                .expect("lock")
                .contains(&format!("Bearer {SECRET}")),
            "the upstream got the credential, so its echo held it"
        );
        // Any form the leak detector knows would show as a redaction; the
        // lowercased echo it does not know must be gone as well.
        let all = serde_json::to_string(&followed.events).expect("events");
        assert!(
            !all.contains("[REDACTED"),
            "the job saw the credential: {stdout}"
        );
        assert!(
            !stdout.to_lowercase().contains(&SECRET.to_lowercase()),
            "{stdout}"
        );
        let echoed = section(&stdout, "echo");
        assert!(echoed.contains("HTTP/1.1 200"), "{echoed}");
        // The header as set, `Bearer` and all, is blanked byte for byte.
        let blank = "*".repeat("Bearer ".len() + SECRET.len());
        assert!(
            echoed.contains(&format!("\nauthorization: {blank}\n")),
            "{echoed}"
        );
        for (name, status) in [
            ("trace", "405"),
            ("track", "405"),
            ("connect", "405"),
            ("override", "405"),
            ("gzip", "502"),
            ("upgrade", "403"),
            ("plain-trace", "405"),
        ] {
            // After the proxy's answer to curl's CONNECT, when there is one.
            let part = section(&stdout, name);
            assert!(
                part.contains(&format!("HTTP/1.1 {status}")),
                "{name}: {part}"
            );
        }
        let ranges = section(&stdout, "ranges");
        assert!(
            ranges.matches(&format!("authorization: {blank}")).count() >= 10,
            "each range answered whole: {ranges}"
        );
        let warnings = of_kind(&followed, EventKind::Warning);
        for needle in ["blanked out", "`TRACE`", "websockets", "compressed"] {
            assert!(
                warnings.iter().any(|data| data["message"]
                    .as_str()
                    .is_some_and(|text| text.contains(needle))),
                "{needle}: {warnings:#?}"
            );
        }
    }
    assert_eq!(server.stop().await, 0);
}

/// A plain TCP server that speaks first, as SSH does.
async fn banner_server(tasks: &mut JoinSet<()>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tasks.spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(format!("{BANNER}\r\n").as_bytes()).await;
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink).await;
        }
    });
    addr
}

/// A ClientHello naming no server, base64.
fn hello_without_sni() -> String {
    STANDARD.encode(corral_testkit::client_hello("allowed.test", false))
}

#[tokio::test]
async fn tunnels_reach_only_allowed_ports_and_carry_tls_naming_the_host_unless_raw() {
    let upstream = TlsUpstream::start(&["allowed.test", "ported.test"]).await;
    let mut tasks = JoinSet::new();
    let raw = banner_server(&mut tasks).await;
    let pins = [
        ("allowed.test", upstream.addr),
        ("ported.test", upstream.addr),
        ("raw.test", raw),
    ];
    let server = server_with(&pins, &upstream.ca_pem).await;
    let script = format!(
        r#"printf '%s' '{ca}' > /tmp/ca.pem
printf '%s' '{hello}' | base64 -d > /tmp/hello.bin
try() {{ name=$1; shift; if out=$("$@" 2>&1); then echo "$name: ok: $out"; else echo "$name: refused: $out"; fi; }}
connect() {{ (printf 'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$1" "$1"; sleep 1; cat "$2"; sleep 3) | timeout 10 nc 127.0.0.1 3128; }}
try https curl -sSf --cacert /tmp/ca.pem https://allowed.test/
try other-port curl -sSf --cacert /tmp/ca.pem https://allowed.test:8443/
try named-port curl -sSf --cacert /tmp/ca.pem https://ported.test:8443/
try named-port-not-443 curl -sSf --cacert /tmp/ca.pem https://ported.test/
try plain-in-tunnel curl -sSf -p http://allowed.test:443/
printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n' > /tmp/plain.txt
echo "no-sni: $(connect allowed.test:443 /tmp/hello.bin | head -c 300 | tr -d '\r\n')"
echo "raw: $(connect raw.test:2222 /tmp/plain.txt | tr -d '\r\n')"
echo "raw-other-port: $(connect raw.test:2223 /tmp/plain.txt | head -c 40 | tr -d '\r\n')"
echo done"#,
        ca = upstream.ca_pem,
        hello = hello_without_sni(),
    );
    let id = server
        .create(&json!({
            "command": ["sh", "-c", script],
            "egress": {"allow": ["allowed.test", "ported.test:8443", "tcp://raw.test:2222"]},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    for line in [
        "https: ok: hello from allowed.test",
        "named-port: ok: hello from ported.test",
        "other-port: refused",
        "named-port-not-443: refused",
        "plain-in-tunnel: refused",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    let line = |name: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name}: {stdout}"))
            .to_owned()
    };
    assert!(line("raw").contains(BANNER), "{stdout}");
    assert!(line("raw-other-port").contains("403"), "{stdout}");
    assert!(
        line("no-sni").contains("200"),
        "the CONNECT itself passes: {stdout}"
    );
    assert!(!line("no-sni").contains("HTTP/1.1 4"), "{stdout}");
    let network = of_kind(&followed, EventKind::Network);
    let refused = |why: &str| {
        network.iter().any(|data| {
            data["allowed"] == false
                && data["reason"]
                    .as_str()
                    .is_some_and(|reason| reason.contains(why))
        })
    };
    for why in [
        "port 8443 of `allowed.test` is not allowed",
        "port 443 of `ported.test` is not allowed",
        "port 2223 of `raw.test` is not allowed",
        "not a TLS ClientHello",
        "names no server (SNI)",
    ] {
        assert!(refused(why), "{why}: {network:#?}");
    }
    assert!(
        network
            .iter()
            .any(|data| data["host"] == "raw.test" && data["allowed"] == true),
        "{network:#?}"
    );
    assert_eq!(server.stop().await, 0);
}
