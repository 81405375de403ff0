//! The web UI: a page, its scripts, a style sheet and an icon, embedded in
//! the binary (no CDN, works offline), served without a token because they
//! hold no data; everything they show comes from the token-protected API.
//! A strict content security policy keeps the page to its own origin and
//! scripts.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use axum::response::IntoResponse;

use crate::http::ApiError;

const INDEX: &str = include_str!("ui/index.html");

const JS: &str = "text/javascript; charset=utf-8";

/// The files under `/ui/`: name, content type, body.
const FILES: [(&str, &str, &str); 10] = [
    ("core.js", JS, include_str!("ui/core.js")),
    ("events.js", JS, include_str!("ui/events.js")),
    ("review.js", JS, include_str!("ui/review.js")),
    ("job.js", JS, include_str!("ui/job.js")),
    ("list.js", JS, include_str!("ui/list.js")),
    ("form.js", JS, include_str!("ui/form.js")),
    ("sandboxes.js", JS, include_str!("ui/sandboxes.js")),
    ("app.js", JS, include_str!("ui/app.js")),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("ui/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("ui/favicon.svg"),
    ),
];

/// Only this origin's scripts, styles, images and connections; never in a frame.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                      img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-cache"),
            (HeaderName::from_static("content-security-policy"), POLICY),
            (HeaderName::from_static("x-content-type-options"), "nosniff"),
            (HeaderName::from_static("referrer-policy"), "no-referrer"),
        ],
        body,
    )
}

/// `GET /`.
pub async fn index() -> impl IntoResponse {
    asset("text/html; charset=utf-8", INDEX)
}

/// `GET /ui/{name}`: a script, the style sheet or the icon.
pub async fn file(Path(name): Path<String>) -> Result<impl IntoResponse, ApiError> {
    FILES
        .iter()
        .find(|(file, _, _)| *file == name)
        .map(|(_, content_type, body)| asset(content_type, body))
        .ok_or(ApiError::NotFound {
            what: "route".into(),
        })
}
