//! nginx error log (`ngx_log_error_core` + `ngx_http_log_error_handler`).
//!
//! ```text
//! line    = date " " time " [" level "] " pid "#" tid ": " ["*" conn " "] message context
//! date    = YYYY "/" MM "/" DD ; time = HH ":" MM ":" SS   ; local time, no zone
//! message = text [" (" errno ": " strerror ")"] [" while " action]
//! context = [", client: " addr] [", server: " name] [", request: \"" raw "\""]
//!           [", subrequest: \"" raw "\""] [", upstream: \"" url "\""]
//!           [", host: \"" raw "\""] [", referrer: \"" raw "\""]
//! ```
//!
//! Example: `2019/01/17 21:38:32 [error] 4213#4213: *12683 upstream timed out (110:
//! Connection timed out) while connecting to upstream, client: 192.0.2.1, server: , request:
//! "GET / HTTP/1.1", host: "www.example.com"` (one line).
//!
//! Traps handled (formats.md §4.2, §8):
//! - The time has no zone: the caller passes `assumed_offset_secs` (correlate with the
//!   access log's offset).
//! - Lines pasted without the date (`[error] 1046#1046: ...`) parse with `time: None`.
//! - `*N` is absent on cycle-level messages (`connection: None`); TID is `0` on FreeBSD/macOS.
//! - `server: ` may be empty (`Some(b"")`).
//! - `request`, `host` and `referrer` are copied raw by nginx (not escaped, may hold `"` and
//!   `, `): the quoted context fields are located from the end of the line, each by its own
//!   `, key: "` marker, so a quote inside the request does not shift the others.
//! - Lines truncated at 2048 bytes: a quoted value without its closing quote runs to the end.
//! - Old unix-socket upstreams without `:` before the URI (puma#973) stay raw in `upstream`.
//! - The `while ...` action is split off as `action` (module-specific ones such as
//!   `while connecting to upstream(proxy_connect)` included).
//! - FastCGI stderr continuation lines (`PHP message: ...`) have no date:
//!   [`is_continuation`] tells the caller to attach them to the previous record.
//!
//! ```
//! use coroner_parse::formats::nginx_error::{self, Kind, Level};
//! let line = b"2017/02/03 16:36:10 [error] 7588#7588: *3345968 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 192.0.2.1, server: www.example.com, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:4567/\", host: \"www.example.com\"";
//! let r = nginx_error::parse(line, 0).unwrap();
//! assert_eq!(r.time, Some(1_486_139_770_000_000));
//! assert_eq!((r.level, r.pid, r.tid, r.connection), (Level::Error, 7588, 7588, Some(3345968)));
//! assert_eq!(r.kind(), Kind::UpstreamTimedOut);
//! assert_eq!(r.errno, Some(110));
//! assert_eq!(r.client, Some(&b"192.0.2.1"[..]));
//! assert_eq!(r.upstream, Some(&b"http://127.0.0.1:4567/"[..]));
//! assert!(nginx_error::is_continuation(b"PHP message: PHP Warning:  x"));
//! ```

use crate::literal::Literal;

use crate::error::ParseError;
use crate::timestamp::{Micros, parse_slash_datetime};

/// nginx log levels, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Emerg,
    Alert,
    Crit,
    Error,
    Warn,
    Notice,
    Info,
    Debug,
}

impl Level {
    fn from_bytes(b: &[u8]) -> Option<Level> {
        Some(match b {
            b"emerg" => Level::Emerg,
            b"alert" => Level::Alert,
            b"crit" => Level::Crit,
            b"error" => Level::Error,
            b"warn" => Level::Warn,
            b"notice" => Level::Notice,
            b"info" => Level::Info,
            b"debug" => Level::Debug,
            _ => return None,
        })
    }
}

/// The messages the analyses look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `upstream timed out (110: Connection timed out)`.
    UpstreamTimedOut,
    /// `connect() failed (111: Connection refused)`.
    ConnectRefused,
    /// `connect() failed` with another errno.
    ConnectFailed,
    /// `no live upstreams`.
    NoLiveUpstreams,
    /// `upstream server temporarily disabled`.
    UpstreamDisabled,
    /// `upstream prematurely closed connection`.
    UpstreamPrematurelyClosed,
    /// `(28: No space left on device)` on any call.
    NoSpace,
    /// `recv()`/`send()`/`readv()`/`writev()`/`SSL_*()` failed, with the errno (104: reset).
    RecvSendFailed {
        errno: Option<u32>,
    },
    /// `FastCGI sent in stderr`.
    FastcgiStderr,
    /// `worker process N exited on signal S` (and cache manager processes).
    ProcessExitedOnSignal {
        signal: Option<u32>,
    },
    Other,
}

/// One nginx error log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NginxErrorRecord<'a> {
    /// UTC µs (local time shifted by the assumed offset); `None` when the line had no date.
    pub time: Option<Micros>,
    pub level: Level,
    pub pid: u32,
    /// `0` on builds without thread ids.
    pub tid: u64,
    /// `*N` connection serial (reused across keep-alive requests, not a request id).
    pub connection: Option<u64>,
    /// From after `*N ` (or `PID#TID: `) up to the context fields, action included.
    pub message: &'a [u8],
    /// The `(errno: strerror)` number in the message.
    pub errno: Option<u32>,
    /// The text after the last ` while ` in the message.
    pub action: Option<&'a [u8]>,
    /// The connection peer (not X-Forwarded-For).
    pub client: Option<&'a [u8]>,
    /// `Some(b"")` for `server: ,`.
    pub server: Option<&'a [u8]>,
    pub request: Option<&'a [u8]>,
    pub subrequest: Option<&'a [u8]>,
    pub upstream: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub referrer: Option<&'a [u8]>,
}

impl NginxErrorRecord<'_> {
    /// Classify the message.
    pub fn kind(&self) -> Kind {
        let m = self.message;
        if m.starts_with(b"upstream timed out") {
            Kind::UpstreamTimedOut
        } else if m.starts_with(b"no live upstreams") {
            Kind::NoLiveUpstreams
        } else if m.starts_with(b"upstream server temporarily disabled") {
            Kind::UpstreamDisabled
        } else if m.starts_with(b"upstream prematurely closed") {
            Kind::UpstreamPrematurelyClosed
        } else if self.errno == Some(28) || NO_SPACE.contains(m) {
            Kind::NoSpace
        } else if m.starts_with(b"connect() failed") {
            if self.errno == Some(111) {
                Kind::ConnectRefused
            } else {
                Kind::ConnectFailed
            }
        } else if [
            &b"recv() failed"[..],
            b"send() failed",
            b"readv() failed",
            b"writev() failed",
            b"sendfile() failed",
            b"SSL_read() failed",
            b"SSL_write() failed",
        ]
        .iter()
        .any(|p| m.starts_with(p))
        {
            Kind::RecvSendFailed { errno: self.errno }
        } else if m.starts_with(b"FastCGI sent in stderr") {
            Kind::FastcgiStderr
        } else if let Some(i) = EXITED_ON_SIGNAL.find(m) {
            let digits = &m[i + 18..];
            let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
            Kind::ProcessExitedOnSignal {
                signal: parse_u32(&digits[..n]),
            }
        } else {
            Kind::Other
        }
    }
}

/// Whether `line` continues the previous record (FastCGI stderr's `PHP message:` lines, a
/// wrapped paste): it does not start with an nginx date.
pub fn is_continuation(line: &[u8]) -> bool {
    parse_slash_datetime(line, 0).is_none()
}

/// Parse one error log line; `assumed_offset_secs` is the server's UTC offset.
pub fn parse(line: &[u8], assumed_offset_secs: i32) -> Result<NginxErrorRecord<'_>, ParseError> {
    let (time, mut pos) = match parse_slash_datetime(line, assumed_offset_secs) {
        Some((t, 19)) if line.get(19) == Some(&b' ') => (Some(t), 20),
        Some(_) => return Err(ParseError::new("' ' after the time", 19)),
        None if line.first() == Some(&b'[') => (None, 0),
        None => return Err(ParseError::new("YYYY/MM/DD HH:MM:SS", 0)),
    };
    if line.get(pos) != Some(&b'[') {
        return Err(ParseError::new("'[' before the level", pos));
    }
    let close = line
        .get(pos..pos + 8)
        .and_then(|s| s.iter().position(|&c| c == b']'))
        .ok_or(ParseError::new("']' after the level", pos))?;
    let level =
        Level::from_bytes(&line[pos + 1..pos + close]).ok_or(ParseError::new("level", pos + 1))?;
    pos += close + 1;
    if line.get(pos) != Some(&b' ') {
        return Err(ParseError::new("' ' after the level", pos));
    }
    pos += 1;
    let (pid, n) = digits(line, pos).ok_or(ParseError::new("pid", pos))?;
    let pid = u32::try_from(pid).map_err(|_| ParseError::new("pid", pos))?;
    pos += n;
    if line.get(pos) != Some(&b'#') {
        return Err(ParseError::new("'#' after the pid", pos));
    }
    pos += 1;
    let (tid, n) = digits(line, pos).ok_or(ParseError::new("tid", pos))?;
    pos += n;
    if line.get(pos..pos + 2) != Some(b": ") {
        return Err(ParseError::new("': ' after the tid", pos));
    }
    pos += 2;
    let mut connection = None;
    if line.get(pos) == Some(&b'*')
        && let Some((c, n)) = digits(line, pos + 1)
        && line.get(pos + 1 + n) == Some(&b' ')
    {
        connection = Some(c);
        pos += n + 2;
    }
    let body = &line[pos..];
    let mut r = NginxErrorRecord {
        time,
        level,
        pid,
        tid,
        connection,
        message: body,
        errno: None,
        action: None,
        client: None,
        server: None,
        request: None,
        subrequest: None,
        upstream: None,
        host: None,
        referrer: None,
    };
    if let Some(c) = CLIENT.find(body) {
        r.message = &body[..c];
        context(&body[c..], &mut r);
    } else if let Some(c) = SERVER.find(body) {
        r.message = &body[..c];
        context(&body[c..], &mut r);
    }
    r.errno = errno(r.message);
    r.action = WHILE.rfind(r.message).map(|i| &r.message[i + 7..]);
    Ok(r)
}

static CLIENT: Literal = Literal::new(b", client: ");
static SERVER: Literal = Literal::new(b", server: ");
static WHILE: Literal = Literal::new(b" while ");
static NO_SPACE: Literal = Literal::new(b"No space left on device");
static EXITED_ON_SIGNAL: Literal = Literal::new(b" exited on signal ");

static QUOTED: [Literal; 5] = [
    Literal::new(b", request: \""),
    Literal::new(b", subrequest: \""),
    Literal::new(b", upstream: \""),
    Literal::new(b", host: \""),
    Literal::new(b", referrer: \""),
];

/// `, client: X, server: Y, request: "..." ...` (starting at the first `, `).
fn context<'a>(s: &'a [u8], r: &mut NginxErrorRecord<'a>) {
    // The quoted part begins at the first quoted key; client and server never hold `, `.
    let qstart = QUOTED
        .iter()
        .filter_map(|k| k.find(s))
        .min()
        .unwrap_or(s.len());
    let mut plain = &s[..qstart];
    if let Some(i) = SERVER.find(plain) {
        r.server = Some(&plain[i + 10..]);
        plain = &plain[..i];
    }
    if let Some(v) = plain.strip_prefix(b", client: ") {
        r.client = Some(v);
    }
    // From the end: the last keys (host, referrer) are short, the raw request is the one
    // most likely to hold a marker-like text, so it gets what is left.
    let mut end = s.len();
    for (k, key) in QUOTED.iter().enumerate().rev() {
        let region = &s[qstart..end];
        let Some(i) = key.rfind(region) else {
            continue;
        };
        let v = &region[i + key.bytes().len()..];
        let v = v.strip_suffix(b"\"").unwrap_or(v);
        let slot = match k {
            0 => &mut r.request,
            1 => &mut r.subrequest,
            2 => &mut r.upstream,
            3 => &mut r.host,
            _ => &mut r.referrer,
        };
        *slot = Some(v);
        end = qstart + i;
    }
}

/// `(NNN: ` in the message.
fn errno(m: &[u8]) -> Option<u32> {
    for i in memchr::memchr_iter(b'(', m) {
        let d = &m[i + 1..];
        let n = d.iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 && d.get(n..n + 2) == Some(b": ") {
            return parse_u32(&d[..n]);
        }
    }
    None
}

fn digits(line: &[u8], pos: usize) -> Option<(u64, usize)> {
    let s = line.get(pos..)?;
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[..n] {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some((v, n))
}

fn parse_u32(d: &[u8]) -> Option<u32> {
    let (v, n) = digits(d, 0)?;
    if n != d.len() {
        return None;
    }
    u32::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &[&str] = &[
        r#"2016/10/25 14:49:34 [error] 54053#0: *1 open() "/usr/local/html/favicon.ico" failed (2: No such file or directory), client: 192.0.2.1, server: localhost, request: "GET /favicon.ico HTTP/1.1", host: "localhost:8080", referrer: "http://localhost:8080/""#,
        r#"2019/10/30 23:26:34 [error] 205860#205860: *180289 FastCGI sent in stderr: "PHP message: PHP Warning:  Declaration of A::wrap($content) should be compatible on line 0"#,
        r#"[error] 1046#1046: *2094 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 192.0.2.2, server: localhost, request: "GET /update HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "198.51.100.8""#,
        r#"[error] 15372#0: *77 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 192.0.2.3, server: 198.51.100.9, request: "GET /payment_auths/stripe_authorize HTTP/1.1", upstream: "http://unix:/var/deploy/myapp/shared/tmp/sockets/puma.sock/payment_auths/stripe_authorize", host: "198.51.100.9", referrer: "http://203.0.113.4""#,
        r#"2021/06/01 10:00:00 [error] 368292#368292: *611 connect() failed (111: Connection refused) while connecting to upstream, client: 192.0.2.4, server: server, request: "GET /push/ws HTTP/1.1", upstream: "http://127.0.0.1:7867/ws", host: "host""#,
        r#"2021/06/01 10:00:00 [warn] 368292#368292: *611 upstream server temporarily disabled while connecting to upstream, client: 192.0.2.4, server: server, request: "GET /push/ws HTTP/1.1", upstream: "http://127.0.0.1:7867/ws", host: "host""#,
        r#"2021/06/01 10:00:01 [error] 64795#64795: *26970 no live upstreams while connecting to upstream, client: 192.0.2.5, server: server, request: "GET /push/ws HTTP/1.1", upstream: "http://localhost/ws", host: "host""#,
        r#"2019/01/17 21:38:32 [error] 4213#4213: *12683 upstream timed out (110: Connection timed out) while connecting to upstream(proxy_connect), client: 192.0.2.6, server: , request: "CONNECT registry.example.com:443 HTTP/1.1", host: "registry.example.com""#,
        r#"2024/08/15 14:30:50 [error] 3838#0: send() failed (111: Connection refused)"#,
        r#"2024/08/15 14:30:54 [alert] 3690#0: cache manager process 3986 exited on signal 11"#,
        r#"2017/03/07 14:41:17 [crit] 19513#19513: *11601 open() "/tmp/engintron_temp/0045438890" failed (28: No space left on device) while reading upstream, client: 192.0.2.7, server: localhost, request: "GET /dl/A.html HTTP/1.1", upstream: "http://192.0.2.8:8080/dl/A.html", host: "www.example.com", referrer: "http://www.example.com""#,
        r#"2020/05/05 05:05:05 [error] 7#7: *9 upstream prematurely closed connection while reading response header from upstream, client: 2001:db8::1, server: www.example.com, request: "GET /a", host: "b" HTTP/1.1", upstream: "http://192.0.2.9:80/a", host: "www.example.com""#,
        r#"2020/05/05 05:05:06 [info] 7#7: *10 recv() failed (104: Connection reset by peer) while reading client request line, client: 192.0.2.10, server: 0.0.0.0:80"#,
        r#"2020/05/05 05:05:07 [error] 7#7: *11 upstream timed out (110: Connection timed out) while reading upstream, client: 192.0.2.11, server: www.example.com, request: "GET /cut HTTP/1.1", upstream: "http://192.0.2.12:80/cu"#,
    ];

    fn p(i: usize) -> NginxErrorRecord<'static> {
        parse(LINES[i].as_bytes(), 0).unwrap()
    }

    #[test]
    fn tid_zero_and_context_fields() {
        let r = p(0);
        assert_eq!(r.time, Some(1_477_406_974_000_000));
        assert_eq!(
            (r.level, r.pid, r.tid, r.connection),
            (Level::Error, 54053, 0, Some(1))
        );
        assert_eq!(r.errno, Some(2));
        assert_eq!(
            r.message,
            br#"open() "/usr/local/html/favicon.ico" failed (2: No such file or directory)"#
        );
        assert_eq!(r.client, Some(&b"192.0.2.1"[..]));
        assert_eq!(r.server, Some(&b"localhost"[..]));
        assert_eq!(r.request, Some(&b"GET /favicon.ico HTTP/1.1"[..]));
        assert_eq!(r.host, Some(&b"localhost:8080"[..]));
        assert_eq!(r.referrer, Some(&b"http://localhost:8080/"[..]));
        assert_eq!((r.upstream, r.action, r.kind()), (None, None, Kind::Other));
    }

    #[test]
    fn fastcgi_multiline() {
        let r = p(1);
        assert_eq!(r.kind(), Kind::FastcgiStderr);
        assert!(
            r.message
                .starts_with(b"FastCGI sent in stderr: \"PHP message:")
        );
        assert!(is_continuation(
            b"PHP message: PHP Warning:  Declaration of B::wrap()"
        ));
        assert!(is_continuation(
            b"http://127.0.0.1:3000/?new\", host: \"www.example.com\""
        ));
        assert!(!is_continuation(LINES[0].as_bytes()));
    }

    #[test]
    fn no_date_paste_and_action() {
        let r = p(2);
        assert_eq!(r.time, None);
        assert_eq!(r.kind(), Kind::UpstreamTimedOut);
        assert_eq!(r.errno, Some(110));
        assert_eq!(
            r.action,
            Some(&b"reading response header from upstream"[..])
        );
        assert_eq!(r.upstream, Some(&b"fastcgi://127.0.0.1:9000"[..]));
        assert_eq!(r.host, Some(&b"198.51.100.8"[..]));
    }

    #[test]
    fn old_unix_socket_upstream() {
        let r = p(3);
        assert_eq!(r.tid, 0);
        assert_eq!(
            r.upstream,
            Some(
                &b"http://unix:/var/deploy/myapp/shared/tmp/sockets/puma.sock/payment_auths/stripe_authorize"[..]
            )
        );
        assert_eq!(r.referrer, Some(&b"http://203.0.113.4"[..]));
    }

    #[test]
    fn refused_disabled_no_live() {
        assert_eq!(p(4).kind(), Kind::ConnectRefused);
        assert_eq!(p(4).action, Some(&b"connecting to upstream"[..]));
        assert_eq!(p(5).kind(), Kind::UpstreamDisabled);
        assert_eq!(p(5).level, Level::Warn);
        assert_eq!(p(6).kind(), Kind::NoLiveUpstreams);
        assert_eq!(p(6).upstream, Some(&b"http://localhost/ws"[..]));
    }

    #[test]
    fn empty_server_and_module_action() {
        let r = p(7);
        assert_eq!(r.server, Some(&b""[..]));
        assert_eq!(r.client, Some(&b"192.0.2.6"[..]));
        assert_eq!(
            r.action,
            Some(&b"connecting to upstream(proxy_connect)"[..])
        );
        assert_eq!(
            r.request,
            Some(&b"CONNECT registry.example.com:443 HTTP/1.1"[..])
        );
        assert_eq!(r.host, Some(&b"registry.example.com"[..]));
    }

    #[test]
    fn no_connection_id() {
        let r = p(8);
        assert_eq!((r.connection, r.tid), (None, 0));
        assert_eq!(r.message, b"send() failed (111: Connection refused)");
        assert_eq!(r.kind(), Kind::RecvSendFailed { errno: Some(111) });
        assert_eq!(r.client, None);
        let r = p(9);
        assert_eq!(r.level, Level::Alert);
        assert_eq!(r.kind(), Kind::ProcessExitedOnSignal { signal: Some(11) });
    }

    #[test]
    fn disk_full() {
        let r = p(10);
        assert_eq!(
            (r.level, r.errno, r.kind()),
            (Level::Crit, Some(28), Kind::NoSpace)
        );
        assert_eq!(r.action, Some(&b"reading upstream"[..]));
    }

    #[test]
    fn raw_quotes_in_request() {
        let r = p(11);
        assert_eq!(r.kind(), Kind::UpstreamPrematurelyClosed);
        assert_eq!(r.client, Some(&b"2001:db8::1"[..]));
        assert_eq!(r.request, Some(&br#"GET /a", host: "b" HTTP/1.1"#[..]));
        assert_eq!(r.upstream, Some(&b"http://192.0.2.9:80/a"[..]));
        assert_eq!(r.host, Some(&b"www.example.com"[..]));
    }

    #[test]
    fn reset_and_listen_address_server() {
        let r = p(12);
        assert_eq!(r.kind(), Kind::RecvSendFailed { errno: Some(104) });
        assert_eq!(r.server, Some(&b"0.0.0.0:80"[..]));
        assert_eq!(r.level, Level::Info);
    }

    #[test]
    fn truncated_line() {
        let r = p(13);
        assert_eq!(r.upstream, Some(&b"http://192.0.2.12:80/cu"[..]));
        assert_eq!(r.request, Some(&b"GET /cut HTTP/1.1"[..]));
    }

    #[test]
    fn offset_and_errors() {
        let r = parse(LINES[0].as_bytes(), 3600).unwrap();
        assert_eq!(r.time, Some(1_477_406_974_000_000 - 3_600_000_000));
        assert_eq!(
            parse(b"2016/10/25 14:49:34 [oops] 1#1: x", 0).unwrap_err(),
            ParseError::new("level", 21)
        );
        assert_eq!(parse(b"hello", 0).unwrap_err().at, 0);
        assert_eq!(
            parse(b"2016/10/25 14:49:34 [error] 1#1 x", 0).unwrap_err(),
            ParseError::new("': ' after the tid", 31)
        );
    }

    #[test]
    fn never_panics() {
        for l in LINES {
            let l = l.as_bytes();
            for i in 0..=l.len() {
                if let Ok(r) = parse(&l[..i], 0) {
                    let _ = r.kind();
                }
                let _ = is_continuation(&l[..i]);
            }
            for i in 0..l.len() {
                for c in [0u8, b'"', b' ', b'[', 0xff] {
                    let mut m = l.to_vec();
                    m[i] = c;
                    if let Ok(r) = parse(&m, 0) {
                        let _ = r.kind();
                    }
                }
            }
        }
    }
}
