//! The tools over a server's user API: each a call of [`ApiClient`], its
//! error the API's own message. `corral mcp` serves these on stdio.

use corral_proto::sandbox::{ExecSpec, FileEntry, Sandbox, SandboxSpec};
use corral_proto::{Event, Job, Prompt};
use serde_json::Value;

use super::JobsBackend;
use crate::{ApiClient, ClientError, ExecAnswer, error_chain};

fn message(error: &ClientError) -> String {
    error_chain(error)
}

#[async_trait::async_trait]
impl JobsBackend for ApiClient {
    async fn create(&self, spec: Value) -> Result<Job, String> {
        self.create_raw(&spec)
            .await
            .map_err(|error| message(&error))
    }

    async fn job(&self, id: &str) -> Result<Job, String> {
        ApiClient::job(self, id)
            .await
            .map_err(|error| message(&error))
    }

    async fn jobs(&self, state: Option<String>, limit: u32) -> Result<Vec<Job>, String> {
        ApiClient::jobs(self, state.as_deref(), None, limit)
            .await
            .map(|page| page.jobs)
            .map_err(|error| message(&error))
    }

    async fn events(&self, id: &str, after: u64, limit: u32) -> Result<(Vec<Event>, bool), String> {
        self.events_page(id, after, limit)
            .await
            .map(|page| (page.events, page.more))
            .map_err(|error| message(&error))
    }

    async fn prompt(&self, id: &str, text: &str) -> Result<Prompt, String> {
        ApiClient::prompt(self, id, text)
            .await
            .map_err(|error| message(&error))
    }

    async fn cancel(&self, id: &str) -> Result<Job, String> {
        ApiClient::cancel(self, id)
            .await
            .map_err(|error| message(&error))
    }

    async fn end(&self, id: &str) -> Result<Job, String> {
        ApiClient::end(self, id)
            .await
            .map_err(|error| message(&error))
    }

    async fn create_sandbox(&self, spec: Value) -> Result<Sandbox, String> {
        let spec: SandboxSpec = super::args::parse(spec)?;
        ApiClient::create_sandbox(self, &spec)
            .await
            .map_err(|error| message(&error))
    }

    async fn exec(&self, id: &str, spec: ExecSpec, wait: u64) -> Result<Value, String> {
        let answer = ApiClient::exec(self, id, &spec, Some(wait))
            .await
            .map_err(|error| message(&error))?;
        Ok(match answer {
            ExecAnswer::Ended(result) => serde_json::to_value(result).unwrap_or_default(),
            ExecAnswer::Started(started) => super::still_running(started.exec, started.after, wait),
        })
    }

    async fn write_file(&self, id: &str, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.put_file(id, path, bytes, false)
            .await
            .map_err(|error| message(&error))
    }

    async fn read_file(&self, id: &str, path: &str) -> Result<Vec<u8>, String> {
        let (bytes, tar) = self
            .get_file(id, path)
            .await
            .map_err(|error| message(&error))?;
        if tar {
            return Err(format!(
                "path: {path} is a directory: list it with sandbox_list_files"
            ));
        }
        Ok(bytes)
    }

    async fn list_files(&self, id: &str, path: &str) -> Result<Vec<FileEntry>, String> {
        ApiClient::list_files(self, id, path)
            .await
            .map_err(|error| message(&error))
    }

    async fn stop_sandbox(&self, id: &str) -> Result<Sandbox, String> {
        self.stop_sandbox(id).await.map_err(|error| message(&error))
    }

    async fn delete_sandbox(&self, id: &str) -> Result<Sandbox, String> {
        ApiClient::delete_sandbox(self, id)
            .await
            .map_err(|error| message(&error))
    }
}
