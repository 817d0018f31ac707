#![no_main]
//! Fuzz target `cloudflared`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run cloudflared` from the repository root.

use coroner_parse::formats::cloudflared;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = cloudflared::parse(data);
});
