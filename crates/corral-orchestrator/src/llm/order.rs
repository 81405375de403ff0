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
//! on (logged once a job), and a usage still held comes after them, as
//! before. A hold lasts from the answer's end to the store: a store that
//! slow, or a worker that reads the end of its answer slowly (the relay
//! waits to pass it on), keeps it; the relay stops reading at `[DONE]` or
//! `message_stop`, so an upstream slow to close does not. A hold taken
//! early (a finish reason on one of several choices) makes that job's
//! events wait for the rest of its answer. Only the job's own events wait.
//!
//! In claude mode the `claude` CLI prints a content block as soon as it is
//! whole, before the answer ends: such events come before the call's
//! usage, which is only known at the end. What it prints after the end
//! comes after.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Whether a wait ran out before (it is logged once a job).
    late: AtomicBool,
}

impl Default for UsageOrder {
    fn default() -> Self {
        Self {
            held: Arc::new(watch::Sender::new(0)),
            late: AtomicBool::new(false),
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

    /// Whether this is the first wait that ran out.
    pub(super) fn first_late(&self) -> bool {
        !self.late.swap(true, Ordering::Relaxed)
    }
}

/// Whether `message` can end a streamed answer, for a reader: OpenAI's
/// `[DONE]`, a chunk with a finish reason, with the usage alone or with an
/// `error`, data that is not JSON (corral's worker stops on it), or
/// Anthropic's `message_delta`, `message_stop` or `error`. A reader may
/// act on any of them before the stream closes. A message is seen whole,
/// at its blank line, as corral's worker and the SDKs read it: a reader
/// that acts on a `data:` line before its blank line can be ahead of the
/// hold.
pub(super) fn ends_answer(message: &SseMessage) -> bool {
    const ENDING: [&str; 3] = ["message_delta", "message_stop", "error"];
    if message.data.trim() == "[DONE]" || ENDING.contains(&message.event.as_str()) {
        return true;
    }
    if message.data.trim().is_empty() {
        return false;
    }
    let Ok(data) = serde_json::from_str::<Value>(&message.data) else {
        return true;
    };
    if !data["error"].is_null() {
        return true;
    }
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

/// Whether `message` is the last of a streamed answer (OpenAI's `[DONE]`,
/// Anthropic's `message_stop`): the relay reads no further, so the usage is
/// stored without waiting for the upstream to close.
pub(super) fn closes_answer(message: &SseMessage) -> bool {
    message.data.trim() == "[DONE]"
        || message.event == "message_stop"
        || message.data.contains("\"message_stop\"")
            && serde_json::from_str::<Value>(&message.data)
                .is_ok_and(|data| data["type"] == "message_stop")
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
            message("message", r#"{"error":{"message":"overloaded"}}"#),
            message("message", "not json"),
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
            message("ping", ""),
        ];
        for going_on in &going_on {
            assert!(!ends_answer(going_on), "{going_on:?}");
            assert!(!closes_answer(going_on), "{going_on:?}");
        }
    }

    #[test]
    fn only_done_and_message_stop_close_the_answer() {
        assert!(closes_answer(&message("message", "[DONE]")));
        assert!(closes_answer(&message("message_stop", "{}")));
        assert!(closes_answer(&message(
            "message",
            r#"{"type": "message_stop"}"#
        )));
        let open = [
            message("message_delta", r#"{"type":"message_delta"}"#),
            message(
                "message",
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            ),
            message(
                "message",
                r#"{"choices":[{"delta":{"content":"say \"message_stop\""}}]}"#,
            ),
        ];
        for open in &open {
            assert!(!closes_answer(open), "{open:?}");
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
