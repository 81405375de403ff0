//! What the store refused (a full disk, a busy database) is undone, so
//! the copy the worker sends again is taken as if it were the first: the
//! leak detector, the completion, the output budget and the audit.

use corral_orchestrator::internals::SqliteStore;
use corral_orchestrator::internals::{EventRecords, SecretRecords};
use corral_proto::{EventKind, Job};
use corral_testkit::unix_request;
use serde_json::json;

use crate::event_budget::cost;
use crate::held_output::{
    FIRST_HALF, SECOND_HALF, SECRET, Served, busy, closed, finish, output, post, served,
    served_with, stored_output,
};

/// A second connection to `database` that makes every append of events
/// fail, as a full disk does, until [`take_events`].
fn refuse_events(database: &std::path::Path) -> rusqlite::Connection {
    refuse_events_where(database, "1")
}

/// [`refuse_events`] for the events `condition` (SQL on `NEW`) holds for.
fn refuse_events_where(database: &std::path::Path, condition: &str) -> rusqlite::Connection {
    let refuser = rusqlite::Connection::open(database).expect("second connection");
    refuser
        .execute_batch(&format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN {condition} \
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;"
        ))
        .expect("trigger");
    refuser
}

fn take_events(refuser: rusqlite::Connection) {
    refuser
        .execute_batch("DROP TRIGGER refuse")
        .expect("drop trigger");
    refuser.close().expect("closed");
}

/// POSTs `body` to `path` on the job `socket` while the store in
/// `database` refuses every append (answered 500); appends are taken
/// again on return.
pub(crate) async fn refused(
    database: &std::path::Path,
    socket: &std::path::Path,
    token: &str,
    path: &str,
    body: &str,
) {
    let refuser = refuse_events(database);
    let (status, _) = unix_request(socket, "POST", path, Some(token), body).await;
    assert_eq!(status, 500, "the store refused it");
    take_events(refuser);
}

/// POSTs `body` to `path` while the store refuses every append (answered
/// 500), then again once it takes them (answered 200).
async fn refused_then_taken(served: &Served, path: &str, body: &str) {
    let (socket, token) = (&served.socket, served.token.as_str());
    refused(&served.database, socket, token, path, body).await;
    let (status, answer) = unix_request(socket, "POST", path, Some(token), body).await;
    assert_eq!(status, 200, "taken when sent again: {answer}");
}

/// A batch the store refused (a full disk, say) leaves the leak detector
/// as it was before it: the copy the worker sends again meets it as the
/// first did. Pushed a second time behind the first, the held first half
/// of a secret would no longer start one, and would be let go in clear.
#[tokio::test]
async fn a_batch_the_store_refused_is_taken_again_as_if_new() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000bd").await;
    let second = json!({"batch": 2, "events": [output(FIRST_HALF)]}).to_string();
    refused(
        &served.database,
        &served.socket,
        &served.token,
        "/v1/events",
        &second,
    )
    .await;

    let text = finish(served).await;
    assert_eq!(text, "plain [REDACTED:DEPLOY_KEY] ok.\n");
}

/// A completion the store refused (a full disk) is undone: what the leak
/// detector held is held again, and the completion the worker sends again
/// is taken, with that output (it was answered "already reported", and
/// the held output was lost).
#[tokio::test]
async fn a_completion_the_store_refused_is_taken_when_sent_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000be").await;
    let (socket, token) = (&served.socket, &served.token);
    let held = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    post(socket, token, "/v1/events", &held).await;

    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0}).to_string();
    refused_then_taken(&served, "/v1/complete", &done).await;
    let (store, job) = closed(served).await;
    assert_eq!(
        stored_output(&store, &job).await,
        format!("plain {FIRST_HALF}")
    );
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let completions = stored
        .iter()
        .filter(|event| event.kind == EventKind::Result)
        .count();
    assert_eq!(completions, 1, "{stored:?}");
}

/// The output of a batch the store refused does not count against the
/// job's output budget: sent again, it is taken whole (it counted twice,
/// and was dropped past the budget as if the job had printed too much).
#[tokio::test]
async fn a_batch_the_store_refused_does_not_spend_the_output_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    // "plain " (the first batch) and one more line fit; two would not.
    let line = "a line of output\n";
    let budget = cost(&output("plain ")) + cost(&output(line)) + 4;
    let served = served_with(dir.path(), "j-00000000000000c4", |provisions| {
        provisions.max_output_bytes = budget;
    })
    .await;
    let second = json!({"batch": 2, "events": [output(line)]}).to_string();
    refused_then_taken(&served, "/v1/events", &second).await;
    let (store, job) = closed(served).await;
    assert_eq!(stored_output(&store, &job).await, format!("plain {line}"));
}

/// The redactions of a batch the store refused are audited once, when it
/// is taken (they were audited again each time it was sent).
#[tokio::test]
async fn a_batch_the_store_refused_is_audited_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c5").await;
    let second = json!({"batch": 2, "events": [output(&format!("{SECRET}\n"))]}).to_string();
    refused_then_taken(&served, "/v1/events", &second).await;
    let (store, job) = closed(served).await;
    assert_eq!(
        stored_output(&store, &job).await,
        "plain [REDACTED:DEPLOY_KEY]\n"
    );
    let audited = store.redactions(&job.id).await.expect("audit");
    assert_eq!(audited, ["DEPLOY_KEY"]);
}

/// A batch the store refused and the worker gave up on (it sent a later
/// one) is lost, and what follows it may be the rest of a secret it began:
/// the streams it touched start covered, as after a restart (the second
/// half of the secret was stored in clear).
#[tokio::test]
async fn output_after_a_batch_given_up_on_is_covered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000ca").await;
    let socket = &served.socket;
    let lost = json!({"batch": 2, "events": [output(FIRST_HALF)]}).to_string();
    refused(&served.database, socket, &served.token, "/v1/events", &lost).await;
    let rest = json!({"batch": 3, "events": [output(&format!("{SECOND_HALF} ok.\n"))]});
    post(socket, &served.token, "/v1/events", &rest).await;
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0});
    post(socket, &served.token, "/v1/complete", &done).await;
    let (store, job) = closed(served).await;
    let text = stored_output(&store, &job).await;
    assert!(!text.contains(SECOND_HALF), "{text}");
    assert_eq!(text, "plain [REDACTED:after-lost-output]");
}

/// The endpoint's report counts the numbered batches never stored: one
/// the worker gave up on (it sent a later one) and one refused and not
/// sent again before the job ended; a refused batch taken when sent again
/// is not lost. The job's end tells of them (`outcome::judge`).
#[tokio::test]
async fn batches_never_stored_are_counted_and_one_taken_again_is_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sent_again = served(dir.path().join("taken").as_path(), "j-00000000000000cb").await;
    let again = json!({"batch": 2, "events": [output("sent twice\n")]}).to_string();
    refused_then_taken(&sent_again, "/v1/events", &again).await;
    let report = sent_again.endpoint.close().await;
    assert_eq!(report.lost_batches, 0, "taken when sent again");

    let served = served(dir.path().join("lost").as_path(), "j-00000000000000cc").await;
    let (database, socket, token) = (&served.database, &served.socket, &served.token);
    let given_up = json!({"batch": 2, "events": [output("given up\n")]}).to_string();
    refused(database, socket, token, "/v1/events", &given_up).await;
    let later = json!({"batch": 3, "events": [output("later\n")]});
    post(socket, token, "/v1/events", &later).await;
    let last = json!({"batch": 4, "events": [output("never sent again\n")]}).to_string();
    refused(database, socket, token, "/v1/events", &last).await;
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0});
    post(socket, token, "/v1/complete", &done).await;
    let report = served.endpoint.close().await;
    assert_eq!(report.lost_batches, 2);

    // Out of order (a worker that is not ours): a lower number refused
    // after a higher one counts both, not the last alone.
    let unordered = self::served(dir.path().join("order").as_path(), "j-00000000000000cd").await;
    let (database, socket, token) = (&unordered.database, &unordered.socket, &unordered.token);
    for number in [5, 4] {
        let body = json!({"batch": number, "events": [output("refused\n")]}).to_string();
        refused(database, socket, token, "/v1/events", &body).await;
    }
    let report = unordered.endpoint.close().await;
    assert_eq!(report.lost_batches, 2, "both refused batches");
}

/// A completion is stored with the flush of what the detector held in
/// one append, or neither is: stored apart, a flush taken and a
/// completion refused left the job's output ended with no completion,
/// and an orchestrator restarted then judged the job never completed.
#[tokio::test]
async fn a_completion_and_its_flush_are_stored_together_or_not_at_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000cb").await;
    let (socket, token) = (&served.socket, &served.token);
    let held = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    post(socket, token, "/v1/events", &held).await;

    // The store takes output, but not the completion's event.
    let refuser = refuse_events_where(&served.database, "NEW.kind = 'result'");
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0}).to_string();
    let (status, _) = unix_request(socket, "POST", "/v1/complete", Some(token), &done).await;
    assert_eq!(status, 500, "the store refused it");
    assert_eq!(
        stored_output(&served.store, &served.job).await,
        "plain ",
        "the flush was stored without its completion"
    );
    take_events(refuser);

    let (status, answer) = unix_request(socket, "POST", "/v1/complete", Some(token), &done).await;
    assert_eq!(status, 200, "taken when sent again: {answer}");
    let (store, job) = closed(served).await;
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let kinds: Vec<EventKind> = stored.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        [EventKind::Output, EventKind::Result],
        "{stored:?}"
    );
    assert_eq!(
        stored_output(&store, &job).await,
        format!("plain {FIRST_HALF}")
    );
}

/// The worker sends its completion again when it got no answer (its
/// connection cut while the database was busy): the copy waits for the
/// first and is answered as it was, not "already reported"; another
/// completion is still refused, and changes nothing.
#[tokio::test]
async fn a_completion_sent_again_is_answered_as_the_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000cc").await;
    let (socket, token) = (&served.socket, &served.token);
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0}).to_string();

    // The database is busy: the first copy waits in its store.
    let blocker = busy(&served.database);
    let sleep = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    let request = || unix_request(socket, "POST", "/v1/complete", Some(token), &done);
    let (first, again, ()) = tokio::join!(
        request(),
        async {
            sleep(300).await;
            request().await
        },
        async {
            sleep(600).await;
            blocker.execute_batch("COMMIT").expect("unlock");
        }
    );
    drop(blocker);
    for (status, answer) in [first, again] {
        assert_eq!(status, 200, "{answer}");
    }

    let other = json!({"status": "failed", "summary": "no", "exit_code": 3}).to_string();
    let (status, answer) = unix_request(socket, "POST", "/v1/complete", Some(token), &other).await;
    assert_eq!(status, 409, "{answer}");
    let (store, job) = closed(served).await;
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let results: Vec<_> = stored
        .iter()
        .filter(|event| event.kind == EventKind::Result)
        .map(|event| event.data["exit_code"].clone())
        .collect();
    assert_eq!(results, [json!(0)], "{stored:?}");
}

/// A completion that waited for its turn (a batch being stored) while the
/// job's container stopped comes too late: the job's end was judged
/// without it when its token was revoked, so it is refused (401) and not
/// stored (it was stored, a result the job's state ignored).
#[tokio::test]
async fn a_completion_that_waited_past_the_revoke_is_not_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000ce").await;
    let (socket, token) = (&served.socket, &served.token);
    let blocker = busy(&served.database);
    let batch = json!({"batch": 2, "events": [output("waits\n")]}).to_string();
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0}).to_string();
    let sleep = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    let (stored, completed, ()) = tokio::join!(
        unix_request(socket, "POST", "/v1/events", Some(token), &batch),
        async {
            sleep(300).await;
            unix_request(socket, "POST", "/v1/complete", Some(token), &done).await
        },
        async {
            sleep(600).await;
            served.endpoint.revoke();
            blocker.execute_batch("COMMIT").expect("unlock");
        }
    );
    drop(blocker);
    assert_eq!(stored.0, 200, "{}", stored.1);
    assert_eq!(completed.0, 401, "{}", completed.1);
    let report = served.endpoint.close().await;
    assert!(report.completion.is_none(), "{report:?}");
    no_result_stored(&served.store, &served.job).await;
}

/// A completion claimed before the job's token was revoked (its container
/// stopped while the store was busy) and then refused by the store is not
/// the job's end: the report has none, and says the store refused it. It
/// had the claimed completion, so the job was judged by a result its
/// events never held.
#[tokio::test]
async fn a_completion_refused_after_the_revoke_is_not_in_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000cf").await;
    let (socket, token) = (&served.socket, &served.token);
    let blocker = busy(&served.database);
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0}).to_string();
    let sleep = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    let (completed, ()) = tokio::join!(
        unix_request(socket, "POST", "/v1/complete", Some(token), &done),
        async {
            // The completion is claimed and waits in its store.
            sleep(300).await;
            served.endpoint.revoke();
            blocker
                .execute_batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events \
                     BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END; COMMIT",
                )
                .expect("refuse and unlock");
        }
    );
    assert_eq!(completed.0, 500, "the store refused it: {}", completed.1);
    take_events(blocker);
    let report = served.endpoint.close().await;
    assert!(report.completion.is_none(), "{report:?}");
    assert!(report.completion_refused, "{report:?}");
    no_result_stored(&served.store, &served.job).await;
}

/// Asserts that `store` holds no `result` event for `job`.
async fn no_result_stored(store: &SqliteStore, job: &Job) {
    let events = store.events_after(&job.id, 0, 100).await.expect("events");
    assert!(
        events.iter().all(|event| event.kind != EventKind::Result),
        "{events:?}"
    );
}
