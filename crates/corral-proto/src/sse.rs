//! An incremental parser of `text/event-stream` (server-sent events), for
//! every client that follows a job's stream. Pure: bytes in, messages out.

/// One server-sent event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SseMessage {
    /// Its `event:` field (`message` when absent).
    pub event: String,
    /// Its `data:` lines, joined with newlines.
    pub data: String,
}

/// An incremental `text/event-stream` parser.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Feeds bytes; returns the messages they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        self.buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(end) = find_blank_line(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..end.0 + end.1).collect();
            let text = String::from_utf8_lossy(&block[..end.0]);
            let mut message = SseMessage::default();
            let mut data = Vec::new();
            for line in text.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => value.clone_into(&mut message.event),
                    "data" => data.push(value.to_owned()),
                    _ => {}
                }
            }
            if data.is_empty() {
                continue; // a comment or keep-alive
            }
            if message.event.is_empty() {
                message.event = "message".into();
            }
            message.data = data.join("\n");
            messages.push(message);
        }
        messages
    }
}

/// Position and length of the first blank line (`\n\n` or `\r\n\r\n`).
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer
        .windows(2)
        .position(|pair| pair == b"\n\n")
        .map(|at| (at, 2));
    let crlf = buffer
        .windows(4)
        .position(|quad| quad == b"\r\n\r\n")
        .map(|at| (at, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_across_chunks_are_reassembled() {
        let mut parser = SseParser::default();
        assert!(
            parser
                .feed(b"id: 1\nevent: output\ndata: {\"a\"")
                .is_empty()
        );
        let messages = parser.feed(b":1}\n\n: keep-alive\n\nevent: end\ndata: x\n\n");
        assert_eq!(
            messages,
            [
                SseMessage {
                    event: "output".into(),
                    data: "{\"a\":1}".into()
                },
                SseMessage {
                    event: "end".into(),
                    data: "x".into()
                },
            ]
        );
    }
}
