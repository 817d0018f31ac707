#![no_main]
//! Fuzz target `logfmt`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run logfmt` from the repository root.

use coroner_parse::formats::logfmt;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = logfmt::parse(data, 0);
    for _ in logfmt::pairs(data) {}
});
