//! Sandboxes against real Docker and the real worker: state kept between
//! execs, concurrent execs, exit codes, stdin, cwd, env, timeouts, `?wait`
//! with truncation, redaction, idle and ttl ends.

use std::time::Duration;

use corral_proto::sandbox::{ExecResult, Sandbox, SandboxState};
use corral_runtime::LABEL_JOB;
use corral_testkit::{TestServer, remove_labelled};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates a sandbox from `spec`; returns its id.
pub async fn create(server: &TestServer, spec: Value) -> String {
    let (status, body) = server.post("/v1/sandboxes", &spec.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// Runs `spec` in sandbox `id`, waiting for its end.
pub async fn exec(server: &TestServer, id: &str, spec: Value) -> ExecResult {
    let (status, body) = server
        .post(
            &format!("/v1/sandboxes/{id}/exec?wait=120"),
            &spec.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("an exec result")
}

/// Runs shell `line` in sandbox `id`; asserts it exits 0; returns its stdout.
pub async fn sh(server: &TestServer, id: &str, line: &str) -> String {
    let result = exec(server, id, json!({"cmd": line})).await;
    assert_eq!(result.exit_code, Some(0), "{line}: {result:?}");
    result.stdout
}

/// Deletes sandbox `id` and checks no container of it is left.
pub async fn delete(server: &TestServer, id: &str) {
    let (status, body) = server
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/sandboxes/{id}"),
            None,
            Some(&server.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_ended(server, id).await;
    assert_eq!(
        remove_labelled(LABEL_JOB, id).await,
        0,
        "a container of {id} was left behind"
    );
}

/// Waits until sandbox `id` is over; returns it.
pub async fn wait_ended(server: &TestServer, id: &str) -> Sandbox {
    wait_until(server, id, |state| {
        matches!(state, SandboxState::Ended | SandboxState::Failed)
    })
    .await
}

/// Waits (60 s at most) until sandbox `id`'s state is `done`; returns it.
pub async fn wait_until(
    server: &TestServer,
    id: &str,
    done: impl Fn(SandboxState) -> bool,
) -> Sandbox {
    let mut sandbox = None;
    for _ in 0..600 {
        let (_, body) = server.get(&format!("/v1/sandboxes/{id}")).await;
        let now: Sandbox = serde_json::from_value(body).expect("a sandbox");
        if done(now.state) {
            return now;
        }
        sandbox = Some(now);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!("sandbox {id} did not get there: {sandbox:?}");
}

#[tokio::test]
async fn files_variables_and_a_background_server_outlive_the_exec_that_made_them() {
    let server = TestServer::start().await;
    let id = create(&server, json!({})).await;
    sh(
        &server,
        &id,
        "echo kept > /workspace/note && echo 'export COLOUR=teal' > $HOME/env",
    )
    .await;
    assert_eq!(
        sh(
            &server,
            &id,
            "cat /workspace/note; . $HOME/env; echo $COLOUR"
        )
        .await,
        "kept\nteal\n"
    );
    sh(
        &server,
        &id,
        "mkdir -p /tmp/www && echo served > /tmp/www/index.html && httpd -p 127.0.0.1:8080 -h /tmp/www",
    )
    .await;
    let fetched = sh(
        &server,
        &id,
        "wget -q -O - http://127.0.0.1:8080/index.html",
    )
    .await;
    assert_eq!(fetched, "served\n");
    delete(&server, &id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_exec_gets_its_stdin_cwd_and_env_and_reports_its_exit_code_and_timeout() {
    let server = TestServer::start().await;
    let id = create(&server, json!({})).await;
    let result = exec(
        &server,
        &id,
        json!({"cmd": "pwd; echo \"$GREETING\"; cat; exit 3", "cwd": "/tmp", "env": {"GREETING": "hello"}, "stdin": "from stdin\n"}),
    )
    .await;
    assert_eq!(result.exit_code, Some(3));
    assert_eq!(result.stdout, "/tmp\nhello\nfrom stdin\n");
    assert!(!result.timed_out && !result.truncated);
    // Any bytes on stdin, as base64: a NUL, 0xff, a newline, 0x01.
    let binary = exec(
        &server,
        &id,
        json!({"cmd": "od -An -tx1 | tr -d ' \\n'", "stdin_base64": "AP8KAQ=="}),
    )
    .await;
    assert_eq!(binary.stdout, "00ff0a01", "{binary:?}");
    let (status, body) = server
        .post(
            &format!("/v1/sandboxes/{id}/exec"),
            &json!({"cmd": "cat", "stdin_base64": "not base64!"}).to_string(),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("stdin_base64")),
        "{body}"
    );
    let argv = exec(&server, &id, json!({"cmd": ["sh", "-c", "echo err >&2"]})).await;
    assert_eq!((argv.exit_code, argv.stderr.as_str()), (Some(0), "err\n"));
    let slow = exec(
        &server,
        &id,
        json!({"cmd": "echo before; sleep 30; echo after", "timeout": 1}),
    )
    .await;
    assert!(slow.timed_out, "{slow:?}");
    assert_eq!(slow.exit_code, Some(137));
    assert_eq!(slow.stdout, "before\n");
    assert!(slow.duration_ms < 20_000, "{slow:?}");
    let missing = exec(&server, &id, json!({"cmd": ["no-such-program"]})).await;
    assert_eq!(missing.exit_code, Some(127), "{missing:?}");
    delete(&server, &id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn concurrent_execs_each_get_their_own_output() {
    let server = TestServer::start().await;
    let id = create(&server, json!({})).await;
    sh(&server, &id, "true").await;
    let runs = (0..4).map(|index| {
        let server = &server;
        let id = &id;
        async move {
            let line = format!("for i in 1 2 3 4 5; do echo exec{index}-$i; sleep 0.1; done");
            (index, exec(server, id, json!({"cmd": line})).await)
        }
    });
    for (index, result) in futures_util::future::join_all(runs).await {
        let expected: Vec<String> = (1..=5).map(|i| format!("exec{index}-{i}\n")).collect();
        let expected = expected.concat();
        assert_eq!(result.stdout, expected);
    }
    assert_eq!(server.metric("corral_sandboxes_running").await, Some(1));
    assert_eq!(server.metric("corral_sandbox_execs_total").await, Some(5));
    assert_eq!(
        server.metric("corral_sandbox_exec_seconds_count").await,
        Some(5)
    );
    assert_eq!(server.metric("corral_sandbox_execs_running").await, Some(0));
    delete(&server, &id).await;
    assert_eq!(server.metric("corral_sandboxes_running").await, Some(0));
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_long_output_is_cut_in_the_middle_and_a_granted_secret_is_redacted() {
    let server = TestServer::start().await;
    let secret = "sandbox-secret-6c1f0e9a7b";
    server.put_secret("SANDBOX_TOKEN", secret).await;
    let id = create(&server, json!({"grants": [{"secret": "SANDBOX_TOKEN"}]})).await;
    let long = exec(
        &server,
        &id,
        json!({"cmd": "echo first; i=0; while [ $i -lt 40000 ]; do echo 0123456789012345678901234567890123456789; i=$((i+1)); done; echo last"}),
    )
    .await;
    assert!(long.truncated);
    assert!(long.stdout.starts_with("first\n") && long.stdout.ends_with("last\n"));
    assert!(long.stdout.len() < 1_100_000, "{}", long.stdout.len());
    let leaked = exec(
        &server,
        &id,
        json!({"cmd": "echo token=$SANDBOX_TOKEN; echo $SANDBOX_TOKEN | base64 >&2"}),
    )
    .await;
    assert!(!leaked.stdout.contains(secret), "{leaked:?}");
    assert!(leaked.stdout.contains("[REDACTED"), "{leaked:?}");
    assert!(!leaked.stderr.contains("c2FuZGJveC1zZWNyZXQ"), "{leaked:?}");
    let (_, page) = server
        .get(&format!("/v1/sandboxes/{id}/events?limit=1000"))
        .await;
    assert!(!page.to_string().contains(secret));
    // A file holding it is not handed out.
    sh(&server, &id, "echo $SANDBOX_TOKEN > /tmp/held").await;
    let (status, body) = server
        .get(&format!("/v1/sandboxes/{id}/files?path=/tmp/held"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!body.to_string().contains(secret));
    // Nor a file that is no text, holding it plain and in base64 among
    // bytes of no character and characters past ASCII; nor one holding it
    // deep inside a download that arrives in many pieces (scanned as they
    // come), as a file and inside a directory's tar.
    sh(
        &server,
        &id,
        "{ printf '\\377\\200\\303'; printf %s \"$SANDBOX_TOKEN\"; printf '\\303\\251\\376'; } > /tmp/a.bin; \
         { printf '\\342\\234\\223\\377'; echo $SANDBOX_TOKEN | base64; printf '\\300'; } > /tmp/b.bin; \
         printf '\\377\\200\\303ok\\303\\251' > /tmp/c.bin; \
         mkdir -p /tmp/deep; { head -c 3333333 /dev/urandom; printf %s \"$SANDBOX_TOKEN\"; head -c 2222222 /dev/urandom; } > /tmp/deep/big.bin; \
         head -c 5555555 /dev/urandom > /tmp/clean.bin",
    )
    .await;
    for path in ["/tmp/a.bin", "/tmp/b.bin", "/tmp/deep/big.bin", "/tmp/deep"] {
        let (status, body) = server
            .get(&format!("/v1/sandboxes/{id}/files?path={path}"))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {body}");
        assert!(body.to_string().contains("SANDBOX_TOKEN"), "{body}");
    }
    let (status, clean) = crate::sandbox_files::get(&server, &id, "path=/tmp/c.bin").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clean, b"\xff\x80\xc3ok\xc3\xa9");
    let (status, clean) = crate::sandbox_files::get(&server, &id, "path=/tmp/clean.bin").await;
    assert_eq!(status, StatusCode::OK);
    let size = sh(
        &server,
        &id,
        "wc -c < /tmp/clean.bin; sha256sum < /tmp/clean.bin",
    )
    .await;
    let digest = hex::encode(sha2::Digest::finalize(
        <sha2::Sha256 as sha2::Digest>::new_with_prefix(&clean),
    ));
    assert_eq!(size.lines().next(), Some("5555555"), "{size}");
    assert!(size.contains(&digest), "{size} vs {digest}");
    delete(&server, &id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_idle_sandbox_ends_but_not_while_an_exec_runs_and_its_ttl_ends_it_anyway() {
    let server = TestServer::start().await;
    let idle = create(&server, json!({"idle_timeout": 2})).await;
    // Longer than the idle timeout, and silent: the exec in flight keeps it.
    let result = exec(&server, &idle, json!({"cmd": "sleep 5; echo done"})).await;
    assert_eq!(result.stdout, "done\n");
    let ended = wait_ended(&server, &idle).await;
    assert_eq!(ended.state, SandboxState::Ended);
    assert!(
        ended
            .reason
            .as_deref()
            .is_some_and(|reason| reason.contains("idle")),
        "{ended:?}"
    );
    let (status, body) = server
        .post(
            &format!("/v1/sandboxes/{idle}/exec"),
            &json!({"cmd": "true"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(remove_labelled(LABEL_JOB, &idle).await, 0);

    let short = create(&server, json!({"ttl": 5, "idle_timeout": 600})).await;
    sh(&server, &short, "sleep 2").await;
    // Its own timeout would end it two seconds after the sandbox's ttl.
    let (status, body) = server
        .post(
            &format!("/v1/sandboxes/{short}/exec?wait=60"),
            &json!({"cmd": "sleep 50", "timeout": 5}).to_string(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the ttl ended it mid-exec: {body}"
    );
    let ended = wait_ended(&server, &short).await;
    assert_eq!(ended.job.state, corral_proto::JobState::TimedOut);
    assert_eq!(remove_labelled(LABEL_JOB, &short).await, 0);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_paused_sandbox_keeps_its_processes_frozen_and_resumes_them() {
    let server = TestServer::start().await;
    let id = create(&server, json!({"idle_timeout": 1})).await;
    sh(
        &server,
        &id,
        "sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done' </dev/null >/dev/null 2>&1 & echo $! > /tmp/pid",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = server.post(&format!("/v1/sandboxes/{id}/pause"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "paused");
    assert_eq!(
        server.metric(r#"corral_sandboxes{state="paused"}"#).await,
        Some(1)
    );
    assert_eq!(
        server.metric(r#"corral_sandboxes{state="running"}"#).await,
        Some(0)
    );
    let (status, body) = server
        .post(
            &format!("/v1/sandboxes/{id}/exec"),
            &json!({"cmd": "true"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|error| error.contains("resume")),
        "{body}"
    );
    // Longer than its idle timeout: a paused sandbox does not idle away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, body) = server.post(&format!("/v1/sandboxes/{id}/resume"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "running");
    let count = |text: String| text.trim().parse::<u64>().expect("a count");
    let thawed = count(sh(&server, &id, "kill -0 $(cat /tmp/pid) && cat /tmp/count").await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = count(sh(&server, &id, "cat /tmp/count").await);
    assert!(
        later > thawed,
        "the process runs again: {thawed} then {later}"
    );
    // Frozen for two seconds: about 0.5 s of counting before it, not 2.5 s.
    assert!(thawed < 15, "it counted while paused: {thawed}");
    delete(&server, &id).await;
    assert_eq!(server.stop().await, 0);
}
