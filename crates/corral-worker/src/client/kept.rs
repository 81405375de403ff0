//! The connection event batches go on: kept open between batches (a
//! chatty job sends thousands a second), opened again when it closed.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Response};

use super::{Client, ClientError, json_headers};

impl Client {
    /// Sends one request on the kept connection, opening it when there is
    /// none yet or it closed (the orchestrator ended it, or restarted):
    /// then the request goes again on a new one, at once. Only for event
    /// batches: they are numbered, so one sent twice is stored once.
    pub(super) async fn send_kept(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<Incoming>, ClientError> {
        let mut kept = self.events_connection.lock().await;
        if let Some(mut sender) = kept.take()
            && sender.ready().await.is_ok()
        {
            let request = self.request(
                method.clone(),
                path,
                &json_headers(),
                Full::new(body.clone()),
            )?;
            if let Ok(response) = sender.send_request(request).await {
                *kept = Some(sender);
                return Ok(response);
            }
        }
        let mut sender = self.handshake().await?;
        let request = self.request(method, path, &json_headers(), Full::new(body))?;
        let response = sender.send_request(request).await?;
        *kept = Some(sender);
        Ok(response)
    }
}
