//! systemd unit lifecycle messages from PID 1 or a user manager (`SYSLOG_IDENTIFIER=systemd`,
//! `systemd[1]:` / `systemd[305]:` in syslog): which unit, and what happened to it.
//!
//! # Grammar in brief
//! ```text
//! message = [unit ": "] event
//! unit    = [A-Za-z0-9:_.\\@-]+ "." type      ; type: service, socket, scope, slice, ...
//! event   = "Main process exited, code=" code ", status=" n ["/" NAME]
//!         / "Failed with result '" result "'."
//!         / "Scheduled restart job, restart counter is at " n "."
//!         / ("Started " / "Starting " / "Stopping " / "Stopped " / "Failed to start ") [unit " - "] description ("." / "...")
//!         / "Consumed " timespan " CPU time" {", " amount " " what} "."
//!         / "Killing process " pid " (" comm ") with signal " SIG "."
//!         / … see [`SystemdEvent`]
//! ```
//! ```text
//! emailengine.service: Main process exited, code=killed, status=9/KILL
//! Started emailengine.service - EmailEngine.
//! ```
//!
//! # Traps handled
//! - Two forms of start/stop lines: description only (`Started Mastodon sidekiq.`, `unit` is
//!   `None`) and the v253+ `Started mastodon-web.service - mastodon-web.`; both give the
//!   description, the second also the unit.
//! - A `foo.service: ` prefix is a unit only if the word has no space and ends in a unit type,
//!   so `Failed to start X: …` style text is not taken for a unit. Unit names may hold `:`,
//!   `@` and `\x2d` escapes.
//! - Wordings changed over versions: `Succeeded.` (≤ v247) and `Deactivated successfully.`
//!   are both [`SystemdEvent::Deactivated`]; `Service hold-off time over, scheduling restart.`
//!   and `Service RestartSec=… expired, scheduling restart.` are both
//!   [`SystemdEvent::RestartHoldoff`]; `Unit entered failed state.` is the old failure line.
//! - `Scheduled restart job` without a counter (< v238) gives `counter: None`; counters run
//!   into the thousands.
//! - `Consumed 15h 5min 35.515s CPU time` uses systemd time spans (parsed to µs); v256 appends
//!   `, 111.5M memory peak, 0B memory swap peak` (IEC sizes, parsed to bytes).
//! - Exit status is `n/NAME` (`9/KILL`, `1/FAILURE`, `203/EXEC`, `31/SYS`) and `code=` is
//!   `exited`, `killed` or `dumped`.
//! - Process names in `Killing process 1234 (name) with signal SIGKILL.` may hold spaces and
//!   parentheses: the name ends at `) with signal `.
//!
//! ```
//! use coroner_parse::formats::systemd::{parse, ExitCode, SystemdEvent};
//!
//! let rec = parse(b"earlyoom.service: Main process exited, code=dumped, status=31/SYS").unwrap();
//! assert_eq!(rec.unit, Some(&b"earlyoom.service"[..]));
//! assert_eq!(
//!     rec.event,
//!     SystemdEvent::MainProcessExited { code: ExitCode::Dumped, status: Some(31), status_name: Some(&b"SYS"[..]) }
//! );
//!
//! let rec = parse(b"Started mastodon-web.service - mastodon-web.").unwrap();
//! assert_eq!(rec.unit, Some(&b"mastodon-web.service"[..]));
//! assert_eq!(rec.event, SystemdEvent::Started { description: b"mastodon-web" });
//! ```

use memchr::{memchr, memmem};

use crate::error::ParseError;

/// One lifecycle message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemdRecord<'a> {
    /// The unit the message is about: the `unit: ` prefix, or the unit of a v253+
    /// `Started unit - Description.` line.
    pub unit: Option<&'a [u8]>,
    pub event: SystemdEvent<'a>,
    /// The message after the unit prefix.
    pub text: &'a [u8],
}

/// `code=` of a process exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode<'a> {
    Exited,
    Killed,
    Dumped,
    Other(&'a [u8]),
}

/// What a lifecycle message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemdEvent<'a> {
    /// `Main process exited, code=killed, status=9/KILL`.
    MainProcessExited {
        code: ExitCode<'a>,
        /// Exit status or signal number.
        status: Option<u32>,
        /// `KILL`, `FAILURE`, `EXEC`, …
        status_name: Option<&'a [u8]>,
    },
    /// `Control process exited, code=…, status=…` (ExecStartPre=, ExecStop=, …).
    ControlProcessExited {
        code: ExitCode<'a>,
        status: Option<u32>,
        status_name: Option<&'a [u8]>,
    },
    /// `Failed with result 'oom-kill'.`: `exit-code`, `signal`, `core-dump`, `timeout`,
    /// `watchdog`, `start-limit-hit`, `resources`, `oom-kill`, `protocol`, `exec-condition`.
    FailedWithResult {
        result: &'a [u8],
    },
    /// `Scheduled restart job, restart counter is at N.`
    ScheduledRestart {
        counter: Option<u32>,
    },
    /// Old `Service hold-off time over, scheduling restart.` (also `RestartSec=… expired`).
    RestartHoldoff,
    /// `Start request repeated too quickly.`
    StartLimitHit,
    /// Old `Unit entered failed state.`
    EnteredFailedState,
    /// `Failed to start Description.`
    FailedToStart {
        description: &'a [u8],
    },
    Started {
        description: &'a [u8],
    },
    Starting {
        description: &'a [u8],
    },
    Stopping {
        description: &'a [u8],
    },
    Stopped {
        description: &'a [u8],
    },
    /// `Deactivated successfully.`, older `Succeeded.`
    Deactivated,
    /// `Consumed 1.152s CPU time[, 111.5M memory peak, 0B memory swap peak].`
    ConsumedResources {
        cpu: Option<&'a [u8]>,
        cpu_us: Option<u64>,
        memory_peak: Option<&'a [u8]>,
        memory_peak_bytes: Option<u64>,
        swap_peak: Option<&'a [u8]>,
        swap_peak_bytes: Option<u64>,
    },
    /// `A process of this unit has been killed by the OOM killer.`
    OomKilledProcess,
    /// `systemd-oomd killed N process(es) in this unit.`
    OomdKilled {
        count: Option<u32>,
    },
    /// `Killing process 1234 (name) with signal SIGKILL.`
    KilledProcess {
        pid: u32,
        name: &'a [u8],
        signal: &'a [u8],
    },
    /// `State 'stop-sigterm' timed out. Killing.`
    StateTimedOut {
        state: &'a [u8],
    },
    /// `Reached target Multi-User System.` (`Reached target Reboot.` on the way down).
    ReachedTarget {
        description: &'a [u8],
    },
    /// `Startup finished in 1.704s (kernel) + 4.112s (userspace) = 5.816s.` or `… in 441ms.`
    /// (user managers): the total.
    StartupFinished {
        total_us: Option<u64>,
    },
    /// `Shutting down.`: the manager is going away (reboot, poweroff, user logout).
    ShuttingDown,
    Other,
}

/// Parse one message of PID 1 or a user manager. Anything unrecognised is
/// [`SystemdEvent::Other`]; an error means a recognised wording is broken where a number is
/// required (`Killing process` without a pid).
pub fn parse(message: &[u8]) -> Result<SystemdRecord<'_>, ParseError> {
    let (mut unit, off) = match unit_prefix(message) {
        Some(u) => (Some(u), u.len() + 2),
        None => (None, 0),
    };
    let text = message.get(off..).unwrap_or_default();
    let event = event(text, off, &mut unit)?;
    Ok(SystemdRecord { unit, event, text })
}

fn event<'a>(
    t: &'a [u8],
    off: usize,
    unit: &mut Option<&'a [u8]>,
) -> Result<SystemdEvent<'a>, ParseError> {
    use SystemdEvent as E;
    // First byte first: each message pays for the few wordings that can apply.
    let ev = match t.first() {
        Some(b'M') => match t.strip_prefix(b"Main process exited, ") {
            Some(rest) => {
                let (code, status, status_name) = exit(rest);
                E::MainProcessExited {
                    code,
                    status,
                    status_name,
                }
            }
            None => E::Other,
        },
        Some(b'C') => {
            if let Some(rest) = t.strip_prefix(b"Control process exited, ") {
                let (code, status, status_name) = exit(rest);
                E::ControlProcessExited {
                    code,
                    status,
                    status_name,
                }
            } else if let Some(rest) = t.strip_prefix(b"Consumed ") {
                consumed(rest)
            } else {
                E::Other
            }
        }
        Some(b'F') => {
            if let Some(rest) = t.strip_prefix(b"Failed with result '") {
                match memchr(b'\'', rest) {
                    Some(e) => E::FailedWithResult { result: &rest[..e] },
                    None => E::Other,
                }
            } else if let Some(rest) = t.strip_prefix(b"Failed to start ") {
                E::FailedToStart {
                    description: described(rest, b".", unit),
                }
            } else {
                E::Other
            }
        }
        Some(b'S') => {
            if let Some(rest) = t.strip_prefix(b"Scheduled restart job") {
                E::ScheduledRestart {
                    counter: after(rest, b"restart counter is at ")
                        .and_then(dec_prefix)
                        .and_then(|(n, _)| u32::try_from(n).ok()),
                }
            } else if t.starts_with(b"Service hold-off time over")
                || (t.starts_with(b"Service RestartSec=") && t.ends_with(b"scheduling restart."))
            {
                E::RestartHoldoff
            } else if t.starts_with(b"Start request repeated too quickly") {
                E::StartLimitHit
            } else if t == b"Succeeded." {
                E::Deactivated
            } else if t == b"Shutting down." {
                E::ShuttingDown
            } else if let Some(rest) = t.strip_prefix(b"Startup finished in ") {
                // The total is after `= ` when the kernel/initrd/userspace split is shown.
                let total = match memmem::rfind(rest, b"= ") {
                    Some(i) => &rest[i + 2..],
                    None => rest,
                };
                let total = total.strip_suffix(b".").unwrap_or(total);
                E::StartupFinished {
                    total_us: timespan_us(total),
                }
            } else if let Some(rest) = t.strip_prefix(b"Started ") {
                E::Started {
                    description: described(rest, b".", unit),
                }
            } else if let Some(rest) = t.strip_prefix(b"Starting ") {
                E::Starting {
                    description: described(rest, b"...", unit),
                }
            } else if let Some(rest) = t.strip_prefix(b"Stopping ") {
                E::Stopping {
                    description: described(rest, b"...", unit),
                }
            } else if let Some(rest) = t.strip_prefix(b"Stopped ") {
                E::Stopped {
                    description: described(rest, b".", unit),
                }
            } else if let Some(rest) = t.strip_prefix(b"State '") {
                match memchr(b'\'', rest) {
                    Some(e) if rest[e..].starts_with(b"' timed out") => {
                        E::StateTimedOut { state: &rest[..e] }
                    }
                    _ => E::Other,
                }
            } else {
                E::Other
            }
        }
        Some(b'U') if t.starts_with(b"Unit entered failed state") => E::EnteredFailedState,
        Some(b'R') => match t.strip_prefix(b"Reached target ") {
            Some(rest) => E::ReachedTarget {
                description: described(rest, b".", unit),
            },
            None => E::Other,
        },
        Some(b'D') if t.starts_with(b"Deactivated successfully") => E::Deactivated,
        Some(b'A')
            if t.starts_with(b"A process of this unit has been killed by the OOM killer") =>
        {
            E::OomKilledProcess
        }
        Some(b's') => match t.strip_prefix(b"systemd-oomd killed ") {
            Some(rest) => E::OomdKilled {
                count: dec_prefix(rest).and_then(|(n, _)| u32::try_from(n).ok()),
            },
            None => E::Other,
        },
        Some(b'K') => match t.strip_prefix(b"Killing process ") {
            Some(rest) => killing(rest, off + 16)?,
            None => E::Other,
        },
        _ => E::Other,
    };
    Ok(ev)
}

/// `code=killed, status=9/KILL`
fn exit(rest: &[u8]) -> (ExitCode<'_>, Option<u32>, Option<&[u8]>) {
    let code = match after(rest, b"code=") {
        Some(c) => match &c[..memchr(b',', c).unwrap_or(c.len())] {
            b"exited" => ExitCode::Exited,
            b"killed" => ExitCode::Killed,
            b"dumped" => ExitCode::Dumped,
            other => ExitCode::Other(other),
        },
        None => ExitCode::Other(b""),
    };
    let mut status = None;
    let mut name = None;
    if let Some(s) = after(rest, b"status=")
        && let Some((n, len)) = dec_prefix(s)
    {
        status = u32::try_from(n).ok();
        if let Some(nm) = s[len..].strip_prefix(b"/") {
            let end = nm
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'))
                .unwrap_or(nm.len());
            name = (end > 0).then(|| &nm[..end]);
        }
    }
    (code, status, name)
}

/// `1234 (name) with signal SIGKILL.`
fn killing(rest: &[u8], at: usize) -> Result<SystemdEvent<'_>, ParseError> {
    let (pid, n) = dec_prefix(rest).ok_or(ParseError::new("a pid after 'Killing process '", at))?;
    let pid = u32::try_from(pid).map_err(|_| ParseError::new("a pid that fits 32 bits", at))?;
    let after_pid = &rest[n..];
    let (name, tail) = match after_pid.strip_prefix(b" (") {
        Some(r) => match memmem::find(r, b") with signal ") {
            Some(e) => (&r[..e], &r[e + 2..]),
            None => (&b""[..], after_pid),
        },
        None => (&b""[..], after_pid),
    };
    let signal = after(tail, b"with signal ").map_or(&b""[..], |s| {
        let end = s
            .iter()
            .position(|c| !c.is_ascii_alphanumeric() && *c != b'+' && *c != b'-')
            .unwrap_or(s.len());
        &s[..end]
    });
    Ok(SystemdEvent::KilledProcess { pid, name, signal })
}

/// `Consumed 15h 5min 35.515s CPU time, 111.5M memory peak, 0B memory swap peak.`
fn consumed(rest: &[u8]) -> SystemdEvent<'_> {
    let rest = rest.strip_suffix(b".").unwrap_or(rest);
    let (mut cpu, mut mem, mut swap) = (None, None, None);
    for part in memmem::find_iter(rest, b", ")
        .chain([rest.len()])
        .scan(0, |start, end| {
            let p = rest.get(*start..end);
            *start = end + 2;
            p
        })
    {
        if let Some(v) = part.strip_suffix(b" CPU time") {
            cpu = Some(v);
        } else if let Some(v) = part.strip_suffix(b" memory swap peak") {
            swap = Some(v);
        } else if let Some(v) = part.strip_suffix(b" memory peak") {
            mem = Some(v);
        }
    }
    SystemdEvent::ConsumedResources {
        cpu,
        cpu_us: cpu.and_then(timespan_us),
        memory_peak: mem,
        memory_peak_bytes: mem.and_then(size_bytes),
        swap_peak: swap,
        swap_peak_bytes: swap.and_then(size_bytes),
    }
}

/// The description of a start/stop line, taking the unit of the v253+ `unit - Description`
/// form when there is no prefix unit yet.
fn described<'a>(rest: &'a [u8], end: &[u8], unit: &mut Option<&'a [u8]>) -> &'a [u8] {
    let rest = rest.strip_suffix(end).unwrap_or(rest);
    if let Some(i) = memmem::find(rest, b" - ") {
        let word = &rest[..i];
        if is_unit_name(word) {
            if unit.is_none() {
                *unit = Some(word);
            }
            return &rest[i + 3..];
        }
    }
    rest
}

/// `foo.service: ` at the start of a message.
fn unit_prefix(m: &[u8]) -> Option<&[u8]> {
    // Unit names have no spaces, so the first ": " ends the prefix if there is one.
    let sp = memchr(b' ', m)?;
    let word = m[..sp].strip_suffix(b":")?;
    is_unit_name(word).then_some(word)
}

const UNIT_TYPES: [&[u8]; 11] = [
    b"service",
    b"scope",
    b"slice",
    b"socket",
    b"target",
    b"timer",
    b"mount",
    b"automount",
    b"swap",
    b"path",
    b"device",
];

fn is_unit_name(w: &[u8]) -> bool {
    let Some(dot) = memchr::memrchr(b'.', w) else {
        return false;
    };
    dot > 0
        && w.len() <= 256
        && UNIT_TYPES.contains(&&w[dot + 1..])
        && w[..dot]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b":-_.\\@".contains(&c))
}

/// systemd time span: `15h 5min 35.515s`, `1.152s`, `2d 3h`, `120ms` → µs.
pub fn timespan_us(s: &[u8]) -> Option<u64> {
    let mut total: u64 = 0;
    let mut any = false;
    for tok in s.split(|&c| c == b' ').filter(|t| !t.is_empty()) {
        let digits = tok
            .iter()
            .position(|c| !c.is_ascii_digit() && *c != b'.')
            .unwrap_or(tok.len());
        let unit: u64 = match &tok[digits..] {
            b"us" | b"\xc2\xb5s" => 1,
            b"ms" => 1_000,
            b"s" | b"sec" => 1_000_000,
            b"min" | b"m" => 60_000_000,
            b"h" | b"hr" => 3_600_000_000,
            b"d" => 86_400_000_000,
            b"w" => 604_800_000_000,
            b"month" | b"M" => 2_629_800_000_000,
            b"y" => 31_557_600_000_000,
            _ => return None,
        };
        total = total.checked_add(scaled(&tok[..digits], unit)?)?;
        any = true;
    }
    any.then_some(total)
}

/// IEC size as systemd prints it (`111.5M`, `0B`, `3.9G`) → bytes.
pub fn size_bytes(s: &[u8]) -> Option<u64> {
    let (&last, num) = s.split_last()?;
    let mult: u64 = match last {
        b'B' => 1,
        b'K' => 1 << 10,
        b'M' => 1 << 20,
        b'G' => 1 << 30,
        b'T' => 1 << 40,
        b'P' => 1 << 50,
        b'E' => 1 << 60,
        _ => return None,
    };
    scaled(num, mult)
}

/// `12.34` × unit, exact for up to 6 fraction digits, without floating point.
fn scaled(num: &[u8], unit: u64) -> Option<u64> {
    let (int, frac) = match memchr(b'.', num) {
        Some(d) => (&num[..d], &num[d + 1..]),
        None => (num, &b""[..]),
    };
    let (i, len) = dec_prefix(int)?;
    if len != int.len() {
        return None;
    }
    let mut v = i.checked_mul(unit)?;
    if !frac.is_empty() {
        let frac = &frac[..frac.len().min(6)];
        let (f, flen) = dec_prefix(frac)?;
        if flen != frac.len() {
            return None;
        }
        let div = 10u64.pow(flen as u32);
        v =
            v.checked_add(u64::try_from(u128::from(f) * u128::from(unit) / u128::from(div)).ok()?)?;
    }
    Some(v)
}

fn after<'a>(hay: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    memmem::find(hay, key).map(|i| &hay[i + key.len()..])
}

/// Leading decimal digits → (value, digit count); `None` if none or on overflow.
fn dec_prefix(b: &[u8]) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut len = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
        len += 1;
    }
    (len > 0).then_some((n, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SystemdEvent as E;

    fn ev(m: &[u8]) -> (Option<&[u8]>, SystemdEvent<'_>) {
        let r = parse(m).unwrap();
        (r.unit, r.event)
    }

    #[test]
    fn main_process_exited_codes_and_statuses() {
        assert_eq!(
            ev(b"worker.service: Main process exited, code=killed, status=9/KILL"),
            (
                Some(&b"worker.service"[..]),
                E::MainProcessExited {
                    code: ExitCode::Killed,
                    status: Some(9),
                    status_name: Some(b"KILL")
                }
            )
        );
        assert_eq!(
            ev(b"app.service: Main process exited, code=exited, status=203/EXEC").1,
            E::MainProcessExited {
                code: ExitCode::Exited,
                status: Some(203),
                status_name: Some(b"EXEC")
            }
        );
        assert_eq!(
            ev(b"app.service: Main process exited, code=dumped, status=6/ABRT").1,
            E::MainProcessExited {
                code: ExitCode::Dumped,
                status: Some(6),
                status_name: Some(b"ABRT")
            }
        );
        assert_eq!(
            ev(b"app.service: Control process exited, code=exited, status=1/FAILURE").1,
            E::ControlProcessExited {
                code: ExitCode::Exited,
                status: Some(1),
                status_name: Some(b"FAILURE")
            }
        );
    }

    #[test]
    fn failed_with_result_and_old_failed_state() {
        for r in [
            "exit-code",
            "oom-kill",
            "timeout",
            "signal",
            "core-dump",
            "start-limit-hit",
        ] {
            let line = format!("web.service: Failed with result '{r}'.");
            assert_eq!(
                ev(line.as_bytes()).1,
                E::FailedWithResult {
                    result: r.as_bytes()
                }
            );
        }
        assert_eq!(
            ev(b"electrum.service: Unit entered failed state."),
            (Some(&b"electrum.service"[..]), E::EnteredFailedState)
        );
    }

    #[test]
    fn restart_wordings_old_and_new() {
        assert_eq!(
            ev(b"docker.service: Service hold-off time over, scheduling restart.").1,
            E::RestartHoldoff
        );
        assert_eq!(
            ev(b"docker.service: Service RestartSec=100ms expired, scheduling restart.").1,
            E::RestartHoldoff
        );
        assert_eq!(
            ev(b"task-worker.service: Scheduled restart job, restart counter is at 7694.").1,
            E::ScheduledRestart {
                counter: Some(7694)
            }
        );
        assert_eq!(
            ev(b"docker.service: Scheduled restart job.").1,
            E::ScheduledRestart { counter: None }
        );
        assert_eq!(
            ev(b"docker.service: Start request repeated too quickly.").1,
            E::StartLimitHit
        );
    }

    #[test]
    fn start_stop_description_only_and_v253_forms() {
        assert_eq!(
            ev(b"Started Mastodon sidekiq."),
            (
                None,
                E::Started {
                    description: b"Mastodon sidekiq"
                }
            )
        );
        assert_eq!(
            ev(b"Stopping mastodon-sidekiq..."),
            (
                None,
                E::Stopping {
                    description: b"mastodon-sidekiq"
                }
            )
        );
        assert_eq!(
            ev(b"Started emailengine.service - EmailEngine."),
            (
                Some(&b"emailengine.service"[..]),
                E::Started {
                    description: b"EmailEngine"
                }
            )
        );
        assert_eq!(
            ev(b"Stopped gw.service - Setup system to export rbd images through LIO."),
            (
                Some(&b"gw.service"[..]),
                E::Stopped {
                    description: b"Setup system to export rbd images through LIO"
                }
            )
        );
        assert_eq!(
            ev(b"Starting user@1000.service - User Manager for UID 1000..."),
            (
                Some(&b"user@1000.service"[..]),
                E::Starting {
                    description: b"User Manager for UID 1000"
                }
            )
        );
        // A dash in a description is not a unit separator.
        assert_eq!(
            ev(b"Started Daily apt - download activities."),
            (
                None,
                E::Started {
                    description: b"Daily apt - download activities"
                }
            )
        );
        assert_eq!(
            ev(b"Failed to start Docker Application Container Engine."),
            (
                None,
                E::FailedToStart {
                    description: b"Docker Application Container Engine"
                }
            )
        );
    }

    #[test]
    fn deactivated_both_wordings() {
        assert_eq!(
            ev(b"session-689.scope: Deactivated successfully."),
            (Some(&b"session-689.scope"[..]), E::Deactivated)
        );
        assert_eq!(
            ev(b"systemd-localed.service: Succeeded."),
            (Some(&b"systemd-localed.service"[..]), E::Deactivated)
        );
    }

    #[test]
    fn consumed_cpu_and_v256_memory_peak() {
        assert_eq!(
            ev(b"session-689.scope: Consumed 15h 5min 35.515s CPU time.").1,
            E::ConsumedResources {
                cpu: Some(b"15h 5min 35.515s"),
                cpu_us: Some((15 * 3600 + 5 * 60 + 35) * 1_000_000 + 515_000),
                memory_peak: None,
                memory_peak_bytes: None,
                swap_peak: None,
                swap_peak_bytes: None,
            }
        );
        assert_eq!(
            ev(b"w.service: Consumed 10.511s CPU time, 111.5M memory peak, 0B memory swap peak.").1,
            E::ConsumedResources {
                cpu: Some(b"10.511s"),
                cpu_us: Some(10_511_000),
                memory_peak: Some(b"111.5M"),
                memory_peak_bytes: Some(111 * (1 << 20) + (1 << 19)),
                swap_peak: Some(b"0B"),
                swap_peak_bytes: Some(0),
            }
        );
    }

    #[test]
    fn oom_lines() {
        assert_eq!(
            ev(b"docker-60ef727c9751.scope: A process of this unit has been killed by the OOM killer."),
            (Some(&b"docker-60ef727c9751.scope"[..]), E::OomKilledProcess)
        );
        assert_eq!(
            ev(b"user@1000.service: systemd-oomd killed 3 process(es) in this unit.").1,
            E::OomdKilled { count: Some(3) }
        );
    }

    #[test]
    fn killing_process_with_odd_name() {
        assert_eq!(
            ev(b"web.service: Killing process 1234 (node) with signal SIGKILL.").1,
            E::KilledProcess {
                pid: 1234,
                name: b"node",
                signal: b"SIGKILL"
            }
        );
        assert_eq!(
            ev(b"web.service: Killing process 77 (a) (b c) with signal SIGTERM.").1,
            E::KilledProcess {
                pid: 77,
                name: b"a) (b c",
                signal: b"SIGTERM"
            }
        );
        assert_eq!(
            parse(b"web.service: Killing process x"),
            Err(ParseError::new("a pid after 'Killing process '", 29))
        );
        assert_eq!(
            ev(b"web.service: State 'stop-sigterm' timed out. Killing.").1,
            E::StateTimedOut {
                state: b"stop-sigterm"
            }
        );
    }

    #[test]
    fn unit_prefix_needs_a_unit_type() {
        let r = parse(b"Listening on D-Bus System Message Bus Socket.").unwrap();
        assert_eq!((r.unit, r.event), (None, E::Other));
        let r = parse(b"Failed: something broke").unwrap();
        assert_eq!(r.unit, None);
        let r = parse(b"dev-disk-by\\x2duuid-1234.device: Job timed out.").unwrap();
        assert_eq!(r.unit, Some(&b"dev-disk-by\\x2duuid-1234.device"[..]));
        assert_eq!(r.text, b"Job timed out.");
        assert_eq!(r.event, E::Other);
    }

    #[test]
    fn sizes_and_spans() {
        assert_eq!(timespan_us(b"1.152s"), Some(1_152_000));
        assert_eq!(timespan_us(b"2d 3h"), Some((2 * 24 + 3) * 3_600_000_000));
        assert_eq!(timespan_us(b"120ms"), Some(120_000));
        assert_eq!(timespan_us(b"5 parsecs"), None);
        assert_eq!(
            size_bytes(b"3.9G"),
            Some(3 * (1 << 30) + 9 * (1 << 30) / 10)
        );
        assert_eq!(size_bytes(b"99999999999E"), None);
    }

    #[test]
    fn boot_and_shutdown_lines() {
        assert_eq!(
            ev(b"Reached target Multi-User System."),
            (
                None,
                E::ReachedTarget {
                    description: b"Multi-User System"
                }
            )
        );
        assert_eq!(
            ev(b"Startup finished in 1.704s (kernel) + 4.112s (userspace) = 5.816s.").1,
            E::StartupFinished {
                total_us: Some(5_816_000)
            }
        );
        assert_eq!(
            ev(b"Startup finished in 441ms.").1,
            E::StartupFinished {
                total_us: Some(441_000)
            }
        );
        assert_eq!(ev(b"Shutting down.").1, E::ShuttingDown);
    }

    #[test]
    fn rpi4_manager_messages() {
        use crate::formats::journald_export::Entries;
        let buf = include_bytes!("../../../../tests/fixtures/kjournald/rpi4-journal.export");
        let mut n = std::collections::HashMap::new();
        for e in Entries::new(buf, true, 1 << 20) {
            let (_, Some(Ok(r))) = e.unwrap() else {
                continue;
            };
            if r.identifier == Some(b"systemd") {
                let s = parse(r.message).unwrap();
                let name = format!("{:?}", s.event);
                let name = name.split([' ', '{']).next().unwrap().to_string();
                *n.entry(name).or_insert(0) += 1;
                // The journal's UNIT= field names the unit the prefix names.
                if let (Some(u), Some(obj)) = (s.unit, r.object_unit) {
                    assert_eq!(u, obj, "{:?}", std::str::from_utf8(r.message));
                }
            }
        }
        let get = |k: &str| n.get(k).copied().unwrap_or(0);
        assert_eq!(get("Deactivated"), 62);
        assert_eq!(get("Started"), 95);
        assert_eq!(get("Starting"), 65);
        assert_eq!(get("Stopped"), 65);
        assert_eq!(get("Stopping"), 26);
        assert_eq!(get("FailedWithResult"), 2);
        assert_eq!(get("MainProcessExited"), 1);
        assert_eq!(get("StartupFinished"), 6);
        assert_eq!(get("ShuttingDown"), 1);
        assert!(get("ReachedTarget") > 50, "{n:?}");
    }

    #[test]
    fn never_panics() {
        let fixtures: [&[u8]; 9] = [
            b"earlyoom.service: Main process exited, code=dumped, status=31/SYS",
            b"earlyoom.service: Failed with result 'core-dump'.",
            b"w.service: Consumed 10.511s CPU time, 111.5M memory peak, 0B memory swap peak.",
            b"Started emailengine.service - EmailEngine.",
            b"web.service: Killing process 1234 (node) with signal SIGKILL.",
            b"w.service: Scheduled restart job, restart counter is at 7694.",
            b"web.service: State 'stop-sigterm' timed out. Killing.",
            b"user@1000.service: systemd-oomd killed 3 process(es) in this unit.",
            b"Stopping mastodon-sidekiq...",
        ];
        for f in fixtures {
            for i in 0..=f.len() {
                let _ = parse(&f[..i]);
            }
            let mut m = f.to_vec();
            for i in 0..m.len() {
                for b in [0u8, b'\n', b'=', b'(', b' ', 0xff] {
                    m[i] = b;
                    let _ = parse(&m);
                }
                m[i] = f[i];
            }
        }
    }
}
