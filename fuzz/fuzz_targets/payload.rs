#![no_main]
//! Fuzz target `payload`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run payload` from the repository root.

use coroner_parse::detect::detect_envelope;
use coroner_parse::payload::PayloadParser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = detect_envelope(data);
    let mut parser = PayloadParser::new(0, None);
    let _ = parser.parse(data);
});
