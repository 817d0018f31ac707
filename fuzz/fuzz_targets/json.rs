#![no_main]
//! Fuzz target `json`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run json` from the repository root.

use coroner_parse::formats::json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(obj) = json::Object::parse(data) {
        let mut out = Vec::new();
        for (_, v) in obj.iter() {
            if let Some(s) = v.as_str() {
                s.unescape_into(&mut out);
            }
        }
    }
});
