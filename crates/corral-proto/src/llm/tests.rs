use serde_json::json;

use super::*;

#[test]
fn unknown_request_fields_survive_a_round_trip() {
    let body = json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi", "name": "ann"}],
        "top_p": 0.5,
        "stream": true,
    });
    let request: ChatRequest = serde_json::from_value(body.clone()).expect("parses");
    assert!(request.stream);
    assert_eq!(serde_json::to_value(&request).expect("serializes"), body);
}

#[test]
fn streamed_tool_calls_are_reassembled() {
    let chunks = [
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Good"}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": " day", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "shell", "arguments": "{\"comm"}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "and\": \"ls\"}"}}]}, "finish_reason": "tool_calls"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}),
    ];
    let mut assembler = ChunkAssembler::default();
    for chunk in chunks {
        assembler.push(serde_json::from_value(chunk).expect("chunk parses"));
    }
    let answer = assembler.finish();
    let message = &answer.choices[0].message;
    assert_eq!(message.text_content(), "Good day");
    assert_eq!(message.tool_calls[0].id, "call_1");
    assert_eq!(message.tool_calls[0].function.name, "shell");
    assert_eq!(
        message.tool_calls[0].function.arguments,
        "{\"command\": \"ls\"}"
    );
    assert_eq!(
        answer.choices[0].finish_reason.as_deref(),
        Some("tool_calls")
    );
    assert_eq!(answer.usage, Some(Usage::new(3, 4)));
}
