//! What JSON takes in memory once read into `serde_json::Value`s, and a
//! bound on it read from the text before any of it is parsed.
//!
//! A value takes a slot of 32 bytes however short its text: `0,` is two
//! bytes of JSON and 32 once read. A body of a job's small values
//! (`[0,0,…]`) would take sixteen times its length before any check on
//! what it holds could run, and a job may have several bodies read at
//! once. [`check`] reads the text once (no allocation) and refuses a body
//! that would take more than [`MOST_WEIGHT`] or twice its length.

use serde_json::Value;

use super::ApiError;

/// What a key of an object takes beside its text (its `String` and its
/// place in the map).
pub const ENTRY_OVERHEAD: usize = 48;
/// What any value takes beside its text.
const SLOT: usize = std::mem::size_of::<Value>();
/// The weight any body may come to, however short: every request of a
/// few small values passes.
pub const MOST_WEIGHT: usize = 8 << 20;
/// Past [`MOST_WEIGHT`], the weight a body may have per byte of its text:
/// text in strings weighs about its length, so only bodies made mostly
/// of small values are refused.
const WEIGHT_PER_BYTE: usize = 2;

/// About the memory `value` takes: a slot for each value in it, and the
/// text of its strings and keys.
pub fn value_weight(value: &Value) -> usize {
    SLOT + match value {
        Value::String(text) => text.len(),
        Value::Array(items) => items.iter().map(value_weight).sum(),
        Value::Object(map) => map
            .iter()
            .map(|(key, item)| ENTRY_OVERHEAD + key.len() + value_weight(item))
            .sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// What comes next outside a string, as far as the weight goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (the root, an array's element, an object's value).
    Value,
    /// An object's key.
    Key,
    /// Nothing that starts a value or key.
    Neither,
}

/// The weight of the value `json` holds, read from its text: what
/// [`value_weight`] gives once it is parsed, or more (a string's escapes
/// are counted as written). Text that is not JSON gets a weight at least
/// that of everything a parser builds before it finds the fault: every
/// value or key it makes starts where this count starts one.
pub fn text_weight(json: &[u8]) -> usize {
    let mut weight = 0;
    // Whether each open container is an object.
    let mut objects: Vec<bool> = Vec::new();
    let mut expect = Expect::Value;
    let mut at = 0;
    while let Some(&byte) = json.get(at) {
        at += 1;
        if byte.is_ascii_whitespace() {
            continue;
        }
        match expect {
            Expect::Value if byte != b']' => weight += SLOT,
            Expect::Key if byte != b'}' => weight += ENTRY_OVERHEAD,
            _ => {}
        }
        let in_object = objects.last().copied().unwrap_or(false);
        expect = match byte {
            b'[' => {
                objects.push(false);
                Expect::Value
            }
            b'{' => {
                objects.push(true);
                Expect::Key
            }
            b']' | b'}' => {
                objects.pop();
                Expect::Neither
            }
            b',' if in_object => Expect::Key,
            b',' | b':' => Expect::Value,
            b'"' => {
                let length = string_length(&json[at..]);
                weight += length;
                at += length + 1;
                Expect::Neither
            }
            _ => Expect::Neither,
        };
    }
    weight
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

/// Refuses (413 naming `body`) JSON that would take more memory once
/// read than [`most_weight`] allows for its length.
pub fn check(json: &[u8]) -> Result<(), ApiError> {
    let weight = text_weight(json);
    let most = most_weight(json.len());
    if weight > most {
        return Err(ApiError::TooLarge {
            message: format!(
                "the body would take {weight} bytes once read, at most {most} (8 MiB, or twice its \
                 length): too many small values"
            ),
            field: "body".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn many_small_values_weigh_more_than_their_json() {
        let zeros = json!({ "arguments": vec![0; 100_000] });
        let json = serde_json::to_vec(&zeros).expect("JSON").len();
        let weight = value_weight(&zeros);
        assert!(weight > 10 * json, "{weight} for {json} bytes of JSON");
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
            json!([]),
            json!({}),
            json!([[], {}, [[]], {"a": {}}]),
            json!({"kind": "output", "data": {"stream": "stdout", "text": "hi there"}}),
            json!({"a": [1, 2, {"b": [true, false, null, "x y"]}], "": ""}),
            json!(vec![0; 1000]),
        ];
        for document in documents {
            let compact = serde_json::to_vec(&document).expect("JSON");
            let pretty = serde_json::to_vec_pretty(&document).expect("JSON");
            let weight = value_weight(&document);
            assert_eq!(text_weight(&compact), weight, "{document}");
            assert_eq!(text_weight(&pretty), weight, "{document} pretty");
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
            let weight = text_weight(text.as_bytes());
            assert!(weight >= value_weight(&value), "{text}: {weight}");
            assert!(
                weight <= value_weight(&value) + text.len(),
                "{text}: {weight}"
            );
        }
    }

    #[test]
    fn a_body_of_small_values_is_refused_one_of_text_is_not() {
        let zeros = serde_json::to_vec(&json!({"raw": vec![0; 300_000]})).expect("JSON");
        assert!(zeros.len() < MOST_WEIGHT / 8, "{} bytes", zeros.len());
        match check(&zeros) {
            Err(ApiError::TooLarge { field, .. }) => assert_eq!(field, "body"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let text = serde_json::to_vec(&json!({"text": "x".repeat(32 << 20)})).expect("JSON");
        check(&text).expect("32 MiB of text weighs about 32 MiB");
        // A batch of 4096 of the smallest output events a worker sends.
        let event = json!({"kind": "output", "data": {"stream": "stdout", "text": "x"}});
        let batch = serde_json::to_vec(&json!({"batch": 1, "events": vec![event; 4096]}));
        check(&batch.expect("JSON")).expect("a batch of small events");
    }

    #[test]
    fn text_that_is_not_json_weighs_at_least_what_is_built_of_it() {
        // What a parser has built when it finds the fault: the array and
        // its three numbers; the string's one byte.
        assert_eq!(text_weight(b"[0,0,0"), 4 * SLOT);
        assert_eq!(text_weight(br#""\"#), SLOT + 1);
        // Cut anywhere, even inside an escape, a text is read to its end.
        let whole = br#"{"a": [1, 2, "th\"ree"], "b": {"c": null}}"#;
        for end in 0..whole.len() {
            assert!(text_weight(&whole[..end]) <= text_weight(whole), "{end}");
        }
    }
}
