//! A sandbox keeps its files when a killed server cut its stop or start
//! short: the next server finds them in its snapshot and stops it, instead
//! of ending it (which dropped them) or restoring a stop's snapshot over
//! the newer files of a container that still ran. Each state a kill can
//! leave is made from a real stop, the database and the snapshot file set
//! as the server would have left them at that point. A sandbox running
//! when the server shuts down is stopped with its files too.

use std::path::PathBuf;

use crate::harness::{ServeProcess, stderr, stdout};
use crate::sandbox_upgrade::create;

/// A new sandbox holding `/workspace/f` with `text`, stopped: its files
/// are in its snapshot.
async fn stopped_with(server: &ServeProcess, text: &str) -> String {
    let id = create(server).await;
    write(server, &id, text).await;
    let stopped = server.corral(&["sandbox", "stop", &id]).await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert_eq!(state(server, &id).await, "stopped");
    id
}

async fn write(server: &ServeProcess, id: &str, text: &str) {
    let script = format!("echo {text} > /workspace/f");
    let wrote = server
        .corral(&["exec", id, "--", "sh", "-c", &script])
        .await;
    assert!(wrote.status.success(), "{}", stderr(&wrote));
}

async fn state(server: &ServeProcess, id: &str) -> String {
    server.show(id).await["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Where the server keeps sandbox `id`'s snapshot (`snapshot`) or its
/// stop's before the stop is recorded (`stopping`).
fn kept(server: &ServeProcess, id: &str, extension: &str) -> PathBuf {
    server
        .data_dir
        .path()
        .join("sandboxes")
        .join(format!("{id}.{extension}"))
}

fn set_row(server: &ServeProcess, id: &str, state: &str, container: Option<&str>) {
    let path = server
        .data_dir
        .path()
        .join(corral_proto::local_server::DATABASE_FILE);
    let connection = rusqlite::Connection::open(path).expect("the database opens");
    let changed = connection
        .execute(
            "UPDATE jobs SET state = ?2, container_id = ?3 WHERE id = ?1",
            rusqlite::params![id, state, container],
        )
        .expect("the row is set");
    assert_eq!(changed, 1);
}

/// Removes sandboxes `ids`, stops `server` and checks that no container
/// of it is left.
async fn removed_and_stopped(server: ServeProcess, ids: &[&str]) {
    for id in ids {
        let removed = server.corral(&["sandbox", "rm", id]).await;
        assert!(removed.status.success(), "{}", stderr(&removed));
    }
    assert_eq!(server.stop().await, 0);
}

/// What `/workspace/f` holds once sandbox `id` is started again.
async fn started_file(server: &ServeProcess, id: &str) -> String {
    let started = server.corral(&["sandbox", "start", id]).await;
    assert!(started.status.success(), "{}", stderr(&started));
    let read = server
        .corral(&["exec", id, "--", "cat", "/workspace/f"])
        .await;
    assert!(read.status.success(), "{}", stderr(&read));
    stdout(&read)
}

#[tokio::test]
async fn a_sandbox_whose_stop_or_start_a_kill_cut_off_is_stopped_with_its_files() {
    let mut server = ServeProcess::start().await;
    // Killed after the stop kept its snapshot and its container went,
    // before the stop was recorded.
    let gone = stopped_with(&server, "gone-container").await;
    // Killed after the stop kept its snapshot, its container still
    // running (with a file written since).
    let ran = stopped_with(&server, "as-stopped").await;
    let snapshot = std::fs::read(kept(&server, &ran, "snapshot")).expect("its snapshot");
    let started = server.corral(&["sandbox", "start", &ran]).await;
    assert!(started.status.success(), "{}", stderr(&started));
    write(&server, &ran, "written-after").await;
    // Killed when its start was claimed, before its container ran.
    let starting = stopped_with(&server, "was-starting").await;
    // Killed when a restart had recorded a cut-off stop, before it renamed
    // the stop's snapshot.
    let recorded = stopped_with(&server, "recorded-stop").await;
    server.kill_hard();

    set_row(&server, &gone, "running", Some(&"0".repeat(64)));
    std::fs::rename(
        kept(&server, &gone, "snapshot"),
        kept(&server, &gone, "stopping"),
    )
    .expect("the stop's snapshot");
    std::fs::write(kept(&server, &ran, "stopping"), &snapshot).expect("the stop's snapshot");
    set_row(&server, &starting, "starting", None);
    std::fs::rename(
        kept(&server, &recorded, "snapshot"),
        kept(&server, &recorded, "stopping"),
    )
    .expect("the stop's snapshot");

    let server = server.restart().await;
    for id in [&gone, &ran, &starting, &recorded] {
        assert_eq!(state(&server, id).await, "stopped", "{id}");
        assert!(!kept(&server, id, "stopping").exists(), "{id}");
    }
    // The stop is finished with the files it kept; nothing was restored
    // over the container that ran.
    assert_eq!(started_file(&server, &gone).await, "gone-container\n");
    assert_eq!(started_file(&server, &ran).await, "as-stopped\n");
    assert_eq!(started_file(&server, &starting).await, "was-starting\n");
    assert_eq!(started_file(&server, &recorded).await, "recorded-stop\n");
    // `logs` prints warnings on stderr.
    let warned = stderr(&server.corral(&["logs", &starting]).await);
    assert!(
        warned.contains("restarted while the sandbox started"),
        "{warned}"
    );
    removed_and_stopped(server, &[&gone, &ran, &starting, &recorded]).await;
}

/// A restart removes the snapshot files nothing would read: one a kill cut
/// off while it was written, and the snapshot of a sandbox recorded ended
/// (a kill before its snapshot was dropped); it sets aside one of a
/// sandbox the database does not hold. A stopped sandbox's snapshot stays.
#[tokio::test]
async fn a_restart_removes_half_written_snapshots_and_those_of_ended_sandboxes() {
    let mut server = ServeProcess::start().await;
    let stopped = stopped_with(&server, "kept").await;
    let ended = stopped_with(&server, "ended").await;
    server.kill_hard();
    let snapshot = std::fs::read(kept(&server, &stopped, "snapshot")).expect("its snapshot");
    set_row(&server, &ended, "cancelled", None);
    let unknown = kept(&server, "j-00000000000000ff", "snapshot");
    std::fs::write(&unknown, &snapshot).expect("a snapshot of no sandbox");
    let partial = kept(&server, &stopped, "0123456789abcdef.partial");
    std::fs::write(&partial, &snapshot[..snapshot.len() / 2]).expect("a half-written snapshot");
    let half_stop = kept(&server, &ended, "fedcba9876543210.partial");
    std::fs::write(&half_stop, &snapshot[..10]).expect("a half-written snapshot");

    let server = server.restart().await;
    for gone in [
        &partial,
        &half_stop,
        &unknown,
        &kept(&server, &ended, "snapshot"),
    ] {
        assert!(!gone.exists(), "{} is left", gone.display());
    }
    // The database may have been put back from a backup: set aside.
    let aside = server
        .data_dir
        .path()
        .join("sandboxes/orphaned/j-00000000000000ff.snapshot");
    assert_eq!(std::fs::read(&aside).expect("set aside"), snapshot);
    assert!(kept(&server, &stopped, "snapshot").exists());
    assert_eq!(started_file(&server, &stopped).await, "kept\n");
    removed_and_stopped(server, &[&stopped]).await;
}

/// Stops sandbox `id` and leaves its files as a failed rename of its
/// stop's snapshot does: as `.stopping`, beside the `older` snapshot.
async fn stopped_not_moved(server: &ServeProcess, id: &str, older: &[u8]) {
    let stopped = server.corral(&["sandbox", "stop", id]).await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    std::fs::rename(kept(server, id, "snapshot"), kept(server, id, "stopping"))
        .expect("the stop's snapshot");
    std::fs::write(kept(server, id, "snapshot"), older).expect("an older snapshot");
}

/// A stop whose snapshot could not be renamed into place leaves it as the
/// stop's: a start or a fork moves it first, over an older snapshot too,
/// or is refused while it cannot. Before, they took the older snapshot (or
/// none), and the next stop wrote over the files.
#[tokio::test]
async fn a_start_takes_the_files_of_a_stop_whose_snapshot_was_not_moved_into_place() {
    let server = ServeProcess::start().await;
    let id = stopped_with(&server, "older").await;
    let older = std::fs::read(kept(&server, &id, "snapshot")).expect("its snapshot");
    assert_eq!(started_file(&server, &id).await, "older\n");
    write(&server, &id, "newer").await;
    stopped_not_moved(&server, &id, &older).await;
    // While the rename still fails, the start is refused.
    std::fs::remove_file(kept(&server, &id, "snapshot")).expect("the older snapshot");
    std::fs::create_dir_all(kept(&server, &id, "snapshot").join("in-the-way"))
        .expect("a directory where the snapshot goes");
    let refused = server.corral(&["sandbox", "start", &id]).await;
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("cannot be moved into place"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(state(&server, &id).await, "stopped");
    std::fs::remove_dir_all(kept(&server, &id, "snapshot")).expect("the directory");
    std::fs::write(kept(&server, &id, "snapshot"), &older).expect("an older snapshot");
    assert_eq!(started_file(&server, &id).await, "newer\n");
    assert!(!kept(&server, &id, "stopping").exists());
    // A fork takes the stop's files too.
    write(&server, &id, "newest").await;
    stopped_not_moved(&server, &id, &older).await;
    let forked = server.corral(&["sandbox", "fork", &id]).await;
    assert!(forked.status.success(), "{}", stderr(&forked));
    let fork = stdout(&forked).trim().to_owned();
    let read = server
        .corral(&["exec", &fork, "--", "cat", "/workspace/f"])
        .await;
    assert_eq!(stdout(&read), "newest\n", "{}", stderr(&read));
    removed_and_stopped(server, &[&id, &fork]).await;
}

/// A sandbox paused when the server is killed is re-adopted paused: it
/// takes no exec until it is resumed, then runs on with its files. Before,
/// the restart thawed it and it went on with what its user had frozen.
#[tokio::test]
async fn a_sandbox_paused_when_the_server_is_killed_stays_paused() {
    let mut server = ServeProcess::start().await;
    let id = create(&server).await;
    write(&server, &id, "paused-through").await;
    let paused = server.corral(&["sandbox", "pause", &id]).await;
    assert!(paused.status.success(), "{}", stderr(&paused));
    server.kill_hard();
    let server = server.restart().await;
    // Re-adopted in the background: its desk learns the pause then.
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        let shown = server.corral(&["sandbox", "ls", "--json"]).await;
        listed = serde_json::from_str(&stdout(&shown)).expect("JSON");
        if listed[0]["state"] == "paused" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["state"], "paused", "{listed}");
    crate::sandbox::refused_until_resumed(&server, &id).await;
    let read = server
        .corral(&["exec", &id, "--", "cat", "/workspace/f"])
        .await;
    assert_eq!(stdout(&read), "paused-through\n", "{}", stderr(&read));
    removed_and_stopped(server, &[&id]).await;
}

/// A graceful shutdown (SIGTERM) stops a running sandbox with its files
/// kept, saying so, and leaves no container; the next server starts it
/// again. Before, the shutdown ended it failed and dropped its files.
#[tokio::test]
async fn a_graceful_shutdown_stops_a_running_sandbox_with_its_files() {
    let server = ServeProcess::start().await;
    let id = create(&server).await;
    write(&server, &id, "kept-at-shutdown").await;
    let server = server.restart_gracefully().await;
    assert_eq!(state(&server, &id).await, "stopped");
    let warned = stderr(&server.corral(&["logs", &id]).await);
    assert!(warned.contains("the server shut down"), "{warned}");
    assert_eq!(started_file(&server, &id).await, "kept-at-shutdown\n");
    removed_and_stopped(server, &[&id]).await;
}

/// A user's stop under way when the server shuts down is waited for: the
/// sandbox stops with the files that stop read. Before, the shutdown ended
/// it failed at once and its files were dropped.
#[tokio::test]
async fn a_stop_under_way_at_a_shutdown_keeps_the_files() {
    let server = ServeProcess::start().await;
    let id = create(&server).await;
    // 4 MiB that do not deflate: the stop's snapshot takes a while (about
    // 2 s in a debug build, so it is under way at the shutdown), and well
    // under the 15 s a shutdown waits for it even on a loaded machine (16
    // MiB took 8 s here alone, and failed a CI run).
    let script =
        "echo kept-through-both > /workspace/f && head -c 4194304 /dev/urandom > /workspace/big";
    let wrote = server
        .corral(&["exec", &id, "--", "sh", "-c", script])
        .await;
    assert!(wrote.status.success(), "{}", stderr(&wrote));
    let mut stopping = tokio::process::Command::new(crate::harness::CORRAL)
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .args(["sandbox", "stop", &id])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("corral sandbox stop");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let server = server.restart_gracefully().await;
    let _ = stopping.wait().await;
    assert_eq!(state(&server, &id).await, "stopped");
    // Stopped at the shutdown, not by a stop that ended before it.
    let warned = stderr(&server.corral(&["logs", &id]).await);
    assert!(warned.contains("the server shut down"), "{warned}");
    assert_eq!(started_file(&server, &id).await, "kept-through-both\n");
    removed_and_stopped(server, &[&id]).await;
}
