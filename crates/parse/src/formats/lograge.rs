//! mastodon-web (puma + Rails) lines: lograge request summaries and Rack::Attack rate-limit
//! hits, with or without Ruby's `Logger::Formatter` header, tagged with the request id.
//!
//! ```text
//! line     = [header] [tag " "] body
//! header   = SEV ", [" iso-time-µs " #" pid "] " %5s-level " -- " progname ": "
//! tag      = "[" request-id "]"
//! body     = lograge / rack-attack / other
//! lograge  = "method=" ... " path=" ... " status=" ... " duration=" ms ...   ; key=value
//! rack-attack = "Rate limit hit (" match-type "): " ip " " METHOD " " fullpath
//! ```
//!
//! Examples: `[206407d2-64d3-4751-bdc5-374502b46d04] method=GET path=/@u/with_replies
//! format=html controller=AccountsController action=show status=200 duration=3240.62
//! view=200.34 db=2799.24` and `I, [2024-08-30T07:37:25.298827 #18754]  INFO -- :
//! [1d856421-...] method=GET ...`.
//!
//! One entry point, [`parse`], gives a [`RailsRecord`] (header and tag) whose
//! [`RailsRecord::event`] is [`Event::Request`], [`Event::RackAttack`] or [`Event::Other`]
//! (exception lines and anything else tagged). Durations are `f64` milliseconds, as lograge
//! prints them (2 decimals).
//!
//! Traps handled:
//! - Both variants: bare `[uuid] method=...` (no time: the envelope's is used) and the
//!   `Logger::Formatter` header, whose time has µs and **no zone** (`assumed_offset_secs`),
//!   two spaces before `INFO` (`%5s`) and an empty progname (` -- : `).
//! - lograge values are never quoted or escaped, except `error='Class: message'` which is
//!   single-quoted with spaces inside (and may hold `'`): it ends at the `'` followed by the end
//!   or by ` key=`. `key=https://host/users/x#main-key` and `format=*/*` stay bare.
//! - Optional keys: `allocations=` (Rails >= 6), `key=` (signed inbox POSTs), `location=`
//!   (redirects), `error=`; any order.
//! - Rack::Attack lines come from web, carry the match type (`throttle`/`blocklist`, not the
//!   throttle's name, which Mastodon does not log), the client IP (the discriminator) and the
//!   full path with its query; a pager cut (`>` or `…` at the end) sets `cut` and is removed.
//! - Lines whose left side was cut by the terminal (`-4589-97ed-b67c66eb8c38] Rate limit hit
//!   ...`): the partial tag is skipped, `request_id` is None and `left_cut` is set.
//! - Multi-line exception blocks: each line parses alone (`Event::Other`), the first one with
//!   the `E, [...] ERROR -- :` header and possibly an empty body.
//!
//! ```
//! use coroner_parse::formats::lograge::{self, Event};
//! let line = b"I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : [1d856421-3410-4ab7-bcee-298fecc5de03] method=GET path=/api/v1/accounts/relationships format=html controller=Api::V1::Accounts::RelationshipsController action=index status=200 allocations=2228 duration=22.56 view=0.50 db=16.74";
//! let r = lograge::parse(line, 0).unwrap();
//! assert_eq!(r.pid, Some(18754));
//! assert_eq!(r.time, Some(1_725_003_445_298_827));
//! let Event::Request(q) = r.event else { panic!() };
//! assert_eq!((q.method, q.status, q.duration_ms), (&b"GET"[..], Some(200), Some(22.56)));
//! ```

use memchr::memchr;
use memchr::memmem;

use crate::error::ParseError;
use crate::formats::logfmt::Pair;
use crate::timestamp::{Micros, parse_rfc3339};

/// One Rails log line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RailsRecord<'a> {
    /// `Logger::Formatter` severity letter (`I`, `E`, ...), None for the bare variant.
    pub severity: Option<u8>,
    /// From the header (local time made UTC with the assumed offset); None without header.
    pub time: Option<Micros>,
    pub pid: Option<u32>,
    /// The header's level name (`INFO`, `ERROR`), padding removed.
    pub level_name: Option<&'a [u8]>,
    /// The header's progname (usually empty).
    pub progname: Option<&'a [u8]>,
    /// The first tag (`[...]`): the request id with Mastodon's `log_tags`.
    pub request_id: Option<&'a [u8]>,
    /// The line started inside a tag (terminal cut the left side).
    pub left_cut: bool,
    pub event: Event<'a>,
}

/// What the body of a line is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    Request(LogrageRequest<'a>),
    RackAttack(RackAttack<'a>),
    /// Anything else (exception lines, Rails' own messages, empty bodies).
    Other(&'a [u8]),
}

/// A lograge request summary. Text values are raw slices (lograge does not escape).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogrageRequest<'a> {
    pub method: &'a [u8],
    pub path: &'a [u8],
    pub format: Option<&'a [u8]>,
    pub controller: Option<&'a [u8]>,
    pub action: Option<&'a [u8]>,
    pub status: Option<u16>,
    /// Milliseconds.
    pub duration_ms: Option<f64>,
    pub view_ms: Option<f64>,
    pub db_ms: Option<f64>,
    pub allocations: Option<u64>,
    /// `key=`: the signing key id of an ActivityPub inbox POST.
    pub key: Option<&'a [u8]>,
    pub location: Option<&'a [u8]>,
    /// `error='Class: message'`, without the single quotes.
    pub error: Option<&'a [u8]>,
    /// The whole `key=value` body, for [`fields`].
    pub fields_text: &'a [u8],
}

/// `Rate limit hit (throttle): 192.0.2.42 GET /api/v1/...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RackAttack<'a> {
    /// `throttle` or `blocklist`.
    pub match_type: &'a [u8],
    /// The client address (Rack::Attack's discriminator for Mastodon's throttles).
    pub ip: &'a [u8],
    pub method: &'a [u8],
    /// Full path with query, without a pager's `>`.
    pub path: &'a [u8],
    /// The line ended in `>` or `…`: the pager cut the path.
    pub cut: bool,
}

/// Parse one line. `assumed_offset_secs`: the zone of the header's zone-less time.
pub fn parse(line: &[u8], assumed_offset_secs: i32) -> Result<RailsRecord<'_>, ParseError> {
    let mut rec = RailsRecord {
        severity: None,
        time: None,
        pid: None,
        level_name: None,
        progname: None,
        request_id: None,
        left_cut: false,
        event: Event::Other(&[]),
    };
    let mut rest = line;
    if line.get(1..4) == Some(b", [") {
        let (t, n) = parse_rfc3339(&line[4..], assumed_offset_secs)
            .ok_or(ParseError::new("an ISO time after ', ['", 4))?;
        let mut i = 4 + n;
        if line.get(i..i + 2) != Some(b" #") {
            return Err(ParseError::new("' #' before the pid", i));
        }
        i += 2;
        let digits = line[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let pid = parse_u64(&line[i..i + digits])
            .and_then(|p| u32::try_from(p).ok())
            .ok_or(ParseError::new("a pid", i))?;
        i += digits;
        if line.get(i..i + 2) != Some(b"] ") {
            return Err(ParseError::new("'] ' after the pid", i));
        }
        i += 2;
        let dash = memmem::find(&line[i..], b" -- ")
            .map(|d| i + d)
            .ok_or(ParseError::new("' -- ' after the level", i))?;
        let level = &line[i..dash];
        let pad = level.iter().take_while(|&&c| c == b' ').count();
        let colon = memmem::find(&line[dash + 4..], b":")
            .map(|c| dash + 4 + c)
            .ok_or(ParseError::new("':' after the progname", dash + 4))?;
        rec.severity = Some(line[0]);
        rec.time = Some(t);
        rec.pid = Some(pid);
        rec.level_name = Some(&level[pad..]);
        rec.progname = Some(&line[dash + 4..colon]);
        rest = match line.get(colon + 1) {
            Some(b' ') => &line[colon + 2..],
            _ => &line[colon + 1..],
        };
    }
    if let Some((tag, n)) = tag(rest) {
        rec.request_id = Some(tag);
        rest = &rest[n..];
    } else if rec.severity.is_none()
        && let Some(n) = left_cut_tag(rest)
    {
        rec.left_cut = true;
        rest = &rest[n..];
    }
    rec.event = if rest.starts_with(b"method=") {
        Event::Request(request(rest))
    } else if let Some(r) = rest.strip_prefix(b"Rate limit hit (") {
        rack_attack(r).map_or(Event::Other(rest), Event::RackAttack)
    } else {
        Event::Other(rest)
    };
    if rec.severity.is_none() && rec.request_id.is_none() && matches!(rec.event, Event::Other(_)) {
        return Err(ParseError::new(
            "a Logger header, a [request-id] tag or method=",
            0,
        ));
    }
    Ok(rec)
}

/// `[id] ` or `[id]` at the end: (id, bytes to skip). Ids are ActionDispatch's sanitised
/// X-Request-Id (`[A-Za-z0-9@._-]`, at most 255 bytes); a UUID in Mastodon.
fn tag(b: &[u8]) -> Option<(&[u8], usize)> {
    if b.first() != Some(&b'[') {
        return None;
    }
    let close = 1 + memchr(b']', b.get(1..b.len().min(258))?)?;
    let id = &b[1..close];
    if id.is_empty() || !id.iter().all(|&c| id_byte(c)) {
        return None;
    }
    match b.get(close + 1) {
        None => Some((id, close + 1)),
        Some(b' ') => Some((id, close + 2)),
        Some(_) => None,
    }
}

fn id_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'@' | b'.' | b'_')
}

/// The end of a tag whose `[` the terminal cut off: `a42f861855b2] ` (hex and dashes).
fn left_cut_tag(b: &[u8]) -> Option<usize> {
    let close = memchr(b']', b.get(..b.len().min(40))?)?;
    let ok = close > 0
        && b[..close]
            .iter()
            .all(|&c| c.is_ascii_hexdigit() || c == b'-')
        && b.get(close + 1) == Some(&b' ');
    ok.then_some(close + 2)
}

fn request(body: &[u8]) -> LogrageRequest<'_> {
    let mut r = LogrageRequest {
        fields_text: body,
        ..LogrageRequest::default()
    };
    for p in fields(body) {
        let v = p.value;
        match p.key {
            b"method" => r.method = v,
            b"path" => r.path = v,
            b"format" => r.format = Some(v),
            b"controller" => r.controller = Some(v),
            b"action" => r.action = Some(v),
            b"status" => r.status = parse_u64(v).and_then(|s| u16::try_from(s).ok()),
            b"duration" => r.duration_ms = parse_ms(v),
            b"view" => r.view_ms = parse_ms(v),
            b"db" => r.db_ms = parse_ms(v),
            b"allocations" => r.allocations = parse_u64(v),
            b"key" => r.key = Some(v),
            b"location" => r.location = Some(v),
            b"error" => r.error = Some(v),
            _ => {}
        }
    }
    r
}

fn rack_attack(r: &[u8]) -> Option<RackAttack<'_>> {
    let close = memchr(b')', r)?;
    let match_type = &r[..close];
    let rest = r.get(close..)?.strip_prefix(b"): ")?;
    let sp = memchr(b' ', rest)?;
    let ip = &rest[..sp];
    let rest = &rest[sp + 1..];
    let sp = memchr(b' ', rest).unwrap_or(rest.len());
    let method = &rest[..sp];
    let path = rest.get(sp + 1..).unwrap_or_default();
    // journalctl's pager marks a cut with `>`, other viewers with `…`; a real path has both
    // percent-encoded.
    let (path, cut) = match path {
        [p @ .., b'>'] | [p @ .., 0xe2, 0x80, 0xa6] => (p, true),
        _ => (path, false),
    };
    Some(RackAttack {
        match_type,
        ip,
        method,
        path,
        cut,
    })
}

/// The `key=value` pairs of a lograge body. `quoted` marks the single-quoted `error` value
/// (its quotes removed; lograge does not escape, so there is nothing to decode).
pub fn fields(body: &[u8]) -> Fields<'_> {
    Fields { text: body, pos: 0 }
}

/// Iterator of [`fields`]. Tokens without `=` are skipped.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let t = self.text;
        loop {
            while t.get(self.pos) == Some(&b' ') {
                self.pos += 1;
            }
            let start = self.pos;
            if start >= t.len() {
                return None;
            }
            let end = start + memchr(b' ', &t[start..]).unwrap_or(t.len() - start);
            let Some(eq) = memchr(b'=', &t[start..end]).map(|e| start + e) else {
                self.pos = end;
                continue;
            };
            let key = &t[start..eq];
            let v = eq + 1;
            if key == b"error" && t.get(v) == Some(&b'\'') {
                let close = single_quote_end(t, v + 1);
                self.pos = (close + 1).min(t.len());
                return Some(Pair {
                    key,
                    value: &t[v + 1..close],
                    quoted: true,
                });
            }
            self.pos = end;
            return Some(Pair {
                key,
                value: &t[v..end],
                quoted: false,
            });
        }
    }
}

/// The closing `'` of `error='...'`: the first `'` followed by the end or by ` key=`; the end
/// of the text when there is none (cut line).
fn single_quote_end(t: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(q) = t.get(i..).and_then(|r| memchr(b'\'', r)).map(|q| i + q) {
        match t.get(q + 1) {
            None => return q,
            Some(b' ') => {
                let next = &t[q + 2..];
                let word = &next[..memchr(b' ', next).unwrap_or(next.len())];
                if let Some(eq) = memchr(b'=', word)
                    && eq > 0
                    && word[..eq]
                        .iter()
                        .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    return q;
                }
            }
            Some(_) => {}
        }
        i = q + 1;
    }
    t.len()
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        if !c.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
}

/// `12.34` (lograge's `%.2f`); digits and one `.` only.
fn parse_ms(b: &[u8]) -> Option<f64> {
    let dot = memchr(b'.', b).unwrap_or(b.len());
    let int = parse_u64(&b[..dot])?;
    let frac = b.get(dot + 1..).unwrap_or_default();
    if int > 1 << 52 || frac.len() > 9 || (dot < b.len() && frac.is_empty()) {
        return None;
    }
    let f = if frac.is_empty() { 0 } else { parse_u64(frac)? };
    Some(int as f64 + f as f64 / 10f64.powi(frac.len() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &[&[u8]] = &[
        b"[206407d2-64d3-4751-bdc5-374502b46d04] method=GET path=/@someone/with_replies format=html controller=AccountsController action=show status=200 duration=3240.62 view=200.34 db=2799.24",
        b"[c4ed51fa-5700-4d79-a58e-c3d1373d2cff] method=POST path=/inbox format=json controller=ActivityPub::InboxesController action=create status=202 duration=16.83 view=0.00 db=1.42 key=https://peertube.example.com/accounts/peertube",
        b"[df3668bb-5561-4fd7-b161-a366e8e13441] method=POST path=/inbox format=html controller=ActivityPub::InboxesController action=create status=202 duration=42.85 view=0.00 db=1.85 key=https://social.example.com/users/someone#main-key",
        b"I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : [1d856421-3410-4ab7-bcee-298fecc5de03] method=GET path=/api/v1/accounts/relationships format=html controller=Api::V1::Accounts::RelationshipsController action=index status=200 allocations=2228 duration=22.56 view=0.50 db=16.74",
        b"I, [2023-10-18T03:38:59.908772 #143606]  INFO -- : [5aa3be68-f1fa-4808-b451-13df3fd5390b] Rate limit hit (throttle): 203.0.113.42 GET /api/v1/notifications?exclude_types[]=follow&exclude_types[]=follow_request&exclude_types>",
        b"-4589-97ed-b67c66eb8c38] Rate limit hit (throttle): 198.51.100.221 GET /api/v1/timelines/home?since_id=109>",
        b"E, [2025-01-21T15:51:55.658538 #807963] ERROR -- : [65517bcd-64a2-4cd8-922e-440466a8e499]",
        b"[65517bcd-64a2-4cd8-922e-440466a8e499] ActiveRecord::DatabaseConnectionError (There is an issue connecting with your hostname: db.example.com.",
        b"[0b7a9a4e-5f55-4a8e-9d25-6f3b3c0f1e2a] method=GET path=/api/v1/timelines/home format=json controller=Api::V1::Timelines::HomeController action=show status=500 error='Redis::CommandError: MISCONF it's full key=x' duration=12.00 view=0.00 db=0.00",
        b"[0b7a9a4e-5f55-4a8e-9d25-6f3b3c0f1e2a] method=GET path=/auth/sign_in format=html controller=Auth::SessionsController action=new status=302 duration=5.1 view=0.00 db=0.3 location=https://mastodon.example.com/",
        b"[0b7a9a4e-5f55-4a8e-9d25-6f3b3c0f1e2a] method=GET path=/api/v2/notifications/policy format=*/*",
    ];

    fn p(line: &[u8]) -> RailsRecord<'_> {
        parse(line, 0).unwrap()
    }

    fn req(r: RailsRecord<'_>) -> LogrageRequest<'_> {
        match r.event {
            Event::Request(q) => q,
            e => panic!("not a request: {e:?}"),
        }
    }

    #[test]
    fn bare_variant() {
        let r = p(FIXTURES[0]);
        assert_eq!((r.time, r.pid, r.severity), (None, None, None));
        assert_eq!(
            r.request_id,
            Some(&b"206407d2-64d3-4751-bdc5-374502b46d04"[..])
        );
        let q = req(r);
        assert_eq!(q.method, b"GET");
        assert_eq!(q.path, b"/@someone/with_replies");
        assert_eq!(q.format, Some(&b"html"[..]));
        assert_eq!(q.controller, Some(&b"AccountsController"[..]));
        assert_eq!(q.action, Some(&b"show"[..]));
        assert_eq!(q.status, Some(200));
        assert_eq!(q.duration_ms, Some(3240.62));
        assert_eq!(q.view_ms, Some(200.34));
        assert_eq!(q.db_ms, Some(2799.24));
        assert_eq!((q.allocations, q.key), (None, None));
    }

    #[test]
    fn inbox_key_with_fragment() {
        let q = req(p(FIXTURES[1]));
        assert_eq!(
            q.key,
            Some(&b"https://peertube.example.com/accounts/peertube"[..])
        );
        let q = req(p(FIXTURES[2]));
        assert_eq!(
            q.key,
            Some(&b"https://social.example.com/users/someone#main-key"[..])
        );
        assert_eq!(q.status, Some(202));
    }

    #[test]
    fn logger_formatter_variant() {
        let r = p(FIXTURES[3]);
        assert_eq!(r.severity, Some(b'I'));
        // `date -u -d '2024-08-30T07:37:25Z' +%s` = 1725003445
        assert_eq!(r.time, Some(1_725_003_445_298_827));
        assert_eq!(r.pid, Some(18754));
        assert_eq!(r.level_name, Some(&b"INFO"[..]));
        assert_eq!(r.progname, Some(&b""[..]));
        let q = req(r);
        assert_eq!(q.allocations, Some(2228));
        assert_eq!(q.duration_ms, Some(22.56));
        // No zone in the header: the assumed offset applies.
        assert_eq!(
            parse(FIXTURES[3], 7200).unwrap().time,
            Some(1_725_003_445_298_827 - 7_200_000_000)
        );
    }

    #[test]
    fn rack_attack_cut_by_pager() {
        let r = p(FIXTURES[4]);
        assert_eq!(
            r.request_id,
            Some(&b"5aa3be68-f1fa-4808-b451-13df3fd5390b"[..])
        );
        let Event::RackAttack(a) = r.event else {
            panic!("{r:?}")
        };
        assert_eq!(a.match_type, b"throttle");
        assert_eq!(a.ip, b"203.0.113.42");
        assert_eq!(a.method, b"GET");
        assert_eq!(
            a.path,
            b"/api/v1/notifications?exclude_types[]=follow&exclude_types[]=follow_request&exclude_types"
        );
        assert!(a.cut);
        let r = p("[5aa3be68-f1fa-4808-b451-13df3fd5390b] Rate limit hit (blocklist): 2001:db8::7 POST /api/v1/statuses?x…".as_bytes());
        let Event::RackAttack(a) = r.event else {
            panic!("{r:?}")
        };
        assert_eq!(
            (a.match_type, a.ip),
            (&b"blocklist"[..], &b"2001:db8::7"[..])
        );
        assert_eq!(
            (a.method, a.path, a.cut),
            (&b"POST"[..], &b"/api/v1/statuses?x"[..], true)
        );
        let r = p(b"[5aa3be68-f1fa-4808-b451-13df3fd5390b] Rate limit hit (throttle): 192.0.2.1 GET /about");
        assert!(matches!(r.event, Event::RackAttack(a) if a.path == b"/about" && !a.cut));
    }

    #[test]
    fn terminal_cut_left_side() {
        let r = p(FIXTURES[5]);
        assert!(r.left_cut);
        assert_eq!(r.request_id, None);
        let Event::RackAttack(a) = r.event else {
            panic!("{r:?}")
        };
        assert_eq!(a.ip, b"198.51.100.221");
        assert_eq!(a.path, b"/api/v1/timelines/home?since_id=109");
    }

    #[test]
    fn exception_block_lines() {
        let r = p(FIXTURES[6]);
        assert_eq!(r.level_name, Some(&b"ERROR"[..]));
        assert_eq!(r.event, Event::Other(b""));
        let r = p(FIXTURES[7]);
        assert_eq!(
            r.request_id,
            Some(&b"65517bcd-64a2-4cd8-922e-440466a8e499"[..])
        );
        assert!(matches!(r.event, Event::Other(m) if m.starts_with(b"ActiveRecord::")));
        assert!(parse(b"Please check your database configuration.", 0).is_err());
    }

    #[test]
    fn single_quoted_error_with_spaces_and_quote() {
        let q = req(p(FIXTURES[8]));
        assert_eq!(
            q.error,
            Some(&b"Redis::CommandError: MISCONF it's full key=x"[..])
        );
        assert_eq!(q.status, Some(500));
        assert_eq!(q.duration_ms, Some(12.0));
        let e = fields(q.fields_text).find(|f| f.key == b"error").unwrap();
        assert!(e.quoted);
    }

    #[test]
    fn redirect_location_and_short_lines() {
        let q = req(p(FIXTURES[9]));
        assert_eq!(q.location, Some(&b"https://mastodon.example.com/"[..]));
        assert_eq!(q.duration_ms, Some(5.1));
        let q = req(p(FIXTURES[10]));
        assert_eq!(q.format, Some(&b"*/*"[..]));
        assert_eq!((q.status, q.duration_ms), (None, None));
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(parse_ms(b"1."), None);
        assert_eq!(parse_ms(b"1e5"), None);
        assert_eq!(parse_ms(b"0.50"), Some(0.5));
        assert_eq!(parse_u64(b"99999999999999999999999"), None);
        let q = req(p(b"[x] method=GET path=/ status=99999"));
        assert_eq!(q.status, None);
    }

    #[test]
    fn never_panics() {
        for line in FIXTURES {
            for cut in 0..=line.len() {
                if let Ok(r) = parse(&line[..cut], 0)
                    && let Event::Request(q) = r.event
                {
                    let _ = fields(q.fields_text).count();
                }
            }
            for i in 0..line.len() {
                for b in [0u8, b'"', b'=', b' ', b'\\', 0xff, b'\'', b']'] {
                    let mut l = line.to_vec();
                    l[i] = b;
                    if let Ok(r) = parse(&l, 0)
                        && let Event::Request(q) = r.event
                    {
                        let _ = fields(q.fields_text).count();
                    }
                }
            }
        }
    }
}
