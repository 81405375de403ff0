//! Process output to `output` events: bytes read from a pipe become UTF-8
//! text without splitting a character across events, and the shipper sends
//! whatever has piled up while the previous batch was in flight, so a quiet
//! process costs one event per write and a noisy one is batched for free.

use corral_proto::NewEvent;
use corral_proto::event::OutputData;
use corral_proto::event::incomplete_utf8_tail;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use crate::client::{Client, ClientError};

/// Bytes read from a pipe at a time.
const READ_CHUNK: usize = 16 << 10;
/// Most text one event carries.
const MAX_EVENT_TEXT: usize = 64 << 10;
/// Most text one batch carries.
const MAX_BATCH_TEXT: usize = 1 << 20;

/// Which pipe a chunk came from.
pub use corral_proto::event::OutputStream as Stream;

/// A piece of text from one pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Where it came from.
    pub stream: Stream,
    /// What was written.
    pub text: String,
    /// In a sandbox: the exec whose pipe it is.
    pub exec: Option<u64>,
}

/// What the shipper sends: output to merge and batch, or an event that
/// goes out in its place among them.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// A piece of output.
    Output(Chunk),
    /// Any other event.
    Event(NewEvent),
}

impl From<Chunk> for Outgoing {
    fn from(chunk: Chunk) -> Self {
        Self::Output(chunk)
    }
}

/// Reads `pipe` to its end, sending text chunks (tagged with `exec`) to `sink`.
pub async fn pump<T: From<Chunk>>(
    mut pipe: impl AsyncRead + Unpin,
    stream: Stream,
    exec: Option<u64>,
    sink: mpsc::Sender<T>,
) {
    let mut pending = Vec::with_capacity(READ_CHUNK);
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        let read = match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => 0,
            Ok(read) => read,
        };
        pending.extend_from_slice(&buffer[..read]);
        let text = take_text(&mut pending, read == 0);
        if !text.is_empty()
            && sink
                .send(Chunk { stream, text, exec }.into())
                .await
                .is_err()
        {
            return;
        }
        if read == 0 {
            return;
        }
    }
}

/// Takes the complete UTF-8 text at the front of `pending`, leaving an
/// incomplete trailing character for the next read; at `end` takes all.
/// Invalid bytes become U+FFFD.
pub fn take_text(pending: &mut Vec<u8>, end: bool) -> String {
    let keep = if end {
        0
    } else {
        incomplete_utf8_tail(pending)
    };
    let cut = pending.len() - keep;
    let text = String::from_utf8_lossy(&pending[..cut]).into_owned();
    pending.drain(..cut);
    text
}

/// Sends chunks as `output` events, and other events in their place among
/// them, until every sender is gone. Adjacent chunks of one stream (and
/// exec) are merged, up to [`MAX_EVENT_TEXT`].
pub async fn ship<T: Into<Outgoing>>(
    client: &Client,
    mut chunks: mpsc::Receiver<T>,
) -> Result<(), ClientError> {
    while let Some(first) = chunks.recv().await {
        let mut batch = vec![first.into()];
        let mut size: usize = text_len(&batch[0]);
        while size < MAX_BATCH_TEXT {
            let Ok(next) = chunks.try_recv() else { break };
            let next = next.into();
            size += text_len(&next);
            match (batch.last_mut(), next) {
                (Some(Outgoing::Output(last)), Outgoing::Output(next))
                    if last.stream == next.stream
                        && last.exec == next.exec
                        && last.text.len() + next.text.len() <= MAX_EVENT_TEXT =>
                {
                    last.text.push_str(&next.text);
                }
                (_, next) => batch.push(next),
            }
        }
        let events = batch
            .into_iter()
            .map(|item| match item {
                Outgoing::Output(chunk) => NewEvent::of(&OutputData {
                    stream: chunk.stream,
                    text: chunk.text,
                    exec: chunk.exec,
                }),
                Outgoing::Event(event) => event,
            })
            .collect();
        client.send_events(events).await?;
    }
    Ok(())
}

fn text_len(item: &Outgoing) -> usize {
    match item {
        Outgoing::Output(chunk) => chunk.text.len(),
        Outgoing::Event(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_reads_is_kept_whole() {
        let euro = "€".as_bytes(); // three bytes
        let mut pending = b"price: ".to_vec();
        pending.extend_from_slice(&euro[..2]);
        assert_eq!(take_text(&mut pending, false), "price: ");
        assert_eq!(pending, &euro[..2]);
        pending.extend_from_slice(&euro[2..]);
        assert_eq!(take_text(&mut pending, false), "€");
        assert!(pending.is_empty());
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut pending = vec![b'a', 0xff, b'b'];
        assert_eq!(take_text(&mut pending, false), "a\u{fffd}b");
        let mut cut = vec![b'x', 0xe2, 0x82];
        assert_eq!(take_text(&mut cut, true), "x\u{fffd}");
    }

    #[tokio::test]
    async fn a_pipe_is_read_to_its_end() {
        let (sender, mut receiver) = mpsc::channel(8);
        pump(&b"hello\nworld\n"[..], Stream::Stderr, Some(3), sender).await;
        let chunk: Chunk = receiver.recv().await.expect("a chunk");
        assert_eq!(
            chunk,
            Chunk {
                stream: Stream::Stderr,
                text: "hello\nworld\n".into(),
                exec: Some(3),
            }
        );
        assert!(receiver.recv().await.is_none());
    }
}
