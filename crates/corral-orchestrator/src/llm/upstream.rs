//! One model call to an upstream, retried with backoff on 429, 5xx and
//! connection errors (honouring `retry-after`), up to a bound. Only the
//! wait for an answer's head is retried: once a body streams, it is the
//! answer.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use reqwest::{Response, StatusCode};

use super::anthropic::error_message;

/// First pause between attempts; doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest pause between attempts when the upstream names none.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// Longest `retry-after` honoured; past it the call fails instead.
const MAX_RETRY_AFTER: Duration = Duration::from_mins(1);
/// Most of an error body read.
const MAX_ERROR_BYTES: usize = 64 << 10;
/// Most of an error body kept in the message: a bound on memory. A job's
/// reason shows less, cut only once it is redacted (`jobs::outcome`): cut
/// here, a secret across the cut left its start in the reason.
const MAX_ERROR_CHARS: usize = 16 << 10;
/// How long to wait for a connection to the upstream.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call failed after its retries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream answered with an error status.
    #[error("upstream answered {status}: {message}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The upstream's error message, shortened.
        message: String,
    },
    /// The upstream could not be reached or did not answer in time.
    #[error("cannot reach the upstream: {0}")]
    Unreachable(String),
    /// The upstream answered compressed (`content-encoding`), though asked
    /// for `identity`.
    #[error("the upstream answered in the `{0}` encoding; corral reads only `identity`")]
    Encoded(String),
}

/// The HTTP client every job's proxy shares (one connection pool).
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    max_retries: u32,
}

impl Upstream {
    /// A client failing a call after `timeout_secs` without a byte.
    pub fn new(timeout_secs: u64, max_retries: u32) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(Duration::from_secs(timeout_secs))
            .user_agent(concat!("corral/", env!("CARGO_PKG_VERSION")))
            // Every answer as is: a compressed one would pass the search
            // for the key unread (`plain` refuses any other).
            .default_headers(HeaderMap::from_iter([(
                ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            )]))
            // A redirect would carry the key (`x-api-key` is no header
            // reqwest drops across hosts) to wherever the answer names.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(Self {
            client,
            max_retries,
        })
    }

    /// POSTs `body` to `url`; returns a successful answer's head (its body
    /// still to read) and the attempts it took.
    pub async fn post(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(Response, u32), UpstreamError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let sent = self
                .client
                .post(url)
                .headers(headers.clone())
                .body(body.clone())
                .send()
                .await;
            let retries_left = attempt <= self.max_retries;
            let wait = match sent.map(plain) {
                Ok(Err(encoded)) => return Err(encoded),
                Ok(Ok(response)) if response.status().is_success() => {
                    return Ok((response, attempt));
                }
                Ok(Ok(response)) => {
                    let status = response.status();
                    let retry_after = retry_after(response.headers());
                    let retryable =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    if !retryable || !retries_left || retry_after > Some(MAX_RETRY_AFTER) {
                        let body = read_error(response).await;
                        return Err(UpstreamError::Status {
                            status,
                            message: shorten(&error_message(&body)),
                        });
                    }
                    retry_after.unwrap_or(backoff)
                }
                Err(error) if retries_left && (error.is_connect() || error.is_timeout()) => backoff,
                Err(error) => {
                    return Err(UpstreamError::Unreachable(shorten(&without_url(&error))));
                }
            };
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            attempt += 1;
        }
    }
}

impl Upstream {
    /// Sends one request as is, once: the caller (the `claude` CLI) does
    /// its own retrying. Any status is an answer.
    pub async fn send_once(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response, UpstreamError> {
        let answer = self
            .client
            .request(method, url)
            .headers(headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|error| UpstreamError::Unreachable(shorten(&without_url(&error))))?;
        plain(answer)
    }
}

/// `answer` when its body is sent as is (`identity` was asked for): a
/// compressed one would pass the search for the key (`echo`) unread, so
/// it is an error, not retried.
fn plain(answer: Response) -> Result<Response, UpstreamError> {
    // Every header of the name: `identity` then `gzip` is gzip.
    let coded = answer
        .headers()
        .get_all(CONTENT_ENCODING)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
        .map(<[u8]>::trim_ascii)
        .find(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case(b"identity"));
    match coded {
        Some(coding) => Err(UpstreamError::Encoded(shorten(&String::from_utf8_lossy(
            coding,
        )))),
        None => Ok(answer),
    }
}

/// An error answer's body, read up to [`MAX_ERROR_BYTES`].
async fn read_error(mut response: Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(piece)) = response.chunk().await {
        let room = MAX_ERROR_BYTES - body.len();
        body.extend_from_slice(&piece[..piece.len().min(room)]);
        if body.len() == MAX_ERROR_BYTES {
            break;
        }
    }
    body
}

/// A header holding a key: marked sensitive so no debug output shows it.
pub fn sensitive_header(
    headers: &mut HeaderMap,
    name: HeaderName,
    value: &str,
) -> Result<(), String> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| format!("the provider key for `{name}` is not a valid header value"))?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

fn shorten(text: &str) -> String {
    crate::text::cut_chars(text.trim(), MAX_ERROR_CHARS).into_owned()
}

/// A transport error in words, with its causes but without the URL.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
    .to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_and_nonsense_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn long_error_bodies_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(short.ends_with('…'));
    }
}
