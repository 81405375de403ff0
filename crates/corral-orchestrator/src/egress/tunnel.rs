//! A `CONNECT` tunnel without a credential to add: the job's bytes go to
//! the target untouched, once they start with a TLS ClientHello naming the
//! host it asked for in SNI. Plain bytes, a hello without SNI or with
//! another name, or one offering Encrypted Client Hello close the tunnel:
//! each would let a job reach any site behind an allowed host's shared
//! front end. A `tcp://HOST:PORT` entry lifts the check for its port.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Target;
use super::allow::Access;
use super::allow::ip_literal;
use super::forward::{Ended, failed};
use super::hello::{ClientHello, HelloReader};

/// How long a tunnel waits for the job's whole ClientHello.
const HELLO_WAIT: Duration = Duration::from_secs(10);
/// How long connecting to an upstream may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Relays the job's bytes to the target untouched: at once under a
/// `tcp://` entry, otherwise once its TLS ClientHello names the host it
/// asked to `CONNECT` to.
pub(super) async fn tunnel<IO>(target: &Target, mut job: IO) -> Result<(), Ended>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let first = match target.access {
        Access::Raw => Vec::new(),
        Access::Tls => {
            let (bytes, hello) = read_hello(target, &mut job, HELLO_WAIT).await?;
            check_name(target, &hello)?;
            bytes
        }
    };
    let mut upstream = connect_upstream(target).await?;
    upstream
        .write_all(&first)
        .await
        .map_err(failed("cannot write upstream"))?;
    tokio::io::copy_bidirectional(&mut job, &mut upstream)
        .await
        .map_err(failed("the tunnel broke"))?;
    Ok(())
}

/// Reads the job's first bytes until they make a whole ClientHello, for at
/// most `wait`; every byte read, and the hello. Anything else refuses the
/// tunnel.
async fn read_hello<IO: AsyncRead + Unpin>(
    target: &Target,
    job: &mut IO,
    wait: Duration,
) -> Result<(Vec<u8>, ClientHello), Ended> {
    let refuse = |why: &str| {
        Ended::Refused(format!(
            "{why}: a tunnel to `{}` port {} carries TLS naming the host \
             (allow `tcp://HOST:PORT` for other protocols)",
            target.host, target.port
        ))
    };
    let deadline = Instant::now() + wait;
    let mut reader = HelloReader::default();
    let mut chunk = vec![0; 16 << 10];
    loop {
        let read = match tokio::time::timeout_at(deadline, job.read(&mut chunk)).await {
            Err(_) => return Err(refuse("no TLS ClientHello came")),
            Ok(read) => read.map_err(failed("cannot read from the job"))?,
        };
        if read == 0 {
            return Err(refuse(
                "the job closed the tunnel before a whole TLS ClientHello",
            ));
        }
        match reader.push(&chunk[..read]) {
            Ok(Some(hello)) => return Ok((reader.into_bytes(), hello)),
            Ok(None) => {}
            Err(error) => return Err(refuse(&error.to_string())),
        }
    }
}

/// The hello must name the `CONNECT` host (ASCII case aside); an address
/// has no name, and its hello must name none either.
fn check_name(target: &Target, hello: &ClientHello) -> Result<(), Ended> {
    let host = &target.host;
    match (ip_literal(host), hello.server_name.as_deref()) {
        (Some(_), None) => Ok(()),
        (None, Some(name)) if name.eq_ignore_ascii_case(host) => Ok(()),
        (None, None) => Err(Ended::Refused(format!(
            "the TLS ClientHello names no server (SNI): a tunnel to `{host}` must name it"
        ))),
        // A name past any host name's length is not quoted: cut, it could
        // end in the start of a secret the leak detector cannot know.
        (_, Some(name)) if !super::allow::plain_host(name) => Err(Ended::Refused(format!(
            "the TLS SNI ({} bytes) is not a host name, nor the CONNECT host `{host}`",
            name.len()
        ))),
        (_, Some(name)) => Err(Ended::Refused(format!(
            "TLS SNI `{name}` does not match the CONNECT host `{host}`"
        ))),
    }
}

async fn connect_upstream(target: &Target) -> Result<TcpStream, Ended> {
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr)).await {
        Ok(Ok(stream)) => {
            // A tunnel relays whatever the job writes as it comes: no
            // small write waits for a delayed acknowledgement (Nagle).
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
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
mod tests;
