//! Events' JSON: strings, numbers and object keys that hold a secret.

use serde_json::{Value, json};

use super::tests::{SECRET, redactor};
use super::{Findings, Redactor};

#[test]
fn json_strings_are_redacted_in_place() {
    let mut value = json!({"text": format!("x {SECRET}"), "nested": [SECRET, 4]});
    let mut findings = Findings::default();
    redactor().redact_json(&mut value, &mut findings);
    assert_eq!(
        value,
        json!({"text": "x [REDACTED:DB_PASSWORD]", "nested": ["[REDACTED:DB_PASSWORD]", 4]})
    );
    assert_eq!(findings.names.len(), 2);
}

/// A secret of digits in a number of an event's data (a tool call's
/// argument, `{"account": 12345678901}`) is redacted like text: the number
/// becomes the redacted string. It was stored in clear; other numbers
/// stay numbers.
#[test]
fn json_numbers_holding_a_secret_are_redacted() {
    let redactor = Redactor::new([("PIN", "12345678901"), ("CODE", "31415926")]);
    let mut value = json!({
        "account": 12_345_678_901_u64,
        "negative": -912_345_678_901_i64,
        "ratio": 0.314_159_26,
        "exit_code": 7,
        "nested": [1_234_567_890_u64, {"k": 31_415_926}],
    });
    let mut findings = Findings::default();
    redactor.redact_json(&mut value, &mut findings);
    assert_eq!(
        value,
        json!({
            "account": "[REDACTED:PIN]",
            "negative": "-9[REDACTED:PIN]",
            "ratio": "0.[REDACTED:CODE]",
            "exit_code": 7,
            "nested": [1_234_567_890_u64, {"k": "[REDACTED:CODE]"}],
        })
    );
    assert_eq!(findings.names.len(), 4, "{:?}", findings.names);
}

/// A secret of more digits than JSON numbers hold (past `u64`, past an
/// `f64`'s seventeen) is no longer its digits once an event's data is
/// read: `31415926535897932384626433` becomes `3.1415926535897933e25`,
/// which still told seventeen of them. Such a number is redacted whole
/// when it is the secret's, either sign; other numbers stay numbers.
#[test]
fn json_numbers_past_what_json_holds_are_redacted_when_they_are_the_secret() {
    let redactor = Redactor::new([
        ("DIGITS", "31415926535897932384626433"),
        ("FRACTION", "0.1234567890123456789"),
    ]);
    let mut value: serde_json::Value = serde_json::from_str(
        r#"{"pin": 31415926535897932384626433, "negative": -31415926535897932384626433,
            "fraction": 0.1234567890123456789, "other": 31415926535897932384626434000,
            "small": 3.5, "count": 7}"#,
    )
    .expect("JSON");
    assert!(
        !value["pin"]
            .to_string()
            .contains("31415926535897932384626433"),
        "read from JSON, the number no longer holds the digits: {value}"
    );
    let mut findings = Findings::default();
    redactor.redact_json(&mut value, &mut findings);
    assert_eq!(value["pin"], json!("[REDACTED:DIGITS]"));
    assert_eq!(value["negative"], json!("[REDACTED:DIGITS]"));
    assert_eq!(value["fraction"], json!("[REDACTED:FRACTION]"));
    assert!(value["other"].is_number(), "{value}");
    assert_eq!((&value["small"], &value["count"]), (&json!(3.5), &json!(7)));
    assert_eq!(
        findings.names,
        ["FRACTION", "DIGITS", "DIGITS"].map(str::to_owned)
    );
}

/// A secret of digits a `u64` holds is read back exactly when written as
/// an integer, but not written with a fraction or an exponent, nor
/// negative past an `i64`: a JSON reader makes an `f64` of those, whose
/// text no longer holds the digits. They were left as they were.
#[test]
fn json_numbers_a_u64_holds_are_redacted_written_as_a_reader_loses_them() {
    let redactor = Redactor::new([
        ("LONG", "12345678901234567"),
        ("HUGE", "18000000000000000001"),
    ]);
    let mut value: serde_json::Value = serde_json::from_str(
        r#"{"integer": 12345678901234567, "fraction": 12345678901234567.0,
            "exponent": 1.2345678901234567e16, "negative": -18000000000000000001,
            "near": 12345678901234599.0, "written_back": 12345678901234568,
            "negative_back": -12345678901234568}"#,
    )
    .expect("JSON");
    assert!(
        !value["fraction"].to_string().contains("12345678901234567")
            && !value["negative"]
                .to_string()
                .contains("18000000000000000001"),
        "read from JSON, the numbers no longer hold the digits: {value}"
    );
    let mut findings = Findings::default();
    redactor.redact_json(&mut value, &mut findings);
    // Read as an `f64` and written back as an integer (JavaScript, jq).
    for field in [
        "integer",
        "fraction",
        "exponent",
        "written_back",
        "negative_back",
    ] {
        assert_eq!(value[field], json!("[REDACTED:LONG]"), "{field}: {value}");
    }
    assert_eq!(value["negative"], json!("[REDACTED:HUGE]"), "{value}");
    assert!(value["near"].is_number(), "{value}");
}

/// A worker chooses the keys of an event's data too (`{"<secret>": 1}`),
/// and they are stored and streamed like its values.
#[test]
fn json_object_keys_holding_a_secret_are_redacted() {
    let mut value = json!({
        SECRET: 1,
        "nested": [{format!("k {SECRET}"): "v"}],
        format!("{SECRET} "): 2,
    });
    let mut findings = Findings::default();
    redactor().redact_json(&mut value, &mut findings);
    let text = value.to_string();
    assert!(!text.contains(SECRET), "{text}");
    assert_eq!(
        value,
        json!({
            "[REDACTED:DB_PASSWORD]": 1,
            "[REDACTED:DB_PASSWORD] ": 2,
            "nested": [{"k [REDACTED:DB_PASSWORD]": "v"}],
        })
    );
    assert_eq!(findings.names.len(), 3);
}

/// Two keys that redact to the same text both stay.
#[test]
fn json_keys_that_redact_alike_are_both_kept() {
    let mut value = json!({SECRET: 1, "[REDACTED:DB_PASSWORD]": 2});
    redactor().redact_json(&mut value, &mut Findings::default());
    let map = value.as_object().expect("object");
    assert_eq!(map.len(), 2, "{value}");
    assert!(!value.to_string().contains(SECRET), "{value}");
}

/// A job can send thousands of keys that all redact to one name (every
/// AWS-key-shaped key does); renaming them `#2`, `#3`… must take a step or
/// two each, not a walk past every name given before (quadratic: 2×10⁸
/// lookups here).
#[test]
fn many_keys_that_redact_alike_are_renamed_in_linear_steps() {
    const KEYS: usize = 20_000;
    let map: serde_json::Map<String, Value> = (0..KEYS)
        .map(|index| (format!("AKIA{index:016}"), json!(index)))
        .chain([("[REDACTED:aws-access-key]#3".to_owned(), json!("taken"))])
        .collect();
    let mut value = Value::Object(map);
    super::redactor::KEY_PROBES.with(|probes| probes.set(0));
    redactor().redact_json(&mut value, &mut Findings::default());
    let probes = super::redactor::KEY_PROBES.with(std::cell::Cell::get);
    let map = value.as_object().expect("object");
    assert_eq!(map.len(), KEYS + 1, "no value is dropped");
    assert!(
        map.keys().all(|key| !key.starts_with("AKIA")),
        "every key redacted"
    );
    assert!(probes < 3 * KEYS as u64, "{probes} lookups for {KEYS} keys");
}

/// An array of a secret's bytes in an event's data (`{"key": [122, 113,
/// …]}`, as serializers write bytes; signed, as Java's are) is redacted
/// whole, as a number holding a secret is; other arrays of numbers stay.
/// Each number was read alone, and the secret stayed.
#[test]
fn json_arrays_of_a_secrets_bytes_are_redacted() {
    let past_ascii = "pässwörd-Ünïcødé-ÿ-secret";
    let redactor = Redactor::new([("S", SECRET), ("HI", past_ascii)]);
    let signed: Vec<i8> = past_ascii
        .bytes()
        .map(|byte| i8::from_ne_bytes([byte]))
        .collect();
    let mut inner = vec![1u8, 2];
    inner.extend_from_slice(SECRET.as_bytes());
    let mut value = json!({
        "key": SECRET.as_bytes(),
        "signed": signed,
        "among": [{"bytes": inner}],
        "other": [1, 2, 3, 300, 4, 5, 6, 7, 8, 9],
    });
    let mut findings = Findings::default();
    redactor.redact_json(&mut value, &mut findings);
    assert_eq!(value["key"], json!("[REDACTED:S]"), "{value}");
    assert_eq!(value["signed"], json!("[REDACTED:HI]"), "{value}");
    assert_eq!(value["among"][0]["bytes"], json!("[REDACTED:S]"), "{value}");
    assert_eq!(value["other"], json!([1, 2, 3, 300, 4, 5, 6, 7, 8, 9]));
    assert_eq!(findings.names.len(), 3, "{:?}", findings.names);
}
