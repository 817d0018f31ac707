//! Mastodon streaming server lines of the npmlog era (Mastodon <= 4.2): `LEVEL [prefix]
//! message`, no time of its own (the envelope's time is the record's time).
//!
//! ```text
//! line    = level " " [prefix " "] message
//! level   = "sill" / "verb" / "info" / "timing" / "http" / "notice" / "WARN" / "ERR!"
//!           (lowercase "warn" / "err!" accepted too)
//! prefix  = uuid (request id) / "socket" / "Redis Client Error!"
//! ```
//!
//! Example: `verb 4ee00430-d397-478f-8f8d-46151d8f05cf Starting stream from timeline:1 for 1`.
//!
//! Where the prefix ends: npmlog's first argument is always the prefix, and prefixes may
//! contain spaces and `!`, so whitespace cannot split it. Mastodon's prefixes are a request
//! id (a UUID: 36 bytes of hex and `-` in the 8-4-4-4-12 shape), or one of the fixed texts
//! `socket` and `Redis Client Error!`; only those are taken as the prefix. Everything else
//! (`verb Subscribe timeline:1`, `WARN Starting worker 1`) is a single-argument call whose
//! text npmlog prints *as the prefix* with an empty message and a trailing space: those lines
//! get `prefix: None` and the text (trailing space dropped) as `message`, which is what a
//! reader means by the message.
//!
//! Traps handled:
//! - Multi-line errors repeat level and prefix on every line (`ERR! Redis Client Error!   code:
//!   'ECONNREFUSED',`): each line parses alone with the same prefix; `message` keeps its
//!   leading indentation so stack frames stay recognisable.
//! - Lines with no request id (`verb Subscribe ...`).
//! - The trailing space of single-argument calls.
//! - Not handled: lines whose left side was cut by the terminal (`06-4afe-a449-a42f861855b2
//!   Tried writing ...`): no level, so [`parse`] rejects them; ANSI colour (only on a TTY:
//!   strip it first with `cloudflared::strip_ansi_into`).
//!
//! ```
//! use coroner_parse::formats::npmlog::{self, Kind, Level};
//! let r = npmlog::parse(b"ERR! 4ee00430-d397-478f-8f8d-46151d8f05cf Tried writing to closed socket").unwrap();
//! assert_eq!(r.level, Level::Error);
//! assert_eq!(r.request_id(), Some(&b"4ee00430-d397-478f-8f8d-46151d8f05cf"[..]));
//! assert_eq!(r.message, b"Tried writing to closed socket");
//! assert_eq!(r.kind(), Kind::TriedWritingToClosedSocket);
//! ```

use crate::error::ParseError;

/// npmlog's display level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Silly,
    Verbose,
    Timing,
    Http,
    Info,
    Notice,
    Warn,
    Error,
}

/// The streaming events the analyses need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind<'a> {
    /// `Starting streaming API server master with N workers`, `Starting worker N`,
    /// `Worker N now listening on ...`, `Streaming API now listening on ...`.
    ServerStarting,
    /// `Subscribe <redis channel>`.
    Subscribe {
        channel: &'a [u8],
    },
    /// `Unsubscribe <redis channel>`.
    Unsubscribe {
        channel: &'a [u8],
    },
    /// `Starting stream from ...`.
    StartingStream,
    /// `Ending stream for/from ...`.
    EndingStream,
    TriedWritingToClosedSocket,
    /// `Failed to send to websocket: ...`.
    FailedToSendToWebsocket,
    /// `Subscription error: ...` / `Unsubscribe error: ...`.
    SubscriptionError,
    /// A line with the `Redis Client Error!` prefix (every line of the multi-line dump).
    RedisError,
    /// `Error: ...` (`Error: Invalid access token`, ...).
    Error,
    /// `Error parsing message from ...`.
    ParseMessageError,
    /// `Received binary data, closing connection`.
    BinaryData,
    /// `Closing connection for ... due to expired access token`.
    ExpiredToken,
    Other,
}

/// One npmlog line. No time: the envelope has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpmlogRecord<'a> {
    pub level: Level,
    /// The npmlog prefix when it is a recognisable one (see module docs).
    pub prefix: Option<&'a [u8]>,
    /// The text after the prefix; trailing spaces dropped, leading indentation kept.
    pub message: &'a [u8],
}

const REDIS_PREFIX: &[u8] = b"Redis Client Error!";

/// Parse one line (without the newline, after the envelope is removed).
pub fn parse(line: &[u8]) -> Result<NpmlogRecord<'_>, ParseError> {
    let sp = line
        .iter()
        .take(7)
        .position(|&c| c == b' ')
        .unwrap_or(line.len().min(7));
    let level = match &line[..sp] {
        b"sill" => Level::Silly,
        b"verb" => Level::Verbose,
        b"info" => Level::Info,
        b"timing" => Level::Timing,
        b"http" => Level::Http,
        b"notice" => Level::Notice,
        b"WARN" | b"warn" => Level::Warn,
        b"ERR!" | b"err!" => Level::Error,
        _ => return Err(ParseError::new("an npmlog level", 0)),
    };
    let mut rest: &[u8] = match line.get(sp) {
        None => &[],
        Some(b' ') => &line[sp + 1..],
        Some(_) => return Err(ParseError::new("' ' after the level", sp)),
    };
    while let [r @ .., b' '] = rest {
        rest = r;
    }
    let prefix_len = if is_uuid(rest) {
        Some(36)
    } else if rest.starts_with(REDIS_PREFIX) {
        Some(REDIS_PREFIX.len())
    } else if rest.starts_with(b"socket") {
        Some(6)
    } else {
        None
    };
    let (prefix, message) = match prefix_len {
        Some(n) if matches!(rest.get(n), None | Some(b' ')) => {
            (Some(&rest[..n]), rest.get(n + 1..).unwrap_or_default())
        }
        _ => (None, rest),
    };
    Ok(NpmlogRecord {
        level,
        prefix,
        message,
    })
}

/// 8-4-4-4-12 hex digits at the start of `b`.
///
/// Every one of the 36 bytes is checked, without an early exit: nearly every line of a
/// streaming log starts with an id, and the per-byte branch of a short-circuiting check
/// (digit or letter, which random hex mixes) mispredicted often enough to be most of the
/// cost of a streaming line's socket rule.
fn is_uuid(b: &[u8]) -> bool {
    /// Per byte value: `HEX` for a hex digit, `DASH` for `-`.
    static CLASS: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            if b.is_ascii_hexdigit() {
                t[c] = HEX;
            } else if b == b'-' {
                t[c] = DASH;
            }
            c += 1;
        }
        t
    };
    /// Per position: the class it needs.
    const WANT: [u8; 36] = {
        let mut w = [HEX; 36];
        w[8] = DASH;
        w[13] = DASH;
        w[18] = DASH;
        w[23] = DASH;
        w
    };
    const HEX: u8 = 1;
    const DASH: u8 = 2;
    let Some(u) = b.first_chunk::<36>() else {
        return false;
    };
    // Zero where a byte has its position's class.
    let mut missing = 0u8;
    for (&c, &want) in u.iter().zip(&WANT) {
        missing |= (CLASS[usize::from(c)] & want) ^ want;
    }
    missing == 0
}

impl<'a> NpmlogRecord<'a> {
    /// The prefix when it is a request id (UUID).
    pub fn request_id(&self) -> Option<&'a [u8]> {
        self.prefix.filter(|p| is_uuid(p))
    }

    /// What the line is about.
    pub fn kind(&self) -> Kind<'a> {
        let m = self.message;
        if self.prefix == Some(REDIS_PREFIX) {
            return Kind::RedisError;
        }
        if let Some(c) = m.strip_prefix(b"Subscribe ") {
            return Kind::Subscribe { channel: c };
        }
        if let Some(c) = m.strip_prefix(b"Unsubscribe ")
            && !c.starts_with(b"error:")
        {
            return Kind::Unsubscribe { channel: c };
        }
        const STARTS: &[(&[u8], Kind<'static>)] = &[
            (
                b"Tried writing to closed socket",
                Kind::TriedWritingToClosedSocket,
            ),
            (b"Starting stream ", Kind::StartingStream),
            (b"Ending stream ", Kind::EndingStream),
            (
                b"Failed to send to websocket",
                Kind::FailedToSendToWebsocket,
            ),
            (b"Subscription error", Kind::SubscriptionError),
            (b"Unsubscribe error", Kind::SubscriptionError),
            (b"Error parsing message from ", Kind::ParseMessageError),
            (b"Error:", Kind::Error),
            (b"Received binary data", Kind::BinaryData),
            (b"Starting streaming API server", Kind::ServerStarting),
            (b"Starting worker ", Kind::ServerStarting),
            (b"Streaming API now listening on ", Kind::ServerStarting),
            (b"Closing connection for ", Kind::ExpiredToken),
        ];
        for (text, kind) in STARTS {
            if m.starts_with(text) {
                if *kind == Kind::ExpiredToken && !m.ends_with(b"due to expired access token") {
                    break;
                }
                return *kind;
            }
        }
        if m.starts_with(b"Worker ") && memchr::memmem::find(m, b" now listening on ").is_some() {
            return Kind::ServerStarting;
        }
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &[u8] = b"4ee00430-d397-478f-8f8d-46151d8f05cf";

    /// The plain reading of 8-4-4-4-12, position by position.
    fn is_uuid_naive(b: &[u8]) -> bool {
        b.len() >= 36
            && b[..36].iter().enumerate().all(|(i, &c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    c == b'-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    }

    #[test]
    fn uuid_check_equals_the_plain_reading_for_every_byte_at_every_position() {
        for base in [ID, b"ABCDEF01-2345-6789-abcd-ef0123456789".as_slice()] {
            assert!(is_uuid(base));
            for i in 0..36 {
                for c in 0..=255u8 {
                    let mut id = base.to_vec();
                    id[i] = c;
                    assert_eq!(is_uuid(&id), is_uuid_naive(&id), "{i} {c}");
                }
            }
            for n in 0..36 {
                assert!(!is_uuid(&base[..n]));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn uuid_check_equals_the_plain_reading(b in proptest::collection::vec(
            proptest::sample::select(b"0123456789abcdefABCDEFg- ".to_vec()), 30..40)) {
            proptest::prop_assert_eq!(is_uuid(&b), is_uuid_naive(&b));
        }
    }

    const FIXTURES: &[&[u8]] = &[
        b"WARN Starting streaming API server master with 1 workers",
        b"WARN Starting worker 1",
        b"WARN Worker 1 now listening on 127.0.0.1:4000",
        b"WARN Streaming API now listening on 127.0.0.1:4000 ",
        b"verb Subscribe timeline:access_token:451",
        b"verb Unsubscribe timeline:access_token:451",
        b"verb 4ee00430-d397-478f-8f8d-46151d8f05cf Starting stream from timeline:1081, timeline:1081:notifications for 1081",
        b"verb 4ee00430-d397-478f-8f8d-46151d8f05cf Ending stream for 1081",
        b"ERR! 4ee00430-d397-478f-8f8d-46151d8f05cf Tried writing to closed socket",
        b"ERR! 4ee00430-d397-478f-8f8d-46151d8f05cf Error: Invalid access token",
        b"ERR! Redis Client Error! Error: connect ECONNREFUSED 127.0.0.1:6379",
        b"ERR! Redis Client Error!     at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1247:16)",
        b"ERR! Redis Client Error!   code: 'ECONNREFUSED',",
        b"ERR! Redis Client Error! }",
        b"WARN socket Received binary data, closing connection",
        b"verb 4ee00430-d397-478f-8f8d-46151d8f05cf Unsubscribe error: Error: x",
        b"sill 4ee00430-d397-478f-8f8d-46151d8f05cf Transmitting for 1081: update {\"id\":\"1\"}",
        b"http",
    ];

    fn p(line: &[u8]) -> NpmlogRecord<'_> {
        parse(line).unwrap()
    }

    #[test]
    fn request_id_prefix() {
        let r = p(FIXTURES[6]);
        assert_eq!(r.level, Level::Verbose);
        assert_eq!(r.request_id(), Some(ID));
        assert!(
            r.message
                .starts_with(b"Starting stream from timeline:1081,")
        );
        assert_eq!(r.kind(), Kind::StartingStream);
        assert_eq!(p(FIXTURES[7]).kind(), Kind::EndingStream);
        assert_eq!(p(FIXTURES[9]).kind(), Kind::Error);
        assert_eq!(p(FIXTURES[9]).message, b"Error: Invalid access token");
    }

    #[test]
    fn closed_socket_flood_line() {
        let r = p(FIXTURES[8]);
        assert_eq!((r.level, r.prefix), (Level::Error, Some(ID)));
        assert_eq!(r.kind(), Kind::TriedWritingToClosedSocket);
    }

    #[test]
    fn no_request_id() {
        let r = p(FIXTURES[4]);
        assert_eq!((r.prefix, r.request_id()), (None, None));
        assert_eq!(
            r.kind(),
            Kind::Subscribe {
                channel: b"timeline:access_token:451"
            }
        );
        assert_eq!(
            p(FIXTURES[5]).kind(),
            Kind::Unsubscribe {
                channel: b"timeline:access_token:451"
            }
        );
        assert_eq!(p(FIXTURES[15]).kind(), Kind::SubscriptionError);
    }

    #[test]
    fn single_argument_trailing_space() {
        let r = p(FIXTURES[3]);
        assert_eq!(r.level, Level::Warn);
        assert_eq!(r.prefix, None);
        assert_eq!(r.message, b"Streaming API now listening on 127.0.0.1:4000");
        assert_eq!(r.kind(), Kind::ServerStarting);
        for f in &FIXTURES[..3] {
            assert_eq!(p(f).kind(), Kind::ServerStarting);
        }
    }

    #[test]
    fn prefix_with_spaces_and_bang_repeated_per_line() {
        let lines: Vec<_> = FIXTURES[10..14].iter().map(|l| p(l)).collect();
        for r in &lines {
            assert_eq!(r.prefix, Some(REDIS_PREFIX));
            assert_eq!(r.kind(), Kind::RedisError);
            assert_eq!(r.request_id(), None);
        }
        assert_eq!(
            lines[0].message,
            b"Error: connect ECONNREFUSED 127.0.0.1:6379"
        );
        assert_eq!(
            lines[1].message,
            b"    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1247:16)"
        );
        assert_eq!(lines[3].message, b"}");
    }

    #[test]
    fn socket_prefix_and_silly() {
        let r = p(FIXTURES[14]);
        assert_eq!(r.prefix, Some(&b"socket"[..]));
        assert_eq!(r.kind(), Kind::BinaryData);
        let r = p(FIXTURES[16]);
        assert_eq!(r.level, Level::Silly);
        assert_eq!(r.kind(), Kind::Other);
        let r = p(FIXTURES[17]);
        assert_eq!((r.level, r.message), (Level::Http, &b""[..]));
    }

    #[test]
    fn rejects_non_npmlog() {
        assert_eq!(parse(b"information x").unwrap_err().at, 0);
        assert_eq!(
            parse(b"06-4afe-a449-a42f861855b2 Tried writing")
                .unwrap_err()
                .at,
            0
        );
        assert_eq!(parse(b"verbose x").unwrap_err().at, 0);
        assert_eq!(parse(b"info\tx").unwrap_err().at, 0);
    }

    #[test]
    fn never_panics() {
        for line in FIXTURES {
            for cut in 0..=line.len() {
                if let Ok(r) = parse(&line[..cut]) {
                    let _ = (r.kind(), r.request_id());
                }
            }
            for i in 0..line.len() {
                for b in [0u8, b'"', b'=', b' ', b'\\', 0xff] {
                    let mut l = line.to_vec();
                    l[i] = b;
                    if let Ok(r) = parse(&l) {
                        let _ = (r.kind(), r.request_id());
                    }
                }
            }
        }
    }
}
