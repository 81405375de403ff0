//! What the proxy's two ways (plain HTTP forwarded, TLS ended to add a
//! credential) share: the body type, how a connection ended early, sending
//! a request upstream and the answers made here.

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Method, Request, Response, StatusCode};

use super::{EgressProxy, Target};

/// The body of an answer to the job.
pub(super) type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Why a tunnel ended early.
pub(super) enum Ended {
    /// A policy decision: the connection counts as denied.
    Refused(String),
    /// An error on the way.
    Failed(String),
}

pub(super) fn failed(context: &str) -> impl FnOnce(std::io::Error) -> Ended + '_ {
    move |error| Ended::Failed(format!("{context}: {error}"))
}

/// Sends `request` to `target` (its path, never its own idea of the host)
/// with `headers`; the answer, or the 502 that says why there is none.
pub(super) async fn send(
    egress: &EgressProxy,
    scheme: &str,
    target: &Target,
    headers: HeaderMap,
    request: Request<Incoming>,
) -> Result<reqwest::Response, Response<Body>> {
    let client = egress
        .client(target)
        .map_err(|reason| text(StatusCode::BAD_GATEWAY, &reason))?;
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    // The pinned or resolved address's port: the name resolves to it.
    let url = format!("{scheme}://{}:{}{path}", target.host, target.addr.port());
    let method = request.method().clone();
    let body = reqwest::Body::wrap_stream(request.into_body().into_data_stream());
    client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|error| {
            text(
                StatusCode::BAD_GATEWAY,
                &format!("{} did not answer: {}", target.host, error.without_url()),
            )
        })
}

/// `answer` as it came, but for its hop-by-hop headers.
pub(super) fn relay(answer: reqwest::Response) -> Response<Body> {
    let mut response = Response::builder().status(answer.status());
    if let Some(headers) = response.headers_mut() {
        *headers = end_to_end(answer.headers());
    }
    let stream = answer
        .bytes_stream()
        .map_ok(Frame::data)
        .map_err(|error| Box::new(error) as Box<dyn std::error::Error + Send + Sync>);
    response
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_else(|_| text(StatusCode::BAD_GATEWAY, "unusable upstream answer"))
}

/// Methods whose answer is the request itself (`TRACE`, and IIS's
/// `TRACK`), in any case: refused everywhere, the credential or not.
pub(super) fn is_echo_method(method: &Method) -> bool {
    ["TRACE", "TRACK"]
        .iter()
        .any(|echo| method.as_str().eq_ignore_ascii_case(echo))
}

/// `headers` without the hop-by-hop ones (and the proxy's own).
pub(super) fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    const HOP: &[HeaderName] = &[
        header::CONNECTION,
        header::HOST,
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ];
    headers
        .iter()
        .filter(|(name, _)| {
            !HOP.contains(name) && *name != "keep-alive" && *name != "proxy-connection"
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A short plain-text answer from the proxy itself.
pub(super) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(format!("{message}\n")))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
}

pub(super) fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}
