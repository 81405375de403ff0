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
    let finder = ExactFinder::new(std::slice::from_ref(&needle));
    let names = ["KEY".to_owned()];
    let mut text = String::from("x\n");
    for character in needle.chars() {
        text.push(character);
        text.push('\n');
    }
    text.push_str("end");
    let bytes = text.as_bytes();
    let before = READ.with(std::cell::Cell::get);
    let mut hits = Vec::new();
    joined(
        bytes,
        &crate::redact::lines::newlines(bytes),
        0,
        &finder,
        &names,
        &mut hits,
    );
    let read = READ.with(std::cell::Cell::get) - before;
    assert_eq!(hits.len(), 1, "the needle is found once: {hits:?}");
    assert!(
        read <= 8 * text.len(),
        "read {read} bytes of a {}-byte text",
        text.len()
    );
}
