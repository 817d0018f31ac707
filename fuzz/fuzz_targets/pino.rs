#![no_main]
//! Fuzz target `pino`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run pino` from the repository root.

use coroner_parse::formats::pino;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pino::parse(data);
});
