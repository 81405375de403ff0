use corral_proto::llm::{ChatMessage, ChatRequest, Role};
use serde_json::{Value, json};

use super::*;

const MODEL: &str = "job-model";
const CALL: Endpoint = Endpoint::Messages { beta: true };

fn messages(extra: &Value) -> Value {
    let mut body = json!({
        "model": MODEL, "max_tokens": 1000, "stream": true,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "tools": [{"name": "Bash", "description": "run", "input_schema": {"type": "object"}}],
    });
    for (key, value) in extra.as_object().expect("object") {
        body[key] = value.clone();
    }
    body
}

fn chat(extra: &Value) -> ChatRequest {
    let mut request: ChatRequest = serde_json::from_value(json!({
        "messages": [{"role": "user", "content": "hi"}],
    }))
    .expect("chat request");
    for (key, value) in extra.as_object().expect("object") {
        request.extra.insert(key.clone(), value.clone());
    }
    request
}

#[test]
fn what_the_claude_cli_sends_passes_unchanged() {
    let mut body = messages(&json!({
        "system": [{"type": "text", "text": "you are", "cache_control": {"type": "ephemeral"}}],
        "metadata": {"user_id": "u"}, "thinking": {"type": "adaptive"},
        "context_management": {"edits": []}, "output_config": {"effort": "high"},
    }));
    let before = body.clone();
    let screened = screen_messages(&mut body, CALL, MODEL, 1_000_000).expect("allowed");
    assert_eq!(screened, Screened::default());
    assert_eq!(body, before);
}

#[test]
fn another_model_is_rewritten_to_the_jobs_and_reported() {
    for (asked, reported) in [
        (json!("claude-opus-4-1"), "claude-opus-4-1"),
        (json!(["x"]), "[\"x\"]"),
    ] {
        let mut body = messages(&json!({ "model": asked }));
        let screened = screen_messages(&mut body, CALL, MODEL, 1_000_000).expect("allowed");
        assert_eq!(screened.rewritten_model.as_deref(), Some(reported));
        assert_eq!(body["model"], MODEL);
    }
    let mut count = json!({"messages": [], "model": "other"});
    let counted = Endpoint::CountTokens { beta: true };
    let screened = screen_messages(&mut count, counted, MODEL, 5).expect("allowed");
    assert_eq!(screened.rewritten_model.as_deref(), Some("other"));
    assert_eq!(count["model"], MODEL);
}

#[test]
fn max_tokens_is_capped_at_what_is_left_of_the_budget() {
    let mut body = messages(&json!({
        "max_tokens": 32000, "thinking": {"type": "enabled", "budget_tokens": 31999},
    }));
    screen_messages(&mut body, CALL, MODEL, 500).expect("allowed");
    assert_eq!(body["max_tokens"], 500);
    assert_eq!(body["thinking"]["budget_tokens"], 499);
    let mut huge = messages(&json!({"max_tokens": 1e30}));
    screen_messages(&mut huge, CALL, MODEL, 700).expect("allowed");
    assert_eq!(huge["max_tokens"], 700);
    let mut small = messages(&json!({"max_tokens": 10}));
    screen_messages(&mut small, CALL, MODEL, 700).expect("allowed");
    assert_eq!(small["max_tokens"], 10);
}

#[test]
fn fields_outside_the_list_are_refused() {
    for field in ["mcp_servers", "container", "service_tier", "betas", "Model"] {
        let mut body = messages(&json!({ field: {} }));
        assert_eq!(
            screen_messages(&mut body, CALL, MODEL, 100),
            Err(Refusal::Field {
                field: field.into()
            })
        );
    }
    let mut not_object = json!(["model", MODEL]);
    assert_eq!(
        screen_messages(&mut not_object, CALL, MODEL, 100),
        Err(Refusal::NotAnObject)
    );
}

#[test]
fn provider_side_tools_are_refused_and_client_ones_pass() {
    for kind in [
        json!("web_search_20250305"),
        json!("web_fetch_20250910"),
        json!("code_execution_20250825"),
        json!("mcp_toolset"),
        json!(7),
    ] {
        let mut body = messages(&json!({"tools": [{"type": kind, "name": "t"}]}));
        assert!(
            matches!(
                screen_messages(&mut body, CALL, MODEL, 100),
                Err(Refusal::ProviderTool { .. })
            ),
            "{kind} passed"
        );
    }
    for kind in ["custom", "bash_20250124", "text_editor_20250728"] {
        let mut body = messages(&json!({"tools": [{"type": kind, "name": "t"}]}));
        screen_messages(&mut body, CALL, MODEL, 100).expect("a client tool passes");
    }
}

#[test]
fn content_the_provider_would_fetch_is_refused_at_any_depth() {
    let url = json!({"type": "image", "source": {"type": "url", "url": "https://example.com/x"}});
    let file = json!({"type": "document", "source": {"type": "file", "file_id": "file_1"}});
    let nested = json!({"type": "tool_result", "tool_use_id": "t",
        "content": [{"type": "image", "source": {"type": "url", "url": "https://example.com/y"}}]});
    for block in [
        url,
        file,
        nested,
        json!({"type": "container_upload", "file_id": "f"}),
    ] {
        let mut body = messages(&json!({
            "messages": [{"role": "user", "content": [block.clone()]}],
        }));
        assert!(
            matches!(
                screen_messages(&mut body, CALL, MODEL, 100),
                Err(Refusal::RemoteContent { .. })
            ),
            "{block} passed"
        );
    }
    let mut system = messages(&json!({"system": [{"type": "text", "text": "x",
        "source": {"type": "url"}}]}));
    assert!(screen_messages(&mut system, CALL, MODEL, 100).is_err());
    let inline = json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}});
    let mut body = messages(&json!({"messages": [{"role": "user", "content": [inline]}]}));
    screen_messages(&mut body, CALL, MODEL, 100).expect("inline content passes");
}

#[test]
fn a_chat_call_naming_another_model_is_rewritten() {
    let mut request = chat(&json!({}));
    request.model = Some("gpt-5-pro".into());
    let screened = screen_chat(&mut request, MODEL, 100).expect("allowed");
    assert_eq!(screened.rewritten_model.as_deref(), Some("gpt-5-pro"));
    assert_eq!(request.model, None, "the session sets the job's");
    let mut same = chat(&json!({}));
    same.model = Some(MODEL.into());
    assert_eq!(screen_chat(&mut same, MODEL, 100), Ok(Screened::default()));
}

#[test]
fn a_chat_call_gets_one_answer_within_the_budget() {
    let mut request = chat(&json!({"max_completion_tokens": 100_000}));
    request.max_tokens = Some(1 << 40);
    screen_chat(&mut request, MODEL, 300).expect("allowed");
    assert_eq!(request.max_tokens, Some(300));
    assert_eq!(request.extra["max_completion_tokens"], 300);
    for n in [json!(2), json!(0), json!("1"), json!(null)] {
        let mut request = chat(&json!({ "n": n }));
        assert_eq!(screen_chat(&mut request, MODEL, 300), Err(Refusal::Choices));
    }
    let mut one = chat(&json!({"n": 1}));
    screen_chat(&mut one, MODEL, 300).expect("n = 1 passes");
}

#[test]
fn chat_fields_tools_and_parts_outside_the_lists_are_refused() {
    for field in [
        "web_search_options",
        "store",
        "service_tier",
        "audio",
        "modalities",
        "prediction",
    ] {
        let mut request = chat(&json!({ field: {} }));
        assert_eq!(
            screen_chat(&mut request, MODEL, 100),
            Err(Refusal::Field {
                field: field.into()
            })
        );
    }
    let mut tool = chat(&json!({}));
    tool.tools = serde_json::from_value(json!([{"type": "web_search", "function": {"name": "s"}}]))
        .expect("tools");
    assert!(matches!(
        screen_chat(&mut tool, MODEL, 100),
        Err(Refusal::ProviderTool { .. })
    ));
    for part in [
        json!({"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}),
        json!({"type": "file", "file": {"file_id": "file-1"}}),
    ] {
        let mut request = chat(&json!({}));
        request.messages = vec![ChatMessage {
            content: Some(json!([part.clone()])),
            ..ChatMessage::text(Role::User, "")
        }];
        assert!(
            matches!(
                screen_chat(&mut request, MODEL, 100),
                Err(Refusal::RemoteContent { .. })
            ),
            "{part} passed"
        );
    }
    let mut inline = chat(&json!({}));
    inline.messages = vec![ChatMessage {
        content: Some(json!([{"type": "text", "text": "see"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}])),
        ..ChatMessage::text(Role::User, "")
    }];
    screen_chat(&mut inline, MODEL, 100).expect("inline parts pass");
}
