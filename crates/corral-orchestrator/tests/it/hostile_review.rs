//! A job may write a secret it was granted into a file of its copy (an
//! `.npmrc`, a `.env`): the diff shows it redacted, and applying it into
//! the user's tree takes an explicit yes.

use corral_proto::JobDiff;
use corral_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;

use crate::review::repository;

const SECRET: &str = "npm-token-0123456789abcdef";

#[tokio::test]
async fn a_secret_written_into_the_copy_is_redacted_in_the_diff_and_apply_asks_first() {
    let server = TestServer::start().await;
    server.put_secret("NPM_TOKEN", SECRET).await;
    let repo = repository();
    let id = server
        .create(&json!({
            "command": "printf '//registry.example/:_authToken=%s\\n' \"$NPM\" > .npmrc; echo four >> notes.txt",
            "project": {"path": repo.path(), "mode": "branch"},
            "grants": [{"secret": "NPM_TOKEN", "env": "NPM"}],
        }))
        .await;
    server.follow(&id).await.assert_succeeded();
    let (status, body) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains(SECRET), "{body}");
    let diff: JobDiff = serde_json::from_value(body).expect("diff");
    assert!(
        diff.patch.contains("_authToken=[REDACTED:NPM_TOKEN]"),
        "{}",
        diff.patch
    );
    assert_eq!(diff.secrets, vec!["NPM_TOKEN".to_owned()]);
    let npmrc = repo.path().join(".npmrc");
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("NPM_TOKEN"), "{body}");
    assert!(!body.to_string().contains(SECRET), "{body}");
    assert!(!npmrc.exists(), "nothing applied");
    let (status, body) = server
        .post(&format!("/v1/jobs/{id}/apply?allow_secrets=true"), "")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let written = std::fs::read_to_string(&npmrc).expect(".npmrc applied");
    assert!(written.contains(SECRET), "the user asked for it: {written}");
    assert_eq!(server.stop().await, 0);
}

/// A huge change is reviewed in bounded memory: the diff shows at most
/// `REVIEW_CAP` bytes (big files summarised as binary), and a secret at
/// the very end of a huge file is still found before apply.
#[tokio::test]
async fn a_huge_change_is_summarised_and_still_scanned_for_secrets() {
    let server = TestServer::start().await;
    server.put_secret("NPM_TOKEN", SECRET).await;
    let repo = repository();
    let id = server
        .create(&json!({
            "command": "yes 'an innocent line of build output' | head -c 48m > big.log; \
                        printf 'token=%s\\n' \"$NPM\" >> big.log; \
                        for i in $(seq 1 24); do yes \"line $i of many\" | head -c 900k > part$i.txt; done",
            "project": {"path": repo.path(), "mode": "branch"},
            "grants": [{"secret": "NPM_TOKEN", "env": "NPM"}],
            "limits": {"timeout": "5m"},
        }))
        .await;
    server.follow(&id).await.assert_succeeded();
    let (status, body) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    assert_eq!(status, StatusCode::OK);
    let diff: JobDiff = serde_json::from_value(body).expect("diff");
    assert!(
        diff.patch.len() <= corral_orchestrator::internals::REVIEW_CAP + 200,
        "the review is bounded: {} bytes",
        diff.patch.len()
    );
    assert!(
        diff.patch
            .ends_with("on the job's branch or in its patch]\n"),
        "cut with a note"
    );
    assert!(!diff.patch.contains(SECRET));
    assert!(
        diff.files
            .iter()
            .any(|file| file.path == "big.log" && file.added.is_none()),
        "{:?}",
        diff.files
    );
    assert_eq!(
        diff.secrets,
        vec!["NPM_TOKEN".to_owned()],
        "found past the shown part"
    );
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!repo.path().join("big.log").exists());
    assert_eq!(server.stop().await, 0);
}
