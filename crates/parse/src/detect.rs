//! Format detection: which [`Envelope`] a source's records are stored in (decided once per
//! source from its first KiBs), and which [`Payload`] one record's message carries (decided
//! per record, on the hot path). Also the journalctl/rsyslog line splitter
//! [`parse_syslog_line`] and the export-framing helper [`is_export_field_name`], because
//! detection is built on them.
//!
//! Why evidence over several lines: a single line is ambiguous (a cloudflared console line
//! starts with a time and a short upper-case word, just like a syslog line starts with a
//! time and a host), while a source is one format throughout. So envelopes are decided by
//! the shape of the first records, by majority where a shape is per line.
//!
//! # Envelope rules, in the order they are tried
//! 1. Empty head (after a UTF-8 BOM, which is skipped): `Plain`.
//! 2. `LPKSHHRH` magic: `JournaldFile`.
//! 3. journald export: the first non-empty line is `__CURSOR=...`, or the head starts with a
//!    run of at least 3 export fields (`NAME=value`, or a bare `NAME` line followed by an
//!    8-byte little-endian length, the value and `\n`; names are [`is_export_field_name`])
//!    of which one is a well-known journal field (`MESSAGE`, `_PID`, `__REALTIME_TIMESTAMP`,
//!    ...; this keeps an `env` dump out). Tried before the binary test because binary
//!    fields hold NUL bytes.
//! 4. `Binary`: NUL bytes above 1/256 of the head, or other control bytes (all below 0x20
//!    except TAB, LF, VT, FF, CR, ESC of colour codes and RS of json-seq) above 1/32.
//! 5. `PortRange`: the whole content is two integers (<= 65535) separated by whitespace.
//! 6. JSON lines (the first non-blank line starts with `{` after spaces / RS 0x1E): of the
//!    first 20 object lines, a majority with a journald metadata key (`"__CURSOR"`,
//!    `"__REALTIME_TIMESTAMP"`, `"_BOOT_ID"`, compact or the old `"key" : ` spacing) is
//!    `JournaldJson`; a majority with `"log":`, `"stream":` and `"time":` is `DockerJson`;
//!    any other JSON is `Plain` (its payload is decided per record). Multi-line
//!    `json-pretty` output is `Plain`: it is not one object per line.
//! 7. Socket captures, from the first 20 non-empty lines: a header in the first 3 lines
//!    decides (`Active Internet connections` / `Proto ... Recv-Q`: `Netstat`; `State`/`Netid`
//!    ... `Recv-Q` or `Recv-Q Send-Q ...`: `Ss`; `sl ... local_address`: `ProcNetTcp`;
//!    `Total:` then a `TCP:` line: `SsSummary`), else a majority of rows of one shape
//!    (netstat `tcp|tcp6|tcp4|udp..` + two numbers; ss state name + two numbers, optionally
//!    after a netid, or `-H` `state` rows `N N addr:port addr:port`; proc
//!    `N: HEX:HEX HEX:HEX HH`).
//! 8. `Syslog`: a strict majority of the first 20 record lines (not blank, not a `-- ... --`
//!    separator, not an indented continuation) parse with [`parse_syslog_line`], whose host
//!    and identifier rules keep cloudflared, gunicorn, nginx error and Go log lines out.
//! 9. Everything else: `Plain`.
//!
//! # Payload rules
//! [`detect_payload`] dispatches on the first byte so each record pays for the few checks
//! that can apply: `{` JSON keys (memmem, also in the escaped form a docker `log` value has);
//! `[` gunicorn / printk / `dmesg -T` / Rails request-id tag; digit-led nginx error, Go log,
//! cloudflared console, ancient gunicorn; npmlog and Rails `Logger::Formatter` prefixes;
//! then the CLF family (Traefik tail first, else nginx/apache), systemd lifecycle phrases,
//! kernel OOM phrases and logfmt. Details at each check.
//!
//! ```
//! use coroner_parse::detect::{detect_envelope, detect_payload, parse_syslog_line};
//! use coroner_parse::format::{Envelope, Payload};
//! use coroner_parse::timestamp::{TimeContext, YearHint};
//!
//! let head = b"Mar 13 15:23:01 pi4 kernel: Booting Linux\n\
//!              Mar 13 15:23:02 pi4 systemd[1]: Started Journal Service.\n";
//! assert_eq!(detect_envelope(head), Envelope::Syslog);
//!
//! let ctx = TimeContext { offset_secs: 0, year: YearHint::FirstRecord { year: 2021, first_month: 3 } };
//! let line = parse_syslog_line(b"Mar 13 15:23:02 pi4 systemd[1]: Started Journal Service.", &ctx).unwrap();
//! assert_eq!((line.host, line.ident, line.pid), (&b"pi4"[..], &b"systemd"[..], Some(1)));
//! assert_eq!(detect_payload(line.message), Payload::Systemd);
//!
//! let access = br#"192.0.2.1 - - [13/Mar/2021:15:23:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0""#;
//! assert_eq!(detect_payload(access), Payload::NginxAccess);
//! ```

use crate::format::{Envelope, Payload};
use crate::literal::Literal;
use crate::timestamp::{
    Micros, TimeContext, is_journal_separator, parse_clf, parse_ctime_bracket, parse_rfc3339,
    parse_short_full, parse_short_unix, parse_slash_datetime, parse_syslog, trim_end,
};
use memchr::{memchr, memchr_iter, memmem, memrchr};

/// How many lines of the head the per-line votes look at.
const VOTE_LINES: usize = 20;

// =============================================================================================
// Syslog / journalctl short* lines

/// A journalctl short*/rsyslog line split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    /// The record time; `None` for `short-monotonic` (`[    4.050458]`, time since boot).
    pub ts: Option<Micros>,
    /// Empty when journalctl ran with `--no-hostname`.
    pub host: &'a [u8],
    pub ident: &'a [u8],
    pub pid: Option<u32>,
    pub message: &'a [u8],
}

/// The longest identifier accepted: journald's are short (`_COMM` is cut at 15 bytes,
/// `SYSLOG_IDENTIFIER`s seen in the wild stay well under 64); a longer "identifier" means the
/// `: ` found was inside a message.
const IDENT_MAX: usize = 128;

/// Level words that loggers print where syslog has its host: a line with one of them there is
/// an application log line with its own timestamp (cloudflared/zerolog console, ...).
const LEVEL_WORDS: &[&[u8]] = &[
    b"TRC",
    b"DBG",
    b"INF",
    b"WRN",
    b"ERR",
    b"FTL",
    b"PNC",
    b"???",
    b"TRACE",
    b"DEBUG",
    b"INFO",
    b"WARN",
    b"WARNING",
    b"ERROR",
    b"FATAL",
    b"PANIC",
    b"CRITICAL",
    b"NOTICE",
];

/// A host token: a hostname, FQDN, IPv4 or IPv6 address (ASCII letters, digits, `.-_:%`,
/// or UTF-8 bytes), not a level word.
fn is_host(tok: &[u8]) -> bool {
    !tok.is_empty()
        && tok.len() <= 255
        && tok[0] != b'-'
        && tok.iter().all(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'%') || c >= 0x80
        })
        && !LEVEL_WORDS.contains(&tok)
}

/// The time at the start of a journalctl/rsyslog line: (time, bytes consumed).
fn syslog_line_time(line: &[u8], ctx: &TimeContext) -> Option<(Option<Micros>, usize)> {
    match line.first()? {
        b'0'..=b'9' => {
            if line.get(4) == Some(&b'-') {
                // short-iso(-precise) and rsyslog RFC 3339 always have the `T`; a space there
                // is some application's own `YYYY-MM-DD HH:MM:SS` (old gunicorn, Python).
                if line.get(10) != Some(&b'T') {
                    return None;
                }
                parse_rfc3339(line, ctx.offset_secs).map(|(t, n)| (Some(t), n))
            } else {
                parse_short_unix(line).map(|(t, n)| (Some(t), n))
            }
        }
        b'[' => {
            // short-monotonic: `[    4.050458]`, seconds since boot, no wall time.
            let close = memchr(b']', &line[..line.len().min(24)])?;
            let inner = trim_start(&line[1..close]);
            let dot = memchr(b'.', inner)?;
            let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
            (digits(&inner[..dot]) && digits(&inner[dot + 1..])).then_some((None, close + 1))
        }
        _ => parse_syslog(line, ctx)
            .or_else(|| parse_short_full(line, ctx.offset_secs))
            .map(|(t, n)| (Some(t), n)),
    }
}

/// Parse `<time> <host> <ident>[<pid>]: <message>` where `<time>` is any of: short/short-precise
/// (parse_syslog), short-iso / short-iso-precise (parse_rfc3339; offsets +0200/+02:00),
/// short-full, short-unix. `[pid]` may be absent (`kernel: ...`). The identifier may contain
/// spaces, `[` or `]` (e.g. `gdm-password]`). Returns None for lines that are not of this
/// shape (including `-- Boot ... --`).
///
/// The rule, chosen for robustness against application lines that merely start with a time:
/// * the time is followed by exactly one space, then the host token (up to the next space),
///   which must look like a host name or address and must not be a level word (`ERR`,
///   `INFO`, ...). A first token of the shape `ident[pid]:` means `--no-hostname` (host
///   empty); without a `[pid]` that case is not accepted, it would take any `word: text`;
/// * the identifier is everything from there up to the FIRST `:` followed by a space or the
///   end of the line. First, not last: messages are free text full of `: ` and `[n]:`,
///   identifiers practically never contain `: `;
/// * if that part ends in `[digits]` (the LAST `[`), the digits are the pid and the
///   identifier is what comes before, so `gdm-password][587]:` gives `gdm-password]`, 587;
/// * the identifier must be 1..=128 bytes, not start with a space or `[` (`[INFO] ...` of
///   an application, or a bare `[pid]`) and contain no `"` or `=` (those mean the `: ` was
///   inside `key="value"` text of an application line);
/// * the message is what follows `: ` (empty when the line ends at the `:`); a trailing `\r`
///   is dropped.
///
/// Also reads `short-monotonic` (`[    4.050458] host ...`, `ts` None).
pub fn parse_syslog_line<'a>(line: &'a [u8], ctx: &TimeContext) -> Option<SyslogLine<'a>> {
    let line = match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    };
    let (ts, n) = syslog_line_time(line, ctx)?;
    let rest = line.get(n..)?;
    let [b' ', rest @ ..] = rest else {
        return None;
    };
    let tok_end = memchr(b' ', rest).unwrap_or(rest.len());
    let tok = &rest[..tok_end];
    let (host, rest) = if tok.ends_with(b":") && tok.len() > 1 {
        // `--no-hostname`: only with a pid, see above.
        let body = &tok[..tok.len() - 1];
        split_pid(body)?;
        (&b""[..], rest)
    } else {
        if !is_host(tok) {
            return None;
        }
        (tok, rest.get(tok_end + 1..)?)
    };
    // The identifier ends at the first `:` followed by a space or the end of the line.
    let window = &rest[..rest.len().min(IDENT_MAX + 16)];
    let colon =
        memchr_iter(b':', window).find(|&i| matches!(rest.get(i + 1), None | Some(b' ')))?;
    let tag = &rest[..colon];
    let message = rest.get(colon + 2..).unwrap_or(&[]);
    let (ident, pid) = split_pid(tag).unwrap_or((tag, None));
    if ident.is_empty()
        || ident.len() > IDENT_MAX
        || matches!(ident[0], b' ' | b'[')
        || memchr(b'"', ident).is_some()
        || memchr(b'=', ident).is_some()
    {
        return None;
    }
    Some(SyslogLine {
        ts,
        host,
        ident,
        pid,
        message,
    })
}

/// `ident[digits]` -> (ident, Some(pid)); None when `tag` does not end that way.
fn split_pid(tag: &[u8]) -> Option<(&[u8], Option<u32>)> {
    let [body @ .., b']'] = tag else {
        return None;
    };
    let open = memrchr(b'[', body)?;
    let digits = &body[open + 1..];
    if digits.is_empty() || digits.len() > 10 {
        return None;
    }
    let mut pid: u32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        pid = pid.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    let ident = &body[..open];
    (!ident.is_empty()).then_some((ident, Some(pid)))
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

// =============================================================================================
// journald export framing

/// journald export entry framing helper: true if `line` (without its `\n`) is a valid export
/// field name optionally followed by `=`: `[A-Z0-9_]+` (leading `_` allowed, `__` metadata).
///
/// Also systemd's own limits (`journal_field_valid`): at most 64 bytes and no leading digit,
/// so a stray text line can hardly pass for a binary field's name.
pub fn is_export_field_name(name: &[u8]) -> bool {
    let name = match name {
        [n @ .., b'='] => n,
        _ => name,
    };
    !name.is_empty()
        && name.len() <= 64
        && !name[0].is_ascii_digit()
        && name
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// Fields every journalctl export has (one of them in any entry), to tell an export from
/// other `NAME=value` text.
fn is_known_journal_field(name: &[u8]) -> bool {
    matches!(
        name,
        b"__CURSOR"
            | b"__REALTIME_TIMESTAMP"
            | b"__MONOTONIC_TIMESTAMP"
            | b"__SEQNUM"
            | b"_BOOT_ID"
            | b"MESSAGE"
            | b"PRIORITY"
            | b"SYSLOG_IDENTIFIER"
            | b"SYSLOG_FACILITY"
            | b"_TRANSPORT"
            | b"_PID"
            | b"_COMM"
            | b"_HOSTNAME"
            | b"_SYSTEMD_UNIT"
            | b"_SOURCE_REALTIME_TIMESTAMP"
    )
}

/// See rule 3 of the module doc.
fn looks_like_export(head: &[u8]) -> bool {
    let mut pos = head.iter().take_while(|&&c| c == b'\n').count();
    if head[pos..].starts_with(b"__CURSOR=") {
        return true;
    }
    let mut fields = 0usize;
    let mut known = false;
    let mut reached_end = false;
    while fields < 64 {
        let Some(rest) = head.get(pos..).filter(|r| !r.is_empty()) else {
            reached_end = true;
            break;
        };
        let line_end = memchr(b'\n', rest).map(|i| pos + i);
        let line = &head[pos..line_end.unwrap_or(head.len())];
        if line.is_empty() {
            // The blank line between entries.
            pos += 1;
            continue;
        }
        let name = match memchr(b'=', line) {
            Some(eq) => &line[..eq],
            None => line,
        };
        if !is_export_field_name(name) {
            break;
        }
        known |= is_known_journal_field(name);
        fields += 1;
        let Some(end) = line_end else {
            reached_end = true; // the head was cut in this field
            break;
        };
        if name.len() < line.len() {
            pos = end + 1; // text field
            continue;
        }
        // Binary field: 8-byte little-endian length, the value, `\n`.
        let Some(len_bytes) = head.get(end + 1..end + 9) else {
            reached_end = true;
            break;
        };
        let mut le = [0u8; 8];
        le.copy_from_slice(len_bytes);
        let len = u64::from_le_bytes(le);
        // A real value is far below 4 GiB; a text line misread as a length is not.
        if len > u64::from(u32::MAX) {
            fields -= 1;
            break;
        }
        let value_end = (end + 9).saturating_add(len as usize);
        match head.get(value_end) {
            Some(b'\n') => pos = value_end + 1,
            Some(_) => {
                fields -= 1;
                break;
            }
            None => {
                reached_end = true;
                break;
            }
        }
    }
    known && (fields >= 3 || (reached_end && fields >= 1))
}

// =============================================================================================
// Envelope

/// Lines of `head` without `\n` and trailing whitespace (`\r`), the empty ones skipped.
fn nonempty_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&c| c == b'\n')
        .map(trim_end)
        .filter(|l| !l.is_empty())
}

/// Whitespace-separated tokens of a line.
fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
}

fn is_number(tok: &[u8]) -> bool {
    !tok.is_empty() && tok.len() <= 20 && tok.iter().all(u8::is_ascii_digit)
}

fn is_hex(tok: &[u8]) -> bool {
    !tok.is_empty() && tok.iter().all(u8::is_ascii_hexdigit)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memmem::find(hay, needle).is_some()
}

/// See rule 4 of the module doc.
fn is_binary(head: &[u8]) -> bool {
    let (mut nul, mut ctrl) = (0usize, 0usize);
    for &c in head {
        if c == 0 {
            nul += 1;
        } else if c < 0x20 && !matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0x1B | 0x1E) {
            ctrl += 1;
        }
    }
    nul * 256 > head.len() || ctrl * 32 > head.len()
}

/// See rule 5 of the module doc.
fn is_port_range(head: &[u8]) -> bool {
    if head.len() > 64 {
        return false;
    }
    let mut toks = tokens(head);
    let ok = |t: Option<&[u8]>| {
        t.is_some_and(|t| {
            t.len() <= 5
                && is_number(t)
                && t.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')) <= 65_535
        })
    };
    ok(toks.next()) && ok(toks.next()) && toks.next().is_none()
}

/// A JSON key `"name"` followed by optional spaces and `:`.
fn has_json_key(line: &[u8], quoted_key: &[u8]) -> bool {
    let mut from = 0;
    while let Some(rel) = line.get(from..).and_then(|h| memmem::find(h, quoted_key)) {
        let after = from + rel + quoted_key.len();
        let rest = trim_start(&line[after..]);
        if rest.first() == Some(&b':') {
            return true;
        }
        from = after;
    }
    false
}

/// See rule 6 of the module doc.
fn json_envelope(head: &[u8]) -> Envelope {
    let (mut objects, mut journald, mut docker) = (0usize, 0usize, 0usize);
    for line in nonempty_lines(head).take(VOTE_LINES) {
        let line = trim_json_start(line);
        if line.first() != Some(&b'{') {
            continue;
        }
        objects += 1;
        if has_json_key(line, b"\"__CURSOR\"")
            || has_json_key(line, b"\"__REALTIME_TIMESTAMP\"")
            || has_json_key(line, b"\"_BOOT_ID\"")
        {
            journald += 1;
        } else if has_json_key(line, b"\"log\"")
            && has_json_key(line, b"\"stream\"")
            && has_json_key(line, b"\"time\"")
        {
            docker += 1;
        }
    }
    if journald * 2 > objects {
        Envelope::JournaldJson
    } else if docker * 2 > objects {
        Envelope::DockerJson
    } else {
        Envelope::Plain
    }
}

/// Leading spaces and RS (0x1E, RFC 7464 json-seq) before a JSON text.
fn trim_json_start(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | 0x1E, rest @ ..] = s {
        s = rest;
    }
    s
}

const SS_STATES: &[&[u8]] = &[
    b"ESTAB",
    b"TIME-WAIT",
    b"LISTEN",
    b"SYN-SENT",
    b"SYN-RECV",
    b"FIN-WAIT-1",
    b"FIN-WAIT-2",
    b"CLOSE-WAIT",
    b"LAST-ACK",
    b"CLOSING",
    b"UNCONN",
    b"CLOSED",
];

const NETSTAT_PROTOS: &[&[u8]] = &[
    b"tcp", b"tcp6", b"tcp4", b"tcp46", b"udp", b"udp6", b"udp4", b"udp46", b"raw", b"raw6",
];

/// `tcp  0  0 ...`: a netstat row.
fn is_netstat_row(line: &[u8]) -> bool {
    let mut t = tokens(line);
    t.next().is_some_and(|p| NETSTAT_PROTOS.contains(&p))
        && t.next().is_some_and(is_number)
        && t.next().is_some_and(is_number)
        && t.next().is_some()
}

/// `ESTAB 0 0 ...` (optionally after a netid such as `tcp`), or the state-less rows of
/// `ss -H state X`: `0 0 addr:port addr:port`.
fn is_ss_row(line: &[u8]) -> bool {
    let mut t = tokens(line);
    let Some(first) = t.next() else {
        return false;
    };
    if is_number(first) {
        return t.next().is_some_and(is_number)
            && t.next().is_some_and(|a| memchr(b':', a).is_some())
            && t.next().is_some_and(|a| memchr(b':', a).is_some());
    }
    let state = if SS_STATES.contains(&first) {
        Some(first)
    } else {
        t.next()
    };
    state.is_some_and(|s| SS_STATES.contains(&s))
        && t.next().is_some_and(is_number)
        && t.next().is_some_and(is_number)
}

/// `   1: 0100007F:18EB 00000000:0000 0A ...`: a /proc/net/tcp[6] row.
fn is_proc_net_row(line: &[u8]) -> bool {
    let addr = |a: &[u8]| {
        a.len() > 5
            && a[a.len() - 5] == b':'
            && is_hex(&a[a.len() - 4..])
            && matches!(a.len() - 5, 8 | 32)
            && is_hex(&a[..a.len() - 5])
    };
    let mut t = tokens(line);
    t.next()
        .is_some_and(|sl| sl.len() >= 2 && sl.ends_with(b":") && is_number(&sl[..sl.len() - 1]))
        && t.next().is_some_and(addr)
        && t.next().is_some_and(addr)
        && t.next().is_some_and(|st| st.len() == 2 && is_hex(st))
}

/// See rule 7 of the module doc.
fn capture_envelope(head: &[u8]) -> Option<Envelope> {
    let mut lines = nonempty_lines(head);
    let first = lines.next()?;
    if first.starts_with(b"Active Internet connections")
        || first.starts_with(b"Active UNIX domain sockets")
    {
        return Some(Envelope::Netstat);
    }
    if first.starts_with(b"Total:")
        && nonempty_lines(head)
            .take(VOTE_LINES)
            .any(|l| l.starts_with(b"TCP:"))
    {
        return Some(Envelope::SsSummary);
    }
    for line in nonempty_lines(head).take(3) {
        let has_q = contains(line, b"Recv-Q");
        if line.starts_with(b"Proto") && has_q {
            return Some(Envelope::Netstat);
        }
        if ((line.starts_with(b"State") || line.starts_with(b"Netid")) && has_q)
            || (line.starts_with(b"Recv-Q") && contains(line, b"Send-Q"))
        {
            return Some(Envelope::Ss);
        }
        if trim_start(line).starts_with(b"sl ") && contains(line, b"local_address") {
            return Some(Envelope::ProcNetTcp);
        }
    }
    let (mut n, mut netstat, mut ss, mut proc_net) = (0usize, 0usize, 0usize, 0usize);
    for line in nonempty_lines(head).take(VOTE_LINES) {
        n += 1;
        if is_netstat_row(line) {
            netstat += 1;
        } else if is_ss_row(line) {
            ss += 1;
        } else if is_proc_net_row(line) {
            proc_net += 1;
        }
    }
    [
        (netstat, Envelope::Netstat),
        (ss, Envelope::Ss),
        (proc_net, Envelope::ProcNetTcp),
    ]
    .into_iter()
    .find(|&(k, _)| k * 2 > n)
    .map(|(_, e)| e)
}

/// See rule 8 of the module doc.
fn is_syslog(head: &[u8]) -> bool {
    let ctx = TimeContext {
        offset_secs: 0,
        year: crate::timestamp::YearHint::EndsAt {
            year: 2000,
            month: 12,
        },
    };
    let (mut n, mut ok) = (0usize, 0usize);
    let records = nonempty_lines(head)
        .filter(|l| !is_journal_separator(l) && !matches!(l[0], b' ' | b'\t'))
        .take(VOTE_LINES);
    for line in records {
        n += 1;
        ok += usize::from(parse_syslog_line(line, &ctx).is_some());
    }
    ok * 2 > n
}

/// The envelope of a source from its first KiBs (`head`, up to 64 KiB of DECOMPRESSED bytes,
/// may end mid-line, may be empty). Must never panic and must be fast (it runs once per source).
///
/// The rules and their order are in the module doc.
pub fn detect_envelope(head: &[u8]) -> Envelope {
    // A UTF-8 byte order mark (editors on Windows) says nothing about the shape.
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.is_empty() {
        return Envelope::Plain;
    }
    if head.starts_with(b"LPKSHHRH") {
        return Envelope::JournaldFile;
    }
    if looks_like_export(head) {
        return Envelope::JournaldExport;
    }
    if is_binary(head) {
        return Envelope::Binary;
    }
    if is_port_range(head) {
        return Envelope::PortRange;
    }
    let first = nonempty_lines(head)
        .next()
        .map(trim_json_start)
        .unwrap_or_default();
    if first.first() == Some(&b'{') {
        return json_envelope(head);
    }
    if let Some(e) = capture_envelope(head) {
        return e;
    }
    if is_syslog(head) {
        return Envelope::Syslog;
    }
    Envelope::Plain
}

// =============================================================================================
// Payload

// Substrings of the per-record checks, searchers built once (see `literal`). The `_ESC`
// keys are the same as they appear inside a docker `log` value (JSON in a JSON string).
static DOWNSTREAM_STATUS: Literal = Literal::new(b"\"DownstreamStatus\":");
static ROUTER_NAME: Literal = Literal::new(b"\"RouterName\":");
static START_UTC: Literal = Literal::new(b"\"StartUTC\":");
static NAME_STREAMING: Literal = Literal::new(b"\"name\":\"streaming\"");
static LEVEL: Literal = Literal::new(b"\"level\":");
static MESSAGE: Literal = Literal::new(b"\"message\":");
static DOWNSTREAM_STATUS_ESC: Literal = Literal::new(b"\\\"DownstreamStatus\\\":");
static ROUTER_NAME_ESC: Literal = Literal::new(b"\\\"RouterName\\\":");
static START_UTC_ESC: Literal = Literal::new(b"\\\"StartUTC\\\":");
static NAME_STREAMING_ESC: Literal = Literal::new(b"\\\"name\\\":\\\"streaming\\\"");
static LEVEL_ESC: Literal = Literal::new(b"\\\"level\\\":");
static MESSAGE_ESC: Literal = Literal::new(b"\\\"message\\\":");
static OOM: Literal = Literal::new(b"oom");
static KILLED_PROCESS: Literal = Literal::new(b"Killed process ");
static OUT_OF_MEMORY: Literal = Literal::new(b"ut of memory");

/// `{`-led messages: Traefik JSON access log, Mastodon streaming (pino), cloudflared /
/// zerolog JSON. Other JSON is `Text`.
fn json_payload(m: &[u8]) -> Payload {
    let escaped = m.starts_with(b"{\\\"");
    let has = |plain: &Literal, esc: &Literal| {
        if escaped {
            esc.contains(m)
        } else {
            plain.contains(m)
        }
    };
    if has(&DOWNSTREAM_STATUS, &DOWNSTREAM_STATUS_ESC)
        || has(&ROUTER_NAME, &ROUTER_NAME_ESC)
        || has(&START_UTC, &START_UTC_ESC)
    {
        Payload::TraefikJson
    } else if has(&NAME_STREAMING, &NAME_STREAMING_ESC) {
        Payload::MastodonStreamingJson
    } else if has(&MESSAGE, &MESSAGE_ESC) && has(&LEVEL, &LEVEL_ESC) {
        // zerolog's key is `message` (logrus and pino write `msg`): cloudflared `--logfile`,
        // `--output json`, and zerolog apps of the same shape.
        Payload::CloudflaredJson
    } else {
        Payload::Text
    }
}

/// `[digits] [LEVEL] ` at the start (gunicorn after its time).
fn is_pid_level_tail(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"[") else {
        return false;
    };
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let Some(rest) = rest[digits..].strip_prefix(b"] [") else {
        return false;
    };
    let level = rest.iter().take_while(|c| c.is_ascii_uppercase()).count();
    level >= 4 && rest[level..].starts_with(b"] ")
}

/// A Rails request-id tag `[<uuid>] ` (36 hex digits and dashes): its length.
fn request_id_tag(b: &[u8]) -> Option<usize> {
    let inner = b.get(1..37)?;
    let ok = b[0] == b'['
        && inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b'-')
        && b.get(37..39) == Some(b"] ");
    ok.then_some(39)
}

/// `[`-led messages.
fn bracket_payload(m: &[u8]) -> Option<Payload> {
    let inner = &m[1..];
    match inner.first()? {
        b'0'..=b'9' => {
            // gunicorn: `[2024-07-05 09:13:44 +0200] [pid] [LEVEL] `.
            if let Some((_, n)) = parse_rfc3339(inner, 0) {
                let close = memchr(b']', inner.get(n..)?)? + n;
                return (close - n <= 6
                    && is_pid_level_tail(inner.get(close + 2..)?)
                    && inner.get(close + 1) == Some(&b' '))
                .then_some(Payload::Gunicorn);
            }
            if let Some(n) = request_id_tag(m) {
                return rails_after_tag(&m[n..]);
            }
            printk(inner)
        }
        b' ' => printk(inner),
        b'a'..=b'f' | b'A'..=b'F' => {
            if let Some(n) = request_id_tag(m) {
                return rails_after_tag(&m[n..]);
            }
            parse_ctime_bracket(m, 0).map(|_| Payload::Kernel)
        }
        _ => parse_ctime_bracket(m, 0).map(|_| Payload::Kernel),
    }
}

/// After a request-id tag: lograge's `method=` or Rack::Attack's `Rate limit hit (`.
fn rails_after_tag(rest: &[u8]) -> Option<Payload> {
    (rest.starts_with(b"method=") || rest.starts_with(b"Rate limit hit ("))
        .then_some(Payload::RailsLograge)
}

/// printk time after the `[`: `  518.050606] ` (seconds since boot, right-aligned).
fn printk(inner: &[u8]) -> Option<Payload> {
    let s = trim_start(inner);
    let int = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = s.get(int..)?.strip_prefix(b".")?;
    let frac = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    (int >= 1 && frac == 6 && rest.get(frac..frac + 2) == Some(b"] ")).then_some(Payload::Kernel)
}

const NGINX_LEVELS: &[&[u8]] = &[
    b"emerg", b"alert", b"crit", b"error", b"warn", b"notice", b"info", b"debug",
];

/// Digit-led messages with a time first: nginx error, Go log, cloudflared console, old
/// gunicorn.
fn digit_payload(m: &[u8]) -> Option<Payload> {
    match m.get(4)? {
        b'/' => {
            let (_, n) = parse_slash_datetime(m, 0)?;
            let rest = m.get(n..)?.strip_prefix(b" ")?;
            if rest.first() != Some(&b'[') {
                return Some(Payload::GoLog);
            }
            // `[level] PID#TID: `
            let close = memchr(b']', rest.get(..10)?)?;
            let pid = rest.get(close + 1..)?.strip_prefix(b" ")?;
            let a = pid.iter().take_while(|c| c.is_ascii_digit()).count();
            let tid = pid.get(a..)?.strip_prefix(b"#")?;
            let b = tid.iter().take_while(|c| c.is_ascii_digit()).count();
            (NGINX_LEVELS.contains(&&rest[1..close])
                && a > 0
                && b > 0
                && tid.get(b..b + 1) == Some(b":"))
            .then_some(Payload::NginxError)
        }
        b'-' => {
            let (_, n) = parse_rfc3339(m, 0)?;
            let rest = m.get(n..)?;
            if m.get(10) == Some(&b'T') {
                // zerolog console: ` LVL ` with LVL one of the 3-letter levels.
                let lvl = rest.get(1..4)?;
                let ok = rest[0] == b' '
                    && rest.get(4) == Some(&b' ')
                    && matches!(
                        lvl,
                        b"TRC" | b"DBG" | b"INF" | b"WRN" | b"ERR" | b"FTL" | b"PNC"
                    );
                ok.then_some(Payload::Cloudflared)
            } else {
                // gunicorn <= 0.17: `2010-07-28 23:01:19 [pid] [LEVEL] `.
                is_pid_level_tail(rest.strip_prefix(b" ")?).then_some(Payload::Gunicorn)
            }
        }
        _ => None,
    }
}

/// npmlog's level display at the start (Mastodon streaming <= 4.2).
fn is_npmlog(m: &[u8]) -> bool {
    matches!(
        m.get(..5),
        Some(b"sill " | b"verb " | b"info " | b"http " | b"WARN " | b"ERR! ")
    )
}

/// Ruby `Logger::Formatter`: `I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : `.
fn is_ruby_logger(m: &[u8]) -> bool {
    let (Some(&sev), Some(b", [")) = (m.first(), m.get(1..4)) else {
        return false;
    };
    if !matches!(sev, b'D' | b'I' | b'W' | b'E' | b'F' | b'A' | b'U') {
        return false;
    }
    let Some((_, n)) = parse_rfc3339(&m[4..], 0) else {
        return false;
    };
    m.get(4 + n..4 + n + 2) == Some(b" #")
}

/// Trailing whitespace and the literal `\n` / `\r` escapes a docker `log` value ends with.
fn trim_end_escaped(mut s: &[u8]) -> &[u8] {
    loop {
        s = trim_end(s);
        match s {
            [rest @ .., b'\\', b'n' | b'r'] => s = rest,
            _ => return s,
        }
    }
}

/// Traefik CLF's tail: ` <count> "router" "url" <n>ms` -- checked as `"` or `-`, space,
/// digits, `ms` at the end.
fn has_traefik_tail(m: &[u8]) -> bool {
    let Some(s) = trim_end_escaped(m).strip_suffix(b"ms") else {
        return false;
    };
    let digits = s.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let s = &s[..s.len() - digits];
    digits > 0 && matches!(s, [.., b'"' | b'-', b' '])
}

/// The CLF family: `<host> - <user> [<time>] "<request>" ...`. The host part may be an
/// XFF list, a vhost and an address, or quoted; the ident is always `-` (nginx and Traefik
/// print it literally), so a line missing ident/user does not match.
/// Traefik when the Traefik tail is there (its time may also be `[-]`), nginx/apache when
/// the request's closing quote is followed by a 3-digit status and a size.
fn clf_payload(m: &[u8]) -> Option<Payload> {
    let open = memchr(b'[', &m[..m.len().min(512)])?;
    // `<host> - <user> ` before the `[`.
    let before = m[..open].strip_suffix(b" ")?;
    let sp = memrchr(b' ', before)?;
    let pre = &before[..sp];
    if pre.len() < 3 || !pre.ends_with(b" -") {
        return None;
    }
    let after = &m[open + 1..];
    let (dated, close) = if after.starts_with(b"-]") {
        (false, open + 3)
    } else {
        parse_clf(after)?;
        if after.get(26) != Some(&b']') {
            return None;
        }
        (true, open + 28)
    };
    let rest = m.get(close..)?.strip_prefix(b" ")?;
    let request = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"\\\""))?;
    if has_traefik_tail(m) {
        return Some(Payload::TraefikClf);
    }
    if !dated {
        return None;
    }
    // The request's closing quote: the first `"` followed by ` ddd ` and a size.
    memchr_iter(b'"', request)
        .any(|q| {
            let t = &request[q + 1..];
            t.len() >= 6
                && t[0] == b' '
                && t[1..4].iter().all(u8::is_ascii_digit)
                && t[4] == b' '
                && (t[5].is_ascii_digit() || t[5] == b'-')
        })
        .then_some(Payload::NginxAccess)
}

/// Unit name suffixes of systemd (`<unit>: ` prefixes its unit-scoped messages).
const UNIT_SUFFIXES: &[&[u8]] = &[
    b".service",
    b".scope",
    b".socket",
    b".timer",
    b".mount",
    b".slice",
    b".target",
    b".path",
    b".device",
    b".swap",
    b".automount",
];

/// PID 1 / user manager messages after `<unit>: ` (src/core/service.c, unit.c).
const UNIT_MESSAGES: &[&[u8]] = &[
    b"Main process exited, code=",
    b"Control process exited, code=",
    b"Scheduled restart job",
    b"Failed with result '",
    b"A process of this unit has been killed by the OOM killer",
    b"Deactivated successfully",
    b"Succeeded.",
    b"Unit entered failed state",
    b"Start request repeated too quickly",
    b"Service hold-off time over",
    b"Killing process ",
    b"State '",
    b"systemd-oomd killed ",
];

/// Manager messages without a unit prefix (`Started mastodon-web.service - mastodon-web.`).
/// `Listening on ` is left out on purpose: applications print it too.
const MANAGER_MESSAGES: &[&[u8]] = &[
    b"Started ",
    b"Starting ",
    b"Stopped ",
    b"Stopping ",
    b"Failed to start ",
    b"Reached target ",
    b"Created slice ",
    b"Removed slice ",
    b"Mounting ",
    b"Mounted ",
    b"Unmounting ",
    b"Unmounted ",
    b"Startup finished in ",
    b"Condition check resulted in ",
];

/// systemd service lifecycle lines (formats.md §7.3).
fn is_systemd(m: &[u8]) -> bool {
    if MANAGER_MESSAGES.iter().any(|p| m.starts_with(p)) {
        return true;
    }
    let window = &m[..m.len().min(256)];
    static COLON_SPACE: Literal = Literal::new(b": ");
    let Some(c) = COLON_SPACE.find(window) else {
        return false;
    };
    let unit = &m[..c];
    if memchr(b' ', unit).is_some() || !UNIT_SUFFIXES.iter().any(|s| unit.ends_with(s)) {
        return false;
    }
    let rest = &m[c + 2..];
    UNIT_MESSAGES.iter().any(|p| rest.starts_with(p))
        || (rest.starts_with(b"Consumed ") && contains(rest, b" CPU time"))
}

/// Longest message the kernel phrase search looks at: OOM lines are at most a few hundred
/// bytes (the `oom-kill:` summary with two cgroup paths the longest), and bounding it keeps
/// long free-text records cheap.
const KERNEL_SCAN_MAX: usize = 2048;

/// Kernel OOM killer lines (formats.md §7.2).
fn is_kernel_phrase(m: &[u8]) -> bool {
    if m.len() > KERNEL_SCAN_MAX {
        return false;
    }
    // One pass finds any `oom`; the specific phrases are checked only around a hit.
    for at in OOM.find_iter(m) {
        let from = &m[at..];
        if from.starts_with(b"oom-killer") && m[..at].ends_with(b"invoked ")
            || from.starts_with(b"oom-kill:constraint=")
            || from.starts_with(b"oom_reaper: reaped process")
        {
            return true;
        }
    }
    if KILLED_PROCESS.contains(m) {
        return true;
    }
    // `Out of memory: Kill(ed) process`, `Memory cgroup out of memory: ...`,
    // `Out of memory and no killable processes`.
    OUT_OF_MEMORY.find_iter(m).any(|at| {
        let after = &m[at + b"ut of memory".len()..];
        at >= 1
            && matches!(m[at - 1], b'O' | b'o')
            && (after.starts_with(b": ") || after.starts_with(b" and no killable"))
    })
}

/// logfmt: the first three tokens are `key=value` (value bare or `"quoted"`).
fn is_logfmt(m: &[u8]) -> bool {
    let mut i = 0;
    for pair in 0..3 {
        // Key: a letter or `_`, then letters, digits, `_ . -`.
        match m.get(i) {
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {}
            _ => return false,
        }
        while m
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        {
            i += 1;
        }
        if m.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        // Value.
        if m.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match m.get(i) {
                    None => return false,
                    Some(b'\\') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        } else {
            while m.get(i).is_some_and(|&c| c != b' ') {
                i += 1;
            }
        }
        if pair == 2 {
            return matches!(m.get(i), None | Some(b' '));
        }
        if m.get(i) != Some(&b' ') {
            return false;
        }
        while m.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    false
}

/// The payload of one record's message (a plain line, a journald MESSAGE, a syslog message,
/// a docker `log` value as raw escaped bytes). Called once per record on the hot path: cheap
/// prefix/shape checks, no allocation, no full parse. Unknown -> Payload::Text.
pub fn detect_payload(message: &[u8]) -> Payload {
    leading_payload(message).unwrap_or_else(|| later_payload(message))
}

/// The shapes decided by how the message starts (JSON, a bracket, a date, npmlog, Ruby's
/// Logger); `None` when the start decides nothing and [`detect_payload`] goes on to the
/// CLF family and the rest. Split out so [`PayloadParser`](crate::payload::PayloadParser)
/// can parse an access line once instead of detecting and then parsing it.
pub fn leading_payload(m: &[u8]) -> Option<Payload> {
    let Some(&first) = m.first() else {
        return Some(Payload::Text);
    };
    match first {
        b'{' => Some(json_payload(m)),
        b'[' => bracket_payload(m),
        b'0'..=b'9' => digit_payload(m),
        _ if is_npmlog(m) => Some(Payload::MastodonStreaming),
        _ if is_ruby_logger(m) => Some(Payload::RailsLograge),
        _ => None,
    }
}

/// [`detect_payload`] after [`leading_payload`] decided nothing.
pub fn later_payload(m: &[u8]) -> Payload {
    if let Some(p) = clf_payload(m) {
        return p;
    }
    if is_systemd(m) {
        return Payload::Systemd;
    }
    if is_kernel_phrase(m) {
        return Payload::Kernel;
    }
    if is_logfmt(m) {
        return Payload::Logfmt;
    }
    Payload::Text
}

/// Whether [`later_payload`] would call `m` an nginx/apache access line, given that
/// [`clf::parse`](crate::formats::clf::parse) read it as `r`: each test of `clf_payload`
/// is one the parse already passed or one read off the record (the `[` within the first 512
/// bytes, ident `-`, a parsed time, a 3-digit status and a size starting with a digit or `-`,
/// no Traefik tail). `false` means "not shown", and the caller runs the detection.
pub fn confirms_access(m: &[u8], r: &crate::formats::clf::AccessRecord<'_>) -> bool {
    confirms_clf_head(m, r)
        && r.time.is_some()
        && r.status_raw.len() == 3
        && r.status_raw.iter().all(u8::is_ascii_digit)
        && matches!(r.size_raw.first(), Some(b'0'..=b'9' | b'-'))
        && !has_traefik_tail(m)
}

/// [`confirms_access`] for a Traefik line read by
/// [`clf::parse_traefik`](crate::formats::clf::parse_traefik): the shared head tests, a
/// parsed time or Traefik's `[-]`, and detection's own Traefik tail test.
pub fn confirms_traefik(m: &[u8], r: &crate::formats::clf::TraefikRecord<'_>) -> bool {
    confirms_clf_head(m, &r.clf)
        && (r.clf.time.is_some() || r.clf.time_raw == b"-")
        && has_traefik_tail(m)
}

/// The tests of `clf_payload` before the time that a successful CLF parse does not imply:
/// the `[` within the first 512 bytes and the ident `-`.
fn confirms_clf_head(m: &[u8], r: &crate::formats::clf::AccessRecord<'_>) -> bool {
    // `time_raw` points into `m` just after the `[`.
    let open = (r.time_raw.as_ptr() as usize).wrapping_sub(m.as_ptr() as usize + 1);
    open < 512 && r.ident == b"-"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::{YearHint, parse_rfc3339};

    const CTX: TimeContext = TimeContext {
        offset_secs: 0,
        year: YearHint::FirstRecord {
            year: 2021,
            first_month: 3,
        },
    };

    fn t(iso: &str) -> Option<Micros> {
        Some(parse_rfc3339(iso.as_bytes(), 0).unwrap().0)
    }

    fn line(s: &str) -> Option<SyslogLine<'_>> {
        parse_syslog_line(s.as_bytes(), &CTX)
    }

    #[test]
    fn syslog_line_time_forms() {
        fn want<'a>(
            ts: Option<Micros>,
            host: &'a str,
            ident: &'a str,
            pid: Option<u32>,
            msg: &'a str,
        ) -> SyslogLine<'a> {
            SyslogLine {
                ts,
                host: host.as_bytes(),
                ident: ident.as_bytes(),
                pid,
                message: msg.as_bytes(),
            }
        }
        let cases: Vec<(&str, SyslogLine<'_>)> = vec![
            (
                "Mar 13 15:23:02 pi4 NetworkManager[225]: <info>  [1615648982.1889] starting",
                want(
                    t("2021-03-13T15:23:02Z"),
                    "pi4",
                    "NetworkManager",
                    Some(225),
                    "<info>  [1615648982.1889] starting",
                ),
            ),
            (
                "Mar 13 15:23:01.521316 pi4 kernel: uvcvideo: Found UVC 1.00 device",
                want(
                    t("2021-03-13T15:23:01.521316Z"),
                    "pi4",
                    "kernel",
                    None,
                    "uvcvideo: Found UVC 1.00 device",
                ),
            ),
            (
                "Apr  6 07:20:21 host-a cloudflared[477]: 2021-04-06T07:20:21Z INF Retrying connIndex=0",
                want(
                    t("2021-04-06T07:20:21Z"),
                    "host-a",
                    "cloudflared",
                    Some(477),
                    "2021-04-06T07:20:21Z INF Retrying connIndex=0",
                ),
            ),
            (
                "2021-03-13T15:23:01.592206+0000 pi4 kernel[206]: klogd started",
                want(
                    t("2021-03-13T15:23:01.592206Z"),
                    "pi4",
                    "kernel",
                    Some(206),
                    "klogd started",
                ),
            ),
            (
                "2023-09-08T17:20:30+02:00 fanbox r710_fan.sh[20911]: Highest drive temperature: 43",
                want(
                    t("2023-09-08T15:20:30Z"),
                    "fanbox",
                    "r710_fan.sh",
                    Some(20911),
                    "Highest drive temperature: 43",
                ),
            ),
            (
                "2023-09-08T17:20:30.655028+0200 fanbox fan[1]: x",
                want(
                    t("2023-09-08T15:20:30.655028Z"),
                    "fanbox",
                    "fan",
                    Some(1),
                    "x",
                ),
            ),
            (
                "Fri 2020-02-07 15:50:54 UTC pi4 systemd-timesyncd[190]: System clock time unset",
                want(
                    t("2020-02-07T15:50:54Z"),
                    "pi4",
                    "systemd-timesyncd",
                    Some(190),
                    "System clock time unset",
                ),
            ),
            (
                "1581090654.326448 pi4 systemd-timesyncd[190]: x",
                want(
                    t("2020-02-07T15:50:54.326448Z"),
                    "pi4",
                    "systemd-timesyncd",
                    Some(190),
                    "x",
                ),
            ),
            (
                "[    4.050458] pi4 kernel: Booting",
                want(None, "pi4", "kernel", None, "Booting"),
            ),
            ("[4.0] h k:", want(None, "h", "k", None, "")),
            (
                "juil. 12 12:27:04 mastohost bundle[106414]: [569e7499-4808-4171-b48e-19d7a4c01a10] method=GET",
                want(
                    t("2021-07-12T12:27:04Z"),
                    "mastohost",
                    "bundle",
                    Some(106_414),
                    "[569e7499-4808-4171-b48e-19d7a4c01a10] method=GET",
                ),
            ),
            // Identifiers with `]`, spaces and brackets; empty messages; CRLF.
            (
                "Mar 13 15:23:02 pi4 gdm-password][587]: AccountsService-DEBUG(+): ActUserManager: x",
                want(
                    t("2021-03-13T15:23:02Z"),
                    "pi4",
                    "gdm-password]",
                    Some(587),
                    "AccountsService-DEBUG(+): ActUserManager: x",
                ),
            ),
            (
                "Mar 13 15:23:02 pi4 gdm-password]: x",
                want(t("2021-03-13T15:23:02Z"), "pi4", "gdm-password]", None, "x"),
            ),
            (
                "Mar 13 15:23:02 pi4 gdm-session-worker [pam/gdm-password][587]: opened",
                want(
                    t("2021-03-13T15:23:02Z"),
                    "pi4",
                    "gdm-session-worker [pam/gdm-password]",
                    Some(587),
                    "opened",
                ),
            ),
            (
                "Mar 13 15:23:02 pi4 (sd-pam)[3]:",
                want(t("2021-03-13T15:23:02Z"), "pi4", "(sd-pam)", Some(3), ""),
            ),
            (
                "Mar 13 15:23:02 pi4 app[3]: \r",
                want(t("2021-03-13T15:23:02Z"), "pi4", "app", Some(3), ""),
            ),
            // The first `: ` ends the identifier even when the message has `[n]: ` later.
            (
                "Mar 13 15:23:02 pi4 kernel: foo[12]: bar",
                want(
                    t("2021-03-13T15:23:02Z"),
                    "pi4",
                    "kernel",
                    None,
                    "foo[12]: bar",
                ),
            ),
            (
                "Nov  3 09:47:02 devbox sudo: tim : TTY=pts/6 ; PWD=/x ; USER=root ; COMMAND=/usr/bin/tail",
                want(
                    t("2021-11-03T09:47:02Z"),
                    "devbox",
                    "sudo",
                    None,
                    "tim : TTY=pts/6 ; PWD=/x ; USER=root ; COMMAND=/usr/bin/tail",
                ),
            ),
            // An IPv6 host, a pid too large for u32 (kept in the identifier).
            (
                "Mar 13 15:23:02 2001:db8::1 app[99999999999]: x",
                want(
                    t("2021-03-13T15:23:02Z"),
                    "2001:db8::1",
                    "app[99999999999]",
                    None,
                    "x",
                ),
            ),
            // --no-hostname with a pid.
            (
                "Mar 13 15:23:02 NetworkManager[225]: up",
                want(
                    t("2021-03-13T15:23:02Z"),
                    "",
                    "NetworkManager",
                    Some(225),
                    "up",
                ),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(line(input), Some(expected), "{input}");
        }
    }

    #[test]
    fn syslog_line_rejects_other_shapes() {
        for input in [
            "-- Boot 27acae2fe35a40ac93f9c7732c0b8e59 --",
            "-- Logs begin at Sat 2021-03-13 15:23:01 UTC, end at Sat 2021-03-13 16:00:00 UTC. --",
            "                                                  '",
            "",
            // cloudflared console: a level where the host would be.
            r#"2024-07-10T17:08:33Z ERR Request failed error="Unable to reach the origin service: dial tcp 192.0.2.9:3000: i/o timeout" connIndex=0"#,
            "2024-07-10T17:08:33Z INF Registered tunnel connection connIndex=3 event=0 ip=198.51.100.3 location=lhr10",
            // gunicorn, old and new; nginx error; Go log.
            "2010-07-28 23:01:19 [6935] [INFO] Booting worker with pid: 6935",
            "[2024-07-05 09:13:44 +0200] [3129704] [INFO] Booting worker with pid: 3129714",
            "2016/10/25 14:49:34 [error] 54053#0: *1 open() failed (2: No such file or directory)",
            "2016/10/25 14:49:34 server: listening",
            // Python logging with its own time and a quoted value.
            r#"2024-01-01T10:00:00+00:00 worker key="a: b" other"#,
            // No tag colon at all, or a host-less line without pid.
            "Mar 13 15:23:02 pi4 last message repeated 3 times",
            "Mar 13 15:23:02 kernel: x",
            // Two spaces after the time.
            "Mar 13 15:23:02  pi4 app[1]: x",
            "Mar 13 15:23:02",
            "Mar 13 15:23:02 ",
            "Mar 13 15:23:02 pi4 [1]: x",
            "Mar 13 15:23:02 pi4 : x",
        ] {
            assert_eq!(line(input), None, "{input}");
        }
    }

    #[test]
    fn export_field_names() {
        for ok in [
            "MESSAGE",
            "MESSAGE=",
            "__CURSOR",
            "_BOOT_ID=",
            "A",
            "X1_2",
            "_",
        ] {
            assert!(is_export_field_name(ok.as_bytes()), "{ok}");
        }
        let long = "A".repeat(65);
        for bad in [
            "",
            "=",
            "message",
            "MESSAGE==",
            "1ABC",
            "MES SAGE",
            "Sep 17 11:26:36 deb-host kernel: x",
            "A-B",
            long.as_str(),
        ] {
            assert!(!is_export_field_name(bad.as_bytes()), "{bad}");
        }
    }

    /// Builds an export head with one binary field (`MESSAGE` = "foo\nbar", length 7).
    fn export_with_binary(prefix: &[u8]) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.extend_from_slice(b"_TRANSPORT=journal\nPRIORITY=6\nMESSAGE\n");
        v.extend_from_slice(&7u64.to_le_bytes());
        v.extend_from_slice(b"foo\nbar\nCODE_FILE=<string>\n\n_TRANSPORT=journal\n");
        v
    }

    #[test]
    fn envelopes() {
        let cases: Vec<(Vec<u8>, Envelope)> = vec![
            (b"".to_vec(), Envelope::Plain),
            (b"LPKSHHRH\x00\x00\x00\x00\x01\x02".to_vec(), Envelope::JournaldFile),
            (b"__CURSOR=s=739ad463;i=4ece7\n__REALTIME_TIMESTAMP=1342540861416409\n".to_vec(), Envelope::JournaldExport),
            (b"\n__CURSOR=s=1".to_vec(), Envelope::JournaldExport),
            (export_with_binary(b""), Envelope::JournaldExport),
            (export_with_binary(b"_SYSTEMD_UNIT=session-1.scope\n"), Envelope::JournaldExport),
            // An `env` dump is not a journal.
            (b"PATH=/usr/bin\nHOME=/root\nLANG=C.UTF-8\nSHLVL=1\n".to_vec(), Envelope::Plain),
            (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00".to_vec(), Envelope::Binary),
            (b"\x01\x02\x03\x04\x05\x06\x07 hello".to_vec(), Envelope::Binary),
            (b"32768\t60999\n".to_vec(), Envelope::PortRange),
            (b"1024 65535".to_vec(), Envelope::PortRange),
            (b"1024 65536\n".to_vec(), Envelope::Plain),
            (b"1024 2048 4096\n".to_vec(), Envelope::Plain),
            (
                br#"{"_HOSTNAME":"pi4","__CURSOR":"s=c4;i=191","MESSAGE":"x","__REALTIME_TIMESTAMP":"1615648981464603"}
{"MESSAGE":"y","_BOOT_ID":"68f2e61d061247d8a8ba0b8d53a97a52"}
"#
                .to_vec(),
                Envelope::JournaldJson,
            ),
            (br#"{ "__CURSOR" : "s=e9", "__REALTIME_TIMESTAMP" : "1534860261221373", "MESSAGE" : "GPS" }"#.to_vec(), Envelope::JournaldJson),
            (b"\x1e{\"__CURSOR\":\"s=1\",\"MESSAGE\":\"x\"}\n".to_vec(), Envelope::JournaldJson),
            (
                b"{\"log\":\"2024-07-10T17:08:33Z INF Starting tunnel\\n\",\"stream\":\"stderr\",\"time\":\"2024-07-10T17:08:33.1Z\"}\n".to_vec(),
                Envelope::DockerJson,
            ),
            (b"{\"level\":\"info\",\"time\":1728729237552,\"name\":\"streaming\",\"msg\":\"x\"}\n".to_vec(), Envelope::Plain),
            // A JSON value that mentions a journald key is not a journald key.
            (b"{\"msg\":\"saw \\\"__CURSOR\\\" here\"}\n".to_vec(), Envelope::Plain),
            (
                b"Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n".to_vec(),
                Envelope::Netstat,
            ),
            (b"Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)\ntcp4       0      0  192.0.2.1.52044    203.0.113.5.443        ESTABLISHED\n".to_vec(), Envelope::Netstat),
            (b"tcp        0      0 127.0.0.1:51100         127.0.0.1:6379          TIME_WAIT\ntcp6       0      0 :::4000                 :::*                    LISTEN\n".to_vec(), Envelope::Netstat),
            (b"State      Recv-Q Send-Q      Local Address:Port        Peer Address:Port Process\nLISTEN     0      128        127.0.0.1:6379     0.0.0.0:*\n".to_vec(), Envelope::Ss),
            (b"State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\nLISTEN 0      1000         0.0.0.0:22        0.0.0.0:*\n".to_vec(), Envelope::Ss),
            (b"Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n0      0          127.0.0.1:51120    127.0.0.1:6379\n".to_vec(), Envelope::Ss),
            (b"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port\nudp   UNCONN 0      0      [fe80::1]%eth0:546 [::]:*\n".to_vec(), Envelope::Ss),
            (b"LISTEN     0      128               0.0.0.0:2024             0.0.0.0:*    \nTIME-WAIT  0      0               192.0.2.2:39150       203.0.113.80:80   \nESTAB      0      0               127.0.0.1:51100          127.0.0.1:6379 \n".to_vec(), Envelope::Ss),
            (b"0      0          127.0.0.1:51120    127.0.0.1:6379\n0      0              [::1]:40802        [::1]:3000\n".to_vec(), Envelope::Ss),
            (b"Total: 43\nTCP:   47 (estab 18, closed 25, orphaned 0, timewait 25)\n\nTransport Total     IP        IPv6\n".to_vec(), Envelope::SsSummary),
            (b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 27979 1 00000000a2d8f21d 100 0 0 10 0\n".to_vec(), Envelope::ProcNetTcp),
            (b"  sl  local_address                         remote_address                        st tx_queue\n".to_vec(), Envelope::ProcNetTcp),
            (b"   1: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n  10: 0100007F:0FA0 0100007F:EC0C 01 00000000:00000000\n".to_vec(), Envelope::ProcNetTcp),
            (
                b"-- Logs begin at Sat 2021-03-13 15:23:01 UTC. --\nMar 13 15:23:01 pi4 kernel: Booting\n-- Boot 27acae2fe35a40ac93f9c7732c0b8e59 --\nMar 13 15:23:07 pi4 NetworkManager[225]: option => '\n                                                  '\nMar 13 15:23:08 pi4 systemd[1]: Started x.\n".to_vec(),
                Envelope::Syslog,
            ),
            ("août 19 11:08:37 laptop-fr symphorien[4961]: test\n".as_bytes().to_vec(), Envelope::Syslog),
            (b"\xEF\xBB\xBFMar 13 15:23:01 pi4 kernel: x\r\nMar 13 15:23:02 pi4 kernel: y\r\n".to_vec(), Envelope::Syslog),
            (b"\xEF\xBB\xBF".to_vec(), Envelope::Plain),
            (b"2021-03-13T15:23:01.592206+0000 pi4 kernel: uvcvideo: Found\n2021-03-13T15:23:01.521316+0000 pi4 kernel[206]: klogd\n".to_vec(), Envelope::Syslog),
            (
                b"2024-07-10T17:08:33Z ERR Request failed error=\"a: b\" connIndex=0\n2024-07-10T17:08:34Z INF Registered tunnel connection connIndex=3\n2024-07-10T17:08:35Z WRN Connection terminated error=\"timeout: no recent network activity\" connIndex=3\n".to_vec(),
                Envelope::Plain,
            ),
            (b"[2024-07-05 09:13:44 +0200] [1] [INFO] Booting worker with pid: 2\n2010-07-28 23:01:19 [6935] [INFO] Booting worker with pid: 6935\n".to_vec(), Envelope::Plain),
            (b"2016/10/25 14:49:34 [error] 54053#0: *1 open() failed, client: 127.0.0.1\n2016/10/25 14:49:35 [warn] 1#1: x: y\n".to_vec(), Envelope::Plain),
            (b"192.0.2.1 - - [20/Jul/2009:22:59:26 +0000] \"GET / HTTP/1.0\" 200 134 \"-\" \"gPXE/0.9.7\"\n".to_vec(), Envelope::Plain),
            (b"Copyright 2020 Someone\n\nLicensed under the Apache License, Version 2.0\n".to_vec(), Envelope::Plain),
        ];
        for (head, want) in cases {
            assert_eq!(
                detect_envelope(&head),
                want,
                "{}",
                String::from_utf8_lossy(&head)
            );
        }
    }

    #[test]
    fn export_needs_a_known_field_and_valid_framing() {
        // A stray syslog line where a name should be: read as a binary name it would give a
        // length of ~3.5e18 from `Sep 17 1`; the export is still recognised from its start.
        let mut v = b"_TRANSPORT=kernel\nPRIORITY=6\nMESSAGE=x\n".to_vec();
        v.extend_from_slice(b"Sep 17 11:26:36 deb-host kernel: Linux version\n");
        assert_eq!(detect_envelope(&v), Envelope::JournaldExport);
        // A bogus length after a binary-looking name line: not an export.
        let mut v = b"PRIORITY=6\nMESSAGE\n".to_vec();
        v.extend_from_slice(&u64::MAX.to_le_bytes());
        v.extend_from_slice(b"foo\n");
        assert!(!looks_like_export(&v));
        // A head cut inside a binary value is still an export.
        let mut v = b"PRIORITY=6\nMESSAGE\n".to_vec();
        v.extend_from_slice(&1000u64.to_le_bytes());
        v.extend_from_slice(b"partial");
        assert!(looks_like_export(&v));
    }

    #[test]
    fn payloads() {
        use Payload::*;
        let cases: &[(&str, Payload)] = &[
            // Traefik CLF (formats.md §2.1 shapes).
            (
                r#"10.0.0.1 - Client [10/Nov/2009:23:00:00 +0000] "GET /foo http" - - "-" "-" 0 "-" "-" 123000ms"#,
                TraefikClf,
            ),
            (
                r#"10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] "GET / HTTP/1.1" 200 0 "-" "foo \" bar" 1 "test@file" "http://127.0.0.1:8080" 1ms"#,
                TraefikClf,
            ),
            (
                r#"- - - [-] "- - -" - - "testReferer" "testUserAgent" - "-" "-" 0ms"#,
                TraefikClf,
            ),
            (
                r#"127.0.0.1 - - [13/Mar/2020:18:49:07 +0000] "GET /ping HTTP/1.1" 200 2 "-" "-" 1 "ping@internal" - 0ms"#,
                TraefikClf,
            ),
            (
                r#"192.0.2.4 - - [28/Feb/2018:17:30:33 +0000] "GET /en/ HTTP/2.0" 200 2814 - "Mozilla/5.0" 13 "Host-a-0" "http://10.1.0.6:14008" 247ms"#,
                TraefikClf,
            ),
            (
                r#"192.0.2.4 - - [12/Sep/2017:15:10:41 +0000] "GET /p HTTP/1.1" %!d(<nil>) %!d(<nil>) - "Mozilla/5.0" 155025 - - 0ms"#,
                TraefikClf,
            ),
            (
                "10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] \\\"GET / HTTP/1.1\\\" 200 0 \\\"-\\\" \\\"-\\\" 1 \\\"r@file\\\" \\\"http://127.0.0.1\\\" 1ms\\n",
                TraefikClf,
            ),
            // nginx / apache access.
            (
                r#"192.0.2.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7""#,
                NginxAccess,
            ),
            (
                r#"10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0""#,
                NginxAccess,
            ),
            (
                r#""10.5.1.2, 198.51.100.1, 203.0.113.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/x?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront""#,
                NginxAccess,
            ),
            (
                r#"lessons.example.com 192.0.2.1 - - [09/Jun/2020:12:10:39 -0700] "GET /a.mp4 HTTP/1.1" 206 7648063 "http://lessons.example.com/" "Mozilla/5.0""#,
                NginxAccess,
            ),
            (
                r#"2001:db8::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0" 27 0.000 [localhost-8080] []"#,
                NginxAccess,
            ),
            (
                r#"127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-""#,
                NginxAccess,
            ),
            (
                r#"192.0.2.9 - - [06/Aug/2022:02:46:36 +0000] "\x16\x03\x01\x01" 400 166 "-" "-""#,
                NginxAccess,
            ),
            (
                r#"192.0.2.9 - - [06/Aug/2022:02:45:48 +0000] "GET /.git/config HTTP/1.1" 502 568 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537>"#,
                NginxAccess,
            ),
            (
                r#"192.0.2.9 - alice [05/Feb/2018:22:24:32 +0000] "CONNECT a.example:443 HTTP/1.1" 000 1477 "-" "x""#,
                NginxAccess,
            ),
            (
                r#"192.0.2.9 - - [22/Jan/2019:03:56:14 +0330] "GET /filter/27|13%20%D9 HTTP/1.1" 200 30577 "-" "Mozilla/5.0 (compatible; ExampleBot/1.0)" "-""#,
                NginxAccess,
            ),
            (
                r#"192.0.2.9 - - [18/Sep/2017:00:00:02 +0300] "GET /x HTTP/1.1" 200 206 "-" "python-requests/2.13.0" "-" "-" 1505682002.098 rt=0.000 ut="-" cs=HIT"#,
                NginxAccess,
            ),
            (
                "192.0.2.9 - - [18/Sep/2017:00:00:02 +0300] \\\"GET / HTTP/1.1\\\" 200 612 \\\"-\\\" \\\"curl\\\"\\n",
                NginxAccess,
            ),
            (
                r#"192.0.2.9 - - [18/Sep/2017:00:00:02 +0300] "GET / HTTP/1.0" 200 2326"#,
                NginxAccess,
            ),
            // Not access lines: missing ident/user, `[-]` without the Traefik tail, no status.
            (
                r#"192.0.2.254 [20/Jul/2009:22:59:29 +0000] "GET /vmw/vSphere/default/vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7""#,
                Text,
            ),
            (r#"192.0.2.254 - - [-] "GET / HTTP/1.0" 404 46210"#, Text),
            (
                r#"192.0.2.254 - - [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" abc"#,
                Text,
            ),
            (
                r#"0.001 0.001 [23/Jan/2017:04:06:22 -0800] GET /app/x.js HTTP/1.1 304 0 "hostname""#,
                Text,
            ),
            // Traefik JSON.
            (
                r#"{"ClientAddr":"192.0.2.1:63261","DownstreamContentSize":287,"DownstreamStatus":207,"Duration":8184335,"RouterName":"https-bk@docker","StartUTC":"2024-12-29T11:42:47.503803974Z","level":"info","msg":"","time":"2024-12-29T12:42:47+01:00"}"#,
                TraefikJson,
            ),
            (
                r#"{\"DownstreamStatus\":200,\"StartUTC\":\"2024-12-29T11:42:47Z\"}\n"#,
                TraefikJson,
            ),
            // cloudflared console and JSON.
            (
                r#"2024-07-10T17:08:33Z ERR  error="Unable to reach the origin service. The service may be down: dial tcp 192.0.2.180:3000: i/o timeout" connIndex=0 event=1"#,
                Cloudflared,
            ),
            (
                "2024-07-08T10:00:33Z WRN Connection terminated error=\"timeout: no recent network activity\" connIndex=3",
                Cloudflared,
            ),
            (
                "2026-07-15T18:38:41Z DBG Graceful shutdown signalled",
                Cloudflared,
            ),
            ("2024-01-01T12:00:00+01:00 INF traefik started", Cloudflared),
            ("2024-07-10T17:08:33Z ERROR not zerolog", Text),
            (
                r#"{"level":"info","tunnelID":"abc","time":"2023-11-08T18:37:51Z","message":"Starting tunnel"}"#,
                CloudflaredJson,
            ),
            (
                r#"{"connIndex":0,"event":0,"level":"info","message":"Registered tunnel connection","time":"2025-07-01T00:00:00Z"}"#,
                CloudflaredJson,
            ),
            (
                r#"{\"level\":\"error\",\"error\":\"x\",\"time\":\"2024-01-01T00:00:00Z\",\"message\":\"y\"}\n"#,
                CloudflaredJson,
            ),
            // nginx error and Go log.
            (
                r#"2016/10/25 14:49:34 [error] 54053#0: *1 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1, server: localhost"#,
                NginxError,
            ),
            (
                "2024/08/15 14:30:54 [alert] 3690#3690: cache manager process 3986 exited on signal 11",
                NginxError,
            ),
            ("2024/08/15 14:30:54 [alarm] 3690#0: x", Text),
            ("2024/08/15 14:30:54 listening on :8080", GoLog),
            (
                "2024/08/15 14:30:54.123456 http: TLS handshake error from 192.0.2.1:5555: EOF",
                GoLog,
            ),
            // Mastodon streaming: npmlog text and pino JSON.
            (
                "verb 4ee00430-d397-478f-8f8d-46151d8f05cf Starting stream from timeline:1, timeline:1:notifications for 1",
                MastodonStreaming,
            ),
            (
                "WARN Starting streaming API server master with 1 workers",
                MastodonStreaming,
            ),
            (
                "ERR! Redis Client Error!   code: 'ECONNREFUSED',",
                MastodonStreaming,
            ),
            ("sill a b", MastodonStreaming),
            ("http x", MastodonStreaming),
            ("information", Text),
            (
                r#"{"level":"info","time":1728729237552,"pid":1,"hostname":"c0ffee000001","name":"streaming","req":{"id":"6530d8c7"},"msg":"Starting stream"}"#,
                MastodonStreamingJson,
            ),
            (
                r#"{\"level\":\"info\",\"time\":1728729237552,\"name\":\"streaming\",\"msg\":\"Ending stream\"}\n"#,
                MastodonStreamingJson,
            ),
            (
                r#"{"level":30,"time":1728729237552,"name":"other","msg":"x"}"#,
                Text,
            ),
            // Rails.
            (
                "[206407d2-64d3-4751-bdc5-374502b46d04] method=GET path=/@u/with_replies format=html controller=AccountsController action=show status=200 duration=3240.62 view=200.34 db=2799.24",
                RailsLograge,
            ),
            (
                "I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : [1d856421-3410-4ab7-bcee-298fecc5de03] method=GET path=/api/v1/x status=200",
                RailsLograge,
            ),
            (
                "E, [2025-01-21T15:51:55.658538 #807963] ERROR -- : [65517bcd-64a2-4cd8-922e-440466a8e499]",
                RailsLograge,
            ),
            (
                "[5aa3be68-f1fa-4808-b451-13df3fd5390b] Rate limit hit (throttle): 192.0.2.42 GET /api/v1/notifications?exclude_types[]=follow>",
                RailsLograge,
            ),
            (
                "[65517bcd-64a2-4cd8-922e-440466a8e499] app/models/domain_block.rb:73:in `rule_for'",
                Text,
            ),
            ("I, this is prose", Text),
            // gunicorn.
            (
                "[2024-07-05 09:13:44 +0200] [3129704] [CRITICAL] WORKER TIMEOUT (pid:3129714)",
                Gunicorn,
            ),
            (
                "[2024-11-05 09:26:00 +0000] [16] [ERROR] Worker (pid:17) was sent SIGKILL! Perhaps out of memory?",
                Gunicorn,
            ),
            (
                "2010-07-28 23:01:19 [5869] [CRITICAL] WORKER TIMEOUT (pid:5870)",
                Gunicorn,
            ),
            ("[2024-07-05 09:13:44 +0200] something else", Text),
            // Kernel.
            (
                "[  518.050606] Out of memory: Killed process 15784 (python3) total-vm:11964kB, anon-rss:4288kB",
                Kernel,
            ),
            ("[    0.000000] Booting Linux on physical CPU 0x0", Kernel),
            (
                "[Mon May 15 23:09:30 2023] oom_reaper: reaped process 1 (x)",
                Kernel,
            ),
            (
                "CPU 0/KVM invoked oom-killer: gfp_mask=0x15000c0(GFP_KERNEL_ACCOUNT), nodemask=(null), order=0, oom_score_adj=0",
                Kernel,
            ),
            (
                "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/docker/3f6d,task=gunicorn,pid=1026306,uid=32767",
                Kernel,
            ),
            (
                "Memory cgroup out of memory: Killed process 51947 (tail) total-vm:459896kB, anon-rss:458176kB, file-rss:772kB, shmem-rss:0kB, UID:0 pgtables:948kB oom_score_adj:0",
                Kernel,
            ),
            (
                "Out of memory: Kill process 31490 (corerun) score 897 or sacrifice child",
                Kernel,
            ),
            (
                "Killed process 42453 (memcg_test_1), UID 0, total-vm:7296kB, anon-rss:96kB",
                Kernel,
            ),
            (
                "oom_reaper: reaped process 15784 (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
                Kernel,
            ),
            (
                "uvcvideo: Found UVC 1.00 device FHD Camera Microphone (1bcf:28c4)",
                Text,
            ),
            ("Room booking failed", Text),
            ("MemoryError: out of memory allocating 10 bytes", Text),
            // systemd.
            (
                "earlyoom.service: Main process exited, code=dumped, status=31/SYS",
                Systemd,
            ),
            ("earlyoom.service: Failed with result 'core-dump'.", Systemd),
            ("earlyoom.service: Consumed 1.152s CPU time.", Systemd),
            (
                "areal-task-worker.service: Consumed 10.511s CPU time, 111.5M memory peak, 0B memory swap peak.",
                Systemd,
            ),
            (
                "docker.service: Scheduled restart job, restart counter is at 3.",
                Systemd,
            ),
            (
                "session-689.scope: A process of this unit has been killed by the OOM killer.",
                Systemd,
            ),
            ("session-689.scope: Deactivated successfully.", Systemd),
            (
                "Started areal-task-worker.service - Areal Task Worker.",
                Systemd,
            ),
            ("Stopped Docker Application Container Engine.", Systemd),
            ("Starting Journal Service...", Systemd),
            ("Stopping mastodon-sidekiq...", Systemd),
            ("Mounted Temporary Directory (/tmp).", Systemd),
            (
                "Startup finished in 4.1s (kernel) + 9.2s (userspace) = 13.3s.",
                Systemd,
            ),
            ("Listening on 0.0.0.0:8080", Text),
            ("foo.conf: Deactivated successfully.", Text),
            ("my unit.service: Deactivated successfully.", Text),
            // logfmt.
            (
                r#"time="2023-01-08T12:28:57Z" level=error msg="Cannot connect" providerName=docker"#,
                Logfmt,
            ),
            (
                "level=info ts=2023-01-08T12:28:57Z caller=main.go:1",
                Logfmt,
            ),
            ("ws close dur_ms=1234 cause=downstream_closed", Text),
            ("a=1 b=2", Text),
            (r#"a=1 b="unterminated c=3"#, Text),
            ("a=1 b=2 =3", Text),
            // Text.
            ("", Text),
            ("System clock time unset or jumped backwards", Text),
            (
                "<info>  [1615648987.3314] dhcp4 (eth0): option wpad                 => '",
                Text,
            ),
            ("[", Text),
            ("{", Text),
            (r#"{"msg":"hello","level":30}"#, Text),
        ];
        for &(m, want) in cases {
            assert_eq!(detect_payload(m.as_bytes()), want, "{m}");
        }
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

    const FIXTURES: &[&str] = &[
        r#"10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] "GET / HTTP/1.1" 200 0 "-" "foo" 1 "test@file" "http://127.0.0.1:8080" 1ms"#,
        r#"- - - [-] "- - -" - - "-" "-" - "-" "-" 0ms"#,
        r#"lessons.example.com 192.0.2.1 - - [09/Jun/2020:12:10:39 -0700] "GET /a HTTP/1.1" 206 7 "-" "M""#,
        r#"{"level":"info","time":1728729237552,"name":"streaming","msg":"x"}"#,
        r#"{\"DownstreamStatus\":200}"#,
        "2024-07-10T17:08:33Z ERR  error=\"x\" connIndex=0",
        "2016/10/25 14:49:34 [error] 54053#0: *1 open()",
        "[2024-07-05 09:13:44 +0200] [3129704] [CRITICAL] WORKER TIMEOUT",
        "2010-07-28 23:01:19 [5869] [CRITICAL] x",
        "I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : [1d856421-3410-4ab7-bcee-298fecc5de03] method=GET",
        "[206407d2-64d3-4751-bdc5-374502b46d04] method=GET path=/",
        "[  518.050606] Out of memory: Killed process 1 (x)",
        "[Mon May 15 23:09:30 2023] x",
        "CPU 0/KVM invoked oom-killer: gfp_mask=0x0",
        "x.service: Consumed 1.152s CPU time.",
        r#"time="2023-01-08T12:28:57Z" level=error msg="a \" b" k=v"#,
        "Mar 13 15:23:02 pi4 gdm-password][587]: AccountsService: x",
        "2021-03-13T15:23:01.592206+0000 pi4 kernel[206]: klogd",
        "Fri 2020-02-07 15:50:54 UTC pi4 systemd-timesyncd[190]: x",
        "1581090654.326448 pi4 app[1]: x",
        "[    4.050458] pi4 kernel: x",
        "juil. 12 12:27:04 mastohost bundle[106414]: x",
        "__CURSOR=s=1\n__REALTIME_TIMESTAMP=1\nMESSAGE=x\n",
        "State Recv-Q Send-Q Local Address:Port\nESTAB 0 0 127.0.0.1:1 127.0.0.1:2\n",
        "   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000\n",
        "Total: 43\nTCP:   47 (estab 18)\n",
        "32768\t60999\n",
    ];

    fn exercise(b: &[u8]) {
        let _ = detect_payload(b);
        let _ = detect_envelope(b);
        let _ = parse_syslog_line(b, &CTX);
        let _ = is_export_field_name(b);
        let _ = looks_like_export(b);
    }

    #[test]
    fn never_panics_on_truncations_and_flips() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for f in FIXTURES {
            let f = f.as_bytes();
            for cut in 0..=f.len() {
                exercise(&f[..cut]);
                exercise(&f[cut..]);
            }
            let mut m = f.to_vec();
            for _ in 0..400 {
                let i = rng.below(m.len());
                m[i] = match rng.below(5) {
                    0 => rng.next() as u8,
                    1 => b'"',
                    2 => b' ',
                    3 => b'[',
                    _ => m[i] ^ (1 << rng.below(8)),
                };
                exercise(&m);
                if rng.below(20) == 0 {
                    m = f.to_vec();
                }
            }
        }
        // Binary export fields with every possible cut and hostile lengths.
        let v = export_with_binary(b"");
        for cut in 0..=v.len() {
            exercise(&v[..cut]);
        }
        for len in [0u64, 1, 7, 8, 1 << 31, u64::from(u32::MAX), u64::MAX] {
            let mut w = b"PRIORITY=6\nMESSAGE\n".to_vec();
            w.extend_from_slice(&len.to_le_bytes());
            w.extend_from_slice(b"abc\n");
            exercise(&w);
        }
    }

    /// The CLF check against a naive reference: split on spaces and check the fields.
    #[test]
    fn clf_matches_naive_reference_on_generated_lines() {
        fn naive(line: &str) -> bool {
            let Some(open) = line.find('[') else {
                return false;
            };
            let before: Vec<&str> = line[..open].split(' ').collect();
            // [..., "-", user, ""]
            let n = before.len();
            if n < 4
                || !before[n - 1].is_empty()
                || before[n - 3] != "-"
                || before[..n - 3].concat().is_empty()
            {
                return false;
            }
            let Some(close) = line[open..].find(']') else {
                return false;
            };
            let time = &line[open + 1..open + close];
            if parse_clf(time.as_bytes()).map(|r| r.1) != Some(time.len()) {
                return false;
            }
            let rest = &line[open + close + 1..];
            let Some(rest) = rest.strip_prefix(" \"") else {
                return false;
            };
            rest.match_indices('"').any(|(q, _)| {
                let parts: Vec<&str> = rest[q + 1..].splitn(4, ' ').collect();
                parts.len() >= 3
                    && parts[0].is_empty()
                    && parts[1].len() == 3
                    && parts[1].bytes().all(|c| c.is_ascii_digit())
                    && (parts[2].starts_with('-')
                        || parts[2].starts_with(|c: char| c.is_ascii_digit()))
            })
        }
        let mut rng = XorShift(7);
        let hosts = [
            "192.0.2.1",
            "10.0.0.2, 10.0.0.1",
            "-",
            "h.example 192.0.2.3",
            "\"a, b\" c",
            "",
        ];
        let idents = ["-", "x", ""];
        let users = ["-", "bob", ""];
        let times = [
            "10/Oct/2000:13:55:36 -0700",
            "-",
            "10/Oct/2000:13:55:36",
            "32/Oct/2000:13:55:36 -0700",
        ];
        let reqs = ["GET / HTTP/1.1", "", "\\x16\\x03", "GET /a\"b HTTP/1.1"];
        let tails = [
            " 200 12 \"-\" \"ua\"",
            " 200 -",
            " 20 12",
            " abc 1",
            " 404 0",
            "",
        ];
        let mut positives = 0usize;
        for _ in 0..5000 {
            let line = format!(
                "{} {} {} [{}] \"{}\"{}",
                hosts[rng.below(hosts.len())],
                idents[rng.below(idents.len())],
                users[rng.below(users.len())],
                times[rng.below(times.len())],
                reqs[rng.below(reqs.len())],
                tails[rng.below(tails.len())],
            );
            let got = detect_payload(line.as_bytes()) == Payload::NginxAccess;
            assert_eq!(got, naive(&line), "{line}");
            positives += usize::from(got);
        }
        // Both outcomes are exercised.
        assert!((100..4900).contains(&positives), "{positives}");
    }
}
