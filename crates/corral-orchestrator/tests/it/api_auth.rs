use corral_testkit::TestServer;
use corral_testkit::reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_wrong_or_missing_token_gets_401_and_changes_nothing() {
    let server = TestServer::start().await;
    let spec = r#"{"command": ["echo", "hi"]}"#;
    for token in [None, Some("wrong"), Some("")] {
        let (status, body) = server
            .call(Method::POST, "/v1/jobs", Some(spec), token)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
        assert!(body["error"].is_string(), "a JSON error body: {body}");
        let (status, _) = server.call(Method::GET, "/v1/jobs", None, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let almost = format!("{}x", &server.token[..server.token.len() - 1]);
    let (status, _) = server
        .call(Method::GET, "/v1/jobs", None, Some(&almost))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, list) = server.get("/v1/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["jobs"].as_array().map(Vec::len),
        Some(0),
        "nothing was stored: {list}"
    );
    let (status, _) = server.call(Method::GET, "/v1/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "health needs no token");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_api_token_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let metadata = std::fs::metadata(server.data_dir.path().join("api-token")).expect("token file");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let stored =
        std::fs::read_to_string(server.data_dir.path().join("api-token")).expect("read token");
    assert_eq!(stored.trim(), server.token);
    // The MCP token: private too, another value, and it opens `/mcp`
    // alone (an MCP client configured with it cannot call the API).
    let path = server.data_dir.path().join("mcp-token");
    let metadata = std::fs::metadata(&path).expect("MCP token file");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let mcp = std::fs::read_to_string(&path).expect("read MCP token");
    assert_ne!(mcp.trim(), server.token);
    let http = corral_testkit::reqwest::Client::new();
    for path in ["/v1/jobs", "/v1/secrets", "/metrics", "/v1/sandboxes"] {
        let answer = http
            .get(format!("{}{path}", server.url))
            .bearer_auth(mcp.trim())
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Without a token, no way into `/mcp` by any method or sub-path.
    for (method, path) in [
        (Method::GET, "/mcp"),
        (Method::DELETE, "/mcp"),
        (Method::GET, "/mcp/"),
        (Method::POST, "/mcp/x"),
    ] {
        let answer = http
            .request(method.clone(), format!("{}{path}", server.url))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    for (token, opens) in [(mcp.trim(), true), ("not-a-token", false)] {
        let answer = http
            .post(format!("{}/mcp", server.url))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize)
            .send()
            .await
            .expect("an answer");
        assert_eq!(
            answer.status() == StatusCode::OK,
            opens,
            "{token}: {answer:?}"
        );
    }
    assert_eq!(server.stop().await, 0);
}

/// Sends `request` on `stream` and reads one answer's head (the bodies of
/// these answers are small JSON with a length): its lowercased head, and
/// whether the server then closed the connection.
async fn one_answer(stream: &mut tokio::net::TcpStream, request: &str) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let wait = std::time::Duration::from_secs(10);
    let (head, length) = loop {
        let read = tokio::time::timeout(wait, stream.read(&mut buffer))
            .await
            .expect("an answer within 10 s")
            .expect("the answer");
        assert!(read > 0, "closed before a whole answer: {answer:?}");
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).to_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_owned();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .expect("a length");
            break (head, end + 4 + length);
        }
    };
    while answer.len() < length {
        let read = stream.read(&mut buffer).await.expect("the body");
        assert!(read > 0, "closed within the body");
        answer.extend_from_slice(&buffer[..read]);
    }
    let after = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        stream.read(&mut buffer),
    )
    .await;
    (head, matches!(after, Ok(Ok(0) | Err(_))))
}

/// A request refused before its body was read (a wrong token) is answered
/// with `Connection: close`, and the connection closes: a client that kept
/// it would send its next request into a closed socket (Python's httpx
/// then reported "server disconnected"). Answers to a request without a
/// body, or whose body was read, keep the connection.
#[tokio::test]
async fn a_body_left_unread_closes_the_connection_and_says_so() {
    let server = TestServer::start().await;
    let address = server.url.trim_start_matches("http://").to_owned();
    let connect = || async {
        tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect")
    };
    let post = |token: &str, body: &str| {
        format!(
            "POST /v1/sandboxes HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let get = |path: &str, token: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n")
    };

    let mut stream = connect().await;
    let (head, closed) = one_answer(&mut stream, &post("wrong", r#"{"image": "x"}"#)).await;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(
        head.contains("connection: close"),
        "the answer says so: {head}"
    );
    assert!(closed, "the server closed the connection: {head}");

    let mut stream = connect().await;
    let (head, closed) = one_answer(&mut stream, &get("/v1/jobs", "wrong")).await;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(!head.contains("connection: close"), "no body, kept: {head}");
    assert!(!closed, "no body, kept");
    let (head, _) = one_answer(&mut stream, &get("/v1/health", "none")).await;
    assert!(
        head.starts_with("http/1.1 200"),
        "the kept connection serves: {head}"
    );

    let mut stream = connect().await;
    let token = server.token.clone();
    let (head, closed) = one_answer(&mut stream, &post(&token, r#"{"limits": 7}"#)).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(
        !head.contains("connection: close"),
        "its body was read: {head}"
    );
    assert!(!closed, "its body was read, kept");
    assert_eq!(server.stop().await, 0);
}
