//! Whether a server's address is on this host.

/// Whether `base` (a server's URL) names this host: a loopback address or
/// `localhost`.
pub fn is_local(base: &str) -> bool {
    let Some(host) = reqwest::Url::parse(base)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
    else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_server_on_loopback_is_on_this_host_and_no_other_is() {
        for (url, local) in [
            ("http://127.0.0.1:7316", true),
            ("http://127.9.0.1:7316", true),
            ("http://[::1]:7316", true),
            ("http://LOCALHOST:7316", true),
            ("http://192.0.2.7:7316", false),
            ("https://corral.example.com", false),
            ("http://[2001:db8::1]:80", false),
            ("not a url", false),
        ] {
            assert_eq!(super::is_local(url), local, "{url}");
        }
    }
}
