//! cloudflared (Cloudflare Tunnel) console lines: zerolog `ConsoleWriter` with RFC 3339 UTC
//! times. Traefik v3's application log uses the same writer and parses here too.
//!
//! ```text
//! line    = time " " level " " [caller " > "] message [" " fields]
//! time    = RFC 3339, seconds, `Z` (cloudflared forces UTC; Traefik may print an offset)
//! level   = "TRC" / "DBG" / "INF" / "WRN" / "ERR" / "FTL" / "PNC" / "???"
//! fields  = pair *(" " pair)        ; sorted by key, except `error` moved to the front
//! pair    = key "=" (go-quoted / bare)
//! key     = [A-Za-z_] *[A-Za-z0-9_.-]
//! ```
//!
//! Example: `2024-07-08T10:00:33Z WRN Connection terminated error="timeout: no recent network
//! activity" connIndex=3`.
//!
//! Where the message ends: zerolog writes the message verbatim, so it may hold spaces, `=`
//! and quotes. The fields start at the **first word start from which the whole rest of the
//! line is a valid field list**: every token `key=value` with a well-formed key, quoted
//! values closed, and keys strictly ascending (bytewise, as Go's `sort.Strings`) except that
//! `error` may come first. The ordering rule is what rejects `=` inside messages (`cache
//! size=10 exceeded limit=5 connIndex=0` has message `cache size=10 exceeded limit=5`); a
//! message that itself ends in sorted `k=v` words cannot be told apart and those words become
//! fields. The search is bounded (a few passes over the line): a line built to defeat it gets
//! no fields at all, never quadratic time.
//!
//! Traps handled:
//! - The empty message (`ERR  error=...`, proxy logger): two spaces, `message` is empty. One
//!   space (collapsed in pastes) works too.
//! - Values quoted only when needed (`dest=https://a//b?x=1&y=2` is bare); quoted values are
//!   raw with Go escapes: decode with [`unescape_into`].
//! - Old wordings: `Retrying connection in up to 1s seconds`, `Connection <uuid> registered`,
//!   no `event=`, uppercase colo (`location=SEA`): all read by [`CloudflaredRecord::kind`].
//! - WRN vs ERR for the same event (level flip when other connections are alive): compare by
//!   [`CloudflaredRecord::kind`], not by level.
//! - The same failed request logged twice (empty-message proxy line with `event=1` and
//!   `Request failed` with `event=0`): [`Kind::UnableToReachOrigin`] etc. vs
//!   [`Kind::RequestFailed`] keep them apart; [`CloudflaredRecord::cause`] classifies either.
//! - Traefik v3 debug `Caller()`: `path/file.go:123 > message` goes to `caller` (looked for
//!   at DBG and TRC only, the levels Traefik enables it at).
//! - Multi-line output (quick-tunnel banner `INF |  ...  |`, panics): each line is its own
//!   record; without `=` in it the whole text is the message.
//! - Not handled: a JSON object/array value (`json.Marshal`, unquoted) holding a space
//!   inside one of its strings ends at that space, so the split falls after it.
//! - ANSI colour codes (console was a TTY, Traefik v3 by default): [`parse`] rejects a line
//!   starting with ESC; run [`strip_ansi_into`] first (one copy, only for such lines).
//! - Seconds-only times: many lines share a second; [`parse_cached`] skips the calendar math
//!   for them. File order is the only order within a second.
//! - syslog/docker-compose prefixes and `--logfile` JSON are the envelope's and JSON
//!   parser's business: the line must start at the time.
//!
//! ```
//! use coroner_parse::formats::cloudflared::{self, Kind, Level};
//! let line = b"2024-07-08T10:00:33Z WRN Connection terminated error=\"timeout: no recent network activity\" connIndex=3";
//! let r = cloudflared::parse(line).unwrap();
//! assert_eq!(r.time, Some(1_720_432_833_000_000));
//! assert_eq!(r.level, Level::Warn);
//! assert_eq!(r.message, b"Connection terminated");
//! assert_eq!(r.kind(), Kind::ConnectionTerminated);
//! assert_eq!(r.conn_index(), Some(3));
//! assert_eq!(r.error().unwrap().value, b"timeout: no recent network activity");
//! assert_eq!(r.cause(), Some(cloudflared::Cause::IdleTimeout));
//! ```

use memchr::{memchr, memrchr};

use crate::error::ParseError;
pub use crate::formats::logfmt::{Pair, Pairs, unescape_into};
use crate::formats::logfmt::{closing_quote, pairs};
use crate::literal::Literal;
use crate::timestamp::{Micros, TimeCache, parse_rfc3339};

/// zerolog's console level abbreviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    Panic,
    /// `???`: an event without a level.
    Unknown,
}

/// `type=` of a proxied request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnType {
    Http,
    Ws,
    Tcp,
    Other,
}

/// What a line is about, from its message wording (and, for the empty-message proxy lines,
/// from its `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    StartingTunnel,
    /// `Version 2025.1.0 (Checksum ...)`.
    Version,
    RegisteringConnection,
    /// `Registered tunnel connection`, and the old `Connection <uuid> registered`.
    RegisteredConnection,
    UnregisteredConnection,
    /// `Failed to serve quic connection` / `failed to serve tunnel connection`.
    FailedToServeConnection,
    ServeTunnelError,
    /// `Retrying connection in up to 1m4s` (also the old `1s seconds`); the backoff in
    /// seconds when it parsed.
    RetryingConnection {
        backoff_secs: Option<u32>,
    },
    ConnectionTerminated,
    /// `Failed to dial a quic connection` / `Failed to create new quic connection`.
    FailedToDial,
    LostConnectionWithEdge,
    /// The connection logger's line (`event=0`, with `dest`, `ip`, `type`).
    RequestFailed,
    /// Empty message, `error="Unable to reach the origin service..."` (proxy logger).
    UnableToReachOrigin,
    /// Empty message, `error="Incoming request ended abruptly..."` (client went away).
    RequestEndedAbruptly,
    /// Empty message, `error="stream N canceled by remote..."` / stream reset.
    StreamCanceled,
    /// Empty message with any other error.
    ProxyError,
    FailedToServeIncomingRequest,
    /// A message of its own wording carrying quic-go's idle timeout
    /// (`writing call: timeout: no recent network activity`).
    IdleTimeout,
    UpdatedConfiguration,
    InitiatingGracefulShutdown,
    GracefulShutdownSignalled,
    TunnelServerStopped,
    Other,
}

/// The cause in an `error` value (or in the message when there is no `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// `timeout: no recent network activity` (quic-go `IdleTimeoutError`).
    IdleTimeout,
    /// `Unable to reach the origin service`.
    OriginUnreachable,
    /// `Incoming request ended abruptly`.
    RequestEndedAbruptly,
    /// `stream N canceled by ...`, stream reset.
    StreamCanceled,
    /// `connection with edge closed`.
    EdgeClosed,
    /// `context canceled` alone or as the last part.
    ContextCanceled,
    Other,
}

/// One console line. `message` and `fields_text` borrow from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudflaredRecord<'a> {
    /// UTC µs; always present in a parsed line.
    pub time: Option<Micros>,
    pub level: Level,
    /// Traefik v3 debug caller (`pkg/server/server.go:123`), cloudflared never prints it.
    pub caller: Option<&'a [u8]>,
    /// May be empty (proxy logger) and may contain spaces, `=` and quotes.
    pub message: &'a [u8],
    /// The `key=value` tail, empty when none; iterate with [`CloudflaredRecord::fields`].
    pub fields_text: &'a [u8],
}

/// Parse one console line (no trailing newline).
pub fn parse(line: &[u8]) -> Result<CloudflaredRecord<'_>, ParseError> {
    parse_time_with(line, |b| parse_rfc3339(b, 0))
}

/// [`parse`] with a [`TimeCache`] for a run of lines from one source: consecutive lines share
/// their second, so the calendar math is skipped. Same result as [`parse`].
pub fn parse_cached<'a>(
    line: &'a [u8],
    cache: &mut TimeCache,
) -> Result<CloudflaredRecord<'a>, ParseError> {
    parse_time_with(line, |b| cache.rfc3339(b, 0))
}

fn parse_time_with(
    line: &[u8],
    time: impl FnOnce(&[u8]) -> Option<(Micros, usize)>,
) -> Result<CloudflaredRecord<'_>, ParseError> {
    if line.first() == Some(&0x1b) {
        return Err(ParseError::new(
            "a time, not an ANSI escape (strip_ansi_into first)",
            0,
        ));
    }
    let Some((time, n)) = time(line) else {
        return Err(ParseError::new("an RFC 3339 time", 0));
    };
    if line.get(n) != Some(&b' ') {
        return Err(ParseError::new("' ' after the time", n));
    }
    let level = match line.get(n + 1..n + 4) {
        Some(b"TRC") => Level::Trace,
        Some(b"DBG") => Level::Debug,
        Some(b"INF") => Level::Info,
        Some(b"WRN") => Level::Warn,
        Some(b"ERR") => Level::Error,
        Some(b"FTL") => Level::Fatal,
        Some(b"PNC") => Level::Panic,
        Some(b"???") => Level::Unknown,
        _ => return Err(ParseError::new("a 3-letter level", n + 1)),
    };
    let mut rest: &[u8] = match line.get(n + 4) {
        None => &[],
        Some(b' ') => &line[n + 5..],
        Some(_) => return Err(ParseError::new("' ' after the level", n + 4)),
    };
    // Traefik enables `.Caller()` only at debug and trace: don't look for it elsewhere.
    let caller = if matches!(level, Level::Debug | Level::Trace) {
        caller(rest).map(|(c, skip)| {
            rest = &rest[skip..];
            c
        })
    } else {
        None
    };
    let split = fields_start(rest).unwrap_or(rest.len());
    let mut message = &rest[..split];
    while let [m @ .., b' '] = message {
        message = m;
    }
    Ok(CloudflaredRecord {
        time: Some(time),
        level,
        caller,
        message,
        fields_text: &rest[split..],
    })
}

/// `file.go:123 > ` at the start: (caller, bytes to skip).
fn caller(rest: &[u8]) -> Option<(&[u8], usize)> {
    let sp = memchr(b' ', rest)?;
    let word = &rest[..sp];
    let colon = memrchr(b':', word)?;
    let digits = &word[colon + 1..];
    let ok = colon > 0
        && !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && rest.get(sp..sp + 2) == Some(b" >")
        && matches!(rest.get(sp + 2), None | Some(b' '));
    ok.then(|| (word, (sp + 3).min(rest.len())))
}

#[inline]
fn key_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// `[A-Za-z0-9_.-]`, as a table: this test runs on every byte of every key.
static KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
        c += 1;
    }
    t
};

#[inline]
fn key_byte(c: u8) -> bool {
    KEY_BYTE[usize::from(c)]
}

/// Offset in `rest` (after the level) where the field list starts: see the module docs.
fn fields_start(rest: &[u8]) -> Option<usize> {
    // Each failed candidate costs at most one pass over the tail; stop after a few passes.
    let mut budget = rest.len().saturating_mul(4).saturating_add(256);
    let mut from = 0;
    loop {
        let eq = from + memchr(b'=', rest.get(from..)?)?;
        let ws = memrchr(b' ', &rest[..eq]).map_or(0, |s| s + 1);
        from = eq + 1;
        let key = &rest[ws..eq];
        // A word holding an earlier `=` (`a=b=c`) fails here too: `=` is not a key byte.
        if key.is_empty() || !key_start(key[0]) || !key.iter().all(|&c| key_byte(c)) {
            continue;
        }
        match valid_tail(rest, ws, &mut budget) {
            Ok(()) => return Some(ws),
            Err(true) => return None,
            Err(false) => {}
        }
    }
}

/// `a > b` bytewise; sorted keys mostly differ in their first byte, which spares a memcmp.
#[inline]
fn key_gt(a: &[u8], b: &[u8]) -> bool {
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x > y,
        _ => a > b,
    }
}

/// Whether `rest[start..]` is a sorted field list. `Err(true)`: out of budget.
fn valid_tail(rest: &[u8], start: usize, budget: &mut usize) -> Result<(), bool> {
    let mut i = start;
    let mut prev: Option<&[u8]> = None;
    let mut first = true;
    loop {
        let k0 = i;
        while rest.get(i).is_some_and(|&c| key_byte(c)) {
            i += 1;
        }
        let key = &rest[k0..i];
        if key.is_empty() || !key_start(key[0]) || rest.get(i) != Some(&b'=') {
            return Err(false);
        }
        if let Some(p) = prev
            && !(key_gt(key, p) || (first && p == b"error"))
        {
            return Err(false);
        }
        if prev.is_some() {
            first = false;
        }
        prev = Some(key);
        i += 1;
        if rest.get(i) == Some(&b'"') {
            let close = closing_quote(&rest[i + 1..]).ok_or(false)?;
            i += close + 2;
        } else {
            i += memchr(b' ', &rest[i..]).unwrap_or(rest.len() - i);
        }
        *budget = budget.checked_sub(i - k0).ok_or(true)?;
        match rest.get(i) {
            None => return Ok(()),
            Some(b' ') => {}
            Some(_) => return Err(false),
        }
        while rest.get(i) == Some(&b' ') {
            i += 1;
        }
        if i == rest.len() {
            return Ok(());
        }
    }
}

impl<'a> CloudflaredRecord<'a> {
    /// The `key=value` fields, in line order.
    pub fn fields(&self) -> Pairs<'a> {
        pairs(self.fields_text)
    }

    /// The first field with this key.
    pub fn field(&self, key: &[u8]) -> Option<Pair<'a>> {
        self.fields().find(|p| p.key == key)
    }

    fn value(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.field(key).map(|p| p.value)
    }

    /// `error=` (usually quoted: decode with [`unescape_into`]).
    pub fn error(&self) -> Option<Pair<'a>> {
        self.field(b"error")
    }

    /// `connIndex=` (0..=3, one per HA connection).
    pub fn conn_index(&self) -> Option<u32> {
        self.value(b"connIndex").and_then(parse_u32)
    }

    /// `event=` (0 = cloudflared, 1 = HTTP, 2 = TCP...; absent before 2022).
    pub fn event(&self) -> Option<u32> {
        self.value(b"event").and_then(parse_u32)
    }

    /// `ip=`: the Cloudflare edge address, not the client's.
    pub fn ip(&self) -> Option<&'a [u8]> {
        self.value(b"ip")
    }

    /// `location=`: the colo (`lhr10`; older versions: uppercase IATA `SEA`).
    pub fn location(&self) -> Option<&'a [u8]> {
        self.value(b"location")
    }

    /// `type=`.
    pub fn type_(&self) -> Option<ConnType> {
        self.value(b"type").map(|t| match t {
            b"http" => ConnType::Http,
            b"ws" => ConnType::Ws,
            b"tcp" => ConnType::Tcp,
            _ => ConnType::Other,
        })
    }

    /// `dest=` (bare with `&`/`//`, quoted when it has a space or non-ASCII).
    pub fn dest(&self) -> Option<Pair<'a>> {
        self.field(b"dest")
    }

    /// `cfRay=` (`7e0bcf1fbfe63daa-SIN`).
    pub fn cf_ray(&self) -> Option<&'a [u8]> {
        self.value(b"cfRay")
    }

    /// `originService=`.
    pub fn origin_service(&self) -> Option<Pair<'a>> {
        self.field(b"originService")
    }

    /// The cause in `error` (or in the message when there is no `error` field).
    pub fn cause(&self) -> Option<Cause> {
        match self.error() {
            Some(e) => Some(cause(e.value)),
            None if IDLE.contains(self.message) => Some(Cause::IdleTimeout),
            None => None,
        }
    }

    /// What the line is about: see [`Kind`].
    pub fn kind(&self) -> Kind {
        let m = self.message;
        if m.is_empty() {
            return match self.error().map(|e| cause(e.value)) {
                Some(Cause::OriginUnreachable) => Kind::UnableToReachOrigin,
                Some(Cause::RequestEndedAbruptly) => Kind::RequestEndedAbruptly,
                Some(Cause::StreamCanceled) => Kind::StreamCanceled,
                Some(_) => Kind::ProxyError,
                None => Kind::Other,
            };
        }
        const EXACT: &[(&[u8], Kind)] = &[
            (b"Request failed", Kind::RequestFailed),
            (b"Connection terminated", Kind::ConnectionTerminated),
            (b"Serve tunnel error", Kind::ServeTunnelError),
            (b"Registered tunnel connection", Kind::RegisteredConnection),
            (
                b"Unregistered tunnel connection",
                Kind::UnregisteredConnection,
            ),
            (
                b"Registering tunnel connection",
                Kind::RegisteringConnection,
            ),
            (
                b"Failed to serve quic connection",
                Kind::FailedToServeConnection,
            ),
            (
                b"failed to serve tunnel connection",
                Kind::FailedToServeConnection,
            ),
            (
                b"Failed to serve tunnel connection",
                Kind::FailedToServeConnection,
            ),
            (b"Failed to dial a quic connection", Kind::FailedToDial),
            (b"Failed to create new quic connection", Kind::FailedToDial),
            (
                b"Lost connection with the edge",
                Kind::LostConnectionWithEdge,
            ),
            (
                b"failed to serve incoming request",
                Kind::FailedToServeIncomingRequest,
            ),
            (b"Updated to new configuration", Kind::UpdatedConfiguration),
            (
                b"Initiating graceful shutdown",
                Kind::InitiatingGracefulShutdown,
            ),
            (
                b"Graceful shutdown signalled",
                Kind::GracefulShutdownSignalled,
            ),
            (b"Tunnel server stopped", Kind::TunnelServerStopped),
            (b"Starting tunnel", Kind::StartingTunnel),
            (b"Version ", Kind::Version),
        ];
        for (text, kind) in EXACT {
            if m.starts_with(text) {
                return *kind;
            }
        }
        if let Some(d) = m.strip_prefix(b"Retrying connection in up to ") {
            let end = memchr(b' ', d).unwrap_or(d.len());
            return Kind::RetryingConnection {
                backoff_secs: go_duration_secs(&d[..end]),
            };
        }
        // 2021: `Connection <uuid> registered`.
        if m.starts_with(b"Connection ") && m.ends_with(b" registered") {
            return Kind::RegisteredConnection;
        }
        if IDLE.contains(m) {
            return Kind::IdleTimeout;
        }
        if CANCELED_BY_REMOTE.contains(m) || STREAM_RESET.contains(m) {
            return Kind::StreamCanceled;
        }
        Kind::Other
    }
}

// The phrases searched for in messages and error values (searchers built once).
static IDLE: Literal = Literal::new(b"timeout: no recent network activity");
static CANCELED_BY_REMOTE: Literal = Literal::new(b"canceled by remote");
static CANCELED_BY: Literal = Literal::new(b" canceled by ");
static STREAM_RESET: Literal = Literal::new(b"stream reset");
static EDGE_CLOSED: Literal = Literal::new(b"connection with edge closed");

/// Classify an `error` value (raw; the phrases below hold no escapable bytes).
pub fn cause(err: &[u8]) -> Cause {
    if err.starts_with(b"Unable to reach the origin service") {
        Cause::OriginUnreachable
    } else if err.starts_with(b"Incoming request ended abruptly") {
        Cause::RequestEndedAbruptly
    } else if IDLE.contains(err) {
        Cause::IdleTimeout
    } else if (err.starts_with(b"stream ") && CANCELED_BY.contains(err))
        || STREAM_RESET.contains(err)
    {
        Cause::StreamCanceled
    } else if EDGE_CLOSED.contains(err) {
        Cause::EdgeClosed
    } else if err.ends_with(b"context canceled") {
        Cause::ContextCanceled
    } else {
        Cause::Other
    }
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        if !c.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u32::from(c - b'0'))
    })
}

/// A Go `time.Duration` string (`1m4s`, `500ms`, `1h0m0s`, `2.5s`) in whole seconds.
pub fn go_duration_secs(d: &[u8]) -> Option<u32> {
    let mut total_ms: u64 = 0;
    let mut i = 0;
    if d.is_empty() {
        return None;
    }
    while i < d.len() {
        let s = i;
        while d.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int = parse_u32(&d[s..i])?;
        // A fraction is kept to the millisecond: backoffs are whole seconds anyway.
        let mut frac_ms = 0u64;
        if d.get(i) == Some(&b'.') {
            i += 1;
            let f = i;
            while d.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            for (k, &c) in d[f..i].iter().take(3).enumerate() {
                frac_ms += u64::from(c - b'0') * [100, 10, 1][k];
            }
        }
        let u = i;
        while d
            .get(i)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == 0xc2 || *c == 0xb5)
        {
            i += 1;
        }
        let unit_ms: u64 = match &d[u..i] {
            b"h" => 3_600_000,
            b"m" => 60_000,
            b"s" => 1000,
            b"ms" => 1,
            b"us" | b"\xc2\xb5s" | b"ns" => 0,
            _ => return None,
        };
        let part = u64::from(int)
            .checked_mul(unit_ms)?
            .checked_add(frac_ms * unit_ms / 1000)?;
        total_ms = total_ms.checked_add(part)?;
    }
    u32::try_from(total_ms / 1000).ok()
}

/// Copy `line` into `out` (cleared first) without ANSI CSI sequences (`ESC [ ... final`), as
/// zerolog writes them on a terminal. Then [`parse`] the copy.
pub fn strip_ansi_into(line: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < line.len() {
        let Some(rel) = memchr(0x1b, &line[i..]) else {
            out.extend_from_slice(&line[i..]);
            return;
        };
        out.extend_from_slice(&line[i..i + rel]);
        let esc = i + rel;
        if line.get(esc + 1) != Some(&b'[') {
            out.push(0x1b);
            i = esc + 1;
            continue;
        }
        let mut j = esc + 2;
        while line.get(j).is_some_and(|c| (0x20..=0x3f).contains(c)) {
            j += 1;
        }
        // The final byte, if the sequence was not cut off.
        i = if line.get(j).is_some_and(|c| (0x40..=0x7e).contains(c)) {
            j + 1
        } else {
            j
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &[&str] = &[
        r#"2024-07-10T17:08:33Z ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout" connIndex=0 event=1 ingressRule=4 originService=http://192.0.2.180:3000"#,
        r#"2024-07-10T17:08:33Z ERR Request failed error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout" connIndex=0 dest=https://graphs.example.com/ event=0 ip=198.51.100.47 type=http"#,
        r#"2024-07-08T10:00:33Z WRN Connection terminated error="timeout: no recent network activity" connIndex=3"#,
        "2023-11-17T22:24:27Z INF Registered tunnel connection connIndex=3 connection=63309d36-92f2-43af-a47d-c9cb553177f2 event=0 ip=198.51.100.193 location=bru01 protocol=quic",
        "2023-11-17T22:24:58Z ERR writing call: timeout: no recent network activity",
        "2024-12-13T03:10:06Z INF Retrying connection in up to 1m4s connIndex=0 event=0 ip=198.51.100.13",
        "2026-07-15T18:38:40Z INF Initiating graceful shutdown due to signal terminated ...",
        "2026-07-15T18:38:42Z ERR Connection terminated connIndex=1",
        r#"2023-07-03T02:48:53Z ERR Request failed error="Incoming request ended abruptly: context canceled" connIndex=2 dest=https://hooks.example.com//deleteLast?server=2&typetest=2 event=0 ip=198.51.100.9 type=http"#,
        r#"2025-06-21T01:16:24Z ERR  error="stream 5081 canceled by remote with error code 0" connIndex=1 event=1 ingressRule=4 originService=https://192.0.2.45:5001"#,
        "2022-08-21T00:22:25Z INF Retrying connection in up to 1s seconds connIndex=2 ip=198.51.100.13",
        "2021-09-01T14:33:20Z INF Connection c0a8d328-a652-461d-bfc8-535d9c91e56d registered connIndex=0 location=SEA",
        r#"2021-09-01T14:34:09Z ERR error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: EOF" cfRay=687f37bd84af59ce-IAD originService=https://192.0.2.11:18443"#,
        "2024-07-10T17:08:33Z WRN cache size=10 exceeded limit=5 connIndex=0",
        r#"2024-07-10T17:08:33Z INF Updated to new configuration config="{\"ingress\":[{\"service\":\"http://a b=c\"}]}" version=3"#,
        r#"2024-07-10T17:08:33Z ERR failed to parse "a=b c" error="x \"y\"""#,
        "2024-01-01T12:00:00+01:00 DBG pkg/server/server.go:123 > Provider event received providerName=docker",
        "2024-07-10T17:08:33Z INF",
    ];

    fn p(line: &str) -> CloudflaredRecord<'_> {
        parse(line.as_bytes()).unwrap()
    }

    #[test]
    fn empty_message_double_space() {
        let r = p(FIXTURES[0]);
        assert_eq!(r.time, Some(1_720_631_313_000_000));
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.message, b"");
        assert_eq!(r.kind(), Kind::UnableToReachOrigin);
        assert_eq!(r.cause(), Some(Cause::OriginUnreachable));
        assert_eq!(r.event(), Some(1));
        assert_eq!(
            r.origin_service().unwrap().value,
            b"http://192.0.2.180:3000"
        );
        assert_eq!(r.fields().count(), 5);
        // The 2021 pastes collapse it to one space.
        let r = p(FIXTURES[12]);
        assert_eq!(r.message, b"");
        assert_eq!(r.kind(), Kind::UnableToReachOrigin);
        assert_eq!(r.cf_ray(), Some(&b"687f37bd84af59ce-IAD"[..]));
        assert_eq!(r.event(), None);
    }

    #[test]
    fn request_failed_is_the_other_half() {
        let r = p(FIXTURES[1]);
        assert_eq!(r.message, b"Request failed");
        assert_eq!(r.kind(), Kind::RequestFailed);
        assert_eq!(r.cause(), Some(Cause::OriginUnreachable));
        assert_eq!(r.conn_index(), Some(0));
        assert_eq!(r.ip(), Some(&b"198.51.100.47"[..]));
        assert_eq!(r.type_(), Some(ConnType::Http));
        assert_eq!(r.dest().unwrap().value, b"https://graphs.example.com/");
    }

    #[test]
    fn dest_with_ampersand_and_double_slash() {
        let r = p(FIXTURES[8]);
        let d = r.dest().unwrap();
        assert_eq!(
            d.value,
            b"https://hooks.example.com//deleteLast?server=2&typetest=2"
        );
        assert!(!d.quoted);
        assert_eq!(r.cause(), Some(Cause::RequestEndedAbruptly));
        assert_eq!(r.kind(), Kind::RequestFailed);
    }

    #[test]
    fn idle_timeout_and_level_flip() {
        let r = p(FIXTURES[2]);
        assert_eq!(
            (r.level, r.kind()),
            (Level::Warn, Kind::ConnectionTerminated)
        );
        assert_eq!(r.cause(), Some(Cause::IdleTimeout));
        let err = "2024-07-08T10:00:33Z ERR Connection terminated error=\"timeout: no recent network activity\" connIndex=3";
        assert_eq!(p(err).kind(), r.kind());
        let r = p(FIXTURES[4]);
        assert_eq!(
            r.message,
            b"writing call: timeout: no recent network activity"
        );
        assert_eq!(r.fields_text, b"");
        assert_eq!(r.kind(), Kind::IdleTimeout);
        assert_eq!(r.cause(), Some(Cause::IdleTimeout));
    }

    #[test]
    fn graceful_shutdown_without_error() {
        assert_eq!(p(FIXTURES[6]).kind(), Kind::InitiatingGracefulShutdown);
        let r = p(FIXTURES[7]);
        assert_eq!(r.kind(), Kind::ConnectionTerminated);
        assert_eq!(r.error(), None);
        assert_eq!(r.cause(), None);
        assert_eq!(r.conn_index(), Some(1));
    }

    #[test]
    fn registration_new_and_old() {
        let r = p(FIXTURES[3]);
        assert_eq!(r.kind(), Kind::RegisteredConnection);
        assert_eq!(r.location(), Some(&b"bru01"[..]));
        assert_eq!(r.field(b"protocol").unwrap().value, b"quic");
        let r = p(FIXTURES[11]);
        assert_eq!(r.kind(), Kind::RegisteredConnection);
        assert_eq!(r.location(), Some(&b"SEA"[..]));
        assert_eq!(r.event(), None);
    }

    #[test]
    fn retry_backoff_old_and_new() {
        assert_eq!(
            p(FIXTURES[5]).kind(),
            Kind::RetryingConnection {
                backoff_secs: Some(64)
            }
        );
        let r = p(FIXTURES[10]);
        assert_eq!(r.message, b"Retrying connection in up to 1s seconds");
        assert_eq!(
            r.kind(),
            Kind::RetryingConnection {
                backoff_secs: Some(1)
            }
        );
        assert_eq!(go_duration_secs(b"1h2m3.5s"), Some(3723));
        assert_eq!(go_duration_secs(b"500ms"), Some(0));
        assert_eq!(go_duration_secs(b"5x"), None);
        assert_eq!(go_duration_secs(b"99999999999h"), None);
    }

    #[test]
    fn stream_canceled() {
        let r = p(FIXTURES[9]);
        assert_eq!(r.kind(), Kind::StreamCanceled);
        assert_eq!(r.cause(), Some(Cause::StreamCanceled));
    }

    #[test]
    fn equals_in_message_resolved_by_key_order() {
        let r = p(FIXTURES[13]);
        assert_eq!(r.message, b"cache size=10 exceeded limit=5");
        assert_eq!(r.fields_text, b"connIndex=0");
    }

    #[test]
    fn quoted_value_with_spaces_and_equals() {
        let r = p(FIXTURES[14]);
        assert_eq!(r.message, b"Updated to new configuration");
        assert_eq!(r.kind(), Kind::UpdatedConfiguration);
        let c = r.field(b"config").unwrap();
        let mut out = Vec::new();
        unescape_into(c.value, &mut out);
        assert_eq!(out, br#"{"ingress":[{"service":"http://a b=c"}]}"#);
        assert_eq!(r.field(b"version").unwrap().value, b"3");
    }

    #[test]
    fn quotes_in_message() {
        let r = p(FIXTURES[15]);
        assert_eq!(r.message, br#"failed to parse "a=b c""#);
        assert_eq!(r.error().unwrap().value, br#"x \"y\""#);
    }

    #[test]
    fn quoted_dest_with_space_and_non_ascii() {
        let line = "2024-07-10T17:08:33Z ERR Request failed error=\"x\" connIndex=1 dest=\"https://shop.example.com/a b/café\\xff\" event=0 ip=198.51.100.2 type=ws";
        let r = p(line);
        let d = r.dest().unwrap();
        assert!(d.quoted);
        let mut out = Vec::new();
        unescape_into(d.value, &mut out);
        assert_eq!(out, b"https://shop.example.com/a b/caf\xc3\xa9\xff");
        assert_eq!(r.type_(), Some(ConnType::Ws));
    }

    #[test]
    fn banner_and_settings_have_no_fields() {
        let banner = "2024-07-10T17:08:33Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |";
        let r = p(banner);
        assert_eq!(r.message, &banner.as_bytes()[25..]);
        assert_eq!(r.fields_text, b"");
        let settings = "2024-07-10T17:08:33Z INF Settings: map[no-autoupdate:true url:http://localhost:8080/?a=b]";
        let r = p(settings);
        assert!(r.message.ends_with(b"?a=b]"));
        assert_eq!(r.fields_text, b"");
    }

    #[test]
    fn message_ending_in_sorted_pairs_is_taken_as_fields() {
        // The documented limit of the heuristic: indistinguishable from real fields.
        let r = p("2024-07-10T17:08:33Z INF attempt=3 backoff=2s connIndex=0");
        assert_eq!(r.message, b"");
        assert_eq!(r.fields().count(), 3);
        let r = p("2024-07-10T17:08:33Z INF bad input \"abc error=\"x\" k= z=1");
        assert_eq!(r.message, b"bad input \"abc");
        assert_eq!(r.error().unwrap().value, b"x");
        assert_eq!(r.field(b"k").unwrap().value, b"");
    }

    #[test]
    fn envelope_prefixes_are_not_ours() {
        let compose = "cloudflared_1  | 2022-06-01T16:23:12Z INF Connection c206cf44-945f-4c3c-a85c-af60c6338dc2 registered connIndex=0 location=ORD";
        assert_eq!(parse(compose.as_bytes()).unwrap_err().at, 0);
        let r = p(&compose[17..]);
        assert_eq!(r.kind(), Kind::RegisteredConnection);
        assert_eq!(r.location(), Some(&b"ORD"[..]));
    }

    #[test]
    fn traefik_caller_and_offset() {
        let r = p(FIXTURES[16]);
        assert_eq!(r.time, Some(1_704_106_800_000_000));
        assert_eq!(r.caller, Some(&b"pkg/server/server.go:123"[..]));
        assert_eq!(r.message, b"Provider event received");
        assert_eq!(r.field(b"providerName").unwrap().value, b"docker");
    }

    #[test]
    fn level_only_line() {
        let r = p(FIXTURES[17]);
        assert_eq!(
            (r.level, r.message, r.fields_text),
            (Level::Info, &b""[..], &b""[..])
        );
        assert_eq!(r.kind(), Kind::Other);
    }

    #[test]
    fn ansi_is_rejected_then_stripped() {
        let line = b"\x1b[90m2024-07-10T17:08:33Z\x1b[0m \x1b[31mERR\x1b[0m Request failed \x1b[36mconnIndex=\x1b[0m0";
        assert_eq!(parse(line).unwrap_err().at, 0);
        let mut out = Vec::new();
        strip_ansi_into(line, &mut out);
        let r = parse(&out).unwrap();
        assert_eq!(r.kind(), Kind::RequestFailed);
        assert_eq!(r.conn_index(), Some(0));
    }

    #[test]
    fn rejects_other_shapes() {
        assert_eq!(
            parse(b"2024-07-10T17:08:33Z ERROR not zerolog").unwrap_err(),
            ParseError::new("' ' after the level", 24)
        );
        assert_eq!(parse(b"Apr  6 07:20:21 host x").unwrap_err().at, 0);
        assert_eq!(parse(b"2024-07-10T17:08:33Z XYZ a").unwrap_err().at, 21);
    }

    #[test]
    fn adversarial_tail_is_bounded() {
        // A long sorted field list that turns out not to be one at its last word: every
        // candidate would scan to the end.
        let mut line = b"2024-07-10T17:08:33Z INF msg ".to_vec();
        for i in 0..50_000 {
            line.extend_from_slice(format!("k{i:06}=1 ").as_bytes());
        }
        line.extend_from_slice(b"tail");
        let start = std::time::Instant::now();
        let r = parse(&line).unwrap();
        assert!(start.elapsed().as_secs() < 2);
        assert_eq!(r.fields_text, b"");
        assert_eq!(r.message.len(), line.len() - 25);
    }

    #[test]
    fn cached_parse_agrees() {
        let mut cache = TimeCache::new();
        for _ in 0..2 {
            for f in FIXTURES {
                assert_eq!(parse_cached(f.as_bytes(), &mut cache), parse(f.as_bytes()));
            }
        }
    }

    #[test]
    fn never_panics() {
        let mut buf = Vec::new();
        let check = |l: &[u8], buf: &mut Vec<u8>| {
            if let Ok(r) = parse(l) {
                let _ = (
                    r.kind(),
                    r.cause(),
                    r.conn_index(),
                    r.type_(),
                    r.fields().count(),
                );
            }
            strip_ansi_into(l, buf);
        };
        for line in FIXTURES {
            let line = line.as_bytes();
            for cut in 0..=line.len() {
                check(&line[..cut], &mut buf);
            }
            for i in 0..line.len() {
                for b in [0u8, b'"', b'=', b' ', b'\\', 0xff, 0x1b] {
                    let mut l = line.to_vec();
                    l[i] = b;
                    check(&l, &mut buf);
                }
            }
        }
    }

    /// `cargo test --release -- --ignored --nocapture`: one core, ~300 MB of console lines
    /// (the fixtures above plus the common connection-churn lines, repeated).
    #[test]
    #[ignore]
    fn throughput() {
        let mut text = Vec::new();
        while text.len() < 300 << 20 {
            for f in FIXTURES[..13].iter().chain(&FIXTURES[..6]) {
                text.extend_from_slice(f.as_bytes());
                text.push(b'\n');
            }
        }
        let mut lines = Vec::new();
        let mut at = 0;
        for nl in memchr::memchr_iter(b'\n', &text) {
            lines.push(&text[at..nl]);
            at = nl + 1;
        }
        for round in 0..3 {
            let start = std::time::Instant::now();
            let mut acc = 0usize;
            for line in &lines {
                if let Ok(r) = parse(line) {
                    acc += r.message.len() + r.fields_text.len();
                }
            }
            let parse_secs = start.elapsed().as_secs_f64();
            let start = std::time::Instant::now();
            let mut cache = TimeCache::new();
            for line in &lines {
                if let Ok(r) = parse_cached(line, &mut cache) {
                    acc += r.message.len() + r.fields_text.len();
                }
            }
            let cached_secs = start.elapsed().as_secs_f64();
            let start = std::time::Instant::now();
            for line in &lines {
                if let Ok(r) = parse(line) {
                    acc += usize::from(r.kind() == Kind::Other);
                    acc += r.conn_index().unwrap_or(0) as usize;
                }
            }
            let kind_secs = start.elapsed().as_secs_f64();
            let mb = text.len() as f64 / 1e6;
            println!(
                "round {round}: {} lines, parse {:.0} MB/s, parse_cached {:.0} MB/s, \
                 parse+kind+conn_index {:.0} MB/s ({acc})",
                lines.len(),
                mb / parse_secs,
                mb / cached_secs,
                mb / kind_secs
            );
        }
    }
}
