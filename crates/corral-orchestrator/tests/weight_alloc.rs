//! The weight a JSON body's text is given before it is read is at least
//! the memory `serde_json` then takes to hold it, measured by a counting
//! allocator: bodies of short strings, small numbers, lists of lists,
//! objects of one key, objects in objects, and what a worker sends. Its
//! own test binary: no other test allocates beside the one measuring.

#![expect(clippy::expect_used, reason = "a test fails loudly")]

use std::alloc::System;

use cap::Cap;
use corral_orchestrator::internals::{text_weight, value_weight};
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// What the value read from `json` holds once read: the allocator's count
/// with it alive, less the count before.
fn held(json: &[u8]) -> usize {
    let before = ALLOCATOR.allocated();
    let value: Value = serde_json::from_slice(json).expect("JSON");
    let held = ALLOCATOR.allocated() - before;
    drop(value);
    held
}

#[test]
fn a_bodys_weight_is_at_least_what_reading_it_holds() {
    let event = json!({"kind": "output", "data": {"stream": "stdout", "text": "x"}});
    let nested = format!("{}0{}", r#"{"":"#.repeat(100), "}".repeat(100));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("small numbers", json!(vec![0; 100_000]).to_string().into()),
        ("short strings", json!(vec!["a"; 50_000]).to_string().into()),
        ("lists of one", json!(vec![[0]; 50_000]).to_string().into()),
        (
            "objects of one key",
            json!(vec![json!({"": 0}); 50_000]).to_string().into(),
        ),
        ("objects of many keys", {
            let map: serde_json::Map<String, Value> = (0..50_000)
                .map(|key| (key.to_string(), json!(key)))
                .collect();
            Value::Object(map).to_string().into()
        }),
        (
            "objects in objects",
            format!("[{}]", vec![nested; 500].join(",")).into(),
        ),
        (
            "a batch of small events",
            json!({"batch": 1, "events": vec![event; 4096]})
                .to_string()
                .into(),
        ),
        (
            "text",
            json!({"text": "x".repeat(1 << 20)}).to_string().into(),
        ),
    ];
    for (what, body) in bodies {
        let weight = text_weight(&body).expect("no reserved key");
        let value: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            weight,
            value_weight(&value),
            "{what}: the text and the value agree"
        );
        drop(value);
        let held = held(&body);
        assert!(weight >= held, "{what}: weighed {weight}, holds {held}");
        // Not so far above it that the bound means little.
        assert!(weight <= 4 * held, "{what}: weighed {weight}, holds {held}");
    }
}
