//! The HTTP proxy a job's connection speaks once upgraded: `CONNECT` for
//! TLS (tunnelled, or ended here to add a credential) and absolute-form
//! requests for plain HTTP. `TRACE` and `TRACK` are refused on both.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};

use super::allow::Way;
use super::inject::{end_tls, guarded_headers, scrubbed};
use super::meter::{Counters, Metered};
use super::tunnel::tunnel;
use super::{EgressSession, Target};

/// The body of an answer to the job.
pub(super) type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Serves one proxy connection from the job until it closes or the job ends.
pub async fn serve<IO>(io: IO, egress: Arc<EgressSession>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let counters = Arc::new(Counters::default());
    let io = Metered::new(io, Arc::clone(&counters), Arc::clone(&egress.budget));
    let stop = egress.stop.clone();
    let service = service_fn(move |request| {
        let (egress, counters) = (Arc::clone(&egress), Arc::clone(&counters));
        async move { Ok::<_, Infallible>(handle(egress, counters, request).await) }
    });
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::select! {
        _ = connection => {}
        () = stop.cancelled() => {}
    }
}

async fn handle(
    egress: Arc<EgressSession>,
    counters: Arc<Counters>,
    request: Request<Incoming>,
) -> Response<Body> {
    if request.method() == Method::CONNECT {
        return connect(egress, counters, request).await;
    }
    let uri = request.uri().clone();
    let Some(host) = uri.host() else {
        return text(
            StatusCode::BAD_REQUEST,
            "corral's egress proxy takes CONNECT or absolute-form requests (http://host/path)",
        );
    };
    if uri.scheme_str() != Some("http") {
        return text(StatusCode::BAD_REQUEST, "use CONNECT for https");
    }
    let port = uri.port_u16().unwrap_or(80);
    if is_echo_method(request.method()) {
        let reason = format!("{} echoes the request back; refused", request.method());
        egress.deny(host, port, &reason).await;
        egress.warn(&reason).await;
        return text(StatusCode::METHOD_NOT_ALLOWED, &reason);
    }
    let target = match admit(&egress, &counters, host, port, Way::Http).await {
        Ok(target) => target,
        Err(refused) => return refused,
    };
    // No credential on plain HTTP, but what an inject host answers is
    // searched for it all the same.
    let inject = egress.credential(&target.host).is_some();
    let headers = if inject {
        guarded_headers(request.headers())
    } else {
        end_to_end(request.headers())
    };
    let response = match send(&egress, "http", &target, headers, request).await {
        Ok(answer) if inject => scrubbed(&egress, &target, answer).await,
        Ok(answer) => relay(answer),
        Err(refused) => refused,
    };
    egress
        .record(json!({
            "host": target.host, "port": target.port, "allowed": true, "mode": "http",
            "status": response.status().as_u16(),
            "bytes_up": counters.up.load(Ordering::Relaxed),
            "bytes_down": counters.down.load(Ordering::Relaxed),
        }))
        .await;
    response
}

/// Checks a connection to `host:port`: its target, with the connection's
/// byte budget now enforced; or the 403 that refuses it, recorded.
async fn admit(
    egress: &EgressSession,
    counters: &Counters,
    host: &str,
    port: u16,
    way: Way,
) -> Result<Target, Response<Body>> {
    match egress.admit(host, port, way).await {
        Ok(target) => {
            counters.armed.store(true, Ordering::Relaxed);
            Ok(target)
        }
        Err(reason) => {
            egress.deny(host, port, &reason).await;
            Err(text(StatusCode::FORBIDDEN, &reason))
        }
    }
}

/// `CONNECT host:port`: checked, answered, then tunnelled or ended here.
async fn connect(
    egress: Arc<EgressSession>,
    counters: Arc<Counters>,
    request: Request<Incoming>,
) -> Response<Body> {
    let Some(authority) = request.uri().authority().cloned() else {
        return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
    };
    let port = authority.port_u16().unwrap_or(443);
    let target = match admit(&egress, &counters, authority.host(), port, Way::Connect).await {
        Ok(target) => target,
        Err(refused) => return refused,
    };
    let tasks = egress.tasks.clone();
    tasks.spawn(async move {
        let inject = egress.credential(&target.host).is_some();
        let outcome = match hyper::upgrade::on(request).await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                let stop = egress.stop.clone();
                let run = async {
                    if inject {
                        end_tls(&egress, &target, io).await
                    } else {
                        tunnel(&target, io).await
                    }
                };
                tokio::select! {
                    outcome = run => outcome,
                    () = stop.cancelled() => Err(Ended::Failed("the job ended".into())),
                }
            }
            Err(error) => Err(Ended::Failed(format!(
                "the connection was not upgraded: {error}"
            ))),
        };
        let cut = counters.cut.load(Ordering::Relaxed).then(|| {
            format!(
                "cut: the job's egress byte limit ({} bytes) is reached",
                egress.budget.max
            )
        });
        let (allowed, reason) = match outcome {
            Ok(()) => (true, cut),
            Err(Ended::Refused(reason)) => (false, Some(reason)),
            Err(Ended::Failed(reason)) => (true, cut.or(Some(reason))),
        };
        egress
            .record(json!({
                "host": target.host, "port": target.port, "allowed": allowed,
                "mode": if inject { "inject" } else { "tunnel" },
                "reason": reason,
                "bytes_up": counters.up.load(Ordering::Relaxed),
                "bytes_down": counters.down.load(Ordering::Relaxed),
            }))
            .await;
    });
    Response::new(empty())
}

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
    egress: &EgressSession,
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
fn relay(answer: reqwest::Response) -> Response<Body> {
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

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}
