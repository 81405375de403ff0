//! A tunnel to a host with an inject rule: the job's TLS ends here, with a
//! certificate of the job's CA; each request is checked and sent on over
//! verified TLS with the credential set; each answer is scrubbed of it
//! ([`super::scrub`]) before the job sees a byte.
//!
//! What could carry the credential back is refused or changed:
//! - methods other than `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` and
//!   `OPTIONS` get a 405: `TRACE`/`TRACK` answer with the request itself,
//!   `CONNECT` would open a tunnel inside the tunnel, and unknown ones are
//!   whatever the upstream makes of them. The same goes for a method named
//!   in `X-HTTP-Method-Override` and its kin, which some servers obey.
//! - upgrades (websockets, `h2c`) get a 403: the connection would become a
//!   pipe no scrubber reads. A 101 from the upstream is a 502.
//! - `Range` and `If-Range` are dropped: an echo fetched a few bytes at a
//!   time would come back in pieces each too short to recognise; a 206 is
//!   a 502.
//! - the request asks for `Accept-Encoding: identity`, and an answer with
//!   any other `Content-Encoding` is a 502: compression would hide an echo
//!   from the search (decoding it instead would cost a decompressor and a
//!   bomb guard, for upstreams that ignore `identity`, which are rare).
//!
//! Each refusal and each scrubbed answer is a `warning` event. Plain HTTP
//! to an inject host gets no credential, but its answers are searched the
//! same way: the host may show a request it stored.

use std::convert::Infallible;
use std::sync::Arc;

use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::forward::{Body, Ended, end_to_end, failed, is_echo_method, send, text};
use super::scrub::{ScrubStream, Scrubber, scrub_headers};
use super::{EgressProxy, Target};

/// Methods sent on to an inject host.
const METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];
/// Headers some servers take as the request's real method.
const METHOD_OVERRIDES: &[&str] = &[
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Ends the job's TLS with the job CA's certificate for the host, then
/// serves its requests as the module says.
pub(super) async fn end_tls<IO>(
    egress: &Arc<EgressProxy>,
    target: &Target,
    job: IO,
) -> Result<(), Ended>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = egress
        .ca
        .as_ref()
        .ok_or_else(|| Ended::Failed("the job has no egress CA".into()))?
        .server_config(&target.host)
        .map_err(|error| Ended::Failed(error.to_string()))?;
    let tls = tokio_rustls::TlsAcceptor::from(config)
        .accept(job)
        .await
        .map_err(failed("TLS with the job failed"))?;
    let (egress, target) = (Arc::clone(egress), target.clone());
    let service = service_fn(move |request| {
        let (egress, target) = (Arc::clone(&egress), target.clone());
        async move { Ok::<_, Infallible>(serve_one(&egress, &target, request).await) }
    });
    http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await
        .map_err(|error| Ended::Failed(format!("HTTP with the job failed: {error}")))
}

/// One request of the job's to the inject host.
async fn serve_one(
    egress: &Arc<EgressProxy>,
    target: &Target,
    request: Request<Incoming>,
) -> Response<Body> {
    if let Err((status, reason)) = guard(request.method(), request.headers()) {
        let message = format!("a request to `{}` was refused: {reason}", target.host);
        egress.warn(&message).await;
        return text(status, &reason);
    }
    let Some((name, value)) = egress.credential(&target.host).cloned() else {
        return text(
            StatusCode::BAD_GATEWAY,
            "the job's credential is not set up",
        );
    };
    let mut headers = guarded_headers(request.headers());
    headers.insert(name, value);
    match send(egress, "https", target, headers, request).await {
        Ok(answer) => scrubbed(egress, target, answer).await,
        Err(refused) => refused,
    }
}

/// The end-to-end `headers` of a request to an inject host, changed so
/// that its answer comes whole and uncompressed.
pub(super) fn guarded_headers(headers: &HeaderMap) -> HeaderMap {
    let mut headers = end_to_end(headers);
    for dropped in [header::RANGE, header::IF_RANGE] {
        headers.remove(dropped);
    }
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    headers
}

/// An inject host's `answer`, for the job: a 502 when it could not be
/// searched, else its headers scrubbed and its body scrubbed as it streams.
pub(super) async fn scrubbed(
    egress: &Arc<EgressProxy>,
    target: &Target,
    answer: reqwest::Response,
) -> Response<Body> {
    let Some(scrubber) = egress.scrubber.clone() else {
        return text(
            StatusCode::BAD_GATEWAY,
            "the job's credential is not set up",
        );
    };
    if let Err(reason) = check_answer(&answer) {
        let message = format!("an answer of `{}` was refused: {reason}", target.host);
        egress.warn(&message).await;
        return text(StatusCode::BAD_GATEWAY, &reason);
    }
    let (headers, found) = scrub_headers(&scrubber, &end_to_end(answer.headers()));
    if found > 0 {
        report(egress, target, found);
    }
    // The status travels alone: hyper writes its own reason phrase.
    let status = answer.status();
    let mut response = Response::new(scrub_body(egress, target, scrubber, answer));
    *response.headers_mut() = headers;
    *response.status_mut() = status;
    response
}

/// The longest method a refusal quotes: a method has no length bound but
/// the request head's (hundreds of KiB), and each refusal is an event.
const SHOWN_METHOD: usize = 32;

/// Why the job may not send a request with `method` and `headers` to an
/// inject host, if it may not.
fn guard(method: &Method, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
    if is_echo_method(method) || !METHODS.contains(method) {
        // One past the length is not quoted at all: cut, it could end in
        // the start of a secret the leak detector cannot know.
        let named = match method.as_str() {
            short if short.len() <= SHOWN_METHOD => format!("the method `{short}`"),
            long => format!("a method of {} bytes", long.len()),
        };
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{named} is not sent to a host corral adds a credential to"),
        ));
    }
    for name in METHOD_OVERRIDES {
        for value in headers.get_all(*name) {
            let named = Method::from_bytes(value.as_bytes().trim_ascii()).ok();
            if !named.is_some_and(|method| METHODS.contains(&method)) {
                return Err((
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!(
                        "`{name}` names a method not sent to a host corral adds a credential to"
                    ),
                ));
            }
        }
    }
    let connection_upgrade = headers.get_all(header::CONNECTION).iter().any(|value| {
        value
            .as_bytes()
            .split(|byte| *byte == b',')
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
    });
    if headers.contains_key(header::UPGRADE) || connection_upgrade {
        return Err((
            StatusCode::FORBIDDEN,
            "protocol upgrades (websockets) are refused on a host corral adds a credential to"
                .into(),
        ));
    }
    Ok(())
}

/// Why an inject host's answer may not go to the job, if it may not.
fn check_answer(answer: &reqwest::Response) -> Result<(), String> {
    match answer.status() {
        StatusCode::SWITCHING_PROTOCOLS => return Err("it switches protocols".into()),
        StatusCode::PARTIAL_CONTENT => return Err("it is a part of a whole (206)".into()),
        _ => {}
    }
    let encoded = answer
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .any(|value| {
            !value
                .as_bytes()
                .trim_ascii()
                .eq_ignore_ascii_case(b"identity")
        });
    if encoded {
        return Err(
            "it is compressed (`Content-Encoding`), though `identity` was asked for".into(),
        );
    }
    Ok(())
}

/// The answer's body, scrubbed as it streams.
fn scrub_body(
    egress: &Arc<EgressProxy>,
    target: &Target,
    scrubber: Arc<Scrubber>,
    answer: reqwest::Response,
) -> Body {
    let (egress, target) = (Arc::clone(egress), target.clone());
    let mut stream = ScrubStream::new(scrubber);
    let mut reported = false;
    let mut upstream = answer.bytes_stream().fuse();
    let mut ended = false;
    let frames = futures_util::stream::poll_fn(move |context| {
        if ended {
            return std::task::Poll::Ready(None);
        }
        let next = match upstream.poll_next_unpin(context) {
            std::task::Poll::Pending => return std::task::Poll::Pending,
            std::task::Poll::Ready(next) => next,
        };
        let (out, found) = match next {
            Some(Ok(chunk)) => stream.push(&chunk),
            Some(Err(error)) => {
                ended = true;
                let error = Box::new(error) as Box<dyn std::error::Error + Send + Sync>;
                return std::task::Poll::Ready(Some(Err(error)));
            }
            None => {
                ended = true;
                stream.finish()
            }
        };
        if found > 0 && !reported {
            reported = true;
            report(&egress, &target, found);
        }
        std::task::Poll::Ready(Some(Ok(Frame::data(out))))
    });
    BodyExt::boxed(StreamBody::new(frames))
}

/// Records, off the answer's path, that an answer of `target` held the
/// credential.
fn report(egress: &Arc<EgressProxy>, target: &Target, found: usize) {
    let (owner, host) = (Arc::clone(egress), target.host.clone());
    egress.tasks.spawn(async move {
        owner
            .warn_credential(&format!(
                "an answer of `{host}` held the credential corral adds to it \
                 ({found} times so far); it was blanked out before the job saw it"
            ))
            .await;
    });
}

#[cfg(test)]
mod tests;
