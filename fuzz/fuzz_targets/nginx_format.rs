#![no_main]
//! Fuzz target `nginx_format`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run nginx_format` from the repository root.

use coroner_parse::formats::nginx_format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&split, rest)) = data.split_first() {
        // The first byte cuts the input into a log_format and a line.
        let cut = usize::from(split).min(rest.len());
        if let Ok(format) = std::str::from_utf8(&rest[..cut]) {
            if let Ok(plan) = nginx_format::compile(format) {
                let _ = plan.parse(&rest[cut..]);
            }
        }
    }
});
