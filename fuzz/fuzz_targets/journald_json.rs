#![no_main]
//! Fuzz target `journald_json`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run journald_json` from the repository root.

use coroner_parse::formats::journald_json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(r) = journald_json::parse(data) {
        let mut out = Vec::new();
        r.message.decode_into(&mut out);
    }
});
