//! `text/event-stream` frames, written by hand: an event's frame is its
//! sequence number, its kind and its shared JSON (made once for all its
//! followers), so a follower only copies bytes.
//!
//! A frame's `data` is one line: the JSON writer escapes every control
//! character, `\n` and `\r` included, so no event can end a field or a
//! frame early, whatever text a job printed.

use axum::body::Bytes;
use serde_json::Value;

use crate::events::SharedEvent;

/// An empty comment: keeps an idle stream open.
pub(super) const KEEP_ALIVE: &[u8] = b":\n\n";

/// Appends `event`'s frame to `chunk`: `id` its sequence number, `event`
/// its kind, `data` its JSON.
pub(super) fn push_event(chunk: &mut Vec<u8>, event: &SharedEvent) {
    let json = event.json();
    chunk.reserve(json.len() + 48);
    chunk.extend_from_slice(b"id: ");
    chunk.extend_from_slice(event.event().seq.to_string().as_bytes());
    chunk.extend_from_slice(b"\nevent: ");
    chunk.extend_from_slice(event.event().kind.as_str().as_bytes());
    chunk.extend_from_slice(b"\ndata: ");
    chunk.extend_from_slice(json);
    chunk.extend_from_slice(b"\n\n");
}

/// A frame of the stream's own (`end`, a failure): a name that is no event
/// kind, no id.
pub(super) fn named(name: &'static str, data: &Value) -> Bytes {
    let mut frame = Vec::new();
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(name.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend_from_slice(data.to_string().as_bytes());
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use corral_proto::{Event, EventKind};
    use serde_json::json;

    use super::*;

    #[test]
    fn text_with_line_breaks_stays_inside_one_data_line() {
        let event = SharedEvent::new(Event {
            job_id: "j-1".into(),
            seq: 7,
            ts: time::OffsetDateTime::UNIX_EPOCH,
            kind: EventKind::Output,
            data: json!({"stream": "stdout", "text": "a\nevent: end\r\ndata: x\n\nid: 9\r"}),
            redacted: false,
        });
        let mut chunk = Vec::new();
        push_event(&mut chunk, &event);
        let frame = String::from_utf8(chunk).expect("UTF-8");
        let (head, rest) = frame.split_once("\ndata: ").expect("a data field");
        assert_eq!(head, "id: 7\nevent: output");
        let data = rest.strip_suffix("\n\n").expect("one frame");
        assert!(!data.contains(['\n', '\r']), "{data:?}");
        let read: Event = serde_json::from_str(data).expect("the event's JSON");
        assert_eq!(&read, event.event());
    }

    #[test]
    fn the_end_frame_has_a_name_and_no_id() {
        let frame = named("end", &json!({"state": "succeeded"}));
        assert_eq!(
            &frame[..],
            b"event: end\ndata: {\"state\":\"succeeded\"}\n\n"
        );
    }
}
