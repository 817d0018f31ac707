#![no_main]
//! Fuzz target `ss`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run ss` from the repository root.

use coroner_parse::formats::sockets::TcpState;
use coroner_parse::formats::ss;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ss::parse(data);
    let _ = ss::parse_with_state(data, Some(TcpState::TimeWait));
    let _ = ss::parse_summary(data);
    for _ in ss::users(data) {}
});
