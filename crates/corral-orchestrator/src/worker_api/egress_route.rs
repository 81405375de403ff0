//! The worker API's egress route: a connection upgraded into one proxy
//! connection of the job's.

use std::sync::Arc;

use axum::Extension;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use corral_proto::worker::{EGRESS_PATH, EGRESS_UPGRADE};
use tracing::warn;

use super::served::ServedJob;
use crate::http::ApiError;

/// `GET /v1/egress` with `Upgrade: corral-egress`: the connection becomes one
/// proxy connection of the job's (the worker relays a process's connection
/// to `127.0.0.1:3128` here). 403 for a job that may reach no host.
pub(super) async fn egress(
    Extension(session): Extension<Arc<ServedJob>>,
    request: Request,
) -> Response {
    let Some(egress) = session.egress.clone() else {
        return ApiError::Forbidden {
            message: "this job may reach no host: give it an egress policy (--allow-host)".into(),
        }
        .into_response();
    };
    let upgrade = request
        .headers()
        .get(axum::http::header::UPGRADE)
        .and_then(|value| value.to_str().ok());
    if upgrade != Some(EGRESS_UPGRADE) {
        return ApiError::bad_field(
            "upgrade",
            format!("`{EGRESS_PATH}` needs `Upgrade: {EGRESS_UPGRADE}`"),
        )
        .into_response();
    }
    let upgraded = hyper::upgrade::on(request);
    let tasks = egress.tasks.clone();
    // An open connection is work in flight: a sandbox does not idle under it.
    let busy = session.busy();
    tasks.spawn(async move {
        let _busy = busy;
        match upgraded.await {
            Ok(upgraded) => {
                crate::egress::serve(hyper_util::rt::TokioIo::new(upgraded), egress).await;
            }
            Err(error) => warn!(error = %error, "egress connection not upgraded"),
        }
    });
    Response::builder()
        .status(axum::http::StatusCode::SWITCHING_PROTOCOLS)
        .header(axum::http::header::UPGRADE, EGRESS_UPGRADE)
        .header(axum::http::header::CONNECTION, "upgrade")
        .body(axum::body::Body::empty())
        .unwrap_or_default()
}
