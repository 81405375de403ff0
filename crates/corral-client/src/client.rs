//! The user-API client: finds the server and its token, turns API errors
//! into messages that name the field, and follows a job's SSE stream,
//! reconnecting from the last event it saw.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use corral_proto::local_server::{API_TOKEN_FILE, DEFAULT_LISTEN, SERVER_FILE, ServerInfo};
use corral_proto::sse::SseParser;
use corral_proto::{ErrorBody, Event, Job, JobSpec, JobState};
use futures_util::StreamExt;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::failure::{ApiFailure, ClientError};
use crate::sanitize::visible_line;
use crate::segment::{Part, path};

/// Reconnects of an event stream before giving up.
const MAX_RECONNECTS: u32 = 20;
/// Pause before reconnecting a dropped stream.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// A client of one corral server.
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// A page of jobs, and the cursor of the next (older) one: what
/// `GET /v1/jobs` answers and `corral jobs --json` prints.
#[derive(Deserialize, serde::Serialize)]
pub struct JobList {
    /// Newest first.
    pub jobs: Vec<Job>,
    /// The `before` of the next page; `None` on the last.
    #[serde(default)]
    pub next: Option<String>,
}

/// A page of a job's events.
#[derive(Debug, Deserialize)]
pub struct EventPage {
    /// In order.
    pub events: Vec<Event>,
    /// Whether the job had stored more after these (a page is cut at its
    /// bytes too); an older server never says: read on until one is empty.
    #[serde(default)]
    pub more: bool,
}

/// How a followed stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The server said the job ended.
    JobEnded,
    /// The caller stopped following.
    Stopped,
}

impl ApiClient {
    /// A client of the server at `server` (else the one the data directory's
    /// `server.json` names, else the default address) with `token` (else the
    /// data directory's `api-token`, else none).
    pub fn locate(
        server: Option<&str>,
        token: Option<&str>,
        data_dir: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let base = match server {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => data_dir
                .and_then(|dir| std::fs::read_to_string(dir.join(SERVER_FILE)).ok())
                .and_then(|text| serde_json::from_str::<ServerInfo>(&text).ok())
                .map_or_else(|| format!("http://{DEFAULT_LISTEN}"), |info| info.url),
        };
        let token = match token {
            Some(token) => Some(token.to_owned()),
            None => data_dir
                .and_then(|dir| std::fs::read_to_string(dir.join(API_TOKEN_FILE)).ok())
                .map(|token| token.trim().to_owned()),
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(ClientError::Setup)?;
        Ok(Self { http, base, token })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `route`, a constant path with `{}` for each of `parts`
    /// in order, each checked ([`Part`]): no id is spliced in by hand.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        route: &'static str,
        parts: &[Part<'_>],
    ) -> Result<RequestBuilder, ClientError> {
        let path = path(route, parts)?;
        let builder = self.http.request(method, format!("{}{path}", self.base));
        Ok(match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        })
    }

    pub(crate) async fn send(&self, builder: RequestBuilder) -> Result<Response, ClientError> {
        let response = builder.send().await.map_err(|source| {
            let base = self.base.clone();
            if source.is_connect() {
                ClientError::Unreachable { base }
            } else {
                ClientError::Request { base, source }
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized);
        }
        // The server's message may quote a job's text (a file name in a
        // conflict): kept on one line, it cannot forge a line of corral's.
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(ErrorBody { error, field, .. }) => Err(ApiFailure {
                message: error,
                field,
                value: None,
            }
            .into()),
            Err(_) => Err(ClientError::Status {
                status,
                body: visible_line(&body).into_owned(),
            }),
        }
    }

    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        builder: RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = self.send(builder).await?;
        response.json().await.map_err(ClientError::Decode)
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<serde_json::Value, ClientError> {
        self.json(self.request(reqwest::Method::GET, "/v1/health", &[])?)
            .await
    }

    /// `POST /v1/jobs`.
    pub async fn create_job(&self, spec: &JobSpec) -> Result<Job, ClientError> {
        self.json(
            self.request(reqwest::Method::POST, "/v1/jobs", &[])?
                .json(spec),
        )
        .await
    }

    /// `POST /v1/jobs` with a spec as JSON, checked by the server alone (the
    /// MCP tool passes what its caller wrote).
    pub async fn create_raw(&self, spec: &serde_json::Value) -> Result<Job, ClientError> {
        self.json(
            self.request(reqwest::Method::POST, "/v1/jobs", &[])?
                .json(spec),
        )
        .await
    }

    /// One page of a job's events: up to `limit` after `after`, fewer when large.
    pub async fn events_page(
        &self,
        id: &str,
        after: u64,
        limit: u32,
    ) -> Result<EventPage, ClientError> {
        self.json(
            self.request(reqwest::Method::GET, "/v1/jobs/{}/events", &[Part::Id(id)])?
                .query(&[("after", after), ("limit", u64::from(limit))]),
        )
        .await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: &str) -> Result<Job, ClientError> {
        self.json(self.request(reqwest::Method::GET, "/v1/jobs/{}", &[Part::Id(id)])?)
            .await
    }

    /// `GET /v1/jobs`: a page, newest first.
    pub async fn jobs(
        &self,
        state: Option<&str>,
        before: Option<&str>,
        limit: u32,
    ) -> Result<JobList, ClientError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(state) = state {
            query.push(("state", state.to_owned()));
        }
        if let Some(before) = before {
            query.push(("before", before.to_owned()));
        }
        self.json(
            self.request(reqwest::Method::GET, "/v1/jobs", &[])?
                .query(&query),
        )
        .await
    }

    /// `POST /v1/verify`: a probe job's report.
    pub async fn verify(
        &self,
        isolation: Option<corral_proto::IsolationLevel>,
    ) -> Result<corral_proto::verify::VerifyReport, ClientError> {
        let mut request = self.request(reqwest::Method::POST, "/v1/verify", &[])?;
        if let Some(isolation) = isolation {
            request = request.query(&[("isolation", isolation.as_str())]);
        }
        self.json(request).await
    }

    /// `POST /v1/jobs/{id}/cancel`.
    pub async fn cancel(&self, id: &str) -> Result<Job, ClientError> {
        self.json(self.request(reqwest::Method::POST, "/v1/jobs/{}/cancel", &[Part::Id(id)])?)
            .await
    }

    /// `POST /v1/jobs/{id}/end`.
    pub async fn end(&self, id: &str) -> Result<Job, ClientError> {
        self.json(self.request(reqwest::Method::POST, "/v1/jobs/{}/end", &[Part::Id(id)])?)
            .await
    }

    /// `POST /v1/jobs/{id}/prompts`.
    pub async fn prompt(&self, id: &str, text: &str) -> Result<corral_proto::Prompt, ClientError> {
        let body = corral_proto::PromptSpec {
            prompt: text.to_owned(),
        };
        self.json(
            self.request(
                reqwest::Method::POST,
                "/v1/jobs/{}/prompts",
                &[Part::Id(id)],
            )?
            .json(&body),
        )
        .await
    }

    /// Every stored event of a job, page by page.
    pub async fn events(
        &self,
        id: &str,
        mut on_event: impl FnMut(&Event),
    ) -> Result<(), ClientError> {
        let mut after = 0;
        loop {
            let page: EventPage = self
                .json(
                    self.request(reqwest::Method::GET, "/v1/jobs/{}/events", &[Part::Id(id)])?
                        .query(&[("after", after)]),
                )
                .await?;
            let Some(last) = page.events.last() else {
                return Ok(());
            };
            after = last.seq;
            page.events.iter().for_each(&mut on_event);
        }
    }

    /// Follows a job's events live from `after` until it ends, reconnecting
    /// from the last event seen when the stream drops.
    pub async fn follow(
        &self,
        id: &str,
        after: u64,
        mut on_event: impl FnMut(&Event),
    ) -> Result<StreamEnd, ClientError> {
        self.follow_while(id, after, |event| {
            on_event(event);
            ControlFlow::Continue(())
        })
        .await
    }

    /// [`ApiClient::follow`] until the job ends or `on_event` breaks.
    pub async fn follow_while(
        &self,
        id: &str,
        mut after: u64,
        mut on_event: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<StreamEnd, ClientError> {
        let mut reconnects = 0;
        loop {
            let request = self
                .request(
                    reqwest::Method::GET,
                    "/v1/jobs/{}/events/stream",
                    &[Part::Id(id)],
                )?
                .header("last-event-id", after.to_string());
            let response = self.send(request).await?;
            let mut body = response.bytes_stream();
            let mut parser = SseParser::default();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else { break };
                for message in parser.feed(&chunk) {
                    match message.event.as_str() {
                        "end" => return Ok(StreamEnd::JobEnded),
                        "stream_failed" => {
                            return Err(ClientError::StreamFailed(
                                visible_line(&message.data).into_owned(),
                            ));
                        }
                        _ => {
                            let event: Event = serde_json::from_str(&message.data)
                                .map_err(ClientError::StreamDecode)?;
                            after = event.seq;
                            if on_event(&event).is_break() {
                                return Ok(StreamEnd::Stopped);
                            }
                        }
                    }
                }
            }
            reconnects += 1;
            if reconnects > MAX_RECONNECTS {
                return Err(ClientError::StreamDropped(id.to_owned()));
            }
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
    }
}

/// The exit code a job's end maps to: its own, else 124 for a timeout (as
/// `timeout(1)`), 130 for a cancel (as Ctrl-C), 1 for another failure.
pub fn exit_code_of(job: &Job) -> u8 {
    match (job.state, job.exit_code) {
        (JobState::TimedOut, _) => 124,
        (JobState::Cancelled, _) => 130,
        (JobState::Succeeded, _) => 0,
        (_, Some(code)) => u8::try_from(code)
            .ok()
            .filter(|code| *code != 0)
            .unwrap_or(1),
        (_, None) => 1,
    }
}
