//! A file order's answer as it arrives from the worker: its body kept in
//! the pieces it came in (a 100 MB download is never copied into one
//! buffer; only small frames are packed), and, for a download, scanned by
//! the sandbox's leak detector in batches while the rest is still arriving.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::redact::{ByteScan, Findings, Redactor};

/// Bytes gathered before they are scanned as one batch.
const SCAN_BATCH: usize = 1 << 20;
/// Most batches scanned at once, server-wide.
const SCAN_THREADS: usize = 8;
/// Frames shorter than this are packed with their neighbours...
const SMALL: usize = 16 << 10;
/// ...into pieces of about this much.
const PACK: usize = 64 << 10;

/// Bytes in the pieces they came in.
#[derive(Debug, Default, Clone)]
pub struct Chunks {
    pieces: Vec<Bytes>,
    len: usize,
    /// What these bytes are counted against (a sandbox's downloads at
    /// once), let go when the last copy of them, or their HTTP body, goes.
    held: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
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

    /// An HTTP body sending the pieces as they are, its length known; it
    /// holds what they were counted against until it is sent or dropped.
    pub fn into_body(self) -> ChunksBody {
        ChunksBody {
            left: self.len as u64,
            pieces: self.pieces.into(),
            _held: self.held,
        }
    }

    /// These bytes, counted against `permit` for as long as they are kept.
    pub fn held_by(mut self, permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        self.held = Some(Arc::new(permit));
        self
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
    _held: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
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

/// Receives `body`, at most `limit` bytes; with `scan`, its bytes also
/// go to that detector in batches, each scanned on a blocking thread while
/// the rest arrives, and what it found comes back once the body ended.
/// Frames under [`SMALL`] are packed together: a body sent a byte at a
/// time costs what one sent in large pieces does.
pub async fn receive<B>(
    body: B,
    limit: usize,
    scan: Option<Arc<Redactor>>,
) -> Result<(Chunks, Option<Scanned>), ReceiveError>
where
    B: Body<Data = Bytes> + Unpin,
{
    let mut scanner = scan.map(Scanner::new);
    let mut body = body;
    let mut chunks = Chunks::default();
    let mut packed = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReceiveError::Broken)?;
        let Ok(piece) = frame.into_data() else {
            continue; // trailers carry nothing an answer uses
        };
        if chunks.len() + packed.len() + piece.len() > limit {
            return Err(ReceiveError::TooLarge);
        }
        if piece.len() < SMALL {
            packed.extend_from_slice(&piece);
            if packed.len() >= PACK {
                keep(packed.split().freeze(), &mut chunks, &mut scanner).await;
            }
            continue;
        }
        if !packed.is_empty() {
            keep(packed.split().freeze(), &mut chunks, &mut scanner).await;
        }
        keep(piece, &mut chunks, &mut scanner).await;
    }
    if !packed.is_empty() {
        keep(packed.freeze(), &mut chunks, &mut scanner).await;
    }
    let found = match scanner {
        Some(scanner) => Some(scanner.finish().await),
        None => None,
    };
    Ok((chunks, found))
}

async fn keep(piece: Bytes, chunks: &mut Chunks, scanner: &mut Option<Scanner>) {
    if let Some(scanner) = scanner {
        scanner.feed(piece.clone()).await;
    }
    chunks.push(piece);
}

/// Batches of scan work running at once in the whole server, each on a
/// blocking thread: however many downloads arrive, the blocking pool
/// (which the store's queries use too) keeps room.
static SCANS: Semaphore = Semaphore::const_new(SCAN_THREADS);

/// A [`ByteScan`] fed in batches. No thread waits for the next batch: one
/// is taken only while a batch is scanned, and only one batch per scan
/// runs at a time (the next is gathered meanwhile).
struct Scanner {
    redactor: Arc<Redactor>,
    /// The scan between batches; taken while one runs, gone once one failed.
    idle: Option<ByteScan>,
    running: Option<JoinHandle<ByteScan>>,
    batch: Vec<Bytes>,
    batch_len: usize,
    /// Why the scan could not go on (a panic): the bytes are then refused.
    failed: Option<String>,
}

impl Scanner {
    fn new(redactor: Arc<Redactor>) -> Self {
        Self {
            idle: Some(ByteScan::new(&redactor)),
            redactor,
            running: None,
            batch: Vec::new(),
            batch_len: 0,
            failed: None,
        }
    }

    async fn feed(&mut self, piece: Bytes) {
        self.batch_len += piece.len();
        self.batch.push(piece);
        if self.batch_len >= SCAN_BATCH {
            self.dispatch().await;
        }
    }

    /// Waits for the batch being scanned, then scans the one gathered.
    async fn dispatch(&mut self) {
        self.settle().await;
        let batch = std::mem::take(&mut self.batch);
        self.batch_len = 0;
        let Some(mut scan) = self.idle.take() else {
            return; // failed: `finish` says so
        };
        let redactor = Arc::clone(&self.redactor);
        self.running = Some(
            on_scan_thread(move || {
                for piece in &batch {
                    scan.push(&redactor, piece);
                }
                scan
            })
            .await,
        );
    }

    async fn settle(&mut self) {
        if let Some(running) = self.running.take() {
            match running.await {
                Ok(scan) => self.idle = Some(scan),
                Err(error) => self.failed = Some(scan_failed(&error)),
            }
        }
    }

    async fn finish(mut self) -> Scanned {
        self.dispatch().await;
        self.settle().await;
        if let Some(failed) = self.failed {
            return Err(failed);
        }
        let scan = self.idle.take().ok_or("the secret scan did not end")?;
        let redactor = self.redactor;
        on_scan_thread(move || scan.finish(&redactor))
            .await
            .await
            .map_err(|error| scan_failed(&error))
    }
}

/// Runs `work` on a blocking thread once one of [`SCANS`] is free, the
/// permit held until it ends.
async fn on_scan_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    // Never closed: a static semaphore is never closed.
    let permit = SCANS.acquire().await.unwrap_or_else(|_| unreachable!());
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
}

fn scan_failed(error: &tokio::task::JoinError) -> String {
    format!(
        "the secret scan failed: {}",
        crate::text::task_failure(error)
    )
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

    #[tokio::test]
    async fn small_frames_are_packed_and_large_ones_kept_as_they_came() {
        let bytes: Vec<u8> = (0..200_000u32).map(|at| (at % 251) as u8).collect();
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = bytes
            .iter()
            .map(|&byte| Ok(Frame::data(Bytes::copy_from_slice(&[byte]))))
            .chain([Ok(Frame::data(Bytes::from(vec![7u8; SMALL])))])
            .collect();
        let body = StreamBody::new(futures_util::stream::iter(frames));
        let (chunks, _) = receive(body, usize::MAX, None).await.expect("received");
        let mut whole = bytes.clone();
        whole.extend(std::iter::repeat_n(7u8, SMALL));
        assert_eq!(chunks.to_bytes(), Bytes::from(whole));
        // 200,000 one-byte frames in pieces of about 64 KiB, then the large one.
        assert_eq!(
            chunks.pieces().len(),
            200_000 / PACK + 2,
            "{} pieces",
            chunks.pieces().len()
        );
        assert_eq!(chunks.pieces().last().map(Bytes::len), Some(SMALL));
    }

    #[tokio::test]
    async fn a_secret_across_batches_and_frames_is_found_and_a_clean_body_is_not() {
        let secret = "s3cr3t-value-across-batches-0123456789";
        let redactor = Arc::new(Redactor::new([("KEY", secret)]));
        for (planted, expected) in [(true, vec!["KEY".to_owned()]), (false, vec![])] {
            let mut bytes = vec![b'x'; SCAN_BATCH - 7];
            if planted {
                bytes.extend_from_slice(secret.as_bytes());
            }
            bytes.extend(std::iter::repeat_n(b'y', SCAN_BATCH + 5));
            let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = bytes
                .chunks(SMALL + 3)
                .map(|piece| Ok(Frame::data(Bytes::copy_from_slice(piece))))
                .collect();
            let body = StreamBody::new(futures_util::stream::iter(frames));
            let (chunks, scanned) = receive(body, usize::MAX, Some(Arc::clone(&redactor)))
                .await
                .expect("received");
            assert_eq!(chunks.len(), bytes.len());
            let found = scanned.expect("scanned").expect("the scan ended");
            assert_eq!(found.names, expected, "planted: {planted}");
        }
    }

    #[tokio::test]
    async fn one_large_frame_past_the_limit_is_refused() {
        let refused = receive(body(&[b"abcdefgh"]), 5, None).await;
        assert_eq!(refused.err(), Some(ReceiveError::TooLarge));
    }
}
