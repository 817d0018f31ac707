#![no_main]
//! Fuzz target `proc_net_tcp`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run proc_net_tcp` from the repository root.

use coroner_parse::formats::proc_net_tcp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = proc_net_tcp::parse(data);
});
