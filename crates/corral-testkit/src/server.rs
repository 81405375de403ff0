//! [`TestServer`]: a real orchestrator in-process on `127.0.0.1:0`, its own
//! data directory and instance id, `corral-client`'s [`ApiClient`] for its
//! user API, and raw calls for tests of the API's own answers. On
//! drop it removes every container of its instance, so a failing test
//! leaves nothing behind.

use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use corral_client::{ApiClient, error_chain};
use corral_docker::DockerRuntime;
use corral_orchestrator::{Config, ConfigOverrides, RunningServer};
use corral_proto::event::{MessageData, StatusData};
use corral_proto::{Event, Job, JobState};
use corral_runtime::LABEL_INSTANCE;
use reqwest::StatusCode;
use serde_json::Value;

/// Longest a test waits for a job.
const JOB_DEADLINE: Duration = Duration::from_mins(4);

/// A running orchestrator for one test.
pub struct TestServer {
    /// The user API's base URL.
    pub url: String,
    /// The user API token.
    pub token: String,
    /// The instance id on its containers' `corral.instance` label.
    pub instance_id: String,
    /// Its data directory.
    pub data_dir: tempfile::TempDir,
    /// The user API's client, as the CLI and MCP use it.
    pub client: ApiClient,
    server: Option<RunningServer>,
    http: reqwest::Client,
}

/// Everything a job said, and how it ended.
#[derive(Debug)]
pub struct Followed {
    /// Its events, in stream order.
    pub events: Vec<Event>,
    /// The job once it ended.
    pub job: Job,
}

impl Followed {
    /// Asserts the job succeeded, showing its reason and stderr otherwise.
    pub fn assert_succeeded(&self) {
        assert_eq!(
            self.job.state,
            corral_proto::JobState::Succeeded,
            "job {} ended {:?}: {:?}\n{}",
            self.job.id,
            self.job.state,
            self.job.reason,
            self.stderr()
        );
    }

    /// The job's stdout, concatenated.
    pub fn stdout(&self) -> String {
        self.output("stdout")
    }

    /// The job's stderr, concatenated.
    pub fn stderr(&self) -> String {
        self.output("stderr")
    }

    fn output(&self, stream: &str) -> String {
        self.events
            .iter()
            .filter_map(Event::output)
            .filter(|output| output.stream.as_str() == stream)
            .map(|output| output.text)
            .collect()
    }
}

impl TestServer {
    /// A server with the default settings, the default image and the static worker.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose config `adjust` may change first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        crate::ensure_docker();
        let image = crate::default_image().await;
        let data_dir = tempfile::Builder::new()
            .prefix("corral-")
            .tempdir()
            .expect("temp data dir");
        let mut config = Config::load(ConfigOverrides {
            data_dir: Some(data_dir.path().to_owned()),
            listen: Some("127.0.0.1:0".parse().expect("loopback address")),
            worker_bin: Some(crate::worker_bin()),
            image: Some(image),
            ..ConfigOverrides::default()
        })
        .expect("test config");
        // The sandbox check at start adds a job of its own to every
        // server; the tests of the check turn it back on.
        config.verify_at_start = false;
        adjust(&mut config);
        let runtime = DockerRuntime::connect().await.expect("connect to Docker");
        let server = corral_orchestrator::start(config, Arc::new(runtime))
            .await
            .expect("server starts");
        let url = server.url();
        let token = server.api_token.expose().to_owned();
        let client = ApiClient::locate(Some(&url), Some(&token), None).expect("API client");
        Self {
            url,
            token,
            client,
            instance_id: server.instance_id.clone(),
            data_dir,
            server: Some(server),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("HTTP client"),
        }
    }

    /// Sends a request with the token; returns the status and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status();
        let text = response.text().await.expect("response body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `GET path` with the right token.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None, Some(&self.token))
            .await
    }

    /// `POST path` with the right token and a raw body.
    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body), Some(&self.token))
            .await
    }

    /// Stores secret `name` with `value`, asserting it was accepted.
    pub async fn put_secret(&self, name: &str, value: &str) {
        if let Err(error) = self.client.put_secret(name, value).await {
            panic!("storing secret {name}: {}", error_chain(&error));
        }
    }

    /// Creates a job from `spec`, asserting it was accepted; returns its id.
    pub async fn create(&self, spec: &Value) -> String {
        match self.client.create_raw(spec).await {
            Ok(job) => job.id,
            Err(error) => panic!("job refused: {}", error_chain(&error)),
        }
    }

    /// One job.
    pub async fn job(&self, job_id: &str) -> Job {
        match self.client.job(job_id).await {
            Ok(job) => job,
            Err(error) => panic!("job {job_id}: {}", error_chain(&error)),
        }
    }

    /// Follows the job's SSE stream until `stop` accepts an event or the job
    /// ends; returns the events seen.
    pub async fn follow_until(
        &self,
        job_id: &str,
        mut stop: impl FnMut(&Event) -> bool,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        let follow = self.client.follow_while(job_id, 0, |event| {
            let done = stop(event);
            events.push(event.clone());
            if done {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        let followed = tokio::time::timeout(JOB_DEADLINE, follow)
            .await
            .unwrap_or_else(|_| panic!("job {job_id} did not get there within {JOB_DEADLINE:?}"));
        if let Err(error) = followed {
            panic!("following {job_id}: {}", error_chain(&error));
        }
        events
    }

    /// Follows the job to its end.
    pub async fn follow(&self, job_id: &str) -> Followed {
        let events = self.follow_until(job_id, |_| false).await;
        Followed {
            events,
            job: self.job(job_id).await,
        }
    }

    /// Queues a follow-up prompt; the status and body of the answer.
    pub async fn prompt(&self, job_id: &str, text: &str) -> (StatusCode, Value) {
        let body = serde_json::json!({ "prompt": text }).to_string();
        self.post(&format!("/v1/jobs/{job_id}/prompts"), &body)
            .await
    }

    /// Follows the job until an assistant message says `text`.
    pub async fn wait_for_message(&self, job_id: &str, text: &str) {
        let events = self
            .follow_until(job_id, |event| said(event).as_deref() == Some(text))
            .await;
        assert!(
            events
                .last()
                .is_some_and(|event| said(event).as_deref() == Some(text)),
            "job {job_id} ended before saying {text:?}"
        );
    }

    /// Waits until the job reports `state`.
    pub async fn wait_for_state(&self, job_id: &str, state: JobState) {
        let events = self
            .follow_until(job_id, |event| state_of(event) == Some(state))
            .await;
        let reached = events
            .last()
            .is_some_and(|event| state_of(event) == Some(state));
        assert!(
            reached,
            "job {job_id} ended before reaching {state:?}: {events:?}"
        );
    }

    /// The integer value of a series on the metrics page (`name` or
    /// `name{label="…"}`), if it is there.
    pub async fn metric(&self, series: &str) -> Option<u64> {
        let (_, page) = self.get("/metrics").await;
        metric_value(page.as_str()?, series)
    }

    /// The server's job manager, for what only the server's own callers
    /// (`/mcp`) reach.
    pub fn jobs(&self) -> &corral_orchestrator::internals::JobManager {
        &self.server.as_ref().expect("the server runs").jobs
    }

    /// Stops the server; returns how many of its containers were still there.
    pub async fn stop(mut self) -> usize {
        if let Some(server) = self.server.take() {
            server.stop(Duration::from_secs(30)).await;
        }
        crate::remove_labelled(LABEL_INSTANCE, &self.instance_id).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.server.is_none() {
            return;
        }
        crate::remove_instance_now(&self.instance_id);
    }
}

/// The integer value of `series` on a Prometheus text page.
pub fn metric_value(page: &str, series: &str) -> Option<u64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// One HTTP/1.1 request over a Unix socket (`Connection: close`); returns
/// the status code and body. Runs on the blocking pool, so an in-process
/// server on the test's own runtime can answer.
pub async fn unix_request(
    socket: &Path,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let (socket, method, path) = (socket.to_owned(), method.to_owned(), path.to_owned());
    let (token, body) = (token.map(str::to_owned), body.to_owned());
    tokio::task::spawn_blocking(move || {
        blocking_unix_request(&socket, &method, &path, token.as_deref(), &body)
    })
    .await
    .expect("request task")
}

fn blocking_unix_request(
    socket: &Path,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut stream =
        std::os::unix::net::UnixStream::connect(socket).expect("connect to the job socket");
    let auth = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: corral\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The text of a message event.
fn said(event: &Event) -> Option<String> {
    event.payload::<MessageData>()?.text
}

/// The state a status event reports.
fn state_of(event: &Event) -> Option<JobState> {
    event.payload::<StatusData>()?.state
}
