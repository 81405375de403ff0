//! A job's own certificate authority, for the hosts whose requests get a
//! credential added: the proxy ends the job's TLS there with a certificate
//! this CA signs. Its key lives in the orchestrator's memory only; name
//! constraints limit it to the job's inject hosts, so even a copy of it in
//! the container's trust store vouches for nothing else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// How long the CA and its certificates are valid: longer than any job.
const VALIDITY: Duration = Duration::days(7);

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// rcgen refused.
    #[error("cannot make a certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// rustls refused.
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// A job's CA and the server configurations made with it, one per host.
pub struct JobCa {
    cert: Certificate,
    key: KeyPair,
    pem: String,
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl JobCa {
    /// A new CA for `job_id`, able to sign for `hosts` only.
    pub fn new(job_id: &str, hosts: &[String]) -> Result<Self, CaError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, format!("corral egress CA for {job_id}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: hosts
                .iter()
                .map(|host| GeneralSubtree::DnsName(host.clone()))
                .collect(),
            excluded_subtrees: Vec::new(),
        });
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + VALIDITY;
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let pem = cert.pem();
        Ok(Self {
            cert,
            key,
            pem,
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// The CA certificate, PEM: what the container trusts.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A TLS server configuration presenting a certificate for `host`.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, CaError> {
        let mut configs = self.configs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(config) = configs.get(host) {
            return Ok(Arc::clone(config));
        }
        let mut params = CertificateParams::new(vec![host.to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, host);
        params.is_ca = IsCa::NoCa;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + VALIDITY;
        let key = KeyPair::generate()?;
        let leaf = params.signed_by(&key, &self.cert, &self.key)?;
        let chain = vec![leaf.der().clone(), self.cert.der().clone()];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(chain, private)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        configs.insert(host.to_owned(), Arc::clone(&config));
        Ok(config)
    }

    /// The CA certificate, DER.
    #[cfg(test)]
    pub fn der(&self) -> rustls::pki_types::CertificateDer<'static> {
        self.cert.der().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_signs_server_configs_for_its_hosts_and_caches_them() {
        let ca = JobCa::new("j-1", &["api.example.com".to_owned()]).expect("ca");
        assert!(ca.pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let first = ca.server_config("api.example.com").expect("config");
        let again = ca.server_config("api.example.com").expect("config");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(!ca.der().is_empty());
    }
}
