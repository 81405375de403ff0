//! The worker API's event batch, as a hostile worker sends it: the decoder
//! never panics, and once each event's data passes the leak detector (as
//! the orchestrator does before storing it) no string in it holds a form
//! of the job's secret, however the JSON nests or escapes it.
#![no_main]

use corral_orchestrator::internals::{Findings, Redactor, secret_forms};

const SECRET: &str = "s3cr3t-pass-word-s";

fn strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text) => out.push(text),
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        serde_json::Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<corral_proto::JobSpec>(data);
    let Ok(batch) = serde_json::from_slice::<corral_proto::worker::EventBatch>(data) else {
        return;
    };
    let redactor = Redactor::new([("S", SECRET)]);
    let forms = secret_forms(SECRET);
    for mut event in batch.events {
        let mut findings = Findings::default();
        redactor.redact_json(&mut event.data, &mut findings);
        let mut found = Vec::new();
        strings(&event.data, &mut found);
        for text in found {
            for form in &forms {
                assert!(!text.contains(form.as_str()), "{form:?} left in {text:?}");
            }
        }
    }
});
