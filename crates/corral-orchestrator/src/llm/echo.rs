//! Keeping the provider's key out of what the provider answers. The proxy
//! adds the key on the way out; a provider (or a gateway in front of one)
//! that quotes it back, in an error message ("invalid key sk-…"), a debug
//! header or an echoed request, would hand the job the very value it must
//! never see. So every answer's headers, body and error text are searched
//! for the key in all the forms the egress proxy searches an injected
//! credential's (`egress::scrub`: as is, base64, hex, through escapes) and
//! each match is blanked before the job reads it, with a `warning` event.
//!
//! A body is searched as it streams, across its pieces; text the job
//! assembles from several stream events (one token each) is not: a
//! provider quotes its key in one piece, and a model never saw it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::HeaderMap;
use bytes::Bytes;
use tracing::warn;

use super::ModelProxy;
use super::upstream::UpstreamError;
use crate::egress::scrub::{ScrubStream, Scrubber, scrub_headers};
use crate::secrets::SecretValue;

/// Answers holding the key reported one by one in a job's events.
const MAX_ECHO_REPORTS: u64 = 20;

/// One answer's body, searched for the key as it streams.
pub(super) struct KeyScrub {
    stream: Option<ScrubStream>,
    /// Matches blanked so far.
    pub(super) found: usize,
}

impl KeyScrub {
    /// Takes a piece of the body; returns what may go on to the job now.
    pub(super) fn push(&mut self, piece: Bytes) -> Bytes {
        match &mut self.stream {
            None => piece,
            Some(stream) => {
                let (out, found) = stream.push(&piece);
                self.found += found;
                out
            }
        }
    }

    /// What was held back, at the end of the body.
    pub(super) fn finish(&mut self) -> Bytes {
        let Some(stream) = &mut self.stream else {
            return Bytes::new();
        };
        let (out, found) = stream.finish();
        self.found += found;
        out
    }
}

impl ModelProxy {
    /// The search for a provider's key: none without a key.
    pub(super) fn key_search(key: Option<&SecretValue>) -> Result<Option<Arc<Scrubber>>, String> {
        key.map(|key| {
            Scrubber::new([key.expose()])
                .map(Arc::new)
                .map_err(|error| error.to_string())
        })
        .transpose()
    }

    /// A search of one answer's body.
    pub(super) fn key_scrub(&self) -> KeyScrub {
        KeyScrub {
            stream: self.key_search.clone().map(ScrubStream::new),
            found: 0,
        }
    }

    /// `bytes` with every form of the key blanked; how many there were.
    pub(super) fn without_key(&self, mut bytes: Vec<u8>) -> (Vec<u8>, usize) {
        let found = self
            .key_search
            .as_ref()
            .map_or(0, |search| search.scrub(&mut bytes));
        (bytes, found)
    }

    /// `text` (an upstream's account of a failure) without the key.
    pub(super) fn text_without_key(&self, text: String) -> (String, usize) {
        let (bytes, found) = self.without_key(text.into_bytes());
        // Every form is ASCII, so blanking keeps the text UTF-8.
        (String::from_utf8_lossy(&bytes).into_owned(), found)
    }

    /// An answer's headers without the key: blanked in a value, dropped
    /// with its value when in a name.
    pub(super) fn headers_without_key(&self, headers: HeaderMap) -> (HeaderMap, usize) {
        match &self.key_search {
            None => (headers, 0),
            Some(search) => scrub_headers(search, &headers),
        }
    }

    /// Why a call failed, as the worker (or `claude`) is told: `error`
    /// may quote the upstream, so without the key (reported when held).
    pub(super) async fn failure_without_key(&self, error: &UpstreamError) -> String {
        let (reason, found) = self.text_without_key(format!(
            "model provider `{}` failed: {error}",
            self.provider.name
        ));
        self.report_echo(found).await;
        reason
    }

    /// Stores that an answer held the key `found` times (when it did):
    /// the first [`MAX_ECHO_REPORTS`] answers, counted apart from the
    /// proxy's other warnings, which a job can use up on purpose first.
    pub(super) async fn report_echo(&self, found: usize) {
        if found == 0 {
            return;
        }
        let number = self.echoes.fetch_add(1, Ordering::SeqCst);
        warn!(job_id = %self.job_id, provider = %self.provider.name, "a model provider's answer held its key: blanked");
        if number < MAX_ECHO_REPORTS {
            self.store_warning(format!(
                "an answer of model provider `{}` held its key ({found} times); it was blanked \
                 out before the job saw it",
                self.provider.name
            ))
            .await;
        }
    }
}

#[cfg(test)]
mod tests;
