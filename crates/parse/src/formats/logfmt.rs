//! logfmt: `key=value` pairs separated by spaces, the tail shared by zerolog console lines
//! (cloudflared, Traefik v3), logrus text (Traefik v2) and lograge (Rails).
//!
//! Grammar, as the writers produce it (there is no standard):
//!
//! ```text
//! pairs  = *(" ") [pair *(1*" " pair)] *(" ")
//! pair   = key ["=" value]              ; a bare key has an empty value
//! key    = 1*(any byte but " " "=" "\"")
//! value  = quoted / bare
//! quoted = "\"" *(any byte but "\"" "\\" / "\\" any byte) "\""   ; Go strconv.Quote escapes
//! bare   = *(any byte but " ")          ; `&`, `//`, `?`, `=` stay literal
//! ```
//!
//! Example: `error="timeout: no recent network activity" connIndex=3 dest=https://a//b?x=1&y=2`.
//!
//! Traps handled:
//! - Values are quoted only when needed (zerolog/logrus quote iff a space, `"`, `\`, a control
//!   byte or non-ASCII occurs), so URLs with `&`, `?`, `=` and `//` come bare: a bare value runs
//!   to the next space, `=` included.
//! - Quoted values hold Go escapes (`\"`, `\\`, `\n`, `\t`, `\xff`, `\u00a0`, `\U0001f600`,
//!   octal): [`Pair::value`] is the raw slice between the quotes, decode it with
//!   [`unescape_into`] only when needed.
//! - Garbage (a token starting with `=` or `"`, a quote inside a key, an unterminated quote, bytes
//!   glued after a closing quote) is skipped up to the next space and counted in
//!   [`Pairs::skipped`], never an error: a pager-cut line still yields its complete pairs. An
//!   unterminated quoted value swallows the rest of the text (the closing quote was cut off).
//! - Runs of spaces between pairs are accepted.
//!
//! A whole logfmt line (logrus, Traefik v2, Grafana/Loki-style tools) parses into a
//! [`LogfmtRecord`]: its time (`time`/`ts`/`timestamp`/`t`: RFC 3339, or an epoch number whose
//! digit count gives the unit), level (`level`/`lvl`/`severity`) and message (`msg`/`message`),
//! found in one pass; every other pair through [`LogfmtRecord::pairs`].
//!
//! ```
//! use coroner_parse::formats::logfmt;
//! let r = logfmt::parse(br#"time="2023-01-08T12:28:57Z" level=error msg="x" providerName=docker"#, 0).unwrap();
//! assert_eq!(r.time, Some(1_673_180_937_000_000));
//! assert_eq!(r.level, Some(&b"error"[..]));
//! assert_eq!(r.msg.unwrap().value, b"x");
//! ```
//!
//! ```
//! use coroner_parse::formats::logfmt;
//! let text = br#"error="x \"y\"" connIndex=0 dest=https://a.example.com//p?q=1&r=2 flag"#;
//! let mut it = logfmt::pairs(text);
//! let e = it.next().unwrap();
//! assert_eq!((e.key, e.value, e.quoted), (&b"error"[..], &br#"x \"y\""#[..], true));
//! let mut out = Vec::new();
//! logfmt::unescape_into(e.value, &mut out);
//! assert_eq!(out, br#"x "y""#);
//! assert_eq!(it.next().unwrap().value, b"0");
//! assert_eq!(it.next().unwrap().value, b"https://a.example.com//p?q=1&r=2");
//! let flag = it.next().unwrap();
//! assert_eq!((flag.key, flag.value), (&b"flag"[..], &b""[..]));
//! assert!(it.next().is_none());
//! assert_eq!(logfmt::get(text, b"connIndex").unwrap().value, b"0");
//! ```

use memchr::{memchr, memchr2};

use crate::error::ParseError;
use crate::timestamp::{Micros, parse_rfc3339};

/// One `key=value` pair. `value` is raw: without the quotes, escapes not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    /// The value was written in double quotes (decode it with [`unescape_into`]).
    pub quoted: bool,
}

impl Pair<'_> {
    /// The value decoded into `out` (cleared first) if quoted, borrowed as is otherwise.
    pub fn decoded<'b>(&self, out: &'b mut Vec<u8>) -> &'b [u8] {
        out.clear();
        if self.quoted {
            unescape_into(self.value, out);
        } else {
            out.extend_from_slice(self.value);
        }
        out
    }
}

/// Iterator over the pairs of a logfmt text. Cheap to copy: restart it by cloning.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    text: &'a [u8],
    pos: usize,
    skipped: usize,
}

/// The pairs of `text` (a whole logfmt line or the key=value tail of another format).
pub fn pairs(text: &[u8]) -> Pairs<'_> {
    Pairs {
        text,
        pos: 0,
        skipped: 0,
    }
}

impl<'a> Pairs<'a> {
    /// How many garbage tokens were skipped so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The text not consumed yet.
    pub fn rest(&self) -> &'a [u8] {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// Skip to the next space (or the end) and count a garbage token.
    fn skip_token(&mut self, from: usize) {
        let rest = self.text.get(from..).unwrap_or_default();
        self.pos = from + memchr(b' ', rest).unwrap_or(rest.len());
        self.skipped += 1;
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let text = self.text;
        loop {
            while text.get(self.pos) == Some(&b' ') {
                self.pos += 1;
            }
            let start = self.pos;
            if start >= text.len() {
                return None;
            }
            let key_len = text[start..]
                .iter()
                .position(|&c| matches!(c, b' ' | b'=' | b'"'))
                .unwrap_or(text.len() - start);
            let key_end = start + key_len;
            if key_len == 0 {
                self.skip_token(start);
                continue;
            }
            let key = &text[start..key_end];
            match text.get(key_end) {
                None | Some(b' ') => {
                    self.pos = key_end;
                    return Some(Pair {
                        key,
                        value: &[],
                        quoted: false,
                    });
                }
                Some(b'=') => {}
                // A quote inside a key.
                Some(_) => {
                    self.skip_token(key_end);
                    continue;
                }
            }
            let vstart = key_end + 1;
            if text.get(vstart) != Some(&b'"') {
                let rest = &text[vstart..];
                let vlen = memchr(b' ', rest).unwrap_or(rest.len());
                self.pos = vstart + vlen;
                return Some(Pair {
                    key,
                    value: &rest[..vlen],
                    quoted: false,
                });
            }
            let inner = vstart + 1;
            let Some(close) = closing_quote(&text[inner..]) else {
                // Cut inside the quotes: the value's end is lost.
                self.pos = text.len();
                self.skipped += 1;
                return None;
            };
            let value = &text[inner..inner + close];
            let after = inner + close + 1;
            match text.get(after) {
                None | Some(b' ') => self.pos = after,
                Some(_) => self.skip_token(after),
            }
            return Some(Pair {
                key,
                value,
                quoted: true,
            });
        }
    }
}

/// Offset of the unescaped `"` that closes a quoted value (`s` starts after the opening one).
#[inline]
pub(crate) fn closing_quote(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let j = i + memchr2(b'"', b'\\', s.get(i..)?)?;
        if s[j] == b'"' {
            return Some(j);
        }
        // A backslash escapes the next byte, whatever it is.
        i = j + 2;
    }
}

/// The first pair with this key (keys compare bytewise, case-sensitive).
pub fn get<'a>(text: &'a [u8], key: &[u8]) -> Option<Pair<'a>> {
    pairs(text).find(|p| p.key == key)
}

/// Append a quoted value decoded with Go `strconv.Unquote` semantics to `out` (`\"`, `\\`,
/// `\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\xHH` as a raw byte, `\uHHHH` and `\UHHHHHHHH`
/// as UTF-8, `\NNN` octal). An unknown or truncated escape is kept literally: forensics
/// prefers the bytes seen to an error.
pub fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let Some(rel) = memchr(b'\\', &raw[i..]) else {
            out.extend_from_slice(&raw[i..]);
            return;
        };
        out.extend_from_slice(&raw[i..i + rel]);
        let esc = i + rel;
        let Some(&c) = raw.get(esc + 1) else {
            out.push(b'\\');
            return;
        };
        let simple = match c {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'\'' => Some(b'\''),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            i = esc + 2;
            continue;
        }
        let decoded = match c {
            b'x' => hex(raw, esc + 2, 2).map(|v| {
                out.push(v as u8);
                4
            }),
            b'u' => hex(raw, esc + 2, 4).and_then(|v| push_char(out, v).then_some(6)),
            b'U' => hex(raw, esc + 2, 8).and_then(|v| push_char(out, v).then_some(10)),
            b'0'..=b'7' => octal(raw, esc + 1).map(|v| {
                out.push(v);
                4
            }),
            _ => None,
        };
        match decoded {
            Some(n) => i = esc + n,
            None => {
                out.push(b'\\');
                i = esc + 1;
            }
        }
    }
}

fn hex(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = b.get(at..at.checked_add(n)?)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc << 4 | v)
    })
}

fn octal(b: &[u8], at: usize) -> Option<u8> {
    let digits = b.get(at..at + 3)?;
    let v = digits.iter().try_fold(0u32, |acc, &d| match d {
        b'0'..=b'7' => Some(acc * 8 + u32::from(d - b'0')),
        _ => None,
    })?;
    u8::try_from(v).ok()
}

fn push_char(out: &mut Vec<u8>, v: u32) -> bool {
    match char::from_u32(v) {
        Some(ch) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            true
        }
        None => false,
    }
}

/// A whole logfmt line: the well-known keys, found in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogfmtRecord<'a> {
    /// From the first `time`, `ts`, `timestamp` or `t` that parses.
    pub time: Option<Micros>,
    /// The first `level`, `lvl` or `severity` value, raw.
    pub level: Option<&'a [u8]>,
    /// The first `msg` or `message` pair (raw: may need [`unescape_into`]).
    pub msg: Option<Pair<'a>>,
    pub text: &'a [u8],
}

impl<'a> LogfmtRecord<'a> {
    /// All pairs of the line.
    pub fn pairs(&self) -> Pairs<'a> {
        pairs(self.text)
    }

    /// The first pair with this key.
    pub fn get(&self, key: &[u8]) -> Option<Pair<'a>> {
        get(self.text, key)
    }
}

/// Parse a whole logfmt line: it must start with `key=`. `assumed_offset_secs` is the zone
/// of a time written without one.
pub fn parse(line: &[u8], assumed_offset_secs: i32) -> Result<LogfmtRecord<'_>, ParseError> {
    let lead = line.iter().take_while(|&&c| c == b' ').count();
    let key_len = line[lead..]
        .iter()
        .take_while(|&&c| !matches!(c, b' ' | b'=' | b'"'))
        .count();
    if key_len == 0 || line.get(lead + key_len) != Some(&b'=') {
        return Err(ParseError::new("key=value", lead + key_len));
    }
    let mut rec = LogfmtRecord {
        time: None,
        level: None,
        msg: None,
        text: line,
    };
    for p in pairs(line) {
        match p.key {
            b"time" | b"ts" | b"timestamp" | b"t" if rec.time.is_none() => {
                rec.time = time_value(p.value, assumed_offset_secs);
            }
            b"level" | b"lvl" | b"severity" if rec.level.is_none() => rec.level = Some(p.value),
            b"msg" | b"message" if rec.msg.is_none() => rec.msg = Some(p),
            _ => {}
        }
    }
    Ok(rec)
}

/// RFC 3339, or epoch seconds/ms/µs/ns told apart by the number of integer digits (the
/// plausible range 2001..2286 of each unit does not overlap the others').
fn time_value(v: &[u8], assumed_offset_secs: i32) -> Option<Micros> {
    if let Some((t, _)) = parse_rfc3339(v, assumed_offset_secs) {
        return Some(t);
    }
    let int = v.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = v[..int].iter().try_fold(0i64, |acc, &c| {
        acc.checked_mul(10)?.checked_add(i64::from(c - b'0'))
    })?;
    let frac = match v.get(int..) {
        Some([]) => &[][..],
        Some([b'.', f @ ..]) if f.iter().all(u8::is_ascii_digit) => f,
        _ => return None,
    };
    let frac_us: i64 = (0..6).fold(0, |acc, k| {
        acc * 10 + frac.get(k).map_or(0, |&c| i64::from(c - b'0'))
    });
    match int {
        9 | 10 => n.checked_mul(1_000_000)?.checked_add(frac_us),
        12 | 13 => n.checked_mul(1000)?.checked_add(frac_us / 1000),
        15 | 16 => Some(n),
        18 | 19 => Some(n / 1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Triple<'a> = (&'a [u8], &'a [u8], bool);

    fn all(text: &[u8]) -> (Vec<Triple<'_>>, usize) {
        let mut it = pairs(text);
        let v = it.by_ref().map(|p| (p.key, p.value, p.quoted)).collect();
        (v, it.skipped())
    }

    fn unescaped(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        unescape_into(raw, &mut out);
        out
    }

    const FIXTURES: &[&[u8]] = &[
        br#"error="Unable to reach the origin service: dial tcp 192.0.2.180:3000: i/o timeout" connIndex=0 event=1 ingressRule=4 originService=http://192.0.2.180:3000"#,
        br#"connIndex=2 dest=https://hooks.example.com//deleteLast?server=2&typetest=2 event=0 ip=198.51.100.7 type=http"#,
        br#"time="2023-01-08T12:28:57Z" level=error msg="a \"b\" \\ c" providerName=docker"#,
        br#"method=GET path=/api/v1/x format=json status=200 duration=12.34"#,
        br#"=x "y" k"v a="unterminated"#,
    ];

    #[test]
    fn bare_values_keep_ampersand_slashes_and_equals() {
        let (v, skipped) = all(FIXTURES[1]);
        assert_eq!(skipped, 0);
        assert_eq!(v.len(), 5);
        assert_eq!(
            v[1],
            (
                &b"dest"[..],
                &b"https://hooks.example.com//deleteLast?server=2&typetest=2"[..],
                false
            )
        );
        assert_eq!(v[3], (&b"ip"[..], &b"198.51.100.7"[..], false));
    }

    #[test]
    fn quoted_values_with_escapes() {
        let (v, _) = all(FIXTURES[2]);
        assert_eq!(v[0], (&b"time"[..], &b"2023-01-08T12:28:57Z"[..], true));
        assert_eq!(v[2], (&b"msg"[..], &br#"a \"b\" \\ c"#[..], true));
        assert_eq!(unescaped(v[2].1), br#"a "b" \ c"#);
        assert_eq!(v[3], (&b"providerName"[..], &b"docker"[..], false));
        assert_eq!(
            get(FIXTURES[0], b"error").unwrap().value,
            b"Unable to reach the origin service: dial tcp 192.0.2.180:3000: i/o timeout"
        );
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(unescaped(br"caf\xc3\xa9\n\t"), "café\n\t".as_bytes());
        assert_eq!(
            unescaped(br"\u00a0|\U0001F600"),
            "\u{a0}|\u{1F600}".as_bytes()
        );
        assert_eq!(unescaped(br"\101\xff"), b"A\xff");
        // Unknown and truncated escapes stay literal.
        assert_eq!(unescaped(br"\q \x4 \"), br"\q \x4 \");
        assert_eq!(unescaped(br"\uD800"), br"\uD800");
    }

    #[test]
    fn bare_keys_have_empty_values() {
        let (v, skipped) = all(b"  flag  k=v last");
        assert_eq!(skipped, 0);
        assert_eq!(
            v,
            vec![
                (&b"flag"[..], &b""[..], false),
                (&b"k"[..], &b"v"[..], false),
                (&b"last"[..], &b""[..], false)
            ]
        );
        assert_eq!(all(b"k= j=1").0[0], (&b"k"[..], &b""[..], false));
    }

    #[test]
    fn garbage_is_skipped_and_counted() {
        let (v, skipped) = all(FIXTURES[4]);
        // `=x`, `"y"`, `k"v` are garbage; the unterminated quote swallows the rest.
        assert_eq!(v, vec![]);
        assert_eq!(skipped, 4);
        let (v, skipped) = all(br#"a="x"junk b=2"#);
        assert_eq!(
            v,
            vec![(&b"a"[..], &b"x"[..], true), (&b"b"[..], &b"2"[..], false)]
        );
        assert_eq!(skipped, 1);
    }

    #[test]
    fn decoded_borrows_or_unescapes() {
        let mut buf = Vec::new();
        let p = get(FIXTURES[2], b"msg").unwrap();
        assert_eq!(p.decoded(&mut buf), br#"a "b" \ c"#);
        let p = get(FIXTURES[2], b"level").unwrap();
        assert_eq!(p.decoded(&mut buf), b"error");
    }

    #[test]
    fn whole_line_record() {
        let r = parse(FIXTURES[2], 0).unwrap();
        // `date -u -d '2023-01-08T12:28:57Z' +%s` = 1673180937
        assert_eq!(r.time, Some(1_673_180_937_000_000));
        assert_eq!(r.level, Some(&b"error"[..]));
        assert_eq!(r.msg.unwrap().value, br#"a \"b\" \\ c"#);
        assert_eq!(r.get(b"providerName").unwrap().value, b"docker");
        let r = parse(b"ts=1673180937.5 lvl=info message=hi", 0).unwrap();
        assert_eq!(r.time, Some(1_673_180_937_500_000));
        let r = parse(b"t=1673180937123 severity=warn", 0).unwrap();
        assert_eq!(r.time, Some(1_673_180_937_123_000));
        assert_eq!(r.level, Some(&b"warn"[..]));
        let r = parse(b"time=2023-01-08T12:28:57 x=1", 3600).unwrap();
        assert_eq!(r.time, Some(1_673_177_337_000_000));
        assert_eq!(parse(b"ts=12345 x=1", 0).unwrap().time, None);
        assert_eq!(
            parse(b"hello world", 0).unwrap_err(),
            ParseError::new("key=value", 5)
        );
        assert_eq!(parse(b"=x", 0).unwrap_err().at, 0);
    }

    #[test]
    fn never_panics() {
        let mut buf = Vec::new();
        for line in FIXTURES {
            for cut in 0..=line.len() {
                let _ = parse(&line[..cut], 0);
                for p in pairs(&line[..cut]) {
                    buf.clear();
                    unescape_into(p.value, &mut buf);
                }
            }
            for i in 0..line.len() {
                for b in [0u8, b'"', b'=', b' ', b'\\', 0xff] {
                    let mut l = line.to_vec();
                    l[i] = b;
                    let _ = parse(&l, -3600);
                    for p in pairs(&l) {
                        buf.clear();
                        unescape_into(p.value, &mut buf);
                    }
                }
            }
        }
    }
}
