use corral_testkit::TestServer;
use corral_testkit::reqwest::StatusCode;

#[tokio::test]
async fn each_bad_spec_gets_a_400_naming_the_field_and_stores_nothing() {
    let server = TestServer::start().await;
    let links = tempfile::tempdir().expect("temp dir");
    let link = links.path().join("looks-harmless");
    std::os::unix::fs::symlink("/etc", &link).expect("symlink");
    let link = link.to_string_lossy().into_owned();
    let cases: Vec<(String, Option<&str>)> = vec![
        (r#"{"command": ["echo""#.into(), None),
        ("not json at all".into(), None),
        (r"{}".into(), Some("command")),
        (r#"{"command": []}"#.into(), Some("command")),
        (
            r#"{"mode": "teleport", "command": ["true"]}"#.into(),
            Some("mode"),
        ),
        (
            r#"{"command": ["true"], "project": "relative/path"}"#.into(),
            Some("project"),
        ),
        (
            r#"{"command": ["true"], "project": "/no/such/dir"}"#.into(),
            Some("project"),
        ),
        (
            r#"{"command": ["true"], "project": "/etc"}"#.into(),
            Some("project"),
        ),
        (
            r#"{"command": ["true"], "project": "/"}"#.into(),
            Some("project"),
        ),
        (
            format!(r#"{{"command": ["true"], "project": "{link}"}}"#),
            Some("project"),
        ),
        (
            r#"{"command": ["true"], "image": "busybox\u001b]0;title\u0007"}"#.into(),
            Some("image"),
        ),
        (
            r#"{"command": ["true"], "image": "busy\u202ebox"}"#.into(),
            Some("image"),
        ),
        (
            r#"{"command": ["true"], "limits": {"memory": -1}}"#.into(),
            Some("limits.memory"),
        ),
        (
            r#"{"command": ["true"], "limits": {"memory": "1000t"}}"#.into(),
            Some("limits.memory"),
        ),
        (
            r#"{"command": ["true"], "limits": {"pids": -5}}"#.into(),
            Some("limits.pids"),
        ),
        (
            r#"{"command": ["true"], "limits": {"cpu_shares": 99999999}}"#.into(),
            Some("limits.cpu_shares"),
        ),
        (
            r#"{"command": ["true"], "limits": {"timeout": "99999d"}}"#.into(),
            Some("limits.timeout"),
        ),
        (
            r#"{"command": ["true"], "limits": {"timeout": 0}}"#.into(),
            Some("limits.timeout"),
        ),
    ];
    for (body, field) in &cases {
        let (status, answer) = server.post("/v1/jobs", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|error| !error.is_empty()),
            "{answer}"
        );
        assert_eq!(answer["field"].as_str(), *field, "{body} → {answer}");
    }
    let (_, list) = server.get("/v1/jobs").await;
    assert_eq!(
        list["jobs"].as_array().map(Vec::len),
        Some(0),
        "nothing stored: {list}"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_unknown_job_is_a_404_and_an_ended_one_cannot_be_cancelled() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/v1/jobs/j-0000000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let id = server
        .create(&serde_json::json!({"command": ["true"]}))
        .await;
    server.follow(&id).await;
    let (status, body) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(server.stop().await, 0);
}
