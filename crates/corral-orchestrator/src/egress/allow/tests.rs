use super::*;

fn rule(text: &str) -> AllowRule {
    AllowRule::parse(text, true).expect(text)
}

#[test]
fn suffix_patterns_match_subdomains_only() {
    assert!(matches("*.github.com", "api.github.com"));
    assert!(matches("*.github.com", "a.b.github.com"));
    assert!(!matches("*.github.com", "github.com"));
    assert!(!matches("*.github.com", "evilgithub.com"));
    assert!(!matches("*.github.com", ".github.com"));
    assert!(matches("pypi.org", "pypi.org"));
    assert!(!matches("pypi.org", "x.pypi.org"));
}

#[test]
fn a_bare_host_opens_443_to_tunnels_and_80_to_plain_http_only() {
    let bare = rule("PyPI.org.");
    assert_eq!(bare.to_string(), "pypi.org");
    assert_eq!(
        bare.access("pypi.org", 443, Way::Connect),
        Some(Access::Tls)
    );
    assert_eq!(bare.access("pypi.org", 80, Way::Http), Some(Access::Tls));
    for (port, way) in [
        (80, Way::Connect),
        (443, Way::Http),
        (22, Way::Connect),
        (8443, Way::Connect),
        (8080, Way::Http),
    ] {
        assert_eq!(bare.access("pypi.org", port, way), None, "{port} {way:?}");
    }
}

#[test]
fn a_named_port_opens_that_port_only_and_tcp_entries_carry_any_bytes() {
    let ported = rule("*.example.com:8443");
    assert_eq!(ported.to_string(), "*.example.com:8443");
    assert_eq!(
        ported.access("api.example.com", 8443, Way::Connect),
        Some(Access::Tls)
    );
    assert_eq!(
        ported.access("api.example.com", 8443, Way::Http),
        Some(Access::Tls)
    );
    assert_eq!(ported.access("api.example.com", 443, Way::Connect), None);
    let raw = rule("TCP://db.example.com:5432");
    assert_eq!(raw.to_string(), "tcp://db.example.com:5432");
    assert_eq!(
        raw.access("db.example.com", 5432, Way::Connect),
        Some(Access::Raw)
    );
    assert_eq!(raw.access("db.example.com", 443, Way::Connect), None);
    let both = [rule("db.example.com:5432"), raw];
    assert_eq!(
        access(&both, "db.example.com", 5432, Way::Connect),
        Some(Access::Raw)
    );
    assert_eq!(access(&both, "other.example.com", 5432, Way::Connect), None);
}

#[test]
fn ip_addresses_compare_as_addresses_in_any_spelling() {
    let v6 = rule("[2001:DB8::1]:443");
    assert_eq!(v6.to_string(), "[2001:db8::1]:443");
    assert_eq!(
        v6.access("[2001:db8:0::1]", 443, Way::Connect),
        Some(Access::Tls)
    );
    assert_eq!(v6.access("2001:db8::2", 443, Way::Connect), None);
    let bare = rule("2001:db8::1");
    assert_eq!(bare.to_string(), "2001:db8::1");
    assert_eq!(
        bare.access("[2001:db8::1]", 443, Way::Connect),
        Some(Access::Tls)
    );
    let v4 = rule("tcp://192.0.2.1:22");
    assert_eq!(v4.to_string(), "tcp://192.0.2.1:22");
    assert!(!v4.covers("192.0.2.1.example.com"));
    assert!(!rule("example.com").covers("[::1]"));
}

#[test]
fn bad_entries_say_why() {
    for bad in [
        "tcp://db.example.com",
        "tcp://[2001:db8::1]",
        "tcp://2001:db8::1",
        "https://example.com",
        "example.com:0",
        "example.com:65536",
        "example.com:+443",
        "example.com:",
        "example.com:443/path",
        "user@example.com",
        "[2001:db8::1",
        "[example.com]:443",
        "[::1]x",
        "*:443",
        "*.com:443",
        "ex ample.com",
    ] {
        assert!(AllowRule::parse(bad, true).is_err(), "{bad}");
    }
    assert!(AllowRule::parse("10.0.0.1:443", false).is_err());
    assert!(AllowRule::parse("[::1]:443", false).is_err());
}

#[test]
fn a_shown_host_is_cut_on_a_character_boundary() {
    assert_eq!(super::shown("api.example.com"), "api.example.com");
    let exact = "a".repeat(253);
    assert_eq!(super::shown(&exact), exact);
    // 252 bytes, then a two-byte character across the cut.
    let across = format!("{}é{}", "a".repeat(252), "b".repeat(10));
    assert_eq!(super::shown(&across), format!("{}…", "a".repeat(252)));
}

#[test]
fn a_host_a_job_names_is_plain_or_refused() {
    for plain in [
        "api.example.com",
        "-old-.blogspot.com",
        "_dmarc.example.com",
        "xn--bcher-kva.example",
    ] {
        assert!(super::plain_host(plain), "{plain}");
    }
    let long = format!("{}.com", "a".repeat(250));
    for not in [
        "",
        "two words.example.com",
        "a..b",
        &long,
        "é.example.com",
        &format!("{}.com", "a".repeat(64)),
    ] {
        assert!(!super::plain_host(not), "{not:.80}");
    }
}
