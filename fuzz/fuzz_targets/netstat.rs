#![no_main]
//! Fuzz target `netstat`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run netstat` from the repository root.

use coroner_parse::formats::netstat;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = netstat::parse(data);
});
