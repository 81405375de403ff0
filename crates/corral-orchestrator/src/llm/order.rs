//! A model call's `llm_usage` event comes before what the job's worker
//! posts after reading the call's answer.
//!
//! The proxy stores a call's usage off the call's path: a whole answer is
//! on its way before its usage is stored, and a stream's usage is stored
//! once the upstream has ended. A worker that reads the answer and posts
//! the tool call it asked for could see its event stored first, and a
//! reader would see a call's tokens after what the call produced. So a
//! usage not yet stored is *held* from before the worker can have read
//! the answer's end (a whole answer: before it is sent; a stream: before
//! the piece that ends it is passed on) until it is stored, and the
//! worker's events wait, before they take a place in the job's intake,
//! until nothing is held. A hold is released when it is dropped, so a
//! relay cancelled with its job releases its own.
//!
//! The wait is bounded ([`USAGE_WAIT`]): past it the worker's events go
//! on, a usage still held by a store that slow or an upstream that has
//! not closed after its last message comes after them, as before.

use std::sync::Arc;
use std::time::Duration;

use corral_proto::sse::SseMessage;
use serde_json::Value;
use tokio::sync::watch;

/// The longest a worker's events wait for usages still held.
pub(crate) const USAGE_WAIT: Duration = Duration::from_secs(5);

/// How many of a job's usages are held: read, not yet stored.
#[derive(Debug)]
pub(super) struct UsageOrder {
    held: Arc<watch::Sender<usize>>,
}

impl Default for UsageOrder {
    fn default() -> Self {
        Self {
            held: Arc::new(watch::Sender::new(0)),
        }
    }
}

/// One usage held until it is stored: released on drop.
#[derive(Debug)]
pub(super) struct Held(Arc<watch::Sender<usize>>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.send_modify(|held| *held -= 1);
    }
}

impl UsageOrder {
    /// Holds a usage until the returned value is dropped.
    pub(super) fn hold(&self) -> Held {
        self.held.send_modify(|held| *held += 1);
        Held(Arc::clone(&self.held))
    }

    /// Waits until no usage is held, for at most `limit`; whether none is.
    pub(super) async fn stored(&self, limit: Duration) -> bool {
        let mut held = self.held.subscribe();
        tokio::time::timeout(limit, held.wait_for(|held| *held == 0))
            .await
            .is_ok_and(|seen| seen.is_ok())
    }
}

/// Whether `message` can end a streamed answer, for a reader: OpenAI's
/// `[DONE]`, a chunk with a finish reason or with the usage alone, or Anthropic's
/// `message_delta`, `message_stop` or `error`. A reader may act on any of
/// them before the stream closes.
pub(super) fn ends_answer(message: &SseMessage) -> bool {
    const ENDING: [&str; 3] = ["message_delta", "message_stop", "error"];
    if message.data.trim() == "[DONE]" || ENDING.contains(&message.event.as_str()) {
        return true;
    }
    let Ok(data) = serde_json::from_str::<Value>(&message.data) else {
        return false;
    };
    let choices = data["choices"].as_array();
    let finished = choices.is_some_and(|choices| {
        choices
            .iter()
            .any(|choice| !choice["finish_reason"].is_null())
    });
    // Some servers count usage in every chunk: only a chunk with nothing
    // else is the last one's.
    let usage_alone = !data["usage"].is_null() && choices.is_none_or(Vec::is_empty);
    finished
        || usage_alone
        || data["type"]
            .as_str()
            .is_some_and(|kind| ENDING.contains(&kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(event: &str, data: &str) -> SseMessage {
        SseMessage {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn the_messages_a_reader_may_act_on_end_the_answer_and_no_others() {
        let ending = [
            message("message", "[DONE]"),
            message(
                "message",
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            ),
            message(
                "message",
                r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#,
            ),
            message("message_delta", r#"{"type":"message_delta"}"#),
            message("message", r#"{"type":"message_stop"}"#),
            message("error", r#"{"type":"error"}"#),
        ];
        for ending in &ending {
            assert!(ends_answer(ending), "{ending:?}");
        }
        let going_on = [
            message(
                "message",
                r#"{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}"#,
            ),
            message(
                "message",
                r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}],"usage":{"prompt_tokens":1}}"#,
            ),
            message(
                "message_start",
                r#"{"type":"message_start","message":{"usage":{"input_tokens":3}}}"#,
            ),
            message("content_block_delta", r#"{"type":"content_block_delta"}"#),
            message("ping", r#"{"type":"ping"}"#),
            message("message", "not json"),
        ];
        for going_on in &going_on {
            assert!(!ends_answer(going_on), "{going_on:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn events_wait_while_a_usage_is_held_and_go_on_once_it_is_dropped() {
        let order = UsageOrder::default();
        assert!(order.stored(Duration::ZERO).await, "nothing held");
        let first = order.hold();
        let second = order.hold();
        assert!(!order.stored(Duration::from_millis(10)).await, "two held");
        drop(first);
        assert!(!order.stored(Duration::from_millis(10)).await, "one held");
        let release = async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(second);
        };
        let (stored, ()) = tokio::join!(order.stored(Duration::from_mins(1)), release);
        assert!(stored, "none held");
    }
}
