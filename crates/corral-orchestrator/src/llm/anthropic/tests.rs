use corral_proto::llm::{ChatChunk, ChunkAssembler};
use corral_proto::sse::SseParser;

use super::*;

fn request(body: Value) -> ChatRequest {
    serde_json::from_value(body).expect("request parses")
}

#[test]
fn a_conversation_with_tools_becomes_alternating_blocks() {
    let body = to_messages_request(
        &request(json!({
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "list files"},
                {"role": "assistant", "content": "sure", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":\"ls\"}"}},
                    {"id": "c2", "type": "function", "function": {"name": "grep", "arguments": "{oops"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
                {"role": "tool", "tool_call_id": "c2", "content": "error: bad arguments"},
                {"role": "user", "content": "thanks"}
            ],
            "tools": [{"type": "function", "function": {"name": "shell", "description": "run", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
            "stop": "END",
            "stream": true
        })),
        "claude-x",
        1024,
    );
    assert_eq!(body["model"], "claude-x");
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["system"], "be brief");
    assert_eq!(body["tool_choice"], json!({"type": "any"}));
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
    let messages = body["messages"].as_array().expect("messages");
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(messages[1]["content"][1]["input"], json!({"command": "ls"}));
    assert_eq!(
        messages[1]["content"][2]["input"],
        json!({"_unparsed_arguments": "{oops"})
    );
    let results = messages[2]["content"].as_array().expect("blocks");
    assert_eq!(results[0]["type"], "tool_result");
    assert_eq!(results[0]["tool_use_id"], "c1");
    assert_eq!(results[1]["tool_use_id"], "c2");
    assert_eq!(results[2], json!({"type": "text", "text": "thanks"}));
}

/// Arguments are read into values only within the request's budget:
/// those of many small values (some 20 MB once read), or holding a key
/// the reader keeps for itself, go as the text they are.
#[test]
fn arguments_past_the_budget_are_kept_as_text() {
    let zeros = json!({"a": vec![0; 300_000]}).to_string();
    let raw = r#"{"$serde_json::private::RawValue": "[0,0]"}"#;
    let call = |id: &str, arguments: &str| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": arguments}});
    let body = to_messages_request(
        &request(json!({"messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "tool_calls": [
                call("small", r#"{"x": 1}"#), call("zeros", &zeros), call("raw", raw)
            ]}
        ]})),
        "claude-x",
        1024,
    );
    let blocks = &body["messages"][1]["content"];
    assert_eq!(blocks[0]["input"], json!({"x": 1}));
    assert_eq!(blocks[1]["input"], json!({"_unparsed_arguments": zeros}));
    assert_eq!(blocks[2]["input"], json!({"_unparsed_arguments": raw}));
}

#[test]
fn a_whole_answer_maps_back_with_usage_and_stop_reason() {
    let answer = from_messages_response(&json!({
        "id": "msg_1", "model": "claude-x", "stop_reason": "tool_use",
        "content": [
            {"type": "text", "text": "running"},
            {"type": "tool_use", "id": "t1", "name": "shell", "input": {"command": "ls"}}
        ],
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 7}
    }));
    let choice = &answer.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(choice.message.text_content(), "running");
    assert_eq!(choice.message.tool_calls[0].id, "t1");
    let arguments: Value =
        serde_json::from_str(&choice.message.tool_calls[0].function.arguments).expect("json");
    assert_eq!(arguments, json!({"command": "ls"}));
    assert_eq!(answer.usage, Some(Usage::new(15, 7)));
}

#[test]
fn a_stream_translates_to_chunks_that_reassemble_to_the_answer() {
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_2", "model": "claude-x", "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi "}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "there"}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t9", "name": "read_file", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"path\":"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"a.txt\"}"}}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let mut translator = StreamTranslator::new(true);
    let mut frames = String::new();
    for (name, data) in events {
        for frame in translator.push(&SseMessage {
            event: name.into(),
            data: data.to_string(),
        }) {
            frames.push_str(&frame);
        }
    }
    assert!(
        translator.finish().is_empty(),
        "message_stop already closed the stream"
    );
    // Nothing follows `[DONE]`, whatever the upstream sends after its end
    // (a fuzzing find: a second `message_delta`, then an error).
    for (name, data) in [
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
        ),
        (
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "late"}}),
        ),
    ] {
        let late = translator.push(&SseMessage {
            event: name.into(),
            data: data.to_string(),
        });
        assert!(late.is_empty(), "{name} after the end gave {late:?}");
    }
    assert!(frames.ends_with("data: [DONE]\n\n"), "{frames}");
    let mut assembler = ChunkAssembler::default();
    for message in SseParser::default().feed(frames.as_bytes()) {
        if message.data == "[DONE]" {
            continue;
        }
        let chunk: ChatChunk = serde_json::from_str(&message.data).expect("chunk parses");
        assembler.push(chunk);
    }
    let answer = assembler.finish();
    let choice = &answer.choices[0];
    assert_eq!(choice.message.text_content(), "Hi there");
    assert_eq!(choice.message.tool_calls[0].id, "t9");
    assert_eq!(choice.message.tool_calls[0].function.name, "read_file");
    assert_eq!(
        choice.message.tool_calls[0].function.arguments,
        "{\"path\":\"a.txt\"}"
    );
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(answer.usage, Some(Usage::new(12, 9)));
    assert_eq!(translator.usage(), Usage::new(12, 9));
}

#[test]
fn an_error_message_is_found_in_either_provider_shape() {
    assert_eq!(
        error_message(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        ),
        "Overloaded"
    );
    assert_eq!(error_message(b"plain text"), "plain text");
}

#[test]
fn any_mutated_stream_event_or_request_translates_without_panicking() {
    let events = [
        r#"{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":3}}}"#,
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}}"#,
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}"#,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
    ];
    let request = br#"{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"tool_choice":"auto","stop":["x"]}"#;
    let mut rng = corral_proto::fuzz::Rng::new(3);
    let mut translator = StreamTranslator::new(true);
    for round in 0..20_000 {
        let data = rng.mutate(events[round % events.len()].as_bytes());
        let message = SseMessage {
            event: "message".into(),
            data: String::from_utf8_lossy(&data).into_owned(),
        };
        for frame in translator.push(&message) {
            assert!(
                frame.starts_with("data: ") && frame.ends_with("\n\n"),
                "{frame}"
            );
        }
        if round % 500 == 0 {
            translator = StreamTranslator::new(round % 1000 == 0);
        }
        let mutated = rng.mutate(request);
        if let Ok(parsed) = serde_json::from_slice::<ChatRequest>(&mutated) {
            let body = to_messages_request(&parsed, "m", 16);
            assert!(body["messages"].is_array());
        }
        let answer: Value = serde_json::from_slice(
            &rng.mutate(br#"{"content":[{"type":"text","text":"x"}],"usage":{"input_tokens":1}}"#),
        )
        .unwrap_or(Value::Null);
        let _ = from_messages_response(&answer);
    }
}
