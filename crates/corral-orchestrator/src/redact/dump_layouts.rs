//! Dumps as the tools print them, made from bytes for the tests: what
//! the detector's dump reader (`dumps`) must read back.

use std::fmt::Write as _;

/// A dump's ASCII column: printable bytes as they are, others as `.`.
fn ascii_column(chunk: &[u8]) -> String {
    chunk
        .iter()
        .map(|&byte| {
            if (0x20..0x7f).contains(&byte) {
                char::from(byte)
            } else {
                '.'
            }
        })
        .collect()
}

/// `bytes` as `hexdump -C` prints them.
pub(super) fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", line * 16);
        for (index, byte) in chunk.iter().enumerate() {
            let _ = write!(out, "{byte:02x} ");
            if index == 7 {
                out.push(' ');
            }
        }
        let ascii = ascii_column(chunk);
        let _ = writeln!(out, "{:pad$} |{ascii}|", "", pad = (16 - chunk.len()) * 3);
    }
    out
}

/// `bytes` as `od -c` prints them.
pub(super) fn od_c(bytes: &[u8], offsets: bool) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        if offsets {
            let _ = write!(out, "{:07o}", line * 16);
        }
        for &byte in chunk {
            match byte {
                b'\n' => out.push_str("  \\n"),
                0x20..0x7f => {
                    let _ = write!(out, "   {}", char::from(byte));
                }
                _ => {
                    let _ = write!(out, " {byte:03o}");
                }
            }
        }
        out.push('\n');
    }
    out
}

/// `bytes` as `xxd` prints them.
pub(super) fn xxd(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.chunks(2).map(hex::encode).collect();
        let ascii = ascii_column(chunk);
        let _ = writeln!(out, "{:08x}: {:<40} {ascii}", line * 16, hex.join(" "));
    }
    out
}

/// `bytes` as `hexdump` (no flags) and `od -x` print them: little-endian
/// 16-bit words (`od -An -x` without `offsets`).
pub(super) fn hexdump_words(bytes: &[u8], offsets: bool) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        if offsets {
            let _ = write!(out, "{:07x}", line * 16);
        }
        for word in chunk.chunks(2) {
            let _ = write!(
                out,
                " {:02x}{:02x}",
                word.get(1).copied().unwrap_or(0),
                word[0]
            );
        }
        out.push('\n');
    }
    out
}

/// `bytes` as `od -d -c` prints them: each line's 16-bit words in
/// decimal, which the detector does not read back, then its cells under
/// the offset.
pub(super) fn od_words_and_cells(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:07o}", line * 16);
        for word in chunk.chunks(2) {
            let value = u16::from(word[0]) | u16::from(word.get(1).copied().unwrap_or(0)) << 8;
            let _ = write!(out, " {value:>7}");
        }
        out.push('\n');
        out.push_str("       ");
        out.push_str(&od_c(chunk, false));
    }
    out
}
