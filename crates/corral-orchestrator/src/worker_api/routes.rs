//! Handlers of the worker API. The token check wraps every route; every
//! event goes through the session's leak detector before it is stored.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use std::time::Duration;

use corral_proto::event::StatusData;
use corral_proto::llm::ChatRequest;
use corral_proto::sandbox::order::{ORDERS_PATH, RESULT_PATH, UPLOAD_PATH};
use corral_proto::worker::{
    ANTHROPIC_PREFIX, CHAT_PATH, CLAUDE_SESSION_PATH, COMPLETE_PATH, ClaudeSession, EGRESS_PATH,
    EVENTS_PATH, JOB_PATH, MAX_CLAUDE_SESSION_BYTES, PROJECT_PATH, PROMPT_POLL_SECS, PROMPTS_PATH,
    WORKER_PROTOCOL,
};
use corral_proto::{JobMode, NewEvent, Prompt};
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio_util::task::TaskTracker;
use tracing::warn;

use super::binding::{JOB_HOLD, SocketBinding};
use super::served::Session;
use crate::http::{ApiError, ApiJson, ApiQuery};
use crate::llm::ProxyError;
use crate::token::bearer;

/// Largest request body: a generous batch of output.
const MAX_BODY_BYTES: usize = 8 << 20;
/// Largest model call: a long conversation with its tool results.
const MAX_CHAT_BYTES: usize = 32 << 20;
/// What a job's JSON bodies may take in all once read, while their
/// requests are served (see `http::held`): as much as the heaviest one
/// body may be, so the most a job's bodies take at once is this.
const JOB_BODY_WEIGHT: usize = crate::http::weight::CEILING;

pub(super) fn router(binding: Arc<SocketBinding>, tasks: TaskTracker) -> Router {
    Router::new()
        .route(JOB_PATH, get(job))
        .route(EVENTS_PATH, post(super::events_route::events))
        .route(COMPLETE_PATH, post(super::events_route::complete))
        .route(
            CHAT_PATH,
            post(chat).layer(DefaultBodyLimit::max(MAX_CHAT_BYTES)),
        )
        .route(PROMPTS_PATH, get(prompts))
        .route(EGRESS_PATH, get(super::egress_route::egress))
        .route(PROJECT_PATH, get(super::project::route))
        .route(ORDERS_PATH, get(super::sandbox_routes::orders))
        .route(
            &format!("{UPLOAD_PATH}/{{order}}"),
            get(super::sandbox_routes::upload),
        )
        .route(
            &format!("{RESULT_PATH}/{{order}}"),
            post(super::sandbox_routes::result).layer(DefaultBodyLimit::max(
                super::sandbox_routes::MAX_ANSWER_BYTES,
            )),
        )
        .route(
            CLAUDE_SESSION_PATH,
            get(claude_session)
                .put(keep_claude_session)
                .layer(DefaultBodyLimit::max(MAX_CLAUDE_SESSION_BYTES + (1 << 20))),
        )
        .route(
            ANTHROPIC_PREFIX,
            any(anthropic).layer(DefaultBodyLimit::max(MAX_CHAT_BYTES)),
        )
        .route(
            &format!("{ANTHROPIC_PREFIX}/{{*rest}}"),
            any(anthropic).layer(DefaultBodyLimit::max(MAX_CHAT_BYTES)),
        )
        // Before the layers, so only an authenticated caller learns it.
        .fallback(no_such_route)
        .layer(middleware::from_fn_with_state(
            crate::http::WeightBudget::new(JOB_BODY_WEIGHT),
            crate::http::within_budget,
        ))
        .layer(middleware::from_fn_with_state(
            super::admission::body_places(),
            super::admission::one_of_few,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&binding),
            authenticate,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(crate::http::close_if_body_unread))
        .layer(Extension(tasks))
        .with_state(binding)
}

/// A route this protocol does not have: most likely asked for by a worker
/// of another build (an older one asks for `/v1/credentials`), so the
/// answer says which protocol is spoken here and what to run instead.
async fn no_such_route() -> ApiError {
    ApiError::NotFound {
        what: format!(
            "this route (the orchestrator speaks worker protocol {WORKER_PROTOCOL}: is the \
             worker of another build? Run the orchestrator's own, `--worker-bin`)"
        ),
    }
}

/// Checks the token, deletes the token file on first use, and puts the
/// bound job's session on the request. Before a job is bound (a warm-pool
/// container) only `GET /v1/job` is served: it waits for one.
async fn authenticate(
    State(binding): State<Arc<SocketBinding>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = bearer(request.headers().get(AUTHORIZATION));
    let valid = presented.is_some_and(|token| binding.token.matches(token));
    // Revoking a job's token closes its binding: one check covers both.
    if !valid || binding.is_closed() {
        return Err(ApiError::Unauthorized);
    }
    if binding.consume_token() {
        match tokio::fs::remove_file(&binding.token_file).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => warn!(error = %error, "cannot delete token file"),
        }
    }
    match binding.session() {
        Some(session) => {
            request.extensions_mut().insert(session);
        }
        None if request.uri().path() == JOB_PATH => {}
        None => {
            return Err(ApiError::Conflict {
                message: "no job is bound to this socket yet: ask for it at GET /v1/job".into(),
            });
        }
    }
    Ok(next.run(request).await)
}

/// `GET /v1/job`: the job this socket serves. On a warm-pool socket the
/// request is held until a job is bound (at most [`JOB_HOLD`]); `204` when
/// none was, and the worker asks again.
async fn job(State(binding): State<Arc<SocketBinding>>) -> Result<Response, ApiError> {
    binding.mark_asked();
    let Some(session) = binding.until_bound(JOB_HOLD).await else {
        if binding.is_closed() {
            return Err(ApiError::Unauthorized);
        }
        return Ok(axum::http::StatusCode::NO_CONTENT.into_response());
    };
    Ok(Json(session.worker_job()).into_response())
}

/// A model call, through the job's proxy. Jobs without a model (exec mode)
/// get a 403 before a byte of the body is read: the orchestrator's keys
/// are for agent jobs only, and its memory for the calls they make.
async fn chat(Extension(session): Session, request: Request) -> Response {
    let Some(llm) = &session.llm else {
        return ProxyError::NoModel.into_response();
    };
    let request = match ApiJson::<ChatRequest>::from_request(request, &()).await {
        Ok(ApiJson(request)) => request,
        Err(error) => return error.into_response(),
    };
    let busy = session.busy();
    let answer = match llm.chat(request).await {
        Ok(answer) => answer,
        Err(error) => error.into_response(),
    };
    while_streamed(answer, busy)
}

/// `answer` keeping `busy` alive until its body is sent (a streamed
/// model answer is a model call in flight until its last byte).
fn while_streamed<T: Send + Sync + 'static>(answer: Response, busy: T) -> Response {
    use http_body_util::BodyExt;
    answer.map(|body| {
        axum::body::Body::new(body.map_frame(move |frame| {
            let _ = &busy;
            frame
        }))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptQuery {
    #[serde(default)]
    after: u64,
    /// Seconds to wait for a prompt; at most [`PROMPT_POLL_SECS`].
    #[serde(default)]
    wait: Option<u64>,
}

/// Follow-up prompts numbered above `after`, waiting for one when there is none.
async fn prompts(
    Extension(session): Session,
    ApiQuery(query): ApiQuery<PromptQuery>,
) -> Result<Json<Vec<Prompt>>, ApiError> {
    let wait = query.wait.unwrap_or(PROMPT_POLL_SECS).min(PROMPT_POLL_SECS);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let job_id = &session.job.id;
    // Subscribed before reading, so no prompt slips between the two; a
    // look without a wait (`wait=0`) needs no wake-up, and takes none.
    let mut wake = (wait > 0).then(|| session.events.subscribe(job_id));
    let store = session.events.store();
    loop {
        let prompts = store.prompts_after(job_id, query.after).await?;
        if !prompts.is_empty() || session.is_revoked() {
            session.delivered(&prompts);
            return Ok(Json(prompts));
        }
        // Asking with nothing queued is what waiting is: said once, when
        // it begins. Only a user's prompt or end clears the mark, so a job
        // that asks in a loop cannot make it flip (nor write, nor emit).
        if session.job.interactive
            && let Some(seen) = session.waiting_to_mark()
            && store.mark_waiting(job_id, seen).await?
        {
            let event = NewEvent::of(&StatusData {
                phase: Some(corral_proto::event::PHASE_WAITING.into()),
                text: Some(format!(
                    "waiting for a prompt: corral prompt {job_id} \"…\", or corral end {job_id}"
                )),
                ..StatusData::default()
            });
            session.events.append(job_id, vec![event]).await?;
        }
        let Some(wake) = wake.as_mut() else {
            return Ok(Json(prompts));
        };
        tokio::select! {
            woken = wake.recv() => {
                if matches!(woken, Err(broadcast::error::RecvError::Closed)) {
                    return Ok(Json(prompts));
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(Json(prompts)),
        }
    }
}

/// The `claude` CLI's Anthropic requests (claude mode): checked against
/// the passthrough's allowlist and forwarded with the placeholder key
/// swapped for the real credential. The target goes on as sent, undecoded.
async fn anthropic(Extension(session): Session, request: Request) -> Response {
    let Some(llm) = &session.llm else {
        return ProxyError::NoModel.into_response();
    };
    let Some(placeholder) = &session.placeholder else {
        llm.warn("a model request was refused: the Anthropic passthrough serves claude jobs only")
            .await;
        return ProxyError::NoModel.into_response();
    };
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("", |target| target.as_str())
        .strip_prefix(ANTHROPIC_PREFIX)
        .unwrap_or_default()
        .to_owned();
    let Ok(body) = axum::body::to_bytes(body, MAX_CHAT_BYTES).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    // A body refused for its weight is refused, as the passthrough's other
    // refusals are, by the passthrough.
    let weighed = crate::http::weight::refused(&body);
    if let Ok(weight) = weighed {
        crate::http::take_weight(&parts.extensions, weight).await;
    }
    let busy = session.busy();
    let answer = llm
        .passthrough(
            parts.method,
            &target,
            &parts.headers,
            body,
            weighed,
            placeholder,
        )
        .await;
    while_streamed(answer, busy)
}

/// `PUT /v1/claude/session`: the claude job's latest session, kept so a
/// follow-up can resume it once the job has ended.
async fn keep_claude_session(
    Extension(session): Session,
    request: Request,
) -> Result<axum::http::StatusCode, ApiError> {
    // Refused before its body is read.
    if session.job.mode != JobMode::Claude {
        return Err(ApiError::bad_field(
            "mode",
            "only claude jobs keep a Claude session",
        ));
    }
    let ApiJson(claude) = ApiJson::<ClaudeSession>::from_request(request, &()).await?;
    let plain = |text: &str| {
        !text.is_empty()
            && text.len() <= 128
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    if !plain(&claude.session_id) {
        return Err(ApiError::bad_field(
            "session_id",
            "must be 1 to 128 letters, digits, `-` or `_`",
        ));
    }
    if !plain(&claude.dir) {
        return Err(ApiError::bad_field(
            "dir",
            "must be 1 to 128 letters, digits, `-` or `_`",
        ));
    }
    // Kept as they are (the transcript is redacted): one that holds a
    // secret is refused, never stored, and not quoted back.
    for (field, text) in [("session_id", &claude.session_id), ("dir", &claude.dir)] {
        if session.redactor.finds(text) {
            return Err(ApiError::bad_field(field, "holds a secret"));
        }
    }
    if claude.transcript.len() > MAX_CLAUDE_SESSION_BYTES {
        return Err(ApiError::bad_field(
            "transcript",
            format!("must be at most {MAX_CLAUDE_SESSION_BYTES} bytes"),
        ));
    }
    session.keep_claude_session(claude).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /v1/claude/session`: the session this job resumes (a job started by
/// a follow-up to an ended claude job); 404 for any other job.
async fn claude_session(Extension(session): Session) -> Result<Json<ClaudeSession>, ApiError> {
    let continues = session
        .job
        .claude
        .as_ref()
        .and_then(|settings| settings.continues.as_deref());
    let found = match continues {
        Some(ended) => session.events.store().claude_session(ended).await?,
        None => None,
    };
    found.map(Json).ok_or_else(|| ApiError::NotFound {
        what: "a Claude session for this job to resume".into(),
    })
}
