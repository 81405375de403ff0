//! The user-API client: finds the server and its token, turns API errors
//! into messages that name the field, and follows a job's SSE stream,
//! reconnecting from the last event it saw.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use corral_proto::{ErrorBody, Event, Job, JobSpec, JobState};
use futures_util::StreamExt;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::cli::GlobalArgs;

/// The server a client talks to when nothing says otherwise.
const DEFAULT_URL: &str = "http://127.0.0.1:7316";
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

#[derive(Deserialize)]
struct ServerFile {
    url: String,
}

#[derive(Deserialize)]
struct JobList {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct EventPage {
    events: Vec<Event>,
}

/// How a followed stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The server said the job ended.
    JobEnded,
}

impl ApiClient {
    /// Finds the server (`--server`, the data directory's `server.json`, the
    /// default) and the token (`CORRAL_TOKEN`, the data directory's `api-token`).
    pub fn from_args(global: &GlobalArgs) -> anyhow::Result<Self> {
        let data_dir = data_dir(global);
        let base = match &global.server {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => data_dir
                .as_ref()
                .and_then(|dir| std::fs::read_to_string(dir.join("server.json")).ok())
                .and_then(|text| serde_json::from_str::<ServerFile>(&text).ok())
                .map_or_else(|| DEFAULT_URL.to_owned(), |file| file.url),
        };
        let token = match &global.token {
            Some(token) => Some(token.clone()),
            None => data_dir
                .and_then(|dir| std::fs::read_to_string(dir.join("api-token")).ok())
                .map(|token| token.trim().to_owned()),
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self { http, base, token })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn send(&self, builder: RequestBuilder) -> anyhow::Result<Response> {
        let response = builder.send().await.map_err(|error| {
            if error.is_connect() {
                anyhow!(
                    "cannot reach the corral server at {} (is `corral serve` running? set --server or CORRAL_URL)",
                    self.base
                )
            } else {
                anyhow!("request to {} failed: {error}", self.base)
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == StatusCode::UNAUTHORIZED {
            bail!(
                "the server refused the API token (set CORRAL_TOKEN, or --data-dir to the server's data directory)"
            );
        }
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(ErrorBody { error, field: _ }) => bail!("{error}"),
            Err(_) => bail!("server answered {status}: {body}"),
        }
    }

    async fn json<T: DeserializeOwned>(&self, builder: RequestBuilder) -> anyhow::Result<T> {
        let response = self.send(builder).await?;
        response
            .json()
            .await
            .context("cannot decode the server's answer")
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> anyhow::Result<serde_json::Value> {
        self.json(self.request(reqwest::Method::GET, "/v1/health"))
            .await
    }

    /// `POST /v1/jobs`.
    pub async fn create_job(&self, spec: &JobSpec) -> anyhow::Result<Job> {
        self.json(self.request(reqwest::Method::POST, "/v1/jobs").json(spec))
            .await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: &str) -> anyhow::Result<Job> {
        self.json(self.request(reqwest::Method::GET, &format!("/v1/jobs/{id}")))
            .await
    }

    /// `GET /v1/jobs`.
    pub async fn jobs(&self, state: Option<&str>, limit: u32) -> anyhow::Result<Vec<Job>> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(state) = state {
            query.push(("state", state.to_owned()));
        }
        let list: JobList = self
            .json(self.request(reqwest::Method::GET, "/v1/jobs").query(&query))
            .await?;
        Ok(list.jobs)
    }

    /// `POST /v1/jobs/{id}/cancel`.
    pub async fn cancel(&self, id: &str) -> anyhow::Result<Job> {
        self.json(self.request(reqwest::Method::POST, &format!("/v1/jobs/{id}/cancel")))
            .await
    }

    /// Every stored event of a job, page by page.
    pub async fn events(&self, id: &str, mut on_event: impl FnMut(&Event)) -> anyhow::Result<()> {
        let mut after = 0;
        loop {
            let path = format!("/v1/jobs/{id}/events");
            let page: EventPage = self
                .json(
                    self.request(reqwest::Method::GET, &path)
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
        mut after: u64,
        mut on_event: impl FnMut(&Event),
    ) -> anyhow::Result<StreamEnd> {
        let mut reconnects = 0;
        loop {
            let request = self
                .request(
                    reqwest::Method::GET,
                    &format!("/v1/jobs/{id}/events/stream"),
                )
                .header("last-event-id", after.to_string());
            let response = self.send(request).await?;
            let mut body = response.bytes_stream();
            let mut parser = SseParser::default();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else { break };
                for message in parser.feed(&chunk) {
                    match message.event.as_str() {
                        "end" => return Ok(StreamEnd::JobEnded),
                        "error" => {
                            bail!("the server failed while streaming events: {}", message.data)
                        }
                        _ => {
                            let event: Event = serde_json::from_str(&message.data)
                                .context("cannot decode an event from the stream")?;
                            after = event.seq;
                            on_event(&event);
                        }
                    }
                }
            }
            reconnects += 1;
            if reconnects > MAX_RECONNECTS {
                bail!("the event stream of {id} kept dropping");
            }
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
    }
}

/// The data directory: `--data-dir`, else the default.
pub fn data_dir(global: &GlobalArgs) -> Option<PathBuf> {
    global
        .data_dir
        .clone()
        .or_else(corral_orchestrator::config::default_data_dir)
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

/// One server-sent event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SseMessage {
    /// Its `event:` field (`message` when absent).
    pub event: String,
    /// Its `data:` lines, joined with newlines.
    pub data: String,
}

/// An incremental `text/event-stream` parser.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Feeds bytes; returns the messages they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        self.buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(end) = find_blank_line(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..end.0 + end.1).collect();
            let text = String::from_utf8_lossy(&block[..end.0]);
            let mut message = SseMessage::default();
            let mut data = Vec::new();
            for line in text.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => message.event = value.to_owned(),
                    "data" => data.push(value.to_owned()),
                    _ => {}
                }
            }
            if data.is_empty() {
                continue; // a comment or keep-alive
            }
            if message.event.is_empty() {
                message.event = "message".into();
            }
            message.data = data.join("\n");
            messages.push(message);
        }
        messages
    }
}

/// Position and length of the first blank line (`\n\n` or `\r\n\r\n`).
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer
        .windows(2)
        .position(|pair| pair == b"\n\n")
        .map(|at| (at, 2));
    let crlf = buffer
        .windows(4)
        .position(|quad| quad == b"\r\n\r\n")
        .map(|at| (at, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_across_chunks_are_reassembled() {
        let mut parser = SseParser::default();
        assert!(
            parser
                .feed(b"id: 1\nevent: output\ndata: {\"a\"")
                .is_empty()
        );
        let messages = parser.feed(b":1}\n\n: keep-alive\n\nevent: end\ndata: x\n\n");
        assert_eq!(
            messages,
            [
                SseMessage {
                    event: "output".into(),
                    data: "{\"a\":1}".into()
                },
                SseMessage {
                    event: "end".into(),
                    data: "x".into()
                },
            ]
        );
    }
}
