//! Columns every hex layout shares: hex digits, and the ASCII column
//! after the bytes.

use super::streams::{ASCII, Sink};

/// The ASCII column after the hex: between `|`s (`hexdump -C`), `>` and
/// `<` (`od -t x1z`), or the rest of the line after two spaces (`xxd`).
pub fn ascii_column(line: &[u8], at: usize, start: usize, sink: &mut impl Sink) {
    let spaces = line[at..].iter().take_while(|&&byte| byte == b' ').count();
    let column = at + spaces;
    let (from, to) = match line.get(column) {
        Some(b'|') => (column + 1, b'|'),
        Some(b'>') => (column + 1, b'<'),
        Some(_) if spaces >= 2 => (column, b'\n'),
        _ => return,
    };
    for (index, &byte) in line[from..].iter().enumerate() {
        if byte == to {
            break;
        }
        let position = start + from + index;
        sink.push(ASCII, byte, (position, position + 1));
    }
}

/// The value of every hex digit; `NOT_HEX` for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut values = [NOT_HEX; 256];
    let mut digit = 0;
    while digit < 16 {
        let value = digit as u8;
        values[b"0123456789abcdef"[digit] as usize] = value;
        values[b"0123456789ABCDEF"[digit] as usize] = value;
        digit += 1;
    }
    values
};
const NOT_HEX: u8 = 0xff;

/// The value of a hex digit.
pub fn hex_digit(digit: u8) -> Option<u8> {
    let value = HEX_VALUES[usize::from(digit)];
    (value != NOT_HEX).then_some(value)
}
