#![no_main]
//! Fuzz target `docker_json`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run docker_json` from the repository root.

use coroner_parse::formats::docker_json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = docker_json::parse(data);
});
