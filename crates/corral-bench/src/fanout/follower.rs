//! One subscriber of a job's events: `GET /v1/jobs/{id}/events/stream`
//! over real HTTP, read to its `end` with a parser that reads only what
//! the check needs (each message's `id:` and `event:`), counting the
//! bytes received. Every event must come once, in order: sequence
//! numbers 1, 2, 3… with no gap and no repeat.

use std::time::Instant;

use anyhow::Context;
use corral_testkit::reqwest;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// What one subscriber received.
pub struct Received {
    /// Index of the job it followed.
    pub job: usize,
    /// Events received: sequence numbers 1 to this, each once, in order.
    pub events: u64,
    /// `output` events among them.
    pub outputs: u64,
    /// Body bytes read over HTTP.
    pub bytes: u64,
    /// When its first and last `output` event arrived.
    pub first_output: Option<Instant>,
    pub last_output: Option<Instant>,
    /// When its last event (before `end`) arrived.
    pub last_event: Option<Instant>,
}

/// Follows `url` to its `end`; says `connected` once the stream is open.
pub async fn follow(
    http: reqwest::Client,
    url: String,
    token: String,
    job: usize,
    connected: mpsc::Sender<()>,
) -> anyhow::Result<Received> {
    let response = http.get(&url).bearer_auth(token).send().await?;
    anyhow::ensure!(
        response.status() == reqwest::StatusCode::OK,
        "{url}: {}",
        response.status()
    );
    let _ = connected.send(()).await;
    let mut received = Received {
        job,
        events: 0,
        outputs: 0,
        bytes: 0,
        first_output: None,
        last_output: None,
        last_event: None,
    };
    let mut body = response.bytes_stream();
    let mut parser = Parser::default();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("reading {url}"))?;
        let now = Instant::now();
        received.bytes += chunk.len() as u64;
        for message in parser.feed(&chunk) {
            match message.event.as_str() {
                "end" => return Ok(received),
                "stream_failed" => anyhow::bail!("{url}: the server gave up the stream"),
                kind => {
                    let seq = message
                        .id
                        .with_context(|| format!("{url}: an event without an id"))?;
                    anyhow::ensure!(
                        seq == received.events + 1,
                        "{url}: event {seq} came after event {}",
                        received.events
                    );
                    received.events = seq;
                    if kind == "output" {
                        received.outputs += 1;
                        received.first_output.get_or_insert(now);
                        received.last_output = Some(now);
                    }
                    received.last_event = Some(now);
                }
            }
        }
    }
    anyhow::bail!("{url}: the stream closed without an end event")
}

/// The fields of one server-sent event this reader needs.
struct Message {
    id: Option<u64>,
    event: String,
}

/// An incremental `text/event-stream` reader (the server ends lines with
/// `\n`): complete messages out, the incomplete tail kept.
#[derive(Default)]
struct Parser {
    buffer: Vec<u8>,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Message> {
        self.buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        let mut start = 0;
        while let Some(found) = memchr::memmem::find(&self.buffer[start..], b"\n\n") {
            let block = &self.buffer[start..start + found];
            start += found + 2;
            let mut message = Message {
                id: None,
                event: String::new(),
            };
            let mut data = false;
            // Lines found with `memchr`: a data line is a whole event's JSON.
            let mut line_start = 0;
            let line_ends = memchr::memchr_iter(b'\n', block).chain([block.len()]);
            for line_end in line_ends {
                let line = &block[line_start..line_end];
                line_start = line_end + 1;
                if let Some(id) = line.strip_prefix(b"id:") {
                    message.id = std::str::from_utf8(id)
                        .ok()
                        .and_then(|id| id.trim().parse().ok());
                } else if let Some(event) = line.strip_prefix(b"event:") {
                    String::from_utf8_lossy(event)
                        .trim()
                        .clone_into(&mut message.event);
                } else if line.starts_with(b"data:") {
                    data = true;
                }
            }
            if data {
                if message.event.is_empty() {
                    message.event = "message".into();
                }
                messages.push(message);
            }
        }
        self.buffer.drain(..start);
        messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cut_anywhere_are_read_whole() {
        let stream = b"event: output\ndata: {\"a\":1}\nid: 1\n\n: keep-alive\n\nid: 2\nevent: status\ndata: {}\n\nevent: end\ndata: {}\n\n";
        for cut in 0..stream.len() {
            let mut parser = Parser::default();
            let mut messages = parser.feed(&stream[..cut]);
            messages.extend(parser.feed(&stream[cut..]));
            let read: Vec<(Option<u64>, &str)> = messages
                .iter()
                .map(|message| (message.id, message.event.as_str()))
                .collect();
            assert_eq!(
                read,
                [(Some(1), "output"), (Some(2), "status"), (None, "end")],
                "cut at {cut}"
            );
        }
    }
}
