//! Streams: tell plain, gzip and zstd apart by their magic bytes (never by the file name),
//! and decode every gzip member and every zstd frame.
//!
//! Decoder errors are mapped to [`ErrorKind`]s that say what a person needs to know
//! (`truncated gzip stream`), and the offset reported with them is the number of
//! decompressed bytes delivered before the fault: exactly what was read and counted.

use std::io::{self, Read};

use crate::error::ErrorKind;

/// How a stream is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn id(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// What the first bytes of a stream say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    Compressed(Compression),
    /// Recognised but not decoded: the source gets an error naming it.
    Unsupported(&'static str),
    /// Anything else: plain bytes (maybe a tar archive, see [`is_tar`]).
    Plain,
}

/// Sniff the compression from the first bytes (at least 6 for a sure answer).
pub fn sniff(head: &[u8]) -> Magic {
    match head {
        [0x1f, 0x8b, ..] => Magic::Compressed(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Magic::Compressed(Compression::Zstd),
        // A zstd stream may start with skippable frames (magic 0x184D2A5?, little-endian).
        [b, 0x2a, 0x4d, 0x18, ..] if b & 0xf0 == 0x50 => Magic::Compressed(Compression::Zstd),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Magic::Unsupported("xz"),
        [b'B', b'Z', b'h', ..] => Magic::Unsupported("bzip2"),
        [0x04, 0x22, 0x4d, 0x18, ..] => Magic::Unsupported("lz4"),
        [b'P', b'K', 0x03, 0x04, ..] => Magic::Unsupported("zip"),
        _ => Magic::Plain,
    }
}

/// True if `head` (at least 262 bytes of a plain stream) is a POSIX/GNU tar header.
pub fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Wrap `inner` in the decoder for `compression`: all gzip members (`MultiGzDecoder`, the
/// zlib-rs backend) and all zstd frames (windows up to 2 GiB: `window_log_max(31)`, as
/// `zstd --long=31` writes them).
pub fn decoder<'a, R: Read + 'a>(
    inner: R,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(inner),
        Compression::Gzip => {
            // flate2 reads a first member header cut before its 10th byte as a clean, empty
            // stream; gzip(1) calls it "unexpected end of file", and so do we.
            let mut inner = Peek::new(inner);
            if inner.peek(GZIP_HEADER_LEN)?.len() < GZIP_HEADER_LEN {
                return Ok(Box::new(TruncatedHeader));
            }
            Box::new(flate2::read::MultiGzDecoder::new(
                io::BufReader::with_capacity(256 << 10, inner),
            ))
        }
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(inner)?;
            d.window_log_max(31)?;
            Box::new(d)
        }
    })
}

/// The fixed part of a gzip member header (RFC 1952 2.3).
const GZIP_HEADER_LEN: usize = 10;

/// A compressed stream that ended inside its first header: nothing to decode, and the
/// first read says so.
struct TruncatedHeader;

impl Read for TruncatedHeader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "stream ends inside the gzip header",
        ))
    }
}

/// Turn a read error from a decoder into the cause a person reads.
pub fn decode_error(compression: Compression, err: &io::Error) -> ErrorKind {
    let text = err.to_string();
    match compression {
        Compression::Gzip if err.kind() == io::ErrorKind::UnexpectedEof => ErrorKind::TruncatedGzip,
        Compression::Gzip if is_os_error(err) => ErrorKind::Io(err.kind(), text),
        Compression::Gzip => ErrorKind::CorruptGzip(text),
        Compression::Zstd
            if err.kind() == io::ErrorKind::UnexpectedEof || text.contains("incomplete frame") =>
        {
            ErrorKind::TruncatedZstd
        }
        Compression::Zstd if is_os_error(err) => ErrorKind::Io(err.kind(), text),
        Compression::Zstd => {
            ErrorKind::CorruptZstd(text.trim_start_matches("zstd: ").to_lowercase())
        }
        Compression::None => ErrorKind::Io(err.kind(), text),
    }
}

fn is_os_error(err: &io::Error) -> bool {
    err.raw_os_error().is_some()
}

/// A reader that can look at its first bytes before they are consumed: used to sniff the
/// compression, then the tar header inside it, without seeking (archive members and
/// decoders cannot seek).
pub struct Peek<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Peek<R> {
    pub fn new(inner: R) -> Self {
        Peek {
            head: Vec::new(),
            pos: 0,
            inner,
        }
    }

    /// Up to `n` first bytes (fewer only at end of stream). Call before any `read`.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        debug_assert_eq!(self.pos, 0, "peek after read");
        while self.head.len() < n {
            let have = self.head.len();
            self.head.resize(n, 0);
            match self.inner.read(&mut self.head[have..]) {
                Ok(0) => {
                    self.head.truncate(have);
                    break;
                }
                Ok(got) => self.head.truncate(have + got),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.head.truncate(have),
                Err(e) => {
                    self.head.truncate(have);
                    return Err(e);
                }
            }
        }
        Ok(&self.head[..n.min(self.head.len())])
    }
}

impl<R> Peek<R> {
    /// The inner reader; bytes already peeked are dropped (callers re-open or seek).
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Peek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Counts the bytes that pass through a reader (stored bytes of a stream).
pub struct Counted<R> {
    pub inner: R,
    pub count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(compression: Compression, bytes: &[u8]) -> (Vec<u8>, Option<ErrorKind>) {
        let mut r = decoder(bytes, compression).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(decode_error(compression, &e))),
            }
        }
    }

    #[test]
    fn gzip_cut_inside_its_first_header_is_truncated_not_empty() {
        let gz = gzip(b"hello\n");
        for n in 2..=GZIP_HEADER_LEN + 1 {
            let (out, err) = read_all(Compression::Gzip, &gz[..n]);
            assert_eq!(
                (out.len(), err),
                (0, Some(ErrorKind::TruncatedGzip)),
                "{n} bytes"
            );
        }
        // An empty member is a whole stream, not a truncated one.
        assert_eq!(read_all(Compression::Gzip, &gzip(b"")), (Vec::new(), None));
    }

    #[test]
    fn sniffs_by_magic_not_name() {
        assert_eq!(sniff(&gzip(b"x")), Magic::Compressed(Compression::Gzip));
        let z = zstd::encode_all(&b"x"[..], 3).unwrap();
        assert_eq!(sniff(&z), Magic::Compressed(Compression::Zstd));
        assert_eq!(sniff(b"\xfd7zXZ\x00rest"), Magic::Unsupported("xz"));
        assert_eq!(sniff(b"plain text"), Magic::Plain);
        assert_eq!(sniff(b""), Magic::Plain);
        assert_eq!(sniff(b"\x1f"), Magic::Plain);
    }

    #[test]
    fn reads_every_gzip_member_and_zstd_frame() {
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        assert_eq!(
            read_all(Compression::Gzip, &two),
            (b"one\ntwo\n".to_vec(), None)
        );
        let mut z = zstd::encode_all(&b"one\n"[..], 3).unwrap();
        z.extend(zstd::encode_all(&b"two\n"[..], 3).unwrap());
        assert_eq!(
            read_all(Compression::Zstd, &z),
            (b"one\ntwo\n".to_vec(), None)
        );
    }

    #[test]
    fn truncation_is_named_and_keeps_what_came_before() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let gz = gzip(&data);
        let (got, err) = read_all(Compression::Gzip, &gz[..gz.len() / 2]);
        assert_eq!(err, Some(ErrorKind::TruncatedGzip));
        assert!(!got.is_empty() && data.starts_with(&got));
        let z = zstd::encode_all(&data[..], 3).unwrap();
        let (got, err) = read_all(Compression::Zstd, &z[..z.len() / 2]);
        assert_eq!(err, Some(ErrorKind::TruncatedZstd));
        assert!(data.starts_with(&got));
    }

    #[test]
    fn peek_then_read_sees_every_byte_once() {
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut p = Peek::new(&data[..]);
        assert_eq!(p.peek(300).unwrap(), &data[..300]);
        let mut out = Vec::new();
        p.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        let mut short = Peek::new(&b"ab"[..]);
        assert_eq!(short.peek(512).unwrap(), b"ab");
    }
}
