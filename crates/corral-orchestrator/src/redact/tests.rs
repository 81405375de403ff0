use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use corral_proto::event::OutputStream;

use super::bounds_tests::redacts_whole_and_cut;
use super::group_tests::dumps;
use super::{Findings, OutputPiece, Redactor, StreamRedactor};

pub(super) const SECRET: &str = "hunter2-but/longer+42";

pub(super) fn redactor() -> Redactor {
    Redactor::new([("DB_PASSWORD", SECRET)])
}

fn clean(text: &str) -> (String, Vec<String>) {
    let mut findings = Findings::default();
    let out = redactor()
        .redact_text(text, &mut findings)
        .unwrap_or_else(|| text.to_owned());
    (out, findings.names)
}

#[test]
fn plain_and_encoded_values_are_replaced_by_name() {
    let encoded = [
        SECRET.to_owned(),
        STANDARD.encode(SECRET),
        STANDARD.encode(format!("x{SECRET}")),
        STANDARD.encode(format!("xy{SECRET}")),
        "hunter2-but%2Flonger%2B42".to_owned(),
        hex::encode(SECRET),
    ];
    for form in encoded {
        let (out, names) = clean(&format!("before {form} after"));
        assert!(!out.contains(&form), "{out}");
        assert!(out.contains("[REDACTED:DB_PASSWORD]"), "{out}");
        assert_eq!(names, ["DB_PASSWORD"]);
    }
    assert_eq!(clean("nothing here").1, Vec::<String>::new());
}

#[test]
fn token_shapes_are_replaced_by_pattern() {
    let github = format!("ghp_{}", "a1B2".repeat(9));
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
    let (out, names) = clean(&format!("token {github}\n{pem}\nAKIAABCDEFGHIJKLMNOP"));
    assert!(
        !out.contains(&github) && !out.contains("MIIEow") && !out.contains("AKIAABCD"),
        "{out}"
    );
    assert_eq!(names, ["github-token", "private-key", "aws-access-key"]);
}

#[test]
fn every_shape_gets_past_the_literal_prefilter() {
    let samples = [
        ("aws-access-key", "ASIAABCDEFGHIJKLMNOP".to_owned()),
        ("github-token", format!("gho_{}", "x".repeat(36))),
        ("github-token", format!("github_pat_{}", "y".repeat(22))),
        ("anthropic-key", format!("sk-ant-{}", "z".repeat(20))),
        ("openai-key", format!("sk-proj-{}", "w".repeat(32))),
        ("slack-token", "xoxb-1234567890ab".to_owned()),
        (
            "jwt",
            "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.abcdefghij".to_owned(),
        ),
    ];
    for (name, token) in samples {
        let (out, names) = clean(&format!("before {token} after"));
        assert_eq!(out, format!("before [REDACTED:{name}] after"), "{name}");
        assert_eq!(names, [name]);
    }
}

fn text(pieces: Vec<OutputPiece>) -> String {
    pieces.into_iter().map(|piece| piece.text).collect()
}

#[test]
fn a_value_split_across_chunks_is_still_caught() {
    let redactor = redactor();
    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let (first, second) = SECRET.split_at(9);
    let mut out = text(stream.push(
        &redactor,
        OutputStream::Stdout,
        &format!("the password is {first}"),
        &mut findings,
    ));
    assert!(
        !out.contains(first),
        "the possible start is held back: {out}"
    );
    out.push_str(&text(stream.push(
        &redactor,
        OutputStream::Stdout,
        &format!("{second} ok\n"),
        &mut findings,
    )));
    assert_eq!(out, "the password is [REDACTED:DB_PASSWORD] ok\n");
    let mut tail = text(stream.push(
        &redactor,
        OutputStream::Stdout,
        "ends with hun",
        &mut findings,
    ));
    tail.push_str(&text(stream.flush(&redactor, &mut findings)));
    assert_eq!(
        tail, "ends with hun",
        "a held tail that never completes is released"
    );
}

/// The case: a secret whose last byte begins it again, ending a
/// write, was cut before its last byte and emitted unredacted.
#[test]
fn a_secret_that_ends_a_write_is_redacted_whole() {
    let redactor = Redactor::new([("K", "s3cr3t-pass-word-s")]);
    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let first = text(stream.push(
        &redactor,
        OutputStream::Stdout,
        "token=s3cr3t-pass-word-s",
        &mut findings,
    ));
    assert!(!first.contains("s3cr3t"), "{first}");
    let mut rest = text(stream.push(&redactor, OutputStream::Stdout, "\n", &mut findings));
    rest.push_str(&text(stream.flush(&redactor, &mut findings)));
    assert_eq!(format!("{first}{rest}"), "token=[REDACTED:K]\n");
}

#[test]
fn a_secret_split_between_stdout_and_stderr_is_caught() {
    let redactor = redactor();
    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let (first, second) = SECRET.split_at(7);
    let mut pieces = stream.push(
        &redactor,
        OutputStream::Stdout,
        &format!("a {first}"),
        &mut findings,
    );
    pieces.extend(stream.push(
        &redactor,
        OutputStream::Stderr,
        &format!("{second} b\n"),
        &mut findings,
    ));
    pieces.extend(stream.flush(&redactor, &mut findings));
    let all: String = pieces.iter().map(|piece| piece.text.as_str()).collect();
    assert_eq!(all, "a [REDACTED:DB_PASSWORD] b\n");
    assert_eq!(
        pieces[0].stream,
        OutputStream::Stdout,
        "a redaction goes to its first byte's stream"
    );
    assert_eq!(
        pieces.last().map(|piece| piece.stream.as_str()),
        Some("stderr")
    );
}

/// What busybox's tools print for `s3cr3t-pass-word-s` (copied from a run).
#[test]
fn dumps_and_wrapped_encodings_from_real_tools_are_redacted() {
    let redactor = Redactor::new([("K", "s3cr3t-pass-word-s")]);
    let outputs = [
        "00000000  78 73 33 63 72 33 74 2d  70 61 73 73 2d 77 6f 72  |xs3cr3t-pass-wor|\n\
         00000010  64 2d 73 0a                                       |d-s.|\n00000014\n",
        "0000000   x   y   s   3   c   r   3   t   -   p   a   s   s   -   w   o\n\
         0000020   r   d   -   s  \\n\n0000025\n",
        "00000000: 7333 6372 3374 2d70 6173 732d 776f 7264  s3cr3t-pass-word\n\
         00000010: 2d73                                     -s\n",
        "czNjcjN0LXBhc3Mtd29yZC1zczNjcjN0LXBhc3Mtd29yZC1zczNjcjN0LXBhc3Mtd29yZC1zczNj\r\n\
         cjN0LXBhc3Mtd29yZC1z\n",
        " 73 33 63 72 33 74 2d 70 61 73 73 2d 77 6f 72 64\n 2d 73\n",
        "0000000   s   3   c   r   3   t   -   p   a   s   s   -   w   o   r   d\n\
         0000010   -   s                                                        \n0000012\n",
        "0000000 3373 7263 7433 702d 7361 2d73 6f77 6472\n0000010 732d\n0000012\n",
        "   x   s   3   c   r   3   t   -   p   a   s   s   -   w   o   r\n   d   -   s  \\n\n",
        "0000000 7378 6333 3372 2d74 6170 7373 772d 726f\n0000020 2d64 0073\n0000023\n",
        // `od -c` whose first cell is a byte in octal, and `od -An -c`
        // whose first cell is an escape (found by the benchmark's corpus).
        "0000000 377   s   3   c   r   3   t   -   p   a   s   s   -   w   o   r\n\
         0000020   d   -   s  \\n\n0000024\n",
        "  \\n   s   3   c   r   3   t   -   p   a   s   s   -   w   o   r\n   d   -   s\n",
        // `od -t x1z -t f4` and `od -t f4 -t x1` of four bytes that make
        // a float that is no number, then the secret: the float line is
        // of the group, not the end of the dump (GNU od).
        "0000000  00  00  c0  7f  73  33  63  72  33  74  2d  70  61  73  73  2d  >....s3cr3t-pass-<\n\
         \x20                   nan    4.500179e+30   2.1472553e+29    1.383857e-11\n\
         0000020  77  6f  72  64  2d  73                                          >word-s<\n\
         \x20         1.7888576e+22      4.1317e-41\n0000026\n",
        "0000000             nan    4.500179e+30   2.1472553e+29    1.383857e-11\n\
         \x20        00  00  c0  7f  73  33  63  72  33  74  2d  70  61  73  73  2d\n\
         0000020   1.7888576e+22      4.1317e-41\n\
         \x20        77  6f  72  64  2d  73\n0000026\n",
        // `od -An -t x1z -t f4`: a line of floats between the bytes,
        // `-inf` its first number.
        "\x20 00  00  80  ff  73  33  63  72  33  74  2d  70  61  73  73  2d  >....s3cr3t-pass-<\n\
         \x20           -inf    4.500179e+30   2.1472553e+29    1.383857e-11\n\
         \x20 77  6f  72  64  2d  73                                          >word-s<\n\
         \x20  1.7888576e+22      4.1317e-41\n",
    ];
    for output in outputs {
        let (out, names) = {
            let mut findings = Findings::default();
            let out = redactor.redact_text(output, &mut findings);
            (out, findings.names)
        };
        let out = out.unwrap_or_else(|| panic!("nothing found in {output}"));
        assert!(names.iter().all(|name| name == "K"), "{names:?}");
        for piece in [
            "s3cr",
            "ss-w",
            "ord-",
            "73 33 63",
            "7333",
            "cjN0LXBhc3Mtd29y",
        ] {
            assert!(!out.contains(piece), "{piece:?} left in {out}");
        }
    }
}

#[test]
fn an_unfinished_line_is_held_only_while_it_could_be_a_dump_line() {
    let redactor = redactor();
    let mut findings = Findings::default();
    for (line, held) in [
        ("Enter your name: ", false),
        ("Done!", false),
        ("00000010", true),
        ("00000010  2d 73", true),
        (" 2d", true),
        ("  6", true),
        ("  \\", true),
        ("       ", true),
        (" Compiling!", false),
        ("  6 passed", false),
    ] {
        let mut stream = StreamRedactor::default();
        let out = text(stream.push(
            &redactor,
            OutputStream::Stdout,
            &format!("x\n{line}"),
            &mut findings,
        ));
        assert_eq!(out.len() < line.len() + 2, held, "{line:?}: {out:?}");
    }
}

/// A key block with no end, cut at its cap inside a character: the cap
/// moves back to the character's start (it used to slice mid-character
/// and panic).
#[test]
fn an_endless_key_block_capped_inside_a_character_is_redacted() {
    let header = "-----BEGIN RSA PRIVATE KEY-----\n";
    for pad in 0..3 {
        let input = format!("{header}{}{}", "x".repeat(pad), "€".repeat(6000));
        let (out, names) = clean(&input);
        assert_eq!(names, ["private-key"], "pad {pad}");
        assert!(out.starts_with("[REDACTED:private-key]"), "pad {pad}");
        let mut stream = StreamRedactor::default();
        let mut findings = Findings::default();
        let redactor = redactor();
        let mut emitted = text(stream.push(&redactor, OutputStream::Stdout, &input, &mut findings));
        emitted.push_str(&text(stream.flush(&redactor, &mut findings)));
        assert_eq!(emitted, out, "pad {pad}");
    }
}

/// An `od -c` line inside a run of hex lines is no part of the swapped
/// stream, so a secret whose hex lines it separates is still read whole
/// there (a faster layout of the streams once missed it).
#[test]
fn od_c_cells_inside_a_hex_run_do_not_hide_a_secret() {
    let redactor = Redactor::new([("KEY", "abcdefgh")]);
    for last in ["0000040 65 66 67 68", "0000040 6665 6867"] {
        let text = format!("0000000 61 62 63 64\n0000020   x\n{last}\n");
        let mut findings = Findings::default();
        let out = redactor.redact_text(&text, &mut findings);
        assert_eq!(findings.names, ["KEY"], "{text}");
        assert!(out.is_some_and(|out| !out.contains("65")), "{text}");
    }
}

/// A secret's bytes as programs print a byte array or string (the
/// programs' own output, in `testdata/byte_lists.txt`): Rust's `{:?}`,
/// Python's `list()` and `repr()`, JavaScript and JSON arrays, Java's
/// signed `Arrays.toString`. Each printed list is redacted whole, and a
/// stream cut anywhere emits the same. All but the `repr` of an ASCII
/// secret were left in clear.
#[test]
fn byte_arrays_as_programs_print_them_are_redacted() {
    let plain = "zq7-Correct-horse-battery-staple-42-Xy";
    let past_ascii = "pässwörd-Ünïcødé-ÿ-secret";
    let redactor = Redactor::new([("S", plain), ("HI", past_ascii)]);
    let mut printed: Vec<(String, String)> = dumps(include_str!("testdata/byte_lists.txt"), "== ")
        .into_iter()
        .map(|(what, text)| (what.to_owned(), text))
        .collect();
    assert_eq!(printed.len(), 10, "{printed:?}");
    for (name, value) in [("S", plain), ("HI", past_ascii)] {
        let signed: Vec<i8> = value
            .bytes()
            .map(|byte| i8::from_ne_bytes([byte]))
            .collect();
        printed.push((
            format!("{name}: Rust {{:?}}"),
            format!("key: {:?}\n", value.as_bytes()),
        ));
        printed.push((
            format!("{name}: Rust {{:?}} of i8"),
            format!("{signed:?}\n"),
        ));
        // Go's `fmt.Println` of a `[]byte` (no Go here): `[122 113 …]`.
        let go = format!("{:?}", value.as_bytes()).replace(", ", " ");
        printed.push((format!("{name}: Go fmt.Println"), format!("key {go}\n")));
    }
    for (what, text) in &printed {
        let name = what.split(':').next().unwrap_or_default();
        let mut findings = Findings::default();
        let whole = redactor
            .redact_text(text, &mut findings)
            .unwrap_or_else(|| panic!("{what}: nothing found in {text}"));
        for line in whole.lines() {
            // Nothing of a list left beside the redaction but its brackets,
            // quotes and the label before it (no digit).
            let left = line.replace(&format!("[REDACTED:{name}]"), "");
            assert!(
                left.len() < line.len() && !left.chars().any(|c| c.is_ascii_digit()),
                "{what}: {line}"
            );
        }
        assert!(findings.names.iter().all(|found| found == name), "{what}");
        redacts_whole_and_cut(&redactor, what, text, &whole);
    }
}

/// Python's `repr` of a secret holding both quotes (of bytes, of a string,
/// in a dict) quotes it with `'` and escapes that as `\'`: nothing of the
/// secret is left beside the redaction (stored in clear before; real
/// Python output in `testdata/python_quotes.txt`).
#[test]
fn python_reprs_that_escape_a_quote_are_redacted() {
    let plain = "it's-a \"quoted\" Secret-7Kq9";
    let past_ascii = "pä'ss \"wörd\" Secret-7Kq9";
    let redactor = Redactor::new([("Q", plain), ("QU", past_ascii)]);
    let printed = dumps(include_str!("testdata/python_quotes.txt"), "== ");
    assert_eq!(printed.len(), 6, "{printed:?}");
    redacted_by_name(&redactor, &printed, &["Secret-7Kq9", "quoted", "ss"]);
}

/// Python's `repr` of a secret it must escape (a `\`, a tab, a character
/// it does not print), as a string, in a dict, as an exception's text, and
/// that text inside JSON (`json.dumps({"error": str(KeyError(v))})`), and
/// the `repr` of its JSON or of its `repr` (`{'body': json.dumps({'k': v})}`,
/// `[str(KeyError(v))]`): each is redacted with nothing of the secret
/// beside it; and its `ascii()`.
/// Real Python 3.11 output in `testdata/python_reprs.txt`, made by
/// `print(f"== {name}: python3 {command}"); print(output)` for each.
#[test]
fn python_reprs_of_every_kind_are_redacted() {
    let redactor = Redactor::new([
        ("RB", "pä\\ss \"wörd\" Secret-8Zx3"),
        ("RN", "pä's\tw\u{200b}ord\u{a0} Secret-8Zx3"),
        ("RA", "it's\\new\nSecret-8Zx3"),
        ("RU", "pä'\"ss\u{2028}\u{e0001} Secret-8Zx3"),
    ]);
    let printed = dumps(include_str!("testdata/python_reprs.txt"), "== ");
    assert_eq!(printed.len(), 40, "{printed:?}");
    redacted_by_name(&redactor, &printed, &["Secret-8Zx3", "ss", "ord", "new"]);
}

/// Each of `printed` (`NAME: how`, text) redacted whole and cut, under
/// `NAME`, with none of the secrets' `parts` left beside the redaction.
fn redacted_by_name(redactor: &Redactor, printed: &[(&str, String)], parts: &[&str]) {
    for (what, text) in printed {
        let name = what.split(':').next().unwrap_or_default();
        let mut findings = Findings::default();
        let whole = redactor
            .redact_text(text, &mut findings)
            .unwrap_or_else(|| panic!("{what}: nothing found in {text}"));
        assert!(
            whole.contains(&format!("[REDACTED:{name}]"))
                && !parts.iter().any(|part| whole.contains(part)),
            "{what}: {whole}"
        );
        redacts_whole_and_cut(redactor, what, text, &whole);
    }
}
