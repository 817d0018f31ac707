//! `sockets.parquet` and `socket_histogram.parquet`: every layer's view of a long-lived
//! connection's end (WebSocket, streaming), and how long they lived.
//!
//! A healthy WebSocket lives for hours; a short one is a drop the user felt. Each layer that
//! logs a connection's end gives one row (rules in `docs/reports.md`):
//! - `traefik`, `nginx`: an access line of an upgraded request (status 101) or of a request
//!   to a WebSocket path (`--ws-path`); duration from the log's duration (Traefik `<n>ms`,
//!   JSON `Duration`; nginx `$request_time`). Traefik stamps the request's start, so its end
//!   is start + duration; nginx stamps the end. Cause `closed` for an upgraded connection,
//!   `status_<N>` for a handshake answered otherwise.
//! - `dispatch`: a `ws close dur_ms=N cause=C` message in any source (cause as logged).
//! - `cloudflared`: `Request failed ... type=ws` (no duration; cause `ended_abruptly` for
//!   `Incoming request ended abruptly`, else the error text). Its companion line (`ERR
//!   error="Incoming request ended abruptly..."` with an empty message) is the same failure
//!   and is not counted twice.
//! - `mastodon-streaming`: the first `Ending stream` / `Tried writing to closed socket` of a
//!   request id, duration from the earliest line of that request id read before it.
//!
//! Rows keep their arrival order per source (chunks fold in order), so 1 and N threads give
//! the same table. A bundle can hold tens of millions of ends: past [`spill::DEFAULT_HOLD`]
//! per source they go to a temporary file ([`Spill`]) and are read back when the tables are
//! written, so memory does not grow with them. The streaming server's request ids are
//! remembered per source in two generations of [`MAX_STREAMS`] / 2 ([`RecentIds`]): the
//! newest ones, not the first ones, so the ten-millionth stream of a long log still gets
//! its duration. Ends a full disk kept out of the spill are counted
//! ([`SocketEnds::dropped`]).

use hashbrown::HashTable;
use std::borrow::Cow;

use coroner_parse::formats::cloudflared::{Cause, ConnType, Kind as CfKind};
use coroner_parse::formats::npmlog::Kind as StreamKind;
use coroner_parse::literal::Literal;
use coroner_parse::payload::Parsed;
use coroner_parse::timestamp::Micros;

use crate::event::Event;
use crate::spill::{self, Reader, Record, Spill};
use crate::table::{self, Column, Layout};
use arrow_array::builder::{
    ArrayBuilder, Float64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use std::sync::Arc;

/// Request ids of the streaming server remembered per source, of open streams and of
/// streams that ended, each (see [`RecentIds`]).
pub const MAX_STREAMS: usize = 1_000_000;

/// Request ids and a value each, remembered in two generations of at most `generation`
/// ids: when the newer one is full it becomes the older one and the older one is
/// forgotten. So a log with tens of millions of streams holds between `generation` and
/// `2 x generation` ids, always the most recent ones. (A cap that refused new ids once
/// full, as before, left every stream after the first million without a duration: 11.7 M
/// of 12.5 M in the 50 GB bench bundle.)
#[derive(Debug)]
pub struct RecentIds<V> {
    newer: HashTable<(RequestId, V)>,
    older: HashTable<(RequestId, V)>,
    generation: usize,
}

/// The hash of a request id's bytes (fixed: the same id hashes the same in every map).
fn id_hash(id: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(id)
}

/// A request id as a map key, its bytes inline when it is short: the streaming server's
/// ids are UUIDs (36 bytes), and a key on the heap cost an allocation, a free when its
/// generation is forgotten, and a cache miss on every compare. A longer id (a log can say
/// anything) is kept whole, on the heap.
#[derive(Clone)]
pub enum RequestId {
    Inline { len: u8, bytes: [u8; INLINE_ID] },
    Heap(Box<[u8]>),
}

/// The longest id kept inline (a map entry of an id and its state is then 64 bytes).
const INLINE_ID: usize = 46;

impl RequestId {
    pub fn new(id: &[u8]) -> RequestId {
        if id.len() <= INLINE_ID {
            let mut bytes = [0; INLINE_ID];
            bytes[..id.len()].copy_from_slice(id);
            RequestId::Inline {
                len: id.len() as u8,
                bytes,
            }
        } else {
            RequestId::Heap(id.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            RequestId::Inline { len, bytes } => &bytes[..usize::from(*len)],
            RequestId::Heap(b) => b,
        }
    }
}

// Hashed and compared as its bytes, so that a map of them is searched with a `&[u8]`.
impl std::hash::Hash for RequestId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for RequestId {
    fn eq(&self, other: &RequestId) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for RequestId {}

impl std::borrow::Borrow<[u8]> for RequestId {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl<V: Copy> Default for RecentIds<V> {
    fn default() -> RecentIds<V> {
        RecentIds::with_generation(MAX_STREAMS / 2)
    }
}

impl<V: Copy> RecentIds<V> {
    pub fn with_generation(generation: usize) -> RecentIds<V> {
        RecentIds {
            newer: HashTable::new(),
            older: HashTable::new(),
            generation: generation.max(1),
        }
    }

    pub fn get(&self, id: &[u8]) -> Option<V> {
        let h = id_hash(id);
        let is = |e: &(RequestId, V)| e.0.as_bytes() == id;
        self.newer
            .find(h, is)
            .or_else(|| self.older.find(h, is))
            .map(|e| e.1)
    }

    /// Ids remembered.
    pub fn len(&self) -> usize {
        self.newer.len() + self.older.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keep `id` with `v`, or with `keep(old, v)` when it is already known.
    pub fn upsert(&mut self, id: &[u8], v: V, keep: impl Fn(V, V) -> V) {
        self.modify(id, |old| (Some(old.map_or(v, |old| keep(old, v))), ()));
    }

    /// [`Self::upsert`] with an id already made.
    pub fn upsert_owned(&mut self, id: RequestId, v: V, keep: impl Fn(V, V) -> V) {
        let h = id_hash(id.as_bytes());
        match self.slot(h, id.as_bytes()) {
            Some(old) => *old = keep(*old, v),
            None => self.insert_new(h, id, v),
        }
    }

    /// Look `id` up once: `f` gets its value (if known) and answers the value to keep (none:
    /// leave it as it is, or unknown) and a result.
    pub fn modify<R>(&mut self, id: &[u8], f: impl FnOnce(Option<V>) -> (Option<V>, R)) -> R {
        let h = id_hash(id);
        match self.slot(h, id) {
            Some(old) => {
                let (new, r) = f(Some(*old));
                if let Some(new) = new {
                    *old = new;
                }
                r
            }
            None => {
                let (new, r) = f(None);
                if let Some(new) = new {
                    self.insert_new(h, RequestId::new(id), new);
                }
                r
            }
        }
    }

    /// The value of a known `id` (hash `h`), in whichever generation holds it.
    fn slot(&mut self, h: u64, id: &[u8]) -> Option<&mut V> {
        let is = |e: &(RequestId, V)| e.0.as_bytes() == id;
        match self.newer.find_mut(h, is) {
            Some(e) => Some(&mut e.1),
            None => self.older.find_mut(h, is).map(|e| &mut e.1),
        }
    }

    /// `id` (not known yet, hash `h`) with `v`.
    fn insert_new(&mut self, h: u64, id: RequestId, v: V) {
        if self.newer.len() >= self.generation {
            // The older generation is forgotten; its table, emptied, takes the new ids
            // (so the newer one does not grow again from nothing, rehashing as it goes).
            let mut spare = std::mem::take(&mut self.older);
            spare.clear();
            self.older = std::mem::replace(&mut self.newer, spare);
        }
        self.newer
            .insert_unique(h, (id, v), |e| id_hash(e.0.as_bytes()));
    }

    /// Every id and value, the older generation first.
    fn into_entries(self) -> impl Iterator<Item = (RequestId, V)> {
        self.older.into_iter().chain(self.newer)
    }
}

/// Upper bounds of the histogram buckets, in ms (the last one is +inf).
pub const BUCKETS_MS: [f64; 13] = [
    1_000.0,
    2_000.0,
    5_000.0,
    10_000.0,
    20_000.0,
    30_000.0,
    60_000.0,
    120_000.0,
    300_000.0,
    600_000.0,
    1_800_000.0,
    3_600_000.0,
    f64::INFINITY,
];

/// Which layer of the path logged the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Cloudflared,
    Traefik,
    Nginx,
    Dispatch,
    MastodonStreaming,
}

impl Layer {
    /// Every layer, in path order (edge first), as the `layers` column lists them.
    pub const ALL: [Layer; 5] = [
        Layer::Cloudflared,
        Layer::Traefik,
        Layer::Nginx,
        Layer::Dispatch,
        Layer::MastodonStreaming,
    ];

    /// The layer of `n` as `Layer as u8` numbers it.
    pub fn from_u8(n: u8) -> Option<Layer> {
        Layer::ALL.get(usize::from(n)).copied()
    }

    pub fn id(self) -> &'static str {
        match self {
            Layer::Cloudflared => "cloudflared",
            Layer::Traefik => "traefik",
            Layer::Nginx => "nginx",
            Layer::Dispatch => "dispatch",
            Layer::MastodonStreaming => "mastodon-streaming",
        }
    }
}

/// One observed end of a connection.
#[derive(Clone, Debug, PartialEq)]
pub struct SocketEnd {
    /// When it ended (UTC µs).
    pub ts: Option<Micros>,
    pub layer: Layer,
    pub duration_ms: Option<f64>,
    /// Mostly one of a few fixed words (no allocation); free text from cloudflared's error.
    pub cause: Cow<'static, str>,
    pub client: Option<Box<str>>,
    pub path: Option<Box<str>>,
    pub status: Option<u16>,
    /// Byte offset of the record in its source.
    pub offset: u64,
}

/// The causes a row holds without a copy of its own (as [`Cow::Borrowed`]); a spilled
/// row names them by number.
const FIXED_CAUSES: [&str; 8] = [
    "closed",
    "unknown",
    "ended_abruptly",
    "ending_stream",
    "closed_socket",
    "downstream_closed",
    "upstream_closed",
    "graceful",
];

/// The 9 bytes of an encoded duration.
fn duration_bytes(d: Option<f64>) -> [u8; 9] {
    let mut b = [0; 9];
    if let Some(d) = d {
        b[0] = 1;
        b[1..].copy_from_slice(&d.to_bits().to_le_bytes());
    }
    b
}

impl Record for SocketEnd {
    fn encode(&self, out: &mut Vec<u8>) {
        self.view().encode(out);
    }

    fn decode(r: &mut Reader<'_>) -> Option<SocketEnd> {
        EndView::decode(r).map(|v| v.to_owned())
    }
}

/// A socket end read in place from its encoded bytes (see [`Spill::visit`]): what the
/// incident's one read of every end needs, without a string made per end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EndView<'a> {
    pub ts: Option<Micros>,
    pub layer: Layer,
    pub duration_ms: Option<f64>,
    pub cause: &'a str,
    pub client: Option<&'a str>,
    pub path: Option<&'a str>,
    pub status: Option<u16>,
    pub offset: u64,
}

impl<'a> EndView<'a> {
    /// The encoding a spill keeps (see [`EndView::read`] for the other way).
    pub fn encode(&self, out: &mut Vec<u8>) {
        spill::put_opt_i64(out, self.ts);
        out.push(self.layer as u8);
        out.extend_from_slice(&duration_bytes(self.duration_ms));
        match FIXED_CAUSES.iter().position(|c| *c == self.cause) {
            Some(i) => out.push(i as u8),
            None => {
                out.push(u8::MAX);
                spill::put_str(out, self.cause);
            }
        }
        spill::put_opt_str(out, self.client);
        spill::put_opt_str(out, self.path);
        spill::put_opt_i64(out, self.status.map(i64::from));
        spill::put_u64(out, self.offset);
    }

    /// Where [`EndView::encode`] puts the duration: after the time (a tag, and 8 bytes
    /// when there is one) and the layer. The duration always takes 9 bytes (tag and
    /// bits), so a streaming end's can be filled in after encoding.
    fn duration_slot(&self) -> usize {
        if self.ts.is_some() { 9 + 1 } else { 1 + 1 }
    }

    /// The end encoded in `bytes` (all of them), by [`EndView::encode`].
    pub fn read(bytes: &'a [u8]) -> Option<EndView<'a>> {
        let mut r = Reader::new(bytes);
        EndView::decode(&mut r).filter(|_| r.is_empty())
    }

    /// [`EndView::read`] without the client and the path (`None` in the view, their bytes
    /// stepped over unread): the incident's reads of every end need neither, and checking
    /// that they are UTF-8 was a tenth of those reads. (`sockets.parquet` reads them in
    /// full, so a damaged temporary file is still found.)
    pub fn read_without_text(bytes: &'a [u8]) -> Option<EndView<'a>> {
        let mut r = Reader::new(bytes);
        EndView::decode_with(&mut r, false).filter(|_| r.is_empty())
    }

    fn decode(r: &mut Reader<'a>) -> Option<EndView<'a>> {
        EndView::decode_with(r, true)
    }

    /// The text fields (client, path) read when `text`, else stepped over.
    #[inline(always)]
    fn decode_with(r: &mut Reader<'a>, text: bool) -> Option<EndView<'a>> {
        let text_field = |r: &mut Reader<'a>| -> Option<Option<&'a str>> {
            if text {
                spill::opt_str(r)
            } else {
                spill::skip_opt_str(r).map(|()| None)
            }
        };
        Some(EndView {
            ts: spill::opt_i64(r)?,
            layer: Layer::from_u8(r.u8()?)?,
            duration_ms: match (r.u8()?, r.f64()?) {
                (0, _) => None,
                (1, d) => Some(d),
                _ => return None,
            },
            cause: match r.u8()? {
                u8::MAX => r.str()?,
                i => FIXED_CAUSES.get(usize::from(i))?,
            },
            client: text_field(r)?,
            path: text_field(r)?,
            status: match spill::opt_i64(r)? {
                Some(s) => Some(u16::try_from(s).ok()?),
                None => None,
            },
            offset: r.u64()?,
        })
    }

    pub fn to_owned(&self) -> SocketEnd {
        SocketEnd {
            ts: self.ts,
            layer: self.layer,
            duration_ms: self.duration_ms,
            cause: match FIXED_CAUSES.iter().find(|c| **c == self.cause) {
                Some(c) => Cow::Borrowed(c),
                None => Cow::Owned(self.cause.to_string()),
            },
            client: self.client.map(Into::into),
            path: self.path.map(Into::into),
            status: self.status,
            offset: self.offset,
        }
    }
}

impl SocketEnd {
    /// This end as the incident reads it.
    pub fn view(&self) -> EndView<'_> {
        EndView {
            ts: self.ts,
            layer: self.layer,
            duration_ms: self.duration_ms,
            cause: &self.cause,
            client: self.client.as_deref(),
            path: self.path.as_deref(),
            status: self.status,
            offset: self.offset,
        }
    }
}

/// What a run's socket analysis is told.
#[derive(Clone, Debug)]
pub struct SocketRules {
    /// Request paths that are WebSockets even when not answered 101 (`--ws-path`), less
    /// any holding a `?`, which no path (the target before its query) can match.
    ws_paths: Vec<Box<[u8]>>,
}

impl SocketRules {
    pub fn new(ws_paths: &[String]) -> SocketRules {
        SocketRules {
            ws_paths: ws_paths
                .iter()
                .filter(|p| !p.contains('?'))
                .map(|p| p.as_bytes().into())
                .collect(),
        }
    }

    /// Whether the target's path is a WebSocket path or below one: `/ws`, `/ws/x`,
    /// `/ws?q` for `/ws`, not `/wsx`. This runs on every access line, so the query is not
    /// searched for: the byte after the prefix is the end, `/` or `?`.
    #[inline]
    fn is_ws_path(&self, target: &[u8]) -> bool {
        self.ws_paths.iter().any(|p| {
            // The prefix's last byte first: one compare turns nearly every path away
            // before the slice compare (a call to memcmp).
            p.last().is_none_or(|l| target.get(p.len() - 1) == Some(l))
                && target
                    .strip_prefix(&**p)
                    .is_some_and(|rest| matches!(rest.first(), None | Some(b'/' | b'?')))
        })
    }
}

/// The socket ends of one source, or of one part (a chunk) of it.
///
/// A part's ends are encoded as they are found ([`spill::frame`]), by the worker that reads
/// the part; merging a part into its source (in order, under the pipeline's one lock) then
/// copies bytes, and only its streaming ends are looked at: each needs the source's
/// request ids to know whether an earlier part ended it already and when it opened.
#[derive(Debug, Default)]
pub struct SocketEnds {
    /// The source's ends, merged.
    ends: Spill<SocketEnd>,
    /// A part's ends, not merged yet, as frames.
    part: Vec<u8>,
    part_rows: usize,
    /// The streaming ends among them, in order.
    part_streams: Vec<PartStream>,
    /// Their request ids, one after another (`PartStream::id` ranges).
    part_ids: Vec<u8>,
    /// Streaming request ids: open (first time seen) or ended (later end lines of the same
    /// id are the same end).
    streams: RecentIds<Stream>,
    /// Whether the ends' times rise, as they arrive.
    order: TimeOrder,
}

/// Whether a source's ends with a time come in time order (each no earlier than the one
/// before, in the order [`SocketEnds::visit`] gives them), kept as they arrive: the incident
/// reads the ends of such a source once instead of twice. It may say no for ends that do
/// rise (a merge that drops a streaming end compares with that end's time), never yes for
/// ends that do not.
#[derive(Clone, Copy, Debug)]
struct TimeOrder {
    first: Option<Micros>,
    last: Option<Micros>,
    rising: bool,
    /// Layers with an end with a time (bit `1 << Layer as u8`).
    layers: u8,
}

impl Default for TimeOrder {
    fn default() -> TimeOrder {
        TimeOrder {
            first: None,
            last: None,
            rising: true,
            layers: 0,
        }
    }
}

impl TimeOrder {
    fn see(&mut self, ts: Micros, layer: Layer) {
        self.rising &= self.last.is_none_or(|last| last <= ts);
        self.first.get_or_insert(ts);
        self.last = Some(ts);
        self.layers |= 1 << layer as u8;
    }

    /// The ends of `later` come after these.
    fn then(&mut self, later: &TimeOrder) {
        self.rising &= later.rising
            && match (self.last, later.first) {
                (Some(last), Some(first)) => last <= first,
                _ => true,
            };
        self.first = self.first.or(later.first);
        self.last = later.last.or(self.last);
        self.layers |= later.layers;
    }
}

/// What is known of a streaming request id.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stream {
    /// Not ended; its earliest line so far.
    Open(Micros),
    Ended,
}

impl Stream {
    /// What `old` becomes when `new` is seen: an ended stream stays ended, an open one
    /// keeps its earliest line.
    fn then(old: Stream, new: Stream) -> Stream {
        match (old, new) {
            (Stream::Open(a), Stream::Open(b)) => Stream::Open(a.min(b)),
            _ => Stream::Ended,
        }
    }
}

/// A streaming end in a part: where its frame is, and what its duration needs.
#[derive(Debug)]
struct PartStream {
    /// Its row among the part's rows, and its frame's bytes in `part`.
    row: usize,
    frame: std::ops::Range<usize>,
    /// Where its 9 duration bytes are in `part`.
    duration_at: usize,
    id: std::ops::Range<usize>,
    ts: Option<Micros>,
    /// The earliest line of its id earlier in the part.
    first: Option<Micros>,
}

/// `ws close dur_ms=N cause=C user=U`: the dispatch proxy's end-of-WebSocket line.
pub const WS_CLOSE: &str = "ws close ";

impl SocketEnds {
    /// Look at one record; `ws_close` tells whether its message holds [`WS_CLOSE`].
    ///
    /// Inline, so that the records no rule can read (nearly every line of a bundle: a
    /// plain request, a journald line of another service) cost a few compares, not a call.
    #[inline]
    pub fn observe(&mut self, rules: &SocketRules, ev: &Event, ws_close: bool) {
        let may_end = ws_close
            || match ev.request {
                Some(r) => r.status == Some(101) || r.target.is_some_and(|t| rules.is_ws_path(t)),
                None => matches!(
                    ev.parsed,
                    Parsed::Cloudflared(_)
                        | Parsed::CloudflaredJson(_)
                        | Parsed::MastodonStreaming(_)
                        | Parsed::MastodonStreamingJson(_)
                ),
            };
        if may_end {
            self.observe_record(rules, ev, ws_close);
        }
    }

    #[inline(never)]
    fn observe_record(&mut self, rules: &SocketRules, ev: &Event, ws_close: bool) {
        if ws_close && let Some(close) = dispatch_close(ev.message) {
            self.push(&EndView {
                ts: ev.ts,
                layer: Layer::Dispatch,
                duration_ms: Some(close.duration_ms),
                cause: &close.cause,
                client: close.user.as_deref(),
                path: None,
                status: None,
                offset: ev.offset,
            });
            return;
        }
        if let Some(req) = ev.request {
            let upgraded = req.status == Some(101);
            if !upgraded && !req.target.is_some_and(|t| rules.is_ws_path(t)) {
                return;
            }
            let (layer, end_ts, client) = match ev.parsed {
                Parsed::TraefikClf(r) => (
                    Layer::Traefik,
                    r.clf
                        .time
                        .map(|t| t + r.duration_ms.unwrap_or(0) as i64 * 1000),
                    r.clf.client,
                ),
                Parsed::TraefikJson(r) => (
                    Layer::Traefik,
                    // StartUTC + Duration is to the microsecond; logrus `time` is
                    // whole seconds.
                    r.start
                        .map(|s| s + r.duration_ns.unwrap_or(0) as i64 / 1000)
                        .or(r.end),
                    r.client_host.map(|h| h.raw()),
                ),
                Parsed::NginxAccess(r) => (Layer::Nginx, ev.ts, r.client),
                Parsed::NginxCustom(r) => (Layer::Nginx, ev.ts, r.remote_addr()),
                _ => return,
            };
            let mut status_word = [0; 12];
            let client = client.map(|c| text(c, 64));
            let path = req.target.map(|t| text(t, 200));
            self.push(&EndView {
                ts: end_ts.or(ev.ts),
                layer,
                duration_ms: ev.latency_ms(),
                cause: match req.status {
                    Some(101) => "closed",
                    Some(s) => status_cause(s, &mut status_word),
                    None => "unknown",
                },
                client: client.as_deref(),
                path: path.as_deref(),
                status: req.status,
                offset: ev.offset,
            });
            return;
        }
        match ev.parsed {
            Parsed::Cloudflared(r) if r.kind() == CfKind::RequestFailed => {
                if r.type_() != Some(ConnType::Ws) {
                    return;
                }
                let error = r.error().map(|e| e.value);
                self.cloudflared_end(ev, r.cause(), error, r.dest().map(|d| d.value));
            }
            Parsed::CloudflaredJson(r) if r.kind() == CfKind::RequestFailed => {
                if r.type_() != Some(ConnType::Ws) {
                    return;
                }
                let error = r.error.map(|e| e.raw());
                self.cloudflared_end(ev, r.cause(), error, r.dest().map(|d| d.raw()));
            }
            Parsed::MastodonStreaming(r) => {
                self.stream_line(ev, r.request_id(), r.kind());
            }
            Parsed::MastodonStreamingJson(r) => {
                self.stream_line(ev, r.request_id(), r.kind());
            }
            _ => {}
        }
    }

    fn cloudflared_end(
        &mut self,
        ev: &Event,
        cause: Option<Cause>,
        error: Option<&[u8]>,
        dest: Option<&[u8]>,
    ) {
        let error_text;
        let cause = match (cause, error) {
            (Some(Cause::RequestEndedAbruptly), _) => "ended_abruptly",
            (_, Some(e)) => {
                error_text = text(e.trim_ascii_start().strip_prefix(b"\"").unwrap_or(e), 80);
                error_text.trim_end_matches('"')
            }
            (_, None) => "unknown",
        };
        let path = dest.map(|d| {
            // `https://host/path?q`: keep the path.
            let d = d.strip_prefix(b"\"").unwrap_or(d);
            static SCHEME: Literal = Literal::new(b"://");
            let after_scheme = SCHEME.find(d).map_or(0, |i| i + 3);
            let p = memchr::memchr(b'/', &d[after_scheme..])
                .map_or(&d[d.len()..], |i| &d[after_scheme + i..]);
            text(p.strip_suffix(b"\"").unwrap_or(p), 200)
        });
        self.push(&EndView {
            ts: ev.ts,
            layer: Layer::Cloudflared,
            duration_ms: None,
            cause,
            client: None,
            path: path.as_deref(),
            status: None,
            offset: ev.offset,
        });
    }

    fn stream_line(&mut self, ev: &Event, id: Option<&[u8]>, kind: StreamKind) {
        let Some(id) = id else { return };
        let (known, cause) = self.streams.modify(id, |known| {
            let cause = match (known, kind) {
                // A later line of a stream that ended in this part: nothing to learn.
                (Some(Stream::Ended), _) => return (None, (known, None)),
                (_, StreamKind::EndingStream) => "ending_stream",
                (_, StreamKind::TriedWritingToClosedSocket) => "closed_socket",
                _ => {
                    // The first time seen: the smallest (a log is not always in time order).
                    let open = ev.ts.map(|ts| {
                        known.map_or(Stream::Open(ts), |k| Stream::then(k, Stream::Open(ts)))
                    });
                    return (open, (known, None));
                }
            };
            (Some(Stream::Ended), (known, Some(cause)))
        });
        let Some(cause) = cause else { return };
        let client = text(id, 64);
        let end = EndView {
            ts: ev.ts,
            layer: Layer::MastodonStreaming,
            duration_ms: None,
            cause,
            client: Some(&client),
            path: None,
            status: None,
            offset: ev.offset,
        };
        let id_at = self.part_ids.len();
        self.part_ids.extend_from_slice(id);
        let row = self.part_rows;
        let frame = self.push(&end);
        self.part_streams.push(PartStream {
            row,
            duration_at: frame.start + 4 + end.duration_slot(),
            frame,
            id: id_at..self.part_ids.len(),
            ts: end.ts,
            first: match known {
                Some(Stream::Open(t)) => Some(t),
                _ => None,
            },
        });
    }

    /// Encode `end` into the part; where its frame is.
    fn push(&mut self, end: &EndView) -> std::ops::Range<usize> {
        if let Some(ts) = end.ts {
            self.order.see(ts, end.layer);
        }
        let start = self.part.len();
        spill::frame_with(&mut self.part, |out| end.encode(out));
        self.part_rows += 1;
        start..self.part.len()
    }

    /// Keep `hold` ends in memory before writing them to the temporary file (tests use a
    /// few, to run the spilled path on small inputs).
    pub fn with_hold(hold: usize) -> SocketEnds {
        SocketEnds::with_limits(hold, MAX_STREAMS / 2)
    }

    /// [`Self::with_hold`], remembering `ids` request ids per generation ([`RecentIds`]).
    pub fn with_limits(hold: usize, ids: usize) -> SocketEnds {
        SocketEnds {
            ends: Spill::with_hold(hold),
            streams: RecentIds::with_generation(ids),
            ..SocketEnds::default()
        }
    }

    /// Request ids remembered now (open streams and ended ones).
    pub fn ids_held(&self) -> usize {
        self.streams.len()
    }

    /// Every end's encoded bytes, in arrival order, to `f` (read them with
    /// [`EndView::read`]), as [`Self::iter`] gives them.
    pub fn visit(&self, mut f: impl FnMut(&[u8]) -> Result<(), String>) -> Result<(), String> {
        self.ends.visit(&mut f)?;
        spill::visit_frames(&self.part, f)
    }

    /// [`Self::visit`] as an iterator: each end's encoded bytes turned by `f` into an item
    /// or skipped (`None`), in arrival order.
    pub fn rows_with<'s, K: 's>(
        &'s self,
        f: impl FnMut(&[u8]) -> Result<Option<K>, String> + 's,
    ) -> impl Iterator<Item = Result<K, String>> + 's {
        self.ends.rows_with(&self.part, f)
    }

    /// Every end, in arrival order (an error if the temporary file cannot be read back);
    /// a part's streaming ends have their durations only once merged.
    pub fn iter(&self) -> impl Iterator<Item = Result<SocketEnd, String>> + '_ {
        self.ends.iter().chain(spill::decode_frames(&self.part))
    }

    /// Whether the ends with a time come in time order as [`Self::visit`] reads them (each
    /// no earlier than the one before). Known from the ends' arrival; a "no" may be wrong
    /// (see `TimeOrder`), a "yes" is not.
    pub fn in_time_order(&self) -> bool {
        // Ends the temporary file did not take are not read back: say nothing of the rest.
        self.order.rising && self.ends.lost() == 0
    }

    /// Whether an end with a time of one of `layers` arrived: exactly whether one is kept
    /// (when [`Self::in_time_order`]) for every layer but the streaming server's, whose
    /// later end lines of a request are dropped when parts merge.
    pub fn has_timed(&self, layers: &[Layer]) -> bool {
        layers
            .iter()
            .any(|&l| self.order.layers & (1 << l as u8) != 0)
    }

    /// Ends kept.
    pub fn len(&self) -> u64 {
        self.ends.len() + self.part_rows as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends seen but not kept: the temporary file could not take them ([`Self::error`]).
    pub fn dropped(&self) -> u64 {
        self.ends.lost()
    }

    /// Why ends were dropped.
    pub fn error(&self) -> Option<&str> {
        self.ends.error()
    }

    /// Append a later part of the same source (chunks arrive in order; `other` is a part
    /// that was observed, never merged into). A streaming end gets its duration here, from
    /// the first line of its request id in this or an earlier part, or is left out when an
    /// earlier part ended its id already; every other end is copied as it was encoded.
    pub fn merge(&mut self, other: SocketEnds) {
        debug_assert!(
            other.ends.is_empty(),
            "a part is merged once, into its source"
        );
        if let Some(e) = other.ends.error() {
            self.ends.note_lost(other.ends.lost(), e.to_string());
        }
        // The part's ends go into `ends`, read before a part of our own (none, when parts
        // are merged into their source as the pipeline does): then the order is unknown.
        self.order.rising &= self.part_rows == 0;
        self.order.then(&other.order);
        let SocketEnds {
            mut part,
            part_rows,
            part_streams,
            part_ids,
            streams,
            ..
        } = other;
        // The part's frames up to `copied` (`copied_rows` rows) are in `self.ends`.
        let (mut copied, mut copied_rows) = (0, 0);
        for stream in &part_streams {
            let id = &part_ids[stream.id.clone()];
            // Ended now, whatever it was (one lookup for the question and the answer).
            let known = self.streams.modify(id, |known| match known {
                Some(Stream::Ended) => (None, known),
                _ => (Some(Stream::Ended), known),
            });
            let first = match known {
                Some(Stream::Ended) => {
                    // Ended in an earlier part already: a later line of the same end.
                    self.ends
                        .append_frames(&part[copied..stream.frame.start], stream.row - copied_rows);
                    copied = stream.frame.end;
                    copied_rows = stream.row + 1;
                    continue;
                }
                Some(Stream::Open(t)) => Some(stream.first.map_or(t, |f| f.min(t))),
                None => stream.first,
            };
            if let (Some(ts), Some(first)) = (stream.ts, first)
                && first < ts
            {
                // Only when an earlier line opened the stream: an end that is the only line
                // of its request id (the start rotated away) has no known duration.
                let d = duration_bytes(Some((ts - first) as f64 / 1000.0));
                part[stream.duration_at..stream.duration_at + 9].copy_from_slice(&d);
            }
        }
        self.ends
            .append_frames(&part[copied..], part_rows - copied_rows);
        // Streams the part saw open and did not end: open here too, unless an earlier
        // part ended them (a line after the end does not open a stream again).
        for (id, state) in streams.into_entries() {
            if let Stream::Open(_) = state {
                self.streams.upsert_owned(id, state, Stream::then);
            }
        }
    }

    /// Close the books: the request ids are not needed once every part is in.
    pub fn finish(&mut self) {
        self.streams = RecentIds::default();
    }
}

/// The causes the dispatch proxy logs (any other word is kept as written).
const DISPATCH_CAUSES: [&str; 3] = ["downstream_closed", "upstream_closed", "graceful"];

/// What a dispatch `ws close` line says.
struct DispatchClose<'a> {
    duration_ms: f64,
    cause: Cow<'a, str>,
    user: Option<Cow<'a, str>>,
}

/// `ws close dur_ms=1234 cause=downstream_closed user=wizard` anywhere in the message.
fn dispatch_close(m: &[u8]) -> Option<DispatchClose<'_>> {
    static NEEDLE: Literal = Literal::new(WS_CLOSE.as_bytes());
    let at = NEEDLE.find(m)?;
    let rest = &m[at + WS_CLOSE.len()..];
    let mut duration_ms = None;
    let mut cause = None;
    let mut user = None;
    for pair in rest.split(|&b| b == b' ') {
        if let Some(v) = pair.strip_prefix(b"dur_ms=") {
            duration_ms = std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse::<f64>().ok());
        } else if let Some(v) = pair.strip_prefix(b"cause=") {
            cause = Some(match DISPATCH_CAUSES.iter().find(|c| c.as_bytes() == v) {
                Some(&known) => Cow::Borrowed(known),
                None => text(v, 64),
            });
        } else if let Some(v) = pair.strip_prefix(b"user=") {
            user = Some(text(v, 64));
        }
    }
    Some(DispatchClose {
        duration_ms: duration_ms?,
        cause: cause.unwrap_or(Cow::Borrowed("unknown")),
        user,
    })
}

/// `bytes` as text, at most `max` bytes of it (what [`crate::findings::lossy`] gives,
/// the same characters), borrowed when they
/// are UTF-8, as a log's nearly always are: an end is encoded without a string made.
fn text(bytes: &[u8], max: usize) -> Cow<'_, str> {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)])
}

/// `status_<N>` written into `buf`.
fn status_cause(status: u16, buf: &mut [u8; 12]) -> &str {
    buf[..7].copy_from_slice(b"status_");
    let mut digits = [0u8; 5];
    let mut n = status;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[7 + i] = digits[len - 1 - i];
    }
    std::str::from_utf8(&buf[..7 + len]).expect("ASCII")
}

/// One row of `sockets.parquet`.
#[derive(Clone, Debug, PartialEq)]
pub struct SocketRow<'a> {
    pub source: &'a str,
    pub end: &'a SocketEnd,
}

/// The columns of `sockets.parquet`, filled an end at a time as the ends are read in place
/// from their spills: no row, and no copy of an end's bytes, is kept until the batch is
/// built (gathering the bytes and then views of them had been a fifth of writing the
/// table).
pub struct SocketColumns {
    ts: TimestampMicrosecondBuilder,
    source: StringBuilder,
    layer: StringBuilder,
    duration_ms: Float64Builder,
    cause: StringBuilder,
    client: StringBuilder,
    path: StringBuilder,
    status: UInt64Builder,
    offset: UInt64Builder,
    /// Rows a batch is sized for.
    rows: usize,
}

impl SocketColumns {
    /// Columns with room for `rows` ends per batch.
    pub fn new(rows: usize) -> SocketColumns {
        let text = |bytes_per_row: usize| StringBuilder::with_capacity(rows, rows * bytes_per_row);
        SocketColumns {
            ts: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            source: text(64),
            layer: text(16),
            duration_ms: Float64Builder::with_capacity(rows),
            cause: text(16),
            client: text(24),
            path: text(8),
            status: UInt64Builder::with_capacity(rows),
            offset: UInt64Builder::with_capacity(rows),
            rows,
        }
    }

    /// One row: `end`, read from source `source`.
    pub fn push(&mut self, source: &str, end: &EndView) {
        self.ts.append_option(end.ts);
        self.source.append_value(source);
        self.layer.append_value(end.layer.id());
        self.duration_ms.append_option(end.duration_ms);
        self.cause.append_value(end.cause);
        self.client.append_option(end.client);
        self.path.append_option(end.path);
        self.status.append_option(end.status.map(u64::from));
        self.offset.append_value(end.offset);
    }

    /// Rows pushed since the last batch.
    pub fn len(&self) -> usize {
        self.offset.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows pushed since the last batch, as a batch of the table; the columns start
    /// again empty.
    pub fn batch(&mut self) -> Result<arrow_array::RecordBatch, String> {
        // Fresh builders of the same room take the place of the finished ones.
        let mut done = std::mem::replace(self, SocketColumns::new(self.rows));
        table::batch(vec![
            Column::array("ts", Arc::new(done.ts.finish())).layout(Layout::Rising),
            Column::array("source", Arc::new(done.source.finish())),
            Column::array("layer", Arc::new(done.layer.finish())),
            Column::array("duration_ms", Arc::new(done.duration_ms.finish()))
                .layout(Layout::Measured),
            Column::array("cause", Arc::new(done.cause.finish())),
            Column::array("client", Arc::new(done.client.finish())).layout(Layout::Distinct),
            Column::array("path", Arc::new(done.path.finish())),
            Column::array("status", Arc::new(done.status.finish())),
            Column::array("offset", Arc::new(done.offset.finish())).layout(Layout::Rising),
        ])
    }
}

/// One row of `socket_histogram.parquet`: sockets of a (layer, cause) whose duration is in
/// (previous bound, `le_ms`]; `le_ms` null for the ends logged without a duration.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramRow {
    pub layer: Layer,
    pub cause: String,
    pub le_ms: Option<f64>,
    pub count: u64,
}

/// Ends per duration bucket per (layer, cause), counted one end at a time.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per layer (as `Layer as u8`), per cause: the buckets and the ends without duration.
    groups: [std::collections::BTreeMap<String, ([u64; 13], u64)>; 5],
}

impl Histogram {
    pub fn add(&mut self, end: &EndView) {
        let causes = &mut self.groups[end.layer as usize];
        // Found by reference: a run has a few causes and millions of ends.
        let g = match causes.get_mut(end.cause) {
            Some(g) => g,
            None => causes.entry(end.cause.to_string()).or_default(),
        };
        match end.duration_ms {
            Some(d) => {
                let i = BUCKETS_MS.iter().position(|&le| d <= le).unwrap_or(12);
                g.0[i] += 1;
            }
            None => g.1 += 1,
        }
    }

    /// Add the ends `other` counted.
    pub fn merge(&mut self, other: Histogram) {
        for (ours, theirs) in self.groups.iter_mut().zip(other.groups) {
            for (cause, (buckets, unknown)) in theirs {
                let g = ours.entry(cause).or_default();
                for (a, b) in g.0.iter_mut().zip(buckets) {
                    *a += b;
                }
                g.1 += unknown;
            }
        }
    }

    /// Fixed buckets per (layer, cause); every bucket is written (zeros too) so a plot of
    /// one (layer, cause) has the same x axis as any other. Not cumulative.
    pub fn rows(self) -> Vec<HistogramRow> {
        let mut rows = Vec::new();
        let groups = Layer::ALL
            .into_iter()
            .zip(self.groups)
            .flat_map(|(layer, causes)| {
                causes
                    .into_iter()
                    .map(move |(cause, counts)| (layer, cause, counts))
            });
        for (layer, cause, (buckets, unknown)) in groups {
            let timed: u64 = buckets.iter().sum();
            if timed > 0 {
                for (i, &count) in buckets.iter().enumerate() {
                    rows.push(HistogramRow {
                        layer,
                        cause: cause.clone(),
                        le_ms: Some(BUCKETS_MS[i]),
                        count,
                    });
                }
            }
            if unknown > 0 {
                rows.push(HistogramRow {
                    layer,
                    cause,
                    le_ms: None,
                    count: unknown,
                });
            }
        }
        rows
    }
}

/// [`Histogram`] of a slice of rows.
pub fn histogram(ends: &[SocketRow]) -> Vec<HistogramRow> {
    let mut h = Histogram::default();
    for r in ends {
        h.add(&r.end.view());
    }
    h.rows()
}

pub fn histogram_batch(rows: &[HistogramRow]) -> Result<arrow_array::RecordBatch, String> {
    table::batch(vec![
        Column::utf8("layer", rows.iter().map(|r| Some(r.layer.id()))),
        Column::utf8("cause", rows.iter().map(|r| Some(r.cause.as_str()))),
        Column::f64("le_ms", rows.iter().map(|r| r.le_ms)),
        Column::u64("count", rows.iter().map(|r| Some(r.count))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use coroner_parse::payload::PayloadParser;

    fn rules() -> SocketRules {
        SocketRules::new(&["/ws".into(), "/api/v1/streaming".into()])
    }

    /// `is_ws_path` against the plain reading: cut the query, then compare the prefix.
    #[test]
    fn ws_paths_match_as_the_path_before_the_query() {
        for list in [
            &["/ws", "/a?b", "/", "/api/v1/streaming"][..],
            &["", "/ws/"],
        ] {
            check_ws_paths(list);
        }
    }

    fn check_ws_paths(list: &[&str]) {
        let paths: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        let rules = SocketRules::new(&paths);
        let naive = |target: &str| {
            let path = target.split('?').next().unwrap_or_default();
            paths.iter().any(|p| {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
        };
        let parts = [
            "",
            "/",
            "ws",
            "?",
            "a",
            "b",
            "/ws",
            "x",
            "api",
            "v1",
            "streaming",
        ];
        let mut targets = vec![String::new()];
        for _ in 0..4 {
            targets = targets
                .iter()
                .flat_map(|t| parts.iter().map(move |p| format!("{t}{p}")))
                .collect();
            for t in &targets {
                assert_eq!(rules.is_ws_path(t.as_bytes()), naive(t), "{t:?}");
            }
        }
    }

    fn feed(s: &mut SocketEnds, ts: Option<Micros>, offset: u64, line: &[u8]) {
        let mut p = PayloadParser::new(0, None);
        let (_, parsed) = p.parse(line);
        let ev = Event {
            ts: ts.or(parsed.time()),
            offset,
            len: line.len() as u64 + 1,
            message: line,
            parsed: &parsed,
            request: parsed.request(),
            priority: None,
            ident: b"",
        };
        let ws_close = memchr::memmem::find(line, WS_CLOSE.as_bytes()).is_some();
        s.observe(&rules(), &ev, ws_close);
    }

    #[test]
    fn every_layer_gives_its_row() {
        let mut s = SocketEnds::default();
        feed(&mut s, None, 0, br#"10.42.3.17 - - [02/Jul/2026:15:42:00 +0000] "GET /ws HTTP/1.1" 101 0 "-" "-" 7 "t3code-t3@kubernetescrd" "http://10.0.20.31:8080" 17000ms"#);
        feed(
            &mut s,
            Some(1),
            100,
            b"2026/07/02 15:42:17 ws close dur_ms=16500 cause=downstream_closed user=wizard",
        );
        feed(&mut s, None, 200, br#"2026-07-02T15:42:17Z ERR Request failed error="Incoming request ended abruptly: context canceled" connIndex=0 dest=https://t3.example.net/ws event=0 ip=198.41.192.7 type=ws"#);
        feed(&mut s, None, 300, br#"2026-07-02T15:42:17Z ERR  error="Incoming request ended abruptly: context canceled" cfRay=7e0bcf1fbfe63daa-LHR event=1 originService=http://traefik"#);
        feed(&mut s, None, 400, br#"192.0.2.1 - - [02/Jul/2026:15:42:00 +0000] "GET /api/v1/streaming?stream=user HTTP/1.1" 502 0 "-" "-" rt=0.004"#);
        feed(
            &mut s,
            None,
            500,
            br#"192.0.2.1 - - [02/Jul/2026:15:42:00 +0000] "GET /wsx HTTP/1.1" 200 0 "-" "-""#,
        );
        let ends = all(&s);
        let got: Vec<_> = ends
            .iter()
            .map(|e| (e.layer, &*e.cause, e.duration_ms, e.offset))
            .collect();
        assert_eq!(
            got,
            vec![
                (Layer::Traefik, "closed", Some(17000.0), 0),
                (Layer::Dispatch, "downstream_closed", Some(16500.0), 100),
                (Layer::Cloudflared, "ended_abruptly", None, 200),
                (Layer::Nginx, "status_502", Some(4.0), 400),
            ]
        );
        // Traefik's end = start + duration.
        assert_eq!(ends[0].ts, Some(1_783_006_920_000_000 + 17_000_000));
        assert_eq!(ends[2].path.as_deref(), Some("/ws"));
        assert_eq!(ends[1].client.as_deref(), Some("wizard"));
    }

    fn all(s: &SocketEnds) -> Vec<SocketEnd> {
        s.iter().map(Result::unwrap).collect()
    }

    /// Every kind of end, its free-text fields too, reads back from the temporary file as
    /// it went in.
    #[test]
    fn spilled_ends_read_back_equal() {
        // A part encodes them; merged into a source that holds one end in memory, they go
        // through the temporary file.
        let mut part = SocketEnds::default();
        let mut ends = Vec::new();
        for (i, cause) in [
            "closed",
            "status_502",
            "broken pipe: \u{e9}t\u{e9}",
            "graceful",
        ]
        .into_iter()
        .enumerate()
        {
            let end = SocketEnd {
                ts: (i % 2 == 0).then_some(-5 + i as i64),
                layer: Layer::ALL[i],
                duration_ms: [None, Some(f64::NAN), Some(-0.0), Some(1e300)][i],
                cause: if i == 0 {
                    Cow::Borrowed("closed")
                } else {
                    cause.to_string().into()
                },
                client: (i != 1).then(|| format!("client {i}").into()),
                path: (i == 1).then(|| "/ws?x=1".into()),
                status: [None, Some(502), Some(u16::MAX), None][i],
                offset: u64::MAX - i as u64,
            };
            part.push(&end.view());
            ends.push(end);
        }
        let mut s = SocketEnds::with_hold(1);
        s.merge(part);
        assert!(s.ends.spilled() > 0);
        let back = all(&s);
        assert_eq!(back.len(), ends.len());
        for (b, e) in back.iter().zip(&ends) {
            // NaN != NaN: compare durations by bits.
            assert_eq!(
                b.duration_ms.map(f64::to_bits),
                e.duration_ms.map(f64::to_bits)
            );
            let (mut b, mut e) = (b.clone(), e.clone());
            (b.duration_ms, e.duration_ms) = (None, None);
            assert_eq!(b, e);
        }
        // Read without the text fields: the same end, client and path left out; a cut
        // frame still fails.
        let mut frames = Vec::new();
        s.visit(|bytes| {
            frames.push(bytes.to_vec());
            Ok(())
        })
        .unwrap();
        for (bytes, e) in frames.iter().zip(&ends) {
            let full = EndView::read(bytes).unwrap();
            let light = EndView::read_without_text(bytes).unwrap();
            assert_eq!((light.client, light.path), (None, None));
            assert_eq!(
                (
                    light.ts,
                    light.layer,
                    light.cause,
                    light.status,
                    light.offset
                ),
                (full.ts, full.layer, full.cause, full.status, full.offset)
            );
            assert_eq!(
                light.duration_ms.map(f64::to_bits),
                e.duration_ms.map(f64::to_bits)
            );
            for cut in 0..bytes.len() {
                assert_eq!(EndView::read_without_text(&bytes[..cut]), None);
            }
        }
    }

    #[test]
    fn streaming_ends_once_per_request_id_with_duration_across_chunks() {
        let id = "6d2c6a2b-0e06-4afe-a449-a42f861855b2";
        let line = |m: &str| format!("verb {id} {m}").into_bytes();
        let start = line("Starting stream from timeline:1 for user 7");
        let closed = format!("ERR! {id} Tried writing to closed socket").into_bytes();
        let mut whole = SocketEnds::default();
        let (mut a, mut b) = (SocketEnds::default(), SocketEnds::default());
        feed(&mut whole, Some(1_000_000), 0, &start);
        feed(&mut a, Some(1_000_000), 0, &start);
        for i in 0..4u64 {
            let t = Some(5_000_000 + i as i64);
            feed(&mut whole, t, 100 + i, &closed);
            feed(if i < 2 { &mut a } else { &mut b }, t, 100 + i, &closed);
        }
        // As the pipeline folds: every part into the source's ends (the parts' into one
        // that writes each row to its temporary file at once).
        let mut one = SocketEnds::default();
        one.merge(whole);
        let mut two = SocketEnds::with_hold(1);
        two.merge(a);
        two.merge(b);
        one.finish();
        two.finish();
        let ends = all(&one);
        assert_eq!(ends.len(), 1, "{ends:?}");
        assert_eq!(all(&two), ends);
        assert_eq!(ends[0].duration_ms, Some(4000.0));
        assert_eq!(ends[0].cause, "closed_socket");
    }

    /// The streaming ends of `lines` (time, request id, what the line says) as the pipeline
    /// makes them: parts cut before the indices in `cuts`, each observed alone and merged
    /// in order, `ids` request ids remembered per generation.
    fn streaming_ends(lines: &[(i64, usize, u8)], cuts: &[usize], ids: usize) -> SocketEnds {
        let mut merged = SocketEnds::with_limits(4, ids);
        let mut part = SocketEnds::with_limits(4, ids);
        for (i, &(t, id, what)) in lines.iter().enumerate() {
            if cuts.contains(&i) {
                merged.merge(std::mem::replace(
                    &mut part,
                    SocketEnds::with_limits(4, ids),
                ));
            }
            feed_stream(&mut part, i, (t, id, what));
        }
        merged.merge(part);
        merged
    }

    /// Line `i` of a streaming log: (time, request id, 0 start, 1 end, 2 closed socket,
    /// 3 an id that never ends).
    fn feed_stream(part: &mut SocketEnds, i: usize, (t, id, what): (i64, usize, u8)) {
        let id = format!("00000000-0000-4000-8000-{id:012}");
        let line = match what {
            0 => format!("verb {id} Starting stream from timeline:1 for user 7"),
            1 => format!("verb {id} Ending stream from timeline:1 for user 7"),
            2 => format!("ERR! {id} Tried writing to closed socket"),
            _ => format!("ERR! {id} Error: Invalid access token"),
        };
        feed(part, Some(t), i as u64, line.as_bytes());
    }

    /// The rule read plainly: a request id's first end line (in read order) is its end;
    /// its duration runs from the earliest line of that id read before it, when that is
    /// earlier.
    fn streaming_reference(lines: &[(i64, usize, u8)]) -> Vec<(u64, Option<f64>)> {
        let mut out = Vec::new();
        let mut ended = std::collections::HashSet::new();
        for (i, &(t, id, what)) in lines.iter().enumerate() {
            if !(what == 1 || what == 2) || !ended.insert(id) {
                continue;
            }
            let first = lines[..i].iter().filter(|l| l.1 == id).map(|l| l.0).min();
            let duration = first.filter(|&f| f < t).map(|f| (t - f) as f64 / 1000.0);
            out.push((i as u64, duration));
        }
        out
    }

    proptest::proptest! {
        /// However the lines are cut into parts, the streaming ends are the reference's:
        /// one per request id, with the duration from the lines read before it.
        #[test]
        fn streaming_ends_do_not_depend_on_the_cuts(
            lines in proptest::collection::vec((0i64..50_000_000, 0usize..12, 0u8..4), 0..80),
            cuts in proptest::collection::vec(0usize..80, 0..6),
        ) {
            let s = streaming_ends(&lines, &cuts, 1000);
            let got: Vec<_> = all(&s).iter().map(|e| (e.offset, e.duration_ms)).collect();
            proptest::prop_assert_eq!(got, streaming_reference(&lines));
        }
    }

    proptest::proptest! {
        /// "In time order" is never said of ends whose times do not rise as they are read
        /// (streaming ends, some dropped when parts merge, spilled past four), and is said
        /// of every cutting of lines whose times rise.
        #[test]
        fn time_order_is_never_claimed_wrongly(
            lines in proptest::collection::vec((0i64..50_000_000, 0usize..12, 0u8..4), 0..80),
            cuts in proptest::collection::vec(0usize..80, 0..6),
            sorted in proptest::bool::ANY,
        ) {
            let mut lines = lines;
            if sorted {
                lines.sort_by_key(|l| l.0);
            }
            let s = streaming_ends(&lines, &cuts, 1000);
            let times: Vec<Micros> = all(&s).iter().filter_map(|e| e.ts).collect();
            if s.in_time_order() {
                proptest::prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
            }
            if sorted {
                proptest::prop_assert!(s.in_time_order());
            }
        }
    }

    /// Dispatch ends (never dropped): in order or not as their times say, across parts,
    /// and their layer known.
    #[test]
    fn time_order_of_dispatch_ends_across_parts() {
        let ends = |times: &[i64]| {
            let mut merged = SocketEnds::with_hold(2);
            for (i, chunk) in times.chunks(2).enumerate() {
                let mut part = SocketEnds::with_hold(2);
                for (j, &t) in chunk.iter().enumerate() {
                    let line = "ws close dur_ms=10 cause=downstream_closed user=u";
                    feed(
                        &mut part,
                        Some(t * 1_000_000),
                        (i * 2 + j) as u64,
                        line.as_bytes(),
                    );
                }
                merged.merge(part);
            }
            merged
        };
        let rising = ends(&[1, 2, 2, 5, 9]);
        assert_eq!(rising.len(), 5);
        assert!(rising.in_time_order());
        assert!(rising.has_timed(&[Layer::Dispatch]));
        assert!(!rising.has_timed(&[Layer::Traefik, Layer::Nginx]));
        // Out of order within a part, and across the boundary of two.
        assert!(!ends(&[3, 1, 4, 5]).in_time_order());
        assert!(!ends(&[1, 4, 3, 5]).in_time_order());
        assert!(ends(&[]).in_time_order());
    }

    /// Far more streams than the ids remembered, among a flood of ids that never end (the
    /// streaming server's `Invalid access token` lines): every stream still gets its
    /// duration, and the ids held stay within two generations each.
    #[test]
    fn request_ids_are_forgotten_oldest_first_not_refused() {
        let ids = 64;
        let mut lines = Vec::new();
        let mut t = 0;
        for stream in 0..50 * ids {
            for what in [0, 3, 3, 1] {
                t += 1_000;
                // The flood's ids are new each time; the stream's id is its own.
                let id = if what == 3 {
                    1_000_000 + lines.len()
                } else {
                    stream
                };
                lines.push((t, id, what));
            }
        }
        let mut merged = SocketEnds::with_limits(4, ids);
        let mut most = 0;
        for (n, lines) in lines.chunks(37).enumerate() {
            let mut part = SocketEnds::with_limits(4, ids);
            for (i, &line) in lines.iter().enumerate() {
                feed_stream(&mut part, n * 37 + i, line);
            }
            merged.merge(part);
            most = most.max(merged.ids_held());
        }
        let ends = all(&merged);
        assert_eq!(ends.len(), 50 * ids);
        assert!(
            ends.iter().all(|e| e.duration_ms == Some(3.0)),
            "{:?}",
            ends.iter().find(|e| e.duration_ms != Some(3.0))
        );
        assert!(most <= 2 * ids, "{most} ids held");
    }

    /// The cause of a handshake answered otherwise, for every status: as `format!` says.
    #[test]
    fn status_cause_is_format_for_every_status() {
        let mut buf = [0; 12];
        for s in 0..=u16::MAX {
            assert_eq!(status_cause(s, &mut buf), format!("status_{s}"));
        }
    }

    proptest::proptest! {
        /// The borrowed text of a field is the lossy copy the rows held before, cut at any
        /// byte, any bytes.
        #[test]
        fn text_is_lossy(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80), max in 0usize..90) {
            proptest::prop_assert_eq!(text(&bytes, max), crate::findings::lossy(&bytes, max));
        }
    }

    #[test]
    fn histogram_counts_every_end_once() {
        let mk = |d: Option<f64>, cause: &'static str| SocketEnd {
            ts: None,
            layer: Layer::Dispatch,
            duration_ms: d,
            cause: cause.into(),
            client: None,
            path: None,
            status: None,
            offset: 0,
        };
        let ends = [
            mk(Some(500.0), "a"),
            mk(Some(1000.0), "a"),
            mk(Some(1000.1), "a"),
            mk(Some(1e9), "a"),
            mk(None, "a"),
            mk(Some(119_999.0), "b"),
        ];
        let rows: Vec<SocketRow> = ends
            .iter()
            .map(|e| SocketRow {
                source: "s",
                end: e,
            })
            .collect();
        let h = histogram(&rows);
        let total: u64 = h.iter().map(|r| r.count).sum();
        assert_eq!(total, ends.len() as u64);
        let a: Vec<u64> = h
            .iter()
            .filter(|r| r.cause == "a")
            .map(|r| r.count)
            .collect();
        assert_eq!(a[0], 2); // <= 1 s (1000.0 is inclusive)
        assert_eq!(a[1], 1); // <= 2 s
        assert_eq!(a[12], 1); // +inf
        assert_eq!(*a.last().unwrap(), 1); // no duration
        let b = h.iter().find(|r| r.cause == "b" && r.count == 1).unwrap();
        assert_eq!(b.le_ms, Some(120_000.0));
    }
}
