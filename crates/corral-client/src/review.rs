//! A job's review branch: its diff, applied to the project or
//! discarded.

use crate::segment::Part;
use crate::{ApiClient, ClientError};

impl ApiClient {
    /// `GET /v1/jobs/{id}/diff`.
    pub async fn diff(&self, id: &str) -> Result<corral_proto::JobDiff, ClientError> {
        self.json(self.request(reqwest::Method::GET, "/v1/jobs/{}/diff", &[Part::Id(id)])?)
            .await
    }

    /// `POST /v1/jobs/{id}/apply`, with `allow_secrets` when the user said so.
    pub async fn apply(&self, id: &str, allow_secrets: bool) -> Result<(), ClientError> {
        let mut request =
            self.request(reqwest::Method::POST, "/v1/jobs/{}/apply", &[Part::Id(id)])?;
        if allow_secrets {
            request = request.query(&[("allow_secrets", "true")]);
        }
        self.send(request).await?;
        Ok(())
    }

    /// `POST /v1/jobs/{id}/discard`: the server's account (`review`:
    /// `discarded`, or `applied` with `applied_at`).
    pub async fn discard(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.json(self.request(
            reqwest::Method::POST,
            "/v1/jobs/{}/discard",
            &[Part::Id(id)],
        )?)
        .await
    }
}
