//! An OpenAI-compatible provider configured without a model: the server
//! asks it (`GET /v1/models`) at startup. One model offered becomes the
//! default, so `corral serve --llm openai` against a one-model server runs
//! jobs as written; several offered are listed in the refusal of a job that
//! names none.

use corral_orchestrator::ProviderKind;
use corral_testkit::reqwest::StatusCode;
use corral_testkit::{TestServer, Upstream};
use serde_json::{Value, json};

/// A server whose default provider is `upstream` with no model configured.
async fn server_without_a_model(upstream: &Upstream) -> TestServer {
    TestServer::start_with(|config| {
        upstream.register(config);
        for provider in config.llm.providers.values_mut() {
            provider.model = None;
        }
    })
    .await
}

#[tokio::test]
async fn a_provider_serving_one_model_makes_it_the_default() {
    let script = json!({"model": "local-llama-8b", "turns": [{"text": "done"}]});
    let upstream = Upstream::start(ProviderKind::Openai, &script).await;
    let server = server_without_a_model(&upstream).await;
    let listed = upstream
        .server
        .requests()
        .into_iter()
        .find(|request| request.path == "/v1/models")
        .expect("the server listed the provider's models");
    assert_eq!(
        listed.headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {}", upstream.key).as_str()),
        "the provider's key goes with the question"
    );
    let id = server
        .create(&json!({"mode": "worker", "prompt": "say done"}))
        .await;
    let job = server.job(&id).await;
    assert_eq!(
        job.llm.map(|llm| llm.model).as_deref(),
        Some("local-llama-8b")
    );
    server.follow(&id).await.assert_succeeded();
    let asked: Vec<Value> = upstream
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path == "/v1/chat/completions")
        .map(|request| request.body["model"].clone())
        .collect();
    assert_eq!(asked, [json!("local-llama-8b")]);
    server.stop().await;
}

#[tokio::test]
async fn a_provider_serving_several_models_is_named_in_the_refusal_with_its_models() {
    let script = json!({
        "models": ["gpt-b", "gpt-a", "bad name"],
        "turns": [{"text": "unused"}],
    });
    let upstream = Upstream::start(ProviderKind::Openai, &script).await;
    let server = server_without_a_model(&upstream).await;
    let (status, body) = server
        .post(
            "/v1/jobs",
            &json!({"mode": "worker", "prompt": "hi"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "llm.model", "{body}");
    let message = body["error"].as_str().expect("a message");
    assert!(message.contains("--model"), "names the flag: {message}");
    assert!(message.contains("It offers: gpt-a, gpt-b."), "{message}");
    assert!(!message.contains("bad name"), "{message}");
    let (status, body) = server
        .post(
            "/v1/jobs",
            &json!({"mode": "worker", "prompt": "hi", "llm": {"model": "gpt-b"}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "a named model runs: {body}");
    server.stop().await;
}
