use corral_testkit::TestServer;
use corral_testkit::reqwest::{Method, StatusCode};

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
    assert_eq!(server.stop().await, 0);
}
