#![no_main]
//! Fuzz target `archive`: any input must return, never panic, hang or allocate
//! without bound. Run with `cargo +nightly fuzz run archive` from the repository root.
//!
//! The input is a whole input file held in memory and opened as `input::open` opens a file
//! (compression sniffed by `open_stream`, then the tar header looked for inside), then walked
//! with `for_each_member`; every member goes through `open_stream` again (gzip / zstd
//! members) and its first 64 KiB through `detect_envelope`, as the pipeline does. Decoded
//! bytes are capped per stream so a tiny decompression bomb costs time, not a timeout.

use std::io::{self, Read};

use coroner_parse::decode::{Peek, is_tar};
use coroner_parse::detect::detect_envelope;
use coroner_parse::input::{Reader, for_each_member, open_stream};

/// Decoded bytes read from one stream (the whole input, or one member) at most.
const CAP: u64 = 4 << 20;

/// Detect the first 64 KiB of a stream, then drain it up to the cap.
fn consume(reader: &mut dyn Read) -> io::Result<()> {
    let mut head = Vec::new();
    reader.take(64 << 10).read_to_end(&mut head)?;
    let _ = detect_envelope(&head);
    io::copy(&mut reader.take(CAP), &mut io::sink())?;
    Ok(())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let outer: Reader = Box::new(io::Cursor::new(data.to_vec()));
    let Ok((stream, compression)) = open_stream(outer) else {
        return;
    };
    let mut stream = Peek::new(stream);
    let tar = matches!(stream.peek(512), Ok(h) if is_tar(h));
    if !tar {
        let _ = consume(&mut stream);
        return;
    }
    let reader: Reader = Box::new(stream);
    let _ = for_each_member(reader, compression, |member, r| {
        let _ = member.path.len();
        if let Ok((mut inner, _)) = open_stream(r) {
            let _ = consume(&mut inner);
        }
        Ok(())
    });
});
