#![no_main]
//! Fuzz target `lograge`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run lograge` from the repository root.

use coroner_parse::formats::lograge;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = lograge::parse(data, 0);
});
