//! Ctrl-C on `corral run` never leaves a job running unsaid: the first
//! says how to follow or cancel it and keeps streaming, the second cancels
//! it and still shows how it ended.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::harness::{CORRAL, ServeProcess};

fn interrupt(pid: u32) {
    let sent = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

#[tokio::test]
async fn the_first_ctrl_c_says_how_to_follow_and_the_second_cancels() {
    let server = ServeProcess::start().await;
    let mut child = Command::new(CORRAL)
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "echo started; while true; do sleep 0.2; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("corral run");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::task::spawn_blocking(move || {
        let line = lines.next().and_then(Result::ok);
        (line, lines)
    })
    .await
    .expect("read");
    assert_eq!(first.0.as_deref(), Some("started"), "the job streams");
    interrupt(child.id());
    let listed = server.corral(&["jobs", "--json"]).await;
    let jobs: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("jobs JSON");
    let id = jobs["jobs"][0]["id"].as_str().expect("a job").to_owned();
    let mut running = false;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        running = server.show(&id).await["state"] == "running";
        assert!(
            child.try_wait().expect("wait").is_none(),
            "corral run goes on after one Ctrl-C"
        );
    }
    assert!(running, "the job runs on after one Ctrl-C");
    interrupt(child.id());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().expect("output"))
        .await
        .expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.contains(&format!("corral logs -f {id}")) && stderr.contains("Ctrl-C again"),
        "the first Ctrl-C says how to follow or cancel: {stderr}"
    );
    assert!(stderr.contains(&format!("cancelling {id}")), "{stderr}");
    assert_eq!(server.show(&id).await["state"], "cancelled", "{stderr}");
    assert_ne!(output.status.code(), Some(0));
    assert_eq!(server.stop().await, 0);
}
