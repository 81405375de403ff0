//! What the user did with a branch-mode job's change is recorded: a second
//! apply says it was already applied (not "conflicts"), a discard after an
//! apply says the change stays, and nothing is applied after a discard.

use corral_proto::ReviewOutcome;
use corral_testkit::TestServer;
use reqwest::StatusCode;

use crate::review::{git, isolated, repository};

/// A server, a repository, and a branch-mode job that appended a line to
/// its `notes.txt` and succeeded.
async fn a_reviewable_change() -> (TestServer, tempfile::TempDir, String) {
    let server = TestServer::start().await;
    let repo = repository();
    let id = server
        .create(&isolated(repo.path(), "echo new >> /workspace/notes.txt"))
        .await;
    server.follow(&id).await.assert_succeeded();
    (server, repo, id)
}

#[tokio::test]
async fn an_applied_change_is_not_applied_twice_and_a_discard_after_it_says_it_stays() {
    let (server, repo, id) = a_reviewable_change().await;
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let applied = std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes");
    assert_eq!(applied, "one\ntwo\nthree\nnew\n");

    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"].as_str().expect("a message");
    assert!(message.contains("already applied at "), "{message}");
    assert!(!message.contains("conflict"), "{message}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes"),
        applied,
        "the tree is as the first apply left it"
    );
    let reviewed = server
        .job(&id)
        .await
        .isolation
        .and_then(|isolation| isolation.reviewed)
        .expect("the apply is recorded");
    assert_eq!(reviewed.outcome, ReviewOutcome::Applied);

    let (status, body) = server.post(&format!("/v1/jobs/{id}/discard"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["review"], "applied", "{body}");
    assert!(body["applied_at"].is_string(), "{body}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes"),
        applied,
        "the applied change stays"
    );
    assert!(!git(repo.path(), &["branch", "--list", "corral/*"]).contains(&id));
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_discarded_change_cannot_be_applied_shown_or_discarded_again() {
    let (server, repo, id) = a_reviewable_change().await;
    let (status, body) = server.post(&format!("/v1/jobs/{id}/discard"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["review"], "discarded", "{body}");
    for (status, body) in [
        server.post(&format!("/v1/jobs/{id}/apply"), "").await,
        server.get(&format!("/v1/jobs/{id}/diff")).await,
        server.post(&format!("/v1/jobs/{id}/discard"), "").await,
    ] {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let message = body["error"].as_str().expect("a message");
        assert!(message.contains("already discarded at "), "{message}");
    }
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes"),
        "one\ntwo\nthree\n"
    );
    assert_eq!(server.stop().await, 0);
}
