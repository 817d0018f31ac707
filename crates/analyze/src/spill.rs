//! Rows that grow with the bundle (socket ends, drops, the keys drop attribution sorts),
//! kept in memory up to a bound and in an unnamed temporary file beyond it.
//!
//! A 50 GB bundle holds tens of millions of socket ends; held as rows until the tables are
//! written they were most of a run's peak memory. [`Spill`] keeps the newest rows in memory
//! ([`Spill::hold`] of them) and appends the older ones to a temporary file (created in the
//! system's temporary directory, `TMPDIR`; removed by the OS when the run ends, even on a
//! crash) in a compact binary form, and reads them back in order. [`SortedSpill`] is the
//! external sort the drop attribution needs: sorted runs of a bounded size, merged.
//!
//! A failed write (a full disk: likely, in the post-mortem of a full disk) does not stop
//! the run: the rows from there on are counted in [`Spill::lost`] and the first error is
//! kept ([`Spill::error`]); the report says how many were left out.
//!
//! ```
//! use coroner_analyze::spill::Spill;
//! let mut s: Spill<u64> = Spill::with_hold(2);
//! for n in 0..5u64 {
//!     s.push(n);
//! }
//! let back: Vec<u64> = s.iter().map(Result::unwrap).collect();
//! assert_eq!(back, [0, 1, 2, 3, 4]);
//! ```

use std::borrow::Borrow;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::Write;

/// Rows a [`Spill`] keeps in memory before writing them out, by default.
pub const DEFAULT_HOLD: usize = 1 << 15;
/// Keys a [`SortedSpill`] sorts in memory per run, by default.
pub const DEFAULT_RUN: usize = 1 << 20;
/// Bytes read from the file at a time (per run being merged, up to [`MERGE_BUFFERS`]).
const READ_BLOCK: usize = 256 << 10;
/// The read buffers of a merge of many runs share this much ([`READ_BLOCK`] each up to 32
/// runs), each at least [`MIN_READ_BLOCK`]: a merge of hundreds of runs (a timeline
/// spanning years) holds megabytes, not a quarter MiB per run.
const MERGE_BUFFERS: usize = 8 << 20;
const MIN_READ_BLOCK: usize = 16 << 10;
/// No record we write is longer (a socket end is at most ~400 bytes of text): a frame
/// claiming more is a damaged file, not a reason to allocate.
const MAX_FRAME: usize = 1 << 20;

/// A row that can be written to a spill file and read back.
pub trait Record: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    /// Read one row written by [`Record::encode`] (the whole of `input`).
    fn decode(input: &mut Reader<'_>) -> Option<Self>;
}

/// The reading side of a frame: little-endian fields in the order they were written.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader(bytes)
    }

    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(2)?.try_into().ok()?))
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    pub fn i64(&mut self) -> Option<i64> {
        Some(self.u64()? as i64)
    }

    pub fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(b)
    }

    /// A string written by [`put_str`].
    pub fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.bytes(n)?).ok()
    }

    /// Whether every byte of the frame was read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Step over what [`put_opt_str`] wrote, without checking that the text is UTF-8.
pub fn skip_opt_str(r: &mut Reader<'_>) -> Option<()> {
    match r.u8()? {
        0 => Some(()),
        1 => {
            let n = r.u32()? as usize;
            r.bytes(n).map(|_| ())
        }
        _ => None,
    }
}

/// `Option<i64>`: a tag byte, then the value.
pub fn put_opt_i64(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(v) => {
            out.push(1);
            put_u64(out, v as u64);
        }
        None => out.push(0),
    }
}

pub fn opt_i64(r: &mut Reader<'_>) -> Option<Option<i64>> {
    match r.u8()? {
        0 => Some(None),
        1 => Some(Some(r.i64()?)),
        _ => None,
    }
}

/// `Option<f64>` by its bits, so a value reads back identical (NaN included).
pub fn put_opt_f64(out: &mut Vec<u8>, v: Option<f64>) {
    put_opt_i64(out, v.map(|v| v.to_bits() as i64));
}

pub fn opt_f64(r: &mut Reader<'_>) -> Option<Option<f64>> {
    Some(opt_i64(r)?.map(|b| f64::from_bits(b as u64)))
}

pub fn put_opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

pub fn opt_str<'a>(r: &mut Reader<'a>) -> Option<Option<&'a str>> {
    match r.u8()? {
        0 => Some(None),
        1 => Some(Some(r.str()?)),
        _ => None,
    }
}

impl Record for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, *self);
    }

    fn decode(input: &mut Reader<'_>) -> Option<u64> {
        input.u64()
    }
}

/// The temporary file and what of it is good: rows are appended as length-prefixed frames,
/// read back with positioned reads (so two readers never share a cursor).
struct SpillFile {
    file: File,
    /// Bytes written completely (a failed write leaves a partial frame after this).
    len: u64,
}

impl SpillFile {
    fn create() -> std::io::Result<SpillFile> {
        Ok(SpillFile {
            file: tempfile::tempfile()?,
            len: 0,
        })
    }

    fn append(&mut self, frames: &[u8]) -> std::io::Result<()> {
        self.file.write_all(frames)?;
        self.len += frames.len() as u64;
        Ok(())
    }

    fn read_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, at)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, at)
        }
    }
}

/// Append `row` to `frames` as one frame: its length (u32), then its bytes. A caller that
/// encodes rows ahead (outside a lock, say) hands them over with [`Spill::append_frames`].
pub fn frame<T: Record>(row: &T, frames: &mut Vec<u8>) {
    frame_with(frames, |out| row.encode(out));
}

/// [`frame`] for a row that `encode` writes (one a [`Record`] decodes).
pub fn frame_with(frames: &mut Vec<u8>, encode: impl FnOnce(&mut Vec<u8>)) {
    let at = frames.len();
    frames.extend_from_slice(&[0; 4]);
    encode(frames);
    let len = (frames.len() - at - 4) as u32;
    frames[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Rows in order, the newest in memory and the rest in a temporary file. Rows are kept
/// encoded (as frames) in memory too: a row is a few dozen bytes that way, and frames
/// encoded elsewhere are appended by copying bytes.
pub struct Spill<T> {
    /// The newest rows' frames, after every row in the file.
    tail: Vec<u8>,
    tail_rows: usize,
    file: Option<SpillFile>,
    /// Rows in the file.
    spilled: u64,
    hold: usize,
    /// Rows that could not be written (after [`Spill::error`]); not in the spill.
    lost: u64,
    /// The first reason rows were lost (here or in a spill appended to this one).
    error: Option<String>,
    /// This spill's own file failed: later rows are only counted.
    broken: bool,
    row: std::marker::PhantomData<fn() -> T>,
}

impl<T> Default for Spill<T> {
    fn default() -> Spill<T> {
        Spill::with_hold(DEFAULT_HOLD)
    }
}

impl<T> std::fmt::Debug for Spill<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("rows", &self.len())
            .field("spilled", &self.spilled)
            .field("lost", &self.lost)
            .field("error", &self.error)
            .finish()
    }
}

impl<T> Spill<T> {
    /// A spill that keeps `hold` rows in memory (at least one) before writing them out.
    pub fn with_hold(hold: usize) -> Spill<T> {
        Spill {
            tail: Vec::new(),
            tail_rows: 0,
            file: None,
            spilled: 0,
            hold: hold.max(1),
            lost: 0,
            error: None,
            broken: false,
            row: std::marker::PhantomData,
        }
    }

    /// Count `n` rows as lost for `why` (the first reason is kept).
    pub fn note_lost(&mut self, n: u64, why: String) {
        self.lost += n;
        self.error.get_or_insert(why);
    }

    /// Rows kept (in memory and in the file).
    pub fn len(&self) -> u64 {
        self.spilled + self.tail_rows as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows in the temporary file (the rest are in memory).
    pub fn spilled(&self) -> u64 {
        self.spilled
    }

    /// Rows that could not be written to the temporary file, and so are not here.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// The first write error, if one made rows be lost.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Rows in memory before the next write.
    pub fn hold(&self) -> usize {
        self.hold
    }

    /// Append `rows` rows already encoded as frames by [`frame`] (whole frames only).
    pub fn append_frames(&mut self, frames: &[u8], rows: usize) {
        self.add(rows, |tail| tail.extend_from_slice(frames));
    }

    /// `rows` rows that `write` appends to the tail as frames; written out at the hold,
    /// only counted once the file has failed.
    fn add(&mut self, rows: usize, write: impl FnOnce(&mut Vec<u8>)) {
        if self.broken {
            self.lost += rows as u64;
            return;
        }
        write(&mut self.tail);
        self.tail_rows += rows;
        if self.tail_rows >= self.hold {
            self.write_tail();
        }
    }

    fn write_tail(&mut self) {
        let written = match &mut self.file {
            Some(f) => f.append(&self.tail),
            None => SpillFile::create().and_then(|mut f| {
                f.append(&self.tail)?;
                self.file = Some(f);
                Ok(())
            }),
        };
        match written {
            Ok(()) => self.spilled += self.tail_rows as u64,
            Err(e) => {
                self.broken = true;
                let n = self.tail_rows as u64;
                self.note_lost(n, format!("temporary file for rows beyond memory: {e}"));
            }
        }
        self.tail.clear();
        self.tail_rows = 0;
    }
}

impl<T: Record> Spill<T> {
    pub fn push(&mut self, row: T) {
        self.add(1, |tail| frame(&row, tail));
    }

    /// Append every row of `other` after this one's (taking its losses too).
    pub fn append(&mut self, mut other: Spill<T>) {
        if let Some(e) = other.error.take() {
            self.note_lost(other.lost, e);
        }
        let tail = std::mem::take(&mut other.tail);
        let tail_rows = other.tail_rows;
        if let Some(f) = other.file.take() {
            let len = f.len;
            for row in Frames::<_, T>::new(f, 0, len) {
                match row {
                    Ok(row) => self.push(row),
                    Err(e) => self.note_lost(1, e),
                }
            }
        }
        self.append_frames(&tail, tail_rows);
    }

    /// Every row in order (the file's, then memory's). A row that cannot be read back
    /// (the temporary file damaged under the run) is an error, and ends the iteration.
    pub fn iter(&self) -> impl Iterator<Item = Result<T, String>> + '_ {
        self.file
            .as_ref()
            .map(|f| Frames::new(f, 0, f.len))
            .into_iter()
            .flatten()
            .chain(decode_frames(&self.tail))
    }

    /// Every row's encoded bytes in order, handed to `f` (which reads them with a decoder
    /// that borrows, say: no row is made). Stops at the first error, `f`'s or a damaged
    /// temporary file's.
    pub fn visit(&self, mut f: impl FnMut(&[u8]) -> Result<(), String>) -> Result<(), String> {
        if let Some(file) = &self.file {
            let mut frames = Frames::<_, T>::new(file, 0, file.len);
            while let Some(body) = frames.next_body()? {
                f(&frames.buf[body])?;
            }
        }
        visit_frames(&self.tail, f)
    }

    /// Every row's encoded bytes in order, then the frames `after` (held in memory, as
    /// [`frame`] writes them), each turned by `f` into an item or skipped (`None`):
    /// [`Self::visit`] as an iterator, for reading several spills in step. Stops at the
    /// first error, `f`'s or a damaged temporary file's.
    pub fn rows_with<'s, K: 's>(
        &'s self,
        after: &'s [u8],
        mut f: impl FnMut(&[u8]) -> Result<Option<K>, String> + 's,
    ) -> impl Iterator<Item = Result<K, String>> + 's {
        let mut file = self
            .file
            .as_ref()
            .map(|file| Frames::<&SpillFile, T>::new(file, 0, file.len));
        // The frames in memory: the tail, then `after`; and where in them.
        let mut memory = [self.tail.as_slice(), after].into_iter();
        let mut frames: &[u8] = &[];
        let mut at = 0;
        let mut failed = false;
        std::iter::from_fn(move || {
            while !failed {
                let got = if let Some(from_file) = file.as_mut() {
                    match from_file.next_body() {
                        Ok(Some(body)) => f(&from_file.buf[body]),
                        Ok(None) => {
                            file = None;
                            continue;
                        }
                        Err(e) => Err(e),
                    }
                } else if at < frames.len() {
                    match memory_body(frames, at) {
                        Ok(body) => {
                            at = body.end;
                            f(&frames[body])
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    frames = memory.next()?;
                    at = 0;
                    continue;
                };
                match got {
                    Ok(Some(item)) => return Some(Ok(item)),
                    Ok(None) => continue,
                    Err(e) => {
                        failed = true;
                        return Some(Err(e));
                    }
                }
            }
            None
        })
    }

    /// Every row in order, by value.
    pub fn into_rows(self) -> impl Iterator<Item = Result<T, String>> {
        let Spill { tail, file, .. } = self;
        let from_file = file
            .map(|f| {
                let len = f.len;
                Frames::new(f, 0, len)
            })
            .into_iter()
            .flatten();
        let mut at = 0;
        let from_memory = std::iter::from_fn(move || {
            let (row, next) = decode_frame::<T>(&tail, at)?;
            at = next;
            Some(row)
        });
        from_file.chain(from_memory)
    }
}

/// The frame at `at` of frames held in memory, and where the next one starts; None at
/// the end. Frames in memory were written by this process, so a bad one is a bug, but it
/// is still an error, not a panic.
fn decode_frame<T: Record>(frames: &[u8], at: usize) -> Option<(Result<T, String>, usize)> {
    if at >= frames.len() {
        return None;
    }
    let body = match memory_body(frames, at) {
        Ok(body) => body,
        Err(e) => return Some((Err(e), frames.len())),
    };
    let mut r = Reader(&frames[body.clone()]);
    match T::decode(&mut r).filter(|_| r.is_empty()) {
        Some(row) => Some((Ok(row), body.end)),
        None => Some((
            Err(format!("spilled rows in memory: a bad row at byte {at}")),
            frames.len(),
        )),
    }
}

/// [`Spill::visit`] for frames held in memory.
pub fn visit_frames(
    frames: &[u8],
    mut f: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut at = 0;
    while at < frames.len() {
        let body = memory_body(frames, at)?;
        at = body.end;
        f(&frames[body])?;
    }
    Ok(())
}

/// Where the row bytes of the frame at `at` (not the end) are in `frames`.
fn memory_body(frames: &[u8], at: usize) -> Result<std::ops::Range<usize>, String> {
    let bad = || format!("spilled rows in memory: a bad frame at byte {at}");
    let len = frames.get(at..at + 4).ok_or_else(bad)?;
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    let body = at + 4..at + 4 + len;
    if body.end > frames.len() {
        return Err(bad());
    }
    Ok(body)
}

/// Every row of frames held in memory, in order.
pub fn decode_frames<T: Record>(frames: &[u8]) -> impl Iterator<Item = Result<T, String>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (row, next) = decode_frame(frames, at)?;
        at = next;
        Some(row)
    })
}

fn damaged(what: &str, at: u64) -> String {
    format!("temporary spill file: {what} at byte {at}")
}

/// Frames of one byte range of a spill file (borrowed or owned), decoded one by one.
struct Frames<F, T> {
    file: F,
    at: u64,
    end: u64,
    /// Bytes read at a time.
    block: usize,
    buf: Vec<u8>,
    /// Where the next frame starts in `buf`.
    start: usize,
    failed: bool,
    row: std::marker::PhantomData<fn() -> T>,
}

impl<F: Borrow<SpillFile>, T: Record> Frames<F, T> {
    fn new(file: F, at: u64, end: u64) -> Frames<F, T> {
        Frames::with_block(file, at, end, READ_BLOCK)
    }

    /// Frames read `block` bytes at a time (a frame longer than that is still read whole).
    fn with_block(file: F, at: u64, end: u64, block: usize) -> Frames<F, T> {
        Frames {
            file,
            at,
            end,
            block: block.max(1),
            buf: Vec::new(),
            start: 0,
            failed: false,
            row: std::marker::PhantomData,
        }
    }

    /// The next frame, the buffer refilled from the file when it holds no whole frame.
    /// `Ok(None)` at the end of the range.
    fn next_frame(&mut self) -> Result<Option<T>, String> {
        let Some(body) = self.next_body()? else {
            return Ok(None);
        };
        let mut r = Reader(&self.buf[body]);
        let row = T::decode(&mut r).filter(|_| r.is_empty());
        row.map(Some)
            .ok_or_else(|| damaged("a row that does not read back", self.at))
    }

    /// Where the next frame's row bytes are in `buf`; `Ok(None)` at the end of the range.
    fn next_body(&mut self) -> Result<Option<std::ops::Range<usize>>, String> {
        loop {
            let have = &self.buf[self.start..];
            if have.len() >= 4 {
                let len = u32::from_le_bytes(have[..4].try_into().expect("4 bytes")) as usize;
                if len > MAX_FRAME {
                    return Err(damaged("a frame longer than any row", self.at));
                }
                if have.len() >= 4 + len {
                    let body = self.start + 4..self.start + 4 + len;
                    self.start += 4 + len;
                    return Ok(Some(body));
                }
            }
            if self.at >= self.end {
                return if have.is_empty() {
                    Ok(None)
                } else {
                    Err(damaged("a cut frame", self.at))
                };
            }
            // Keep the partial frame, read the next block after it.
            self.buf.drain(..self.start);
            self.start = 0;
            let old = self.buf.len();
            let want = self.block.min((self.end - self.at) as usize);
            self.buf.resize(old + want, 0);
            let n = self
                .file
                .borrow()
                .read_at(&mut self.buf[old..], self.at)
                .map_err(|e| damaged(&e.to_string(), self.at))?;
            self.buf.truncate(old + n);
            if n == 0 {
                return Err(damaged("the file ended early", self.at));
            }
            self.at += n as u64;
        }
    }
}

impl<F: Borrow<SpillFile>, T: Record> Iterator for Frames<F, T> {
    type Item = Result<T, String>;

    fn next(&mut self) -> Option<Result<T, String>> {
        if self.failed {
            return None;
        }
        let got = self.next_frame();
        self.failed = got.is_err();
        got.transpose()
    }
}

/// Keys in their order, however many: runs of [`DEFAULT_RUN`] keys sorted in memory and
/// written to one temporary file, merged when read (an external merge sort). Equal keys
/// come out in the order they were pushed.
pub struct SortedSpill<T> {
    buf: Vec<T>,
    run: usize,
    /// Keys pushed (written, held or lost).
    pushed: u64,
    /// The last key written, to tell whether the next run carries on from it.
    last: Option<T>,
    file: Option<SpillFile>,
    /// Byte ranges of the sorted runs in the file. A run that starts at or above the last
    /// key of the run before it (keys pushed in order: a timeline's buckets of a log in
    /// time order) extends that run's range, so they are read as one.
    runs: Vec<(u64, u64)>,
    lost: u64,
    error: Option<String>,
}

impl<T> std::fmt::Debug for SortedSpill<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SortedSpill")
            .field("runs", &self.runs.len())
            .field("held", &self.buf.len())
            .field("lost", &self.lost)
            .field("error", &self.error)
            .finish()
    }
}

impl<T: Record + Ord> Default for SortedSpill<T> {
    fn default() -> SortedSpill<T> {
        SortedSpill::with_run(DEFAULT_RUN)
    }
}

impl<T: Record + Ord> SortedSpill<T> {
    /// Sort `run` keys at a time in memory (at least one).
    pub fn with_run(run: usize) -> SortedSpill<T> {
        SortedSpill {
            buf: Vec::new(),
            run: run.max(1),
            pushed: 0,
            last: None,
            file: None,
            runs: Vec::new(),
            lost: 0,
            error: None,
        }
    }

    pub fn push(&mut self, key: T) {
        self.pushed += 1;
        if self.error.is_some() {
            self.lost += 1;
            return;
        }
        self.buf.push(key);
        if self.buf.len() >= self.run {
            self.write_run();
        }
    }

    /// Keys that could not be written, and so will not come out.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Write the keys held in memory as a run of their own, now (a caller that pushes in
    /// batches makes each batch one run, and holds none of it after).
    pub fn flush(&mut self) {
        if !self.buf.is_empty() && self.error.is_none() {
            self.write_run();
        }
    }

    /// Keys pushed, the lost ones included.
    pub fn len(&self) -> u64 {
        self.pushed
    }

    fn write_run(&mut self) {
        // Stable: equal keys keep their push order within a run, and runs merge in order.
        self.buf.sort();
        let mut frames = Vec::with_capacity(self.buf.len() * 48);
        for key in &self.buf {
            frame(key, &mut frames);
        }
        let file = match &mut self.file {
            Some(f) => Ok(f),
            None => SpillFile::create().map(|f| self.file.insert(f)),
        };
        let start = file.as_ref().map_or(0, |f| f.len);
        // Equal keys may join too: the earlier run's come first either way.
        let carries_on = match (&self.last, self.buf.first()) {
            (Some(last), Some(first)) => first >= last,
            _ => false,
        };
        match file.and_then(|f| f.append(&frames)) {
            Ok(()) => {
                let end = start + frames.len() as u64;
                match self.runs.last_mut() {
                    Some(run) if carries_on && run.1 == start => run.1 = end,
                    _ => self.runs.push((start, end)),
                }
            }
            Err(e) => {
                self.error = Some(format!("temporary file for sorting: {e}"));
                self.lost += self.buf.len() as u64;
            }
        }
        self.last = self.buf.pop();
        self.buf.clear();
    }

    /// Every key pushed, in order.
    pub fn into_sorted(self) -> Sorted<'static, T> {
        self.into_sorted_with(Vec::new())
    }

    /// Every key pushed and every key of `sorted` (streams each already in order), in
    /// order: the streams are merged in step with the runs, never written.
    pub fn into_sorted_with<'a>(mut self, sorted: Vec<KeyStream<'a, T>>) -> Sorted<'a, T> {
        self.buf.sort();
        let block = merge_block(self.runs.len());
        let file = self.file.map(std::rc::Rc::new);
        let mut runs: Vec<RunSource<T>> = self
            .runs
            .iter()
            .map(|&(start, end)| {
                let f = file.clone().expect("a run was written to the file");
                RunSource::File(Frames::with_block(f, start, end, block))
            })
            .collect();
        runs.push(RunSource::Memory(self.buf.into_iter()));
        runs.extend(sorted.into_iter().map(RunSource::Stream));
        Sorted::merging(runs)
    }

    /// [`SortedSpill::into_sorted_with`] without taking the spill, which can be read again:
    /// the keys not yet written are copied.
    pub fn sorted_with<'a>(&'a self, sorted: Vec<KeyStream<'a, T>>) -> Sorted<'a, T>
    where
        T: Clone + 'a,
    {
        let mut held = self.buf.clone();
        held.sort();
        let mut runs: Vec<RunSource<T>> = Vec::with_capacity(self.runs.len() + 1 + sorted.len());
        if let Some(file) = &self.file {
            let block = merge_block(self.runs.len());
            for &(start, end) in &self.runs {
                let keys: Frames<&SpillFile, T> = Frames::with_block(file, start, end, block);
                runs.push(RunSource::Stream(Box::new(keys)));
            }
        }
        runs.push(RunSource::Memory(held.into_iter()));
        runs.extend(sorted.into_iter().map(RunSource::Stream));
        Sorted::merging(runs)
    }

    /// Whether nothing was pushed (written, held or lost).
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }
}

/// The read block of each of `runs` runs merged at once (see [`MERGE_BUFFERS`]).
fn merge_block(runs: usize) -> usize {
    (MERGE_BUFFERS / runs.max(1)).clamp(MIN_READ_BLOCK, READ_BLOCK)
}

/// Keys in order, from elsewhere than a [`SortedSpill`] (see
/// [`SortedSpill::into_sorted_with`]).
pub type KeyStream<'a, T> = Box<dyn Iterator<Item = Result<T, String>> + 'a>;

enum RunSource<'a, T> {
    File(Frames<std::rc::Rc<SpillFile>, T>),
    Memory(std::vec::IntoIter<T>),
    Stream(KeyStream<'a, T>),
}

/// The merge of a [`SortedSpill`]'s runs (and of streams in order beside them).
pub struct Sorted<'a, T> {
    runs: Vec<RunSource<'a, T>>,
    /// The next key of each run that has one, and the run's index (earlier runs first
    /// among equal keys).
    heap: BinaryHeap<std::cmp::Reverse<(T, usize)>>,
    failed: bool,
    first_error: Option<String>,
}

impl<'a, T: Record + Ord> Sorted<'a, T> {
    /// Streams each in order, merged (equal keys: the earlier stream's first).
    pub fn of(streams: Vec<KeyStream<'a, T>>) -> Sorted<'a, T> {
        Sorted::merging(streams.into_iter().map(RunSource::Stream).collect())
    }

    fn merging(runs: Vec<RunSource<'a, T>>) -> Sorted<'a, T> {
        let mut sorted = Sorted {
            runs,
            heap: BinaryHeap::new(),
            failed: false,
            first_error: None,
        };
        for i in 0..sorted.runs.len() {
            sorted.refill(i);
        }
        sorted
    }

    fn refill(&mut self, i: usize) {
        let next = match &mut self.runs[i] {
            RunSource::File(frames) => frames.next(),
            RunSource::Memory(keys) => keys.next().map(Ok),
            RunSource::Stream(keys) => keys.next(),
        };
        match next {
            Some(Ok(key)) => self.heap.push(std::cmp::Reverse((key, i))),
            Some(Err(e)) => {
                self.first_error.get_or_insert(e);
            }
            None => {}
        }
    }
}

impl<T: Record + Ord> Iterator for Sorted<'_, T> {
    type Item = Result<T, String>;

    fn next(&mut self) -> Option<Result<T, String>> {
        if self.failed {
            return None;
        }
        if let Some(e) = self.first_error.take() {
            self.failed = true;
            return Some(Err(e));
        }
        let std::cmp::Reverse((key, run)) = self.heap.pop()?;
        self.refill(run);
        Some(Ok(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Row {
        key: u8,
        text: Option<String>,
        n: Option<i64>,
    }

    impl Record for Row {
        fn encode(&self, out: &mut Vec<u8>) {
            out.push(self.key);
            put_opt_str(out, self.text.as_deref());
            put_opt_i64(out, self.n);
        }

        fn decode(r: &mut Reader<'_>) -> Option<Row> {
            Some(Row {
                key: r.u8()?,
                text: opt_str(r)?.map(str::to_string),
                n: opt_i64(r)?,
            })
        }
    }

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        proptest::collection::vec(
            (
                0u8..4,
                proptest::option::of("[a-z\u{e9}]{0,40}"),
                proptest::option::of(any::<i64>()),
            )
                .prop_map(|(key, text, n)| Row { key, text, n }),
            0..300,
        )
    }

    proptest! {
        /// Whatever the hold, the rows read back are the rows pushed, in order, by
        /// reference and by value, also after appending one spill to another.
        #[test]
        fn a_spill_reads_back_what_was_pushed(rows in rows(), hold in 1usize..50, cut in 0usize..300) {
            let mut s = Spill::with_hold(hold);
            let cut = cut.min(rows.len());
            for r in &rows[..cut] {
                s.push(r.clone());
            }
            let mut rest = Spill::with_hold(hold + 3);
            for r in &rows[cut..] {
                rest.push(r.clone());
            }
            s.append(rest);
            prop_assert_eq!(s.len(), rows.len() as u64);
            let back: Vec<Row> = s.iter().map(Result::unwrap).collect();
            prop_assert_eq!(&back, &rows);
            let mut visited = Vec::new();
            s.visit(|bytes| {
                let mut r = Reader::new(bytes);
                visited.push(Row::decode(&mut r).filter(|_| r.is_empty()).ok_or("bad row")?);
                Ok(())
            })
            .unwrap();
            prop_assert_eq!(&visited, &rows);
            let owned: Vec<Row> = s.into_rows().map(Result::unwrap).collect();
            prop_assert_eq!(owned, rows);
        }

        /// `rows_with` gives what `visit` gives, file, tail and the frames after them, in
        /// order, and skips what its function skips.
        #[test]
        fn rows_with_reads_as_visit(rows in rows(), hold in 1usize..50, after in rows()) {
            let mut s = Spill::with_hold(hold);
            for r in &rows {
                s.push(r.clone());
            }
            let mut frames = Vec::new();
            for r in &after {
                frame(r, &mut frames);
            }
            let every: Vec<Row> = rows.iter().chain(&after).cloned().collect();
            let decode = |bytes: &[u8]| {
                let mut r = Reader::new(bytes);
                Row::decode(&mut r).filter(|_| r.is_empty()).ok_or("bad row".to_string())
            };
            let got: Vec<Row> = s.rows_with(&frames, |b| decode(b).map(Some)).map(Result::unwrap).collect();
            prop_assert_eq!(&got, &every);
            let odd: Vec<Row> = s
                .rows_with(&frames, |b| decode(b).map(|r| Some(r).filter(|r| r.key % 2 == 1)))
                .map(Result::unwrap)
                .collect();
            let want: Vec<Row> = every.iter().filter(|r| r.key % 2 == 1).cloned().collect();
            prop_assert_eq!(odd, want);
        }

        /// Keys split between the sorted spill and streams already in order come out
        /// as one sort of them all.
        #[test]
        fn sorted_streams_merge_with_the_runs(
            keys in proptest::collection::vec((0u16..500, 0u8..4), 0..300),
            run in 1usize..40,
        ) {
            #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
            struct Key(u16, u32);
            impl Record for Key {
                fn encode(&self, out: &mut Vec<u8>) {
                    out.extend(self.0.to_le_bytes());
                    out.extend(self.1.to_le_bytes());
                }
                fn decode(r: &mut Reader<'_>) -> Option<Key> {
                    Some(Key(r.u16()?, r.u32()?))
                }
            }
            // Unique keys (the second half is the place), each to the spill (0) or to
            // stream 1..4, whose keys are then put in order.
            let keys: Vec<(Key, u8)> =
                keys.iter().enumerate().map(|(i, &(k, to))| (Key(k, i as u32), to)).collect();
            let mut s = SortedSpill::with_run(run);
            let mut streams: Vec<Vec<Key>> = vec![Vec::new(); 4];
            for &(k, to) in &keys {
                if to == 0 {
                    s.push(k);
                } else {
                    streams[to as usize].push(k);
                }
            }
            let streams: Vec<KeyStream<'_, Key>> = streams
                .into_iter()
                .map(|mut v| {
                    v.sort();
                    Box::new(v.into_iter().map(Ok)) as KeyStream<'_, Key>
                })
                .collect();
            let got: Vec<Key> = s.into_sorted_with(streams).map(Result::unwrap).collect();
            let mut want: Vec<Key> = keys.iter().map(|&(k, _)| k).collect();
            want.sort();
            prop_assert_eq!(got, want);
        }

        /// The external sort equals a stable in-memory sort for any run length.
        #[test]
        fn sorted_spill_is_a_stable_sort(rows in rows(), run in 1usize..40) {
            // Order by key only, so that equal keys show whether push order is kept.
            #[derive(Clone, Debug, PartialEq, Eq)]
            struct ByKey(Row);
            impl PartialOrd for ByKey {
                fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                    Some(self.cmp(o))
                }
            }
            impl Ord for ByKey {
                fn cmp(&self, o: &Self) -> std::cmp::Ordering {
                    self.0.key.cmp(&o.0.key)
                }
            }
            impl Record for ByKey {
                fn encode(&self, out: &mut Vec<u8>) {
                    self.0.encode(out)
                }
                fn decode(r: &mut Reader<'_>) -> Option<ByKey> {
                    Row::decode(r).map(ByKey)
                }
            }
            // As they come, and sorted by key first (every run then carries on from the
            // one before, equal keys across runs included).
            let mut by_key = rows.clone();
            by_key.sort_by_key(|r| r.key);
            for rows in [rows, by_key] {
                let mut s = SortedSpill::with_run(run);
                for r in &rows {
                    s.push(ByKey(r.clone()));
                }
                let got: Vec<Row> = s.into_sorted().map(|k| k.unwrap().0).collect();
                let mut want = rows.clone();
                want.sort_by_key(|r| r.key);
                prop_assert_eq!(got, want);
            }
        }
    }

    /// Keys pushed in order, or nearly (a run now and then starting below the last one):
    /// runs that carry on from the one before are read as one range, and the merge is still
    /// a stable sort, read whole or borrowed.
    #[test]
    fn runs_in_order_are_read_as_one() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for (run, disorder) in [(1, 0), (3, 0), (7, 0), (5, 9), (16, 4), (2, 3)] {
            let mut s = SortedSpill::with_run(run);
            let mut want = Vec::new();
            for i in 0..500u64 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // Ties (i / 3) and, with disorder, a key now and then far back.
                let key = if disorder > 0 && rng % 50 < disorder {
                    rng % 100
                } else {
                    i / 3
                };
                s.push(key);
                want.push(key);
                if i % 37 == 0 {
                    s.flush();
                }
            }
            want.sort();
            if disorder == 0 {
                assert_eq!(s.runs.len(), 1, "run {run}");
            } else {
                assert!(s.runs.len() > 1, "run {run}, disorder {disorder}");
            }
            let borrowed: Vec<u64> = s.sorted_with(Vec::new()).map(Result::unwrap).collect();
            assert_eq!(borrowed, want, "run {run}, disorder {disorder}");
            let taken: Vec<u64> = s.into_sorted().map(Result::unwrap).collect();
            assert_eq!(taken, want, "run {run}, disorder {disorder}");
        }
    }

    /// A file that cannot be written (a full disk) loses the rows from there on, counted,
    /// with the first error kept; rows already written read back, and appending the
    /// broken spill to a good one carries its count and error over.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_failed_write_counts_the_rows_it_lost() {
        use std::os::fd::AsRawFd;
        let mut s: Spill<u64> = Spill::with_hold(2);
        s.push(1);
        s.push(2);
        // The same file opened again read-only: reads work, the next write fails as a full
        // disk's would.
        let f = s.file.as_mut().unwrap();
        f.file = File::open(format!("/proc/self/fd/{}", f.file.as_raw_fd())).unwrap();
        for n in 3..8 {
            s.push(n);
        }
        assert_eq!((s.len(), s.lost()), (2, 5));
        let error = s.error().unwrap().to_string();
        assert!(
            error.starts_with("temporary file for rows beyond memory: "),
            "{error}"
        );
        assert_eq!(s.iter().map(Result::unwrap).collect::<Vec<_>>(), [1, 2]);
        let mut good: Spill<u64> = Spill::default();
        good.push(0);
        good.append(s);
        assert_eq!((good.len(), good.lost()), (3, 5));
        assert_eq!(good.error(), Some(error.as_str()));
        good.push(9);
        assert_eq!(good.len(), 4, "the good spill still takes rows");
    }

    /// A damaged file is an error naming the spill and the byte, not a panic or a huge
    /// allocation.
    #[test]
    fn a_damaged_frame_is_an_error() {
        let mut s: Spill<u64> = Spill::with_hold(1);
        s.push(7);
        s.push(8);
        let f = s.file.as_mut().unwrap();
        f.append(&u32::MAX.to_le_bytes()).unwrap();
        let got: Vec<_> = s.iter().collect();
        assert_eq!(got[..2], [Ok(7), Ok(8)]);
        assert_eq!(
            got[2],
            Err("temporary spill file: a frame longer than any row at byte 28".to_string())
        );
        assert_eq!(got.len(), 3);
    }
}
