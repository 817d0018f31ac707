#![no_main]
//! Fuzz target `cloudflared_json`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run cloudflared_json` from the repository root.

use coroner_parse::formats::cloudflared_json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = cloudflared_json::parse(data);
});
