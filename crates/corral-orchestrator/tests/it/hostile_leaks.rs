//! A granted secret printed by a real job through ordinary tools: cut
//! across writes, wrapped by `base64`, laid out by `hexdump -C`, `od -c`,
//! `od` (octal words) and `xxd`, escaped into JSON. No streamed event, no
//! stored event and no file of the server may hold any form of it, or any
//! piece of it.

use corral_orchestrator::internals::{Findings, Redactor};
use corral_proto::{Event, EventKind};
use corral_testkit::TestServer;
use serde_json::json;

/// The issue's secret: its last byte begins it again.
const SECRET: &str = "s3cr3t-pass-word-s";
/// One with the bytes JSON escapes.
const QUOTED: &str = r#"pa"ss\wo/rd-77x"#;

/// Runs `script` with both secrets granted (as `K` and `J`); returns the
/// streamed events and the stored ones.
async fn run(server: &TestServer, script: &str) -> (Vec<Event>, Vec<Event>) {
    run_at(server, script, "runc").await
}

/// [`run`] at an isolation level.
async fn run_at(server: &TestServer, script: &str, isolation: &str) -> (Vec<Event>, Vec<Event>) {
    let id = server
        .create(&json!({
            "command": ["sh", "-c", script],
            "isolation": isolation,
            "grants": [{"secret": "ISSUE_SECRET", "env": "K"}, {"secret": "QUOTED_SECRET", "env": "J"}],
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let (status, stored) = server.get(&format!("/v1/jobs/{id}/events")).await;
    assert!(status.is_success(), "{stored}");
    let stored: Vec<Event> =
        serde_json::from_value(stored["events"].clone()).expect("stored events");
    (followed.events, stored)
}

/// No form of either secret that the leak detector knows, and no eight
/// bytes of either in a row, in any event.
fn assert_no_trace(events: &[Event], what: &str) {
    let redactor = Redactor::new([("K", SECRET), ("J", QUOTED)]);
    for event in events {
        let text = serde_json::to_string(&event.data).expect("event JSON");
        let mut findings = Findings::default();
        assert_eq!(
            redactor.redact_text(&text, &mut findings),
            None,
            "{what}: a form of a secret in {text}"
        );
        if let Some(output) = event.data["text"].as_str() {
            assert_eq!(
                redactor.redact_text(output, &mut findings),
                None,
                "{what}: a form of a secret in {output}"
            );
            for secret in [SECRET, QUOTED] {
                for window in secret.as_bytes().windows(8) {
                    let piece = std::str::from_utf8(window).expect("ASCII");
                    assert!(!output.contains(piece), "{what}: {piece:?} in {output:?}");
                }
            }
        }
    }
}

fn stdout(events: &[Event]) -> String {
    events
        .iter()
        .filter(|event| event.kind == EventKind::Output && event.data["stream"] == "stdout")
        .filter_map(|event| event.data["text"].as_str())
        .collect()
}

async fn server_with_secrets() -> TestServer {
    let server = TestServer::start().await;
    server.put_secret("ISSUE_SECRET", SECRET).await;
    server.put_secret("QUOTED_SECRET", QUOTED).await;
    server
}

#[tokio::test]
async fn a_secret_that_ends_a_write_is_redacted_whole() {
    let server = server_with_secrets().await;
    for isolation in ["runc", "gvisor"] {
        let (streamed, stored) = run_at(
            &server,
            r#"printf "token=%s" "$K"; sleep 1; echo"#,
            isolation,
        )
        .await;
        assert_eq!(
            stdout(&streamed),
            "token=[REDACTED:ISSUE_SECRET]\n",
            "{isolation}"
        );
        assert_eq!(
            stdout(&stored),
            "token=[REDACTED:ISSUE_SECRET]\n",
            "{isolation}"
        );
        assert_no_trace(&streamed, "streamed");
        assert_no_trace(&stored, "stored");
    }
    corral_testkit::assert_in_no_file(server.data_dir.path(), SECRET);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn encodings_printed_by_ordinary_tools_are_redacted() {
    let server = server_with_secrets().await;
    // Each line of the script prints the secret one way; `sleep` between
    // some writes so they arrive as separate chunks.
    let script = r#"
printf '%s' "$K" | base64
printf 'a longer line, so the encoding wraps: %s and %s again\n' "$K" "$K" | base64
printf '%s%s%s%s' "$K" "$K" "$K" "$K" | base64
printf 'x%s\n' "$K" | hexdump -C
printf 'xy%s\n' "$K" | od -c
printf '%s' "$K" | xxd
printf '%s' "$K" | od -An -tx1
printf '%s' "$K" | hexdump -c
printf '%s' "$K" | hexdump
printf 'x%s' "$K" | od -x
printf 'xy%s\n' "$K" | od
printf '%s' "$K" | od -d
printf 'half %s' "$K" | head -c 12; sleep 1; printf '%s\n' "$K" | tail -c 12
printf '%s' "$K" | head -c 9; sleep 1; printf '%s\n' "$K" | tail -c 10 >&2
printf '{"value":"%s"}\n' "$(printf '%s' "$J" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\//\\\//g')"
printf '{"value":"%s"}\n' "$(printf '%s' "$J" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
echo done
"#;
    let (streamed, stored) = run(&server, script).await;
    let text = stdout(&stored);
    assert!(text.ends_with("done\n"), "{text}");
    assert!(
        text.matches("[REDACTED:").count() >= 10,
        "every encoding was found: {text}"
    );
    assert_no_trace(&streamed, "streamed");
    assert_no_trace(&stored, "stored");
    // `od` prints words of two bytes, in octal by default: none of the
    // secret's, checked apart from the detector (`xy` puts them in place).
    let with_xy = format!("xy{SECRET}");
    for word in with_xy.as_bytes()[2..].chunks_exact(2) {
        let word = u16::from_le_bytes([word[0], word[1]]);
        for printed in [format!(" {word:06o}"), format!(" {word}")] {
            assert!(!text.contains(&printed), "{printed:?} in {text}");
        }
    }
    corral_testkit::assert_in_no_file(server.data_dir.path(), SECRET);
    assert_eq!(server.stop().await, 0);
}
