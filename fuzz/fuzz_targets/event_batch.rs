//! The worker API's event decoder: any bytes, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<corral_proto::worker::EventBatch>(data);
    let _ = serde_json::from_slice::<corral_proto::JobSpec>(data);
});
