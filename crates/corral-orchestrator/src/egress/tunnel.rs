//! A `CONNECT` tunnel without a credential to add: the job's bytes go to
//! the target untouched, once its TLS ClientHello (if any) names the host
//! it asked for.

use std::time::Duration;

use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Target;
use super::policy::normalize;
use super::proxy::{Ended, failed};

/// How long a tunnel waits for the job to speak first (a TLS ClientHello).
const HELLO_WAIT: Duration = Duration::from_secs(5);
/// Longest ClientHello read before deciding.
const MAX_HELLO_BYTES: usize = 64 << 10;
/// How long connecting to an upstream may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Relays the job's bytes to the target untouched, once its TLS
/// ClientHello (if it sends one) names the host it asked to `CONNECT` to.
pub(super) async fn tunnel<IO>(target: &Target, mut job: IO) -> Result<(), Ended>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let hello = read_hello(&mut job).await?;
    if let Some(name) = &hello.server_name
        && normalize(name) != target.host
    {
        return Err(Ended::Refused(format!(
            "TLS SNI `{name}` does not match the CONNECT host `{}`",
            target.host
        )));
    }
    let mut upstream = connect_upstream(target).await?;
    upstream
        .write_all(&hello.bytes)
        .await
        .map_err(failed("cannot write upstream"))?;
    tokio::io::copy_bidirectional(&mut job, &mut upstream)
        .await
        .map_err(failed("the tunnel broke"))?;
    Ok(())
}

/// What the job sent first, and the server name its ClientHello carries.
struct Hello {
    bytes: Vec<u8>,
    server_name: Option<String>,
}

/// Reads the job's first bytes until they make a whole TLS ClientHello,
/// they are not TLS, or the job waits for the server to speak first.
async fn read_hello<IO: AsyncRead + Unpin>(job: &mut IO) -> Result<Hello, Ended> {
    let mut acceptor = Acceptor::default();
    let mut bytes = Vec::new();
    let mut chunk = vec![0; 16 << 10];
    loop {
        let read = match tokio::time::timeout(HELLO_WAIT, job.read(&mut chunk)).await {
            Err(_) => 0,
            Ok(read) => read.map_err(failed("cannot read from the job"))?,
        };
        if read == 0 {
            return Ok(Hello {
                bytes,
                server_name: None,
            });
        }
        bytes.extend_from_slice(&chunk[..read]);
        let mut rest = &chunk[..read];
        while !rest.is_empty() {
            match acceptor.read_tls(&mut rest) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => {
                let server_name = accepted.client_hello().server_name().map(str::to_owned);
                return Ok(Hello { bytes, server_name });
            }
            Ok(None) if bytes.len() < MAX_HELLO_BYTES => {}
            // Not TLS, or a hello past any sane size: relayed as it is;
            // the host was checked already.
            Ok(None) | Err(_) => {
                return Ok(Hello {
                    bytes,
                    server_name: None,
                });
            }
        }
    }
}

async fn connect_upstream(target: &Target) -> Result<TcpStream, Ended> {
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(error)) => Err(Ended::Failed(format!(
            "cannot connect to {}: {error}",
            target.host
        ))),
        Err(_) => Err(Ended::Failed(format!(
            "connecting to {} timed out",
            target.host
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_client_hello_yields_its_server_name_and_plain_bytes_pass_as_they_are() {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("api.example.com").expect("name");
        let mut client = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let mut hello = Vec::new();
        client.write_tls(&mut hello).expect("hello");
        let mut job: &[u8] = &hello;
        let read = read_hello(&mut job).await.ok().expect("hello read");
        assert_eq!(read.server_name.as_deref(), Some("api.example.com"));
        assert_eq!(read.bytes, hello);

        let mut plain: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
        let read = read_hello(&mut plain).await.ok().expect("read");
        assert_eq!(read.server_name, None);
        assert_eq!(read.bytes, b"GET / HTTP/1.1\r\n\r\n");
    }
}
