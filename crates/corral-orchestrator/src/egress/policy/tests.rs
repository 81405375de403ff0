use super::*;

fn spec(allow: &[&str]) -> EgressSpec {
    EgressSpec {
        allow: allow.iter().map(|host| (*host).to_owned()).collect(),
        ..EgressSpec::default()
    }
}

fn field_of(spec: &EgressSpec) -> String {
    check(spec).expect_err("invalid").0
}

#[test]
fn good_patterns_pass_lowercased_and_nothing_allowed_is_no_egress() {
    let policy = check(&spec(&[
        "PyPI.org.",
        "*.github.com",
        "Git.Example.com:8443",
        "TCP://db.example.com:5432",
    ]))
    .expect("valid")
    .expect("some egress");
    assert_eq!(
        policy.allow,
        [
            "pypi.org",
            "*.github.com",
            "git.example.com:8443",
            "tcp://db.example.com:5432"
        ]
    );
    assert_eq!(check(&EgressSpec::default()).expect("valid"), None);
}

#[test]
fn bad_patterns_are_refused_naming_the_entry() {
    for bad in [
        "*",
        "*.",
        "a*.com",
        "*.com",
        "exa mple.com",
        "-x.com",
        "",
        "10.0.0.1",
        "ok.com:99999",
        "tcp://ok.com",
        "https://ok.com",
    ] {
        assert_eq!(
            field_of(&spec(&["ok.com", bad])),
            "egress.allow[1]",
            "{bad}"
        );
    }
    let mut literal = spec(&["10.0.0.1", "[2001:DB8::1]:8443"]);
    literal.allow_ip_literals = true;
    let policy = check(&literal).expect("valid").expect("egress");
    assert_eq!(policy.allow, ["10.0.0.1", "[2001:db8::1]:8443"]);
}

#[test]
fn inject_rules_need_an_allowed_exact_host_a_header_and_a_format_with_one_slot() {
    let rule = |host: &str, header: &str, format: Option<&str>| InjectRule {
        host: host.into(),
        header: header.into(),
        secret: "GITHUB_TOKEN".into(),
        format: format.map(str::to_owned),
    };
    let mut good = spec(&["*.github.com:8443"]);
    good.inject = vec![rule("API.github.com", "Authorization", Some("Bearer {}"))];
    let policy = check(&good).expect("valid").expect("egress");
    assert_eq!(policy.inject[0].host, "api.github.com");
    for (bad, field) in [
        (rule("other.com", "Authorization", None), "host"),
        (rule("*.github.com", "Authorization", None), "host"),
        (rule("api.github.com", "Bad Header", None), "header"),
        (rule("api.github.com", "Host", None), "header"),
        (rule("api.github.com", "X-Key", Some("no slot")), "format"),
        (rule("api.github.com", "X-Key", Some("{} {}")), "format"),
        (
            rule("api.github.com", "X-Key", Some("a\r\nb: {}")),
            "format",
        ),
    ] {
        let mut spec = spec(&["*.github.com"]);
        spec.inject = vec![bad];
        assert_eq!(field_of(&spec), format!("egress.inject[0].{field}"));
    }
}

#[test]
fn only_public_addresses_are_reachable() {
    for blocked in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "::a9fe:a9fe",
        "::7f00:1",
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fec0::1",
        "100::1",
        "::ffff:0:a9fe:a9fe",
        "2001:2::1",
        "2001:10::1",
        "3fff::1",
        "5f00::1",
        "192.0.0.8",
    ] {
        assert!(!is_public(blocked.parse().expect("ip")), "{blocked}");
    }
    for open in [
        "1.1.1.1",
        "151.101.0.223",
        "2606:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001::1",
        // 192.0.0.0/24 is special; the rest of 192.0/16 is not
        // (WordPress.com).
        "192.0.78.9",
    ] {
        assert!(is_public(open.parse().expect("ip")), "{open}");
    }
}
