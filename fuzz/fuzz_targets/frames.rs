#![no_main]
//! Fuzz target `frames`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run frames` from the repository root.

use coroner_parse::frame::Frames;
use coroner_parse::frame::Framing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for framing in [
        Framing::Lines,
        Framing::Syslog,
        Framing::JournaldExport,
        Framing::Opaque,
    ] {
        for eof in [false, true] {
            for _ in Frames::new(framing, data, eof, 4096) {}
        }
    }
});
