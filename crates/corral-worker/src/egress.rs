//! The job's way out, when its policy allows some host: a listener on
//! `127.0.0.1:3128` whose every connection is relayed, byte for byte, over
//! the job socket to the orchestrator's egress proxy, which decides. The
//! job's processes find it through the usual proxy variables, and trust the
//! job's CA (for hosts the proxy adds a credential to) next to the image's
//! own roots.

use corral_proto::egress::PROXY_ADDR;
use corral_proto::worker::{Credential, EGRESS_PATH, EGRESS_UPGRADE, WorkerEgress};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::failure::complain;

/// Where the image keeps its CA bundle (Debian's layout; a busybox image
/// has none).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The bundle the job's processes are pointed at: the image's roots and
/// the job's CA.
const JOB_BUNDLE: &str = "/tmp/corral-egress-ca.pem";
/// Variables naming the proxy, in both cases (tools differ in which they read).
const PROXY_VARS: &[&str] = &["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];
/// Variables naming a CA bundle, one per tool family.
const BUNDLE_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
];

/// Starts the relay on `tasks`; returns the variables the job's processes
/// need, as extra entries for their environment.
pub async fn start(
    client: Client,
    egress: &WorkerEgress,
    tasks: &mut JoinSet<()>,
) -> std::io::Result<Vec<Credential>> {
    let listener = TcpListener::bind(PROXY_ADDR).await?;
    tasks.spawn(relay(client, listener));
    let url = format!("http://{PROXY_ADDR}");
    let mut env: Vec<Credential> = PROXY_VARS.iter().map(|name| variable(name, &url)).collect();
    for name in ["NO_PROXY", "no_proxy"] {
        env.push(variable(name, "localhost,127.0.0.1,::1"));
    }
    if let Some(ca) = &egress.ca_pem {
        let mut bundle = std::fs::read_to_string(SYSTEM_BUNDLE).unwrap_or_default();
        if !bundle.is_empty() && !bundle.ends_with('\n') {
            bundle.push('\n');
        }
        bundle.push_str(ca);
        std::fs::write(JOB_BUNDLE, &bundle)?;
        env.extend(BUNDLE_VARS.iter().map(|name| variable(name, JOB_BUNDLE)));
    }
    Ok(env)
}

fn variable(name: &str, value: &str) -> Credential {
    Credential {
        env_var: name.to_owned(),
        value: value.to_owned(),
    }
}

async fn relay(client: Client, listener: TcpListener) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        // Relayed as it comes: no small write waits for a delayed
        // acknowledgement (Nagle).
        let _ = stream.set_nodelay(true);
        let client = client.relay_handle();
        connections.spawn(async move {
            match client.upgrade(EGRESS_PATH, EGRESS_UPGRADE).await {
                Ok(upgraded) => {
                    let mut upstream = TokioIo::new(upgraded);
                    let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
                }
                Err(error) => complain(&format!("egress relay: {error}")),
            }
        });
        while connections.try_join_next().is_some() {}
    }
}
