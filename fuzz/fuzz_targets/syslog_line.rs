#![no_main]
//! Fuzz target `syslog_line`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run syslog_line` from the repository root.

use coroner_parse::detect::parse_syslog_line;
use coroner_parse::envelope::view;
use coroner_parse::format::Envelope;
use coroner_parse::timestamp::TimeContext;
use coroner_parse::timestamp::YearHint;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ctx = TimeContext {
        offset_secs: 0,
        year: YearHint::FirstRecord {
            year: 2021,
            first_month: 12,
        },
    };
    let _ = parse_syslog_line(data, &ctx);
    for env in Envelope::ALL {
        let _ = view(env, data, &ctx);
    }
});
