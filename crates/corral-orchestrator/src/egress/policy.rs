//! Checking an egress policy as a user writes it (its `allow` entries are
//! read by [`super::allow`]), and which addresses a job may never reach
//! whatever its policy says.

use std::net::IpAddr;

use corral_proto::{EgressPolicy, EgressSpec, InjectRule};

use super::allow::{AllowRule, check_hostname, normalize};

/// Connections a job may open unless its policy says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 256;
/// Bytes, up and down, a job may move unless its policy says otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
/// Most host patterns and inject rules in one policy.
const MAX_RULES: usize = 256;
/// Headers the proxy will not set: they frame the request.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
    "keep-alive",
];

/// A bad policy: the field at fault (under `egress.`) and why.
pub type Invalid = (String, String);

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    (format!("egress.{}", field.into()), message.into())
}

/// Checks `spec`; `None` when it allows nothing (no egress at all).
pub fn check(spec: &EgressSpec) -> Result<Option<EgressPolicy>, Invalid> {
    if spec.allow.len() > MAX_RULES || spec.inject.len() > MAX_RULES {
        return Err(invalid(
            "allow",
            format!("at most {MAX_RULES} hosts and {MAX_RULES} inject rules"),
        ));
    }
    let mut rules = Vec::with_capacity(spec.allow.len());
    for (index, entry) in spec.allow.iter().enumerate() {
        let rule = AllowRule::parse(entry, spec.allow_ip_literals)
            .map_err(|message| invalid(format!("allow[{index}]"), message))?;
        rules.push(rule);
    }
    let mut policy = EgressPolicy {
        allow: rules.iter().map(ToString::to_string).collect(),
        inject: Vec::with_capacity(spec.inject.len()),
        allow_ip_literals: spec.allow_ip_literals,
        max_connections: spec.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        max_bytes: spec.max_bytes.map_or(DEFAULT_MAX_BYTES, |size| size.0),
    };
    for (index, rule) in spec.inject.iter().enumerate() {
        let rule = check_inject(rule, &rules)
            .map_err(|(field, message)| invalid(format!("inject[{index}].{field}"), message))?;
        policy.inject.push(rule);
    }
    if !(1..=1_000_000).contains(&policy.max_connections) {
        return Err(invalid("max_connections", "must be within 1..=1000000"));
    }
    if policy.max_bytes == 0 {
        return Err(invalid("max_bytes", "must be more than 0"));
    }
    Ok((!policy.allow.is_empty()).then_some(policy))
}

fn check_inject(rule: &InjectRule, rules: &[AllowRule]) -> Result<InjectRule, (String, String)> {
    let bad = |field: &str, message: String| (field.to_owned(), message);
    let host = normalize(&rule.host);
    if host.contains('*') || check_hostname(&host).is_err() {
        return Err(bad("host", "must be one exact host name".into()));
    }
    if !rules.iter().any(|allowed| allowed.covers(&host)) {
        return Err(bad(
            "host",
            format!("`{host}` is not allowed by egress.allow"),
        ));
    }
    let header_ok = !rule.header.is_empty()
        && rule.header.len() <= 64
        && rule
            .header
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if !header_ok {
        return Err(bad(
            "header",
            "must be a header name (`Authorization`)".into(),
        ));
    }
    if RESERVED_HEADERS.contains(&rule.header.to_ascii_lowercase().as_str()) {
        return Err(bad(
            "header",
            format!(
                "`{}` frames the request; the proxy will not set it",
                rule.header
            ),
        ));
    }
    if rule.secret.is_empty() {
        return Err(bad("secret", "must name a stored secret".into()));
    }
    if let Some(format) = &rule.format
        && (format.matches("{}").count() != 1
            || format.contains(['\r', '\n'])
            || format.len() > 256)
    {
        return Err(bad(
            "format",
            "must hold `{}` exactly once, on one line (`Bearer {}`)".into(),
        ));
    }
    Ok(InjectRule {
        host,
        ..rule.clone()
    })
}

/// Whether a job may connect to `ip`: not loopback, private, link-local
/// (cloud metadata lives there), shared, multicast, or otherwise special.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let (first, second) = (segments[0], segments[1]);
            // Global unicast (`2000::/3`) only: everything else is local,
            // multicast, translated or carries an IPv4 address (`::/96`,
            // SIIT's `::ffff:0:0/96`, NAT64's `64:ff9b::/32`). Within it:
            // `2001::/23` is special-purpose (Teredo, which carries an
            // IPv4 address, benchmarking, ORCHID), `2001:db8::/32` and
            // `3fff::/20` documentation, and 6to4 (`2002::/16`) carries an
            // IPv4 address a relay would reach.
            (first & 0xe000) == 0x2000
                && !(first == 0x2001 && (second < 0x0200 || second == 0x0db8)
                    || first == 0x2002
                    || first == 0x3fff && second < 0x1000)
        }
    }
}

#[cfg(test)]
mod tests;
