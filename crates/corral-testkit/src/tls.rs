//! A TLS server on loopback for egress tests: its own CA, certificates for
//! the names a test pins, and a record of the credentials it was sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// The body of a [`Handler`]'s answer.
pub type UpstreamBody = BoxBody<Bytes, std::io::Error>;

/// What a [`TlsUpstream`] answers a request with.
pub type Handler =
    Arc<dyn Fn(Request<Incoming>) -> BoxFuture<'static, Response<UpstreamBody>> + Send + Sync>;

/// A TLS server for `names`, signed by its own CA, answering every request
/// with the host it was asked for; it keeps the `Authorization` headers.
pub struct TlsUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its CA certificate, PEM.
    pub ca_pem: String,
    /// Every `Authorization` header it was sent.
    pub authorizations: Arc<Mutex<Vec<String>>>,
    /// The accept loop; it ends with the test.
    _server: tokio::task::JoinSet<()>,
}

impl TlsUpstream {
    /// Starts it for `names`; `/big` answers a mebibyte.
    pub async fn start(names: &[&str]) -> Self {
        Self::start_with(
            names,
            Arc::new(|request| Box::pin(async move { greet(&request) })),
        )
        .await
    }

    /// Starts it for `names`, answering with `handler`.
    pub async fn start_with(names: &[&str], handler: Handler) -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "corral egress test CA");
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(
            names
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>(),
        )
        .expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        let leaf = params.signed_by(&key, &ca, &ca_key).expect("leaf");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&authorizations);
        let mut server = tokio::task::JoinSet::new();
        server.spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, seen) = (acceptor.clone(), Arc::clone(&seen));
                let handler = Arc::clone(&handler);
                while connections.try_join_next().is_some() {}
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (seen, handler) = (Arc::clone(&seen), Arc::clone(&handler));
                        async move {
                            if let Some(value) = request.headers().get("authorization") {
                                let value = value.to_str().unwrap_or("?").to_owned();
                                seen.lock().expect("lock").push(value);
                            }
                            Ok::<_, std::convert::Infallible>(handler(request).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            ca_pem: ca.pem(),
            authorizations,
            _server: server,
        }
    }
}

/// The default answer: the host asked for and whether a credential came
/// (never the credential itself: what the job sees must not hold it);
/// `/big` answers a mebibyte.
fn greet(request: &Request<Incoming>) -> Response<UpstreamBody> {
    let authorized = request.headers().contains_key("authorization");
    let body = if request.uri().path() == "/big" {
        "x".repeat(1 << 20)
    } else {
        let host = request
            .headers()
            .get("host")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("?")
            .split(':')
            .next()
            .unwrap_or("?")
            .to_owned();
        format!("hello from {host}, authorized: {authorized}\n")
    };
    Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    )
}

/// A real TLS ClientHello from rustls, naming `name` in SNI or not.
pub fn client_hello(name: &str, sni: bool) -> Vec<u8> {
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    config.enable_sni = sni;
    let name = rustls::pki_types::ServerName::try_from(name.to_owned()).expect("name");
    let mut client = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let mut hello = Vec::new();
    client.write_tls(&mut hello).expect("hello");
    hello
}
