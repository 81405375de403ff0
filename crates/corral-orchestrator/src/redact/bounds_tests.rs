//! The leak detector's stream stays bounded whatever the output: what it
//! holds, and so what it scans again at each chunk.

use corral_proto::event::OutputStream;

use super::{Findings, OutputPiece, Redactor, StreamRedactor};

pub(super) const SECRET: &str = "hunter2-but/longer+42";

pub(super) fn redactor() -> Redactor {
    Redactor::new([("DB_PASSWORD", SECRET)])
}

pub(super) fn found(text: &str) -> Vec<String> {
    let mut findings = Findings::default();
    let _ = redactor().redact_text(text, &mut findings);
    findings.names
}

pub(super) fn text(pieces: Vec<OutputPiece>) -> String {
    pieces.into_iter().map(|piece| piece.text).collect()
}

/// What a stream emits of `written` pushed in two chunks, cut at `cut`,
/// then flushed.
pub(super) fn cut_in_two(redactor: &Redactor, written: &str, cut: usize) -> String {
    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let mut out = String::new();
    for chunk in [&written[..cut], &written[cut..]] {
        out.push_str(&text(stream.push(
            redactor,
            OutputStream::Stdout,
            chunk,
            &mut findings,
        )));
    }
    out.push_str(&text(stream.flush(redactor, &mut findings)));
    out
}

/// Asserts that `written`, redacted whole, gives `expected`, and that a
/// stream emits the same however it is cut in two (between characters);
/// `what` names it.
pub(super) fn redacts_whole_and_cut(
    redactor: &Redactor,
    what: &str,
    written: &str,
    expected: &str,
) {
    let mut findings = Findings::default();
    let whole = redactor.redact_text(written, &mut findings);
    assert_eq!(whole.as_deref(), Some(expected), "{what}");
    for cut in (1..written.len()).filter(|&cut| written.is_char_boundary(cut)) {
        assert_eq!(
            cut_in_two(redactor, written, cut),
            expected,
            "{what} cut at {cut}"
        );
    }
}

/// What `stream` lets go of ASCII `written` pushed as stdout in chunks of
/// `size` bytes, then flushed; `after` sees the stream after each chunk.
fn pushed_in_chunks(
    stream: &mut StreamRedactor,
    redactor: &Redactor,
    written: &str,
    size: usize,
    findings: &mut Findings,
    mut after: impl FnMut(&StreamRedactor),
) -> String {
    let mut out = String::new();
    for piece in written.as_bytes().chunks(size) {
        let piece = std::str::from_utf8(piece).expect("ascii");
        out.push_str(&text(stream.push(
            redactor,
            OutputStream::Stdout,
            piece,
            findings,
        )));
        after(stream);
    }
    out.push_str(&text(stream.flush(redactor, findings)));
    out
}

/// A byte that may start a needle, then line break after line break: a
/// run that long is no wrap, so the stream lets it go instead of holding
/// (and scanning again at every chunk) all of it. A real wrap is still
/// read across.
#[test]
fn endless_line_breaks_after_a_needle_start_are_not_held() {
    let redactor = redactor();
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let _ = stream.push(&redactor, OutputStream::Stdout, "x=hunt", &mut findings);
    let breaks = "\n".repeat(4096);
    for round in 0..64 {
        let _ = stream.push(&redactor, OutputStream::Stdout, &breaks, &mut findings);
        assert!(
            stream.held() < 4096,
            "round {round}: {} held",
            stream.held()
        );
    }
    for wrap in ["\n", "\r\n", "\n\n", "\r\n\r\n", "\r\r\n\r\r\n"] {
        let names = found(&format!("x={}{wrap}{}\n", &SECRET[..7], &SECRET[7..]));
        assert_eq!(names, ["DB_PASSWORD"], "{wrap:?}");
    }
    for no_wrap in ["\n\n\n", "\r\n\r\n\r\n", "\r\r\r\r\r\r\r"] {
        let names = found(&format!("x={}{no_wrap}{}\n", &SECRET[..7], &SECRET[7..]));
        assert!(names.is_empty(), "{no_wrap:?} is no wrap");
    }
}

/// A needle longer than the most a stream holds, written up to near its
/// end: the stream cannot hold it all, so it lets what it held go as one
/// redaction (output lost, not shown), and never holds more than its cap.
#[test]
fn a_find_open_past_the_hold_limit_is_let_go_redacted() {
    use super::stream::{MAX_HELD, TOO_LONG};
    let secret = random_text(MAX_HELD + (MAX_HELD / 2), 0x2545_F491_4F6C_DD1D);
    let redactor = Redactor::new([("HUGE", secret.as_str())]);
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let mut out = text(stream.push(&redactor, OutputStream::Stdout, "head ", &mut findings));
    let (written, rest) = secret.split_at(secret.len() - 4096);
    out.push_str(&pushed_in_chunks(
        &mut stream,
        &redactor,
        written,
        64 << 10,
        &mut findings,
        |stream| {
            // Scanned, at most the cap; come since, under a quarter more.
            let most = MAX_HELD + MAX_HELD / 4 + (64 << 10);
            assert!(stream.held() <= most, "{} held", stream.held());
        },
    ));
    assert!(
        findings.names.iter().any(|name| name == TOO_LONG),
        "{:?}",
        findings.names
    );
    assert!(
        out.starts_with("head [REDACTED:"),
        "{}",
        &out[..40.min(out.len())]
    );
    assert!(
        !out.contains(&secret[..64]),
        "a part of the secret was let go"
    );
    // What follows the cap is no needle's start as far as the look-behind
    // shows: let go as the whole text's scan would (it finds nothing in a
    // secret that never ends).
    assert!(
        out.len() < written.len() - MAX_HELD / 2,
        "{} bytes let go",
        out.len()
    );
    // The rest of the secret comes without its start: the let-go
    // redaction goes on over it (`Redactor::reach`), as no scan could
    // find it now.
    let after = pushed_in_chunks(
        &mut stream,
        &redactor,
        rest,
        rest.len(),
        &mut findings,
        |_| {},
    );
    assert!(
        !after.contains(&rest[rest.len() - 64..]) && !after.contains(&rest[..64]),
        "the secret's end was let go: {}",
        &after[..80.min(after.len())]
    );
}

/// An open key block is held whole (up to 16 KiB); output trickling in a
/// byte at a time after it (while it stays open) does not make every byte
/// rescan the block.
#[test]
fn a_long_hold_is_not_rescanned_for_every_small_chunk() {
    let redactor = redactor();
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let block = format!("-----BEGIN RSA PRIVATE KEY-----\n{}", "QUJD".repeat(3000));
    let _ = stream.push(&redactor, OutputStream::Stdout, &block, &mut findings);
    assert!(
        stream.held() > 10_000,
        "the block is held: {}",
        stream.held()
    );
    super::redactor::SCANNED.with(|scanned| scanned.set(0));
    let trickled = 3_000;
    for _ in 0..trickled {
        let _ = stream.push(&redactor, OutputStream::Stdout, "Q", &mut findings);
    }
    let scanned = super::redactor::SCANNED.with(std::cell::Cell::get);
    // Rescanning at every byte would be 12 KB a byte, 36 MB in all; with a
    // quarter of new text between scans, the block is scanned once more.
    assert!(
        scanned < 10 * trickled,
        "{scanned} bytes scanned for {trickled}"
    );
    let out = text(stream.flush(&redactor, &mut findings));
    assert!(
        out.starts_with("[REDACTED:private-key]") || !out.contains("QUJD"),
        "{}",
        &out[..80.min(out.len())]
    );
}

/// Random letters and digits, `len` of them.
pub(super) fn random_text(len: usize, seed: u64) -> String {
    let mut rng = super::property::Rng(seed);
    (0..len)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36)]))
        .collect()
}

/// A forced cut through a long find, its start further back than the
/// look-behind kept: the rest of it is still redacted, though the scan can
/// no longer see it whole. Here `T`, a second secret that starts inside
/// the end of `S` and never ends, holds the live position inside `S`.
#[test]
fn the_rest_of_a_find_cut_by_a_forced_cut_is_redacted() {
    let (head, middle, tail) = (
        random_text(30 << 10, 1),
        random_text(10 << 10, 2),
        random_text(50 << 10, 3),
    );
    let first = format!("{head}{middle}");
    let second = format!("{middle}{tail}");
    let redactor = Redactor::new([("S", first.as_str()), ("T", second.as_str())]);
    let written = format!("{head}{middle}{}!\n", &tail[..45 << 10]);
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let out = pushed_in_chunks(
        &mut stream,
        &redactor,
        &written,
        1 << 10,
        &mut findings,
        |_| {},
    );
    assert!(
        out.starts_with("[REDACTED:S]"),
        "{}",
        &out[..40.min(out.len())]
    );
    assert!(
        !out.contains(&middle[..64]) && !out.contains(&middle[middle.len() - 64..]),
        "part of S let go in clear"
    );
    assert!(out.ends_with("!\n"), "what follows is let go");
}

/// A forced cut inside the last of a chain of overlapping finds, each
/// longer than the look-behind a forced cut keeps, a token glued to the
/// last find's end: the scan after the cut no longer sees the find, but the part of
/// it the cut left (`Cover`) reads as blank to the token shapes, so the
/// token starts a word and is redacted, as in the whole text (helper-90:
/// it went out in clear once the find was longer than the look-behind).
#[test]
fn a_token_glued_to_a_find_a_forced_cut_went_through_is_redacted() {
    use super::stream::HOLD_CAP;
    // No `a` or `b` in the body: occurrences of S overlap by "ab" only.
    // Each is longer than the look-behind a forced cut keeps (PEM_MAX and
    // 4 KiB), so the one the cut goes through starts before it.
    let body: String = random_text(30 << 10, 0x9E37_79B9_7F4A_7C15)
        .chars()
        .filter(|&c| c != 'a' && c != 'b')
        .take(24 << 10)
        .collect();
    let secret = format!("ab{body}ab");
    let redactor = Redactor::new([("S", secret.as_str())]);
    let chain = format!("{}ab", format!("ab{body}").repeat(3));
    assert!(chain.len() > HOLD_CAP);
    let token = format!("ghp_{}", "a1B2".repeat(9));
    let rest = format!("{token} tail\n");
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let mut out = text(stream.push(&redactor, OutputStream::Stdout, &chain, &mut findings));
    // Forced: let go up to the live "ab" (it may start S again), the find
    // crossing it redacted in parts.
    assert_eq!(stream.held(), 2, "forced cut at the live position");
    assert_eq!(out, "[REDACTED:S]");
    out.push_str(&pushed_in_chunks(
        &mut stream,
        &redactor,
        &rest,
        rest.len(),
        &mut findings,
        |_| {},
    ));
    let whole = redactor.redact_text(&format!("{chain}{rest}"), &mut Findings::default());
    assert_eq!(
        whole.as_deref(),
        Some("[REDACTED:S][REDACTED:github-token] tail\n")
    );
    assert!(!out.contains("ghp_"), "token let go in clear: {out}");
}

/// A token that starts inside the redaction a restarted stream begins
/// with, and runs past its end: read with the redaction blanked it would
/// start nowhere, and its rest would go out in clear (helper-91, on the
/// first form of the fix above); it is redacted to its end.
#[test]
fn a_token_starting_inside_a_restart_s_cover_is_redacted_to_its_end() {
    let redactor = Redactor::new([("KEY", "secretvalue123")]);
    let reach = redactor.reach();
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::after_restart(reach);
    let mut out = text(stream.push(&redactor, OutputStream::Stdout, "x\n", &mut findings));
    let written = format!(
        "{} ghp_{} tail\n",
        "A".repeat(reach - 11),
        "a1B2".repeat(20)
    );
    out.push_str(&pushed_in_chunks(
        &mut stream,
        &redactor,
        &written,
        written.len(),
        &mut findings,
        |_| {},
    ));
    assert!(!out.contains("a1B2"), "the token's rest went out: {out}");
    assert!(out.ends_with(" tail\n"), "{out}");
}

/// A token glued to the end of a cover, on the stream's first push after a
/// restart, or after a lost batch that followed plain text: the cover is
/// blanked for the token shapes whether the last byte emitted was
/// redacted or not, so the token is found however the output was split
/// into writes (it was let out in clear when the cover's first bytes came
/// in the same write as the token).
#[test]
fn a_token_glued_to_a_cover_s_end_is_redacted_from_the_first_push() {
    let redactor = Redactor::new([("KEY", "secretvalue123")]);
    let reach = redactor.reach();
    let written = format!("{}ghp_{} tail\n", "A".repeat(reach), "a1B2".repeat(20));
    for (size, lost) in [
        (written.len(), false),
        (7, false),
        (written.len(), true),
        (7, true),
    ] {
        let mut findings = Findings::default();
        let (mut stream, before) = if lost {
            let mut stream = StreamRedactor::default();
            let before = "plain line\n";
            let out = text(stream.push(&redactor, OutputStream::Stdout, before, &mut findings));
            assert_eq!(out, before);
            stream.lost_before_next(reach);
            (stream, before)
        } else {
            (StreamRedactor::after_restart(reach), "")
        };
        let out = pushed_in_chunks(
            &mut stream,
            &redactor,
            &written,
            size,
            &mut findings,
            |_| {},
        );
        let case = if lost { "a lost batch" } else { "a restart" };
        assert!(
            !out.contains("a1B2"),
            "after {case}, writes of {size}: {before}{out}"
        );
        assert!(out.ends_with(" tail\n"), "{out}");
    }
}
