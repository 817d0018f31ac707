#![no_main]
//! Fuzz target `nginx_error`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run nginx_error` from the repository root.

use coroner_parse::formats::nginx_error;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = nginx_error::parse(data, 3600);
});
