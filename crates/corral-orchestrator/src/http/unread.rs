//! Answers to requests whose body was not read to its end say
//! `Connection: close`.
//!
//! A request refused before its body is read (a wrong token, a route that
//! does not exist, a path that does not parse) leaves the body on the
//! connection, and the server closes the connection after the answer
//! rather than read it. Without the header the client keeps the connection
//! for its next request, which then meets the closed socket: Python's
//! httpx reported a wrong token on `POST /v1/sandboxes` as a 401 and the
//! next call on that client as "server disconnected". The body is still
//! not read: an unauthenticated caller must not make the server take in
//! what it sends.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

/// Middleware: the request's body is watched, and the answer closes the
/// connection unless the body was read to its end.
pub async fn close_if_body_unread(request: Request, next: Next) -> Response {
    // A body already at its end (`Content-Length: 00`) leaves nothing.
    if !declares_body(request.headers()) || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let ended = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let watched = Watched {
        inner: body,
        ended: Arc::clone(&ended),
    };
    let mut response = next
        .run(Request::from_parts(parts, Body::new(watched)))
        .await;
    // An interim answer (`101 Switching Protocols`) keeps its own
    // `Connection`.
    if !ended.load(Ordering::Acquire) && !response.status().is_informational() {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether the request says a body follows its head, whatever its method
/// (a `GET` may carry one: the Anthropic passthrough takes any method): a
/// length other than zero, or any transfer coding (a chunked body may be
/// empty, but only reading it tells).
pub fn declares_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(CONTENT_LENGTH)
        .is_some_and(|length| length.as_bytes() != b"0")
}

/// A request body that records when it was read to its end.
struct Watched {
    inner: Body,
    ended: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.ended.store(true, Ordering::Release);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_length_past_zero_or_a_coding_declares_a_body() {
        let with = |name, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            headers
        };
        assert!(!declares_body(&HeaderMap::new()));
        assert!(!declares_body(&with(CONTENT_LENGTH, "0")));
        assert!(declares_body(&with(CONTENT_LENGTH, "2")));
        assert!(declares_body(&with(CONTENT_LENGTH, "8000000")));
        assert!(declares_body(&with(TRANSFER_ENCODING, "chunked")));
    }
}
