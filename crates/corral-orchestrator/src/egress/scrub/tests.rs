use base64::Engine as _;

use super::*;

const SECRET: &str = "s3cret/Value+42&<'\"ok";
const SET: &str = "Bearer s3cret/Value+42&<'\"ok";

fn scrubber() -> Arc<Scrubber> {
    Arc::new(Scrubber::new([SECRET, SET]).expect("scrubber"))
}

/// Whether `text` still holds the secret as is, in a form searched for,
/// or through its escapes.
fn leaks(text: &[u8]) -> bool {
    let decoded = unescape::View::of(text);
    [text, decoded.text()].iter().any(|text| {
        let lower = String::from_utf8_lossy(text).to_ascii_lowercase();
        forms(SECRET)
            .iter()
            .any(|form| lower.contains(&form.to_ascii_lowercase()))
    })
}

/// Every byte but letters and digits percent-encoded, as eager encoders do.
fn percent_all(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02x}")
            }
        })
        .collect()
}

/// Every way the tests echo the header as set.
fn echoes() -> Vec<String> {
    let mut echoes = vec![
        format!("Authorization: {SET}\r\n"),
        SET.to_ascii_lowercase(),
        SET.to_ascii_uppercase(),
        serde_json::json!({ "authorization": SET }).to_string(),
        SET.replace('/', "\\/").replace('"', "\\\""),
        hex::encode(SET),
        hex::encode_upper(SET),
        percent_all(SET),
        percent_all(SECRET).to_ascii_uppercase(),
        SET.replace(' ', "+")
            .replace('/', "%2F")
            .replace('&', "%26"),
        "&lt;b&gt;Bearer s3cret&#x2f;Value+42&amp;&lt;&#39;&quot;ok".to_owned(),
        "Bearer s3cret/Value+42\\u0026\\u003c'\\\"ok".to_owned(),
        "s3cret&#47;Value%2b42\\u0026&lt;\\x27\\\"ok".to_owned(),
    ];
    for prefix in ["", "a", "ab", "abc"] {
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            echoes.push(engine.encode(format!("{prefix}{SET}tail")));
            echoes.push(percent_all(&engine.encode(format!("{prefix}{SECRET}"))));
        }
    }
    echoes
}

#[test]
fn every_form_of_the_credential_is_blanked_and_lengths_hold() {
    let scrubber = scrubber();
    for echo in echoes() {
        let mut bytes = format!("before {echo} after").into_bytes();
        let length = bytes.len();
        assert!(scrubber.scrub(&mut bytes) > 0, "{echo}");
        assert_eq!(bytes.len(), length);
        assert!(
            !leaks(&bytes),
            "{echo}: {}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(
            bytes.starts_with(b"before ") && bytes.ends_with(b" after"),
            "{echo}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn a_value_cut_across_chunks_is_still_found() {
    for body in [
        format!("{{\"headers\": {{\"Authorization\": \"{SET}\"}}, \"n\": 1}}"),
        format!("location: /?auth={}&n=1", percent_all(SET)),
    ] {
        cut_everywhere(&body);
    }
}

fn cut_everywhere(body: &str) {
    // Streamed in any two pieces, the body comes out as scrubbed whole.
    let mut whole = body.as_bytes().to_vec();
    scrubber().scrub(&mut whole);
    for cut in 1..body.len() {
        let mut stream = ScrubStream::new(scrubber());
        let (first, _) = stream.push(&body.as_bytes()[..cut]);
        let (second, _) = stream.push(&body.as_bytes()[cut..]);
        let out = [first, second, stream.finish().0].concat();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&whole),
            "cut at {cut}"
        );
        assert!(
            !leaks(&out),
            "cut at {cut}: {}",
            String::from_utf8_lossy(&out)
        );
    }
    let mut stream = ScrubStream::new(scrubber());
    let mut out = Vec::new();
    let mut found = 0;
    for byte in body.bytes() {
        let (piece, count) = stream.push(&[byte]);
        out.extend_from_slice(&piece);
        found += count;
    }
    out.extend_from_slice(&stream.finish().0);
    assert!(
        found > 0 && !leaks(&out),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn innocent_bytes_pass_at_once_and_untouched() {
    let mut stream = ScrubStream::new(scrubber());
    let (out, found) = stream.push(b"{\"login\": \"octocat\"}\n");
    assert_eq!((&out[..], found), (&b"{\"login\": \"octocat\"}\n"[..], 0));
    // A tail that may begin the value waits for the next chunk, then goes.
    let (out, _) = stream.push(b"token: Bearer s3c");
    assert_eq!(&out[..], b"token: ");
    let (out, found) = stream.push(b"ondary\n");
    assert_eq!((&out[..], found), (&b"Bearer s3condary\n"[..], 0));
    assert!(stream.finish().0.is_empty());
    let mut binary = vec![0, 159, 146, 150, 255, 0x2a];
    assert_eq!(scrubber().scrub(&mut binary), 0);
    // An escape cut at the chunk's end waits too.
    let mut stream = ScrubStream::new(scrubber());
    let (out, _) = stream.push(b"100%");
    assert_eq!(&out[..], b"100");
    let (out, _) = stream.push(b" sure\n");
    assert_eq!(&out[..], b"% sure\n");
}

/// An echo an upstream cut short (an error message truncated) keeps no
/// run of [`FRAGMENT`] bytes of the value, wherever it was cut.
#[test]
fn an_echo_cut_short_keeps_no_long_run_of_the_value() {
    let scrubber = scrubber();
    let secret = SECRET.as_bytes();
    let runs: Vec<&[u8]> = secret.windows(FRAGMENT).collect();
    for (start, end) in (0..secret.len())
        .flat_map(|start| (start + FRAGMENT..secret.len()).map(move |end| (start, end)))
    {
        let mut bytes = [b"error: ".as_slice(), &secret[start..end], "…".as_bytes()].concat();
        assert!(scrubber.scrub(&mut bytes) > 0, "{start}..{end}");
        assert!(
            !bytes.windows(FRAGMENT).any(|window| runs.contains(&window)),
            "{start}..{end}: {}",
            String::from_utf8_lossy(&bytes)
        );
        // (A run of the header as set, "Bearer s3cret…", may take the
        // space before the value.)
        assert!(
            bytes.starts_with(b"error:") && bytes.ends_with("…".as_bytes()),
            "{start}..{end}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Runs are taken from a value's own part only: other tokens of its kind
/// (an Anthropic key's `sk-ant-api03-`, a JWT of the same issuer) and a
/// model's example key pass untouched, while the value itself, whole or
/// cut, does not.
#[test]
fn other_tokens_of_the_same_kind_pass_untouched() {
    let key = "sk-ant-api03-Zq8Vw2Lk9Rt4Yp6Nm3Bx7Hc1Jf5Gd0Sa";
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJvbGUiOiJhbm9uIn0.Qm9vazEyMzQ1Njc4OTBhYmNkZWZnaGlq";
    let scrubber = Scrubber::new([key, &format!("Bearer {jwt}")]).expect("scrubber");
    let other_jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJvbGUiOiJhbm9uIn0.T3RoZXJTaWduYXR1cmVPZkFub3RoZXJUb2tlbg";
    for innocent in [
        "export ANTHROPIC_API_KEY=sk-ant-api03-your-key-here".to_owned(),
        format!("{{\"access_token\": \"{other_jwt}\"}}"),
        "Authorization: Bearer sk-ant-api03-EXAMPLE".to_owned(),
    ] {
        let mut bytes = innocent.clone().into_bytes();
        assert_eq!(scrubber.scrub(&mut bytes), 0, "{innocent}");
        assert_eq!(bytes, innocent.as_bytes());
    }
    for cut in [&key[..30], &jwt[..jwt.len() - 10], &jwt[jwt.len() - 20..]] {
        let mut bytes = format!("echo: {cut}").into_bytes();
        assert!(scrubber.scrub(&mut bytes) > 0, "{cut}");
    }
}

/// Any echo of at least a run's length of a value's own part, cut at both
/// ends anywhere, keeps no run of it, and streamed in two pieces cut
/// anywhere, or a byte at a time, comes out as scrubbed whole.
#[test]
fn an_echo_cut_anywhere_keeps_no_run_and_streams_as_whole() {
    let value = "k9Qz7Rw2Lx5Vt8Np3Hs6Jd1Fg4Bc0Mv";
    let scrubber = Arc::new(Scrubber::new([value]).expect("scrubber"));
    let runs: Vec<&[u8]> = value.as_bytes().windows(FRAGMENT).collect();
    for start in 0..value.len() - FRAGMENT {
        for end in start + FRAGMENT..=value.len() {
            let body = format!("{{\"seen\": \"{}\", \"n\": 1}}", &value[start..end]);
            let whole = streams_as_whole(&scrubber, body.as_bytes());
            let case = format!("{start}..{end}: {}", String::from_utf8_lossy(&whole));
            assert!(
                !whole.windows(FRAGMENT).any(|window| runs.contains(&window)),
                "{case}"
            );
            // Nothing but the echo is blanked.
            let blanked = whole
                .iter()
                .fold(0, |count, &byte| count + usize::from(byte == b'*'));
            assert_eq!(blanked, end - start, "{case}");
        }
    }
}

/// Streamed in two pieces cut anywhere, or a byte at a time, `body`
/// comes out as `scrubber` scrubs it whole; that whole.
fn streams_as_whole(scrubber: &Arc<Scrubber>, body: &[u8]) -> Vec<u8> {
    let mut whole = body.to_vec();
    scrubber.scrub(&mut whole);
    let shown = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    for cut in 1..body.len() {
        let mut stream = ScrubStream::new(Arc::clone(scrubber));
        let (first, _) = stream.push(&body[..cut]);
        let (second, _) = stream.push(&body[cut..]);
        let out = [first, second, stream.finish().0].concat();
        assert_eq!(shown(&out), shown(&whole), "cut at {cut}");
    }
    let mut stream = ScrubStream::new(Arc::clone(scrubber));
    let mut out = Vec::new();
    for byte in body {
        out.extend_from_slice(&stream.push(&[*byte]).0);
    }
    out.extend_from_slice(&stream.finish().0);
    assert_eq!(shown(&out), shown(&whole), "a byte at a time");
    whole
}

/// A value ending in a character that opens an escape, met through
/// escapes with a chunk cut after that character (the view read the cut
/// escape as the character itself); and a value whose header form is
/// the value and more, cut where the value alone is complete (the shorter
/// match was blanked before the longer could be seen): streamed, each is
/// what it is whole.
#[test]
fn matches_at_a_chunk_s_end_are_taken_as_whole() {
    let escaping = Arc::new(Scrubber::new(["Zq8Vw2Lk9Rt4Yp6%"]).expect("scrubber"));
    streams_as_whole(
        &escaping,
        b"%5Aq8Vw2Lk9Rt4Yp%36%41 and Zq8Vw2Lk9Rt4Yp6% end",
    );
    let value = "k9Qz7Rw2Lx5Vt8Np3Hs6";
    let longer = Arc::new(Scrubber::new([value, &format!("{value}:x")]).expect("scrubber"));
    let whole = streams_as_whole(&longer, format!("a={value}:x;").as_bytes());
    assert_eq!(
        whole,
        format!("a={};", "*".repeat(value.len() + 2)).as_bytes()
    );
}

/// A random token whose start only looks like a kind's label (a UUID, a
/// mixed-case base64url token) keeps no run of it, start included; a
/// real label (`sk-ant-api03-`) is left out of the runs but for its last
/// six bytes.
#[test]
fn a_random_token_s_start_is_its_own() {
    for value in [
        "123e4567-e89b-12d3-a456-426614174000",
        "Zb3dE5gH7jK9mN-pQ2rS4tU6vW8x",
    ] {
        let scrubber = Arc::new(Scrubber::new([value]).expect("scrubber"));
        let runs: Vec<&[u8]> = value.as_bytes().windows(FRAGMENT).collect();
        for end in FRAGMENT..value.len() {
            let whole = streams_as_whole(&scrubber, format!("err: {}", &value[..end]).as_bytes());
            assert_eq!(
                whole,
                format!("err: {}", "*".repeat(end)).as_bytes(),
                "{value}, {end}"
            );
            assert!(!whole.windows(FRAGMENT).any(|window| runs.contains(&window)));
        }
    }
    assert_eq!(own_from("sk-ant-api03-Zq8Vw2Lk9Rt4Yp6Nm3Bx7Hc1"), 13);
    assert_eq!(own_from("Bearer github_pat_11ABCDEFG0abcdefghij"), 18);
    assert_eq!(own_from("123e4567-e89b-12d3-a456-426614174000"), 0);
}
