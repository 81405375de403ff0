//! Sizes and durations as people (and hostile API clients) write them:
//! never a panic, and whatever parses prints back to the same value.
#![no_main]

use corral_proto::{ByteSize, DurationSpec};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(size) = text.parse::<ByteSize>() {
        assert_eq!(size.to_string().parse::<ByteSize>(), Ok(size), "{text:?}");
    }
    if let Ok(duration) = text.parse::<DurationSpec>() {
        let printed = duration.to_string();
        assert_eq!(
            printed.parse::<DurationSpec>(),
            Ok(duration),
            "{text:?} as {printed:?}"
        );
    }
    let _ = serde_json::from_slice::<ByteSize>(data);
    let _ = serde_json::from_slice::<DurationSpec>(data);
});
