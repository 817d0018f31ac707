#![no_main]
//! Fuzz target `detect`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run detect` from the repository root.
//!
//! The input is a whole source, read the way the pipeline reads one: the envelope from its
//! first 64 KiB (`detect_envelope`), the records framed for that envelope, each record's
//! envelope view and its message's payload (`detect_payload`, then `PayloadParser`, which
//! confirms the guess with the full parser).

use coroner_parse::detect::{detect_envelope, detect_payload};
use coroner_parse::envelope::view;
use coroner_parse::frame::{Frames, Framing, SpanKind};
use coroner_parse::payload::PayloadParser;
use coroner_parse::timestamp::{TimeContext, YearHint};

/// The pipeline's detection head (`DETECT_HEAD` in coroner-analyze).
const DETECT_HEAD: usize = 64 << 10;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let envelope = detect_envelope(&data[..data.len().min(DETECT_HEAD)]);
    let _ = detect_payload(data);
    let ctx = TimeContext {
        offset_secs: 0,
        year: YearHint::EndsAt {
            year: 2026,
            month: 12,
        },
    };
    let mut parser = PayloadParser::new(0, None);
    for span in Frames::new(Framing::for_envelope(envelope), data, true, 4096) {
        let Ok(span) = span else { break };
        if span.kind != SpanKind::Record {
            continue;
        }
        let record = view(envelope, &data[span.start..span.end], &ctx);
        if envelope.has_payload() {
            let _ = detect_payload(record.message);
            let _ = parser.parse(record.message);
        }
    }
});
