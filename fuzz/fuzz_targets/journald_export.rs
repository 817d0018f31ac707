#![no_main]
//! Fuzz target `journald_export`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run journald_export` from the repository root.

use coroner_parse::formats::journald_export;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = journald_export::parse(data);
    for eof in [false, true] {
        for _ in journald_export::Entries::new(data, eof, 4096) {}
    }
});
