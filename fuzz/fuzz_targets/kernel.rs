#![no_main]
//! Fuzz target `kernel`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run kernel` from the repository root.

use coroner_parse::formats::kernel;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kernel::parse(data);
});
