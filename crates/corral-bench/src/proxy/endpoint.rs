//! A job's socket with the model proxy behind it, as the orchestrator sets
//! one up for a worker job, without a container: the bench is the worker.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use corral_orchestrator::internals::EventLog;
use corral_orchestrator::internals::Redactor;
use corral_orchestrator::internals::SecretValue;
use corral_orchestrator::internals::{JobProvisions, WorkerEndpoint};
use corral_orchestrator::internals::{JobRecords, SqliteStore};
use corral_orchestrator::internals::{ModelProxy, ProxyContext, Upstream};
use corral_orchestrator::{Provider, ProviderKey, ProviderKind};
use corral_proto::{Job, JobLlm, JobMode};
use tokio_util::task::TaskTracker;

/// The open socket of a job whose model is at `base_url`.
pub struct JobSocket {
    pub socket: PathBuf,
    pub token: String,
    endpoint: WorkerEndpoint,
}

impl JobSocket {
    /// Opens it in `dir`, its tasks on `tasks`; the proxy reaches the
    /// upstream through the orchestrator's own client ([`Upstream`]).
    pub async fn open(
        dir: &std::path::Path,
        base_url: String,
        tasks: &TaskTracker,
    ) -> anyhow::Result<Self> {
        let store = Arc::new(SqliteStore::open(&dir.join("bench.db"))?);
        let job = worker_job();
        store.insert_job(&job).await?;
        let events = EventLog::new(store.clone());
        let session = ModelProxy::new(
            job.id.clone(),
            bench_provider(base_url),
            // A key, as a real provider has: answers are searched for it.
            Some(SecretValue::new("sk-bench-provider-key-0123456789".into())),
            "bench-model".into(),
            ProxyContext {
                upstream: Upstream::new(60, 0).map_err(|error| anyhow::anyhow!(error))?,
                events: events.clone(),
                tasks: tasks.clone(),
            },
            &job.limits,
            Arc::new(Redactor::new(std::iter::empty::<(&str, &str)>())),
        )
        .map_err(|error| anyhow::anyhow!(error))?;
        let socket_dir = dir.join("run");
        let endpoint = WorkerEndpoint::open(
            &socket_dir,
            JobProvisions {
                events,
                llm: Some(Arc::new(session)),
                ..corral_testkit::provisions(
                    &store,
                    &job,
                    Redactor::new(std::iter::empty::<(&str, &str)>()),
                )
            },
            tasks,
        )
        .await?;
        endpoint.mark_running();
        let token = std::fs::read_to_string(socket_dir.join("token")).context("token file")?;
        Ok(Self {
            socket: socket_dir.join("worker.sock"),
            token: token.trim().to_owned(),
            endpoint,
        })
    }

    pub async fn close(self) {
        self.endpoint.close().await;
    }
}

/// A worker job with the bench's model, on the testkit's running job.
fn worker_job() -> Job {
    Job {
        mode: JobMode::Worker,
        command: None,
        prompt: Some("bench".into()),
        llm: Some(JobLlm {
            provider: "bench".into(),
            model: "bench-model".into(),
            stream: true,
        }),
        ..corral_testkit::running_job("j-0000000000bench0")
    }
}

/// The upstream at `base_url` as an OpenAI provider without a key.
fn bench_provider(base_url: String) -> Provider {
    Provider {
        name: "bench".into(),
        kind: ProviderKind::Openai,
        base_url,
        key: ProviderKey::None,
        model: Some("bench-model".into()),
        input_price: None,
        output_price: None,
        max_tokens: 1024,
        oauth: false,
    }
}
