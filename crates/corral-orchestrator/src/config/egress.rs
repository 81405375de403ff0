//! The server's egress settings: the default policy of jobs that name none,
//! names pinned to addresses, and the CA trusted for upstreams.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use corral_proto::EgressSpec;
use serde::Deserialize;

use super::ConfigError;
use crate::egress::EgressNet;
use crate::egress::allow::normalize;

/// `[egress]` in `corral.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct FileEgress {
    /// The policy of jobs that name none (normally none: no egress).
    default: Option<EgressSpec>,
    /// `HOST=IP:PORT` pins, as `--egress-resolve`.
    resolve: Vec<String>,
    /// A CA file (PEM) for upstreams, as `--egress-ca`.
    upstream_ca: Option<PathBuf>,
}

/// Resolves the file's settings and the flags' (which come first).
pub(super) fn settings(
    file: FileEgress,
    resolve: &[String],
    upstream_ca: Option<PathBuf>,
) -> Result<(EgressNet, Option<EgressSpec>), ConfigError> {
    let mut pins = HashMap::new();
    for pin in file.resolve.iter().chain(resolve) {
        let (host, addr) = parse_pin(pin).map_err(|message| ConfigError::Invalid {
            key: "egress.resolve",
            message,
        })?;
        pins.insert(host, addr);
    }
    let upstream_ca = match upstream_ca.or(file.upstream_ca) {
        Some(path) => Some(std::fs::read(&path).map_err(|error| ConfigError::Invalid {
            key: "egress.upstream_ca",
            message: format!("cannot read {}: {error}", path.display()),
        })?),
        None => None,
    };
    if let Some(default) = &file.default {
        crate::egress::policy::check(default).map_err(|(field, message)| ConfigError::Invalid {
            key: "egress.default",
            message: format!("{field}: {message}"),
        })?;
    }
    Ok((EgressNet { pins, upstream_ca }, file.default))
}

/// `HOST=IP:PORT`.
pub fn parse_pin(pin: &str) -> Result<(String, SocketAddr), String> {
    let (host, addr) = pin
        .split_once('=')
        .ok_or_else(|| format!("`{pin}` is not HOST=IP:PORT"))?;
    let host = normalize(host);
    if host.is_empty() {
        return Err(format!("`{pin}` names no host"));
    }
    let addr = addr
        .parse()
        .map_err(|_| format!("`{addr}` in `{pin}` is not IP:PORT"))?;
    Ok((host, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_and_bad_ones_say_why() {
        let (host, addr) = parse_pin("Allowed.Test=127.0.0.1:8443").expect("pin");
        assert_eq!(host, "allowed.test");
        assert_eq!(addr, "127.0.0.1:8443".parse().expect("addr"));
        assert!(parse_pin("allowed.test").is_err());
        assert!(parse_pin("allowed.test=localhost:1").is_err());
        assert!(parse_pin("=127.0.0.1:1").is_err());
    }
}
