//! gunicorn error log: `error_fmt = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"`
//! with `datefmt = "[%Y-%m-%d %H:%M:%S %z]"`.
//!
//! ```text
//! line    = "[" time " " zone "] [" pid "] [" LEVEL "] " message      ; 19.x and later
//!         / time " [" pid "] [" LEVEL "] " message                    ; <= 0.17, no zone
//!         / prefix "[" pid "] [" LEVEL "] [" time " " zone "] " message ; custom (#3098)
//! ```
//!
//! Example: `[2024-07-05 09:13:44 +0200] [3129704] [CRITICAL] WORKER TIMEOUT (pid:3129714)`.
//!
//! Traps handled:
//! - The pid in brackets is the process that logged: the master for `WORKER TIMEOUT` and exit
//!   lines, the worker for `Booting worker`; the worker's pid of a master line is in
//!   [`Kind`].
//! - `exited with code 1` and `exited with code 1.` (both in one paste).
//! - Worker killed by a signal: 20.1.0's `Worker with pid N was terminated due to signal 6`
//!   and 21+'s `Worker (pid:N) was sent SIGKILL! Perhaps out of memory?` are one
//!   [`Kind::WorkerTerminatedBySignal`] with the signal as a number.
//! - The ancient zone-less layout: the `assumed_offset_secs` parameter gives its zone.
//! - A custom `logconfig` (#3098): any text before the first `[`, then `[pid]`, `[LEVEL]` and a
//!   bracketed time in any order, as far as each group is recognisable (digits: pid; upper
//!   case letters: level; a date: time). Not recognised: layouts without both a `[pid]` and a
//!   `[LEVEL]` group, or with the level in another case (`[info]`).
//! - Tracebacks after `Exception in worker process` are separate lines without this header:
//!   [`parse`] rejects them, the caller attaches them to the previous record.
//!
//! ```
//! use coroner_parse::formats::gunicorn::{self, Kind, Level};
//! let r = gunicorn::parse(b"[2024-07-05 09:13:44 +0200] [3129704] [CRITICAL] WORKER TIMEOUT (pid:3129714)", 0).unwrap();
//! assert_eq!(r.time, Some(1_720_163_624_000_000));
//! assert_eq!((r.pid, r.level), (3129704, Level::Critical));
//! assert_eq!(r.kind(), Kind::WorkerTimeout { pid: 3129714 });
//! ```

use crate::error::ParseError;
use crate::timestamp::{Micros, parse_rfc3339, with_spaced_zone};

/// Python logging level names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
    /// Any other upper-case name (a custom level).
    Other,
}

/// What a gunicorn line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `WORKER TIMEOUT (pid:N)` (from the master).
    WorkerTimeout {
        pid: u32,
    },
    /// `Worker (pid:N) exited with code C` (with or without the final period).
    WorkerExited {
        pid: u32,
        code: i32,
    },
    /// `Worker (pid:N) was sent SIGKILL! Perhaps out of memory?` (21+) or `Worker with pid N
    /// was terminated due to signal S` (20.1.0). `signal` is None for an unknown name.
    WorkerTerminatedBySignal {
        pid: u32,
        signal: Option<u8>,
    },
    /// `Booting worker with pid: N`.
    BootingWorker {
        pid: u32,
    },
    /// `Worker exiting (pid: N)`.
    WorkerExiting {
        pid: u32,
    },
    /// `Starting gunicorn 21.2.0`.
    Starting,
    /// `Listening at: http://127.0.0.1:8000 (123)`.
    Listening,
    /// `Handling signal: term`.
    HandlingSignal {
        signal: Option<u8>,
    },
    /// `Shutting down: Master`.
    ShuttingDown,
    /// `Exception in worker process` (a traceback follows on other lines).
    ExceptionInWorker,
    /// `Reason: Worker failed to boot.`
    WorkerFailedToBoot,
    Other,
}

/// One gunicorn error-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GunicornRecord<'a> {
    /// UTC µs; None only for a custom layout without a time.
    pub time: Option<Micros>,
    /// The process that logged.
    pub pid: u32,
    pub level: Level,
    /// The level name as written.
    pub level_name: &'a [u8],
    /// Custom layouts: the text before the first `[` (`GUNICORN: `), None otherwise.
    pub prefix: Option<&'a [u8]>,
    pub message: &'a [u8],
}

/// Parse one line. `assumed_offset_secs` is the zone of times written without one.
pub fn parse(line: &[u8], assumed_offset_secs: i32) -> Result<GunicornRecord<'_>, ParseError> {
    let mut time = None;
    let mut prefix = None;
    let mut i = 0;
    match line.first() {
        Some(b'0'..=b'9') => {
            let (t, n) = parse_rfc3339(line, assumed_offset_secs)
                .ok_or(ParseError::new("a date and time", 0))?;
            time = Some(t);
            if line.get(n) != Some(&b' ') {
                return Err(ParseError::new("' ' after the time", n));
            }
            i = n + 1;
        }
        Some(b'[') => {}
        Some(_) => {
            let open = memchr::memchr(b'[', line).ok_or(ParseError::new("'['", line.len()))?;
            if line[open - 1] != b' ' {
                return Err(ParseError::new("' ' before '['", open));
            }
            prefix = Some(&line[..open]);
            i = open;
        }
        None => return Err(ParseError::new("'['", 0)),
    }
    let (mut pid, mut level) = (None, None);
    // At most three groups (time, pid, level); stop at the first that is none of them so a
    // message starting with `[` stays in the message.
    for _ in 0..3 {
        if pid.is_some() && level.is_some() && time.is_some() {
            break;
        }
        if line.get(i) != Some(&b'[') {
            break;
        }
        let Some(close) = memchr::memchr(b']', &line[i..]).map(|c| i + c) else {
            break;
        };
        let inner = &line[i + 1..close];
        if pid.is_none() && !inner.is_empty() && inner.iter().all(u8::is_ascii_digit) {
            pid = Some(parse_u32(inner).ok_or(ParseError::new("a pid", i + 1))?);
        } else if level.is_none() && !inner.is_empty() && inner.iter().all(u8::is_ascii_uppercase) {
            level = Some(inner);
        } else if time.is_none()
            && let Some(t) = bracket_time(inner, assumed_offset_secs)
        {
            time = Some(t);
        } else {
            break;
        }
        i = close + 1;
        match line.get(i) {
            Some(b' ') => i += 1,
            None => {}
            Some(_) => return Err(ParseError::new("' ' after ']'", i)),
        }
    }
    let pid = pid.ok_or(ParseError::new("'[pid]'", i))?;
    let level_name = level.ok_or(ParseError::new("'[LEVEL]'", i))?;
    let level = match level_name {
        b"DEBUG" => Level::Debug,
        b"INFO" => Level::Info,
        b"WARNING" => Level::Warning,
        b"ERROR" => Level::Error,
        b"CRITICAL" => Level::Critical,
        _ => Level::Other,
    };
    Ok(GunicornRecord {
        time,
        pid,
        level,
        level_name,
        prefix,
        message: line.get(i..).unwrap_or_default(),
    })
}

/// `2024-07-05 09:13:44 +0200` (the zone after a space, as `%z` writes it).
fn bracket_time(inner: &[u8], assumed: i32) -> Option<Micros> {
    let (t, n) = parse_rfc3339(inner, assumed)?;
    match inner.get(n..)? {
        [] => Some(t),
        // The shared rule: the spaced zone re-bases a zone-less time, never one that
        // already carried its zone (`09:13:44+02:00 +0500`).
        [b' ', zone @ ..] => {
            zone_secs(zone)?;
            Some(with_spaced_zone(inner, t, n, assumed))
        }
        _ => None,
    }
}

/// `+0200`, `-05:30`.
fn zone_secs(z: &[u8]) -> Option<i32> {
    let sign = match z.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let d: &[u8] = match z.get(1..)? {
        [a, b, b':', c, d] | [a, b, c, d] => &[*a, *b, *c, *d],
        _ => return None,
    };
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h = i32::from(d[0] - b'0') * 10 + i32::from(d[1] - b'0');
    let m = i32::from(d[2] - b'0') * 10 + i32::from(d[3] - b'0');
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
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

fn parse_i32(b: &[u8]) -> Option<i32> {
    match b {
        [b'-', rest @ ..] => parse_u32(rest)
            .and_then(|v| i32::try_from(v).ok())
            .map(|v| -v),
        _ => parse_u32(b).and_then(|v| i32::try_from(v).ok()),
    }
}

/// A signal number from a name (`SIGKILL`, `kill`, `term`) or a number.
pub fn signal_number(name: &[u8]) -> Option<u8> {
    if let Some(n) = parse_u32(name) {
        return u8::try_from(n).ok();
    }
    let mut buf = [0u8; 8];
    let name = match name {
        [b'S' | b's', b'I' | b'i', b'G' | b'g', rest @ ..] => rest,
        _ => name,
    };
    let upper = buf.get_mut(..name.len())?;
    for (u, c) in upper.iter_mut().zip(name) {
        *u = c.to_ascii_uppercase();
    }
    Some(match &*upper {
        b"HUP" => 1,
        b"INT" => 2,
        b"QUIT" => 3,
        b"ILL" => 4,
        b"TRAP" => 5,
        b"ABRT" => 6,
        b"BUS" => 7,
        b"FPE" => 8,
        b"KILL" => 9,
        b"USR1" => 10,
        b"SEGV" => 11,
        b"USR2" => 12,
        b"PIPE" => 13,
        b"ALRM" => 14,
        b"TERM" => 15,
        b"CHLD" => 17,
        b"TTIN" => 21,
        b"TTOU" => 22,
        b"WINCH" => 28,
        _ => return None,
    })
}

/// The digits at the start of `b` as a u32, and the rest.
fn lead_u32(b: &[u8]) -> Option<(u32, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    Some((parse_u32(&b[..n])?, &b[n..]))
}

impl GunicornRecord<'_> {
    /// What the line reports.
    pub fn kind(&self) -> Kind {
        let m = self.message;
        if let Some(r) = m.strip_prefix(b"WORKER TIMEOUT (pid:")
            && let Some((pid, b")")) = lead_u32(r)
        {
            return Kind::WorkerTimeout { pid };
        }
        if let Some(r) = m.strip_prefix(b"Worker (pid:")
            && let Some((pid, r)) = lead_u32(r)
        {
            if let Some(code) = r.strip_prefix(b") exited with code ") {
                let code = code.strip_suffix(b".").unwrap_or(code);
                if let Some(code) = parse_i32(code) {
                    return Kind::WorkerExited { pid, code };
                }
            } else if let Some(sig) = r.strip_prefix(b") was sent ") {
                let end = sig.iter().position(|&c| c == b'!').unwrap_or(sig.len());
                return Kind::WorkerTerminatedBySignal {
                    pid,
                    signal: signal_number(&sig[..end]),
                };
            }
        }
        if let Some(r) = m.strip_prefix(b"Worker with pid ")
            && let Some((pid, r)) = lead_u32(r)
            && let Some(sig) = r.strip_prefix(b" was terminated due to signal ")
        {
            return Kind::WorkerTerminatedBySignal {
                pid,
                signal: signal_number(sig),
            };
        }
        if let Some(r) = m.strip_prefix(b"Booting worker with pid: ")
            && let Some((pid, _)) = lead_u32(r)
        {
            return Kind::BootingWorker { pid };
        }
        if let Some(r) = m.strip_prefix(b"Worker exiting (pid: ")
            && let Some((pid, _)) = lead_u32(r)
        {
            return Kind::WorkerExiting { pid };
        }
        if let Some(sig) = m.strip_prefix(b"Handling signal: ") {
            return Kind::HandlingSignal {
                signal: signal_number(sig),
            };
        }
        const STARTS: &[(&[u8], Kind)] = &[
            (b"Starting gunicorn", Kind::Starting),
            (b"Listening at: ", Kind::Listening),
            (b"Shutting down: Master", Kind::ShuttingDown),
            (b"Exception in worker process", Kind::ExceptionInWorker),
            (b"Reason: Worker failed to boot", Kind::WorkerFailedToBoot),
        ];
        STARTS
            .iter()
            .find(|(t, _)| m.starts_with(t))
            .map_or(Kind::Other, |(_, k)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &[&[u8]] = &[
        b"[2024-07-05 09:13:44 +0200] [3129704] [CRITICAL] WORKER TIMEOUT (pid:3129714)",
        b"[2024-07-05 09:13:44 +0200] [3129714] [INFO] Worker exiting (pid: 3129714)",
        b"[2024-07-05 09:13:44 +0200] [3129704] [ERROR] Worker (pid:3129714) exited with code 1",
        b"[2024-07-05 09:13:44 +0200] [3129704] [ERROR] Worker (pid:3129714) exited with code 1.",
        b"[2024-07-05 09:13:44 +0200] [3154335] [INFO] Booting worker with pid: 3154335",
        b"[2024-01-09 13:24:40 +0000] [1637] [WARNING] Worker with pid 7214 was terminated due to signal 6",
        b"[2024-11-05 09:26:00 +0000] [16] [ERROR] Worker (pid:17) was sent SIGKILL! Perhaps out of memory?",
        b"2010-07-28 23:01:19 [5869] [CRITICAL] WORKER TIMEOUT (pid:5870)",
        b"GUNICORN: [254] [INFO] [2023-11-28 17:19:33 +0000] Booting worker with pid: 254",
        b"[2024-11-05 09:25:00 +0000] [16] [INFO] Listening at: http://0.0.0.0:8000 (16)",
        b"[2024-11-05 09:25:00 +0000] [16] [INFO] Handling signal: term",
        b"[2024-11-05 09:25:00 +0000] [16] [INFO] Shutting down: Master",
        b"[2024-11-05 09:25:00 +0000] [17] [ERROR] Exception in worker process",
        b"[2024-11-05 09:25:00 +0000] [17] [INFO] [a] message starting with a bracket",
    ];

    fn p(line: &[u8]) -> GunicornRecord<'_> {
        parse(line, 0).unwrap()
    }

    #[test]
    fn worker_timeout_with_zone() {
        let r = p(FIXTURES[0]);
        // `date -u -d '2024-07-05 09:13:44 +0200' +%s` = 1720163624
        assert_eq!(r.time, Some(1_720_163_624_000_000));
        assert_eq!(r.pid, 3_129_704);
        assert_eq!((r.level, r.level_name), (Level::Critical, &b"CRITICAL"[..]));
        assert_eq!(r.message, b"WORKER TIMEOUT (pid:3129714)");
        assert_eq!(r.kind(), Kind::WorkerTimeout { pid: 3_129_714 });
        assert_eq!(
            p(FIXTURES[1]).kind(),
            Kind::WorkerExiting { pid: 3_129_714 }
        );
        assert_eq!(
            p(FIXTURES[4]).kind(),
            Kind::BootingWorker { pid: 3_154_335 }
        );
    }

    #[test]
    fn exit_code_with_and_without_period() {
        for f in &FIXTURES[2..4] {
            let r = p(f);
            assert_eq!(r.level, Level::Error);
            assert_eq!(
                r.kind(),
                Kind::WorkerExited {
                    pid: 3_129_714,
                    code: 1
                }
            );
        }
    }

    #[test]
    fn signal_old_and_new_wording() {
        let r = p(FIXTURES[5]);
        assert_eq!(r.level, Level::Warning);
        assert_eq!(
            r.kind(),
            Kind::WorkerTerminatedBySignal {
                pid: 7214,
                signal: Some(6)
            }
        );
        assert_eq!(
            p(FIXTURES[6]).kind(),
            Kind::WorkerTerminatedBySignal {
                pid: 17,
                signal: Some(9)
            }
        );
        assert_eq!(
            p(FIXTURES[10]).kind(),
            Kind::HandlingSignal { signal: Some(15) }
        );
        assert_eq!(signal_number(b"SIGWHAT"), None);
        assert_eq!(signal_number(b"300"), None);
    }

    #[test]
    fn ancient_layout_uses_assumed_offset() {
        let r = parse(FIXTURES[7], 3600).unwrap();
        // `date -u -d '2010-07-28 23:01:19 +0100' +%s` = 1280354479
        assert_eq!(r.time, Some(1_280_354_479_000_000));
        assert_eq!(r.pid, 5869);
        assert_eq!(r.kind(), Kind::WorkerTimeout { pid: 5870 });
    }

    #[test]
    fn custom_layout_3098() {
        let r = p(FIXTURES[8]);
        assert_eq!(r.prefix, Some(&b"GUNICORN: "[..]));
        assert_eq!((r.pid, r.level), (254, Level::Info));
        // `date -u -d '2023-11-28 17:19:33 +0000' +%s` = 1701191973
        assert_eq!(r.time, Some(1_701_191_973_000_000));
        assert_eq!(r.kind(), Kind::BootingWorker { pid: 254 });
    }

    #[test]
    fn master_lifecycle() {
        assert_eq!(p(FIXTURES[9]).kind(), Kind::Listening);
        assert_eq!(p(FIXTURES[11]).kind(), Kind::ShuttingDown);
        assert_eq!(p(FIXTURES[12]).kind(), Kind::ExceptionInWorker);
        let r = p(FIXTURES[13]);
        assert_eq!(r.message, b"[a] message starting with a bracket");
        assert_eq!(r.kind(), Kind::Other);
    }

    #[test]
    fn rejects_tracebacks_and_prose() {
        assert!(parse(b"Traceback (most recent call last):", 0).is_err());
        assert!(parse(b"  File \"/app/x.py\", line 1, in <module>", 0).is_err());
        assert_eq!(
            parse(b"[2024-07-05 09:13:44 +0200] something else", 0).unwrap_err(),
            ParseError::new("'[pid]'", 28)
        );
        assert!(parse(b"[99999999999] [INFO] x", 0).is_err());
    }

    #[test]
    fn never_panics() {
        for line in FIXTURES {
            for cut in 0..=line.len() {
                if let Ok(r) = parse(&line[..cut], 0) {
                    let _ = r.kind();
                }
            }
            for i in 0..line.len() {
                for b in [0u8, b'"', b'=', b' ', b'\\', 0xff, b'[', b']'] {
                    let mut l = line.to_vec();
                    l[i] = b;
                    if let Ok(r) = parse(&l, -3600) {
                        let _ = r.kind();
                    }
                }
            }
        }
    }
}
