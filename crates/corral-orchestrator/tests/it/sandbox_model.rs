//! A sandbox with a model: its programs reach it through the worker's
//! relay in the OpenAI format (the key stays in the orchestrator), and a
//! model call in flight keeps the sandbox from idling while nothing else
//! happens; once it is over, the sandbox idles out.

use std::time::Duration;

use corral_orchestrator::ProviderKind;
use corral_testkit::{TestServer, Upstream};
use serde_json::json;

use crate::sandboxes::{create, sh, wait_ended};

#[tokio::test]
async fn a_model_call_in_flight_keeps_a_sandbox_from_idling() {
    // 24 pieces, a quarter second apart: a six-second answer.
    let text = "word ".repeat(115);
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": text}], "piece_delay_ms": 250}),
    )
    .await;
    let server = TestServer::start_with(|config| upstream.register(config)).await;
    let id = create(&server, json!({"llm": {}, "idle_timeout": 2})).await;
    // In the background, so no exec is in flight while the call runs.
    let request = r#"{"stream": true, "messages": [{"role": "user", "content": "hi"}]}"#;
    sh(
        &server,
        &id,
        &format!(
            "wget -q -O /tmp/answer --header 'Content-Type: application/json' --post-data '{request}' \"$OPENAI_BASE_URL/chat/completions\" </dev/null >/dev/null 2>&1 &"
        ),
    )
    .await;
    // Twice the idle timeout with nothing but the model call going on.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, sandbox) = server.get(&format!("/v1/sandboxes/{id}")).await;
    assert_eq!(
        sandbox["state"], "running",
        "it idled out under a model call: {sandbox}"
    );
    let ended = wait_ended(&server, &id).await;
    assert!(
        ended
            .reason
            .as_deref()
            .is_some_and(|reason| reason.contains("idle")),
        "{ended:?}"
    );
    let calls = upstream.server.requests();
    assert_eq!(calls.len(), 1, "the program's call reached the model once");
    let authorization = calls[0]
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        authorization,
        format!("Bearer {}", upstream.key),
        "the provider's key, added by the orchestrator"
    );
    assert_eq!(server.stop().await, 0);
}
