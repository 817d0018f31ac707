//! Hand-written timestamp parsers for the time formats real logs use, turning the text time
//! at the start of a byte slice into microseconds since the Unix epoch (UTC).
//!
//! Why not a date crate: every record of every source goes through one of these, the formats
//! are fixed-width or nearly so, and the logs are bytes (not always UTF-8). A parser that
//! reads digits at known offsets, validates ranges and does one `days_from_civil` is an order
//! of magnitude cheaper than a general strftime-style parser, and [`TimeCache`] skips even
//! the calendar math when consecutive records share a date (the common case).
//!
//! Every parser reads at the *start* of its input, returns `(µs UTC, bytes consumed)` and
//! never panics: malformed input gives `None`. Times that carry no zone use an assumed
//! offset (the `--tz` option, [`TimeContext::offset_secs`]); times that carry no year
//! (syslog, journalctl `short`) take it from a [`YearHint`].
//!
//! ```
//! use coroner_parse::timestamp::{parse_clf, parse_rfc3339, parse_syslog, TimeContext, YearHint};
//!
//! // journalctl short-iso-precise: 2021-03-13 15:23:01 UTC is 1615648981 s.
//! let (t, n) = parse_rfc3339(b"2021-03-13T15:23:01.592206+0000 raspberrypi4", 0).unwrap();
//! assert_eq!((t, n), (1_615_648_981_592_206, 31));
//!
//! // nginx $time_local: the offset is in the text.
//! let (t, _) = parse_clf(b"10/Oct/2000:13:55:36 -0700").unwrap();
//! assert_eq!(t, 971_211_336_000_000);
//!
//! // Syslog has no year: the caller says which one (here: the file started in 2021, March).
//! let ctx = TimeContext { offset_secs: 0, year: YearHint::FirstRecord { year: 2021, first_month: 3 } };
//! let (t, _) = parse_syslog(b"Mar 13 15:23:01 raspberrypi4 kernel: ...", &ctx).unwrap();
//! assert_eq!(t, 1_615_648_981_000_000);
//! ```

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
///
/// Total for any input (no panics, no overflow): out-of-range months or days give a
/// meaningless but finite number, so callers validate ranges first.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    // The algorithm counts years from March so that the leap day is the last day of its year.
    let y = i64::from(year) - i64::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400; // [0, 399]
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// How to give a year to year-less timestamps (syslog / journalctl short).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YearHint {
    /// `--year Y`: Y is the year of the source's FIRST record, whose month was `first_month`;
    /// a month earlier than that belongs to Y+1 (December -> January rollover).
    FirstRecord { year: i32, first_month: u8 },
    /// The file's modification time: the LAST record is at or before (year, month); a month
    /// later than `month` belongs to year-1.
    EndsAt { year: i32, month: u8 },
}

impl YearHint {
    /// The year of a record written in `month` (1..=12).
    pub fn year_for(&self, month: u8) -> i32 {
        match *self {
            YearHint::FirstRecord { year, first_month } => {
                if month < first_month {
                    year.saturating_add(1)
                } else {
                    year
                }
            }
            YearHint::EndsAt { year, month: last } => {
                if month > last {
                    year.saturating_sub(1)
                } else {
                    year
                }
            }
        }
    }
}

/// Everything needed to turn a record's text time into UTC. `offset_secs` is the zone assumed
/// for times that carry none (`--tz`, default 0 = UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeContext {
    pub offset_secs: i32,
    pub year: YearHint,
}

// ---------------------------------------------------------------------------------------------
// Small byte readers. All are bounds-checked through `get`, so no input can make them panic.

/// The decimal digit at `b[i]`, if there is one.
#[inline]
fn digit(b: &[u8], i: usize) -> Option<u32> {
    match b.get(i) {
        Some(&c) if c.is_ascii_digit() => Some(u32::from(c - b'0')),
        _ => None,
    }
}

/// Two decimal digits at `b[i..i+2]`.
#[inline]
fn num2(b: &[u8], i: usize) -> Option<u32> {
    Some(digit(b, i)? * 10 + digit(b, i + 1)?)
}

/// Four decimal digits at `b[i..i+4]`.
#[inline]
fn num4(b: &[u8], i: usize) -> Option<u32> {
    Some(num2(b, i)? * 100 + num2(b, i + 2)?)
}

#[inline]
fn byte_is(b: &[u8], i: usize, c: u8) -> bool {
    b.get(i) == Some(&c)
}

/// `HH:MM:SS` at `b[i..]`: seconds of the day (a leap second 60 is kept: it reads as the
/// first second of the next minute, which is what a sorted timeline wants).
#[inline]
fn hms(b: &[u8], i: usize) -> Option<i64> {
    let h = num2(b, i)?;
    let m = num2(b, i + 3)?;
    let s = num2(b, i + 6)?;
    if !byte_is(b, i + 2, b':') || !byte_is(b, i + 5, b':') || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(i64::from(h * 3600 + m * 60 + s))
}

/// `YYYY<sep>MM<sep>DD` at the start of `b`: the day number, with month 1-12 and day 1-31.
#[inline]
fn ymd(b: &[u8], sep: u8) -> Option<i64> {
    let y = num4(b, 0)?;
    let mo = num2(b, 5)?;
    let d = num2(b, 8)?;
    if !byte_is(b, 4, sep)
        || !byte_is(b, 7, sep)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    // A four-digit year always fits in i32.
    Some(days_from_civil(y as i32, mo, d))
}

/// An optional fraction (`.` or `,` then digits) at `b[i..]`: (µs, index after it). Any
/// number of digits is consumed and truncated to microseconds, so nanosecond (9 digits) and
/// longer fractions all read the same way. A separator not followed by a digit is not part
/// of the time and is left alone.
#[inline]
fn fraction(b: &[u8], i: usize) -> (i64, usize) {
    match b.get(i) {
        Some(b'.' | b',') if digit(b, i + 1).is_some() => {}
        _ => return (0, i),
    }
    let mut j = i + 1;
    let mut us: i64 = 0;
    let mut scale: i64 = 100_000;
    while let Some(d) = digit(b, j) {
        us += i64::from(d) * scale;
        scale /= 10; // reaches 0 after 6 digits: later digits are truncated away
        j += 1;
    }
    (us, j)
}

/// A numeric zone or `Z` at `b[i..]`: (offset east of UTC in seconds, index after it).
/// Accepts `Z`, `z`, `±HH:MM`, `±HHMM` and `±HH`. A sign not followed by a valid zone is not
/// a zone (it is left for the caller, and the assumed offset applies).
fn zone(b: &[u8], i: usize) -> Option<(i32, usize)> {
    let sign: i32 = match b.get(i)? {
        b'Z' | b'z' => return Some((0, i + 1)),
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = num2(b, i + 1)?;
    let (m, end) = if byte_is(b, i + 3, b':') {
        (num2(b, i + 4)?, i + 6)
    } else if let Some(m) = num2(b, i + 3) {
        (m, i + 5)
    } else {
        (0, i + 3)
    };
    // A third digit right after means this was not a zone (e.g. `+12345`).
    if digit(b, end).is_some() || h > 23 || m > 59 {
        return None;
    }
    Some((sign * (h as i32 * 3600 + m as i32 * 60), end))
}

/// Local seconds since the epoch and a zone offset to µs UTC (inputs are bounded by the
/// four-digit-year parsers, so this cannot overflow; saturating to be total anyway).
#[inline]
fn to_micros(local_secs: i64, frac_us: i64, offset_secs: i32) -> Micros {
    local_secs
        .saturating_sub(i64::from(offset_secs))
        .saturating_mul(MICROS_PER_SEC)
        .saturating_add(frac_us)
}

/// The part of RFC 3339 after `YYYY-MM-DD` + separator + `HH:MM:SS` (19 bytes): fraction
/// and zone. Shared by [`parse_rfc3339`] and [`TimeCache::rfc3339`] so both agree exactly.
#[inline]
fn rfc3339_tail(b: &[u8], local_secs: i64, assumed_offset_secs: i32) -> (Micros, usize) {
    let (us, i) = fraction(b, 19);
    let (off, end) = zone(b, i).unwrap_or((assumed_offset_secs, i));
    (to_micros(local_secs, us, off), end)
}

#[inline]
fn rfc3339_date_time_sep(b: &[u8]) -> bool {
    matches!(b.get(10), Some(b'T' | b't' | b' '))
}

/// RFC 3339 / ISO 8601 at the start of `b`: `2021-03-13T15:23:01.592206+0000`, `+00:00`, `Z`,
/// `T` or a single space between date and time, 0..=9 fraction digits (truncate to µs), no zone
/// (use `assumed_offset_secs`). Returns (µs UTC, bytes consumed). Validates ranges (month 1-12,
/// day 1-31, hour<24, min<60, sec<=60).
///
/// Also accepts `,` as the fraction separator (Python logging) and fractions longer than 9
/// digits (truncated like the others).
pub fn parse_rfc3339(b: &[u8], assumed_offset_secs: i32) -> Option<(Micros, usize)> {
    let days = ymd(b, b'-')?;
    if !rfc3339_date_time_sep(b) {
        return None;
    }
    let sod = hms(b, 11)?;
    Some(rfc3339_tail(
        b,
        days * SECS_PER_DAY + sod,
        assumed_offset_secs,
    ))
}

/// English month abbreviation (any case) as 1..=12.
#[inline]
fn english_month3(a: u8, b: u8, c: u8) -> Option<u8> {
    let key = [a | 0x20, b | 0x20, c | 0x20];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// CLF / Traefik / nginx `$time_local` at the start of `b`: `10/Oct/2000:13:55:36 -0700`
/// (English months only, as nginx always writes). Returns (µs UTC, bytes consumed).
///
/// The format is fixed-width (26 bytes; the zone is required, as every writer prints it).
pub fn parse_clf(b: &[u8]) -> Option<(Micros, usize)> {
    let days = clf_date(b)?;
    clf_rest(b, days)
}

/// `dd/Mon/yyyy` (the first 11 bytes of a CLF time) as a day number.
#[inline]
fn clf_date(b: &[u8]) -> Option<i64> {
    let d = num2(b, 0)?;
    let (&m1, &m2, &m3) = (b.get(3)?, b.get(4)?, b.get(5)?);
    let mo = english_month3(m1, m2, m3)?;
    let y = num4(b, 7)?;
    if !byte_is(b, 2, b'/') || !byte_is(b, 6, b'/') || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y as i32, u32::from(mo), d))
}

/// `:HH:MM:SS ±HHMM` after a CLF date.
#[inline]
fn clf_rest(b: &[u8], days: i64) -> Option<(Micros, usize)> {
    if !byte_is(b, 11, b':') || !byte_is(b, 20, b' ') {
        return None;
    }
    let sod = hms(b, 12)?;
    let sign: i32 = match b.get(21)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let zh = num2(b, 22)?;
    let zm = num2(b, 24)?;
    if zh > 23 || zm > 59 {
        return None;
    }
    let off = sign * (zh as i32 * 3600 + zm as i32 * 60);
    Some((to_micros(days * SECS_PER_DAY + sod, 0, off), 26))
}

/// Month names of the locales journalctl may print under (`%b` of LC_TIME), lower-case,
/// without a trailing dot (the dot is optional and handled by the caller). Several
/// languages share spellings (`mar`, `mai`, `ago`) and always with the same month.
const MONTH_NAMES: &[(&[u8], u8)] = &[
    // English full names (some tools spell them out).
    (b"january", 1),
    (b"february", 2),
    (b"march", 3),
    (b"april", 4),
    (b"june", 6),
    (b"july", 7),
    (b"august", 8),
    (b"september", 9),
    (b"sept", 9),
    (b"october", 10),
    (b"november", 11),
    (b"december", 12),
    // French (glibc fr_FR: janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.),
    // also the unaccented spellings a lossy copy produces.
    (b"janv", 1),
    ("févr".as_bytes(), 2),
    (b"fevr", 2),
    ("fév".as_bytes(), 2),
    (b"mars", 3),
    (b"avr", 4),
    (b"avril", 4),
    (b"mai", 5),
    (b"juin", 6),
    (b"juil", 7),
    ("août".as_bytes(), 8),
    (b"aout", 8),
    ("déc".as_bytes(), 12),
    // German (de_DE: Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez).
    ("mär".as_bytes(), 3),
    (b"okt", 10),
    (b"dez", 12),
    // Spanish (es_ES: ene feb mar abr may jun jul ago sep oct nov dic).
    (b"ene", 1),
    (b"abr", 4),
    (b"ago", 8),
    (b"dic", 12),
    // Italian (gen feb mar apr mag giu lug ago set ott nov dic).
    (b"gen", 1),
    (b"mag", 5),
    (b"giu", 6),
    (b"lug", 7),
    (b"set", 9),
    (b"ott", 10),
    // Portuguese (jan fev mar abr mai jun jul ago set out nov dez).
    (b"fev", 2),
    (b"out", 10),
    // Dutch (jan feb mrt apr mei jun jul aug sep okt nov dec).
    (b"mrt", 3),
    (b"mei", 5),
];

/// Longest month name we look up, in bytes.
const MONTH_NAME_MAX: usize = 10;

/// A month name at the start of `b`, any case: English `Jan`..`Dec`, and the locale names
/// journalctl prints under other LC_TIME (at least French `janv. févr. mars avr. mai juin
/// juil. août sept. oct. nov. déc.` with and without the dot and with UTF-8 accents, German
/// `Mär Mai Okt Dez`, Spanish `ene abr ago dic`). Returns (1..=12, bytes consumed).
///
/// The name is the whole run of letters (ASCII or UTF-8 bytes) at the start, so `Marble`
/// is not March; a `.` right after it is consumed too. Also knows English full names and the
/// Italian, Portuguese and Dutch abbreviations.
pub fn parse_month(b: &[u8]) -> Option<(u8, usize)> {
    // The run of letters: ASCII letters and any UTF-8 byte (accents).
    let run = b
        .iter()
        .take(MONTH_NAME_MAX + 1)
        .take_while(|&&c| c.is_ascii_alphabetic() || c >= 0x80)
        .count();
    if !(3..=MONTH_NAME_MAX).contains(&run) {
        return None;
    }
    let dot = usize::from(byte_is(b, run, b'.'));
    // The common case, checked without the table: three ASCII letters of English.
    if run == 3
        && let Some(m) = english_month3(b[0], b[1], b[2])
    {
        return Some((m, 3 + dot));
    }
    // Fold case: ASCII, and Latin-1 capitals in UTF-8 (`C3 80..=9E` -> `C3 A0..=BE`, except
    // the multiplication sign C3 97), enough for É/Û/Ä/À in month names.
    let mut buf = [0u8; MONTH_NAME_MAX];
    let mut prev = 0u8;
    for (dst, &c) in buf.iter_mut().zip(&b[..run]) {
        *dst = if prev == 0xC3 && (0x80..=0x9E).contains(&c) && c != 0x97 {
            c + 0x20
        } else {
            c.to_ascii_lowercase()
        };
        prev = c;
    }
    let name = &buf[..run];
    MONTH_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, m)| (m, run + dot))
}

/// Syslog / journalctl `short` / `short-precise` time at the start of `b`:
/// `Mar 13 15:23:02`, `Apr  6 07:20:21` (space-padded day), `Apr 06 ...`, `.123456` fraction,
/// locale months. Year from `ctx.year`, zone from `ctx.offset_secs`. Returns (µs, consumed).
pub fn parse_syslog(b: &[u8], ctx: &TimeContext) -> Option<(Micros, usize)> {
    let (month, mut i) = parse_month(b)?;
    // One space, or two when the day is space-padded (`Apr  6`).
    if !byte_is(b, i, b' ') {
        return None;
    }
    i += 1;
    if byte_is(b, i, b' ') {
        i += 1;
    }
    let mut day = digit(b, i)?;
    i += 1;
    if let Some(d2) = digit(b, i) {
        day = day * 10 + d2;
        i += 1;
    }
    if !(1..=31).contains(&day) || !byte_is(b, i, b' ') {
        return None;
    }
    let sod = hms(b, i + 1)?;
    let (us, end) = fraction(b, i + 9);
    let days = days_from_civil(ctx.year.year_for(month), u32::from(month), day);
    Some((
        to_micros(days * SECS_PER_DAY + sod, us, ctx.offset_secs),
        end,
    ))
}

/// `YYYY/MM/DD HH:MM:SS` at the start (nginx error log, Go `log` prefix): local, no zone.
///
/// Go's `log.Lmicroseconds` fraction (`.123456`) is read too.
pub fn parse_slash_datetime(b: &[u8], assumed_offset_secs: i32) -> Option<(Micros, usize)> {
    let days = ymd(b, b'/')?;
    if !byte_is(b, 10, b' ') {
        return None;
    }
    let sod = hms(b, 11)?;
    let (us, end) = fraction(b, 19);
    Some((
        to_micros(days * SECS_PER_DAY + sod, us, assumed_offset_secs),
        end,
    ))
}

/// journalctl `short-full`: `Fri 2020-02-07 15:50:54 UTC` (zone abbreviation: accept `UTC`/`GMT`
/// exactly; any other abbreviation -> use ctx offset) and `short-unix` `1581090654.326448`.
///
/// Numeric zones (`+03`, `+0530`, which tzdata uses as abbreviations for some zones) are
/// applied as offsets. A missing zone also means the assumed offset; a fraction after the
/// seconds is read.
pub fn parse_short_full(b: &[u8], assumed_offset_secs: i32) -> Option<(Micros, usize)> {
    // The weekday: systemd prints English names from its own table, but be lenient.
    let wd = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if !(2..=9).contains(&wd) || !byte_is(b, wd, b' ') {
        return None;
    }
    let rest = b.get(wd + 1..)?;
    let days = ymd(rest, b'-')?;
    if !byte_is(rest, 10, b' ') {
        return None;
    }
    let sod = hms(rest, 11)?;
    let (us, mut end) = fraction(rest, 19);
    let mut off = assumed_offset_secs;
    if byte_is(rest, end, b' ') {
        let z = end + 1;
        if let Some((o, e)) = zone(rest, z) {
            off = o;
            end = e;
        } else {
            let n = rest
                .iter()
                .skip(z)
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            if (1..=6).contains(&n) {
                let abbr = &rest[z..z + n];
                if abbr == b"UTC" || abbr == b"GMT" {
                    off = 0;
                }
                end = z + n;
            }
        }
    }
    Some((to_micros(days * SECS_PER_DAY + sod, us, off), wd + 1 + end))
}

/// journalctl `short-unix`: `1581090654.326448` (seconds, `.`, fraction; the fraction is
/// required so that an arbitrary leading number is not taken for a time).
pub fn parse_short_unix(b: &[u8]) -> Option<(Micros, usize)> {
    let mut i = 0;
    let mut secs: i64 = 0;
    while let Some(d) = digit(b, i) {
        // 12 digits reach year 33658: anything longer is not a time.
        if i >= 12 {
            return None;
        }
        secs = secs * 10 + i64::from(d);
        i += 1;
    }
    if i == 0 || !byte_is(b, i, b'.') || digit(b, i + 1).is_none() {
        return None;
    }
    let (us, end) = fraction(b, i);
    Some((secs.saturating_mul(MICROS_PER_SEC).saturating_add(us), end))
}

/// True for `-- ... --` lines journalctl prints between records (`-- Boot <id> --`,
/// `-- Logs begin at ... --`, `-- No entries --`).
pub(crate) fn is_journal_separator(line: &[u8]) -> bool {
    let line = trim_end(line);
    line.len() >= 5 && line.starts_with(b"-- ") && line.ends_with(b" --")
}

/// `line` without trailing whitespace (`\r` of CRLF files included).
#[inline]
pub(crate) fn trim_end(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., last] = line {
        if last.is_ascii_whitespace() {
            line = rest;
        } else {
            break;
        }
    }
    line
}

/// The month of the first syslog-style record found in `head` (first KiBs of a source): used
/// to build `YearHint::FirstRecord`. Skips `-- ... --` separator lines.
///
/// A line counts when it starts with a full syslog time (month, day, `HH:MM:SS`); indented
/// continuation lines and lines of other shapes are passed over.
pub fn first_syslog_month(head: &[u8]) -> Option<u8> {
    let probe = TimeContext {
        offset_secs: 0,
        year: YearHint::EndsAt {
            year: 2000,
            month: 12,
        },
    };
    head.split(|&c| c == b'\n')
        .filter(|line| !is_journal_separator(line))
        .find_map(|line| {
            parse_syslog(line, &probe)?;
            parse_month(line).map(|(m, _)| m)
        })
}

// ---------------------------------------------------------------------------------------------
// Times at the start of free text.

/// `[Www Mmm dd HH:MM:SS YYYY]` of `dmesg -T` (ctime layout, local time) at the start.
pub(crate) fn parse_ctime_bracket(b: &[u8], assumed_offset_secs: i32) -> Option<Micros> {
    let wd = b
        .get(1..)?
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if !byte_is(b, 0, b'[') || wd != 3 || !byte_is(b, 4, b' ') {
        return None;
    }
    // Month and day as syslog writes them, then ` YYYY]`.
    let fixed = TimeContext {
        offset_secs: assumed_offset_secs,
        year: YearHint::EndsAt {
            year: 1970,
            month: 12,
        },
    };
    let (t1970, n) = parse_syslog(b.get(5..)?, &fixed)?;
    let tail = b.get(5 + n..)?;
    let year = num4(tail, 1)?;
    if !byte_is(tail, 0, b' ') || !byte_is(tail, 5, b']') {
        return None;
    }
    // Re-date from 1970 to the printed year: the month/day/time are the same.
    let month = parse_month(&b[5..]).map(|(m, _)| u32::from(m))?;
    let shift = days_from_civil(year as i32, month, 1) - days_from_civil(1970, month, 1);
    Some(t1970 + shift * SECS_PER_DAY * MICROS_PER_SEC)
}

/// PHP's error log: `[11-Mar-2021 10:09:27 UTC]`, the zone as PHP's `date.timezone` names
/// it. `UTC`/`GMT`/`Z` are UTC; any other name (`Europe/Berlin`) cannot be resolved
/// without a zone database and is read in the assumed zone (`--tz`).
pub(crate) fn parse_php_bracket(b: &[u8], assumed_offset_secs: i32) -> Option<Micros> {
    // `[dd-Mon-yyyy HH:MM:SS ` then the zone name up to `]`.
    let d = num2(b, 1)?;
    let mo = english_month3(*b.get(4)?, *b.get(5)?, *b.get(6)?)?;
    let y = num4(b, 8)?;
    if !byte_is(b, 0, b'[')
        || !byte_is(b, 3, b'-')
        || !byte_is(b, 7, b'-')
        || !byte_is(b, 12, b' ')
        || !byte_is(b, 21, b' ')
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let sod = hms(b, 13)?;
    let zone_len = b.get(22..)?.iter().take(64).position(|&c| c == b']')?;
    let zone = &b[22..22 + zone_len];
    if zone.is_empty() || zone.contains(&b' ') {
        return None;
    }
    let offset = if [&b"UTC"[..], b"GMT", b"Z"].contains(&zone) {
        0
    } else {
        assumed_offset_secs
    };
    let secs = days_from_civil(y as i32, u32::from(mo), d) * SECS_PER_DAY + sod - i64::from(offset);
    Some(secs * MICROS_PER_SEC)
}

/// A time at the very start of a free-text line: RFC 3339 (also inside a leading `[`, with
/// gunicorn's spaced zone), `dmesg -T`'s `[Mon May 15 23:09:30 2023]`, PHP's
/// `[11-Mar-2021 10:09:27 UTC]`, `YYYY/MM/DD HH:MM:SS`,
/// or a syslog time. The record time of messages whose payload states none of its own (see
/// `payload::Parsed::time`); the printk `[  518.050606]` is time since boot and gives nothing.
pub fn leading_time(text: &[u8], ctx: &TimeContext) -> Option<Micros> {
    match text.first()? {
        b'0'..=b'9' => parse_rfc3339(text, ctx.offset_secs)
            .or_else(|| parse_slash_datetime(text, ctx.offset_secs))
            .map(|(t, _)| t),
        b'[' => {
            let inner = &text[1..];
            parse_rfc3339(inner, ctx.offset_secs)
                .map(|(t, n)| with_spaced_zone(inner, t, n, ctx.offset_secs))
                .or_else(|| parse_ctime_bracket(text, ctx.offset_secs))
                .or_else(|| parse_php_bracket(text, ctx.offset_secs))
        }
        _ => parse_syslog(text, ctx).map(|(t, _)| t),
    }
}

/// gunicorn writes `2024-07-05 09:13:44 +0200`: the zone after a space, which
/// [`parse_rfc3339`] (rightly) does not read. If one follows a zone-less time at `b[..n]`
/// parsed as `t` with `assumed`, re-base `t` onto it.
pub(crate) fn with_spaced_zone(b: &[u8], t: Micros, n: usize, assumed: i32) -> Micros {
    // Only when the parsed time itself had no zone: no `Z` at its end, no sign after the
    // seconds (a fraction has neither).
    let zoned = matches!(b.get(n.wrapping_sub(1)), Some(b'Z' | b'z'))
        || b.get(19..n)
            .is_some_and(|t| t.iter().any(|&c| c == b'+' || c == b'-'));
    if zoned || !byte_is(b, n, b' ') {
        return t;
    }
    match zone(b, n + 1) {
        Some((off, _)) => t + (i64::from(assumed) - i64::from(off)) * MICROS_PER_SEC,
        None => t,
    }
}

// ---------------------------------------------------------------------------------------------

/// A last-value cache for fixed-format timestamps: consecutive records mostly share the same
/// date (and often the same second), so remember the last date prefix bytes and its day
/// number and skip the calendar math when they repeat. Must give results identical to the
/// uncached functions (test this against them on many inputs).
///
/// RFC 3339: the 19-byte `YYYY-MM-DDTHH:MM:SS` prefix maps to local seconds, the 10-byte date
/// to a day number; fraction and zone are always parsed. CLF: the fixed 26-byte time with its
/// two seconds digits blanked maps to the result at second 0 (so a busy log, whose second
/// changes every few lines, still hits: only the two digits are read), the 11-byte date to a
/// day number. Only prefixes that parsed are remembered, so a hit implies the uncached parser
/// would have accepted the same bytes.
#[derive(Clone, Debug)]
pub struct TimeCache {
    rfc_date: Option<([u8; 10], i64)>,
    rfc_secs: Option<([u8; 19], i64)>,
    clf_date: Option<([u8; 11], i64)>,
    /// `dd/Mon/yyyy:HH:MM:__ ±zzzz` (seconds blanked to `00`) and its time at second 0.
    clf_minute: Option<([u8; 26], Micros)>,
}

/// Offset of the seconds digits in a CLF time (`dd/Mon/yyyy:HH:MM:SS ±zzzz`).
const CLF_SECS: usize = 18;

/// A CLF time's first 26 bytes with the seconds blanked, and the seconds when they are two
/// digits up to 60 (what [`hms`] accepts).
#[inline]
fn clf_minute_key(b: &[u8]) -> Option<([u8; 26], i64)> {
    let mut key = <[u8; 26]>::try_from(b.get(..26)?).ok()?;
    let secs = num2(&key, CLF_SECS).filter(|&s| s <= 60)?;
    key[CLF_SECS] = b'0';
    key[CLF_SECS + 1] = b'0';
    Some((key, i64::from(secs)))
}

impl TimeCache {
    pub fn new() -> Self {
        TimeCache {
            rfc_date: None,
            rfc_secs: None,
            clf_date: None,
            clf_minute: None,
        }
    }

    /// Same result as [`parse_rfc3339`].
    pub fn rfc3339(&mut self, b: &[u8], assumed_offset_secs: i32) -> Option<(Micros, usize)> {
        if let (Some((key, secs)), Some(p)) = (&self.rfc_secs, b.get(..19))
            && key == p
        {
            return Some(rfc3339_tail(b, *secs, assumed_offset_secs));
        }
        let days = match (&self.rfc_date, b.get(..10)) {
            (Some((key, days)), Some(p)) if key == p => *days,
            _ => {
                let days = ymd(b, b'-')?;
                if let Some(p) = b.get(..10).and_then(|p| <[u8; 10]>::try_from(p).ok()) {
                    self.rfc_date = Some((p, days));
                }
                days
            }
        };
        if !rfc3339_date_time_sep(b) {
            return None;
        }
        let secs = days * SECS_PER_DAY + hms(b, 11)?;
        if let Some(p) = b.get(..19).and_then(|p| <[u8; 19]>::try_from(p).ok()) {
            self.rfc_secs = Some((p, secs));
        }
        Some(rfc3339_tail(b, secs, assumed_offset_secs))
    }

    /// Same result as [`parse_clf`].
    pub fn clf(&mut self, b: &[u8]) -> Option<(Micros, usize)> {
        let minute = clf_minute_key(b);
        if let (Some((key, base)), Some((p, secs))) = (&self.clf_minute, &minute)
            && key == p
        {
            // Every byte but the seconds is one the uncached parser accepted, and the
            // seconds were checked by clf_minute_key; the time is linear in them.
            return Some((base + secs * MICROS_PER_SEC, 26));
        }
        let days = match (&self.clf_date, b.get(..11)) {
            (Some((key, days)), Some(p)) if key == p => *days,
            _ => {
                let days = clf_date(b)?;
                if let Some(p) = b.get(..11).and_then(|p| <[u8; 11]>::try_from(p).ok()) {
                    self.clf_date = Some((p, days));
                }
                days
            }
        };
        let (t, n) = clf_rest(b, days)?;
        if let Some((key, secs)) = minute {
            self.clf_minute = Some((key, t - secs * MICROS_PER_SEC));
        }
        Some((t, n))
    }
}

impl Default for TimeCache {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: i64) -> Micros {
        secs * MICROS_PER_SEC
    }

    /// A naive calendar: count days one by one from 1969-01-01 (day -365).
    #[test]
    fn days_from_civil_matches_day_by_day_count() {
        fn leap(y: i32) -> bool {
            (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        }
        let mut n: i64 = -365;
        for y in 1969..=2100 {
            for m in 1..=12u32 {
                let len = match m {
                    2 if leap(y) => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for d in 1..=len {
                    assert_eq!(days_from_civil(y, m, d), n, "{y}-{m}-{d}");
                    n += 1;
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // `date -u -d '1600-01-01' +%s` = -11676096000
        assert_eq!(days_from_civil(1600, 1, 1) * SECS_PER_DAY, -11_676_096_000);
        // Total on garbage.
        let _ = days_from_civil(i32::MIN, u32::MAX, u32::MAX);
        let _ = days_from_civil(i32::MAX, 0, 0);
    }

    #[test]
    fn year_hint_rollover() {
        let first = YearHint::FirstRecord {
            year: 2023,
            first_month: 12,
        };
        assert_eq!(first.year_for(12), 2023);
        assert_eq!(first.year_for(1), 2024);
        let first = YearHint::FirstRecord {
            year: 2023,
            first_month: 3,
        };
        assert_eq!(first.year_for(3), 2023);
        assert_eq!(first.year_for(11), 2023);
        assert_eq!(first.year_for(2), 2024);
        let end = YearHint::EndsAt {
            year: 2024,
            month: 1,
        };
        assert_eq!(end.year_for(1), 2024);
        assert_eq!(end.year_for(12), 2023);
        let end = YearHint::EndsAt {
            year: 2024,
            month: 6,
        };
        assert_eq!(end.year_for(6), 2024);
        assert_eq!(end.year_for(7), 2023);
        assert_eq!(
            YearHint::FirstRecord {
                year: i32::MAX,
                first_month: 12
            }
            .year_for(1),
            i32::MAX
        );
        assert_eq!(
            YearHint::EndsAt {
                year: i32::MIN,
                month: 1
            }
            .year_for(2),
            i32::MIN
        );
    }

    #[test]
    fn rfc3339_forms() {
        // Expected seconds from `date -u -d '...' +%s`.
        let t = 1_615_648_981; // 2021-03-13 15:23:01 UTC
        let cases: &[(&[u8], i32, Micros, usize)] = &[
            (
                b"2021-03-13T15:23:01.592206+0000 host",
                0,
                s(t) + 592_206,
                31,
            ),
            (b"2021-03-13T15:23:01.592206+00:00", 0, s(t) + 592_206, 32),
            (b"2021-03-13T15:23:01Z ERR", 0, s(t), 20),
            (b"2021-03-13t15:23:01z", 0, s(t), 20),
            (b"2021-03-13 15:23:01", 0, s(t), 19),
            (b"2021-03-13 15:23:01", 3600, s(t - 3600), 19),
            (b"2021-03-13T15:23:01.5", 0, s(t) + 500_000, 21),
            (b"2021-03-13T15:23:01.123456789Z", 0, s(t) + 123_456, 30),
            (b"2021-03-13T15:23:01.1234567891Z", 0, s(t) + 123_456, 31),
            (b"2021-03-13T15:23:01,123 INFO", 0, s(t) + 123_000, 23),
            (b"2021-03-13T15:23:01. end", 0, s(t), 19),
            (b"2021-03-13T16:23:01+01", 0, s(t), 22),
            (b"2021-03-13T10:23:01-0500", 0, s(t), 24),
            // `date -u -d '2023-09-08 17:20:30 +0200' +%s` = 1694186430
            (b"2023-09-08T17:20:30+0200 fanbox", 0, s(1_694_186_430), 24),
            (
                b"2023-09-08T17:20:30.655028+02:00",
                0,
                s(1_694_186_430) + 655_028,
                32,
            ),
            // A sign that is not a zone stays unconsumed and the assumed offset applies.
            (b"2021-03-13T15:23:01-x", 0, s(t), 19),
            (b"2021-03-13T15:23:01+123456", 0, s(t), 19),
            // Leap second: the next minute's first second.
            (b"2016-12-31T23:59:60Z", 0, s(1_483_228_800), 20),
        ];
        for &(input, off, want, n) in cases {
            assert_eq!(
                parse_rfc3339(input, off),
                Some((want, n)),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        // `date -u -d '1969-12-31 23:59:59 UTC' +%s` = -1
        assert_eq!(parse_rfc3339(b"1969-12-31T23:59:59Z", 0), Some((s(-1), 20)));
        for bad in [
            &b"2021-13-13T15:23:01Z"[..],
            b"2021-00-13T15:23:01Z",
            b"2021-03-32T15:23:01Z",
            b"2021-03-00T15:23:01Z",
            b"2021-03-13T24:00:00Z",
            b"2021-03-13T15:60:00Z",
            b"2021-03-13T15:23:61Z",
            b"2021-03-13X15:23:01Z",
            b"2021-03-13T15:23",
            b"2021/03/13 15:23:01",
            b"21-03-13T15:23:01Z",
            b"",
        ] {
            assert_eq!(
                parse_rfc3339(bad, 0),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn clf_forms() {
        // `date -u -d '2000-10-10 13:55:36 -0700' +%s` = 971211336
        assert_eq!(
            parse_clf(b"10/Oct/2000:13:55:36 -0700] \"GET"),
            Some((s(971_211_336), 26))
        );
        // `date -u -d '2019-01-22 03:56:14 +0330' +%s` = 1548116774
        assert_eq!(
            parse_clf(b"22/Jan/2019:03:56:14 +0330"),
            Some((s(1_548_116_774), 26))
        );
        // `date -u -d '2009-11-10 23:00:00 UTC' +%s` = 1257894000
        assert_eq!(
            parse_clf(b"10/Nov/2009:23:00:00 +0000"),
            Some((s(1_257_894_000), 26))
        );
        assert_eq!(
            parse_clf(b"10/Nov/2009:14:00:00 -0900"),
            Some((s(1_257_894_000), 26))
        );
        for bad in [
            &b"10/Oct/2000:13:55:36"[..],
            b"10/Oct/2000:13:55:36 0700",
            b"10/Okt/2000:13:55:36 -0700",
            b"32/Oct/2000:13:55:36 -0700",
            b"10-Oct-2000:13:55:36 -0700",
            b"10/Oct/2000 13:55:36 -0700",
            b"-",
            b"",
        ] {
            assert_eq!(parse_clf(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn month_names() {
        let cases: &[(&str, u8, usize)] = &[
            ("Jan 1", 1, 3),
            ("DEC 1", 12, 3),
            ("mar", 3, 3),
            ("janv. 12", 1, 5),
            ("janv 12", 1, 4),
            ("févr. 1", 2, 6),
            ("FÉVR. 1", 2, 6),
            ("fevr. 1", 2, 5),
            ("mars 1", 3, 4),
            ("avr. 1", 4, 4),
            ("mai 1", 5, 3),
            ("juin 1", 6, 4),
            ("juil. 12", 7, 5),
            ("août 19", 8, 5),
            ("AOÛT 19", 8, 5),
            ("sept. 1", 9, 5),
            ("oct. 1", 10, 4),
            ("nov. 1", 11, 4),
            ("déc. 1", 12, 5),
            ("déc 1", 12, 4),
            ("Mär 1", 3, 4),
            ("MÄR 1", 3, 4),
            ("Mai 1", 5, 3),
            ("Okt 1", 10, 3),
            ("Dez 1", 12, 3),
            ("ene 1", 1, 3),
            ("abr 1", 4, 3),
            ("ago 1", 8, 3),
            ("dic 1", 12, 3),
            ("September 1", 9, 9),
        ];
        for &(input, m, n) in cases {
            assert_eq!(parse_month(input.as_bytes()), Some((m, n)), "{input}");
        }
        for bad in ["Marble", "Ma", "xyz 1", "", "1 Jan", "Février"] {
            assert_eq!(parse_month(bad.as_bytes()), None, "{bad}");
        }
        // Every name in the table is found, and only maps to one month.
        for &(name, m) in MONTH_NAMES {
            assert_eq!(parse_month(name), Some((m, name.len())));
        }
    }

    #[test]
    fn syslog_forms() {
        let ctx = TimeContext {
            offset_secs: 0,
            year: YearHint::FirstRecord {
                year: 2021,
                first_month: 2,
            },
        };
        let t = 1_615_648_981; // 2021-03-13 15:23:01 UTC
        assert_eq!(
            parse_syslog(b"Mar 13 15:23:01 host", &ctx),
            Some((s(t), 15))
        );
        assert_eq!(
            parse_syslog(b"Mar 13 15:23:01.592206 host", &ctx),
            Some((s(t) + 592_206, 22))
        );
        assert_eq!(
            parse_syslog(b"mars 13 15:23:01 host", &ctx),
            Some((s(t), 16))
        );
        // The zone: local 16:23:01 at +01:00.
        let cet = TimeContext {
            offset_secs: 3600,
            ..ctx
        };
        assert_eq!(parse_syslog(b"Mar 13 16:23:01", &cet), Some((s(t), 15)));
        // Space-padded and zero-padded and unpadded single-digit days.
        // `date -u -d '2024-01-06 07:20:21 UTC' +%s` = 1704525621
        let y24 = TimeContext {
            offset_secs: 0,
            year: YearHint::EndsAt {
                year: 2024,
                month: 1,
            },
        };
        for line in [
            &b"Jan  6 07:20:21 x"[..],
            b"Jan 06 07:20:21 x",
            b"Jan 6 07:20:21 x",
        ] {
            assert_eq!(
                parse_syslog(line, &y24).map(|r| r.0),
                Some(s(1_704_525_621))
            );
        }
        // Year rollover through the hint: February before the first month (March) is 2022.
        let from_march = TimeContext {
            offset_secs: 0,
            year: YearHint::FirstRecord {
                year: 2021,
                first_month: 3,
            },
        };
        let (feb, _) = parse_syslog(b"Feb 07 15:50:54 x", &from_march).unwrap();
        assert_eq!(feb, parse_rfc3339(b"2022-02-07T15:50:54Z", 0).unwrap().0);
        // `date -u -d '2019-08-19 11:08:37 UTC' +%s` = 1566212917
        let y19 = TimeContext {
            offset_secs: 0,
            year: YearHint::EndsAt {
                year: 2019,
                month: 12,
            },
        };
        assert_eq!(
            parse_syslog("août 19 11:08:37 laptop-fr".as_bytes(), &y19).map(|r| r.0),
            Some(s(1_566_212_917))
        );
        for bad in [
            &b"Mar 32 15:23:01"[..],
            b"Mar 00 15:23:01",
            b"Mar   6 15:23:01",
            b"Mar 13 25:23:01",
            b"Mar 13 15:23",
            b"Mar13 15:23:01",
            b"Mar 123 15:23:01",
            b"Foo 13 15:23:01",
        ] {
            assert_eq!(
                parse_syslog(bad, &ctx),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn slash_short_full_short_unix() {
        // `date -u -d '2016-10-25 14:49:34 UTC' +%s` = 1477406974
        assert_eq!(
            parse_slash_datetime(b"2016/10/25 14:49:34 [error]", 0),
            Some((s(1_477_406_974), 19))
        );
        assert_eq!(
            parse_slash_datetime(b"2016/10/25 16:49:34 x", 7200),
            Some((s(1_477_406_974), 19))
        );
        assert_eq!(
            parse_slash_datetime(b"2016/10/25 14:49:34.000123 x", 0),
            Some((s(1_477_406_974) + 123, 26))
        );
        assert_eq!(parse_slash_datetime(b"2016/10/25T14:49:34", 0), None);
        assert_eq!(parse_slash_datetime(b"2016-10-25 14:49:34", 0), None);

        // `date -u -d '2020-02-07 15:50:54 UTC' +%s` = 1581090654
        let t = s(1_581_090_654);
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 15:50:54 UTC host", 3600),
            Some((t, 27))
        );
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 15:50:54 GMT", 3600),
            Some((t, 27))
        );
        // Other abbreviations: the assumed offset (here CET = +1h).
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 16:50:54 CET host", 3600),
            Some((t, 27))
        );
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 16:50:54 CEST", 3600),
            Some((t, 28))
        );
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 18:50:54 +03 h", 0),
            Some((t, 27))
        );
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 16:50:54", 3600),
            Some((t, 23))
        );
        assert_eq!(
            parse_short_full(b"Fri 2020-02-07 15:50:54.326448 UTC", 0),
            Some((t + 326_448, 34))
        );
        assert_eq!(parse_short_full(b"2020-02-07 15:50:54 UTC", 0), None);
        assert_eq!(parse_short_full(b"Fri 2020-02-07T15:50:54 UTC", 0), None);

        assert_eq!(
            parse_short_unix(b"1581090654.326448 host"),
            Some((t + 326_448, 17))
        );
        assert_eq!(parse_short_unix(b"1581090654.3"), Some((t + 300_000, 12)));
        assert_eq!(parse_short_unix(b"1581090654 host"), None);
        assert_eq!(parse_short_unix(b".5"), None);
        assert_eq!(parse_short_unix(b"1581090654."), None);
        assert_eq!(parse_short_unix(b"9999999999999999999999.1"), None);
    }

    #[test]
    fn first_month_skips_separators_and_junk() {
        let head = b"-- Logs begin at Sat 2021-03-13 15:23:01 UTC. --\n\
                     -- Boot 27acae2fe35a40ac93f9c7732c0b8e59 --\n\
                     \x20  indented continuation\n\
                     Dec 31 23:59:59 host app[1]: x\n\
                     Jan 01 00:00:01 host app[1]: y\n";
        assert_eq!(first_syslog_month(head), Some(12));
        assert_eq!(
            first_syslog_month("juil. 12 12:27:04 h bundle[1]: x".as_bytes()),
            Some(7)
        );
        assert_eq!(first_syslog_month(b"2021-03-13T15:23:01Z x\n"), None);
        assert_eq!(first_syslog_month(b""), None);
    }

    /// A tiny deterministic PRNG for the fuzz-style loops (no dev-dependency needed).
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FIXTURES: &[&[u8]] = &[
        b"2021-03-13T15:23:01.592206+0000 raspberrypi4 kernel: x",
        b"2023-09-08T17:20:30.655028+02:00",
        b"2021-03-13 15:23:01,123",
        b"10/Oct/2000:13:55:36 -0700",
        b"Apr  6 07:20:21 host cloudflared[477]: x",
        "juil. 12 12:27:04 mastohost bundle[106414]: x".as_bytes(),
        "févr. 07 15:50:54.326448 h".as_bytes(),
        b"2016/10/25 14:49:34.123 [error] 1#1: x",
        b"Fri 2020-02-07 15:50:54 UTC host",
        b"Fri 2020-02-07 15:50:54 +0530 host",
        b"1581090654.326448 host",
        b"[2024-07-05 09:13:44 +0200] [1] [INFO] x",
        b"[Mon May 15 23:09:30 2023] x",
        b"{\"level\":\"info\",\"time\":1728729237552,\"name\":\"streaming\"}",
        b"time=\"2023-01-08T12:28:57Z\" level=error",
        b"I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : x",
    ];

    fn exercise(b: &[u8]) {
        let ctx = TimeContext {
            offset_secs: -3600,
            year: YearHint::EndsAt {
                year: 2024,
                month: 6,
            },
        };
        let _ = parse_rfc3339(b, 50_400);
        let _ = parse_clf(b);
        let _ = parse_month(b);
        let _ = parse_syslog(b, &ctx);
        let _ = parse_slash_datetime(b, -50_400);
        let _ = parse_short_full(b, 0);
        let _ = parse_short_unix(b);
        let _ = first_syslog_month(b);
        let _ = leading_time(b, &ctx);
        // The cache agrees with the plain parsers on whatever it is fed.
        let mut c = TimeCache::new();
        assert_eq!(c.rfc3339(b, 3600), parse_rfc3339(b, 3600));
        assert_eq!(c.clf(b), parse_clf(b));
        if let Some(rest) = b.get(1..) {
            let _ = leading_time(rest, &ctx);
        }
    }

    #[test]
    fn never_panics_on_truncations_and_flips() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for &f in FIXTURES {
            for cut in 0..=f.len() {
                exercise(&f[..cut]);
                exercise(&f[cut..]);
            }
            let mut m = f.to_vec();
            for _ in 0..400 {
                let i = rng.below(m.len());
                m[i] = match rng.below(4) {
                    0 => rng.next() as u8,
                    1 => b'9',
                    2 => b' ',
                    _ => m[i] ^ (1 << rng.below(8)),
                };
                exercise(&m);
                if rng.below(20) == 0 {
                    m = f.to_vec();
                }
            }
        }
    }

    #[test]
    fn cache_matches_uncached_on_sequences() {
        let mut rng = XorShift(42);
        let mut rfc = TimeCache::new();
        let mut clf = TimeCache::default();
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        for i in 0..20_000 {
            // Runs of equal dates and seconds, with occasional invalid and mutated entries.
            let day = 1 + (i / 3000) % 31;
            let sec = (i / 7) % 61;
            let min = (i / 400) % 60;
            let mo = 1 + (i / 5000) % 12;
            let frac = rng.below(1_000_000);
            let zone = ["Z", "+02:00", "-0530", "", "+0000"][rng.below(5)];
            let sep = [b'T', b' '][rng.below(2)] as char;
            let mut a = format!("2024-{mo:02}-{day:02}{sep}13:{min:02}:{sec:02}.{frac:06}{zone} x")
                .into_bytes();
            let mut c = format!(
                "{day:02}/{}/2024:13:{min:02}:{sec:02} {}",
                months[mo - 1],
                ["+0000", "-0700", "+0330"][rng.below(3)]
            )
            .into_bytes();
            if rng.below(10) == 0 {
                let j = rng.below(a.len());
                a[j] = b"0X:-+ 9"[rng.below(7)];
                let j = rng.below(c.len());
                c[j] = b"0X:/+ 9"[rng.below(7)];
            }
            if rng.below(8) == 0 {
                // Seconds 00..99 in an otherwise cached minute: 61..99 must fail as uncached.
                let s = rng.below(100) as u8;
                c[18] = b'0' + s / 10;
                c[19] = b'0' + s % 10;
            }
            let off = [0, 3600, -7200][rng.below(3)];
            assert_eq!(
                rfc.rfc3339(&a, off),
                parse_rfc3339(&a, off),
                "{}",
                String::from_utf8_lossy(&a)
            );
            assert_eq!(
                clf.clf(&c),
                parse_clf(&c),
                "{}",
                String::from_utf8_lossy(&c)
            );
        }
    }
}
