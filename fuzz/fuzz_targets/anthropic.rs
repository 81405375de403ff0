//! The Anthropic → OpenAI stream translation on a hostile upstream: any
//! bytes, through the SSE parser the proxy uses, give only well-formed
//! `data:` frames of JSON, ending in exactly one `[DONE]`; any chat request
//! becomes a Messages body whose turns alternate.
#![no_main]

use corral_orchestrator::internals::anthropic::{
    StreamTranslator, error_message, from_messages_response, to_messages_request,
};
use corral_proto::llm::ChatRequest;
use corral_proto::sse::SseParser;

fn check_frames(frames: &[String], done: &mut usize) {
    for frame in frames {
        let payload = frame
            .strip_prefix("data: ")
            .and_then(|rest| rest.strip_suffix("\n\n"))
            .unwrap_or_else(|| panic!("malformed frame {frame:?}"));
        assert_eq!(*done, 0, "frame {frame:?} after [DONE]");
        if payload == "[DONE]" {
            *done += 1;
        } else {
            assert!(
                serde_json::from_str::<serde_json::Value>(payload).is_ok(),
                "not JSON: {payload:?}"
            );
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut translator = StreamTranslator::new(flags & 1 != 0);
    let mut parser = SseParser::default();
    let mut done = 0;
    for message in parser.feed(rest) {
        check_frames(&translator.push(&message), &mut done);
    }
    check_frames(&translator.finish(), &mut done);
    assert_eq!(done, 1, "[DONE] sent {done} times");

    let _ = error_message(rest);
    if let Ok(answer) = serde_json::from_slice(rest) {
        let _ = from_messages_response(&answer);
    }
    if let Ok(request) = serde_json::from_slice::<ChatRequest>(rest) {
        let body = to_messages_request(&request, "m", 16);
        let messages = body["messages"].as_array().expect("messages is an array");
        for pair in messages.windows(2) {
            assert_ne!(
                pair[0]["role"], pair[1]["role"],
                "turns do not alternate: {body}"
            );
        }
    }
});
