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
        Ok(_) => false,
        other => panic!("expected a weight refusal, got {other:?}"),
    }
}

/// A conversation as Claude Code sends it: turns of a tool call and a
/// short result, about 27 times its length once read.
fn conversation(turns: usize) -> Vec<u8> {
    let turn = |index: usize| {
        let id = format!("toolu_01{index:026}");
        [
            json!({"role": "assistant", "content": [
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": id, "name": "Bash", "input": {"command": "ls"}},
            ]}),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": id,
                 "content": [{"type": "text", "text": "ok", "cache_control": {"type": "ephemeral"}}]},
            ]}),
        ]
    };
    let messages: Vec<Value> = (0..turns).flat_map(turn).collect();
    serde_json::to_vec(&json!({"model": "m", "max_tokens": 1, "messages": messages})).expect("JSON")
}

#[test]
fn real_requests_pass_and_objects_of_one_key_do_not() {
    // Objects of one key, and objects within objects: hundreds of
    // bytes each once read, a few as text.
    let objects = serde_json::to_vec(&vec![json!({"": 0}); 40_000]).expect("JSON");
    assert!(heavy(&objects), "{} bytes", objects.len());
    let nested = format!("{}0{}", r#"{"":"#.repeat(120), "}".repeat(120));
    let nests = format!("[{}]", vec![nested; 300].join(","));
    assert!(heavy(nests.as_bytes()), "{} bytes", nests.len());
    // What real requests hold: a long conversation of short results
    // (past the 16 MiB any body may take), text, many numbers, and a
    // batch of the smallest output events a worker sends.
    let talk = conversation(6000);
    let weight = weight_of(&talk);
    assert!(weight > MOST_WEIGHT && weight > 20 * talk.len(), "{weight}");
    assert!(!heavy(&talk), "{} bytes weigh {weight}", talk.len());
    assert_eq!(
        most_weight(32 << 20),
        CEILING,
        "however long, 256 MiB at most"
    );
    let text = serde_json::to_vec(&json!({"text": "x".repeat(32 << 20)})).expect("JSON");
    assert!(!heavy(&text), "32 MiB of text weighs about 32 MiB");
    let numbers = serde_json::to_vec(&json!({"raw": vec![0; 1_000_000]})).expect("JSON");
    assert!(!heavy(&numbers));
    let event = json!({"kind": "output", "data": {"stream": "stdout", "text": "x"}});
    let batch = serde_json::to_vec(&json!({"batch": 1, "events": vec![event; 4096]}));
    assert!(!heavy(&batch.expect("JSON")), "a batch of small events");
}

#[test]
fn a_body_nested_deeper_than_a_value_may_be_is_refused() {
    // A field the type does not have is skipped to any depth: what
    // follows it would be read uncounted.
    let skipped = format!(
        r#"{{"x": {}{}, "events": []}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    assert_eq!(text_weight(skipped.as_bytes()), Err(Refused::Deep));
    assert!(matches!(
        check(skipped.as_bytes()),
        Err(ApiError::BadRequest { .. })
    ));
    let deepest = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(text_weight(deepest.as_bytes()).is_ok());
    assert_eq!(
        text_weight("[".repeat(MAX_DEPTH + 1).as_bytes()),
        Err(Refused::Deep)
    );
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
}
