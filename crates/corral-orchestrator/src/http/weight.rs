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
//! [`MOST_WEIGHT`] or [`WEIGHT_PER_BYTE`] times its length, and any key
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
/// The deepest `serde_json` reads (past it, it stops with an error).
const MAX_DEPTH: usize = 128;
/// Keys `serde_json` keeps for itself.
const RESERVED_KEY: &str = "$serde_json::private::";
/// The weight any body may come to, however short: every request of a
/// few small values passes.
pub const MOST_WEIGHT: usize = 16 << 20;
/// Past [`MOST_WEIGHT`], the weight a body may have per byte of its text:
/// text in strings weighs little more than its length, and a request of
/// many short parts (a conversation of short tool results) up to about
/// six times it.
const WEIGHT_PER_BYTE: usize = 8;

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
         times its length): too many small values"
    )]
    Heavy {
        /// What it would take.
        weight: usize,
        /// The most it may.
        most: usize,
    },
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
/// starts one. `Err` for a key `serde_json` keeps for itself.
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
                    // The reader stops here with an error.
                    return Ok(weight);
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

/// The most a body of `length` bytes may weigh.
pub fn most_weight(length: usize) -> usize {
    MOST_WEIGHT.max(WEIGHT_PER_BYTE * length)
}

/// Refuses JSON that would take more memory once read than
/// [`most_weight`] allows for its length, or that holds a key `serde_json`
/// keeps for itself.
pub fn refused(json: &[u8]) -> Result<(), Refused> {
    let weight = text_weight(json)?;
    let most = most_weight(json.len());
    if weight > most {
        return Err(Refused::Heavy { weight, most });
    }
    Ok(())
}

/// [`refused`] as the API answers it: 413 naming `body` for its weight,
/// 400 naming it for a reserved key.
pub fn check(json: &[u8]) -> Result<(), ApiError> {
    refused(json).map_err(|refusal| match refusal {
        Refused::Heavy { .. } => ApiError::TooLarge {
            message: refusal.to_string(),
            field: "body".into(),
        },
        Refused::ReservedKey => ApiError::BadRequest {
            message: refusal.to_string(),
            field: Some("body".into()),
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn weight_of(json: &[u8]) -> usize {
        text_weight(json).expect("no reserved key")
    }

    #[test]
    fn many_small_values_weigh_more_than_their_json() {
        let zeros = json!({ "arguments": vec![0; 100_000] });
        let json = serde_json::to_vec(&zeros).expect("JSON").len();
        let weight = value_weight(&zeros);
        assert!(weight > 20 * json, "{weight} for {json} bytes of JSON");
        let text = json!({ "text": "x".repeat(100_000) });
        let weight = value_weight(&text);
        assert!((100_000..101_000).contains(&weight), "{weight}");
    }

    #[test]
    fn the_text_weighs_what_the_parsed_value_weighs() {
        let documents = [
            json!(null),
            json!(12.5),
            json!("text"),
            json!(""),
            json!([]),
            json!({}),
            json!([[], {}, [[]], {"a": {}}, [""]]),
            json!({"kind": "output", "data": {"stream": "stdout", "text": "hi there"}}),
            json!({"a": [1, 2, {"b": [true, false, null, "x y"]}], "": ""}),
            json!(vec![0; 1000]),
        ];
        for document in documents {
            let compact = serde_json::to_vec(&document).expect("JSON");
            let pretty = serde_json::to_vec_pretty(&document).expect("JSON");
            let weight = value_weight(&document);
            assert_eq!(weight_of(&compact), weight, "{document}");
            assert_eq!(weight_of(&pretty), weight, "{document} pretty");
        }
    }

    #[test]
    fn escapes_weigh_at_least_what_they_make() {
        for text in [
            r#""a\"b""#,
            r#""\\""#,
            r#"{"\"": "\u0000\n"}"#,
            r#"["\\\"", 1]"#,
        ] {
            let value: Value = serde_json::from_str(text).expect(text);
            let weight = weight_of(text.as_bytes());
            assert!(weight >= value_weight(&value), "{text}: {weight}");
            assert!(
                weight <= value_weight(&value) + text.len(),
                "{text}: {weight}"
            );
        }
    }

    fn heavy(json: &[u8]) -> bool {
        match check(json) {
            Err(ApiError::TooLarge { field, .. }) => field == "body",
            Ok(()) => false,
            other => panic!("expected a weight refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_body_of_small_values_is_refused_one_of_text_is_not() {
        let zeros = serde_json::to_vec(&json!({"raw": vec![0; 300_000]})).expect("JSON");
        assert!(
            zeros.len() < MOST_WEIGHT / WEIGHT_PER_BYTE,
            "{} bytes",
            zeros.len()
        );
        assert!(heavy(&zeros));
        // Objects of one key, and objects within objects: hundreds of
        // bytes each once read, a few as text.
        let objects = serde_json::to_vec(&vec![json!({"": 0}); 40_000]).expect("JSON");
        assert!(heavy(&objects), "{} bytes", objects.len());
        let nested = format!("{}0{}", r#"{"":"#.repeat(120), "}".repeat(120));
        let nests = format!("[{}]", vec![nested; 300].join(","));
        assert!(heavy(nests.as_bytes()), "{} bytes", nests.len());
        let text = serde_json::to_vec(&json!({"text": "x".repeat(32 << 20)})).expect("JSON");
        assert!(!heavy(&text), "32 MiB of text weighs about 32 MiB");
        // A batch of 4096 of the smallest output events a worker sends.
        let event = json!({"kind": "output", "data": {"stream": "stdout", "text": "x"}});
        let batch = serde_json::to_vec(&json!({"batch": 1, "events": vec![event; 4096]}));
        assert!(!heavy(&batch.expect("JSON")), "a batch of small events");
    }

    #[test]
    fn a_key_the_reader_keeps_for_itself_is_refused_however_written() {
        // First in an object, serde_json would parse the string after it
        // as JSON: a list of zeros weighed as text.
        for key in [
            r#""$serde_json::private::RawValue""#,
            r#""\u0024serde_json::private::RawValue""#,
            r#""$serde_json\u003a:private::Number""#,
        ] {
            let body = format!(r#"{{"events": [{{"data": {{{key}: "[0,0,0]"}}}}]}}"#);
            assert_eq!(
                text_weight(body.as_bytes()),
                Err(Refused::ReservedKey),
                "{body}"
            );
            match check(body.as_bytes()) {
                Err(ApiError::BadRequest { field, .. }) => {
                    assert_eq!(field.as_deref(), Some("body"));
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
        // Not first when sent, it would be once the event is stored with
        // its keys in order, and every read of it would fail.
        let later = r#"{"role": "assistant", "$serde_json::private::RawValue": "[0]"}"#;
        assert_eq!(text_weight(later.as_bytes()), Err(Refused::ReservedKey));
        // As a value, or a key of another name, it is text.
        let value = r#"{"$note": "$serde_json::private::RawValue", "\u0024x": 1}"#;
        assert!(text_weight(value.as_bytes()).is_ok());
    }

    #[test]
    fn text_that_is_not_json_weighs_at_least_what_is_built_of_it() {
        // What a parser has built when it finds the fault: the list, its
        // room for four, three numbers in it; the string's one byte.
        assert_eq!(weight_of(b"[0,0,0"), SLOT + LIST_FIRST + 3 * 2 * SLOT);
        assert_eq!(weight_of(br#""\"#), SLOT + text_bytes(1));
        // Cut anywhere, even inside an escape, a text is read to its end.
        let whole = br#"{"a": [1, 2, "th\"ree"], "b": {"c": null}}"#;
        for end in 0..whole.len() {
            assert!(weight_of(&whole[..end]) <= weight_of(whole), "{end}");
        }
        // Past the reader's depth only what it built before is counted,
        // and the count keeps nothing for the levels past it.
        let deep = "[".repeat(10_000);
        let counted = weight_of(deep.as_bytes());
        assert_eq!(counted, weight_of("[".repeat(MAX_DEPTH + 1).as_bytes()));
    }
}
