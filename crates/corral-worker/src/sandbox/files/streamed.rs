//! A file's bytes sent as they are read: a blocking thread reads the file
//! a piece at a time into a small queue the request's body drains, so the
//! disk read and the send to the orchestrator overlap and no copy of the
//! whole file is ever held.

use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;

/// Bytes read at a time.
const PIECE: usize = 1 << 20;
/// Pieces read ahead of the send.
const AHEAD: usize = 4;

/// A request body fed by a thread reading a file.
pub(super) struct FileBody(mpsc::Receiver<std::io::Result<Bytes>>);

impl FileBody {
    /// The first `size` bytes of `file` (fewer if it shrank since; never
    /// what it grew by), read on a blocking thread as the body is sent.
    /// A read error ends the body with that error: the answer breaks off
    /// and the orchestrator refuses it.
    pub(super) fn new(mut file: std::fs::File, size: u64) -> Self {
        let (pieces, queue) = mpsc::channel(AHEAD);
        // Returns once the file is read or the body is dropped.
        drop(tokio::task::spawn_blocking(move || {
            let mut left = size;
            while left > 0 {
                let want = usize::try_from(left).map_or(PIECE, |left| left.min(PIECE));
                let mut piece = vec![0; want];
                let read = match file.read(&mut piece) {
                    Ok(0) => return,
                    Ok(read) => read,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(error) => {
                        let _ = pieces.blocking_send(Err(error));
                        return;
                    }
                };
                piece.truncate(read);
                left -= read as u64;
                if pieces.blocking_send(Ok(Bytes::from(piece))).is_err() {
                    return;
                }
            }
        }));
        Self(queue)
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0
            .poll_recv(context)
            .map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use http_body_util::BodyExt;

    use super::FileBody;

    #[tokio::test]
    async fn the_body_is_the_files_first_bytes_in_pieces() {
        let mut file = tempfile::tempfile().expect("file");
        let bytes: Vec<u8> = (0..(2 << 20) + 12_345).map(|at| (at % 251) as u8).collect();
        file.write_all(&bytes).expect("write");
        let open = |file: &std::fs::File| {
            let mut file = file.try_clone().expect("clone");
            std::io::Seek::rewind(&mut file).expect("rewind");
            file
        };
        let whole = FileBody::new(open(&file), bytes.len() as u64)
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(whole, bytes);
        // A file that grew after its size was taken: the bytes past it stay.
        let cut = FileBody::new(open(&file), 1_500_000)
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(cut, bytes[..1_500_000]);
        // One that shrank: what is there.
        let longer = FileBody::new(open(&file), bytes.len() as u64 + 99)
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(longer, bytes);
    }
}
