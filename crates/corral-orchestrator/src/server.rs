//! `corral serve`: prepare the data directory, open the store, connect the
//! runtime, start the job manager and the user API, and shut all of it down
//! in order on SIGINT/SIGTERM.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt as _;
use corral_proto::local_server::{
    API_TOKEN_FILE, DATABASE_FILE, INSTANCE_FILE, MASTER_KEY_FILE, MCP_TOKEN_FILE, SERVER_FILE,
    ServerInfo,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::api::{AppState, router};
use crate::config::Config;
use crate::data_dir::{self, DataDirError};
use crate::events::EventLog;
use crate::jobs::{JobError, JobManager};
use crate::llm::scripted::{SCRIPTED_MODEL, Script, ScriptedServer};
use crate::llm::{
    DEFAULT_ANTHROPIC_MAX_TOKENS, LlmSettings, Provider, ProviderKey, ProviderKind,
    SCRIPTED_PROVIDER, Upstream,
};
use crate::secrets::{MasterKey, SecretError, Secrets};
use crate::store::{SqliteStore, Store, StoreError};
use crate::token::{RandomError, Token, random_hex};
use corral_docker::DockerRuntime;
use corral_docker::worker_binary::{self, WorkerBinaryError};
use corral_runtime::{Runtime, RuntimeError};

/// How long the user API's answers under way get to end once the jobs did.
const HTTP_CLOSE: Duration = Duration::from_secs(5);
/// What the user API takes in at once. Anyone who reaches its address may
/// connect, token or not: without bounds, clients that never finish a
/// request's head (hyper's own timeout needs a timer `axum::serve` does
/// not give it) held a connection, its buffer and a file descriptor each
/// for ever, as did one that stopped reading an answer; and the jobs'
/// sockets and the store share those descriptors. Event streams and
/// browser tabs stay far below the count.
const USER_API_LIMITS: crate::http::admission::Limits = crate::http::admission::Limits {
    connections: 1024,
    head_time: Duration::from_secs(30),
    buffer: 256 << 10,
    write_stall: Some(Duration::from_mins(1)),
};
/// How long running jobs get to end on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory or a file in it is unusable, or another live
    /// server owns it.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The worker binary is unusable.
    #[error(transparent)]
    WorkerBinary(#[from] WorkerBinaryError),
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The container engine is unreachable.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Recovering old jobs failed.
    #[error(transparent)]
    Jobs(#[from] JobError),
    /// The secrets store cannot be opened (wrong or unreadable master key).
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// No randomness for a token.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The model providers cannot be set up.
    #[error("model providers: {0}")]
    Llm(String),
}

/// A started server; stop it with [`RunningServer::stop`].
pub struct RunningServer {
    /// Where the user API listens.
    pub addr: SocketAddr,
    /// The user API token.
    pub api_token: Token,
    /// This instance's id (the `corral.instance` label).
    pub instance_id: String,
    /// The job manager, for in-process callers.
    pub jobs: JobManager,
    data_dir: PathBuf,
    /// The data directory's lock, held for the server's life (the kernel
    /// releases it when the process dies, so a killed server's successor
    /// takes over).
    _lock: std::fs::File,
    http_shutdown: CancellationToken,
    http: JoinHandle<()>,
    /// The scripted model, when `--llm scripted:FILE` asked for one.
    scripted: Option<ScriptedServer>,
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    raise_open_files();
    let runtime = DockerRuntime::connect_to(&config.engine_socket).await?;
    // Every job would be accepted, then fail to start: say it now.
    runtime.refuse_an_unusable_runtime(config.isolation, config.oci_runtime.as_deref())?;
    match runtime.engine().await {
        Ok(engine) => info!(%engine, socket = %config.engine_socket, "container engine"),
        Err(error) => {
            warn!(%error, socket = %config.engine_socket, "the engine does not say what it is");
        }
    }
    // Listened for from here: a signal sent on reading "corral is
    // serving" must not come between that line and the listeners.
    let shutdown = shutdown_signal();
    let server = start(config, Arc::new(runtime)).await?;
    info!(
        addr = %server.addr,
        ui = %format!("http://{}/", server.addr),
        data_dir = %server.data_dir.display(),
        "corral is serving"
    );
    shutdown.await;
    info!("shutting down");
    server.stop(SHUTDOWN_GRACE).await;
    Ok(())
}

/// Raises this process's soft limit on open files to its hard limit: every
/// job's socket may hold hundreds of connections (`worker_api::admission`),
/// and the store, the engine and the user API share the same table (a
/// soft limit of 1024 is common).
fn raise_open_files() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => info!(open_files = ?limit.maximum, "raised the open-file limit"),
            Err(error) => warn!(%error, "cannot raise the open-file limit"),
        }
    }
}

/// Starts the job manager and the user API on `runtime`.
pub async fn start(config: Config, runtime: Arc<dyn Runtime>) -> Result<RunningServer, ServeError> {
    let data_dir = config.data_dir.clone();
    data_dir::prepare(&data_dir)?;
    let lock = data_dir::lock(&data_dir)?;
    worker_binary::verify(&config.worker_bin)?;
    let api_token = Token::from_secret(data_dir::read_or_create_private(
        &data_dir.join(API_TOKEN_FILE),
        || Token::generate().map(|token| token.expose().to_owned()),
    )?);
    let mcp_token = Token::from_secret(data_dir::read_or_create_private(
        &data_dir.join(MCP_TOKEN_FILE),
        || Token::generate().map(|token| token.expose().to_owned()),
    )?);
    let instance_id =
        data_dir::read_or_create_private(&data_dir.join(INSTANCE_FILE), || random_hex(8))?;
    let sqlite = Arc::new(SqliteStore::open(&data_dir.join(DATABASE_FILE))?);
    let key = MasterKey::load(config.master_key.as_ref(), &data_dir.join(MASTER_KEY_FILE))?;
    let secrets = Secrets::open(sqlite.clone(), key).await?;
    let store: Arc<dyn Store> = sqlite;
    match runtime.image_exists(&config.default_image).await {
        Ok(true) => {}
        Ok(false) => {
            warn!(image = %config.default_image, "default image missing: run `corral image build`");
        }
        Err(error) => warn!(error = %error, "cannot check the default image"),
    }
    let events = EventLog::new(Arc::clone(&store));
    let listen = config.listen;
    let mut config = config;
    let scripted = start_scripted(&mut config.llm).await?;
    crate::llm::discover::default_models(&mut config.llm, &secrets).await;
    let upstream =
        Upstream::new(config.llm.timeout_secs, config.llm.max_retries).map_err(ServeError::Llm)?;
    let jobs = JobManager::new(
        store,
        runtime,
        events,
        secrets,
        Arc::new(config),
        instance_id.clone(),
        upstream,
    );
    jobs.start().await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: listen,
        source,
    })?;
    if !addr.ip().is_loopback() {
        warn!(
            %addr,
            "the user API listens beyond loopback and speaks plain HTTP: its token, every job's \
             output and the web UI cross the network in clear; keep it on 127.0.0.1, or put a \
             TLS proxy in front and let only that reach it"
        );
    }
    let info = ServerInfo {
        url: format!("http://{}", local_address(addr)),
        pid: std::process::id(),
    };
    data_dir::write_server_info(&data_dir, &info)?;
    let http_shutdown = CancellationToken::new();
    let app = router(AppState::new(
        jobs.clone(),
        api_token.clone(),
        mcp_token,
        http_shutdown.clone(),
    ));
    let stop = http_shutdown.clone();
    #[expect(
        clippy::disallowed_methods,
        reason = "owned by RunningServer, awaited in stop()"
    )]
    let http = tokio::spawn(crate::http::admission::serve(
        listener.tap_io(crate::http::no_delay),
        app,
        stop,
        USER_API_LIMITS,
    ));
    Ok(RunningServer {
        addr,
        api_token,
        instance_id,
        jobs,
        data_dir,
        _lock: lock,
        http_shutdown,
        http,
        scripted,
    })
}

/// Serves `--llm scripted:FILE` on loopback and registers it as the
/// `scripted` provider, an OpenAI-compatible upstream like any other.
async fn start_scripted(llm: &mut LlmSettings) -> Result<Option<ScriptedServer>, ServeError> {
    let Some(path) = &llm.scripted else {
        return Ok(None);
    };
    let script = Script::load(path).map_err(|error| ServeError::Llm(error.to_string()))?;
    let model = script
        .model
        .clone()
        .unwrap_or_else(|| SCRIPTED_MODEL.to_owned());
    let server = ScriptedServer::start(script)
        .await
        .map_err(|error| ServeError::Llm(format!("cannot serve the scripted model: {error}")))?;
    info!(url = %server.openai_base_url(), script = %path.display(), "serving the scripted model");
    llm.providers.insert(
        SCRIPTED_PROVIDER.to_owned(),
        Provider {
            name: SCRIPTED_PROVIDER.to_owned(),
            kind: ProviderKind::Openai,
            base_url: server.openai_base_url(),
            key: ProviderKey::None,
            model: Some(model),
            input_price: None,
            output_price: None,
            max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
            oauth: false,
        },
    );
    Ok(Some(server))
}

impl RunningServer {
    /// The user API's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Ends running jobs (removing their containers), then stops the API.
    pub async fn stop(self, grace: Duration) {
        if !self.jobs.shutdown(grace).await {
            warn!("some jobs did not end within the shutdown grace period");
        }
        self.http_shutdown.cancel();
        // Event streams end now (a reader resumes from its last event), and
        // any other answer under way gets a little longer. A reader that
        // stopped reading leaves its stream unpolled: it is cut.
        let mut http = self.http;
        if tokio::time::timeout(HTTP_CLOSE, &mut http).await.is_err() {
            warn!("user API connections still open at shutdown: cut");
            http.abort();
        }
        let _ = std::fs::remove_file(self.data_dir.join(SERVER_FILE));
        drop(self.scripted);
    }
}

/// SIGTERM or SIGINT, listened for from the call on. A listener made
/// when first polled, as `tokio::signal::ctrl_c` is, missed a signal sent
/// just before: a server stopped right after it said it serves (a test
/// does) went on serving, and whoever stopped it waited for ever.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    let wait = |listener: std::io::Result<tokio::signal::unix::Signal>, name: &'static str| async move {
        match listener {
            Ok(mut listener) => {
                listener.recv().await;
            }
            Err(error) => {
                warn!(error = %error, "cannot listen for {name}");
                std::future::pending::<()>().await;
            }
        }
    };
    async move {
        tokio::select! {
            () = wait(terminate, "SIGTERM") => {}
            () = wait(interrupt, "SIGINT") => {}
        }
    }
}

/// Where a client on this host reaches a server bound to `addr`: an
/// unspecified address (`0.0.0.0`, `::`) is reached on loopback.
fn local_address(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(ip, addr.port())
}

#[cfg(test)]
mod tests {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

    #[test]
    fn clients_on_this_host_reach_an_unspecified_address_on_loopback() {
        for (bound, reached) in [
            ("0.0.0.0:7316", "127.0.0.1:7316"),
            ("[::]:7316", "[::1]:7316"),
            ("127.0.0.1:7316", "127.0.0.1:7316"),
            ("192.0.2.7:80", "192.0.2.7:80"),
        ] {
            let bound = bound.parse().expect("an address");
            assert_eq!(super::local_address(bound).to_string(), reached);
        }
    }

    #[test]
    fn the_open_file_limit_is_raised_to_its_hard_limit() {
        let before = getrlimit(Resource::Nofile);
        let Some(hard) = before.maximum else {
            return; // unlimited: nothing to raise to
        };
        // One below, so the raise shows (and no other test runs short).
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard - 1),
                maximum: Some(hard),
            },
        )
        .expect("lowered by one");
        super::raise_open_files();
        assert_eq!(getrlimit(Resource::Nofile).current, Some(hard));
    }
}
