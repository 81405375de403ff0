//! Claude Code's stream-json lines: any text maps to events, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = corral_worker::map_claude_line(&String::from_utf8_lossy(data));
});
