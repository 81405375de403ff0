//! A file order's answer as it arrives from the worker: its body kept in
//! the pieces it came in (a 100 MB download is never copied into one
//! buffer), and, for a download, scanned by the sandbox's leak detector
//! on a blocking thread while the rest is still arriving.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::redact::{ByteScan, Findings, Redactor};

/// Pieces scanned ahead of the one being received, at most.
const SCAN_QUEUE: usize = 16;

/// Bytes in the pieces they came in.
#[derive(Debug, Default, Clone)]
pub struct Chunks {
    pieces: Vec<Bytes>,
    len: usize,
}

impl Chunks {
    /// Bytes in all.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces
    }

    /// All of it in one buffer (copied only when it came in pieces).
    pub fn to_bytes(&self) -> Bytes {
        match self.pieces.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            pieces => Bytes::from(pieces.concat()),
        }
    }

    /// An HTTP body sending the pieces as they are, its length known.
    pub fn into_body(self) -> ChunksBody {
        ChunksBody {
            left: self.len as u64,
            pieces: self.pieces.into(),
        }
    }

    fn push(&mut self, piece: Bytes) {
        self.len += piece.len();
        self.pieces.push(piece);
    }
}

impl From<Bytes> for Chunks {
    fn from(bytes: Bytes) -> Self {
        let mut chunks = Self::default();
        if !bytes.is_empty() {
            chunks.push(bytes);
        }
        chunks
    }
}

/// [`Chunks`] as a response body of known length.
#[derive(Debug)]
pub struct ChunksBody {
    pieces: VecDeque<Bytes>,
    left: u64,
}

impl Body for ChunksBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let piece = self.pieces.pop_front();
        if let Some(piece) = &piece {
            self.left -= piece.len() as u64;
        }
        Poll::Ready(piece.map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// Why an answer's body was not received whole.
#[derive(Debug, PartialEq, Eq)]
pub enum ReceiveError {
    /// It is longer than the order allows.
    TooLarge,
    /// The worker's connection failed before its end.
    Broken,
}

/// What a scan of an answer gave: its findings, or why it could not end
/// (the bytes must then not be handed out).
pub type Scanned = Result<Findings, String>;

/// Receives `body`, at most `limit` bytes; with `scan`, each piece also
/// goes to that detector on a blocking thread as it arrives, and what it
/// found comes back once the body ended.
pub async fn receive<B>(
    body: B,
    limit: usize,
    scan: Option<Arc<Redactor>>,
) -> Result<(Chunks, Option<Scanned>), ReceiveError>
where
    B: Body<Data = Bytes> + Unpin,
{
    let mut scanner = scan.map(Scanner::start);
    let mut body = body;
    let mut chunks = Chunks::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReceiveError::Broken)?;
        let Ok(piece) = frame.into_data() else {
            continue; // trailers carry nothing an answer uses
        };
        if chunks.len().saturating_add(piece.len()) > limit {
            return Err(ReceiveError::TooLarge);
        }
        if let Some(scanner) = &mut scanner {
            scanner.feed(piece.clone()).await;
        }
        chunks.push(piece);
    }
    let found = match scanner {
        Some(scanner) => Some(scanner.finish().await),
        None => None,
    };
    Ok((chunks, found))
}

/// A [`ByteScan`] on a blocking thread, fed piece by piece.
struct Scanner {
    pieces: Option<mpsc::Sender<Bytes>>,
    done: tokio::task::JoinHandle<Findings>,
}

impl Scanner {
    fn start(redactor: Arc<Redactor>) -> Self {
        let (pieces, mut queue) = mpsc::channel::<Bytes>(SCAN_QUEUE);
        // CPU-bound for as long as the body arrives: off the async workers.
        let done = tokio::task::spawn_blocking(move || {
            let mut scan = ByteScan::new(&redactor);
            while let Some(piece) = queue.blocking_recv() {
                scan.push(&redactor, &piece);
            }
            scan.finish(&redactor)
        });
        Self {
            pieces: Some(pieces),
            done,
        }
    }

    async fn feed(&mut self, piece: Bytes) {
        if let Some(pieces) = &self.pieces
            && pieces.send(piece).await.is_err()
        {
            // The scan ended early (it panicked): `finish` says so.
            self.pieces = None;
        }
    }

    async fn finish(mut self) -> Scanned {
        self.pieces = None;
        self.done
            .await
            .map_err(|error| format!("the secret scan failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use http_body_util::StreamBody;

    use super::*;

    fn body(
        pieces: &[&'static [u8]],
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>>> {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = pieces
            .iter()
            .map(|piece| Ok(Frame::data(Bytes::from_static(piece))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames).boxed())
    }

    #[tokio::test]
    async fn pieces_come_back_as_they_came_and_whole() {
        let (chunks, scanned) = receive(body(&[b"ab", b"", b"cde"]), 5, None)
            .await
            .expect("received");
        assert_eq!(chunks.len(), 5);
        assert_eq!(chunks.to_bytes(), Bytes::from_static(b"abcde"));
        assert!(scanned.is_none());
        let sent = chunks.into_body().collect().await.expect("body");
        assert_eq!(sent.to_bytes(), Bytes::from_static(b"abcde"));
    }

    #[tokio::test]
    async fn a_body_past_its_limit_is_refused() {
        let refused = receive(body(&[b"abc", b"def"]), 5, None).await;
        assert_eq!(refused.err(), Some(ReceiveError::TooLarge));
    }
}
