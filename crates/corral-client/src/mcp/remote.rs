//! The tools over a server's user API: each a call of [`ApiClient`], its
//! error the API's own message. `corral mcp` serves these on stdio.

use corral_proto::{Event, Job, Prompt};
use serde_json::Value;

use super::JobsBackend;
use crate::{ApiClient, ClientError, error_chain};

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

    async fn events(&self, id: &str, after: u64, limit: u32) -> Result<Vec<Event>, String> {
        self.events_page(id, after, limit)
            .await
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
}
