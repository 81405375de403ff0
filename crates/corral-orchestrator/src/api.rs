//! The user API: JSON over HTTP on the listen address, bearer token required.
//!
//! This file is the route table and nothing else; handlers live beside it.

mod auth;
mod error;
mod events;
mod jobs;
mod metrics;
mod openapi;
mod review;
mod sandboxes;
mod secrets;
mod state;
mod ui;
mod verify;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};

pub use state::AppState;

use crate::http::ApiError;

/// Largest request body on the user API.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The user API's routes; everything but `/v1/health` and the web UI's
/// files needs the token.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/v1/jobs", post(jobs::create).get(jobs::list))
        .route("/v1/jobs/{id}", get(jobs::show))
        .route("/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/v1/jobs/{id}/end", post(jobs::end))
        .route("/v1/jobs/{id}/prompts", post(jobs::prompt))
        .route("/v1/jobs/{id}/events", get(events::list))
        .route("/v1/jobs/{id}/events/stream", get(events::stream))
        .route("/v1/jobs/{id}/diff", get(review::diff))
        .route("/v1/jobs/{id}/apply", post(review::apply))
        .route("/v1/jobs/{id}/discard", post(review::discard))
        .route(
            "/v1/sandboxes",
            post(sandboxes::create).get(sandboxes::list),
        )
        .route(
            "/v1/sandboxes/{id}",
            get(sandboxes::show).delete(sandboxes::delete),
        )
        .route("/v1/sandboxes/{id}/exec", post(sandboxes::exec))
        .route("/v1/sandboxes/{id}/pause", post(sandboxes::pause))
        .route("/v1/sandboxes/{id}/stop", post(sandboxes::stop))
        .route("/v1/sandboxes/{id}/start", post(sandboxes::start))
        .route("/v1/sandboxes/{id}/fork", post(sandboxes::fork))
        .route("/v1/sandboxes/{id}/resume", post(sandboxes::resume))
        .route(
            "/v1/sandboxes/{id}/files",
            // An upload's size is checked against the sandbox's own limit.
            get(sandboxes::get_file)
                .put(sandboxes::put_file)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/sandboxes/{id}/files/list", get(sandboxes::list_files))
        .route("/v1/sandboxes/{id}/events", get(sandboxes::events))
        .route(
            "/v1/sandboxes/{id}/events/stream",
            get(sandboxes::events_stream),
        )
        .route("/v1/verify", post(verify::run).get(verify::last))
        .route("/metrics", get(metrics::metrics))
        .route("/v1/secrets", get(secrets::list))
        .route(
            "/v1/secrets/{name}",
            put(secrets::set).delete(secrets::remove),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    // The MCP tools: the MCP token (or the user API's), nothing else.
    let mcp = Router::new()
        .nest_service("/mcp", crate::mcp_local::service(state.jobs.clone()))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_mcp_token,
        ));
    Router::new()
        .route("/v1/health", get(jobs::health))
        .route("/v1/openapi.json", get(openapi::openapi))
        .route("/", get(ui::index))
        .route("/ui/{name}", get(ui::file))
        .merge(protected)
        .merge(mcp)
        .fallback(|| async {
            ApiError::NotFound {
                what: "route".into(),
            }
        })
        .layer(middleware::from_fn(auth::log_server_errors))
        .layer(middleware::from_fn(crate::http::close_if_body_unread))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
