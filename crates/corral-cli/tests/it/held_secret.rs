//! The orchestrator holds back output that could be the start of a secret
//! until the rest comes. Killed while it holds the first half, it must not
//! then store the second half in clear: the store knows which streams held
//! something, and the restarted server redacts as much of such a stream's
//! output as the rest of a secret could take, then lets the rest through.

use crate::harness::{ServeProcess, events, printed, stderr, stdout};

/// Its last byte begins it again, like the issue's.
const SECRET: &str = "s3cr3t-pass-word-s";
const FIRST_HALF: &str = "s3cr3t-pa";
const SECOND_HALF: &str = "ss-word-s";

#[tokio::test]
async fn a_server_killed_between_the_halves_of_a_secret_stores_neither_in_clear() {
    let server = ServeProcess::start().await;
    let set = server
        .corral_with_input(&["secret", "set", "HALVED"], &format!("{SECRET}\n"))
        .await;
    assert!(set.status.success(), "{}", stderr(&set));
    // The first half, a pause long enough for the restart, the rest.
    let script = r#"printf 'token=%.9s' "$K"; sleep 8; printf '%s\n' "${K#?????????}"; i=0; while [ $i -lt 3000 ]; do echo filler-line; i=$((i+1)); done; echo done"#;
    let detached = server
        .corral(&[
            "run", "--detach", "--grant", "HALVED=K", "--", "sh", "-c", script,
        ])
        .await;
    assert!(detached.status.success(), "{}", stderr(&detached));
    let id = stdout(&detached).trim().to_owned();
    let mut started = false;
    for _ in 0..200 {
        let logs = server.corral(&["logs", "--json", &id]).await;
        let so_far = printed(&events(&logs), None);
        assert!(!so_far.contains(FIRST_HALF), "{so_far}");
        if so_far.contains("token=") {
            started = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(started, "the job printed the first half");

    let server = server.restart().await;
    let followed = server.corral(&["logs", "--follow", "--json", &id]).await;
    let events = events(&followed);
    let text = printed(&events, None);
    assert!(
        text.starts_with("token=[REDACTED:held-across-a-restart]"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(text.ends_with("filler-line\ndone\n"), "the output goes on");
    let all = serde_json::to_string(&events).expect("events JSON");
    for half in [FIRST_HALF, SECOND_HALF] {
        assert!(!all.contains(half), "{half:?} in {all}");
        corral_testkit::assert_in_no_file(server.data_dir.path(), half);
    }
    assert_eq!(server.show(&id).await["state"], "succeeded");
    assert_eq!(server.stop().await, 0);
}
