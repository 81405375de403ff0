use super::*;
use hyper::header::HeaderName;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            )
        })
        .collect()
}

fn status(method: &str, pairs: &[(&str, &str)]) -> Option<StatusCode> {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    guard(&method, &headers(pairs))
        .err()
        .map(|(status, _)| status)
}

#[test]
fn only_plain_methods_reach_an_inject_host_however_they_are_named() {
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        assert_eq!(status(method, &[]), None, "{method}");
    }
    for method in [
        "TRACE", "TRACK", "trace", "Track", "CONNECT", "DEBUG", "PROPFIND", "get",
    ] {
        assert_eq!(
            status(method, &[]),
            Some(StatusCode::METHOD_NOT_ALLOWED),
            "{method}"
        );
    }
    for name in METHOD_OVERRIDES {
        for value in ["TRACE", " track ", "CONNECT", "", "GET /"] {
            assert_eq!(
                status("POST", &[(name, value)]),
                Some(StatusCode::METHOD_NOT_ALLOWED),
                "{name}: {value}"
            );
        }
        assert_eq!(status("POST", &[(name, "PATCH")]), None);
    }
}

#[test]
fn upgrades_are_refused_however_they_are_asked_for() {
    for pairs in [
        &[("upgrade", "websocket")][..],
        &[("connection", "keep-alive, Upgrade")],
        &[("connection", "UPGRADE")],
        &[
            ("upgrade", "h2c"),
            ("connection", "Upgrade, HTTP2-Settings"),
        ],
    ] {
        assert_eq!(
            status("GET", pairs),
            Some(StatusCode::FORBIDDEN),
            "{pairs:?}"
        );
    }
    assert_eq!(status("GET", &[("connection", "keep-alive")]), None);
}

#[test]
fn requests_ask_for_the_whole_answer_uncompressed() {
    let guarded = guarded_headers(&headers(&[
        ("range", "bytes=0-9"),
        ("if-range", "\"etag\""),
        ("accept-encoding", "gzip, br"),
        ("accept", "*/*"),
        ("connection", "close"),
    ]));
    assert_eq!(
        guarded.get("accept-encoding").map(HeaderValue::as_bytes),
        Some(&b"identity"[..])
    );
    assert!(!guarded.contains_key("range") && !guarded.contains_key("if-range"));
    assert!(!guarded.contains_key("connection"));
    assert!(guarded.contains_key("accept"));
}

#[test]
fn answer_headers_lose_every_form_of_the_credential_and_names_holding_it() {
    let secret = "ghp_HeaderTest0123456789";
    let scrubber = Scrubber::new([secret]).expect("scrubber");
    let (clean, found) = scrub_headers(
        &scrubber,
        &headers(&[
            ("x-echo", &format!("Bearer {secret}")),
            ("location", &format!("/cb?t={}", secret.replace('_', "%5F"))),
            (&format!("x-token-{secret}"), "1"),
            ("content-type", "application/json"),
        ]),
    );
    assert_eq!(found, 3);
    assert_eq!(
        clean.len(),
        3,
        "the header named after it is dropped: {clean:?}"
    );
    assert_eq!(
        clean["x-echo"],
        format!("Bearer {}", "*".repeat(secret.len())).as_str()
    );
    assert_eq!(
        clean["location"],
        format!("/cb?t={}", "*".repeat(secret.len() + 2)).as_str()
    );
    assert_eq!(clean["content-type"], "application/json");
}

/// A method is bounded only by the request head (hundreds of KiB): the
/// refusal, an event each time, quotes 32 bytes of it.
#[test]
fn a_long_method_is_refused_quoted_short() {
    let method = Method::from_bytes("A".repeat(4000).as_bytes()).expect("a method");
    let refused = guard(&method, &HeaderMap::new());
    let Err((status, reason)) = refused else {
        panic!("not refused");
    };
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Not even its start: cut, a secret sent as a method would leave part
    // of itself that the leak detector cannot know.
    assert!(reason.contains("a method of 4000 bytes"), "{reason:.300}");
    assert!(!reason.contains("AAAA"), "{reason:.300}");
    assert!(reason.len() < 200, "{} bytes", reason.len());
}
