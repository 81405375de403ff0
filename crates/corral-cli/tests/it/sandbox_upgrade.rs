//! A sandbox stored by an older corral, which reserved no exec numbers
//! (`jobs.execs_reserved` is 0): the first server of this version to take
//! it up numbers its execs past every one stored as started, not only past
//! the last sequence number.

use crate::harness::{ServeProcess, stderr, stdout};
use crate::sandbox::ended_exec;

/// The exec number an older corral handed out (and stored the start of)
/// far past the sandbox's last sequence number.
const OLD_NUMBER: u64 = 5000;

#[tokio::test]
async fn the_first_server_after_an_upgrade_numbers_past_every_exec_stored_as_started() {
    let mut server = ServeProcess::start().await;
    let created = server.corral(&["sandbox", "create"]).await;
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    let ran = server.corral(&["exec", &id, "--", "echo", "before"]).await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    ended_exec(&server, &id, "before")
        .await
        .expect("it ends within 30 s");
    server.kill_hard();
    // The row as an older corral left it: nothing reserved, no first
    // number, and a start stored of an exec numbered far past the rest.
    let database = server
        .data_dir
        .path()
        .join(corral_proto::local_server::DATABASE_FILE);
    let connection = rusqlite::Connection::open(database).expect("the database opens");
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
    let server = server.restart().await;
    let ran = server.corral(&["exec", &id, "--", "echo", "after"]).await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    let (exec, _) = ended_exec(&server, &id, "after")
        .await
        .expect("it ends within 30 s");
    assert!(exec > OLD_NUMBER, "{exec} could be handed out twice");
    let removed = server.corral(&["sandbox", "rm", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(server.stop().await, 0);
}
