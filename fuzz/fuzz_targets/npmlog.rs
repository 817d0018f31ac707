#![no_main]
//! Fuzz target `npmlog`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run npmlog` from the repository root.

use coroner_parse::formats::npmlog;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = npmlog::parse(data);
});
