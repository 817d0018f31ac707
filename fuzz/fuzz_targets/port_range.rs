#![no_main]
//! Fuzz target `port_range`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run port_range` from the repository root.

use coroner_parse::formats::port_range;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = port_range::parse(data);
});
