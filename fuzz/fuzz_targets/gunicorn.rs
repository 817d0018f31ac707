#![no_main]
//! Fuzz target `gunicorn`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run gunicorn` from the repository root.

use coroner_parse::formats::gunicorn;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = gunicorn::parse(data, 0);
});
