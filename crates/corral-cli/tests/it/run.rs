use corral_runtime::Runtime;
use serde_json::Value;

use crate::harness::{ServeProcess, events, printed, stderr, stdout};

#[tokio::test]
async fn run_streams_output_in_order_and_exits_with_the_jobs_code() {
    let server = ServeProcess::start().await;
    let output = server
        .corral(&[
            "run",
            "--memory",
            "128m",
            "--timeout",
            "1m",
            "--",
            "sh",
            "-c",
            "for i in 1 2 3 4 5; do echo out-$i; done; echo oops >&2; exit 5",
        ])
        .await;
    assert_eq!(stdout(&output), "out-1\nout-2\nout-3\nout-4\nout-5\n");
    assert!(stderr(&output).contains("oops"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("failed (exit code 5)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(5));

    let listed = server.corral(&["jobs", "--json"]).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let jobs: Value = serde_json::from_str(&stdout(&listed)).expect("jobs JSON");
    let job = &jobs["jobs"][0];
    for key in ["id", "state", "exit_code", "reason", "container_id"] {
        assert!(job.get(key).is_some(), "`{key}` in {job}");
    }
    assert_eq!(job["state"], "failed");
    assert_eq!(job["exit_code"], 5);
    let id = job["id"].as_str().expect("id");
    let older = server.corral(&["jobs", "--before", id]).await;
    assert!(older.status.success(), "{}", stderr(&older));
    assert!(
        !stdout(&older).contains("j-"),
        "nothing before the first job"
    );
    assert!(
        !stderr(&older).contains("older jobs"),
        "no page after the last"
    );
    let unknown = server
        .corral(&["jobs", "--before", "j-0000000000000000"])
        .await;
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("before"), "{}", stderr(&unknown));

    let shown = server.corral(&["show", id, "--json"]).await;
    let shown: Value = serde_json::from_str(&stdout(&shown)).expect("show JSON");
    assert_eq!(shown["id"], id);
    assert_eq!(shown["reason"], "exit code 5");

    let logs = server.corral(&["logs", id, "--json"]).await;
    let events = events(&logs);
    let texts = printed(&events, Some("stdout"));
    assert_eq!(texts, "out-1\nout-2\nout-3\nout-4\nout-5\n");
    assert_eq!(events.last().expect("events")["data"]["state"], "failed");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_detached_job_can_be_followed_and_cancelled() {
    let server = ServeProcess::start().await;
    let id = server.detached("echo started; sleep 300").await;
    assert!(id.starts_with("j-"), "{id}");
    let cancelled = server.corral(&["cancel", &id]).await;
    assert!(cancelled.status.success(), "{}", stderr(&cancelled));
    let followed = server.corral(&["logs", "--follow", &id]).await;
    assert!(
        stderr(&followed).contains("cancelled"),
        "{}",
        stderr(&followed)
    );
    let shown = server.corral(&["show", &id]).await;
    assert!(stdout(&shown).contains("cancelled"), "{}", stdout(&shown));
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn bad_flags_and_bad_specs_are_named() {
    let server = ServeProcess::start().await;
    let output = server
        .corral(&["run", "--memory", "lots", "--", "true"])
        .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--memory"), "{}", stderr(&output));
    let output = server
        .corral(&["run", "--project", "/etc", "--", "true"])
        .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("project"), "{}", stderr(&output));
    let output = server
        .corral(&["run", "--mode", "teleport", "--", "true"])
        .await;
    assert!(stderr(&output).contains("--mode"), "{}", stderr(&output));
    let jobs = server.corral(&["jobs", "--json"]).await;
    assert_eq!(
        stdout(&jobs).trim(),
        r#"{"jobs":[],"next":null}"#,
        "nothing was stored"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_missing_server_gets_a_clear_message() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(crate::harness::CORRAL)
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["--server", "http://127.0.0.1:9", "jobs"])
        .output()
        .expect("run corral");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("cannot reach the corral server") && message.contains("corral serve"),
        "{message}"
    );
}

#[tokio::test]
async fn an_isolated_job_is_reviewed_with_diff_and_applied() {
    let server = ServeProcess::start().await;
    let repo = crate::harness::git_repo();
    let project = repo.path().to_string_lossy().into_owned();
    let ran = server
        .corral(&[
            "run",
            "--project",
            &project,
            "--branch",
            "--",
            "sh",
            "-c",
            "echo world >> /workspace/readme.md",
        ])
        .await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    let jobs: Value = serde_json::from_str::<serde_json::Value>(&stdout(
        &server.corral(&["jobs", "--json"]).await,
    ))
    .expect("jobs")["jobs"]
        .clone();
    let id = jobs[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        std::fs::read_to_string(repo.path().join("readme.md")).expect("read"),
        "hello\n",
        "untouched until apply"
    );
    let stat = server.corral(&["diff", &id, "--stat"]).await;
    assert!(
        stdout(&stat).contains("+1") && stdout(&stat).contains("readme.md"),
        "{}",
        stdout(&stat)
    );
    let patch = server.corral(&["diff", &id]).await;
    assert!(stdout(&patch).contains("+world"), "{}", stdout(&patch));
    let json: Value = serde_json::from_str(&stdout(&server.corral(&["diff", &id, "--json"]).await))
        .expect("diff JSON");
    assert_eq!(json["files"][0]["path"], "readme.md");
    let applied = server.corral(&["apply", &id]).await;
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(
        std::fs::read_to_string(repo.path().join("readme.md")).expect("read"),
        "hello\nworld\n"
    );
    let discarded = server.corral(&["discard", &id]).await;
    assert!(discarded.status.success(), "{}", stderr(&discarded));
    let again = server.corral(&["diff", &id]).await;
    assert_eq!(again.status.code(), Some(1), "nothing left to diff");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_crashed_server_ends_a_job_it_cannot_re_adopt_with_a_reason() {
    let mut server = ServeProcess::start().await;
    let id = server.detached("echo started; sleep 300").await;
    let instance = server.instance_id();
    server.wait_until_running(&id).await;
    server.kill_hard();
    // The container is lost while the server is down: nothing to re-adopt.
    assert_eq!(corral_testkit::remove_labelled("corral.job", &id).await, 1);
    let server = server.restart().await;
    assert_eq!(
        server.instance_id(),
        instance,
        "the same instance after a restart"
    );
    let shown = server.show(&id).await;
    assert_eq!(shown["state"], "failed");
    assert_eq!(shown["reason"], "container lost");
    let logs = server.corral(&["logs", "--json", &id]).await;
    let seqs: Vec<u64> = events(&logs)
        .iter()
        .map(|event| event["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert_eq!(
        server.stop().await,
        0,
        "the restart removed the crashed run's container"
    );
}

/// A job whose socket cannot be served again after a restart is not left
/// running on unserved: its container goes at once, not at a later reap.
#[tokio::test]
async fn a_job_that_cannot_be_re_adopted_has_its_container_removed_at_once() {
    let mut server = ServeProcess::start().await;
    let id = server.detached("sleep 300").await;
    server.wait_until_running(&id).await;
    server.kill_hard();
    // Where the restarted server would bind the job's socket again, a
    // directory it cannot remove: serving the job again fails.
    let socket = server
        .data_dir
        .path()
        .join("run")
        .join(&id)
        .join("worker.sock");
    std::fs::remove_file(&socket).expect("the old socket is there");
    std::fs::create_dir(&socket).expect("a directory in its place");
    std::fs::write(socket.join("keep"), "x").expect("a file in it");
    let server = server.restart().await;
    // Its setup is tried five times in about 15 s (`jobs/run/session.rs`)
    // before it ends: waited for up to 40 s.
    let mut ended = false;
    for _ in 0..400 {
        if server.show(&id).await["state"] == "failed" {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shown = server.show(&id).await;
    assert!(ended, "the job ends: {shown}");
    let reason = shown["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot open the job socket"), "{shown}");
    let runtime = corral_docker::DockerRuntime::connect()
        .await
        .expect("connect to Docker");
    let gone = corral_testkit::eventually(|| async {
        runtime
            .list_by_label(corral_runtime::LABEL_JOB, &id)
            .await
            .is_ok_and(|containers| containers.is_empty())
    })
    .await;
    assert!(
        gone,
        "the job's container was removed, not spared for a reap"
    );
    assert!(
        !server.data_dir.path().join("run").join(&id).exists(),
        "its socket directory is gone too"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_running_job_is_re_adopted_after_the_server_is_killed() {
    re_adopted_after_a_kill(ServeProcess::start().await).await;
}

/// The same from a warm-pool container: its label names its pool entry,
/// not the job, and the restarted server must still own it by id (and
/// reap the crashed run's idle pool container).
#[tokio::test]
async fn a_job_in_a_pool_container_is_re_adopted_after_the_server_is_killed() {
    let server = ServeProcess::start_with(&["--pool-size", "1"], &[]).await;
    let ready =
        corral_testkit::eventually(|| async { server.log().contains("pool container ready") })
            .await;
    assert!(ready, "the pool's container is up:\n{}", server.log());
    let log = server.log();
    let pool_container = log
        .lines()
        .find(|line| line.contains("pool container ready"))
        .and_then(|line| {
            // The container id is the line's one run of 64 hex digits
            // (the log may be coloured).
            line.split(|c: char| !c.is_ascii_hexdigit())
                .find(|word| word.len() == 64)
                .map(str::to_owned)
        })
        .expect("the ready line names the container");
    let container = re_adopted_after_a_kill(server).await;
    assert_eq!(
        container, pool_container,
        "the job ran in the pool's container"
    );
}

/// Starts a ticking job, kills the server, restarts it, and checks the job
/// went on and ended with every line once; returns the job's container.
async fn re_adopted_after_a_kill(server: ServeProcess) -> String {
    let script = "i=1; while [ $i -le 30 ]; do echo tick-$i; i=$((i+1)); sleep 0.1; done";
    let id = server.detached(script).await;
    let mut ticking = false;
    for _ in 0..100 {
        let logs = server.corral(&["logs", "--json", &id]).await;
        if stdout(&logs).contains("tick-") {
            ticking = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ticking, "the job started printing");
    let server = server.restart().await;
    let followed = server.corral(&["logs", "--follow", "--json", &id]).await;
    let events = events(&followed);
    let printed = printed(&events, None);
    let expected: Vec<String> = (1..=30).map(|i| format!("tick-{i}")).collect();
    assert_eq!(
        printed,
        expected.join("\n") + "\n",
        "every line once, in order"
    );
    let seqs: Vec<u64> = events
        .iter()
        .filter_map(|event| event["seq"].as_u64())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let shown = server.show(&id).await;
    assert_eq!(shown["state"], "succeeded", "{shown}");
    assert_eq!(server.stop().await, 0);
    shown["container_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
