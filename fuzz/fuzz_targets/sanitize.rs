//! The terminal sanitizer on hostile text: nothing a terminal would act on
//! or not draw gets through, making text visible twice changes nothing,
//! a one-line field has no line break, and JSON stays the same value.
//!
//! `corral-client`'s `sanitize.rs` (std only) is
//! compiled into this target as it is.
#![no_main]

#[path = "../../crates/corral-client/src/sanitize.rs"]
mod sanitize;

/// Characters a terminal acts on, or reorders text around.
fn acts(c: char) -> bool {
    let code = u32::from(c);
    (code < 0x20 && c != '\n' && c != '\t')
        || (0x7f..=0x9f).contains(&code)
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let shown = sanitize::visible(&text);
    assert!(!shown.chars().any(acts), "{shown:?}");
    assert_eq!(sanitize::visible(&shown), shown, "not idempotent");

    let line = sanitize::visible_line(&text);
    assert!(!line.chars().any(|c| acts(c) || c == '\n'), "{line:?}");
    assert_eq!(sanitize::visible_line(&line), line, "line not idempotent");

    // ESC survives only as one of tracing's colour codes: SGR, no cursor
    // moves, erases, titles or clipboard writes.
    let log = sanitize::visible_log(&text);
    for (at, _) in log.match_indices('\x1b') {
        let rest = &log[at..];
        let code = rest.get(..rest.find('m').map_or(0, |end| end + 1)).unwrap_or("");
        assert!(
            matches!(code, "\x1b[0m" | "\x1b[1m" | "\x1b[2m" | "\x1b[3m" | "\x1b[31m" | "\x1b[32m" | "\x1b[33m" | "\x1b[34m" | "\x1b[35m"),
            "ESC kept in {log:?}"
        );
    }
    assert!(!log.chars().any(|c| c != '\x1b' && acts(c)), "{log:?}");

    let json = serde_json::to_string(&*text).unwrap_or_default();
    let safe = sanitize::json_visible(&json);
    assert!(!safe.chars().any(acts), "{safe:?}");
    let back: String = serde_json::from_str(&safe).unwrap_or_default();
    assert_eq!(back, *text, "JSON changed its value");
});
