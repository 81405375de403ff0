//! Claude mode end to end: the real `claude` CLI (from the pinned npm
//! release, in corral's claude image) in a real container, its model calls
//! through the worker's relay and the orchestrator's passthrough to a
//! scripted Anthropic-compatible upstream on loopback.

use corral_orchestrator::llm::ProviderKind;
use corral_proto::{EventKind, JobState};
use corral_testkit::{Followed, TestServer, Upstream, claude_image};
use serde_json::{Value, json};

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project dir");
    std::os::unix::fs::chown(dir.path(), Some(10001), Some(10001)).expect("chown project");
    dir
}

async fn claude_server(upstream: &Upstream) -> TestServer {
    let image = claude_image().await;
    TestServer::start_with(|config| {
        upstream.register(config);
        config.claude_image = image;
    })
    .await
}

fn of_kind(followed: &Followed, kind: EventKind) -> Vec<&Value> {
    followed
        .events
        .iter()
        .filter(|event| event.kind == kind)
        .map(|event| &event.data)
        .collect()
}

#[tokio::test]
async fn a_text_answer_streams_back_as_events_and_the_upstream_gets_the_real_key() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": "Hello from the scripted model."}]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let id = server
        .create(&json!({"mode": "claude", "prompt": "say hello"}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let said: Vec<&str> = of_kind(&followed, EventKind::Message)
        .into_iter()
        .filter(|data| data["role"] == "assistant")
        .filter_map(|data| data["text"].as_str())
        .collect();
    assert_eq!(said, ["Hello from the scripted model."], "{:#?}", followed.events);
    assert!(followed.job.usage.llm_calls >= 1);
    let calls: Vec<_> = upstream
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path.starts_with("/v1/messages"))
        .collect();
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(call.headers.get("x-api-key"), Some(&upstream.key));
    }
    assert_eq!(server.stop().await, 0);
}
