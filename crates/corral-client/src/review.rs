//! A job's review branch: its diff, applied to the project or
//! discarded.

use crate::segment::segment;
use crate::{ApiClient, ClientError};

impl ApiClient {
    /// `GET /v1/jobs/{id}/diff`.
    pub async fn diff(&self, id: &str) -> Result<corral_proto::JobDiff, ClientError> {
        let id = segment(id, "id")?;
        self.json(self.request(reqwest::Method::GET, &format!("/v1/jobs/{id}/diff")))
            .await
    }

    /// `POST /v1/jobs/{id}/apply`, with `allow_secrets` when the user said so.
    pub async fn apply(&self, id: &str, allow_secrets: bool) -> Result<(), ClientError> {
        let id = segment(id, "id")?;
        let query = if allow_secrets {
            "?allow_secrets=true"
        } else {
            ""
        };
        self.send(self.request(
            reqwest::Method::POST,
            &format!("/v1/jobs/{id}/apply{query}"),
        ))
        .await?;
        Ok(())
    }

    /// `POST /v1/jobs/{id}/discard`: the server's account (`review`:
    /// `discarded`, or `applied` with `applied_at`).
    pub async fn discard(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        let id = segment(id, "id")?;
        self.json(self.request(reqwest::Method::POST, &format!("/v1/jobs/{id}/discard")))
            .await
    }
}
