//! The HTTP proxy a job's connection speaks once upgraded: `CONNECT` for
//! TLS (tunnelled, or ended here to add a credential) and absolute-form
//! requests for plain HTTP. `TRACE` and `TRACK` are refused on both.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use corral_proto::event::NetworkData;

use super::allow::Way;
use super::forward::{Body, Ended, empty, end_to_end, is_echo_method, relay, send, text};
use super::inject::{end_tls, guarded_headers, scrubbed};
use super::meter::{Counters, Metered};
use super::tunnel::tunnel;
use super::{EgressProxy, Target};

/// Serves one proxy connection from the job until it closes or the job ends.
pub async fn serve<IO>(io: IO, egress: Arc<EgressProxy>)
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
    egress: Arc<EgressProxy>,
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
    // The exchange is a task of its own: a job that closes its side while
    // its request is on the way drops this future, and the request it sent
    // must still be recorded.
    let (answer, answered) = tokio::sync::oneshot::channel();
    let tasks = egress.tasks.clone();
    tasks.spawn(async move {
        let response = exchange(&egress, &counters, &target, request).await;
        let _ = answer.send(response);
    });
    answered
        .await
        .unwrap_or_else(|_| text(StatusCode::BAD_GATEWAY, "the request was not answered"))
}

/// Sends an admitted plain-HTTP request to `target` and records it, however
/// it ends (the job's end included).
async fn exchange(
    egress: &Arc<EgressProxy>,
    counters: &Counters,
    target: &Target,
    request: Request<Incoming>,
) -> Response<Body> {
    // No credential on plain HTTP, but what an inject host answers is
    // searched for it all the same.
    let inject = egress.credential(&target.host).is_some();
    let headers = if inject {
        guarded_headers(request.headers())
    } else {
        end_to_end(request.headers())
    };
    let stop = egress.stop.clone();
    let response = tokio::select! {
        sent = send(egress, "http", target, headers, request) => match sent {
            Ok(answer) if inject => scrubbed(egress, target, answer).await,
            Ok(answer) => relay(answer),
            Err(refused) => refused,
        },
        () = stop.cancelled() => text(StatusCode::BAD_GATEWAY, "the job ended"),
    };
    egress
        .record(&NetworkData {
            host: target.host.clone(),
            port: target.port,
            allowed: true,
            mode: Some("http".into()),
            reason: None,
            status: Some(response.status().as_u16()),
            bytes_up: Some(counters.up.load(Ordering::Relaxed)),
            bytes_down: Some(counters.down.load(Ordering::Relaxed)),
        })
        .await;
    response
}

/// Checks a connection to `host:port`: its target, with the connection's
/// byte budget now enforced; or the 403 that refuses it, recorded.
async fn admit(
    egress: &EgressProxy,
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
    egress: Arc<EgressProxy>,
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
            .record(&NetworkData {
                host: target.host.clone(),
                port: target.port,
                allowed,
                mode: Some(if inject { "inject" } else { "tunnel" }.into()),
                reason,
                status: None,
                bytes_up: Some(counters.up.load(Ordering::Relaxed)),
                bytes_down: Some(counters.down.load(Ordering::Relaxed)),
            })
            .await;
    });
    Response::new(empty())
}
