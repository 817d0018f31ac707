#![no_main]
//! Fuzz target `golog`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run golog` from the repository root.

use coroner_parse::formats::golog;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = golog::parse(data, 0);
});
