//! `corral sandbox create|ls|rm`, `corral exec` and `corral cp` against a
//! real server: state kept between execs, exit codes and stdin passed
//! through, files and a directory with a link copied both ways.

use crate::harness::{ServeProcess, stderr, stdout};

#[tokio::test]
async fn a_sandbox_keeps_state_between_execs_and_copies_files_both_ways() {
    let server = ServeProcess::start().await;
    let created = server.corral(&["sandbox", "create", "--ttl", "10m"]).await;
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    assert!(id.starts_with("j-"), "{id}");

    let wrote = server
        .corral(&[
            "exec",
            &id,
            "--env",
            "WORD=kept",
            "--",
            "sh",
            "-c",
            "echo $WORD > /workspace/note; echo written",
        ])
        .await;
    assert!(wrote.status.success(), "{}", stderr(&wrote));
    assert_eq!(stdout(&wrote), "written\n");
    let read = server
        .corral(&["exec", &id, "--", "cat", "/workspace/note"])
        .await;
    assert_eq!(stdout(&read), "kept\n");
    let failed = server
        .corral(&["exec", &id, "--", "sh", "-c", "echo oops >&2; exit 5"])
        .await;
    assert_eq!(failed.status.code(), Some(5));
    assert!(stderr(&failed).contains("oops"), "{}", stderr(&failed));
    let piped = server
        .corral_with_input(&["exec", &id, "--", "wc", "-c"], "twelve bytes")
        .await;
    assert_eq!(stdout(&piped).trim(), "12");

    copy_a_tree_both_ways(&server, &id).await;

    let paused = server.corral(&["sandbox", "pause", &id]).await;
    assert_eq!(
        stdout(&paused),
        format!("{id} paused\n"),
        "{}",
        stderr(&paused)
    );
    refused_until_resumed(&server, &id).await;

    let listed = server.corral(&["sandbox", "ls", "--json"]).await;
    assert!(stdout(&listed).contains(&id), "{}", stdout(&listed));
    let removed = server.corral(&["sandbox", "rm", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    let after = server.corral(&["exec", &id, "--", "true"]).await;
    assert!(!after.status.success());
    // Refused at once once it ended, or cut short while it is ending.
    let said = stderr(&after);
    assert!(
        said.contains("not running") || said.contains("ended before"),
        "{said}"
    );
    assert_eq!(server.stop().await, 0);
}

/// `corral cp` of a directory with a link into the sandbox and back.
async fn copy_a_tree_both_ways(server: &ServeProcess, id: &str) {
    let local = tempfile::tempdir().expect("a local directory");
    let tree = local.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).expect("a tree");
    std::fs::write(tree.join("sub/file.txt"), "in a tree\n").expect("a file");
    std::os::unix::fs::symlink("sub/file.txt", tree.join("link")).expect("a link");
    let up = server
        .corral(&[
            "cp",
            &tree.to_string_lossy(),
            &format!("{id}:/workspace/tree"),
        ])
        .await;
    assert!(up.status.success(), "{}", stderr(&up));
    let seen = server
        .corral(&[
            "exec",
            id,
            "--",
            "sh",
            "-c",
            "cat /workspace/tree/link; readlink /workspace/tree/link",
        ])
        .await;
    assert_eq!(stdout(&seen), "in a tree\nsub/file.txt\n");
    let back = local.path().join("back");
    std::fs::create_dir(&back).expect("an existing directory");
    let refused = server
        .corral(&[
            "cp",
            &format!("{id}:/workspace/tree"),
            &back.to_string_lossy(),
        ])
        .await;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("exists"), "{}", stderr(&refused));
    std::fs::remove_dir(&back).expect("removed");
    let down = server
        .corral(&[
            "cp",
            &format!("{id}:/workspace/tree"),
            &back.to_string_lossy(),
        ])
        .await;
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(
        std::fs::read_to_string(back.join("sub/file.txt")).expect("copied back"),
        "in a tree\n"
    );
    assert_eq!(
        std::fs::read_link(back.join("link")).expect("still a link"),
        std::path::Path::new("sub/file.txt")
    );
}

#[tokio::test]
async fn a_sandbox_outlives_a_kill_9_of_the_server_with_its_files_and_processes() {
    let server = ServeProcess::start().await;
    let created = server.corral(&["sandbox", "create"]).await;
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    let made = server
        .corral(&["exec", &id, "--", "sh", "-c", "echo before > /workspace/kept; sleep 600 </dev/null >/dev/null 2>&1 & echo $! > /tmp/pid"])
        .await;
    assert!(made.status.success(), "{}", stderr(&made));
    server.wait_until_running(&id).await;
    let server = server.restart().await;
    let after = server
        .corral(&[
            "exec",
            &id,
            "--",
            "sh",
            "-c",
            "cat /workspace/kept; kill -0 $(cat /tmp/pid) && echo alive",
        ])
        .await;
    assert!(after.status.success(), "{}", stderr(&after));
    assert_eq!(stdout(&after), "before\nalive\n");
    let shown = server.corral(&["sandbox", "ls", "--json"]).await;
    let listed: serde_json::Value = serde_json::from_str(&stdout(&shown)).expect("JSON");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["state"], "running");
    let removed = server.corral(&["sandbox", "rm", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_stopped_and_started_sandbox_outlives_a_restart_and_still_ends_its_execs() {
    let server = ServeProcess::start().await;
    let created = server.corral(&["sandbox", "create"]).await;
    let id = stdout(&created).trim().to_owned();
    let wrote = server
        .corral(&[
            "exec",
            &id,
            "--",
            "sh",
            "-c",
            "echo kept > /workspace/f; i=0; while [ $i -lt 30 ]; do echo $i; i=$((i+1)); done",
        ])
        .await;
    assert!(wrote.status.success(), "{}", stderr(&wrote));
    // More batches from the first container's worker than the second's
    // will have sent when the server restarts.
    for _ in 0..3 {
        let more = server.corral(&["exec", &id, "--", "true"]).await;
        assert!(more.status.success(), "{}", stderr(&more));
    }
    for step in ["stop", "start"] {
        let out = server.corral(&["sandbox", step, &id]).await;
        assert!(out.status.success(), "{step}: {}", stderr(&out));
    }
    // Restarted before the new container's worker sent anything: re-adopted,
    // its batches (numbered from 1 again) are stored, not taken for retries
    // of the first container's.
    server.wait_until_running(&id).await;
    let server = server.restart().await;
    let after = server
        .corral(&[
            "exec",
            &id,
            "--",
            "sh",
            "-c",
            "cat /workspace/f; echo again",
        ])
        .await;
    if stdout(&after) != "kept\nagain\n" {
        // Why it did not run comes in its events (a warning when it stopped).
        let events = server.corral(&["logs", &id]).await;
        panic!(
            "exec after the restart printed {:?}: {}\nthe sandbox's events:\n{}{}",
            stdout(&after),
            stderr(&after),
            stdout(&events),
            stderr(&events)
        );
    }
    // Stopped, the server restarted, started: its files come back.
    let stopped = server.corral(&["sandbox", "stop", &id]).await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let server = server.restart().await;
    let started = server.corral(&["sandbox", "start", &id]).await;
    assert!(started.status.success(), "{}", stderr(&started));
    let back = server
        .corral(&["exec", &id, "--", "cat", "/workspace/f"])
        .await;
    assert_eq!(stdout(&back), "kept\n", "{}", stderr(&back));
    let removed = server.corral(&["sandbox", "rm", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(server.stop().await, 0);
}

/// An exec that runs while the server is killed goes on. The new server
/// reads from the store that it may still run: its output is taken, and
/// its end lets go of all of it at once, while the sandbox still runs
/// (before, the end of an exec from before the restart let go of nothing,
/// and what the leak detector held of its output came only at the close).
/// The server is killed while the detector holds the first half of a
/// secret: neither half is stored in clear.
#[tokio::test]
async fn an_exec_running_across_a_kill_9_has_all_its_output_when_it_ends() {
    const FIRST_HALF: &str = "s3cr3t-pa";
    const SECOND_HALF: &str = "ss-word-s";
    let server = ServeProcess::start().await;
    let set = server
        .corral_with_input(
            &["secret", "set", "HALVED"],
            &format!("{FIRST_HALF}{SECOND_HALF}\n"),
        )
        .await;
    assert!(set.status.success(), "{}", stderr(&set));
    let created = server.corral(&["sandbox", "create"]).await;
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    // Past the half, as much as the rest of a secret could take is
    // redacted after the restart: the filler lines come after.
    let script = format!(
        "echo begun; printf 'key={FIRST_HALF}'; while [ ! -e /tmp/go ]; do sleep 0.1; done; \
         echo {SECOND_HALF}; i=0; while [ $i -lt 3000 ]; do echo filler-line; i=$((i+1)); done; \
         echo ended-after-the-restart"
    );
    let mut before = tokio::process::Command::new(crate::harness::CORRAL)
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .args(["exec", &id, "--", "sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("corral exec");
    // `key=` came back: its start is stored, and the detector holds the
    // half that follows it (it lets go of `key=` only with it in hand).
    let mut shown = Vec::new();
    let mut out = before.stdout.take().expect("stdout piped");
    let read = async {
        let mut chunk = [0u8; 256];
        while !shown.ends_with(b"key=") {
            let read = tokio::io::AsyncReadExt::read(&mut out, &mut chunk).await?;
            if read == 0 {
                break;
            }
            shown.extend_from_slice(&chunk[..read]);
        }
        std::io::Result::Ok(())
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("`key=` within 30 s")
        .expect("read");
    assert_eq!(shown, b"begun\nkey=");
    let server = server.restart().await;
    let _ = before.kill().await;
    let go = server
        .corral(&["exec", &id, "--", "touch", "/tmp/go"])
        .await;
    assert!(go.status.success(), "{}", stderr(&go));
    let (exec, events) = ended_exec(&server, &id, "begun")
        .await
        .expect("the old exec ends within 30 s");
    let printed: String = events
        .iter()
        .filter(|event| event["kind"] == "output" && event["data"]["exec"] == exec)
        .filter_map(|event| event["data"]["text"].as_str())
        .collect();
    assert!(
        printed.starts_with("begun\nkey=[REDACTED:")
            && printed.ends_with("filler-line\nended-after-the-restart\n")
            && !printed.contains(FIRST_HALF)
            && !printed.contains(SECOND_HALF),
        "{printed}"
    );
    let removed = server.corral(&["sandbox", "rm", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(server.stop().await, 0);
}

/// Waits (30 s at most) for the end of the exec whose command holds
/// `marker`; its number and the sandbox's events then, or `None`.
pub(crate) async fn ended_exec(
    server: &ServeProcess,
    id: &str,
    marker: &str,
) -> Option<(u64, Vec<serde_json::Value>)> {
    for _ in 0..300 {
        let events = crate::harness::events(&server.corral(&["logs", "--json", id]).await);
        let exec = events
            .iter()
            .find(|event| {
                event["kind"] == "exec_started" && event["data"]["cmd"].to_string().contains(marker)
            })
            .and_then(|event| event["data"]["exec"].as_u64());
        if let Some(exec) = exec
            && events
                .iter()
                .any(|event| event["kind"] == "exec_ended" && event["data"]["exec"] == exec)
        {
            return Some((exec, events));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// Exec numbers are reserved in the store before they are handed out: a
/// server started after a kill -9 numbers its execs past every number the
/// last one reserved, however many restarts came between (a number handed
/// out twice would give two processes one stream and one end).
#[tokio::test]
async fn exec_numbers_after_restarts_are_past_every_one_reserved() {
    let mut server = ServeProcess::start().await;
    let created = server.corral(&["sandbox", "create"]).await;
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    let mut numbers = Vec::new();
    for round in 0..3 {
        let marker = format!("round-{round}");
        let ran = server.corral(&["exec", &id, "--", "echo", &marker]).await;
        assert!(ran.status.success(), "{}", stderr(&ran));
        let (exec, _) = ended_exec(&server, &id, &marker)
            .await
            .expect("it ends within 30 s");
        numbers.push(exec);
        server = server.restart().await;
    }
    // 256 a block, reserved at a desk's first exec.
    assert!(
        numbers.windows(2).all(|pair| pair[1] > pair[0] + 255),
        "{numbers:?}"
    );
    let removed = server.corral(&["sandbox", "rm", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(server.stop().await, 0);
}

/// Checks that paused sandbox `id` refuses an exec until it is resumed,
/// then resumes it.
pub(crate) async fn refused_until_resumed(server: &ServeProcess, id: &str) {
    let refused = server.corral(&["exec", id, "--", "true"]).await;
    assert!(
        stderr(&refused).contains("resume it first"),
        "{}",
        stderr(&refused)
    );
    let resumed = server.corral(&["sandbox", "resume", id]).await;
    assert_eq!(
        stdout(&resumed),
        format!("{id} running\n"),
        "{}",
        stderr(&resumed)
    );
}
