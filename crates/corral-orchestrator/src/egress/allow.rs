//! The entries of a job's `allow` list: which hosts, on which ports, and
//! whether a tunnel there must carry TLS naming the host.
//!
//! - `HOST`: HTTPS through `CONNECT` on port 443, plain HTTP on port 80.
//! - `HOST:PORT`: both, on that port only.
//! - `tcp://HOST:PORT`: any bytes through `CONNECT` to that port (no TLS
//!   required, so no name checked: SSH, databases); the port is required.
//!
//! HOST is an exact name, a `*.` suffix, or (with `allow_ip_literals`) an IP
//! address, an IPv6 one in brackets when a port follows (`[2001:db8::1]:443`).
//! An entry is kept in one canonical spelling, which [`AllowRule::parse`]
//! reads back.

use std::fmt;
use std::net::IpAddr;

/// The scheme naming a raw TCP entry.
const RAW_SCHEME: &str = "tcp://";
/// The port a bare `HOST` opens to `CONNECT` (HTTPS).
const HTTPS_PORT: u16 = 443;
/// The port a bare `HOST` opens to plain HTTP requests.
const HTTP_PORT: u16 = 80;

/// How a job asks for a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `CONNECT host:port`: a tunnel.
    Connect,
    /// `GET http://host:port/…`: plain HTTP the proxy forwards.
    Http,
}

/// What an admitted tunnel may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// A TLS ClientHello naming the host must come first.
    Tls,
    /// Any bytes (a `tcp://` entry).
    Raw,
}

/// One `allow` entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// The host pattern: a lowercase name, a `*.` suffix or an IP address.
    host: String,
    /// The one port allowed; `None` for 443 (tunnels) and 80 (plain HTTP).
    port: Option<u16>,
    /// Whether tunnels may carry any bytes.
    raw: bool,
}

impl AllowRule {
    /// Reads an entry as a user writes it; why it is not one otherwise.
    pub fn parse(text: &str, allow_ip_literals: bool) -> Result<Self, String> {
        let trimmed = text.trim();
        let (raw, rest) = match trimmed.get(..RAW_SCHEME.len()) {
            Some(scheme) if scheme.eq_ignore_ascii_case(RAW_SCHEME) => {
                (true, &trimmed[RAW_SCHEME.len()..])
            }
            _ => (false, trimmed),
        };
        if rest.contains("://") || rest.contains(['/', '@', '?', '#']) {
            return Err(format!(
                "`{text}` is not HOST, HOST:PORT or tcp://HOST:PORT"
            ));
        }
        let (host, port) = split_port(rest)?;
        let host = match ip_literal(host) {
            Some(ip) if allow_ip_literals => ip.to_string(),
            Some(_) => {
                return Err("an IP address is allowed only with `allow_ip_literals`".into());
            }
            None if rest.starts_with('[') => return Err(format!("`{host}` is not an IP address")),
            None => {
                let host = normalize(host);
                check_pattern(&host)?;
                host
            }
        };
        if raw && port.is_none() {
            return Err(format!(
                "a raw TCP entry needs its port: `tcp://{host}:PORT`"
            ));
        }
        Ok(Self { host, port, raw })
    }

    /// Whether this entry's host pattern covers `host` (normalized).
    pub fn covers(&self, host: &str) -> bool {
        match (self.host.parse::<IpAddr>(), ip_literal(host)) {
            (Ok(pattern), Some(ip)) => pattern == ip,
            (Ok(_), None) | (Err(_), Some(_)) => false,
            (Err(_), None) => matches(&self.host, host),
        }
    }

    /// How many bytes at the end of `host` (which it covers) this entry
    /// names itself: all of them for a name or an address, the suffix's
    /// (and its dot) for a `*.` one.
    pub fn named_tail(&self, host: &str) -> usize {
        match self.host.strip_prefix("*.") {
            Some(suffix) => suffix.len() + 1,
            None => host.len(),
        }
    }

    /// What this entry lets through to `host:port` asked for `way`.
    pub fn access(&self, host: &str, port: u16, way: Way) -> Option<Access> {
        let port_ok = match (self.port, way) {
            (Some(allowed), _) => allowed == port,
            (None, Way::Connect) => port == HTTPS_PORT,
            (None, Way::Http) => port == HTTP_PORT,
        };
        (port_ok && self.covers(host)).then_some(if self.raw { Access::Raw } else { Access::Tls })
    }
}

impl fmt::Display for AllowRule {
    /// The canonical spelling, stored in the job's policy.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.raw {
            out.write_str(RAW_SCHEME)?;
        }
        match self.port {
            Some(port) if self.host.contains(':') => write!(out, "[{}]:{port}", self.host),
            Some(port) => write!(out, "{}:{port}", self.host),
            None => out.write_str(&self.host),
        }
    }
}

/// The most an allow list lets through to `host:port` asked for `way`.
pub fn access(rules: &[AllowRule], host: &str, port: u16, way: Way) -> Option<Access> {
    rules
        .iter()
        .filter_map(|rule| rule.access(host, port, way))
        .max()
}

/// `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`, or a bare IPv6 address.
fn split_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let bad_port = |port: &str| format!("`{port}` in `{text}` is not a port (1 to 65535)");
    let parse_port = |port: &str| {
        let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        port.parse::<u16>()
            .ok()
            .filter(|port| valid && *port != 0)
            .ok_or_else(|| bad_port(port))
    };
    if let Some(inside) = text.strip_prefix('[') {
        let (address, after) = inside
            .split_once(']')
            .ok_or_else(|| format!("`{text}` opens `[` without closing it"))?;
        return match after.strip_prefix(':') {
            Some(port) => Ok((address, Some(parse_port(port)?))),
            None if after.is_empty() => Ok((address, None)),
            None => Err(format!("`{text}` has text after `]`")),
        };
    }
    // No colon, or more than one (a bare IPv6 address, whose port would
    // need brackets): no port.
    match text.split_once(':') {
        Some((host, port)) if !port.contains(':') => Ok((host, Some(parse_port(port)?))),
        _ => Ok((text, None)),
    }
}

/// Checks a host pattern (lowercase): an exact name or a `*.` suffix.
fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" || pattern == "*." {
        return Err("a bare `*` would allow every host; name the hosts".into());
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    if name.contains('*') {
        return Err("`*` may only start a pattern, as `*.example.com`".into());
    }
    if pattern.starts_with("*.") && !name.contains('.') {
        return Err("a `*.` pattern needs a domain under a top-level one (`*.example.com`)".into());
    }
    check_hostname(name)
}

/// Checks a host name: dot-separated labels of letters, digits, `-`, `_`,
/// none starting or ending with `-` ([`plain_host`], stricter).
pub fn check_hostname(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err("must be a host name of 1 to 253 characters".into());
    }
    let hyphen_at_an_end = name
        .split('.')
        .any(|label| label.starts_with('-') || label.ends_with('-'));
    if !plain_host(name) || hyphen_at_an_end {
        return Err(format!("`{name}` is not a host name"));
    }
    Ok(())
}

/// Whether a host a job connects to may be a host name at all: 1 to 253
/// bytes of dot-separated labels of 1 to 63 letters, digits, `-` or `_`.
/// Looser than [`check_hostname`] (a label may start or end with `-`, as
/// some real ones do); anything else no DNS could hold.
pub fn plain_host(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        })
}

/// Whether `host` matches `pattern`: equal, or under a `*.` suffix.
fn matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests;

/// An IP address written as a host (`10.0.0.1`, `[::1]`, `::1`).
pub fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Lowercase, without a trailing dot.
pub fn normalize(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The longest host a refusal shows: the longest host name.
const SHOWN_HOST: usize = 253;

/// `host` as a refusal's event shows it: [`cut`] to [`SHOWN_HOST`] bytes,
/// so a job's request line, which may be 64 KiB, is not stored in full
/// with every refusal.
pub fn shown(host: &str) -> String {
    cut(host, SHOWN_HOST)
}

/// `text` cut to at most `most` bytes, on a character boundary and marked
/// with `…`; as it is when it fits. For what a job sent, quoted in an
/// event: each refusal is one, so each must be short.
pub fn cut(text: &str, most: usize) -> String {
    if text.len() <= most {
        return text.to_owned();
    }
    let mut end = most;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
