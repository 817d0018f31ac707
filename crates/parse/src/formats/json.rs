//! A zero-copy, allocation-free JSON scanner for one object per line: the shared base of
//! the JSON formats (`journalctl -o json`, docker json-file, Traefik JSON access logs,
//! cloudflared `--logfile`, pino).
//!
//! Grammar in brief: optional whitespace, an optional RS (0x1E, `journalctl -o json-seq`),
//! optional whitespace, one JSON object (RFC 8259), optional whitespace, end of line.
//!
//! ```text
//! {"_PID":"190","MESSAGE":"System clock time unset","__REALTIME_TIMESTAMP":"1615648981464603"}
//! ```
//!
//! [`Object::parse`] validates the whole line once (structure, string escapes, numbers,
//! nesting depth at most [`MAX_DEPTH`], nothing but whitespace after the object) without
//! recursion. Everything it hands out afterwards ([`Value`], [`RawStr`], [`RawArray`], nested
//! [`Object`]s) is a slice of the validated line, so iterating them later cannot fail; they
//! re-scan lazily with `memchr`, which is cheaper than building a tree nobody reads.
//!
//! Traps handled:
//! - Old systemd printed spaced JSON (`{ "key" : "value" }`): whitespace is accepted
//!   wherever JSON allows it, never assumed absent.
//! - Key order is arbitrary (journalctl hash order): lookups never depend on it.
//! - Duplicate keys happen (cloudflared `--logfile` writes `connIndex` twice): [`Object::get`]
//!   returns the first, [`Object::iter`] yields all.
//! - Keys containing escapes (`"a\u0062c"`) compare by their unescaped bytes in
//!   [`Object::get`], so they match `abc`.
//! - Lone UTF-16 surrogates in `\uXXXX` (which JSON permits) become U+FFFD on unescape.
//! - Raw bytes >= 0x80 that are not UTF-8 and raw control bytes inside strings are kept as
//!   data, not rejected: a log is evidence, and strictness would drop the interesting line.
//! - A 100,000-deep `[[[[...` line is an error at depth 129, not a stack overflow.
//!
//! ```
//! use coroner_parse::formats::json::{Object, Value};
//!
//! let obj = Object::parse(br#"{"req":{"id":"a\u00e9"},"n":-12}"#).unwrap();
//! assert_eq!(obj.get(b"n").and_then(|v| v.as_i64()), Some(-12));
//! let id = obj.get_path(&[b"req", b"id"]).and_then(|v| v.as_str()).unwrap();
//! assert_eq!(id.raw(), &br"a\u00e9"[..]);
//! let mut out = Vec::new();
//! id.unescape_into(&mut out);
//! assert_eq!(out, "aé".as_bytes());
//! assert!(matches!(obj.get(b"missing"), None));
//! assert!(Object::parse(br#"{"a":1} x"#).is_err());
//! ```

use crate::error::ParseError;
use memchr::{memchr, memchr2, memchr3};

/// Deepest nesting accepted (the top-level object counts as 1).
pub const MAX_DEPTH: usize = 128;

/// A validated JSON object: the bytes from its `{` to its `}` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object<'a> {
    body: &'a [u8],
}

/// A validated JSON array: the bytes from its `[` to its `]` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawArray<'a> {
    body: &'a [u8],
}

/// The contents of a JSON string between its quotes, escapes still in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawStr<'a> {
    raw: &'a [u8],
}

/// One JSON value, borrowing from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Str(RawStr<'a>),
    /// The number's text exactly as written (validated JSON number grammar).
    Number(&'a [u8]),
    Bool(bool),
    Null,
    Array(RawArray<'a>),
    Object(Object<'a>),
}

// -------------------------------------------------------------------------------------------
// Validation: one pass, no recursion (an explicit bit stack of container kinds).

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !is_ws(c) {
            break;
        }
        i += 1;
    }
    i
}

#[inline]
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// A string starting at the `"` at `b[i]`: validates escapes, returns the index after the
/// closing quote.
fn scan_string(b: &[u8], i: usize) -> Result<usize, ParseError> {
    let mut j = i + 1;
    loop {
        let rest = b.get(j..).unwrap_or_default();
        let Some(p) = memchr2(b'"', b'\\', rest) else {
            return Err(ParseError::new("closing '\"' of a string", b.len()));
        };
        let k = j + p;
        if b.get(k) == Some(&b'"') {
            return Ok(k + 1);
        }
        match b.get(k + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j = k + 2,
            Some(b'u') => {
                let ok = (k + 2..k + 6).all(|x| b.get(x).is_some_and(|&c| is_hex(c)));
                if !ok {
                    return Err(ParseError::new("four hex digits after \\u", k + 2));
                }
                j = k + 6;
            }
            _ => return Err(ParseError::new("a valid escape after '\\'", k + 1)),
        }
    }
}

#[inline]
fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// A number starting at `b[i]`: returns the index after it.
fn scan_number(b: &[u8], i: usize) -> Result<usize, ParseError> {
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(b, j + 1),
        _ => return Err(ParseError::new("a digit", j)),
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(b, j + 1);
        if k == j + 1 {
            return Err(ParseError::new("a digit after '.'", k));
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let k = digits(b, j);
        if k == j {
            return Err(ParseError::new("a digit in the exponent", k));
        }
        j = k;
    }
    Ok(j)
}

fn scan_literal(b: &[u8], i: usize, lit: &'static [u8]) -> Result<usize, ParseError> {
    if b.get(i..i + lit.len()) == Some(lit) {
        Ok(i + lit.len())
    } else {
        Err(ParseError::new("a JSON value", i))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Value,
    /// Right after `[`: a value or `]`.
    ValueOrClose,
    /// Right after `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    AfterValue,
}

/// Validates one object starting at `b[start]` (which must be `{`); returns the index after
/// its closing `}`.
fn validate_object(b: &[u8], start: usize) -> Result<usize, ParseError> {
    if b.get(start) != Some(&b'{') {
        return Err(ParseError::new("'{' starting a JSON object", start));
    }
    // Bit d set: the container at depth d is an object. MAX_DEPTH <= 128 fits a u128.
    let mut kinds: u128 = 1;
    let mut depth = 1usize;
    let mut i = start + 1;
    let mut st = State::KeyOrClose;
    loop {
        i = skip_ws(b, i);
        let Some(&c) = b.get(i) else {
            return Err(ParseError::new("the rest of the JSON object", i));
        };
        match st {
            State::Value | State::ValueOrClose => {
                match c {
                    b'{' | b'[' => {
                        if depth >= MAX_DEPTH {
                            return Err(ParseError::new("nesting depth at most 128", i));
                        }
                        if c == b'{' {
                            kinds |= 1 << depth;
                            st = State::KeyOrClose;
                        } else {
                            kinds &= !(1 << depth);
                            st = State::ValueOrClose;
                        }
                        depth += 1;
                        i += 1;
                        continue;
                    }
                    b']' if st == State::ValueOrClose => {
                        depth -= 1;
                        i += 1;
                    }
                    b'"' => i = scan_string(b, i)?,
                    b't' => i = scan_literal(b, i, b"true")?,
                    b'f' => i = scan_literal(b, i, b"false")?,
                    b'n' => i = scan_literal(b, i, b"null")?,
                    b'-' | b'0'..=b'9' => i = scan_number(b, i)?,
                    _ => return Err(ParseError::new("a JSON value", i)),
                }
                st = State::AfterValue;
            }
            State::KeyOrClose | State::Key => {
                if c == b'}' && st == State::KeyOrClose {
                    depth -= 1;
                    i += 1;
                    st = State::AfterValue;
                } else if c == b'"' {
                    i = skip_ws(b, scan_string(b, i)?);
                    if b.get(i) != Some(&b':') {
                        return Err(ParseError::new("':' after an object key", i));
                    }
                    i += 1;
                    st = State::Value;
                    continue;
                } else {
                    return Err(ParseError::new("'\"' starting an object key", i));
                }
            }
            State::AfterValue => {
                let in_object = kinds & (1 << (depth - 1)) != 0;
                match (c, in_object) {
                    (b',', true) => st = State::Key,
                    (b',', false) => st = State::Value,
                    (b'}', true) | (b']', false) => {
                        depth -= 1;
                        i += 1;
                    }
                    (_, true) => return Err(ParseError::new("',' or '}' in an object", i)),
                    (_, false) => return Err(ParseError::new("',' or ']' in an array", i)),
                }
                if c == b',' {
                    i += 1;
                    continue;
                }
            }
        }
        if depth == 0 {
            return Ok(i);
        }
    }
}

// -------------------------------------------------------------------------------------------
// Re-scanning validated slices. These only run on bytes `validate_object` accepted, so they
// can be simple; they still use `get` everywhere and end early instead of panicking.

/// Index after the string whose `"` is at `b[i]`.
#[inline]
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr2(b'"', b'\\', b.get(j..)?)?;
        if b.get(k) == Some(&b'"') {
            return Some(k + 1);
        }
        j = k + 2;
    }
}

/// Index after the container whose opening bracket is at `b[i]`. Only brackets of the same
/// kind are counted: the other kind is balanced in between, validated JSON guarantees it.
fn skip_container(b: &[u8], i: usize) -> Option<usize> {
    let (open, close) = match b.get(i)? {
        b'{' => (b'{', b'}'),
        _ => (b'[', b']'),
    };
    let mut depth = 0usize;
    let mut j = i;
    loop {
        let k = j + memchr3(b'"', open, close, b.get(j..)?)?;
        let c = *b.get(k)?;
        if c == b'"' {
            j = skip_string(b, k)?;
        } else if c == open {
            depth += 1;
            j = k + 1;
        } else {
            depth -= 1;
            j = k + 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
}

/// The value starting at `b[i]` and the index after it.
fn value_at(b: &[u8], i: usize) -> Option<(Value<'_>, usize)> {
    Some(match *b.get(i)? {
        b'"' => {
            let end = skip_string(b, i)?;
            let raw = b.get(i + 1..end - 1)?;
            (Value::Str(RawStr { raw }), end)
        }
        b'{' => {
            let end = skip_container(b, i)?;
            (
                Value::Object(Object {
                    body: b.get(i..end)?,
                }),
                end,
            )
        }
        b'[' => {
            let end = skip_container(b, i)?;
            (
                Value::Array(RawArray {
                    body: b.get(i..end)?,
                }),
                end,
            )
        }
        b't' => (Value::Bool(true), i + 4),
        b'f' => (Value::Bool(false), i + 5),
        b'n' => (Value::Null, i + 4),
        _ => {
            let mut end = i;
            while b
                .get(end)
                .is_some_and(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            {
                end += 1;
            }
            (Value::Number(b.get(i..end)?), end)
        }
    })
}

// -------------------------------------------------------------------------------------------
// Object

impl<'a> Object<'a> {
    /// Validates `line` (one object, optional leading RS and whitespace around it).
    pub fn parse(line: &'a [u8]) -> Result<Object<'a>, ParseError> {
        let mut i = skip_ws(line, 0);
        if line.get(i) == Some(&0x1E) {
            i = skip_ws(line, i + 1);
        }
        let end = validate_object(line, i)?;
        let after = skip_ws(line, end);
        if after != line.len() {
            return Err(ParseError::new("end of line after the JSON object", after));
        }
        let body = line
            .get(i..end)
            .ok_or(ParseError::new("a JSON object", i))?;
        Ok(Object { body })
    }

    /// The object's bytes, `{` to `}` inclusive.
    pub fn raw(&self) -> &'a [u8] {
        self.body
    }

    /// The top-level members in file order, duplicates included: `(raw key, value)`.
    pub fn iter(&self) -> Members<'a> {
        Members { b: self.body, i: 1 }
    }

    /// The first member whose key, unescaped, equals `key`.
    pub fn get(&self, key: &[u8]) -> Option<Value<'a>> {
        self.iter()
            .find(|(k, _)| RawStr { raw: k }.eq_unescaped(key))
            .map(|(_, v)| v)
    }

    /// Follows `path` through nested objects: `get_path(&[b"req", b"id"])`.
    pub fn get_path(&self, path: &[&[u8]]) -> Option<Value<'a>> {
        let (first, rest) = path.split_first()?;
        let mut v = self.get(first)?;
        for key in rest {
            v = v.as_object()?.get(key)?;
        }
        Some(v)
    }
}

impl<'a> IntoIterator for Object<'a> {
    type Item = (&'a [u8], Value<'a>);
    type IntoIter = Members<'a>;
    fn into_iter(self) -> Members<'a> {
        self.iter()
    }
}

/// Iterator over an object's members.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a [u8], Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if b.get(i) != Some(&b'"') {
            self.i = b.len();
            return None;
        }
        let kend = skip_string(b, i)?;
        let key = b.get(i + 1..kend - 1)?;
        let mut j = skip_ws(b, kend);
        if b.get(j) != Some(&b':') {
            self.i = b.len();
            return None;
        }
        j = skip_ws(b, j + 1);
        let (v, end) = value_at(b, j)?;
        self.i = end;
        Some((key, v))
    }
}

// -------------------------------------------------------------------------------------------
// Array

impl<'a> RawArray<'a> {
    /// The array's bytes, `[` to `]` inclusive.
    pub fn raw(&self) -> &'a [u8] {
        self.body
    }

    /// The elements in order.
    pub fn iter(&self) -> Elements<'a> {
        Elements { b: self.body, i: 1 }
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl<'a> IntoIterator for RawArray<'a> {
    type Item = Value<'a>;
    type IntoIter = Elements<'a>;
    fn into_iter(self) -> Elements<'a> {
        self.iter()
    }
}

/// Iterator over an array's elements.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if matches!(b.get(i), None | Some(b']')) {
            self.i = b.len();
            return None;
        }
        let (v, end) = value_at(b, i)?;
        self.i = end;
        Some(v)
    }
}

// -------------------------------------------------------------------------------------------
// Strings

/// The code point of the four hex digits at `b[i..i + 4]`.
#[inline]
fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let mut v = 0u32;
    for k in i..i + 4 {
        v = v * 16 + char::from(*b.get(k)?).to_digit(16)?;
    }
    Some(v)
}

/// Decodes the escape whose `\` is at `raw[i]`: (UTF-8 bytes, their length, index after).
/// Malformed escapes (impossible after validation) decode as U+FFFD, never panic.
fn decode_escape(raw: &[u8], i: usize) -> ([u8; 4], usize, usize) {
    let single = |c: u8| ([c, 0, 0, 0], 1, i + 2);
    match raw.get(i + 1) {
        Some(b'n') => single(b'\n'),
        Some(b't') => single(b'\t'),
        Some(b'r') => single(b'\r'),
        Some(b'b') => single(0x08),
        Some(b'f') => single(0x0C),
        Some(b'u') => {
            let mut next = i + 6;
            let cp = match hex4(raw, i + 2) {
                Some(hi @ 0xD800..=0xDBFF) => {
                    // A high surrogate only counts with a low one right after it.
                    let lo = (raw.get(i + 6) == Some(&b'\\') && raw.get(i + 7) == Some(&b'u'))
                        .then(|| hex4(raw, i + 8))
                        .flatten();
                    match lo {
                        Some(lo @ 0xDC00..=0xDFFF) => {
                            next = i + 12;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => 0xFFFD,
                    }
                }
                Some(cp) => cp,
                None => {
                    next = raw.len().min(i + 2);
                    0xFFFD
                }
            };
            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
            let mut buf = [0u8; 4];
            let len = ch.encode_utf8(&mut buf).len();
            (buf, len, next)
        }
        Some(&c) => single(c),
        None => ([0xEF, 0xBF, 0xBD, 0], 3, raw.len()),
    }
}

impl<'a> RawStr<'a> {
    /// Wraps raw string contents (no quotes) that are known to be valid JSON string content.
    pub fn from_raw(raw: &'a [u8]) -> Self {
        RawStr { raw }
    }

    /// The contents between the quotes, escapes still in place.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn has_escapes(&self) -> bool {
        memchr(b'\\', self.raw).is_some()
    }

    /// Appends the unescaped bytes to `out`: `\uXXXX` (with surrogate pairs) to UTF-8, a lone
    /// surrogate to U+FFFD; bytes outside escapes are copied as they are.
    pub fn unescape_into(&self, out: &mut Vec<u8>) {
        let raw = self.raw;
        let mut i = 0;
        while let Some(p) = raw.get(i..).and_then(|r| memchr(b'\\', r)) {
            out.extend_from_slice(raw.get(i..i + p).unwrap_or_default());
            let (buf, len, next) = decode_escape(raw, i + p);
            out.extend_from_slice(buf.get(..len).unwrap_or_default());
            i = next;
        }
        out.extend_from_slice(raw.get(i..).unwrap_or_default());
    }

    /// Whether the unescaped contents equal `s`, without allocating.
    pub fn eq_unescaped(&self, s: &[u8]) -> bool {
        let raw = self.raw;
        // Every escape is longer than what it stands for, so equal lengths mean "no escape".
        if raw.len() == s.len() {
            return raw == s && memchr(b'\\', raw).is_none();
        }
        if raw.len() < s.len() || memchr(b'\\', raw).is_none() {
            return false;
        }
        let (mut i, mut j) = (0, 0);
        while i < raw.len() {
            if raw.get(i) == Some(&b'\\') {
                let (buf, len, next) = decode_escape(raw, i);
                if s.get(j..j + len) != buf.get(..len) {
                    return false;
                }
                j += len;
                i = next;
            } else {
                if raw.get(i) != s.get(j) {
                    return false;
                }
                i += 1;
                j += 1;
            }
        }
        j == s.len()
    }
}

// -------------------------------------------------------------------------------------------
// Numbers

/// A JSON integer (no fraction, no exponent) as i64; `None` on overflow or non-integers.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, d) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if d.is_empty() || d.len() > 20 {
        return None;
    }
    // Accumulate negatively so i64::MIN parses.
    let mut v: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg { Some(v) } else { v.checked_neg() }
}

/// A JSON (or journald decimal-string) unsigned integer; `None` on overflow or non-integers.
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Any JSON number as f64 (std's correctly rounded parser on the validated text).
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

impl<'a> Value<'a> {
    pub fn as_str(&self) -> Option<RawStr<'a>> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<Object<'a>> {
        match *self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<RawArray<'a>> {
        match *self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The number as i64 (integers only, no fraction or exponent).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Number(n) => parse_i64(n),
            _ => None,
        }
    }

    /// The number as u64 (non-negative integers only).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Number(n) => parse_u64(n),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Number(n) => parse_f64(n),
            _ => None,
        }
    }

    /// A string without escapes, or a number, as its raw bytes: the form log fields that
    /// are sometimes quoted and sometimes not (journald numbers-as-strings) are read in.
    pub fn scalar_raw(&self) -> Option<&'a [u8]> {
        match *self {
            Value::Str(s) => Some(s.raw),
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// An unsigned integer written either as a JSON number or as a decimal string
    /// (`"_PID":"190"` in journald, `"DownstreamStatus":200` in Traefik).
    pub fn as_u64_lenient(&self) -> Option<u64> {
        parse_u64(self.scalar_raw()?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn unesc(s: RawStr) -> Vec<u8> {
        let mut v = Vec::new();
        s.unescape_into(&mut v);
        v
    }

    #[test]
    fn compact_and_spaced() {
        let o = Object::parse(br#"{"a":"1","b":[1,2]}"#).unwrap();
        assert_eq!(o.get(b"a").unwrap().as_str().unwrap().raw(), b"1");
        let o = Object::parse(br#"{ "a" : "1" , "b" : [ 1 , 2 ] }"#).unwrap();
        assert_eq!(o.get(b"a").unwrap().as_str().unwrap().raw(), b"1");
        let a = o.get(b"b").unwrap().as_array().unwrap();
        let v: Vec<i64> = a.iter().filter_map(|v| v.as_i64()).collect();
        assert_eq!(v, [1, 2]);
    }

    #[test]
    fn json_seq_rs_and_whitespace() {
        let o = Object::parse(b"\x1e{\"a\":true}\r").unwrap();
        assert_eq!(o.get(b"a"), Some(Value::Bool(true)));
        let o = Object::parse(b"  \x1e {\"a\":null}  ").unwrap();
        assert_eq!(o.get(b"a"), Some(Value::Null));
    }

    #[test]
    fn trailing_garbage_and_errors() {
        assert_eq!(
            Object::parse(br#"{"a":1} x"#).unwrap_err(),
            ParseError::new("end of line after the JSON object", 8)
        );
        assert_eq!(Object::parse(br#"{"a":1"#).unwrap_err().at, 6);
        assert_eq!(Object::parse(br#"{"a":01}"#).unwrap_err().at, 6);
        assert_eq!(Object::parse(br#"{"a":"\x"}"#).unwrap_err().at, 7);
        assert_eq!(Object::parse(br#"{"a":"\u12G4"}"#).unwrap_err().at, 8);
        assert!(Object::parse(br#"{"a":[1,]}"#).is_err());
        assert!(Object::parse(br#"{"a":1,}"#).is_err());
        assert!(Object::parse(br#"{"a" 1}"#).is_err());
        assert!(Object::parse(br#"{"a":1]"#).is_err());
        assert!(Object::parse(br#"[1]"#).is_err());
        assert!(Object::parse(br#"{"a":tru}"#).is_err());
        assert!(Object::parse(br#"{"a":-}"#).is_err());
        assert!(Object::parse(br#"{"a":1.}"#).is_err());
        assert!(Object::parse(br#"{"a":1e}"#).is_err());
        assert!(Object::parse(b"").is_err());
        assert!(Object::parse(b"{}").is_ok());
    }

    #[test]
    fn nested_get_path() {
        let o = Object::parse(br#"{"req":{"x":[{"}":"]"}],"id":"r1"},"res":{"statusCode":101}}"#)
            .unwrap();
        assert_eq!(
            o.get_path(&[b"req", b"id"])
                .unwrap()
                .as_str()
                .unwrap()
                .raw(),
            b"r1"
        );
        assert_eq!(
            o.get_path(&[b"res", b"statusCode"]).unwrap().as_u64(),
            Some(101)
        );
        assert_eq!(o.get_path(&[b"req", b"nope"]), None);
        assert_eq!(o.get_path(&[]), None);
    }

    #[test]
    fn duplicate_keys_first_wins() {
        let o = Object::parse(br#"{"connIndex":0,"connIndex":0,"x":1,"x":2}"#).unwrap();
        assert_eq!(o.get(b"x").unwrap().as_i64(), Some(1));
        assert_eq!(o.iter().count(), 4);
    }

    #[test]
    fn escaped_keys_match_unescaped() {
        let o = Object::parse(br#"{"a\u0062c":1,"q\"":2,"s\\":3,"\/":4}"#).unwrap();
        assert_eq!(o.get(b"abc").unwrap().as_i64(), Some(1));
        assert_eq!(o.get(b"q\"").unwrap().as_i64(), Some(2));
        assert_eq!(o.get(b"s\\").unwrap().as_i64(), Some(3));
        assert_eq!(o.get(b"/").unwrap().as_i64(), Some(4));
        assert_eq!(o.get(br"a\u0062c"), None);
        assert_eq!(o.get(br"s\\"), None);
    }

    #[test]
    fn unescape_surrogates() {
        let o = Object::parse(
            br#"{"a":"x\ud83d\ude00y","b":"\ud800z","c":"\udc00","d":"\ud800\u0041","e":"\n\t\"\\\/\b\f\r"}"#,
        )
        .unwrap();
        let s = |k: &[u8]| unesc(o.get(k).unwrap().as_str().unwrap());
        assert_eq!(s(b"a"), "x😀y".as_bytes());
        assert_eq!(s(b"b"), "\u{FFFD}z".as_bytes());
        assert_eq!(s(b"c"), "\u{FFFD}".as_bytes());
        assert_eq!(s(b"d"), "\u{FFFD}A".as_bytes());
        assert_eq!(s(b"e"), b"\n\t\"\\/\x08\x0c\r");
        assert!(o.get(b"a").unwrap().as_str().unwrap().has_escapes());
    }

    #[test]
    fn raw_non_utf8_kept() {
        let o = Object::parse(b"{\"a\":\"\xff\xfe\x01\"}").unwrap();
        assert_eq!(
            o.get(b"a").unwrap().as_str().unwrap().raw(),
            b"\xff\xfe\x01"
        );
    }

    #[test]
    fn numbers() {
        let o = Object::parse(
            br#"{"a":-9223372036854775808,"b":18446744073709551615,"c":1.5e3,"d":18446744073709551616,"e":-0.25}"#,
        )
        .unwrap();
        assert_eq!(o.get(b"a").unwrap().as_i64(), Some(i64::MIN));
        assert_eq!(o.get(b"b").unwrap().as_u64(), Some(u64::MAX));
        assert_eq!(o.get(b"b").unwrap().as_i64(), None);
        assert_eq!(o.get(b"c").unwrap().as_f64(), Some(1500.0));
        assert_eq!(o.get(b"c").unwrap().as_i64(), None);
        assert_eq!(o.get(b"d").unwrap().as_u64(), None);
        assert_eq!(o.get(b"e").unwrap().as_f64(), Some(-0.25));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    #[test]
    fn depth_cap() {
        let mut ok = b"{\"a\":".to_vec();
        ok.extend(std::iter::repeat_n(b'[', MAX_DEPTH - 1));
        ok.extend(std::iter::repeat_n(b']', MAX_DEPTH - 1));
        ok.push(b'}');
        assert!(Object::parse(&ok).is_ok());
        let mut deep = b"{\"a\":".to_vec();
        deep.extend(std::iter::repeat_n(b'[', 100_000));
        assert_eq!(
            Object::parse(&deep).unwrap_err(),
            ParseError::new("nesting depth at most 128", 5 + MAX_DEPTH - 1)
        );
        let mut deep = Vec::new();
        for _ in 0..100_000 {
            deep.extend_from_slice(b"{\"a\":");
        }
        assert!(Object::parse(&deep).is_err());
        let deep = vec![b'['; 100_000];
        assert!(Object::parse(&deep).is_err());
    }

    fn to_serde(v: Value) -> serde_json::Value {
        match v {
            Value::Str(s) => {
                serde_json::Value::String(String::from_utf8_lossy(&unesc(s)).into_owned())
            }
            Value::Number(n) => serde_json::from_slice(n).unwrap(),
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Null => serde_json::Value::Null,
            Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
            Value::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, v) in o.iter() {
                    let k = String::from_utf8_lossy(&unesc(RawStr::from_raw(k))).into_owned();
                    m.entry(k).or_insert(to_serde(v));
                }
                serde_json::Value::Object(m)
            }
        }
    }

    /// serde_json keeps the last duplicate key, we keep the first: compare on lines
    /// without duplicates only.
    fn check_against_serde(line: &[u8]) {
        let ours = Object::parse(line).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(to_serde(Value::Object(ours)), theirs);
    }

    #[test]
    fn serde_reference_on_fixtures() {
        let files: [&[u8]; 2] = [
            include_bytes!("../../../../tests/fixtures/kjournald/rpi4-journal.json"),
            include_bytes!("../../../../tests/fixtures/lnav/logfile_journald.json"),
        ];
        let mut n = 0;
        for f in files {
            for line in f.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                check_against_serde(line);
                n += 1;
            }
        }
        assert_eq!(n, 2204);
    }

    #[test]
    fn serde_reference_on_generated() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pieces: [&str; 12] = [
            "a",
            "é",
            "\\n",
            "\\\"",
            "\\\\",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\/",
            " ",
            "{",
            "]",
            "ü😀",
        ];
        for _ in 0..2000 {
            let mut line = String::from("{");
            let members = rnd(6);
            for m in 0..members {
                if m > 0 {
                    line.push(',');
                }
                line.push_str(&format!("\"k{m}"));
                for _ in 0..rnd(3) {
                    line.push_str(pieces[rnd(12) as usize]);
                }
                line.push_str("\":");
                match rnd(6) {
                    0 => {
                        line.push('"');
                        for _ in 0..rnd(8) {
                            line.push_str(pieces[rnd(12) as usize]);
                        }
                        line.push('"');
                    }
                    1 => line.push_str(&format!("{}", rnd(1 << 40) as i64 - (1 << 39))),
                    2 => line.push_str("[1,\"x\",null,{\"y\":[true,false]},-2.5e-3]"),
                    3 => line.push_str("{\"n\":{\"m\":\"\\u0041\"},\"z\":[]}"),
                    4 => line.push_str("null"),
                    _ => line.push_str(" 0.5 "),
                }
            }
            line.push('}');
            check_against_serde(line.as_bytes());
        }
    }

    pub(crate) fn assert_never_panics<T>(fixtures: &[&[u8]], f: impl Fn(&[u8]) -> T) {
        for line in fixtures {
            for k in 0..=line.len() {
                let _ = f(&line[..k]);
            }
            let mut m = line.to_vec();
            for k in 0..line.len() {
                for r in [0u8, b'"', b'\\', b'{', b'[', 0xff] {
                    let old = m[k];
                    m[k] = r;
                    let _ = f(&m);
                    m[k] = old;
                }
            }
        }
        let mut deep = vec![b'['; 100_000];
        let _ = f(&deep);
        deep.clear();
        for _ in 0..100_000 {
            deep.extend_from_slice(b"{\"a\":");
        }
        let _ = f(&deep);
    }

    /// Parses and then walks everything, so the lazy re-scanners are exercised too.
    fn walk(v: Value) -> usize {
        match v {
            Value::Str(s) => {
                let mut out = Vec::new();
                s.unescape_into(&mut out);
                out.len()
            }
            Value::Array(a) => a.iter().map(walk).sum(),
            Value::Object(o) => o.iter().map(|(_, v)| walk(v)).sum(),
            _ => 1,
        }
    }

    #[test]
    fn never_panics() {
        let fixtures: [&[u8]; 4] = [
            br#"{"a":"x\ud83d\ude00y","b":[1,-2.5e3,{"c":null}],"d":true,"e":false}"#,
            b"\x1e { \"k\" : \"v\\u00e9\\n\" , \"n\" : [ ] } ",
            br#"{"req":{"id":"r1","h":{"x":"}]"}},"z":{}}"#,
            br#"{"a\u0062":"\\\"","s":"\ud800"}"#,
        ];
        assert_never_panics(&fixtures, |l| {
            if let Ok(o) = Object::parse(l) {
                walk(Value::Object(o));
                o.get(b"ab");
                o.get_path(&[b"req", b"id"]);
            }
        });
    }

    #[test]
    #[ignore]
    fn throughput() {
        let line = include_bytes!("../../../../tests/fixtures/kjournald/rpi4-journal.json");
        let mut data = Vec::new();
        while data.len() < 300 << 20 {
            data.extend_from_slice(line);
        }
        let t = std::time::Instant::now();
        let mut n = 0usize;
        for l in data.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(o) = Object::parse(l) {
                n += usize::from(o.get(b"MESSAGE").is_some());
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "json Object::parse + get: {n} lines, {:.0} MB/s",
            data.len() as f64 / s / 1e6
        );
    }
}
