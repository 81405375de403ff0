//! `get_job_events`' answer: compact events within a size budget, and the
//! cursor of the next page, so an MCP client (which refuses large tool
//! results) can read any job a page at a time.

use corral_proto::Event;
use serde::Serialize;
use serde_json::Value;

/// Characters one answer may hold: well under what MCP clients take in a
/// tool result (Claude Code refused 100,000).
pub const EVENTS_BUDGET: usize = 24_000;
/// What an event too large for a page on its own keeps of its text.
const CUT_TEXT_CHARS: usize = 8_000;

/// A page of events.
#[derive(Debug, Serialize)]
pub struct EventsPage {
    /// The events, compact, oldest first.
    pub events: Vec<Value>,
    /// Pass as `after` for the next page; absent when this page ends the
    /// events stored so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}

/// The events that fit in `budget` characters (at least one, its text cut
/// when it alone is too large); `more` when the store had more than given.
pub fn page(events: Vec<Event>, budget: usize, more: bool) -> EventsPage {
    let total = events.len();
    let mut kept = Vec::new();
    let mut used = 0;
    let mut last_seq = None;
    for event in events {
        let seq = event.seq;
        let mut value = serde_json::to_value(&event).unwrap_or(Value::Null);
        // Its JSON and the comma that separates it from the next.
        let mut size = value.to_string().len() + 1;
        if size > budget && kept.is_empty() {
            cut_text(&mut value);
            size = value.to_string().len() + 1;
        }
        if used + size > budget && !kept.is_empty() {
            break;
        }
        used += size;
        kept.push(value);
        last_seq = Some(seq);
    }
    let next_after = (more || kept.len() < total).then_some(last_seq).flatten();
    EventsPage {
        events: kept,
        next_after,
    }
}

/// Cuts an event's long strings (an output chunk, a tool result, a tool
/// call's arguments however deep), saying so; and when that is not enough
/// (many strings), puts a note in place of its data: a page's first event
/// must fit in it, or a client asking for the next page got the same
/// event again and again.
fn cut_text(value: &mut Value) {
    let Some(data) = value.get_mut("data") else {
        return;
    };
    cut_strings(data);
    let size = data.to_string().len();
    if size > EVENTS_BUDGET - CUT_TEXT_CHARS {
        *data = serde_json::json!({
            "cut": format!("{size} bytes of data: read the job's events over the API")
        });
    }
}

/// Cuts every string in `value` longer than [`CUT_TEXT_CHARS`].
fn cut_strings(value: &mut Value) {
    match value {
        Value::String(long) if long.len() > CUT_TEXT_CHARS => {
            let mut end = CUT_TEXT_CHARS;
            while !long.is_char_boundary(end) {
                end -= 1;
            }
            *long = format!(
                "{}… [{} more bytes: read the job's events over the API]",
                &long[..end],
                long.len() - end
            );
        }
        Value::Array(items) => items.iter_mut().for_each(cut_strings),
        Value::Object(fields) => fields.values_mut().for_each(cut_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use corral_proto::{Event, EventKind};
    use serde_json::json;

    use super::*;

    fn output(seq: u64, text: &str) -> Event {
        Event {
            job_id: "j-1".into(),
            seq,
            ts: time::OffsetDateTime::UNIX_EPOCH,
            kind: EventKind::Output,
            data: json!({"stream": "stdout", "text": text}),
            redacted: false,
        }
    }

    #[test]
    fn a_page_stays_within_its_budget_and_names_the_next_cursor() {
        let events: Vec<Event> = (1..=2000).map(|seq| output(seq, &"x".repeat(40))).collect();
        let page = page(events, EVENTS_BUDGET, false);
        let size = serde_json::to_string(&page).expect("JSON").len();
        assert!(size <= EVENTS_BUDGET + 100, "{size}");
        let last = page.events.last().expect("some events")["seq"].as_u64();
        assert_eq!(
            page.next_after, last,
            "the next page starts after the last given"
        );
        assert!(page.events.len() > 10);
    }

    /// A tool call's arguments hold the file it writes, however deep,
    /// and an event may hold many long strings: the page's one event still
    /// fits, so the next page moves on.
    #[test]
    fn an_event_with_deep_or_many_long_strings_still_fits_a_page() {
        let deep = json!({"name": "Write", "arguments": {"file_path": "a", "content": "z".repeat(300_000)}});
        let many: serde_json::Map<String, Value> = (0..10)
            .map(|field| (format!("f{field}"), Value::String("w".repeat(20_000))))
            .collect();
        for data in [deep, Value::Object(many)] {
            let event = Event {
                data,
                kind: EventKind::ToolCall,
                ..output(7, "")
            };
            let page = page(vec![event, output(8, "next")], EVENTS_BUDGET, false);
            let size = serde_json::to_string(&page).expect("JSON").len();
            assert!(size <= EVENTS_BUDGET + 100, "{size}");
            assert_eq!(page.events[0]["seq"], 7);
            let moves_on = page.events.len() == 2 || page.next_after == Some(7);
            assert!(moves_on, "the next page moves on: {:?}", page.next_after);
        }
    }

    #[test]
    fn a_huge_event_is_cut_and_the_last_page_has_no_cursor() {
        let page = page(vec![output(1, &"y".repeat(100_000))], EVENTS_BUDGET, false);
        assert_eq!(page.events.len(), 1);
        let text = page.events[0]["data"]["text"].as_str().expect("text");
        assert!(
            text.len() < 9_000 && text.contains("more bytes"),
            "{}",
            text.len()
        );
        assert_eq!(page.next_after, None);
        let more = super::page(vec![output(1, "a"), output(2, "b")], EVENTS_BUDGET, true);
        assert_eq!(more.next_after, Some(2), "the store had more");
    }
}
