//! Text that came from a job or a server, made safe to show on a terminal.
//!
//! A job's output, diff, messages, tool results, failure reasons and even its
//! names are hostile: a `\r` followed by `ESC [2K` erases the line before it,
//! `ESC ] 52` writes the user's clipboard, `ESC ] 0` sets the window title,
//! the 8-bit `U+009B` is a CSI on terminals that take C1 controls, and the
//! bidi overrides of "Trojan Source" make a line read in another order than
//! its bytes. So nothing from outside reaches the terminal with a character
//! the terminal would act on, or one it would not draw.
//!
//! The notation, as `cat -v` and `less` write it:
//! - C0 controls and DEL in caret notation: `ESC` is `^[`, `\r` is `^M`,
//!   BEL is `^G`, NUL is `^@`, DEL is `^?`. Only `\n` and `\t` are kept.
//! - C1 controls (`U+0080`–`U+009F`) and invisible format characters
//!   (Unicode's `Cf`: bidi embeddings, overrides, isolates and marks, zero
//!   width spaces and joiners, the word joiner, the byte order mark, tag
//!   characters…, plus the line and paragraph separators) as `<U+XXXX>`.
//!
//! A field shown on one line (a table cell, a `key: value`, the final status
//! line with its reason) goes through [`visible_line`], which shows `\n` as
//! `^J` too, so a job cannot forge a row or a line of corral's own.
//!
//! Every other character, multibyte UTF-8 included, is kept. A job can print
//! the two characters `^[` itself, which then look like an escaped ESC: the
//! notation shows that something is there, it does not hide anything. The
//! result never holds a character this module would rewrite, so making text
//! visible twice changes nothing.
//!
//! Emoji joined with `U+200D` show the joiner: a price paid for a rule with
//! no exceptions. [`json_visible`] writes the same characters as `\u`
//! escapes in JSON (the same value), and [`visible_log`] serves the server's
//! log lines. corral's own colours are added after this, by `output`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Format characters (general category `Cf`) and the line and paragraph
/// separators, as inclusive ranges: all are invisible, and the bidi ones
/// reorder what is drawn around them.
const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{2028}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// How a character is shown on a terminal.
enum Shown {
    /// As it is.
    Kept,
    /// `^` and a letter: a C0 control or DEL.
    Caret(char),
    /// `<U+XXXX>`: a C1 control or an invisible format character.
    CodePoint,
}

/// Which of the characters [`visible`] rewrites a caller keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// `\n` and `\t`: text of several lines.
    Lines,
    /// `\t` only: a field on one line.
    Line,
}

/// How `c` is shown when `keep` is kept.
fn shown(c: char, keep: Keep) -> Shown {
    match c {
        '\t' => Shown::Kept,
        '\n' if keep == Keep::Lines => Shown::Kept,
        '\u{0}'..='\u{1F}' | '\u{7F}' => Shown::Caret(char::from(
            u8::try_from(u32::from(c) ^ 0x40).unwrap_or(b'?'),
        )),
        '\u{80}'..='\u{9F}' => Shown::CodePoint,
        c if INVISIBLE
            .iter()
            .any(|&(first, last)| (first..=last).contains(&c)) =>
        {
            Shown::CodePoint
        }
        _ => Shown::Kept,
    }
}

/// Whether `c` is rewritten by [`visible`].
fn is_hidden(c: char) -> bool {
    !matches!(shown(c, Keep::Lines), Shown::Kept)
}

/// `text` with every control and invisible format character but `\n` and
/// `\t` written out visibly; borrowed when there is none.
pub fn visible(text: &str) -> Cow<'_, str> {
    rewrite(text, Keep::Lines)
}

/// [`visible`] for a field shown on one line: `\n` is written `^J` too.
pub fn visible_line(text: &str) -> Cow<'_, str> {
    rewrite(text, Keep::Line)
}

/// The colour codes `tracing`'s formatter writes: reset, bold, dim, italic
/// and the five level colours. None can hide, move or erase text.
const LOG_COLOURS: &[&str] = &[
    "\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[3m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m",
    "\x1b[35m",
];

/// [`visible`] for lines `tracing` formatted, which escapes only its
/// `message` and errors: an ESC stays only as one of the formatter's own
/// [`LOG_COLOURS`] (a value can at worst repeat one of those).
pub fn visible_log(text: &str) -> Cow<'_, str> {
    if !text.contains(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&visible(&rest[..at]));
        let escape = &rest[at..];
        // A colour of the formatter's stays whole; any other ESC is shown.
        let (shown, length) = LOG_COLOURS
            .iter()
            .find(|code| escape.starts_with(**code))
            .map_or(("^[", 1), |code| (*code, code.len()));
        out.push_str(shown);
        rest = &escape[length..];
    }
    out.push_str(&visible(rest));
    Cow::Owned(out)
}

fn rewrite(text: &str, keep: Keep) -> Cow<'_, str> {
    let Some(first) = text.find(|c| !matches!(shown(c, keep), Shown::Kept)) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        match shown(c, keep) {
            Shown::Kept => out.push(c),
            Shown::Caret(letter) => {
                out.push('^');
                out.push(letter);
            }
            Shown::CodePoint => {
                let _ = write!(out, "<U+{:04X}>", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// JSON text (as `serde_json` writes it) with the characters it leaves raw
/// that a terminal would act on or not draw (DEL, C1 controls, invisible
/// format characters) written as `\uXXXX` escapes: the same JSON value, and
/// nothing a terminal acts on. (`serde_json` already escapes C0 controls.)
/// Outside strings JSON is ASCII, so every such character is in a string.
pub fn json_visible(json: &str) -> Cow<'_, str> {
    let Some(first) = json.find(is_hidden) else {
        return Cow::Borrowed(json);
    };
    let mut out = String::with_capacity(json.len() + 16);
    out.push_str(&json[..first]);
    for c in json[first..].chars() {
        if is_hidden(c) {
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
