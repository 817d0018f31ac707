#![no_main]
//! Fuzz target `systemd`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run systemd` from the repository root.

use coroner_parse::formats::systemd;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = systemd::parse(data);
});
