#![no_main]
//! Fuzz target `traefik_json`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run traefik_json` from the repository root.

use coroner_parse::formats::traefik_json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = traefik_json::parse(data);
});
