use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bollard::query_parameters::InspectContainerOptions;
use serde_json::Value;

use crate::harness::{ServeProcess, events, printed, stderr, stdout};

/// Characters that change under URL-encoding, so each form differs.
const SECRET: &str = "Sup3r/S3cret+Value=42@corral";

/// Every form the job prints the secret in.
fn forms() -> Vec<String> {
    let url = SECRET
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D")
        .replace('@', "%40");
    vec![
        SECRET.to_owned(),
        STANDARD.encode(SECRET),
        url,
        hex::encode(SECRET),
    ]
}

const LEAKY_JOB: &str = r#"
    printf %s "$APP_SECRET" | sha256sum | cut -d' ' -f1
    echo "plain: $APP_SECRET"
    echo "base64: $(printf %s "$APP_SECRET" | base64)"
    echo "url: $(printf %s "$APP_SECRET" | sed 's#/#%2F#g; s#+#%2B#g; s#=#%3D#g; s#@#%40#g')"
    echo "hex: $(printf %s "$APP_SECRET" | od -An -tx1 | tr -d ' \n')"
    printf 'split: '; printf %s "$APP_SECRET" | head -c 10; sleep 1; printf %s "$APP_SECRET" | tail -c +11; echo
    printf 'github: ghp_%s\n' "$(printf 'aB3%.0s' $(seq 12))"
    printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n'
    echo done; sleep 3
"#;

fn sha256_hex(text: &str) -> String {
    let output = std::process::Command::new("sh")
        .args([
            "-c",
            "printf %s \"$1\" | sha256sum | cut -d' ' -f1",
            "sh",
            text,
        ])
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn contains_any(haystack: &[u8], needles: &[String]) -> Option<String> {
    needles
        .iter()
        .find(|needle| {
            haystack
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .cloned()
}

#[tokio::test]
async fn a_granted_secret_reaches_the_command_and_no_sink() {
    let server = ServeProcess::start().await;
    let set = server
        .corral_with_input(&["secret", "set", "LEAKY"], &format!("{SECRET}\n"))
        .await;
    assert!(set.status.success(), "{}", stderr(&set));
    let listed = server.corral(&["secret", "list", "--json"]).await;
    let listed: Value = serde_json::from_str(&stdout(&listed)).expect("list JSON");
    assert_eq!(listed[0]["name"], "LEAKY");
    assert!(listed[0].get("value").is_none(), "{listed}");

    let detached = server
        .corral(&[
            "run",
            "--detach",
            "--grant",
            "LEAKY=APP_SECRET",
            "--",
            "sh",
            "-c",
            LEAKY_JOB,
        ])
        .await;
    assert!(detached.status.success(), "{}", stderr(&detached));
    let id = stdout(&detached).trim().to_owned();

    assert_no_secret_in_container(&server, &id).await;

    let followed = server.corral(&["logs", "--follow", "--json", &id]).await;
    let run_output = format!("{}{}", stdout(&followed), stderr(&followed));
    let events = events(&followed);
    let printed = printed(&events, None);
    assert!(
        printed.starts_with(&sha256_hex(SECRET)),
        "the command saw the secret:\n{printed}"
    );
    for line in [
        "plain: [REDACTED:LEAKY]",
        "base64: [REDACTED:LEAKY]",
        "url: [REDACTED:LEAKY]",
        "hex: [REDACTED:LEAKY]",
        "split: [REDACTED:LEAKY]",
    ] {
        assert!(printed.contains(line), "missing `{line}` in:\n{printed}");
    }
    assert!(
        printed.contains("github: [REDACTED:github-token]"),
        "{printed}"
    );
    assert!(
        printed.contains("[REDACTED:private-key]") && !printed.contains("b3BlbnNzaC1rZXk"),
        "{printed}"
    );
    assert!(events.iter().any(|event| event["redacted"] == true));

    let logs = server.corral(&["logs", "--json", &id]).await;
    let human = server.corral(&["logs", &id]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let database = std::fs::read(server.data_dir.path().join("corral.db")).expect("database");
    let wal = std::fs::read(server.data_dir.path().join("corral.db-wal")).unwrap_or_default();
    let sinks: [(&str, Vec<u8>); 6] = [
        ("the SSE stream and CLI output", run_output.into_bytes()),
        ("the events API", logs.stdout.clone()),
        (
            "the human log view",
            [human.stdout.clone(), human.stderr.clone()].concat(),
        ),
        ("the orchestrator's log", server.log().into_bytes()),
        ("the database", database),
        ("the WAL", wal),
    ];
    for (sink, bytes) in &sinks {
        assert_eq!(
            contains_any(bytes, &forms()),
            None,
            "a form of the secret is in {sink}"
        );
    }
    assert!(
        server.log().contains("redacted secrets"),
        "the redaction is logged, without the value"
    );
    assert_eq!(server.stop().await, 0);
}

/// While the job runs: the worker's own environment and the container's
/// configuration hold no form of the secret.
async fn assert_no_secret_in_container(server: &ServeProcess, id: &str) {
    let job = server.wait_until_running(id).await;
    let container_id = job["container_id"]
        .as_str()
        .expect("container id")
        .to_owned();
    let docker = corral_testkit::docker().await;
    let inspected = docker
        .inspect_container(&container_id, None::<InspectContainerOptions>)
        .await
        .expect("inspect");
    let config = serde_json::to_string(&inspected).expect("inspect JSON");
    assert_eq!(
        contains_any(config.as_bytes(), &forms()),
        None,
        "docker inspect"
    );
    let init_pid = inspected
        .state
        .and_then(|state| state.pid)
        .expect("init pid");
    let children = std::fs::read_to_string(format!("/proc/{init_pid}/task/{init_pid}/children"))
        .expect("children");
    let worker_pid = children.split_whitespace().next().expect("the worker");
    let environ = std::fs::read(format!("/proc/{worker_pid}/environ")).expect("worker environ");
    assert!(!environ.is_empty());
    assert_eq!(
        contains_any(&environ, &forms()),
        None,
        "the worker's environment"
    );
}

#[tokio::test]
async fn bad_secrets_and_grants_get_clear_errors() {
    let server = ServeProcess::start().await;
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["secret", "set", "bad name"],
            "long-enough-value\n",
            "invalid secret name",
        ),
        (&["secret", "set", "SHORT"], "tiny\n", "too short"),
        (&["secret", "set", "EMPTY"], "", "no value"),
        (&["secret", "rm", "MISSING"], "", "not found"),
    ];
    for (args, input, message) in cases {
        let output = server.corral_with_input(args, input).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let huge = "x".repeat(70_000);
    let output = server
        .corral_with_input(&["secret", "set", "HUGE"], &huge)
        .await;
    assert!(stderr(&output).contains("limit"), "{}", stderr(&output));
    let set = server
        .corral_with_input(&["secret", "set", "TOKEN_A"], "value-number-one\n")
        .await;
    assert!(set.status.success(), "{}", stderr(&set));
    let grants: [(&[&str], &str); 4] = [
        (
            &["--grant", "UNKNOWN"],
            "--grant UNKNOWN: no secret named UNKNOWN (corral secret list)",
        ),
        (&["--grant", "TOKEN_A=PATH"], "--grant TOKEN_A=PATH: "),
        (
            &["--grant", "TOKEN_A=LD_PRELOAD"],
            "--grant TOKEN_A=LD_PRELOAD: ",
        ),
        (
            &["--grant", "TOKEN_A=X", "--grant", "TOKEN_A=X"],
            "--grant TOKEN_A=X: ",
        ),
    ];
    for (flags, field) in grants {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "true"]);
        let output = server.corral(&args).await;
        assert_eq!(output.status.code(), Some(1), "{flags:?}");
        assert!(
            stderr(&output).contains(field),
            "{flags:?}: {}",
            stderr(&output)
        );
    }
    let jobs = server.corral(&["jobs", "--json"]).await;
    assert_eq!(
        stdout(&jobs).trim(),
        r#"{"jobs":[],"next":null}"#,
        "no job was stored"
    );
    assert_eq!(server.stop().await, 0);
}
