#![no_main]
//! Fuzz target `clf`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run clf` from the repository root.

use coroner_parse::formats::clf;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = clf::parse(data);
    let _ = clf::parse_traefik(data);
    let _ = clf::parse_any(data);
});
