//! The SSE parser: any bytes, split anywhere, read the same.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let whole = corral_proto::sse::SseParser::default().feed(data);
    let mut parser = corral_proto::sse::SseParser::default();
    let mut split = Vec::new();
    for chunk in data.chunks(7) {
        split.extend(parser.feed(chunk));
    }
    assert_eq!(whole, split);
});
