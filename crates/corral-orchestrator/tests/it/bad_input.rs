//! A corpus of bad input for every user-API route: only 4xx answers with a
//! JSON error, and nothing stored changes.

use corral_testkit::TestServer;
use corral_testkit::reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_route_answers_bad_input_with_a_json_4xx_and_changes_nothing() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": ["true"]})).await;
    server.follow(&id).await;
    let (_, secret) = server
        .call(
            Method::PUT,
            "/v1/secrets/KEPT",
            Some(r#"{"value": "kept-value-123"}"#),
            Some(&server.token),
        )
        .await;
    assert_eq!(secret["name"], "KEPT");
    let (_, jobs_before) = server.get("/v1/jobs").await;
    let (_, secrets_before) = server.get("/v1/secrets").await;
    let (_, events_before) = server.get(&format!("/v1/jobs/{id}/events")).await;

    for (method, path, body, expected) in cases(&id) {
        let (status, answer) = server
            .call(method.clone(), &path, body.as_deref(), Some(&server.token))
            .await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {answer}");
        assert!(
            answer["error"].is_string(),
            "{method} {path}: a JSON error, got {answer}"
        );
    }
    assert_eq!(
        server.get("/v1/jobs").await.1,
        jobs_before,
        "no job changed"
    );
    assert_eq!(
        server.get("/v1/secrets").await.1,
        secrets_before,
        "no secret changed"
    );
    assert_eq!(
        server.get(&format!("/v1/jobs/{id}/events")).await.1,
        events_before,
        "no event added"
    );
    assert_eq!(server.stop().await, 0);
}

/// (method, path, body, expected status) of every bad request tried.
fn cases(id: &str) -> Vec<(Method, String, Option<String>, u16)> {
    let huge = format!(r#"{{"command": ["{}"]}}"#, "x".repeat(2 << 20));
    vec![
        (Method::POST, "/v1/jobs".into(), Some("{".into()), 400),
        (Method::POST, "/v1/jobs".into(), Some("[]".into()), 400),
        (
            Method::POST,
            "/v1/jobs".into(),
            Some(r#"{"command": ["true"], "bogus": 1}"#.into()),
            400,
        ),
        (
            Method::POST,
            "/v1/jobs".into(),
            Some(r#"{"command": ["true"], "limits": {"memory": true}}"#.into()),
            400,
        ),
        (
            Method::POST,
            "/v1/jobs".into(),
            Some(r#"{"command": ["true"], "grants": "all"}"#.into()),
            400,
        ),
        (Method::POST, "/v1/jobs".into(), Some(huge), 413),
        (Method::GET, "/v1/jobs?limit=0".into(), None, 400),
        (Method::GET, "/v1/jobs?limit=lots".into(), None, 400),
        (Method::GET, "/v1/jobs?state=exploded".into(), None, 400),
        (
            Method::GET,
            "/v1/jobs?before=j-0000000000000000".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/jobs/..%2F..%2Fetc%2Fpasswd".into(),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/jobs/j-0000000000000000/events".into(),
            None,
            404,
        ),
        (
            Method::GET,
            format!("/v1/jobs/{id}/events?after=-1"),
            None,
            400,
        ),
        (
            Method::GET,
            format!("/v1/jobs/{id}/events?limit=100000"),
            None,
            400,
        ),
        (
            Method::POST,
            "/v1/jobs/j-0000000000000000/cancel".into(),
            None,
            404,
        ),
        (Method::POST, format!("/v1/jobs/{id}/cancel"), None, 409),
        (Method::GET, format!("/v1/jobs/{id}/diff"), None, 409),
        (Method::POST, format!("/v1/jobs/{id}/apply"), None, 409),
        (Method::POST, format!("/v1/jobs/{id}/discard"), None, 409),
        (
            Method::PUT,
            "/v1/secrets/..%2Fescape".into(),
            Some(r#"{"value": "long-enough-1"}"#.into()),
            400,
        ),
        (
            Method::PUT,
            "/v1/secrets/KEPT".into(),
            Some(r#"{"value": 42}"#.into()),
            400,
        ),
        (
            Method::PUT,
            "/v1/secrets/KEPT".into(),
            Some(r#"{"value": "short"}"#.into()),
            400,
        ),
        (
            Method::PUT,
            "/v1/secrets/KEPT".into(),
            Some(r#"{"value": "long-enough-1", "extra": 1}"#.into()),
            400,
        ),
        (Method::DELETE, "/v1/secrets/MISSING".into(), None, 404),
        (Method::GET, "/v1/no/such/route".into(), None, 404),
    ]
}
