//! Controlled egress end to end: `curl` in a job reaches only allowed hosts
//! through the worker's relay and the orchestrator's proxy; every upstream
//! is a TLS server on 127.0.0.1 (a test CA), reached through names the
//! server pins with `--egress-resolve`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use corral_orchestrator::internals::EgressNet;
use corral_proto::{EventKind, JobState};
use corral_testkit::{Followed, TestServer, TlsUpstream, curl_image};
use serde_json::{Value, json};

const SECRET: &str = "ghp_egress-test-secret-0123456789abcdef";

/// A server whose egress proxy pins `names` to `upstream` and trusts its CA.
async fn egress_server(upstream: &TlsUpstream, names: &[&str]) -> TestServer {
    let image = curl_image().await;
    let pins: HashMap<String, SocketAddr> = names
        .iter()
        .map(|name| ((*name).to_owned(), upstream.addr))
        .collect();
    let ca = upstream.ca_pem.clone().into_bytes();
    TestServer::start_with(move |config| {
        config.default_image = image;
        config.egress = Arc::new(EgressNet {
            pins,
            upstream_ca: Some(ca),
        });
    })
    .await
}

pub(crate) fn network(followed: &Followed) -> Vec<&Value> {
    followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Network)
        .map(|event| &event.data)
        .collect()
}

fn find<'a>(events: &[&'a Value], host: &str) -> &'a Value {
    let found = events.iter().find(|data| data["host"] == host);
    assert!(found.is_some(), "no network event for {host}: {events:#?}");
    found.expect("checked")
}

#[tokio::test]
async fn only_allowed_public_hosts_are_reached_and_every_attempt_is_an_event() {
    let upstream = TlsUpstream::start(&["allowed.test", "other.test"]).await;
    let server = egress_server(&upstream, &["allowed.test", "other.test"]).await;
    let host_port = server.url.rsplit(':').next().expect("port").to_owned();
    let script = format!(
        r#"printf '%s' "$TEST_CA" > /tmp/test-ca.pem
try() {{ name=$1; shift; if out=$("$@" 2>&1); then echo "$name: ok: $out"; else echo "$name: refused ($?): $out" | head -c 300; echo; fi; }}
try allowed curl -sS --cacert /tmp/test-ca.pem https://allowed.test/
try denied curl -sSf --cacert /tmp/test-ca.pem https://denied.test/
try sni curl -sS -k --connect-to other.test:443:allowed.test:443 https://other.test/
try host-port curl -sSf --proxy http://127.0.0.1:3128 --noproxy '' http://127.0.0.1:{host_port}/v1/health
try metadata curl -sSf http://169.254.169.254/latest/meta-data/
try loopback-name curl -sSf http://localhost:{host_port}/ --proxy http://127.0.0.1:3128 --noproxy ''
echo done"#
    );
    let id = server
        .create(&json!({
            "command": ["sh", "-c", format!("TEST_CA='{}'\n{script}", upstream.ca_pem)],
            // A named port, so what refuses `localhost` is its address.
            "egress": {"allow": ["allowed.test", "other.test", format!("localhost:{host_port}")]},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    assert!(
        stdout.contains("allowed: ok: hello from allowed.test"),
        "{stdout}"
    );
    for refused in ["denied", "sni", "host-port", "metadata", "loopback-name"] {
        assert!(
            stdout.contains(&format!("{refused}: refused")),
            "{refused}: {stdout}"
        );
    }
    let events = network(&followed);
    let allowed = events
        .iter()
        .find(|data| data["host"] == "allowed.test" && data["allowed"] == true);
    assert!(allowed.is_some(), "allowed.test reached: {events:#?}");
    let allowed = allowed.expect("checked");
    assert_eq!(allowed["mode"], "tunnel");
    assert!(allowed["bytes_down"].as_u64().unwrap_or(0) > 0, "{allowed}");
    assert!(
        events.iter().any(|data| data["allowed"] == false
            && data["reason"]
                .as_str()
                .is_some_and(|reason| reason.contains("TLS SNI `other.test`"))),
        "a ClientHello naming another host is refused: {events:#?}"
    );
    for (host, why) in [
        ("denied.test", "allowlist"),
        ("127.0.0.1", "allowlist"),
        ("169.254.169.254", "allowlist"),
        ("localhost", "not a public address"),
    ] {
        let event = find(&events, host);
        assert_eq!(event["allowed"], false, "{event}");
        let reason = event["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{host}: {reason}");
    }
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_inject_rule_adds_the_secret_on_the_way_out_and_the_job_never_sees_it() {
    let upstream = TlsUpstream::start(&["api.inject.test"]).await;
    let server = egress_server(&upstream, &["api.inject.test"]).await;
    server.put_secret("GITHUB_TOKEN", SECRET).await;
    // The job's whole view: what curl -v shows, its environment, its files.
    let script = r#"curl -sSfv https://api.inject.test/whoami 2>&1; echo "curl: $?"
env; cat "$CURL_CA_BUNDLE" | head -3
find /tmp "$HOME" -type f 2>/dev/null | while read -r file; do echo "== $file"; cat "$file"; done
echo done"#;
    let id = server
        .create(&json!({
            "command": script,
            "egress": {
                "allow": ["api.inject.test"],
                "inject": [{"host": "api.inject.test", "header": "Authorization",
                            "secret": "GITHUB_TOKEN", "format": "Bearer {}"}],
            },
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    assert!(
        stdout.contains("hello from api.inject.test, authorized: true"),
        "{stdout}"
    );
    assert!(stdout.contains("curl: 0"), "{stdout}");
    assert_eq!(
        upstream.authorizations.lock().expect("lock").as_slice(),
        [format!("Bearer {SECRET}")],
        "the upstream got the real credential"
    );
    // Had the value reached anything the job printed, the leak detector
    // would have marked it; it did not, and it is nowhere on disk either.
    let all = serde_json::to_string(&followed.events).expect("events");
    assert!(!all.contains(SECRET) && !all.contains("[REDACTED"), "{all}");
    let event = network(&followed)
        .into_iter()
        .find(|data| data["host"] == "api.inject.test")
        .cloned()
        .expect("a network event");
    assert_eq!(event["mode"], "inject", "{event}");
    assert_eq!(event["allowed"], true, "{event}");
    corral_testkit::assert_in_no_file(server.data_dir.path(), SECRET);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn connection_and_byte_limits_cut_with_an_event_and_the_job_goes_on() {
    let upstream = TlsUpstream::start(&["allowed.test"]).await;
    let server = egress_server(&upstream, &["allowed.test"]).await;
    let script = format!(
        r#"printf '%s' '{}' > /tmp/ca.pem
curl -sSf --cacert /tmp/ca.pem https://allowed.test/big -o /dev/null; echo "big: $?"
curl -sSf --cacert /tmp/ca.pem https://allowed.test/; echo "second: $?"
echo still here"#,
        upstream.ca_pem
    );
    let id = server
        .create(&json!({
            "command": ["sh", "-c", script],
            "egress": {"allow": ["allowed.test"], "max_bytes": "64k", "max_connections": 5},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    assert!(!stdout.contains("big: 0"), "the download was cut: {stdout}");
    assert!(
        !stdout.contains("second: 0"),
        "the budget is spent: {stdout}"
    );
    assert!(stdout.contains("still here"), "{stdout}");
    let events = network(&followed);
    assert!(
        events.iter().any(|data| data["allowed"] == true
            && data["reason"]
                .as_str()
                .is_some_and(|reason| reason.contains("byte limit"))),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|data| data["allowed"] == false
            && data["reason"]
                .as_str()
                .is_some_and(|reason| reason.contains("byte limit"))),
        "{events:#?}"
    );

    let id = server
        .create(&json!({
            "command": ["sh", "-c", format!(
                "printf '%s' '{}' > /tmp/ca.pem\nfor i in 1 2; do curl -sSf --cacert /tmp/ca.pem https://allowed.test/; echo \"try $i: $?\"; done",
                upstream.ca_pem
            )],
            "egress": {"allow": ["allowed.test"], "max_connections": 1},
        }))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Succeeded);
    let stdout = followed.stdout();
    assert!(stdout.contains("try 1: 0"), "{stdout}");
    assert!(!stdout.contains("try 2: 0"), "{stdout}");
    let events = network(&followed);
    assert!(
        events.iter().any(|data| data["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("connection limit (1)"))),
        "{events:#?}"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn bad_policies_are_refused_naming_the_field_and_nothing_is_stored() {
    let server = TestServer::start().await;
    server.put_secret("KNOWN", "known-value-1234").await;
    let inject = |host: &str, secret: &str| json!([{"host": host, "header": "Authorization", "secret": secret}]);
    for (egress, field) in [
        (json!({"allow": ["*"]}), "egress.allow[0]"),
        (json!({"allow": ["ok.test", "10.0.0.1"]}), "egress.allow[1]"),
        (
            json!({"allow": ["ok.test"], "inject": inject("other.test", "KNOWN")}),
            "egress.inject[0].host",
        ),
        (
            json!({"allow": ["ok.test"], "inject": inject("ok.test", "MISSING")}),
            "egress.inject[0].secret",
        ),
        (
            json!({"allow": ["ok.test"], "max_connections": 0}),
            "egress.max_connections",
        ),
    ] {
        let (status, body) = server
            .post(
                "/v1/jobs",
                &json!({"command": "true", "egress": egress}).to_string(),
            )
            .await;
        assert_eq!(status.as_u16(), 400, "{egress}: {body}");
        assert_eq!(body["field"], field, "{egress}: {body}");
    }
    let (_, jobs) = server.get("/v1/jobs").await;
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(0), "{jobs}");
    // Without a policy there is no way out at all.
    let id = server
        .create(&json!({"command": "wget -q -O - http://127.0.0.1:3128/ 2>&1; echo \"rc=$?\""}))
        .await;
    let followed = server.follow(&id).await;
    assert!(!followed.stdout().contains("rc=0"), "{}", followed.stdout());
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_server_default_policy_applies_to_jobs_that_name_none() {
    let server = TestServer::start_with(|config| {
        config.default_egress = Some(corral_proto::EgressSpec {
            allow: vec!["pypi.org".into()],
            ..corral_proto::EgressSpec::default()
        });
    })
    .await;
    let id = server
        .create(&json!({"command": "echo \"proxy=$HTTPS_PROXY\""}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(followed.stdout(), "proxy=http://127.0.0.1:3128\n");
    let allowed = followed
        .job
        .egress
        .as_ref()
        .map(|egress| egress.allow.clone());
    assert_eq!(allowed, Some(vec!["pypi.org".to_owned()]));
    // A job's own policy replaces the default.
    let id = server
        .create(&json!({"command": "true", "egress": {"allow": ["crates.io"]}}))
        .await;
    let job = server.follow(&id).await.job;
    assert_eq!(
        job.egress.map(|egress| egress.allow),
        Some(vec!["crates.io".to_owned()])
    );
    assert_eq!(server.stop().await, 0);
}

/// A job looping on refused connections records a bounded number of
/// refusals: four a connection it may open and 64 more, then one warning,
/// then none (each refusal was an event, without end). The limit holds
/// all the same, and the connection it made is recorded besides.
#[tokio::test]
async fn a_job_looping_on_refused_connections_records_a_bounded_number_of_events() {
    let upstream = TlsUpstream::start(&["allowed.test"]).await;
    let server = egress_server(&upstream, &["allowed.test"]).await;
    let script = format!(
        "printf '%s' '{}' > /tmp/ca.pem\n\
         for i in $(seq 1 120); do curl -s --max-time 5 --cacert /tmp/ca.pem https://allowed.test/ -o /dev/null; echo \"try $i: $?\"; done",
        upstream.ca_pem
    );
    let id = server
        .create(&json!({
            "command": ["sh", "-c", script],
            "egress": {"allow": ["allowed.test"], "max_connections": 1},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    assert!(stdout.contains("try 1: 0"), "{stdout}");
    assert!(!stdout.contains("try 120: 0"), "the limit holds: {stdout}");
    let events = network(&followed);
    assert_eq!(
        events.len(),
        1 + 4 + 64,
        "one connection, and 68 refusals for it"
    );
    assert_eq!(past_the_cap(&followed).len(), 1);
    assert_eq!(server.stop().await, 0);
}

/// The warnings that say refusals past the cap are not recorded.
fn past_the_cap(followed: &Followed) -> Vec<&str> {
    followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Warning)
        .filter_map(|event| event.data["message"].as_str())
        .filter(|message| message.contains("refusals and warnings past"))
        .collect()
}

/// A job cannot blind the egress record: refusals that open no connection
/// (an echo method is refused before one is counted) fill only their own
/// cap, and a connection made after them is recorded (it was not: one
/// count held every egress event).
#[tokio::test]
async fn refusals_past_their_cap_do_not_hide_a_connection_made_after_them() {
    let upstream = TlsUpstream::start(&["allowed.test"]).await;
    let server = egress_server(&upstream, &["allowed.test"]).await;
    let script = format!(
        "printf '%s' '{}' > /tmp/ca.pem\n\
         for i in $(seq 1 60); do curl -s --max-time 5 -X TRACE http://allowed.test/ -o /dev/null; done\n\
         curl -s --max-time 5 --cacert /tmp/ca.pem https://allowed.test/ -o /dev/null; echo \"after: $?\"",
        upstream.ca_pem
    );
    let id = server
        .create(&json!({
            "command": ["sh", "-c", script],
            "egress": {"allow": ["allowed.test"], "max_connections": 1},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert!(
        followed.stdout().contains("after: 0"),
        "{}",
        followed.stdout()
    );
    let events = network(&followed);
    let allowed: Vec<_> = events
        .iter()
        .filter(|data| data["allowed"] == true)
        .collect();
    assert_eq!(allowed.len(), 1, "the connection is recorded: {events:#?}");
    assert_eq!(past_the_cap(&followed).len(), 1, "the cap was reached");
    // Each TRACE was a refusal and a warning: 68 of them, then one.
    let recorded = followed
        .events
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Network | EventKind::Warning))
        .count();
    assert_eq!(recorded, 4 + 64 + 1 + 1, "{events:#?}");
    assert_eq!(server.stop().await, 0);
}
