//! `corral verify` against a real server: every row printed and a zero
//! exit here, JSON with --json; `corral doctor` shows the last result; the
//! check at start runs by default.

use crate::harness::{ServeProcess, stdout};

#[tokio::test]
async fn corral_verify_prints_every_row_and_doctor_shows_the_last_result() {
    let server = ServeProcess::start_verified().await;
    let output = server.corral(&["verify"]).await;
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}\n{output:?}");
    assert!(
        printed.contains("ok   the root filesystem is read-only"),
        "{printed}"
    );
    assert!(
        printed.contains("sandbox verified under runc on "),
        "{printed}"
    );
    assert!(printed.contains("(API "), "the engine named: {printed}");
    assert!(!printed.contains("FAIL"), "{printed}");

    let output = server.corral(&["verify", "--json"]).await;
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    assert_eq!(report["passed"], true);
    assert!(
        report["engine"]
            .as_str()
            .is_some_and(|engine| engine.contains("rootful") || engine.contains("rootless")),
        "{report}"
    );
    assert!(
        report["rows"]
            .as_array()
            .is_some_and(|rows| rows.len() >= 14)
    );

    let output = server.corral(&["doctor", "--json"]).await;
    let doctor: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("doctor JSON");
    let sandbox = doctor["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|check| check["check"] == "sandbox"))
        .expect("a sandbox check");
    assert_eq!(sandbox["ok"], true, "{sandbox}");
    let detail = sandbox["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("verified under runc"), "{detail}");
    // The check at start ran too: its probe job is in the list.
    let jobs = stdout(&server.corral(&["jobs", "--json"]).await);
    let jobs: serde_json::Value = serde_json::from_str(&jobs).expect("jobs JSON");
    assert!(jobs["jobs"].as_array().map_or(0, Vec::len) >= 3, "{jobs}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn no_verify_is_logged_as_a_warning() {
    let server = ServeProcess::start().await;
    assert!(
        server.log().contains("SANDBOX NOT VERIFIED"),
        "{}",
        server.log()
    );
    assert_eq!(server.stop().await, 0);
}
