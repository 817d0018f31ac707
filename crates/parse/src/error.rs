//! The one error type of `coroner-parse`: why reading a source stopped early.
//!
//! Every variant renders as the short cause a person reads in `sources.parquet`'s `error`
//! column and in `coroner: <source>: <cause> (at byte N)` on stderr. The offset is kept
//! apart from the cause so the table can hold it in its own column. The texts are pinned by
//! tests: change them only on purpose.

use std::fmt;
use std::io;

/// Why a source ended early (or could not be read at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The gzip stream ended inside a member (cut-off download, disk full while rotating).
    TruncatedGzip,
    /// The gzip stream is damaged (bad header, bad deflate data, CRC mismatch).
    CorruptGzip(String),
    /// The zstd stream ended inside a frame.
    TruncatedZstd,
    /// The zstd stream is damaged.
    CorruptZstd(String),
    /// A record longer than the cap (`--max-line`): the rest of the source is not read, so a
    /// runaway line can never make coroner allocate without bound.
    LineTooLong { cap: u64 },
    /// The tar archive is damaged or cut off.
    Tar(String),
    /// A compression we recognise but do not decode.
    UnsupportedCompression(&'static str),
    /// A directory walk found a symbolic link that leads back into itself.
    SymlinkLoop,
    /// The operating system refused (permission, missing file, I/O error).
    Io(io::ErrorKind, String),
}

/// A reading error with the byte offset (in the source's decompressed bytes) where it struck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// Offset in the decompressed stream: everything before it was read and counted.
    pub offset: Option<u64>,
}

impl Error {
    pub fn new(kind: ErrorKind) -> Self {
        Error { kind, offset: None }
    }

    pub fn at(kind: ErrorKind, offset: u64) -> Self {
        Error {
            kind,
            offset: Some(offset),
        }
    }

    /// The cause alone, without the offset: the `error` column of `sources.parquet`.
    pub fn cause(&self) -> String {
        self.kind.to_string()
    }

    /// Wrap an I/O error from the OS (not from a decoder).
    pub fn io(err: &io::Error) -> Self {
        Error::new(ErrorKind::Io(err.kind(), io_message(err)))
    }
}

/// `std::io::Error`'s Display appends "(os error N)": keep the words a person needs.
fn io_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::TruncatedGzip => f.write_str("truncated gzip stream"),
            ErrorKind::CorruptGzip(why) => write!(f, "gzip: {why}"),
            ErrorKind::TruncatedZstd => f.write_str("truncated zstd stream"),
            ErrorKind::CorruptZstd(why) => write!(f, "zstd: {why}"),
            ErrorKind::LineTooLong { cap } => write!(f, "line longer than {}", human_size(*cap)),
            ErrorKind::Tar(why) => write!(f, "tar: {why}"),
            ErrorKind::UnsupportedCompression(what) => {
                write!(
                    f,
                    "{what} compression is not supported (decompress it first)"
                )
            }
            ErrorKind::SymlinkLoop => f.write_str("symbolic link loop (not followed)"),
            ErrorKind::Io(_, why) => f.write_str(why),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(at) => write!(f, "{} (at byte {at})", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Error {}

/// `64 MiB`, `1 KiB`, `1000 bytes`: sizes as a person writes them, exact when they can be.
pub fn human_size(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

/// Parse `64M`, `64MiB`, `1G`, `4096`, `512k` (binary units): the `--max-line` syntax.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = t[..digits].parse().ok()?;
    let unit = t[digits..].trim().to_ascii_lowercase();
    let mult: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_pinned() {
        let cases = [
            (
                Error::at(ErrorKind::TruncatedGzip, 1234),
                "truncated gzip stream (at byte 1234)",
            ),
            (
                Error::at(ErrorKind::LineTooLong { cap: 64 << 20 }, 0),
                "line longer than 64 MiB (at byte 0)",
            ),
            (
                Error::at(ErrorKind::CorruptZstd("corrupted block".into()), 7),
                "zstd: corrupted block (at byte 7)",
            ),
            (
                Error::new(ErrorKind::SymlinkLoop),
                "symbolic link loop (not followed)",
            ),
            (
                Error::new(ErrorKind::UnsupportedCompression("xz")),
                "xz compression is not supported (decompress it first)",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn io_errors_drop_the_os_error_suffix() {
        let e = io::Error::from_raw_os_error(13);
        assert_eq!(Error::io(&e).to_string(), "Permission denied");
    }

    #[test]
    fn sizes_round_trip() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1 KiB"), Some(1024));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
        assert_eq!(human_size(64 << 20), "64 MiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}

/// Why one record did not match its grammar. Not a failure: a malformed line is data, and
/// the caller counts it as unparsed and goes on. `at` is the byte offset in the record where
/// the grammar broke, `expected` says what should have been there (`"'[' before the time"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub expected: &'static str,
    pub at: usize,
}

impl ParseError {
    pub const fn new(expected: &'static str, at: usize) -> Self {
        ParseError { expected, at }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.at)
    }
}

impl std::error::Error for ParseError {}
