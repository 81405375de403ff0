use serde_json::json;

use super::*;
use crate::NewEvent;

#[test]
fn each_payload_is_written_as_the_stream_always_had_it() {
    let output = NewEvent::of(&OutputData {
        stream: OutputStream::Stderr,
        text: "boom\n".into(),
        exec: None,
    });
    assert_eq!(output.kind, EventKind::Output);
    assert_eq!(output.data, json!({"stream": "stderr", "text": "boom\n"}));
    let status = NewEvent::of(&StatusData {
        state: Some(JobState::Failed),
        reason: Some("oom".into()),
        ..StatusData::default()
    });
    assert_eq!(status.data, json!({"state": "failed", "reason": "oom"}));
    let message = NewEvent::of(&MessageData::new(MessageRole::Assistant, "hi"));
    assert_eq!(message.data, json!({"role": "assistant", "text": "hi"}));
    assert_eq!(NewEvent::error("no").data, json!({"message": "no"}));
    assert_eq!(NewEvent::warning("hm").kind, EventKind::Warning);
}

#[test]
fn fields_passed_along_from_claude_code_survive_a_round_trip() {
    let data = json!({"role": "system", "subtype": "result", "ok": true, "text": "done",
        "num_turns": 3, "raw": {"type": "result"}});
    let event = NewEvent::new(EventKind::Message, data.clone());
    let message: MessageData = event.payload().expect("a message");
    assert_eq!(message.ok, Some(true));
    assert_eq!(message.extra["num_turns"], 3);
    assert_eq!(NewEvent::of(&message).data, data);
}

#[test]
fn a_payload_is_read_only_as_its_own_kind() {
    let event = NewEvent::new(EventKind::Error, json!({"message": "x"}));
    assert!(event.payload::<OutputData>().is_none());
    let output = NewEvent::new(EventKind::Output, json!({"stream": "stdout", "text": "x"}));
    assert_eq!(
        output.payload::<OutputData>().map(|data| data.text),
        Some("x".into())
    );
}

#[test]
fn a_payload_that_is_not_its_kinds_names_the_field() {
    let error = EventData::parse(EventKind::Output, &json!({"stream": "tty", "text": "x"}))
        .expect_err("an unknown stream");
    assert_eq!(error.field, "stream");
    let error = EventData::parse(EventKind::Output, &json!({"stream": "stdout", "text": 5}))
        .expect_err("text that is not text");
    assert_eq!(error.field, "text");
    let error = EventData::parse(EventKind::Message, &json!({"role": "root", "text": "x"}))
        .expect_err("an unknown role");
    assert_eq!(error.field, "role");
    let error = EventData::parse(EventKind::Message, &json!({"text": "no role"}))
        .expect_err("a missing role");
    assert_eq!(error.field, "role");
    let error = EventData::parse(
        EventKind::Output,
        &json!({"stream": "stdout", "text": "x", "pid": 1}),
    )
    .expect_err("an output event carries nothing else");
    assert!(error.message.contains("pid"), "{error}");
    assert!(matches!(
        EventData::parse(
            EventKind::Network,
            &json!({"host": "a.example", "port": 443, "allowed": false})
        ),
        Ok(EventData::Network(NetworkData { allowed: false, .. }))
    ));
}
