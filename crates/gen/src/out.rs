//! Writing sample files: deterministic compression, and a record of what was written.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};

/// One file a generator wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// Size on disk (compressed size for `.gz`/`.zst`).
    pub bytes: u64,
}

/// Writes `data` to `path`, creating parent directories, and records it.
pub fn write_file(path: &Path, data: &[u8]) -> io::Result<Written> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, data)?;
    Ok(Written {
        path: path.to_owned(),
        bytes: data.len() as u64,
    })
}

/// Gzip with default compression and a header that does not depend on when or
/// where it ran (mtime 0, no file name, OS byte "unknown"), so regenerating a
/// sample gives the same bytes.
pub fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// Zstandard at `level`, single-threaded (zstd's output only depends on the input
/// and the parameters then).
pub fn zstd(data: &[u8], level: i32) -> io::Result<Vec<u8>> {
    zstd::stream::encode_all(data, level)
}

/// `s` as a JSON string literal, quotes included.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        let data = b"line one\nline two\n".repeat(100);
        let a = gzip(&data).unwrap();
        assert_eq!(a, gzip(&data).unwrap());
        // mtime (bytes 4..8) is zero.
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&a[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn zstd_round_trips() {
        let data = b"abc".repeat(1000);
        let z = zstd(&data, 3).unwrap();
        assert_eq!(z, zstd(&data, 3).unwrap());
        assert_eq!(zstd::stream::decode_all(&z[..]).unwrap(), data);
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
