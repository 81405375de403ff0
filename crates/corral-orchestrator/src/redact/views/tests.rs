//! The view reads a long wrapped needle a bounded number of times.

use super::*;

/// A long secret's hex wrapped one character a line crosses a joint at
/// every byte; each place it could start is read once, not once a joint.
#[test]
fn a_long_needle_wrapped_a_character_a_line_is_read_a_bounded_number_of_times() {
    let mut rng = crate::redact::property::Rng(0x2545_F491_4F6C_DD1D);
    let secret: String = (0..1000)
        .map(|_| char::from(b'a' + u8::try_from(rng.below(26)).expect("small")))
        .collect();
    let needle = hex::encode(&secret);
    let mut text = String::from("x\n");
    for character in needle.chars() {
        text.push(character);
        text.push('\n');
    }
    text.push_str("end");
    let before = READ.with(std::cell::Cell::get);
    let hits = joined_hits(&needle, &text);
    let read = READ.with(std::cell::Cell::get) - before;
    assert_eq!(hits.len(), 1, "the needle is found once: {hits:?}");
    assert!(
        read <= 8 * text.len(),
        "read {read} bytes of a {}-byte text",
        text.len()
    );
}

/// The hits `joined` adds for `needle` in `text`.
fn joined_hits(needle: &str, text: &str) -> Vec<(usize, usize)> {
    let finder = ExactFinder::new(&[needle.to_owned()]);
    let names = ["KEY".to_owned()];
    let bytes = text.as_bytes();
    let mut hits = Vec::new();
    joined(
        bytes,
        &crate::redact::lines::newlines(bytes),
        0,
        &finder,
        &names,
        &mut hits,
    );
    hits.iter().map(|hit| (hit.start, hit.end)).collect()
}

/// A needle cut by one break is found whatever the cut: one byte before
/// it and the rest after, the rest before and one byte after, and every
/// cut between; alone on its lines, and with other breaks near the cut
/// (the view's windows then cross them too).
#[test]
fn a_needle_is_found_across_a_break_at_every_cut() {
    let needle = "0123456789abcdef";
    for cut in 1..needle.len() {
        let (head, tail) = needle.split_at(cut);
        for (before, after) in [("ab+", "/cd"), ("ab\n", "\ncd"), ("\n", "\n")] {
            let text = format!("{before}{head}\n{tail}{after}");
            let start = before.len();
            assert_eq!(
                joined_hits(needle, &text),
                [(start, start + needle.len() + 1)],
                "cut at {cut} in {text:?}"
            );
        }
        // Each character on its own line: every break is near another.
        let wrapped: String = needle.chars().flat_map(|c| [c, '\n']).collect();
        let text = format!("x\n{wrapped}y");
        assert_eq!(
            joined_hits(needle, &text),
            [(2, 2 + 2 * needle.len() - 1)],
            "{text:?}"
        );
    }
}

/// A wrapped needle's start that ends the text is live however long the
/// part already there, up to all but its last byte: the view's tail
/// holds as many bytes as the longest needle less one, read back across
/// every break.
#[test]
fn a_wrapped_needle_s_start_at_the_end_stays_live_whatever_its_length() {
    let needle = "0123456789abcdefghijklmnopqrstuv";
    let finder = ExactFinder::new(&[needle.to_owned()]);
    let names = ["KEY".to_owned()];
    for width in [1, 3, 7] {
        for cut in width + 1..needle.len() {
            let head: Vec<String> = needle.as_bytes()[..cut]
                .chunks(width)
                .map(|line| String::from_utf8_lossy(line).into_owned())
                .collect();
            let text = format!("key: {}", head.join("\n"));
            let bytes = text.as_bytes();
            let live = joined(
                bytes,
                &crate::redact::lines::newlines(bytes),
                0,
                &finder,
                &names,
                &mut Vec::new(),
            );
            assert_eq!(live, 5, "{cut} bytes {width} a line: {text:?}");
        }
    }
}
