//! The bench's side of a call: HTTP/1.1 over TCP (to an upstream) or a
//! Unix socket (to the job's socket), on a new connection every call or
//! on one kept-alive connection, counting the connections it opens.

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::task::JoinSet;

/// Where calls go.
pub enum Target {
    /// An upstream, called directly.
    Tcp(SocketAddr),
    /// A job's socket, whose proxy calls the upstream.
    Unix(PathBuf),
}

/// Calls to one target.
pub struct Caller {
    target: Target,
    pooled: bool,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// The connections' tasks, each living as long as its connection.
    connections: JoinSet<()>,
    opened: u64,
}

impl Caller {
    /// A caller keeping one connection for all calls when `pooled`, else
    /// opening one a call.
    pub fn new(target: Target, pooled: bool) -> Self {
        Self {
            target,
            pooled,
            sender: None,
            connections: JoinSet::new(),
            opened: 0,
        }
    }

    /// Connections opened so far.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// The path of a chat call on this target, and the token it needs.
    pub fn route<'a>(&self, token: &'a str) -> (&'static str, Option<&'a str>) {
        match self.target {
            Target::Tcp(_) => ("/v1/chat/completions", None),
            Target::Unix(_) => (corral_proto::worker::CHAT_PATH, Some(token)),
        }
    }

    /// POSTs `body` to `path`; the answer's head (its body still to read).
    pub async fn call(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: Bytes,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut sender = match self.sender.take() {
            Some(mut sender) => match sender.ready().await {
                Ok(()) => sender,
                Err(_) => self.connect().await?, // the server closed it
            },
            None => self.connect().await?,
        };
        let mut request = Request::post(path)
            .header("host", "bench")
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = sender.send_request(request.body(Full::new(body))?).await?;
        if self.pooled {
            self.sender = Some(sender);
        }
        Ok(response)
    }

    async fn connect(&mut self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        self.opened += 1;
        while self.connections.try_join_next().is_some() {}
        match &self.target {
            Target::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?; // as reqwest does
                let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
                self.connections.spawn(async move {
                    let _ = connection.await;
                });
                Ok(sender)
            }
            Target::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path).await?;
                let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
                self.connections.spawn(async move {
                    let _ = connection.await;
                });
                Ok(sender)
            }
        }
    }
}
