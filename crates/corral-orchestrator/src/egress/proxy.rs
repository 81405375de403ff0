//! A job's egress proxy: its policy, CA, counters and upstream clients,
//! and the `network` and `warning` events it records.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use corral_proto::event::NetworkData;
use corral_proto::{EgressPolicy, NewEvent};
use hyper::header::HeaderValue;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use super::allow::{Access, AllowRule, Way};
use super::allow::{ip_literal, normalize, plain_host};
use super::ca::JobCa;
use super::meter::Budget;
use super::policy::is_public;
use super::scrub::Scrubber;
use crate::events::EventLog;
use crate::redact::{Findings, Redactor};
use crate::secrets::SecretValue;

/// Answers holding the job's credential a job records (each is blanked
/// out all the same); then one warning that more are not recorded.
pub const CREDENTIAL_FINDS: u64 = 64;

/// Server-wide egress settings.
#[derive(Debug, Clone, Default)]
pub struct EgressNet {
    /// Names the operator pinned to an address (`--egress-resolve
    /// HOST=IP:PORT`): connections to them go there, unchecked.
    pub pins: HashMap<String, SocketAddr>,
    /// A CA (PEM) the proxy trusts for upstreams it adds credentials for,
    /// instead of the system's roots.
    pub upstream_ca: Option<Vec<u8>>,
}

/// Where an admitted connection goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host as the job named it, normalized.
    pub host: String,
    /// The port the job asked for.
    pub port: u16,
    /// The address connected to.
    pub addr: SocketAddr,
    /// What a tunnel there may carry.
    pub access: Access,
}

/// One job's egress: its policy, budgets, CA and credentials.
pub struct EgressProxy {
    pub(super) job_id: String,
    pub(super) policy: EgressPolicy,
    /// The policy's `allow` entries, parsed.
    pub(super) allow: Vec<AllowRule>,
    /// Host → the header value the proxy adds (marked sensitive).
    pub(super) credentials: HashMap<String, (hyper::header::HeaderName, HeaderValue)>,
    /// The search for every injected value, in answers of inject hosts.
    pub(super) scrubber: Option<Arc<Scrubber>>,
    pub(super) ca: Option<JobCa>,
    pub(super) net: Arc<EgressNet>,
    pub(super) attempts: AtomicU64,
    /// This job's name lookups running at once (`resolve`).
    lookups: Arc<tokio::sync::Semaphore>,
    /// Refusals and warnings recorded for the job, and answers that held
    /// its credential (see [`EgressProxy::record_capped`]).
    refusals: AtomicU64,
    credential_finds: AtomicU64,
    pub(super) budget: Arc<Budget>,
    pub(super) events: EventLog,
    pub(super) redactor: Arc<Redactor>,
    pub(super) clients: Mutex<HashMap<String, reqwest::Client>>,
    /// Cancelled when the job ends: every open connection closes.
    pub stop: CancellationToken,
    /// The job's open proxy connections.
    pub tasks: TaskTracker,
}

/// Why a job's egress could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// An inject rule's value is not a valid header.
    #[error("egress.inject: the header for `{0}` is not a valid header value")]
    Header(String),
    /// The CA could not be made.
    #[error(transparent)]
    Ca(#[from] super::ca::CaError),
    /// A stored `allow` entry no longer reads (policies are checked first).
    #[error("egress.allow: {0}")]
    Allow(String),
    /// An injected secret too short to find again in what its host answers.
    #[error(
        "egress.inject: the secret for `{0}` is under {min} bytes, too short to keep out of the host's answers",
        min = super::scrub::MIN_NEEDLE
    )]
    ShortSecret(String),
    /// Injected values could not be searched for.
    #[error(transparent)]
    Scrub(#[from] super::scrub::ScrubError),
}

impl EgressProxy {
    /// The session of `job_id` under `policy`; `secrets` holds each inject
    /// rule's secret, by name.
    pub fn new(
        job_id: &str,
        policy: EgressPolicy,
        secrets: &HashMap<String, SecretValue>,
        net: Arc<EgressNet>,
        events: EventLog,
        redactor: Arc<Redactor>,
    ) -> Result<Self, EgressError> {
        let allow = policy
            .allow
            .iter()
            .map(|entry| AllowRule::parse(entry, policy.allow_ip_literals))
            .collect::<Result<Vec<_>, _>>()
            .map_err(EgressError::Allow)?;
        let mut credentials = HashMap::new();
        let mut injected = Vec::new();
        for rule in &policy.inject {
            let secret = secrets.get(&rule.secret).map_or("", |value| value.expose());
            if secret.len() < super::scrub::MIN_NEEDLE {
                return Err(EgressError::ShortSecret(rule.host.clone()));
            }
            let text = match &rule.format {
                Some(format) => format.replacen("{}", secret, 1),
                None => secret.to_owned(),
            };
            injected.extend([secret, text.as_str()].map(str::to_owned));
            let mut value =
                HeaderValue::from_str(&text).map_err(|_| EgressError::Header(rule.host.clone()))?;
            value.set_sensitive(true);
            let name = hyper::header::HeaderName::from_bytes(rule.header.as_bytes())
                .map_err(|_| EgressError::Header(rule.host.clone()))?;
            credentials.insert(rule.host.clone(), (name, value));
        }
        let hosts: Vec<String> = policy.inject.iter().map(|rule| rule.host.clone()).collect();
        let (ca, scrubber) = if hosts.is_empty() {
            (None, None)
        } else {
            let scrubber = Scrubber::new(injected.iter().map(String::as_str))?;
            (Some(JobCa::new(job_id, &hosts)?), Some(Arc::new(scrubber)))
        };
        Ok(Self {
            job_id: job_id.to_owned(),
            budget: Arc::new(Budget {
                used: AtomicU64::new(0),
                max: policy.max_bytes,
            }),
            policy,
            allow,
            credentials,
            scrubber,
            ca,
            net,
            attempts: AtomicU64::new(0),
            lookups: Arc::new(tokio::sync::Semaphore::new(super::resolve::JOB_LOOKUPS)),
            refusals: AtomicU64::new(0),
            credential_finds: AtomicU64::new(0),
            events,
            redactor,
            clients: Mutex::new(HashMap::new()),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }

    /// The job's CA certificate (PEM), when it has inject rules.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca.as_ref().map(|ca| ca.pem().to_owned())
    }

    /// Checks a connection to `host:port` asked for `way` and finds where
    /// it goes; the reason it is refused otherwise.
    pub(super) async fn admit(&self, asked: &str, port: u16, way: Way) -> Result<Target, String> {
        let host = normalize(asked);
        let attempt = self.attempts.fetch_add(1, Ordering::Relaxed);
        if attempt >= self.policy.max_connections {
            return Err(format!(
                "the job's egress connection limit ({}) is reached",
                self.policy.max_connections
            ));
        }
        if self.budget.spent() {
            return Err(format!(
                "the job's egress byte limit ({} bytes) is reached",
                self.budget.max
            ));
        }
        let literal = ip_literal(&host);
        // Before anything quotes it: a name no DNS could hold is refused
        // here, however an allow pattern's suffix would cover it. Until
        // the host is known to hold no secret, it is quoted redacted.
        if literal.is_none() && !plain_host(&host) {
            return Err(format!("`{}` is not a host name", self.quoted(asked)));
        }
        let covered = self.allow.iter().any(|rule| rule.covers(&host));
        if (literal.is_some() && !self.policy.allow_ip_literals) || !covered {
            return Err(format!(
                "`{}` is not on the job's egress allowlist",
                self.quoted(asked)
            ));
        }
        self.chose_no_secret(asked, &host)?;
        let access = super::allow::access(&self.allow, &host, port, way).ok_or_else(|| {
            format!(
                "port {port} of `{host}` is not allowed: an entry `{host}` opens 443 \
                 (HTTPS) and 80 (plain HTTP); name another port as `{host}:{port}`"
            )
        })?;
        if let Some(pinned) = self.net.pins.get(&host) {
            return Ok(Target {
                host,
                port,
                addr: *pinned,
                access,
            });
        }
        let addrs: Vec<SocketAddr> = match literal {
            Some(ip) => vec![SocketAddr::new(ip, port)],
            None => super::resolve::resolve(&self.lookups, &host, port).await?,
        };
        if let Some(private) = addrs.iter().find(|addr| !is_public(addr.ip())) {
            return Err(format!(
                "`{host}` resolves to {}, which is not a public address",
                private.ip()
            ));
        }
        let addr = *addrs
            .first()
            .ok_or_else(|| format!("`{host}` resolves to no address"))?;
        Ok(Target {
            host,
            port,
            addr,
            access,
        })
    }

    /// The header added to requests to `host`, if any.
    pub(super) fn credential(
        &self,
        host: &str,
    ) -> Option<&(hyper::header::HeaderName, HeaderValue)> {
        self.credentials.get(host)
    }

    /// A client for requests to `target`, verifying it against the system's
    /// roots or the operator's CA.
    pub(super) fn client(&self, target: &Target) -> Result<reqwest::Client, String> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&target.host) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&target.host, target.addr);
        if let Some(pem) = &self.net.upstream_ca {
            let ca = reqwest::Certificate::from_pem(pem)
                .map_err(|error| format!("the egress upstream CA is unusable: {error}"))?;
            builder = builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(ca);
        }
        let client = builder
            .build()
            .map_err(|error| format!("cannot set up the upstream client: {error}"))?;
        clients.insert(target.host.clone(), client.clone());
        Ok(client)
    }

    /// Records an admitted connection's `network` event, redacted like
    /// everything a job says. Always: a job opens at most `max_connections`,
    /// and what it was refused before must not hide one it made.
    pub(super) async fn record(&self, network: &NetworkData) {
        self.store_event(NewEvent::of(network)).await;
    }

    /// Records a refusal or warning while the job has recorded fewer than
    /// [`EgressProxy::event_limit`], then one warning, then nothing: a job
    /// looping on refused connections, on requests refused inside one (an
    /// inject host's) or on echo methods, which open no connection, would
    /// grow the store without bound. The limits themselves hold whether
    /// they are recorded or not.
    pub(super) async fn record_capped(&self, event: NewEvent) {
        let limit = self.event_limit();
        let count = self.refusals.fetch_add(1, Ordering::Relaxed);
        self.store_capped(event, count, limit, "egress refusals and warnings")
            .await;
    }

    /// Stores `event`, the `count`th of a kind capped at `limit`: past it
    /// nothing, at it one warning instead.
    async fn store_capped(&self, event: NewEvent, count: u64, limit: u64, what: &str) {
        if count > limit {
            return;
        }
        let event = if count == limit {
            NewEvent::warning(format!(
                "{what} past {limit} are not recorded (connections and their limits still hold)"
            ))
        } else {
            event
        };
        self.store_event(event).await;
    }

    async fn store_event(&self, mut event: NewEvent) {
        let mut findings = Findings::default();
        self.redactor.redact_json(&mut event.data, &mut findings);
        event.redacted = findings.any();
        if let Err(error) = self.events.append(&self.job_id, vec![event]).await {
            warn!(job_id = %self.job_id, error = %error, "cannot record an egress event");
        }
    }

    /// Most refusals and warnings a job records: four for each connection
    /// it may open (its refusal, a request or answer refused inside it),
    /// and 64 more.
    fn event_limit(&self) -> u64 {
        self.policy
            .max_connections
            .saturating_mul(4)
            .saturating_add(64)
    }

    /// Records a `warning` event: something refused or changed on the way.
    pub(super) async fn warn(&self, message: &str) {
        self.record_capped(NewEvent::warning(message)).await;
    }

    /// Records that an answer held the job's credential: the first
    /// [`CREDENTIAL_FINDS`] times, counted apart from refusals so that
    /// these cannot hide it (each answer of a kept connection may hold it).
    pub(super) async fn warn_credential(&self, message: &str) {
        let count = self.credential_finds.fetch_add(1, Ordering::Relaxed);
        self.store_capped(
            NewEvent::warning(message),
            count,
            CREDENTIAL_FINDS,
            "answers holding the credential",
        )
        .await;
    }

    /// Waits, up to `limit`, for the job's connections (cancelled by the
    /// session's end) to be recorded, so their events come before the
    /// job's end.
    pub async fn settle(&self, limit: std::time::Duration) {
        self.stop.cancel();
        self.tasks.close();
        if tokio::time::timeout(limit, self.tasks.wait())
            .await
            .is_err()
        {
            warn!(job_id = %self.job_id, "an egress connection was still being recorded when the job ended");
        }
    }
}

#[cfg(test)]
mod tests;
