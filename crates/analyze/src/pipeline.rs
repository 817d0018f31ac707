//! The one pass: every input is read once, cut into record-aligned chunks, and the chunks
//! are folded by parallel workers into mergeable accumulators.
//!
//! ```text
//!  producers (std threads, one input at a time each)        workers (rayon pool, --threads)
//!  plain file ──mmap──> cut at record boundaries ─┐
//!  .gz/.zst ──decode──> owned, record-aligned buf ─┼─ bounded channel ──> frame + view + fold
//!  tar(.gz/.zst) ─member by member──> (as above) ─┘                        into ChunkOut
//! ```
//!
//! Producers are plain threads, not rayon tasks, so a producer blocked on the bounded channel
//! can never starve the workers that would drain it, whatever `--threads` is. Every chunk
//! carries its source id and sequence number; results fold into their source's accumulator
//! in sequence order as they arrive, so the result is identical for 1 and N threads and for
//! any chunk size, and memory holds one accumulator per source, not one per chunk.

use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use coroner_parse::decode::Compression;
use coroner_parse::detect::detect_envelope;
use coroner_parse::envelope::view;
use coroner_parse::error::{Error, ErrorKind};
use coroner_parse::format::{Envelope, Payload};
use coroner_parse::formats::{json::RawStr, nginx_format};
use coroner_parse::frame::{Frames, Framing, SpanKind, complete_prefix, cut_after};
use coroner_parse::input::{self, Data, InputFile, Opened};
use coroner_parse::payload::{Parsed, PayloadParser, record_time};
use coroner_parse::timestamp::{TimeContext, YearHint, first_syslog_month};
use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::analyses::{Analyses, Analyzer};
use crate::config::RunConfig;
use crate::event::Event;
use crate::pattern_share::{PatternCounts, PatternSet};
use crate::request_cache::RequestCache;
use crate::stats::SourceStats;
use crate::templates::KeyCounts;

/// How much room a stream's buffer grows by when it has none left to read into.
const READ_STEP: usize = 1 << 20;

/// How much of a source's start decides its envelope.
pub const DETECT_HEAD: usize = 64 << 10;

/// Sources sort by input (argument and walk order), then by member within an archive
/// (0 is the file or archive itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId {
    pub input: u32,
    pub member: u32,
}

/// Everything known about one source after the pass: one row of `sources.parquet`.
#[derive(Debug)]
pub struct SourceReport {
    pub id: SourceId,
    pub name: String,
    /// None for an archive's own row.
    pub envelope: Option<Envelope>,
    /// `none`, `gzip`, `zstd`; `tar`, `tar+gzip` for archive members (see docs/reports.md).
    pub compression: String,
    pub stored_bytes: Option<u64>,
    /// Modification time of the file or archive member (Unix seconds), when known: what
    /// dates a socket capture (`captured_at`).
    pub mtime: Option<i64>,
    pub stats: SourceStats,
    /// Matches per pattern of the run (`pattern_share.parquet`); empty without patterns.
    pub patterns: PatternCounts,
    /// Masked messages and their counts, mined into `templates.parquet` after the pass.
    pub keys: KeyCounts,
    /// The incident analyses' state (bursts, findings, socket ends, ...).
    pub analyses: Analyses,
    pub error: Option<Error>,
    /// An archive's own row: its members are the rows that follow it.
    pub archive: bool,
}

impl SourceReport {
    /// The `format` column: envelope, and `/payload` when one payload dominates.
    pub fn format(&self) -> String {
        if self.archive {
            return "tar".into();
        }
        match self.envelope {
            None => "unknown".into(),
            Some(env) => match self.stats.dominant_payload() {
                Some(p) if env.has_payload() => format!("{}/{}", env.id(), p.id()),
                _ => env.id().into(),
            },
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct RunResult {
    pub sources: Vec<SourceReport>,
}

impl RunResult {
    pub fn had_errors(&self) -> bool {
        self.sources.iter().any(|s| s.error.is_some())
    }

    /// The sources read as logs, in `sources.parquet` order: every row but an archive's
    /// own. Drop rows count their `source` among these.
    pub fn streams(&self) -> impl Iterator<Item = &SourceReport> {
        self.sources.iter().filter(|s| !s.archive)
    }
}

/// What a worker needs to know about the source a chunk came from.
struct SourceCtx {
    id: SourceId,
    envelope: Envelope,
    framing: Framing,
    time: TimeContext,
    max_line: usize,
}

enum ChunkData {
    Mapped(Arc<Data>, Range<usize>),
    Owned(Vec<u8>),
}

struct Job {
    ctx: Arc<SourceCtx>,
    seq: u64,
    /// Offset of the chunk in the source's (decompressed) bytes.
    base: u64,
    data: ChunkData,
}

struct ChunkOut {
    source: SourceId,
    seq: u64,
    stats: SourceStats,
    patterns: PatternCounts,
    keys: KeyCounts,
    analyses: Analyses,
    /// A record longer than the cap started at this source offset: the source ends there.
    too_long_at: Option<u64>,
}

/// What a producer learned about a source while reading it.
struct SourceMeta {
    id: SourceId,
    name: String,
    envelope: Option<Envelope>,
    compression: String,
    stored_bytes: Option<u64>,
    mtime: Option<i64>,
    error: Option<Error>,
    /// For an archive's own row: its stream bytes and the part that is tar headers/padding.
    archive: Option<(u64, u64)>,
}

/// Read every input once and account for every byte.
pub fn run(paths: &[PathBuf], config: &RunConfig, progress: &(dyn Fn(u64) + Sync)) -> RunResult {
    let threads = config.threads.max(1);
    let patterns = PatternSet::new(&config.patterns, config.pattern_mode)
        .unwrap_or_else(|_| PatternSet::new(&[], config.pattern_mode).expect("empty set"));
    let patterns = &patterns;
    // Validated by the caller like the patterns: a format that does not compile is ignored.
    let nginx = config
        .nginx_format
        .as_deref()
        .and_then(|f| nginx_format::compile(f).ok());
    let nginx = nginx.as_ref();
    let analyzer = config.analyses.then(|| Analyzer::new(&config.analysis));
    let analyzer = analyzer.as_ref();
    let inputs = input::expand(paths);
    let metas = Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::bounded::<Job>(threads * 2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");

    let merger = Merger::default();
    let buffers = BufferPool::new(config.chunk_size);
    let buffers = &buffers;
    std::thread::scope(|scope| {
        for _ in 0..threads.min(inputs.len()).max(1) {
            let tx = tx.clone();
            let (inputs, metas, next) = (&inputs, &metas, &next);
            scope.spawn(move || {
                let producer = Producer {
                    config,
                    tx: &tx,
                    pool: buffers,
                };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = inputs.get(i) else { break };
                    let found = match item {
                        Ok(file) => producer.input(i as u32, file),
                        Err(problem) => vec![SourceMeta {
                            id: SourceId {
                                input: i as u32,
                                member: 0,
                            },
                            name: problem.name.clone(),
                            envelope: None,
                            compression: "none".into(),
                            stored_bytes: None,
                            mtime: None,
                            error: Some(problem.error.clone()),
                            archive: None,
                        }],
                    };
                    metas
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(found);
                }
            });
        }
        drop(tx);
        pool.install(|| {
            // One request cache per worker, kept from chunk to chunk: a log asks for the
            // same URLs all day, and a key found in one chunk need not be built again in
            // the next. What the cache holds changes no count, so neither does which
            // worker took which chunk.
            rx.into_iter()
                .par_bridge()
                .for_each_init(RequestCache::new, |cache, job| {
                    let out = process(&job, patterns, config, nginx, analyzer, cache);
                    match job.data {
                        ChunkData::Mapped(map, range) => map.release(range),
                        ChunkData::Owned(buf) => buffers.give(buf),
                    }
                    progress(out.stats.bytes);
                    merger.push(out);
                })
        })
    });

    let merged = merger.into_folded();
    let mut metas = metas.into_inner().unwrap_or_else(|e| e.into_inner());
    metas.sort_unstable_by_key(|m| m.id);
    let mut sources = assemble(metas, merged, config.max_line as u64);
    // Derived findings (silence) need the bundle's last record time.
    let bundle_end = sources
        .iter()
        .filter(|s| !s.archive)
        .filter_map(|s| s.stats.last_ts)
        .max();
    for s in &mut sources {
        s.analyses.finish(&s.name, bundle_end);
    }
    RunResult { sources }
}

/// Chunk results folded into one accumulator per source as they arrive, in sequence
/// order: a chunk that comes early waits in `pending` (a few at most: the channel is
/// bounded), so memory holds one accumulator per source, not every chunk of the run, and
/// the fold is the same for any thread count.
///
/// Each source has a lock of its own: folding a chunk of socket ends or TIME_WAIT groups
/// takes a while, and under one lock for the run the other workers waited for it even
/// when their chunk was another source's (6.4 s of waiting in a 50 GB run).
#[derive(Default)]
struct Merger {
    sources: Mutex<HashMap<SourceId, Arc<Mutex<Folded>>>>,
}

#[derive(Default)]
struct Folded {
    next: u64,
    pending: std::collections::BTreeMap<u64, ChunkOut>,
    stats: SourceStats,
    patterns: PatternCounts,
    keys: KeyCounts,
    analyses: Analyses,
    /// A too-long record stopped the source here; later chunks are not counted.
    too_long_at: Option<u64>,
}

impl Merger {
    fn push(&self, out: ChunkOut) {
        let source = {
            let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
            sources.entry(out.source).or_default().clone()
        };
        let mut guard = source.lock().unwrap_or_else(|e| e.into_inner());
        let f = &mut *guard;
        f.pending.insert(out.seq, out);
        while let Some(out) = f.pending.remove(&f.next) {
            f.next += 1;
            if f.too_long_at.is_some() {
                continue;
            }
            f.stats.merge(&out.stats);
            f.patterns.merge(&out.patterns);
            f.keys.merge(&out.keys);
            f.analyses.merge(out.analyses);
            f.too_long_at = out.too_long_at;
        }
    }

    /// Every source's accumulator, once the workers are done.
    fn into_folded(self) -> HashMap<SourceId, Folded> {
        let sources = self.sources.into_inner().unwrap_or_else(|e| e.into_inner());
        sources
            .into_iter()
            .map(|(id, folded)| {
                // The workers are gone, so no other handle is left; were one left, taking
                // the contents would still be right.
                let folded = Arc::try_unwrap(folded)
                    .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
                    .unwrap_or_else(|shared| {
                        std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner()))
                    });
                (id, folded)
            })
            .collect()
    }
}

/// One report per source: what its producer learned and what its chunks folded into.
fn assemble(
    metas: Vec<SourceMeta>,
    mut merged: HashMap<SourceId, Folded>,
    cap: u64,
) -> Vec<SourceReport> {
    let mut reports = Vec::with_capacity(metas.len());
    for meta in metas {
        let folded = merged.remove(&meta.id).unwrap_or_default();
        let mut stats = folded.stats;
        let pattern_counts = folded.patterns;
        let mut keys = folded.keys;
        let analyses = folded.analyses;
        let mut error = meta.error;
        if let Some(at) = folded.too_long_at {
            error = Some(Error::at(ErrorKind::LineTooLong { cap }, at));
        }
        let archive = meta.archive.is_some();
        if let Some((tar_bytes, headers)) = meta.archive {
            stats.meta(headers as usize);
            stats.bytes = tar_bytes;
            keys = KeyCounts::default();
        }
        stats.finish(meta.envelope == Some(Envelope::Plain));
        reports.push(SourceReport {
            id: meta.id,
            name: meta.name,
            envelope: meta.envelope,
            compression: meta.compression,
            stored_bytes: meta.stored_bytes,
            mtime: meta.mtime,
            stats,
            patterns: pattern_counts,
            keys,
            analyses,
            error,
            archive,
        });
    }
    reports
}

/// A docker `log` value ends with the line's own `\n` (`\r\n` from a terminal).
fn trim_line_end(m: &[u8]) -> &[u8] {
    let m = m.strip_suffix(b"\n").unwrap_or(m);
    m.strip_suffix(b"\r").unwrap_or(m)
}

/// Frame a chunk into records and fold them.
fn process(
    job: &Job,
    patterns: &PatternSet,
    config: &RunConfig,
    nginx: Option<&nginx_format::NginxFormat>,
    analyzer: Option<&Analyzer>,
    request_cache: &mut RequestCache,
) -> ChunkOut {
    let data: &[u8] = match &job.data {
        ChunkData::Mapped(map, range) => &map[range.clone()],
        ChunkData::Owned(v) => v,
    };
    let ctx = &*job.ctx;
    let templates = config.templates;
    let mut stats = SourceStats::default();
    let mut counts = PatternCounts::new(patterns.len());
    let mut keys = KeyCounts::default();
    let mut analyses = Analyses::default();
    let mut mask_buf = Vec::new();
    request_cache.begin_chunk();
    let mut parser = PayloadParser::new(ctx.time.offset_secs, nginx);
    // A JSON envelope hands out its message still escaped (`\"` for `"`): the payload
    // parsers read the unescaped text, decoded into this buffer only when needed.
    let json_envelope = matches!(ctx.envelope, Envelope::JournaldJson | Envelope::DockerJson);
    let mut unescaped = Vec::new();
    // Lines are matched chunk-wide after framing (grep's unit is the physical line);
    // export entries one by one, as stored.
    let per_entry = ctx.framing == Framing::JournaldExport && !patterns.is_empty();
    let mut scanned = data.len();
    let mut too_long_at = None;
    let detect = ctx.envelope.has_payload();
    let capture = ctx.envelope.is_capture();
    for span in Frames::new(ctx.framing, data, true, ctx.max_line) {
        let span = match span {
            Ok(span) => span,
            Err(e) => {
                too_long_at = Some(job.base + e.start as u64);
                scanned = e.start;
                break;
            }
        };
        let bytes = &data[span.start..span.end];
        let offset = job.base + span.start as u64;
        if per_entry && span.kind != SpanKind::Meta {
            patterns.count_record(bytes, &mut counts);
        }
        match span.kind {
            // Its bytes are all `share` needs (its patterns are matched above, or over the
            // chunk's lines below).
            SpanKind::Record if !config.read_records => stats.unread(bytes.len()),
            SpanKind::Record => {
                if capture && analyzer.is_some() {
                    let line = coroner_parse::envelope::trim_newline(bytes);
                    if ctx.envelope == Envelope::PortRange {
                        analyses.port_range = crate::captures::port_range(bytes);
                    } else {
                        analyses.captures.observe_line(ctx.envelope, line);
                    }
                }
                let v = view(ctx.envelope, bytes, &ctx.time);
                if (!v.parsed || capture)
                    && let Some(a) = analyzer
                {
                    analyses.observe_other(a, v.ts, bytes.len() as u64, offset);
                }
                if !v.parsed {
                    stats.unparsed(bytes.len(), v.ts);
                    if templates {
                        keys.add(v.message, bytes.len() as u64, v.ts, &mut mask_buf);
                    }
                    continue;
                }
                let message = if json_envelope && memchr::memchr(b'\\', v.message).is_some() {
                    unescaped.clear();
                    RawStr::from_raw(v.message).unescape_into(&mut unescaped);
                    trim_line_end(&unescaped)
                } else {
                    trim_line_end(v.message)
                };
                // Kept whole and borrowed: destructuring the pair moved the record out of
                // it, a copy of the whole `Parsed` (552 bytes, its largest variant's size)
                // per line, 4 % of reading a Traefik log.
                let parse = if detect {
                    parser.parse(message)
                } else {
                    (Payload::Text, Parsed::Text)
                };
                let (payload, parsed) = (parse.0, &parse.1);
                // A capture's rows carry no time (its moment is the file's): looking for a
                // leading one in every row cost more than counting the row.
                let ts = if capture {
                    v.ts
                } else {
                    v.ts.or_else(|| record_time(parsed, message, &ctx.time))
                };
                stats.record(bytes.len(), payload, ts);
                let request = parsed.request();
                if let Some(a) = analyzer.filter(|_| !capture) {
                    let ev = Event {
                        ts,
                        offset,
                        len: bytes.len() as u64,
                        message,
                        parsed,
                        request,
                        priority: v.priority,
                        ident: v.ident,
                    };
                    analyses.observe(a, &ev);
                }
                if templates {
                    if let Some(req) = request {
                        keys.add_access(
                            request_cache,
                            (req.method, req.target, req.status),
                            v.message,
                            bytes.len() as u64,
                            ts,
                            &mut mask_buf,
                        );
                    } else {
                        keys.add(v.message, bytes.len() as u64, ts, &mut mask_buf);
                    }
                }
            }
            SpanKind::Meta => {
                stats.meta(bytes.len());
                keys.add_not_record(bytes.len() as u64);
            }
            SpanKind::Malformed if ctx.framing == Framing::Opaque => {
                stats.opaque(bytes.len());
                keys.add_not_record(bytes.len() as u64);
            }
            SpanKind::Malformed => {
                stats.unparsed(bytes.len(), None);
                if let Some(a) = analyzer {
                    analyses.observe_other(a, None, bytes.len() as u64, offset);
                }
                if templates {
                    keys.add(bytes, bytes.len() as u64, None, &mut mask_buf);
                }
            }
        }
    }
    if matches!(ctx.framing, Framing::Lines | Framing::Syslog) {
        patterns.count_lines(&data[..scanned], &mut counts);
    }
    keys.flush_cache(request_cache);
    analyses.timeline.settle();
    analyses.findings.settle();
    ChunkOut {
        source: ctx.id,
        seq: job.seq,
        stats,
        patterns: counts,
        keys,
        analyses,
        too_long_at,
    }
}

struct Producer<'a> {
    config: &'a RunConfig,
    tx: &'a crossbeam_channel::Sender<Job>,
    pool: &'a BufferPool,
}

/// Decoded chunks' buffers, handed back by the workers for the producers to read into
/// again. A returned buffer is initialized to its length, so reading into it needs no
/// zeroing. At most [`BufferPool::KEEP`] wait here, each at most twice the chunk size (a
/// buffer grown for one long record is freed, not kept): the others are freed.
struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    max_capacity: usize,
}

impl BufferPool {
    const KEEP: usize = 16;

    fn new(chunk_size: usize) -> BufferPool {
        BufferPool {
            free: Mutex::new(Vec::new()),
            max_capacity: chunk_size.max(DETECT_HEAD).saturating_mul(2),
        }
    }

    fn take(&self) -> Vec<u8> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.pop().unwrap_or_default()
    }

    fn give(&self, buf: Vec<u8>) {
        if buf.capacity() > self.max_capacity {
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < Self::KEEP {
            free.push(buf);
        }
    }
}

impl Producer<'_> {
    fn input(&self, index: u32, file: &InputFile) -> Vec<SourceMeta> {
        let id = SourceId {
            input: index,
            member: 0,
        };
        let meta = |compression: &str, stored_bytes, error| SourceMeta {
            id,
            name: file.name.clone(),
            envelope: None,
            compression: compression.into(),
            stored_bytes,
            mtime: None,
            error,
            archive: None,
        };
        match input::open(&file.path, self.config.mmap) {
            Err(error) => vec![meta("none", None, Some(error))],
            Ok(Opened::Unsupported { what, stored_bytes }) => {
                vec![meta(
                    what,
                    stored_bytes,
                    Some(Error::new(ErrorKind::UnsupportedCompression(what))),
                )]
            }
            Ok(Opened::Mapped { data, mtime }) => {
                let stored = data.len() as u64;
                let envelope = self.mapped(id, data, mtime);
                vec![SourceMeta {
                    envelope: Some(envelope),
                    mtime,
                    ..meta("none", Some(stored), None)
                }]
            }
            Ok(Opened::Stream {
                mut reader,
                compression,
                stored_bytes,
                mtime,
            }) => {
                let (envelope, error) = self.stream(id, &mut reader, compression, mtime);
                vec![SourceMeta {
                    envelope: Some(envelope),
                    mtime,
                    ..meta(compression.id(), stored_bytes, error)
                }]
            }
            Ok(Opened::Archive {
                reader,
                compression,
                stored_bytes,
            }) => self.archive(id, &file.name, reader, compression, stored_bytes),
        }
    }

    fn context(&self, id: SourceId, start: &[u8], mtime: Option<i64>) -> Arc<SourceCtx> {
        let head = &start[..start.len().min(DETECT_HEAD)];
        let envelope = detect_envelope(head);
        let year = match self.config.year {
            Some(year) => YearHint::FirstRecord {
                year,
                first_month: first_syslog_month(head).unwrap_or(1),
            },
            None => {
                let (year, month) = year_month(mtime.unwrap_or_else(now_secs));
                YearHint::EndsAt { year, month }
            }
        };
        Arc::new(SourceCtx {
            id,
            envelope,
            framing: Framing::for_envelope(envelope),
            time: TimeContext {
                offset_secs: self.config.tz_offset_secs,
                year,
            },
            max_line: self.config.max_line,
        })
    }

    fn send(&self, job: Job) {
        // The receiver lives until every producer is done; a send can only fail if the
        // workers panicked, and then the run is lost anyway.
        let _ = self.tx.send(job);
    }

    /// A plain file in memory: cut at record boundaries near `chunk_size`.
    fn mapped(&self, id: SourceId, data: Data, mtime: Option<i64>) -> Envelope {
        let ctx = self.context(id, &data, mtime);
        let envelope = ctx.envelope;
        let data = Arc::new(data);
        let chunk = self.config.chunk_size.max(1);
        let (mut start, mut seq) = (0usize, 0u64);
        while start < data.len() {
            let end = cut_after(ctx.framing, &data[start..], chunk, ctx.max_line)
                .map_or(data.len(), |c| start + c);
            self.send(Job {
                ctx: ctx.clone(),
                seq,
                base: start as u64,
                data: ChunkData::Mapped(data.clone(), start..end),
            });
            start = end;
            seq += 1;
        }
        envelope
    }

    /// A stream: decode on this thread, hand record-aligned owned buffers to the workers.
    ///
    /// The buffers come from the [`BufferPool`] and are read into in place: a fresh buffer
    /// per chunk had to be zeroed before the decoder could write into it (`read_to_end`),
    /// which cost as much as a tenth of the decoding.
    fn stream(
        &self,
        id: SourceId,
        reader: &mut dyn Read,
        compression: Compression,
        mtime: Option<i64>,
    ) -> (Envelope, Option<Error>) {
        let chunk = self.config.chunk_size.max(DETECT_HEAD);
        let max_line = self.config.max_line;
        // `buf[..filled]` is the decoded data; the rest is room to read into.
        let mut buf = self.pool.take();
        let mut filled = 0;
        let mut ctx: Option<Arc<SourceCtx>> = None;
        let (mut base, mut seq) = (0u64, 0u64);
        let mut target = chunk;
        loop {
            let mut failure = None;
            let mut eof = false;
            while filled < target {
                // Room is made (zeroed) a step at a time, so a large `--chunk-size` costs
                // memory only as data arrives; a pooled buffer has its room already.
                if buf.len() <= filled {
                    buf.resize(target.min(filled + READ_STEP), 0);
                }
                let room = buf.len().min(target);
                match reader.read(&mut buf[filled..room]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failure = Some(Error::at(
                            coroner_parse::decode::decode_error(compression, &e),
                            base + filled as u64,
                        ));
                        eof = true;
                        break;
                    }
                }
            }
            let ctx = ctx
                .get_or_insert_with(|| self.context(id, &buf[..filled], mtime))
                .clone();
            let cut = complete_prefix(ctx.framing, &buf[..filled], eof, max_line);
            if cut == 0 && !eof {
                if filled > max_line {
                    // One record longer than the cap: let the worker report it, stop here.
                    buf.truncate(filled);
                    self.send(Job {
                        ctx: ctx.clone(),
                        seq,
                        base,
                        data: ChunkData::Owned(buf),
                    });
                    return (ctx.envelope, None);
                }
                target = target.saturating_mul(2).min(max_line.saturating_add(chunk));
                continue;
            }
            let mut next = if eof { Vec::new() } else { self.pool.take() };
            let rest = filled - cut;
            if next.len() < rest {
                next.resize(rest, 0);
            }
            next[..rest].copy_from_slice(&buf[cut..filled]);
            buf.truncate(cut);
            if !buf.is_empty() {
                self.send(Job {
                    ctx: ctx.clone(),
                    seq,
                    base,
                    data: ChunkData::Owned(buf),
                });
                base += cut as u64;
                seq += 1;
            }
            if eof {
                return (ctx.envelope, failure);
            }
            buf = next;
            filled = rest;
            target = chunk.max(rest + chunk / 2);
        }
    }

    /// A tar archive: each regular member is a source of its own, read in place.
    fn archive(
        &self,
        id: SourceId,
        name: &str,
        reader: input::Reader,
        compression: Compression,
        stored_bytes: Option<u64>,
    ) -> Vec<SourceMeta> {
        let archive_layer = match compression {
            Compression::None => "tar".to_string(),
            c => format!("tar+{}", c.id()),
        };
        let mut found = Vec::new();
        let mut member_bytes = 0u64;
        let (tar_bytes, error) = input::for_each_member(reader, compression, |member, data| {
            let member_id = SourceId {
                input: id.input,
                member: found.len() as u32 + 1,
            };
            member_bytes += member.size;
            let mut meta = SourceMeta {
                id: member_id,
                name: format!("{name}:{}", member.path),
                envelope: None,
                compression: archive_layer.clone(),
                stored_bytes: Some(member.size),
                mtime: member.mtime,
                error: None,
                archive: None,
            };
            match input::open_stream(data) {
                Err(e) => meta.error = Some(e),
                Ok((mut stream, inner)) => {
                    if inner != Compression::None {
                        meta.compression = format!("{archive_layer}/{}", inner.id());
                    }
                    // Errors of the archive stream itself surface here as the member's
                    // error too: the member was cut.
                    let layer = if inner == Compression::None {
                        compression
                    } else {
                        inner
                    };
                    let (envelope, error) =
                        self.stream(member_id, &mut stream, layer, member.mtime);
                    meta.envelope = Some(envelope);
                    meta.error = error;
                }
            }
            found.push(meta);
            Ok(())
        });
        found.insert(
            0,
            SourceMeta {
                id,
                name: name.to_string(),
                envelope: None,
                compression: match compression {
                    Compression::None => "none".into(),
                    c => c.id().into(),
                },
                stored_bytes,
                mtime: None,
                error,
                archive: Some((tar_bytes, tar_bytes.saturating_sub(member_bytes))),
            },
        );
        found
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The UTC (year, month) of a Unix time (Howard Hinnant's civil_from_days).
pub fn year_month(unix_secs: i64) -> (i32, u8) {
    let z = unix_secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_of_known_times() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_615_648_981), (2021, 3));
        assert_eq!(year_month(951_782_400), (2000, 2)); // 2000-02-29
        assert_eq!(year_month(-1), (1969, 12));
    }
}
