//! The secret store's calls: put, list and delete (values are never
//! read back).

use serde::Deserialize;

use crate::segment::Part;
use crate::{ApiClient, ClientError};

impl ApiClient {
    /// `PUT /v1/secrets/{name}`.
    pub async fn put_secret(
        &self,
        name: &str,
        value: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let body = serde_json::json!({ "value": value });
        self.json(
            self.request(
                reqwest::Method::PUT,
                "/v1/secrets/{}",
                &[Part::SecretName(name)],
            )?
            .json(&body),
        )
        .await
    }

    /// `GET /v1/secrets`.
    pub async fn secrets(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        #[derive(Deserialize)]
        struct SecretList {
            secrets: Vec<serde_json::Value>,
        }
        let list: SecretList = self
            .json(self.request(reqwest::Method::GET, "/v1/secrets", &[])?)
            .await?;
        Ok(list.secrets)
    }

    /// `DELETE /v1/secrets/{name}`.
    pub async fn delete_secret(&self, name: &str) -> Result<(), ClientError> {
        self.send(self.request(
            reqwest::Method::DELETE,
            "/v1/secrets/{}",
            &[Part::SecretName(name)],
        )?)
        .await?;
        Ok(())
    }
}
