//! A sandbox stored by an older corral, which reserved no exec numbers
//! (`jobs.execs_reserved` is 0): the first server of this version to take
//! it up numbers its execs past every one stored as started, not only past
//! the last sequence number.

use crate::harness::{ServeProcess, stderr, stdout};
use crate::sandbox::ended_exec;

/// The exec number an older corral handed out (and stored the start of)
/// far past the sandbox's last sequence number.
const OLD_NUMBER: u64 = 5000;

/// A new sandbox's id.
pub(crate) async fn create(server: &ServeProcess) -> String {
    let created = server.corral(&["sandbox", "create"]).await;
    assert!(created.status.success(), "{}", stderr(&created));
    stdout(&created).trim().to_owned()
}

/// The killed server's database, opened beside it.
fn database(server: &ServeProcess) -> rusqlite::Connection {
    let path = server
        .data_dir
        .path()
        .join(corral_proto::local_server::DATABASE_FILE);
    rusqlite::Connection::open(path).expect("the database opens")
}

/// Restarts `server`, runs an exec in sandbox `id` and returns its number;
/// the sandbox is then removed and the server stopped.
async fn exec_after_restart(server: ServeProcess, id: &str) -> u64 {
    let server = server.restart().await;
    let ran = server.corral(&["exec", id, "--", "echo", "after"]).await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    let (exec, _) = ended_exec(&server, id, "after")
        .await
        .expect("it ends within 30 s");
    let removed = server.corral(&["sandbox", "rm", id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(server.stop().await, 0);
    exec
}

#[tokio::test]
async fn the_first_server_after_an_upgrade_numbers_past_every_exec_stored_as_started() {
    let mut server = ServeProcess::start().await;
    let id = create(&server).await;
    let ran = server.corral(&["exec", &id, "--", "echo", "before"]).await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    ended_exec(&server, &id, "before")
        .await
        .expect("it ends within 30 s");
    server.kill_hard();
    // The row as an older corral left it: nothing reserved, no first
    // number, and a start stored of an exec numbered far past the rest.
    let connection = database(&server);
    connection
        .execute(
            "UPDATE jobs SET execs_reserved = 0, execs_from = 0 WHERE id = ?1",
            [&id],
        )
        .expect("the row is an older corral's");
    let changed = connection
        .execute(
            "UPDATE events SET data = json_set(data, '$.exec', ?2) \
             WHERE job_id = ?1 AND kind = 'exec_started'",
            rusqlite::params![id, OLD_NUMBER],
        )
        .expect("the start is renumbered");
    assert_eq!(changed, 1);
    drop(connection);
    let exec = exec_after_restart(server, &id).await;
    assert!(exec > OLD_NUMBER, "{exec} could be handed out twice");
}

/// A sandbox of this version that never ran an exec has nothing reserved
/// either, but it is no older corral's: an `exec_started` its worker forged
/// with the highest number the store holds as an integer must not become the
/// floor of its numbering (the reservation past it failed, and with it
/// every exec; a stop and start failed the sandbox).
#[tokio::test]
async fn a_forged_start_in_a_sandbox_that_never_ran_an_exec_does_not_number_its_execs() {
    let mut server = ServeProcess::start().await;
    let id = create(&server).await;
    // Running: its desk numbered its container's first exec.
    let mut running = false;
    for _ in 0..300 {
        let listed = stdout(&server.corral(&["sandbox", "ls"]).await);
        if listed
            .lines()
            .any(|line| line.contains(&id) && line.contains("running"))
        {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(running, "it runs within 30 s");
    server.kill_hard();
    let connection = database(&server);
    let (first, reserved): (i64, i64) = connection
        .query_row(
            "SELECT execs_from, execs_reserved FROM jobs WHERE id = ?1",
            [&id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("the row");
    assert!(first > 0 && reserved == 0, "{first} {reserved}");
    let forged = connection
        .execute(
            "INSERT INTO events (job_id, seq, ts, kind, data) \
             SELECT ?1, MAX(seq) + 1, MAX(ts), 'exec_started', \
             json_object('exec', 9223372036854775807, 'cmd', 'forged', 'cwd', '/') \
             FROM events WHERE job_id = ?1",
            [&id],
        )
        .expect("the forged start is stored");
    assert_eq!(forged, 1);
    drop(connection);
    let exec = exec_after_restart(server, &id).await;
    assert!(exec < 1 << 32, "numbered past the forged start: {exec}");
}
