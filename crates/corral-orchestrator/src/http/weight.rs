//! What JSON takes in memory once read into `serde_json::Value`s, and a
//! bound on it read from the text before any of it is parsed.
//!
//! A value takes a slot of 32 bytes however short its text, a list up to
//! twice that (it grows by doubling), and an object a B-tree node of 640
//! bytes for its first key: `0,` is two bytes of JSON and 64 once read,
//! `{"":0}` six bytes and some 700. A body of a job's small values would
//! take a hundred times its length before any check on what it holds
//! could run, and a job may have several bodies read at once. [`check`]
//! reads the text once and refuses a body that would take more than
//! [`MOST_WEIGHT`] or [`WEIGHT_PER_BYTE`] times its length (and more than
//! [`CEILING`] however long), one nested
//! deeper than any value read may be ([`MAX_DEPTH`]), and any key
//! `serde_json` keeps for itself (`$serde_json::private::RawValue` first in
//! an object makes it parse the string after it as JSON, which no count
//! of the text would see).

use serde_json::Value;

use super::ApiError;

/// A value's place in its list, its object's node, or the root.
const SLOT: usize = std::mem::size_of::<Value>();
/// What a non-empty string's text takes beyond its bytes: its allocation's
/// header and rounding (32 bytes at least).
const TEXT_CHUNK: usize = 32;
/// A non-empty list's first allocation: room for four values.
const LIST_FIRST: usize = 4 * SLOT;
/// A non-empty object's first B-tree node (eleven keys and values),
/// as the allocator rounds it.
const MAP_NODE: usize = 640;
/// Each key's share of the nodes past the first (a node is at least half
/// full) and of the nodes above them.
const PER_KEY: usize = 160;
/// Deeper than this a body is refused: `serde_json` reads a value 127
/// deep at most, but skips a field its type does not have to any depth.
const MAX_DEPTH: usize = 127;
/// Keys `serde_json` keeps for itself.
const RESERVED_KEY: &str = "$serde_json::private::";
/// The weight any body may come to, however short: every request of a
/// few small values passes.
pub const MOST_WEIGHT: usize = 16 << 20;
/// Past [`MOST_WEIGHT`], the weight a body may have per byte of its text.
/// Text in strings weighs little more than its length, but a model call
/// of many short parts takes far more: a conversation of short tool
/// results 10 to 27 times its length, text blocks marked for caching
/// about 37, a list of small numbers 32. Objects of one key (`{"":0}`,
/// 123) and objects in objects take more than any of those. (A job's
/// bodies together are bounded by its budget: `held`.)
const WEIGHT_PER_BYTE: usize = 48;

/// About the memory `value` takes: its slot, and for a string, list or
/// object what it allocates (see the constants).
pub fn value_weight(value: &Value) -> usize {
    SLOT + match value {
        Value::String(text) => text_bytes(text.len()),
        Value::Array(items) if items.is_empty() => 0,
        Value::Array(items) => {
            LIST_FIRST
                + items
                    .iter()
                    .map(|item| SLOT + value_weight(item))
                    .sum::<usize>()
        }
        Value::Object(map) if map.is_empty() => 0,
        Value::Object(map) => {
            MAP_NODE
                + map
                    .iter()
                    .map(|(key, item)| PER_KEY + text_bytes(key.len()) + value_weight(item))
                    .sum::<usize>()
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// What `length` bytes of a string's text take.
fn text_bytes(length: usize) -> usize {
    if length == 0 { 0 } else { length + TEXT_CHUNK }
}

/// What comes next outside a string, as far as the weight goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (the root, a list's element, an object's value).
    Value,
    /// An object's key.
    Key,
    /// Nothing that starts a value or key.
    Neither,
}

/// An open list or object, and whether anything has been put in it.
#[derive(Clone, Copy)]
struct Open {
    object: bool,
    filled: bool,
}

/// Why a body is refused before it is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// It would take too much memory once read.
    #[error(
        "the body would take {weight} bytes once read, at most {most} (16 MiB, or {WEIGHT_PER_BYTE} \
         times its length, up to 256 MiB): too many small values"
    )]
    Heavy {
        /// What it would take.
        weight: usize,
        /// The most it may.
        most: usize,
    },
    /// It nests lists and objects deeper than any value read may be.
    #[error("the body nests lists and objects more than {MAX_DEPTH} deep")]
    Deep,
    /// It holds a key the JSON reader keeps for itself.
    #[error(
        "the body holds a key beginning `{RESERVED_KEY}`, which the JSON reader keeps for itself"
    )]
    ReservedKey,
}

/// The weight of the value `json` holds, read from its text: what
/// [`value_weight`] gives once it is parsed, or more (a string's escapes
/// are counted as written, and a key given twice twice). Text that is not
/// JSON gets a weight at least that of everything a parser builds before
/// it finds the fault: every value or key it makes starts where this count
/// starts one. `Err` for a key `serde_json` keeps for itself, and for
/// lists and objects nested past [`MAX_DEPTH`] (which a type's skipped
/// field would take uncounted).
pub fn text_weight(json: &[u8]) -> Result<usize, Refused> {
    let mut weight = 0;
    let mut open: Vec<Open> = Vec::new();
    let mut expect = Expect::Value;
    let mut at = 0;
    while let Some(&byte) = json.get(at) {
        at += 1;
        if byte.is_ascii_whitespace() {
            continue;
        }
        let closing = matches!(byte, b']' | b'}');
        if matches!(expect, Expect::Value | Expect::Key) && !closing {
            // A list's element or an object's key is a new entry in it.
            if let Some(inner) = open.last_mut()
                && inner.object == (expect == Expect::Key)
            {
                if !inner.filled {
                    inner.filled = true;
                    weight += if inner.object { MAP_NODE } else { LIST_FIRST };
                }
                // A list's slots again: it grows by doubling.
                weight += if inner.object { PER_KEY } else { SLOT };
            }
            if expect == Expect::Value {
                weight += SLOT;
            }
        }
        expect = match byte {
            b'[' | b'{' => {
                if open.len() == MAX_DEPTH {
                    // No value of the body's may be this deep, and a field a
                    // type skips is skipped to any depth, past a count.
                    return Err(Refused::Deep);
                }
                open.push(Open {
                    object: byte == b'{',
                    filled: false,
                });
                if byte == b'{' {
                    Expect::Key
                } else {
                    Expect::Value
                }
            }
            b']' | b'}' => {
                open.pop();
                Expect::Neither
            }
            b',' if open.last().is_some_and(|inner| inner.object) => Expect::Key,
            b',' | b':' => Expect::Value,
            b'"' => {
                let length = string_length(&json[at..]);
                if expect == Expect::Key
                    && reserved(&json[at - 1..(at + length + 1).min(json.len())])
                {
                    return Err(Refused::ReservedKey);
                }
                weight += text_bytes(length);
                at += length + 1;
                Expect::Neither
            }
            _ => Expect::Neither,
        };
    }
    Ok(weight)
}

/// Whether the key written as `quoted` (its quotes included) is one
/// `serde_json` keeps for itself, however it is escaped.
fn reserved(quoted: &[u8]) -> bool {
    let text = &quoted[1..];
    if !text.starts_with(b"$") && !text.contains(&b'\\') {
        return false;
    }
    serde_json::from_slice::<String>(quoted).is_ok_and(|key| key.starts_with(RESERVED_KEY))
}

/// The bytes of a string's text up to its closing quote (or the end),
/// escapes as written.
fn string_length(text: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match memchr::memchr2(b'"', b'\\', &text[at..]) {
            None => return text.len(),
            Some(found) if text[at + found] == b'"' => return at + found,
            // The escaped byte is text, even a quote.
            Some(found) => at = (at + found + 2).min(text.len()),
        }
    }
}

/// The most any body may weigh, however long: a model call of a
/// million-token conversation of short tool results takes about half.
pub const CEILING: usize = 256 << 20;

/// The most a body of `length` bytes may weigh.
pub fn most_weight(length: usize) -> usize {
    MOST_WEIGHT.max(WEIGHT_PER_BYTE * length).min(CEILING)
}

/// The weight of `json`, unless it would take more memory once read than
/// [`most_weight`] allows for its length, or holds a key `serde_json`
/// keeps for itself.
pub fn refused(json: &[u8]) -> Result<usize, Refused> {
    let weight = text_weight(json)?;
    let most = most_weight(json.len());
    if weight > most {
        return Err(Refused::Heavy { weight, most });
    }
    Ok(weight)
}

/// [`refused`] as the API answers it: 413 naming `body` for its weight,
/// 400 naming it for a reserved key or its depth.
pub fn check(json: &[u8]) -> Result<usize, ApiError> {
    refused(json).map_err(|refusal| match refusal {
        Refused::Heavy { .. } => ApiError::TooLarge {
            message: refusal.to_string(),
            field: "body".into(),
        },
        Refused::ReservedKey | Refused::Deep => ApiError::BadRequest {
            message: refusal.to_string(),
            field: Some("body".into()),
        },
    })
}

#[cfg(test)]
mod tests;
