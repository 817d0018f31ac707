//! Inputs: expand the paths a user names into streams, and open each one the way it is
//! stored: a plain file is mapped (zero-copy, cut into chunks later), a compressed file is
//! a stream to decode, a tar archive (plain, gzip or zstd) is a sequence of member streams
//! read in place, never extracted to disk.
//!
//! Directories are walked in sorted order so runs are reproducible; a symbolic link loop is
//! reported, not followed. What a stream is gets decided by its magic bytes, never by its
//! name: a `.log` that is really gzip is decoded, a `.gz` that is really text is read as text.
//!
//! ```no_run
//! use coroner_parse::input::{expand, open, Opened};
//! for item in expand(&["samples/t3-drop".into()]) {
//!     let file = item.unwrap();
//!     match open(&file.path, true).unwrap() {
//!         Opened::Mapped { data, .. } => println!("{}: {} plain bytes", file.name, data.len()),
//!         Opened::Stream { compression, .. } => println!("{}: {}", file.name, compression.id()),
//!         Opened::Archive { .. } => println!("{}: archive", file.name),
//!         Opened::Unsupported { what, .. } => println!("{}: {what}", file.name),
//!     }
//! }
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::decode::{self, Compression, Magic, Peek};
use crate::error::{Error, ErrorKind};

/// A file to read, with the name the user will see for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// The path as given, or joined onto the directory as given.
    pub name: String,
    pub path: PathBuf,
}

/// A named input that could not even be listed (missing path, symlink loop).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    pub name: String,
    pub error: Error,
}

/// Expand user paths: files as they are, directories walked (sorted by name, links
/// followed, loops reported). Order is stable: argument order, then walk order.
pub fn expand(paths: &[PathBuf]) -> Vec<Result<InputFile, InputProblem>> {
    let mut out = Vec::new();
    for root in paths {
        let name = root.to_string_lossy().into_owned();
        match std::fs::metadata(root) {
            Err(e) => out.push(Err(InputProblem {
                name,
                error: Error::io(&e),
            })),
            // Files are taken whatever they are (a FIFO from `<(journalctl -o export)` too).
            Ok(meta) if !meta.is_dir() => out.push(Ok(InputFile {
                name,
                path: root.clone(),
            })),
            Ok(_) => walk(root, &mut out),
        }
    }
    out
}

fn walk(root: &Path, out: &mut Vec<Result<InputFile, InputProblem>>) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => out.push(Ok(InputFile {
                name: e.path().to_string_lossy().into_owned(),
                path: e.into_path(),
            })),
            // Directories, sockets, devices inside a walked tree carry no log bytes.
            Ok(_) => {}
            Err(e) => {
                let name = e.path().map_or_else(
                    || root.to_string_lossy().into_owned(),
                    |p| p.to_string_lossy().into_owned(),
                );
                let error = if e.loop_ancestor().is_some() {
                    Error::new(ErrorKind::SymlinkLoop)
                } else {
                    match e.io_error() {
                        Some(io) => Error::io(io),
                        None => Error::new(ErrorKind::Io(io::ErrorKind::Other, e.to_string())),
                    }
                };
                out.push(Err(InputProblem { name, error }));
            }
        }
    }
}

/// The bytes of a plain file held in memory: mapped, or read (small files, and where
/// mapping is not possible or not wanted).
pub enum Data {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Map(m) => m,
            Data::Owned(v) => v,
        }
    }
}

impl Data {
    /// Let the kernel drop the resident pages of `range`, which has been read: a mapped
    /// file then holds RSS for the chunks in flight, not for everything read so far
    /// (measured: a 1.5 GB mapped log made a parse-only run peak at 1.5 GiB RSS).
    pub fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Data::Map(m) = self
            && range.end <= m.len()
        {
            // SAFETY: the map is a private, read-only mapping of a file this process never
            // writes. MADV_DONTNEED only discards the resident copy of those pages: they stay
            // mapped, and any later read (a neighbouring chunk sharing a boundary page)
            // faults them back in from the file with the same bytes, so no `&[u8]` into the
            // map sees a change. (A file truncated or rewritten underneath is the SIGBUS
            // caveat of mapping at all; see `open`.)
            let _ = unsafe {
                m.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    range.start,
                    range.len(),
                )
            };
        }
        #[cfg(not(unix))]
        let _ = range;
    }
}

/// A stream to read from start to end (decoder, pipe, archive). Read on the thread that
/// opened it, so it need not be `Send`.
pub type Reader = Box<dyn Read>;

/// An input, opened according to what its first bytes say.
pub enum Opened {
    /// A plain regular file, all of it addressable.
    Mapped { data: Data, mtime: Option<i64> },
    /// A compressed stream, or a plain stream that cannot be mapped (a pipe).
    Stream {
        reader: Reader,
        compression: Compression,
        stored_bytes: Option<u64>,
        mtime: Option<i64>,
    },
    /// A tar archive; `compression` is that of the archive stream as a whole.
    Archive {
        reader: Reader,
        compression: Compression,
        stored_bytes: Option<u64>,
    },
    /// A compression coroner recognises but does not decode (xz, bzip2, zip, lz4).
    Unsupported {
        what: &'static str,
        stored_bytes: Option<u64>,
    },
}

/// Files below this size are read, not mapped: a map costs more than it saves.
const MAP_THRESHOLD: u64 = 1 << 20;

/// Open `path` and decide how to read it from its magic bytes.
pub fn open(path: &Path, allow_mmap: bool) -> Result<Opened, Error> {
    let file = File::open(path).map_err(|e| Error::io(&e))?;
    let meta = file.metadata().map_err(|e| Error::io(&e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let regular = meta.is_file();
    let stored_bytes = regular.then_some(meta.len());
    let mut peek = Peek::new(file);
    let head = peek.peek(512).map_err(|e| Error::io(&e))?.to_vec();
    match decode::sniff(&head) {
        Magic::Unsupported(what) => Ok(Opened::Unsupported { what, stored_bytes }),
        Magic::Compressed(compression) => {
            let reader = decode::decoder(peek, compression).map_err(|e| Error::io(&e))?;
            let mut inner = Peek::new(reader);
            let is_tar = match inner.peek(512) {
                Ok(h) => decode::is_tar(h),
                // A stream broken in its first bytes: let the reader meet the error again
                // and report it with its offset.
                Err(_) => false,
            };
            let reader: Reader = Box::new(inner);
            Ok(if is_tar {
                Opened::Archive {
                    reader,
                    compression,
                    stored_bytes,
                }
            } else {
                Opened::Stream {
                    reader,
                    compression,
                    stored_bytes,
                    mtime,
                }
            })
        }
        Magic::Plain if decode::is_tar(&head) => Ok(Opened::Archive {
            reader: Box::new(peek),
            compression: Compression::None,
            stored_bytes,
        }),
        Magic::Plain if !regular => Ok(Opened::Stream {
            reader: Box::new(peek),
            compression: Compression::None,
            stored_bytes,
            mtime,
        }),
        Magic::Plain => {
            let mut file = peek.into_inner_at_start().map_err(|e| Error::io(&e))?;
            if allow_mmap && meta.len() >= MAP_THRESHOLD {
                // SAFETY: the map is read-only and private to this process. If another
                // process truncates the file while we read it, reading past the new end
                // raises SIGBUS: the same contract ripgrep accepts. Bundles are evidence at
                // rest; `--no-mmap` reads instead for files that may still be written to.
                if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                    return Ok(Opened::Mapped {
                        data: Data::Map(map),
                        mtime,
                    });
                }
            }
            if meta.len() >= MAP_THRESHOLD {
                // Not mapped (`--no-mmap`, or mapping failed): read it as a stream, in
                // chunks, so memory stays bounded whatever the file's size.
                return Ok(Opened::Stream {
                    reader: Box::new(file),
                    compression: Compression::None,
                    stored_bytes: Some(meta.len()),
                    mtime,
                });
            }
            let mut buf = Vec::with_capacity(meta.len() as usize);
            file.read_to_end(&mut buf).map_err(|e| Error::io(&e))?;
            Ok(Opened::Mapped {
                data: Data::Owned(buf),
                mtime,
            })
        }
    }
}

impl Peek<File> {
    /// The file, positioned at its start again (only plain files are re-read this way).
    fn into_inner_at_start(self) -> io::Result<File> {
        use std::io::Seek;
        let mut file = self.into_inner();
        file.seek(io::SeekFrom::Start(0))?;
        Ok(file)
    }
}

/// One member of a tar archive, as its header describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's path inside the archive, exactly as stored (lossy UTF-8). It is only
    /// ever a label: coroner never creates a file from it.
    pub path: String,
    /// Bytes the member's data takes in the tar stream.
    pub size: u64,
    pub mtime: Option<i64>,
}

/// Read every regular-file member of a tar stream in order, handing each to `visit` with
/// a reader over its data. Links, directories and devices carry no log bytes and are
/// passed over. Returns the bytes of the tar stream read (headers and padding included).
pub fn for_each_member(
    reader: Reader,
    compression: Compression,
    mut visit: impl FnMut(&Member, &mut dyn Read) -> Result<(), Error>,
) -> (u64, Option<Error>) {
    let counted = decode::Counted {
        inner: reader,
        count: 0,
    };
    let mut archive = tar::Archive::new(counted);
    let tar_error = |e: &io::Error| match decode::decode_error(compression, e) {
        // tar's own words for a cut archive ("unexpected EOF during skip", kind Other) say
        // how it found out, not what is wrong. tests/hostile.rs pins the result.
        ErrorKind::Io(kind, msg)
            if kind == io::ErrorKind::UnexpectedEof || msg.contains("unexpected EOF") =>
        {
            ErrorKind::Tar("the archive is cut short".into())
        }
        ErrorKind::Io(_, msg) if compression == Compression::None || e.raw_os_error().is_none() => {
            ErrorKind::Tar(msg)
        }
        kind => kind,
    };
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => return (0, Some(Error::at(tar_error(&e), 0))),
    };
    let mut failure = None;
    // A broken header is only known after tar read past it: its offset is set below, from
    // the bytes of the stream consumed by then.
    let mut broken_header = None;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                broken_header = Some(tar_error(&e));
                break;
            }
        };
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let member = Member {
            path: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
            size: entry.size(),
            mtime: entry
                .header()
                .mtime()
                .ok()
                .and_then(|t| i64::try_from(t).ok()),
        };
        let mut data = WholeMember {
            inner: &mut entry,
            left: member.size,
        };
        if let Err(e) = visit(&member, &mut data) {
            failure = Some(e);
            break;
        }
    }
    // tar stops at the first zero block; the end-of-archive padding (and whatever a
    // careless concatenation left after it) is still part of the stream: read and count it,
    // so a truncated compressed tail is reported too.
    let mut counted = archive.into_inner();
    if let Some(kind) = broken_header {
        failure = Some(Error::at(kind, counted.count));
    }
    if failure.is_none()
        && let Err(e) = io::copy(&mut counted, &mut io::sink())
    {
        failure = Some(Error::at(tar_error(&e), counted.count));
    }
    (counted.count, failure)
}

/// A member's data that must deliver the size its header promised: an archive cut inside
/// the member is an error of the member (tar's own reader just stops early).
struct WholeMember<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for WholeMember<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "tar: the archive ends inside this member",
            ));
        }
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

/// A stream inside something else (an archive member): sniff its compression from its
/// magic bytes and wrap it in the matching decoder. `Err` names a compression we do not
/// decode.
pub fn open_stream<'a>(inner: impl Read + 'a) -> Result<(Box<dyn Read + 'a>, Compression), Error> {
    let mut peek = Peek::new(inner);
    let head = peek.peek(8).map_err(|e| Error::io(&e))?;
    match decode::sniff(head) {
        Magic::Unsupported(what) => Err(Error::new(ErrorKind::UnsupportedCompression(what))),
        Magic::Compressed(c) => Ok((decode::decoder(peek, c).map_err(|e| Error::io(&e))?, c)),
        Magic::Plain => Ok((Box::new(peek), Compression::None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Write the name raw: hostile archives hold `..` and absolute paths, which the
            // builder (rightly) refuses to create.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn opens_by_magic_not_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("looks.gz");
        std::fs::write(&text, b"plain text\n").unwrap();
        assert!(matches!(open(&text, true).unwrap(), Opened::Mapped { .. }));
        let gz = dir.path().join("looks.log");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b"x\n").unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        assert!(matches!(
            open(&gz, true).unwrap(),
            Opened::Stream {
                compression: Compression::Gzip,
                ..
            }
        ));
        let tz = dir.path().join("bundle.bin");
        std::fs::write(
            &tz,
            zstd::encode_all(&tar_of(&[("a.log", b"a\n")])[..], 3).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            open(&tz, true).unwrap(),
            Opened::Archive {
                compression: Compression::Zstd,
                ..
            }
        ));
    }

    #[test]
    fn members_are_streamed_in_order_and_links_skipped() {
        let tar = tar_of(&[("x/a.log", b"one\n"), ("../evil.log", b"two\n")]);
        let mut seen = Vec::new();
        let (read, err) = for_each_member(
            Box::new(std::io::Cursor::new(tar.clone())),
            Compression::None,
            |m, r| {
                let mut s = String::new();
                r.read_to_string(&mut s).unwrap();
                seen.push((m.path.clone(), s));
                Ok(())
            },
        );
        assert_eq!(err, None);
        assert_eq!(read, tar.len() as u64);
        assert_eq!(
            seen,
            [
                ("x/a.log".to_string(), "one\n".to_string()),
                ("../evil.log".into(), "two\n".into())
            ]
        );
    }

    /// A plain tar cut inside a member: the member says it was cut (tar's reader would just
    /// stop), and the archive names the offset where it ended.
    #[test]
    fn a_tar_cut_inside_a_member_fails_that_member_and_names_the_offset() {
        let tar = tar_of(&[("a.log", b"one\n"), ("b.log", &[b'x'; 2000])]);
        let cut = &tar[..512 * 3 + 700];
        let mut seen = Vec::new();
        let (read, err) = for_each_member(
            Box::new(std::io::Cursor::new(cut.to_vec())),
            Compression::None,
            |m, r| {
                let mut got = Vec::new();
                let e = r.read_to_end(&mut got).err().map(|e| e.to_string());
                seen.push((m.path.clone(), got.len(), e));
                Ok(())
            },
        );
        assert_eq!(
            seen,
            [
                ("a.log".to_string(), 4, None),
                (
                    "b.log".into(),
                    700,
                    Some("tar: the archive ends inside this member".into())
                )
            ]
        );
        assert_eq!(read, cut.len() as u64);
        let err = err.expect("the archive is cut");
        assert_eq!(err.offset, Some(cut.len() as u64));
        assert!(err.to_string().starts_with("tar: "), "{err}");
    }

    #[test]
    fn walk_is_sorted_and_reports_loops() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.log"), b"b").unwrap();
        std::fs::write(dir.path().join("a.log"), b"a").unwrap();
        std::fs::write(dir.path().join("sub/c.log"), b"c").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
        let got = expand(&[dir.path().to_path_buf()]);
        let names: Vec<_> = got
            .iter()
            .map(|r| match r {
                Ok(f) => f
                    .path
                    .strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                Err(p) => format!("ERR {}", p.error),
            })
            .collect();
        assert_eq!(names[..3], ["a.log", "b.log", "sub/c.log"]);
        #[cfg(unix)]
        assert_eq!(names[3], "ERR symbolic link loop (not followed)");
        let missing = expand(&[dir.path().join("nope")]);
        assert!(
            matches!(&missing[0], Err(p) if p.error.to_string() == "No such file or directory")
        );
    }
}
