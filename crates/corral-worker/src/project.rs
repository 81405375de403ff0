//! A copy-mode job's project: fetched from the orchestrator as a tar stream
//! (`GET /v1/project`) and unpacked into the job's `/workspace` before the
//! job runs. The stream is unpacked as it arrives, never held whole: the
//! container's memory is the job's.

use std::io::Read;
use std::path::Path;

use bytes::{Buf, Bytes};
use corral_proto::worker::PROJECT_PATH;
use http_body_util::BodyExt;
use hyper::Method;

use crate::client::Client;

/// Chunks in flight between the socket and the unpacking thread.
const CHUNKS_IN_FLIGHT: usize = 16;

/// Fetches the project and unpacks it into `workdir`.
pub async fn fetch(client: &Client, workdir: &Path) -> Result<(), String> {
    let response = client
        .open(Method::GET, PROJECT_PATH, Bytes::new())
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let text = body
            .collect()
            .await
            .map(|body| String::from_utf8_lossy(&body.to_bytes()).into_owned())
            .unwrap_or_default();
        return Err(format!("the orchestrator answered {status}: {text}"));
    }
    let (chunks, receiver) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    let target = workdir.to_owned();
    let unpacking = tokio::task::spawn_blocking(move || {
        let mut archive = tar::Archive::new(ChunkReader {
            chunks: receiver,
            current: Bytes::new(),
        });
        archive.set_preserve_mtime(true);
        archive.unpack(&target)
    });
    let mut broken = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data()
                    && chunks.send(data).await.is_err()
                {
                    break; // the unpacking stopped; its error says why
                }
            }
            Err(error) => {
                broken = Some(error.to_string());
                break;
            }
        }
    }
    drop(chunks);
    let unpacked = unpacking.await.map_err(|error| error.to_string())?;
    if let Some(error) = broken {
        return Err(format!("the project stream broke off: {error}"));
    }
    unpacked.map_err(|error| {
        format!(
            "cannot unpack the project into {}: {error}",
            workdir.display()
        )
    })
}

/// The body's chunks as a blocking reader, for the tar unpacker's thread.
struct ChunkReader {
    chunks: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let count = buf.len().min(self.current.len());
        buf[..count].copy_from_slice(&self.current[..count]);
        self.current.advance(count);
        Ok(count)
    }
}
