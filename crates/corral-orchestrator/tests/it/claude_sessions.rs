//! Claude sessions that go on: a follow-up in the same container while an
//! interactive job waits, and in a new job once the job has ended.

use corral_orchestrator::ProviderKind;
use corral_proto::EventKind;
use corral_testkit::Upstream;
use serde_json::{Value, json};

use crate::claude_mode::{assistant_said, claude_server, of_kind};

/// The messages of the last model call the upstream received, as JSON text.
fn last_conversation(upstream: &Upstream) -> String {
    let last = upstream
        .server
        .requests()
        .into_iter()
        .rfind(|request| request.path.starts_with("/v1/messages"))
        .expect("a model call");
    last.body["messages"].to_string()
}

#[tokio::test]
async fn a_follow_up_prompt_resumes_the_claude_session() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": "first answer"}, {"text": "second answer"}]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let id = server
        .create(&json!({
            "mode": "claude", "prompt": "opening question", "interactive": true,
            // Also claude's watchdog: room for a slow start on a busy machine.
            "limits": {"idle_timeout": "15s"},
        }))
        .await;
    server.wait_for_message(&id, "first answer").await;
    let (status, body) = server.prompt(&id, "and a follow-up").await;
    assert_eq!(status.as_u16(), 202, "{body}");
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let conversation = last_conversation(&upstream);
    assert!(conversation.contains("opening question"), "{conversation}");
    assert!(conversation.contains("first answer"), "{conversation}");
    assert!(conversation.contains("and a follow-up"), "{conversation}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_prompt_to_an_ended_claude_job_resumes_its_session_in_a_new_job() {
    // A key-shaped string in the answer: the kept transcript is redacted too.
    const KEY_SHAPED: &str = "AKIAQWERTYUIOPASDFGH";
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": format!("first answer {KEY_SHAPED}")}, {"text": "second answer"}]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let first = server
        .create(&json!({"mode": "claude", "prompt": "opening question"}))
        .await;
    let ended = server.follow(&first).await;
    ended.assert_succeeded();
    let phases: Vec<&Value> = of_kind(&ended, EventKind::Status)
        .into_iter()
        .filter(|data| data.get("state").is_none())
        .collect();
    assert!(
        phases.iter().any(|data| data["phase"] == "claude_init"),
        "claude's start is a status event: {phases:#?}"
    );

    let (status, body) = server.prompt(&first, "and a follow-up").await;
    assert_eq!(status.as_u16(), 202, "{body}");
    let next = body["continued_in"]
        .as_str()
        .expect("continued_in")
        .to_owned();
    assert_ne!(next, first);
    let continued = server.follow(&next).await;
    continued.assert_succeeded();
    assert_eq!(
        continued
            .job
            .claude
            .as_ref()
            .and_then(|c| c.continues.as_deref()),
        Some(first.as_str())
    );
    let said = assistant_said(&continued);
    assert_eq!(said, ["second answer"]);
    let conversation = last_conversation(&upstream);
    for earlier in ["opening question", "first answer", "and a follow-up"] {
        assert!(conversation.contains(earlier), "{earlier}: {conversation}");
    }
    assert!(
        !conversation.contains(KEY_SHAPED),
        "the kept transcript was redacted: {conversation}"
    );
    // The transcript is stored, and stored redacted.
    corral_testkit::assert_in_no_file(server.data_dir.path(), KEY_SHAPED);

    // Other ended jobs take no prompt.
    let exec = server.create(&json!({"command": "true"})).await;
    server.follow(&exec).await.assert_succeeded();
    let (status, body) = server.prompt(&exec, "more").await;
    assert_eq!(status.as_u16(), 409, "{body}");
    assert_eq!(server.stop().await, 0);
}

/// A continuation of a branch-mode job copies the directory the job had,
/// not whatever its path leads to by then.
#[tokio::test]
async fn a_branch_jobs_session_continues_only_on_the_directory_it_had() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": "first answer"}, {"text": "second answer"}]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let parent = tempfile::tempdir().expect("a parent");
    let project = parent.path().join("app");
    let kept = parent.path().join("app.kept");
    std::fs::create_dir(&project).expect("project");
    std::fs::write(project.join("README"), "the project\n").expect("a file");
    let first = server
        .create(&json!({"mode": "claude", "prompt": "opening question",
            "project": {"path": project, "mode": "branch"}}))
        .await;
    server.follow(&first).await.assert_succeeded();
    std::fs::rename(&project, &kept).expect("move the project away");
    std::fs::create_dir(&project).expect("another directory at its path");
    let (status, body) = server.prompt(&first, "and a follow-up").await;
    assert_eq!(status.as_u16(), 400, "{body}");
    assert_eq!(body["field"], "project", "{body}");
    std::fs::remove_dir(&project).expect("remove the other");
    std::fs::rename(&kept, &project).expect("the project back");
    let (status, body) = server.prompt(&first, "and a follow-up").await;
    assert_eq!(status.as_u16(), 202, "{body}");
    let next = body["continued_in"].as_str().expect("continued_in");
    server.follow(next).await.assert_succeeded();
    assert_eq!(server.stop().await, 0);
}
