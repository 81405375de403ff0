//! How ordinary tools print bytes, written here from the tools' own output
//! (not from the detector's code), so the corpus checks the detector
//! rather than agreeing with it: base64 and its URL-safe alphabet, hex,
//! percent-encoding, JSON string escapes of common serializers, line
//! wrapping, and the dumps of `hexdump`, `xxd` and `od`.

use std::fmt::Write as _;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 (`base64`, padded).
pub fn base64(bytes: &[u8]) -> String {
    encode64(bytes, STANDARD, true)
}

/// URL-safe base64 without padding (JWTs, OAuth `state`).
pub fn base64_url(bytes: &[u8]) -> String {
    encode64(bytes, URL_SAFE, false)
}

fn encode64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let word = group.iter().enumerate().fold(0u32, |word, (index, &byte)| {
            word | u32::from(byte) << (16 - 8 * index)
        });
        let digits = group.len() + 1;
        for index in 0..4 {
            if index < digits {
                out.push(char::from(
                    alphabet[(word >> (18 - 6 * index)) as usize & 63],
                ));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Hex, lower or upper case.
pub fn hex(bytes: &[u8], upper: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = if upper {
            write!(out, "{byte:02X}")
        } else {
            write!(out, "{byte:02x}")
        };
    }
    out
}

/// Hex bytes separated by spaces (`73 33 63`).
pub fn spaced_hex(bytes: &[u8], upper: bool) -> String {
    let pairs: Vec<String> = bytes.iter().map(|byte| hex(&[*byte], upper)).collect();
    pairs.join(" ")
}

/// Percent-encoding of everything but RFC 3986's unreserved characters
/// (Python's `quote(value, safe="")`), in either hex case.
pub fn percent(value: &str, upper: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push_str(&hex(&[byte], upper));
        }
    }
    out
}

/// What a JSON serializer escapes beyond `"`, `\` and control characters.
#[derive(Debug, Clone, Copy, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "four independent habits of serializers"
)]
pub struct JsonHabits {
    /// `/` as `\/` (PHP's `json_encode`).
    pub slash: bool,
    /// Non-ASCII as `\u00e9` (Python's `json.dumps`, PHP).
    pub ascii: bool,
    /// `<`, `>`, `&` as `\u003c` (Go's `encoding/json`).
    pub html: bool,
    /// `\u00E9` rather than `\u00e9`.
    pub upper: bool,
}

/// `value` inside a JSON string as a serializer with `habits` writes it.
pub fn json(value: &str, habits: JsonHabits) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let escape = |out: &mut String, unit: u16| {
        let _ = if habits.upper {
            write!(out, "\\u{unit:04X}")
        } else {
            write!(out, "\\u{unit:04x}")
        };
    };
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '/' if habits.slash => out.push_str("\\/"),
            '<' | '>' | '&' if habits.html => escape(&mut out, character as u16),
            control if (control as u32) < 0x20 => escape(&mut out, control as u16),
            wide if habits.ascii && !wide.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in wide.encode_utf16(&mut units) {
                    escape(&mut out, *unit);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `text` cut into lines of `width`, joined by `newline`.
pub fn wrap(text: &str, width: usize, newline: &str) -> String {
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(width)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    lines.join(newline)
}

/// The printable-ASCII column of a dump.
fn printable(bytes: &[u8]) -> String {
    bytes
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

/// `hexdump -C`.
pub fn hexdump_canonical(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let mut row = format!("{:08x}  ", line * 16);
        for (index, byte) in chunk.iter().enumerate() {
            let _ = write!(row, "{byte:02x} ");
            if index == 7 {
                row.push(' ');
            }
        }
        let _ = writeln!(out, "{row:<60}|{}|", printable(chunk));
    }
    let _ = writeln!(out, "{:08x}", bytes.len());
    out
}

/// `xxd`.
pub fn xxd(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let groups: Vec<String> = chunk.chunks(2).map(|pair| hex(pair, false)).collect();
        let _ = writeln!(
            out,
            "{:08x}: {:<39}  {}",
            line * 16,
            groups.join(" "),
            printable(chunk)
        );
    }
    out
}

/// `xxd -p`: bare hex, 60 digits a line.
pub fn xxd_plain(bytes: &[u8]) -> String {
    format!("{}\n", wrap(&hex(bytes, false), 60, "\n"))
}

/// Where `od` puts offsets.
#[derive(Debug, Clone, Copy)]
pub enum Offsets {
    /// Seven octal digits (`od`'s default).
    Octal,
    /// None (`od -An`).
    Absent,
}

/// `od -t x1` (`od -An -t x1` with [`Offsets::Absent`]).
pub fn od_bytes(bytes: &[u8], offsets: Offsets) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        if let Offsets::Octal = offsets {
            let _ = write!(out, "{:07o}", line * 16);
        }
        for byte in chunk {
            let _ = write!(out, " {byte:02x}");
        }
        out.push('\n');
    }
    if let Offsets::Octal = offsets {
        let _ = writeln!(out, "{:07o}", bytes.len());
    }
    out
}

/// `od -A x -t x1z`: hex offsets and a `>…<` column.
pub fn od_bytes_printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let mut row = format!("{:06x}", line * 16);
        for byte in chunk {
            let _ = write!(row, " {byte:02x}");
        }
        let _ = writeln!(out, "{row:<54}  >{}<", printable(chunk));
    }
    let _ = writeln!(out, "{:06x}", bytes.len());
    out
}

/// `od -x` (octal offsets) or `hexdump` (hex offsets, padded last
/// line): little-endian 16-bit words; `bytes` has an even length.
pub fn words(bytes: &[u8], hexdump: bool) -> String {
    let mut out = String::new();
    let offset = |at: usize| {
        if hexdump {
            format!("{at:07x}")
        } else {
            format!("{at:07o}")
        }
    };
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let mut row = offset(line * 16);
        for word in chunk.chunks(2) {
            let high = word.get(1).copied().unwrap_or(0);
            let _ = write!(row, " {high:02x}{:02x}", word[0]);
        }
        if hexdump {
            let _ = writeln!(out, "{row:<47}");
        } else {
            let _ = writeln!(out, "{row}");
        }
    }
    let _ = writeln!(out, "{}", offset(bytes.len()));
    out
}

/// `od -c` (octal offsets, or none) or `hexdump -c` (hex offsets, padded
/// last line): one four-column cell a byte.
pub fn characters(bytes: &[u8], offsets: Option<Offsets>, hexdump: bool) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let mut row = match (hexdump, offsets) {
            (true, _) => format!("{:07x}", line * 16),
            (false, Some(Offsets::Octal)) => format!("{:07o}", line * 16),
            (false, _) => String::new(),
        };
        let width = row.len() + 64;
        for &byte in chunk {
            let cell = match byte {
                b'\n' => "\\n".to_owned(),
                b'\t' => "\\t".to_owned(),
                b'\r' => "\\r".to_owned(),
                0 => "\\0".to_owned(),
                7 => "\\a".to_owned(),
                8 => "\\b".to_owned(),
                11 => "\\v".to_owned(),
                12 => "\\f".to_owned(),
                0x20..0x7f => char::from(byte).to_string(),
                _ => format!("{byte:03o}"),
            };
            let _ = write!(row, "{cell:>4}");
        }
        if hexdump {
            let _ = writeln!(out, "{row:<width$}");
        } else {
            let _ = writeln!(out, "{row}");
        }
    }
    match (hexdump, offsets) {
        (true, _) => {
            let _ = writeln!(out, "{:07x}", bytes.len());
        }
        (false, Some(Offsets::Octal)) => {
            let _ = writeln!(out, "{:07o}", bytes.len());
        }
        (false, _) => {}
    }
    out
}

#[cfg(test)]
mod tests;
