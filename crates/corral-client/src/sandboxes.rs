//! The sandbox calls of [`ApiClient`]: create, list, show, delete, exec,
//! and files.

use corral_proto::sandbox::{ExecResult, ExecSpec, ExecStarted, FileEntry, Sandbox, SandboxSpec};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::segment::Part;
use crate::{ApiClient, ClientError};

/// What an exec call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecAnswer {
    /// It runs: follow its events.
    Started(ExecStarted),
    /// It ended within the wait.
    Ended(ExecResult),
}

impl ApiClient {
    /// `POST /v1/sandboxes`.
    pub async fn create_sandbox(&self, spec: &SandboxSpec) -> Result<Sandbox, ClientError> {
        self.json(
            self.request(reqwest::Method::POST, "/v1/sandboxes", &[])?
                .json(spec),
        )
        .await
    }

    /// `GET /v1/sandboxes`: the newest `limit`.
    pub async fn sandboxes(&self, limit: u32) -> Result<Vec<Sandbox>, ClientError> {
        #[derive(Deserialize)]
        struct SandboxList {
            sandboxes: Vec<Sandbox>,
        }
        let list: SandboxList = self
            .json(
                self.request(reqwest::Method::GET, "/v1/sandboxes", &[])?
                    .query(&[("limit", limit)]),
            )
            .await?;
        Ok(list.sandboxes)
    }

    /// `GET /v1/sandboxes/{id}`.
    pub async fn sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.json(self.request(reqwest::Method::GET, "/v1/sandboxes/{}", &[Part::Id(id)])?)
            .await
    }

    /// `DELETE /v1/sandboxes/{id}`.
    pub async fn delete_sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.json(self.request(reqwest::Method::DELETE, "/v1/sandboxes/{}", &[Part::Id(id)])?)
            .await
    }

    /// `POST` to `route` of sandbox `id`: the sandbox as it is after.
    async fn post_to_sandbox(&self, route: &'static str, id: &str) -> Result<Sandbox, ClientError> {
        self.json(self.request(reqwest::Method::POST, route, &[Part::Id(id)])?)
            .await
    }

    /// `POST /v1/sandboxes/{id}/stop`.
    pub async fn stop_sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.post_to_sandbox("/v1/sandboxes/{}/stop", id).await
    }

    /// `POST /v1/sandboxes/{id}/start`.
    pub async fn start_sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.post_to_sandbox("/v1/sandboxes/{}/start", id).await
    }

    /// `POST /v1/sandboxes/{id}/fork`: a new sandbox from this one's files.
    pub async fn fork_sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.post_to_sandbox("/v1/sandboxes/{}/fork", id).await
    }

    /// `POST /v1/sandboxes/{id}/pause`.
    pub async fn pause_sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.post_to_sandbox("/v1/sandboxes/{}/pause", id).await
    }

    /// `POST /v1/sandboxes/{id}/resume`.
    pub async fn resume_sandbox(&self, id: &str) -> Result<Sandbox, ClientError> {
        self.post_to_sandbox("/v1/sandboxes/{}/resume", id).await
    }

    /// `POST /v1/sandboxes/{id}/exec`, waiting up to `wait` seconds when given.
    pub async fn exec(
        &self,
        id: &str,
        spec: &ExecSpec,
        wait: Option<u64>,
    ) -> Result<ExecAnswer, ClientError> {
        let mut request = self
            .request(
                reqwest::Method::POST,
                "/v1/sandboxes/{}/exec",
                &[Part::Id(id)],
            )?
            .json(spec);
        if let Some(wait) = wait {
            request = request.query(&[("wait", wait)]);
        }
        let response = self.send(request).await?;
        if response.status() == StatusCode::ACCEPTED {
            response
                .json()
                .await
                .map(ExecAnswer::Started)
                .map_err(ClientError::Decode)
        } else {
            response
                .json()
                .await
                .map(ExecAnswer::Ended)
                .map_err(ClientError::Decode)
        }
    }

    /// `PUT /v1/sandboxes/{id}/files?path=…`: `body` written at `path`, or
    /// unpacked into the directory there with `tar`.
    pub async fn put_file(
        &self,
        id: &str,
        path: &str,
        body: Vec<u8>,
        tar: bool,
    ) -> Result<(), ClientError> {
        let mut request = self
            .request(
                reqwest::Method::PUT,
                "/v1/sandboxes/{}/files",
                &[Part::Id(id)],
            )?
            .query(&[("path", path)])
            .body(body);
        if tar {
            request = request.query(&[("tar", "true")]);
        }
        self.send(request).await?;
        Ok(())
    }

    /// `GET /v1/sandboxes/{id}/files?path=…`: the bytes, and whether they
    /// are a tar (a directory).
    pub async fn get_file(&self, id: &str, path: &str) -> Result<(Vec<u8>, bool), ClientError> {
        let response = self
            .send(
                self.request(
                    reqwest::Method::GET,
                    "/v1/sandboxes/{}/files",
                    &[Part::Id(id)],
                )?
                .query(&[("path", path)]),
            )
            .await?;
        let tar = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/x-tar"));
        let body = response.bytes().await.map_err(ClientError::Decode)?;
        Ok((body.to_vec(), tar))
    }

    /// `GET /v1/sandboxes/{id}/files/list?path=…`.
    pub async fn list_files(&self, id: &str, path: &str) -> Result<Vec<FileEntry>, ClientError> {
        self.json(
            self.request(
                reqwest::Method::GET,
                "/v1/sandboxes/{}/files/list",
                &[Part::Id(id)],
            )?
            .query(&[("path", path)]),
        )
        .await
    }
}
