//! nginx access logs in any `log_format`: the format string (as given with
//! `--nginx-format '...'`, multi-part strings already concatenated) is compiled once into a
//! plan of literals and variables, then each line is matched against the plan without
//! allocating.
//!
//! ```text
//! format   = *(literal / variable)
//! variable = "$" name / "${" name "}"        ; name = 1*(ALPHA / DIGIT / "_")
//! ```
//!
//! Example: [`COMBINED`] = `$remote_addr - $remote_user [$time_local] "$request" $status
//! $body_bytes_sent "$http_referer" "$http_user_agent"`.
//!
//! A variable's value ends at the literal that follows it. When that literal also occurs
//! inside the value (`$request` with a raw `"`, an unquoted `$request` with spaces as in
//! goaccess#637, `$upstream_addr` lists `a:1, b:2` before a space), the matcher tries the
//! next occurrence: values of the typed variables are checked (`$status` is three digits or
//! `-`, times parse, `$upstream_*_time` is a list of numbers) and a failed check backtracks,
//! within a fixed budget of attempts per line so a hostile line cannot take long.
//!
//! Traps handled (formats.md §4.1, §8):
//! - `-` means "not found" and typed accessors return `None` for it; `""` is an empty value.
//! - `$upstream_*_time`, `$upstream_status`, `$upstream_addr` are lists (`0.100, 0.004`,
//!   `0.001 : 0.002`, `-` for an attempt without a time): [`UpstreamTimes`] gives the raw
//!   slice, the sum and the counts.
//! - `$request_time` and the upstream times are seconds with ms resolution: returned as
//!   [`Micros`] durations (integers, exact for `%T.%03M`).
//! - `$time_local`, `$time_iso8601` and `$msec` all give [`NginxRecord::time`].
//! - Values stay raw with nginx's `\xHH` escapes; [`unescape_into`] decodes them.
//! - Bytes after the last literal of the plan are in [`NginxRecord::rest`].
//! - Two variables with nothing between them cannot be split: [`compile`] refuses them.
//!
//! ```
//! use coroner_parse::formats::nginx_format::{self, MAIN};
//! let fmt = nginx_format::compile(MAIN).unwrap();
//! let line = b"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.1\" 200 5 \"-\" \"curl/8.0\" \"198.51.100.2\"";
//! let r = fmt.parse(line).unwrap();
//! assert_eq!(r.status(), Some(200));
//! assert_eq!(r.time(), Some(971_211_336_000_000));
//! assert_eq!(r.method(), Some(&b"GET"[..]));
//! assert_eq!(r.http_x_forwarded_for(), Some(&b"198.51.100.2"[..]));
//! assert_eq!(r.get("http_user_agent"), Some(&b"curl/8.0"[..]));
//! ```

use std::fmt;

use memchr::memmem;
use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_till1, take_while1},
    combinator::map,
    sequence::{delimited, preceded},
};

use crate::error::ParseError;
use crate::formats::clf::{parse_u64, split_request};
use crate::timestamp::{Micros, parse_clf, parse_rfc3339};

pub use crate::formats::clf::unescape_into;

/// nginx's built-in `combined`.
pub const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// The `main` of the nginx.org packages and the docker image: combined plus the XFF header.
pub const MAIN: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#;

/// The most variables one format may hold (value spans live in a fixed array per record).
pub const MAX_VARS: usize = 64;

/// Most alternative splits tried for one line before giving up.
const BUDGET: u32 = 4096;

/// Why a format string cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    /// Byte offset in the format string.
    pub at: usize,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nginx log_format: {} (at byte {})",
            self.message, self.at
        )
    }
}

impl std::error::Error for FormatError {}

/// The variables with a typed accessor (and the ones whose values are checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    RemoteAddr,
    RemoteUser,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    RequestMethod,
    RequestUri,
    ServerProtocol,
    Status,
    BodyBytesSent,
    BytesSent,
    RequestLength,
    RequestTime,
    UpstreamResponseTime,
    UpstreamConnectTime,
    UpstreamHeaderTime,
    UpstreamAddr,
    UpstreamStatus,
    HttpReferer,
    HttpUserAgent,
    HttpXForwardedFor,
    Host,
}

const N_KNOWN: usize = Known::Host as usize + 1;

impl Known {
    fn from_name(name: &str) -> Option<Known> {
        use Known::*;
        Some(match name {
            "remote_addr" => RemoteAddr,
            "remote_user" => RemoteUser,
            "time_local" => TimeLocal,
            "time_iso8601" => TimeIso8601,
            "msec" => Msec,
            "request" => Request,
            "request_method" => RequestMethod,
            "request_uri" => RequestUri,
            "server_protocol" => ServerProtocol,
            "status" => Status,
            "body_bytes_sent" => BodyBytesSent,
            "bytes_sent" => BytesSent,
            "request_length" => RequestLength,
            "request_time" => RequestTime,
            "upstream_response_time" => UpstreamResponseTime,
            "upstream_connect_time" => UpstreamConnectTime,
            "upstream_header_time" => UpstreamHeaderTime,
            "upstream_addr" => UpstreamAddr,
            "upstream_status" => UpstreamStatus,
            "http_referer" => HttpReferer,
            "http_user_agent" => HttpUserAgent,
            "http_x_forwarded_for" => HttpXForwardedFor,
            "host" => Host,
            _ => return None,
        })
    }
}

/// What a value must look like, so a wrong split is noticed and another one tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Any,
    Status,
    Number,
    List,
    TimeLocal,
    TimeIso,
}

fn check_for(name: &str) -> Check {
    match name {
        "status" => Check::Status,
        "body_bytes_sent"
        | "bytes_sent"
        | "request_length"
        | "request_time"
        | "msec"
        | "connection"
        | "connection_requests"
        | "pid"
        | "content_length" => Check::Number,
        "upstream_response_time"
        | "upstream_connect_time"
        | "upstream_header_time"
        | "upstream_status"
        | "upstream_response_length"
        | "upstream_bytes_received"
        | "upstream_bytes_sent" => Check::List,
        "time_local" => Check::TimeLocal,
        "time_iso8601" => Check::TimeIso,
        _ => Check::Any,
    }
}

#[derive(Debug, Clone)]
enum Item {
    Lit(Box<Lit>),
    Var { slot: usize, check: Check },
}

#[derive(Debug, Clone)]
struct Lit {
    bytes: Vec<u8>,
    finder: memmem::Finder<'static>,
}

/// A compiled `log_format`.
#[derive(Debug, Clone)]
pub struct NginxFormat {
    items: Vec<Item>,
    /// Variable names by slot.
    names: Vec<String>,
    known: [Option<u8>; N_KNOWN],
}

enum Tok<'s> {
    Var(&'s str),
    Lit(&'s str),
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn token(i: &str) -> IResult<&str, Tok<'_>> {
    alt((
        map(
            preceded(
                tag("$"),
                alt((
                    delimited(tag("{"), take_while1(is_name), tag("}")),
                    take_while1(is_name),
                )),
            ),
            Tok::Var,
        ),
        map(take_till1(|c| c == '$'), Tok::Lit),
        // A `$` not followed by a name is literal text, as in nginx.
        map(tag("$"), Tok::Lit),
    ))
    .parse(i)
}

/// Compile a `log_format` string.
pub fn compile(format: &str) -> Result<NginxFormat, FormatError> {
    let err = |message: String, at: usize| Err(FormatError { message, at });
    let mut items: Vec<Item> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut known = [None; N_KNOWN];
    let mut rest = format;
    while !rest.is_empty() {
        let at = format.len() - rest.len();
        if rest.starts_with("${") && !rest[2..].starts_with(|c: char| is_name(c)) {
            return err("empty variable name in \"${\"".into(), at);
        }
        let Ok((next, tok)) = token(rest) else {
            return err("cannot read the format".into(), at);
        };
        if rest.starts_with("${") && matches!(tok, Tok::Lit(_)) {
            return err("missing '}' after \"${\"".into(), at);
        }
        match tok {
            Tok::Lit(s) => {
                if let Some(Item::Lit(l)) = items.last_mut() {
                    l.bytes.extend_from_slice(s.as_bytes());
                } else {
                    items.push(Item::Lit(Box::new(Lit {
                        bytes: s.as_bytes().to_vec(),
                        finder: memmem::Finder::new(b"").into_owned(),
                    })));
                }
            }
            Tok::Var(name) => {
                if let (Some(Item::Var { .. }), Some(prev)) = (items.last(), names.last()) {
                    return err(
                        format!(
                            "variables ${prev} and ${name} have no literal text between them, so their values cannot be split"
                        ),
                        at,
                    );
                }
                if names.len() == MAX_VARS {
                    return err(format!("more than {MAX_VARS} variables"), at);
                }
                let slot = names.len();
                if let Some(k) = Known::from_name(name)
                    && known[k as usize].is_none()
                {
                    known[k as usize] = u8::try_from(slot).ok();
                }
                names.push(name.to_string());
                items.push(Item::Var {
                    slot,
                    check: check_for(name),
                });
            }
        }
        rest = next;
    }
    if names.is_empty() {
        return err("no variables".into(), 0);
    }
    for it in &mut items {
        if let Item::Lit(l) = it {
            l.finder = memmem::Finder::new(&l.bytes).into_owned();
        }
    }
    Ok(NginxFormat {
        items,
        names,
        known,
    })
}

/// One line matched against an [`NginxFormat`]: value spans into the line.
#[derive(Debug, Clone, Copy)]
pub struct NginxRecord<'a> {
    fmt: &'a NginxFormat,
    line: &'a [u8],
    spans: [(u32, u32); MAX_VARS],
    rest: u32,
}

impl PartialEq for NginxRecord<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.fmt, other.fmt)
            && self.line == other.line
            && self.spans == other.spans
            && self.rest == other.rest
    }
}

/// An `$upstream_*_time` list: `0.100, 0.004 : 0.010`, with `-` for attempts without a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamTimes<'a> {
    pub raw: &'a [u8],
    /// Sum of the numeric entries.
    pub sum: Micros,
    /// Numeric entries.
    pub count: u32,
    /// `-` entries.
    pub missing: u32,
}

impl NginxFormat {
    /// Match one line (without its newline). The record borrows the format and the line.
    pub fn parse<'a>(&'a self, line: &'a [u8]) -> Result<NginxRecord<'a>, ParseError> {
        if u32::try_from(line.len()).is_err() {
            return Err(ParseError::new("a line shorter than 4 GiB", 0));
        }
        let mut m = Matcher {
            items: &self.items,
            line,
            spans: [(0, 0); MAX_VARS],
            budget: BUDGET,
            first_failure: None,
        };
        match m.run(0, 0) {
            Some(rest) => Ok(NginxRecord {
                fmt: self,
                line,
                spans: m.spans,
                rest: rest as u32,
            }),
            None => {
                let (at, what) = m.first_failure.unwrap_or((0, "the format"));
                Err(ParseError::new(what, at))
            }
        }
    }

    /// The variable names in format order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

struct Matcher<'p, 'a> {
    items: &'p [Item],
    line: &'a [u8],
    spans: [(u32, u32); MAX_VARS],
    budget: u32,
    /// Where matching broke first, for the error.
    first_failure: Option<(usize, &'static str)>,
}

impl Matcher<'_, '_> {
    fn fail(&mut self, at: usize, what: &'static str) -> Option<usize> {
        // The first failure is the one on the plain first-occurrence split, the reading a
        // person would make; later ones come from backtracking and mislead.
        if self.first_failure.is_none() {
            self.first_failure = Some((at, what));
        }
        None
    }

    /// Match `items[i..]` at `pos`; returns the offset of the unmatched rest. Recursion depth
    /// is bounded by the plan length (at most 2 * MAX_VARS + 1).
    fn run(&mut self, i: usize, pos: usize) -> Option<usize> {
        let line = self.line;
        match self.items.get(i) {
            None => Some(pos),
            Some(Item::Lit(l)) => {
                if line.get(pos..)?.starts_with(&l.bytes) {
                    self.run(i + 1, pos + l.bytes.len())
                } else {
                    self.fail(pos, "the format's literal text")
                }
            }
            Some(&Item::Var { slot, check }) => {
                let next = match self.items.get(i + 1) {
                    Some(Item::Lit(l)) => l,
                    // Last item (compile forbids two variables in a row): to the end.
                    _ => {
                        if !valid(check, &line[pos..]) {
                            return self.fail(pos, check_name(check));
                        }
                        self.spans[slot] = (pos as u32, line.len() as u32);
                        return Some(line.len());
                    }
                };
                let mut from = pos;
                while let Some(off) = next.finder.find(&line[from..]) {
                    let end = from + off;
                    if self.budget == 0 {
                        return self.fail(end, "fewer ambiguous splits (budget exhausted)");
                    }
                    self.budget -= 1;
                    if valid(check, &line[pos..end]) {
                        self.spans[slot] = (pos as u32, end as u32);
                        if let Some(r) = self.run(i + 2, end + next.bytes.len()) {
                            return Some(r);
                        }
                    } else {
                        self.fail(pos, check_name(check));
                    }
                    from = end + 1;
                }
                self.fail(pos, "the literal after a variable")
            }
        }
    }
}

fn check_name(c: Check) -> &'static str {
    match c {
        Check::Any => "a value",
        Check::Status => "a status (digits or '-')",
        Check::Number => "a number or '-'",
        Check::List => "a list of numbers",
        Check::TimeLocal => "a $time_local time",
        Check::TimeIso => "a $time_iso8601 time",
    }
}

fn valid(check: Check, v: &[u8]) -> bool {
    match check {
        Check::Any => true,
        Check::Status => {
            v == b"-" || (!v.is_empty() && v.len() <= 3 && v.iter().all(u8::is_ascii_digit))
        }
        Check::Number => v == b"-" || number(v),
        Check::List => list_valid(v),
        Check::TimeLocal => v == b"-" || parse_clf(v).is_some_and(|(_, n)| n == v.len()),
        Check::TimeIso => v == b"-" || parse_rfc3339(v, 0).is_some_and(|(_, n)| n == v.len()),
    }
}

/// Digits with at most one `.`, starting with a digit.
fn number(v: &[u8]) -> bool {
    let mut dots = 0;
    v.first().is_some_and(u8::is_ascii_digit)
        && v.iter().all(|&c| {
            dots += usize::from(c == b'.');
            c.is_ascii_digit() || c == b'.'
        })
        && dots <= 1
}

/// The entries of an upstream list, split on `, ` and ` : ` (and any stray separator).
fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b',' || c == b':' || c == b' ')
        .filter(|t| !t.is_empty())
}

/// Numbers or `-` separated by exactly `, ` or ` : `.
fn list_valid(v: &[u8]) -> bool {
    let mut rest = v;
    loop {
        let n = rest
            .iter()
            .position(|&c| c == b',' || c == b' ')
            .unwrap_or(rest.len());
        let t = &rest[..n];
        if !(t == b"-" || number(t)) {
            return false;
        }
        rest = &rest[n..];
        if rest.is_empty() {
            return true;
        }
        rest = match rest {
            [b',', b' ', r @ ..] | [b' ', b':', b' ', r @ ..] => r,
            _ => return false,
        };
    }
}

/// `12.345` seconds as µs (fraction truncated to µs).
fn seconds(v: &[u8]) -> Option<Micros> {
    let (int, frac) = match memchr::memchr(b'.', v) {
        Some(d) => (&v[..d], &v[d + 1..]),
        None => (v, &v[..0]),
    };
    let secs = i64::try_from(parse_u64(int)?).ok()?;
    let mut us: i64 = 0;
    let mut scale = 100_000;
    for &c in frac {
        if !c.is_ascii_digit() {
            return None;
        }
        us += i64::from(c - b'0') * scale;
        scale /= 10;
    }
    secs.checked_mul(1_000_000)?.checked_add(us)
}

fn dash_none(v: &[u8]) -> Option<&[u8]> {
    if v == b"-" { None } else { Some(v) }
}

impl<'a> NginxRecord<'a> {
    fn known(&self, k: Known) -> Option<&'a [u8]> {
        let slot = usize::from(self.fmt.known[k as usize]?);
        let (s, e) = self.spans[slot];
        self.line.get(s as usize..e as usize)
    }

    fn known_value(&self, k: Known) -> Option<&'a [u8]> {
        self.known(k).and_then(dash_none)
    }

    /// Any variable by name (without `$`), raw (a `-` is returned as is).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        let slot = self.fmt.names.iter().position(|n| n == name)?;
        let (s, e) = self.spans[slot];
        self.line.get(s as usize..e as usize)
    }

    /// The bytes after the last literal of the format (empty when the line ends there).
    pub fn rest(&self) -> &'a [u8] {
        self.line.get(self.rest as usize..).unwrap_or_default()
    }

    pub fn remote_addr(&self) -> Option<&'a [u8]> {
        self.known_value(Known::RemoteAddr)
    }

    pub fn remote_user(&self) -> Option<&'a [u8]> {
        self.known_value(Known::RemoteUser)
    }

    /// `$time_local`, else `$time_iso8601`, else `$msec`, as UTC µs: when the request ended.
    pub fn time(&self) -> Option<Micros> {
        if let Some(v) = self.known_value(Known::TimeLocal) {
            return parse_clf(v).map(|(t, _)| t);
        }
        if let Some(v) = self.known_value(Known::TimeIso8601) {
            return parse_rfc3339(v, 0).map(|(t, _)| t);
        }
        self.known_value(Known::Msec).and_then(seconds)
    }

    /// The raw `$request` line.
    pub fn request(&self) -> Option<&'a [u8]> {
        self.known(Known::Request)
    }

    /// From `$request` when it splits into three, else `$request_method`.
    pub fn method(&self) -> Option<&'a [u8]> {
        self.request()
            .and_then(|r| split_request(r).0)
            .or_else(|| self.known_value(Known::RequestMethod))
    }

    /// From `$request` when it splits into three, else `$request_uri`.
    pub fn target(&self) -> Option<&'a [u8]> {
        self.request()
            .and_then(|r| split_request(r).1)
            .or_else(|| self.known_value(Known::RequestUri))
    }

    /// From `$request` when it splits into three, else `$server_protocol`.
    pub fn protocol(&self) -> Option<&'a [u8]> {
        self.request()
            .and_then(|r| split_request(r).2)
            .or_else(|| self.known_value(Known::ServerProtocol))
    }

    /// `000` is `Some(0)`.
    pub fn status(&self) -> Option<u16> {
        self.known(Known::Status)
            .and_then(parse_u64)
            .and_then(|v| u16::try_from(v).ok())
    }

    pub fn body_bytes_sent(&self) -> Option<u64> {
        self.known(Known::BodyBytesSent).and_then(parse_u64)
    }

    pub fn bytes_sent(&self) -> Option<u64> {
        self.known(Known::BytesSent).and_then(parse_u64)
    }

    pub fn request_length(&self) -> Option<u64> {
        self.known(Known::RequestLength).and_then(parse_u64)
    }

    /// `$request_time` (seconds with ms resolution) as a µs duration.
    pub fn request_time(&self) -> Option<Micros> {
        self.known(Known::RequestTime).and_then(seconds)
    }

    fn times(&self, k: Known) -> Option<UpstreamTimes<'a>> {
        let raw = self.known(k)?;
        if raw == b"-" {
            return None;
        }
        let mut t = UpstreamTimes {
            raw,
            sum: 0,
            count: 0,
            missing: 0,
        };
        for item in list_items(raw) {
            match seconds(item) {
                Some(us) => {
                    t.sum = t.sum.saturating_add(us);
                    t.count += 1;
                }
                None => t.missing += 1,
            }
        }
        Some(t)
    }

    /// `None` when the whole variable is `-` (no upstream).
    pub fn upstream_response_time(&self) -> Option<UpstreamTimes<'a>> {
        self.times(Known::UpstreamResponseTime)
    }

    pub fn upstream_connect_time(&self) -> Option<UpstreamTimes<'a>> {
        self.times(Known::UpstreamConnectTime)
    }

    pub fn upstream_header_time(&self) -> Option<UpstreamTimes<'a>> {
        self.times(Known::UpstreamHeaderTime)
    }

    /// Raw list (`192.0.2.1:80, 192.0.2.2:80`, `unix:/run/php.sock`).
    pub fn upstream_addr(&self) -> Option<&'a [u8]> {
        self.known_value(Known::UpstreamAddr)
    }

    /// Raw list (`502, 200`).
    pub fn upstream_status(&self) -> Option<&'a [u8]> {
        self.known_value(Known::UpstreamStatus)
    }

    /// The status of the last upstream attempt.
    pub fn upstream_status_last(&self) -> Option<u16> {
        let raw = self.upstream_status()?;
        let last = list_items(raw).last()?;
        parse_u64(last).and_then(|v| u16::try_from(v).ok())
    }

    pub fn http_referer(&self) -> Option<&'a [u8]> {
        self.known_value(Known::HttpReferer)
    }

    pub fn http_user_agent(&self) -> Option<&'a [u8]> {
        self.known_value(Known::HttpUserAgent)
    }

    pub fn http_x_forwarded_for(&self) -> Option<&'a [u8]> {
        self.known_value(Known::HttpXForwardedFor)
    }

    pub fn host(&self) -> Option<&'a [u8]> {
        self.known_value(Known::Host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::clf;

    const UPSTREAMINFO: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#;

    fn fmt(f: &str) -> NginxFormat {
        compile(f).unwrap()
    }

    #[test]
    fn compile_errors_are_clear() {
        let e = compile("$remote_addr$remote_user").unwrap_err();
        assert_eq!(
            e.message,
            "variables $remote_addr and $remote_user have no literal text between them, so their values cannot be split"
        );
        assert_eq!(e.at, 12);
        assert_eq!(
            compile("${status").unwrap_err().message,
            "missing '}' after \"${\""
        );
        assert_eq!(compile("a ${} b").unwrap_err().at, 2);
        assert_eq!(compile("just text").unwrap_err().message, "no variables");
        let many: String = (0..65).map(|i| format!("$v{i} ")).collect();
        assert!(compile(&many).unwrap_err().message.contains("more than 64"));
    }

    #[test]
    fn braces_dollars_and_names() {
        let f = fmt("${remote_addr}x $$ $status|${host}");
        assert_eq!(
            f.variables().collect::<Vec<_>>(),
            ["remote_addr", "status", "host"]
        );
        let r = f.parse(b"192.0.2.1x $$ 404|www.example.com").unwrap();
        assert_eq!(r.remote_addr(), Some(&b"192.0.2.1"[..]));
        assert_eq!(r.status(), Some(404));
        assert_eq!(r.host(), Some(&b"www.example.com"[..]));
        assert_eq!(r.get("nope"), None);
    }

    #[test]
    fn ingress_upstreaminfo() {
        let f = fmt(UPSTREAMINFO);
        let r = f.parse(br#"192.0.2.14 - - [07/Feb/2020:12:02:42 +0000] "GET /v2/some HTTP/1.1" 200 61 "-" "Mozilla/5.0 (X11; rv:72.0) Gecko/20100101 Firefox/72.0" 348 0.001 [default-web2-8080] [] 192.0.2.6:8080, 192.0.2.7:8080 61, 100 0.100, 0.004 200, 203 835136ae24486dbb4156dcbe21f5d402"#).unwrap();
        assert_eq!(r.request_length(), Some(348));
        assert_eq!(r.request_time(), Some(1_000));
        assert_eq!(
            r.get("proxy_upstream_name"),
            Some(&b"default-web2-8080"[..])
        );
        assert_eq!(r.get("proxy_alternative_upstream_name"), Some(&b""[..]));
        assert_eq!(
            r.upstream_addr(),
            Some(&b"192.0.2.6:8080, 192.0.2.7:8080"[..])
        );
        assert_eq!(r.get("upstream_response_length"), Some(&b"61, 100"[..]));
        let t = r.upstream_response_time().unwrap();
        assert_eq!(
            (t.raw, t.sum, t.count, t.missing),
            (&b"0.100, 0.004"[..], 104_000, 2, 0)
        );
        assert_eq!(r.upstream_status(), Some(&b"200, 203"[..]));
        assert_eq!(r.upstream_status_last(), Some(203));
        assert_eq!(
            r.get("req_id"),
            Some(&b"835136ae24486dbb4156dcbe21f5d402"[..])
        );

        let r = f.parse(br#"192.0.2.1 - - [07/Feb/2020:11:49:50 +0000] "PATCHp /products/42 HTTP/1.1" 400 163 "-" "-" 0 0.000 [] [] - - - - 4c7d2079340e68353c7d0dfff00b904b"#).unwrap();
        assert_eq!(
            (r.upstream_addr(), r.upstream_response_time()),
            (None, None)
        );
        assert_eq!(r.method(), Some(&b"PATCHp"[..]));

        let r = f.parse(br#"2001:db8::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0" 27 0.000 [localhost-8080] [] [2001:db8::7]:5000, [2001:db8::4e36]:5000 0, 0 0.000, 0.000 502, 502 3db73c6c673c4256ade033a6ce08c2ab"#).unwrap();
        assert_eq!(
            r.upstream_addr(),
            Some(&b"[2001:db8::7]:5000, [2001:db8::4e36]:5000"[..])
        );
        assert_eq!(r.upstream_response_time().unwrap().count, 2);

        let r = f.parse(br#"192.0.2.14 - - [07/Feb/2020:12:02:42 +0000] "GET /test/test.mp4 HTTP/1.1" 200 61 "-" "Mozilla/5.0" 348 0.001 [default-web2-8080] [] 192.0.2.6:8080, 192.0.2.7:8080 - 0.100, - 200, - 835136ae24486dbb4156dcbe21f5d402"#).unwrap();
        let t = r.upstream_response_time().unwrap();
        assert_eq!((t.sum, t.count, t.missing), (100_000, 1, 1));
        assert_eq!(r.upstream_status_last(), None);

        let r = f.parse(br#"192.0.2.1 - - [07/Feb/2020:11:56:54 +0000] "GET /products/42 HTTP/1.1" 200 59 "-" "Safari/605.1.15" 369 0.002 [default-web-8080] [] unix:/var/run/php-fpm.sock 59 0.002 200 0f76ea730f282d5759018eb756b23b14"#).unwrap();
        assert_eq!(r.upstream_addr(), Some(&b"unix:/var/run/php-fpm.sock"[..]));
    }

    #[test]
    fn redirect_colon_lists() {
        let f = fmt("$status urt=$upstream_response_time uct=$upstream_connect_time");
        let r = f.parse(b"200 urt=0.100, 0.004 : 0.010 uct=-").unwrap();
        let t = r.upstream_response_time().unwrap();
        assert_eq!((t.sum, t.count), (114_000, 3));
        assert_eq!(r.upstream_connect_time(), None);
    }

    #[test]
    fn goaccess_885_key_value_suffix() {
        let f = fmt(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" "$http_x_real_ip" $msec adfr="$adfr" dv="$dv" dvr="$dvr" lv="$lv" lvr="$lvr" rt=$request_time ut="$upstream_response_time" cs=$upstream_cache_status ua="$upstream_addr" us="$upstream_status""#,
        );
        let r = f.parse(br#"192.0.2.4 - - [18/Sep/2017:00:00:02 +0300] "GET /breaking/current/?project_id=1 HTTP/1.1" 200 206 "-" "python-requests/2.13.0" "-" "-" 1505682002.098 adfr="-" dv="-" dvr="-" lv="-" lvr="-" rt=0.000 ut="-" cs=HIT ua="-" us="-""#).unwrap();
        assert_eq!(r.request_time(), Some(0));
        assert_eq!(r.upstream_response_time(), None);
        assert_eq!(r.get("upstream_cache_status"), Some(&b"HIT"[..]));
        assert_eq!(r.time(), Some(1_505_682_002_000_000));
        let r = f.parse(br#"192.0.2.5 - - [18/Sep/2017:00:00:02 +0300] "GET /clusters/info?rubricator_id=1&ids=37189260 HTTP/1.1" 200 2961 "-" "python-requests/2.13.0" "-" "-" 1505682002.133 adfr="-" dv="-" dvr="-" lv="-" lvr="-" rt=0.151 ut="0.151" cs=MISS ua="192.0.2.25:8084" us="200""#).unwrap();
        assert_eq!(r.request_time(), Some(151_000));
        assert_eq!(r.upstream_response_time().unwrap().sum, 151_000);
        assert_eq!(r.upstream_status_last(), Some(200));
        assert_eq!(r.upstream_addr(), Some(&b"192.0.2.25:8084"[..]));
    }

    #[test]
    fn goaccess_2348_trailing_timings_and_msec() {
        let f = fmt(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_id $msec $request_time $upstream_connect_time $upstream_header_time $upstream_response_time"#,
        );
        let r = f.parse(br#"192.0.2.15 - - [30/Jun/2022:05:30:08 +0300] "GET /api/modules/data-hash HTTP/1.1" 200 10 "-" "-" "192.0.2.15" 2e4895b6f9a462e35d60e8126a84fb1b 1656556208.724 0.000 0.000 0.000 0.000"#).unwrap();
        assert_eq!(r.http_x_forwarded_for(), Some(&b"192.0.2.15"[..]));
        assert_eq!(r.get("msec"), Some(&b"1656556208.724"[..]));
        assert_eq!(r.upstream_header_time().unwrap().count, 1);
        assert_eq!(r.rest(), b"");
        let f = fmt("$msec $status");
        assert_eq!(
            f.parse(b"1656556208.724 200").unwrap().time(),
            Some(1_656_556_208_724_000)
        );
    }

    #[test]
    fn goaccess_637_timings_first_unquoted_request() {
        let f = fmt(
            r#"$request_time $upstream_response_time [$time_local] $request $status $body_bytes_sent "$host" "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_length $upstream_status $upstream_addr $remote_user  $connection $connection_requests $server_addr $bytes_sent"#,
        );
        let r = f.parse(br#"0.001 0.001 [23/Jan/2017:04:06:22 -0800] GET /app/ajs/xxxx.js HTTP/1.1 304 0 "www.example.com" "https://www.example.com/ref" "Mozilla/5.0 (X11; Linux x86_64)" "-" 988 - 192.0.2.30 -  4710110 31 192.0.2.31 -"#).unwrap();
        assert_eq!(r.request(), Some(&b"GET /app/ajs/xxxx.js HTTP/1.1"[..]));
        assert_eq!(r.target(), Some(&b"/app/ajs/xxxx.js"[..]));
        assert_eq!((r.status(), r.body_bytes_sent()), (Some(304), Some(0)));
        assert_eq!(r.request_time(), Some(1_000));
        assert_eq!(r.host(), Some(&b"www.example.com"[..]));
        assert_eq!(r.upstream_addr(), Some(&b"192.0.2.30"[..]));
        assert_eq!(r.get("connection"), Some(&b"4710110"[..]));
        assert_eq!(r.bytes_sent(), None);
        assert_eq!(r.time(), Some(1_485_173_182_000_000));
    }

    #[test]
    fn embedded_quote_in_request() {
        let f = fmt(COMBINED);
        let r = f.parse(br#"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a" 1 2 HTTP/1.1" 200 5 "-" "ua""#).unwrap();
        assert_eq!(r.request(), Some(&br#"GET /a" 1 2 HTTP/1.1"#[..]));
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.http_referer(), None);
    }

    #[test]
    fn iso_time_and_escapes() {
        let f = fmt(r#"$time_iso8601 "$http_user_agent""#);
        let r = f
            .parse(br#"2000-10-10T13:55:36-07:00 "Mozilla/5.0 (\xC3\xA9)""#)
            .unwrap();
        assert_eq!(r.time(), Some(971_211_336_000_000));
        let mut out = Vec::new();
        unescape_into(r.http_user_agent().unwrap(), &mut out);
        assert_eq!(out, "Mozilla/5.0 (é)".as_bytes());
    }

    const SHOP: &[&str] = &[
        r#"192.0.2.41 - - [22/Jan/2019:03:56:14 +0330] "GET /filter/27|13%20%D9%85%DA%AF%D8%A7,27|%DA%A9%D9%85,p53 HTTP/1.1" 200 30577 "-" "Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)" "-""#,
        r#"192.0.2.42 - - [22/Jan/2019:03:56:16 +0330] "GET /image/60844/productModel/200x200 HTTP/1.1" 200 5667 "https://www.example.com/m/filter/b113" "Mozilla/5.0 (Linux; Android 6.0)" "-""#,
        r#"192.0.2.43 - - [22/Jan/2019:03:56:18 +0330] "GET /static/images/amp/third-party/footer-mobile.png HTTP/1.1" 200 41483 "https://www.example.com/amp/product/36643" "Mozilla/5.0 (Linux; Android 5.0)" "198.51.100.3, 203.0.113.3""#,
    ];

    #[test]
    fn shop_main_lines() {
        let f = fmt(MAIN);
        let r = f.parse(SHOP[0].as_bytes()).unwrap();
        assert_eq!(r.time(), Some(1_548_116_774_000_000));
        assert_eq!((r.status(), r.body_bytes_sent()), (Some(200), Some(30577)));
        assert_eq!(r.http_x_forwarded_for(), None);
        let r = f.parse(SHOP[2].as_bytes()).unwrap();
        assert_eq!(
            r.http_x_forwarded_for(),
            Some(&b"198.51.100.3, 203.0.113.3"[..])
        );
        assert_eq!(
            r.http_referer(),
            Some(&b"https://www.example.com/amp/product/36643"[..])
        );
    }

    #[test]
    fn combined_agrees_with_clf() {
        let f = fmt(COMBINED);
        let lines = [
            r#"192.0.2.1 - alice [10/Oct/2000:13:55:36 -0700] "GET /x?y=1 HTTP/1.1" 200 2326 "https://www.example.com/" "curl/8.0""#,
            r#"192.0.2.16 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-""#,
            r#"203.0.113.20 - - [06/Aug/2022:02:46:36 +0000] "\x16\x03\x01\x01" 400 166 "-" "-""#,
            r#"192.0.2.18 - - [05/Feb/2018:22:24:32 +0000] "CONNECT www.example.com:443 HTTP/1.1" 000 1477 "-" "electron""#,
            SHOP[0],
            SHOP[1],
        ];
        for l in lines {
            let a = clf::parse(l.as_bytes()).unwrap();
            let r = f.parse(l.as_bytes()).unwrap();
            assert_eq!(r.remote_addr(), a.client, "{l}");
            assert_eq!(r.remote_user(), a.user);
            assert_eq!(r.time(), a.time);
            assert_eq!(r.request(), Some(a.request));
            assert_eq!(
                (r.method(), r.target(), r.protocol()),
                (a.method, a.target, a.protocol)
            );
            assert_eq!((r.status(), r.body_bytes_sent()), (a.status, a.size));
            assert_eq!(
                (r.http_referer(), r.http_user_agent()),
                (a.referer, a.user_agent)
            );
            // MAIN lines carry a 9th field that combined leaves in the rest.
            let expect_rest: &[u8] = if SHOP.contains(&l) { b" \"-\"" } else { b"" };
            assert_eq!(r.rest(), expect_rest);
        }
    }

    #[test]
    fn main_agrees_with_clf_on_generated_lines() {
        let (combined, main) = (fmt(COMBINED), fmt(MAIN));
        let mut g = clf::tests::Gen(7, 0);
        let mut line = Vec::new();
        for _ in 0..3000 {
            line.clear();
            g.line(&mut line);
            let a = clf::parse(&line).unwrap();
            // Generated lines are combined, half of them with the 9th field.
            let r = match main.parse(&line) {
                Ok(r) => r,
                Err(_) => combined.parse(&line).unwrap(),
            };
            assert_eq!(r.remote_addr(), a.client);
            assert_eq!(r.time(), a.time);
            assert_eq!(r.request(), Some(a.request));
            assert_eq!((r.status(), r.body_bytes_sent()), (a.status, a.size));
            assert_eq!(
                (r.http_referer(), r.http_user_agent()),
                (a.referer, a.user_agent)
            );
            assert_eq!(r.http_x_forwarded_for(), a.forwarded_for);
        }
    }

    #[test]
    fn errors_point_at_the_break() {
        let f = fmt(COMBINED);
        let e = f
            .parse(
                b"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" abc 5 \"-\" \"-\"",
            )
            .unwrap_err();
        assert_eq!(e.expected, "a status (digits or '-')");
        assert_eq!(e.at, 60);
        assert!(f.parse(b"").is_err());
    }

    #[test]
    fn hostile_line_is_bounded() {
        let f = fmt(r#"$a "$b" "$c" "$d" "$e" "$f" $status"#);
        let line = vec![b'"'; 5000];
        assert!(f.parse(&line).is_err());
        let mut line = b"x \"".to_vec();
        for _ in 0..2000 {
            line.extend_from_slice(b"\" \"");
        }
        assert!(f.parse(&line).is_err());
    }

    #[test]
    fn never_panics() {
        let formats = [fmt(COMBINED), fmt(MAIN), fmt(UPSTREAMINFO)];
        for l in SHOP {
            let l = l.as_bytes();
            for f in &formats {
                for i in 0..=l.len() {
                    if let Ok(r) = f.parse(&l[..i]) {
                        let _ = (r.time(), r.status(), r.upstream_response_time(), r.method());
                    }
                }
                for i in 0..l.len() {
                    for c in [0u8, b'"', b' ', b'[', 0xff] {
                        let mut m = l.to_vec();
                        m[i] = c;
                        if let Ok(r) = f.parse(&m) {
                            let _ = (r.time(), r.status(), r.request_time(), r.target());
                        }
                    }
                }
            }
        }
    }

    #[test]
    #[ignore]
    fn throughput() {
        let f = fmt(MAIN);
        let mut buf = Vec::new();
        let mut i = 0usize;
        while buf.len() < 200 << 20 {
            buf.extend_from_slice(SHOP[i % SHOP.len()].as_bytes());
            buf.push(b'\n');
            i += 1;
        }
        let t = std::time::Instant::now();
        let cpu0 = clf::tests::cpu_ns();
        let mut ok = 0u64;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &buf) {
            if let Ok(r) = f.parse(&buf[start..end]) {
                ok += u64::from(r.status().is_some());
            }
            start = end + 1;
        }
        let secs = t.elapsed().as_secs_f64();
        let cpu = (clf::tests::cpu_ns() - cpu0) as f64 / 1e9;
        println!(
            "nginx_format MAIN: {:.0} MB/s wall, {:.0} MB/s per CPU second ({ok} lines)",
            buf.len() as f64 / secs / 1e6,
            buf.len() as f64 / cpu / 1e6
        );
    }
}
