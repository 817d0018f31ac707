//! Linux kernel log lines (journald `_TRANSPORT=kernel`, kern.log, dmesg): the printk prefix
//! and the OOM-killer and out-of-space events an analysis looks for.
//!
//! # Grammar in brief
//! ```text
//! line    = ["<" level ">"] ["[" spaces seconds "." micros "] "] message
//! message = comm " invoked oom-killer: gfp_mask=0x" hex ["(" flags ")"] ", " … "order=" n ", oom_score_adj=" n
//!         / "oom-kill:constraint=" … ",task_memcg=" path ",task=" comm ",pid=" n ",uid=" n
//!         / [cause ": "] "Killed process " pid " (" comm ")" [", UID " n ","] " total-vm:" n "kB, anon-rss:" …
//!         / cause ": Kill process " pid " (" comm ") score " n " or sacrifice child"
//!         / "oom_reaper: reaped process " pid " (" comm "), now anon-rss:" n "kB, …"
//!         / any other text
//! ```
//! ```text
//! [  518.061172] Out of memory: Killed process 15925 ((resolved)) total-vm:168424kB, anon-rss:4064kB, file-rss:3584kB, shmem-rss:0kB, UID:0 pgtables:96kB oom_score_adj:0
//! ```
//!
//! # Traps handled
//! - A process name (`comm`, at most 15 bytes) may hold spaces and parentheses: `((resolved))`,
//!   `CPU 0/KVM`, `(name with sp)`. It ends at the `)` followed by the token the kernel prints
//!   next (` total-vm:`, ` score `, `, UID `, `, now `), not at the first `)`.
//! - Kill line punctuation changed: commas between the rss fields, then spaces before `UID:`,
//!   `pgtables:` and `oom_score_adj:` (≥ 5.0); no `UID` at all (4.x); RHEL 7's
//!   `(name), UID 0, total-vm:`; `shmem-rss` missing before ~4.5. Every number is looked up by
//!   its key, so absent ones are `None`.
//! - Pre-5.0 kernels print two lines (`Kill process … score N or sacrifice child` then a bare
//!   `Killed process …`): the first is [`KernelKind::OomSelect`], the second an
//!   [`KernelKind::OomKill`] with [`OomScope::Unstated`].
//! - `Out of memory` (global) vs `Memory cgroup out of memory` (memcg) vs
//!   `Out of memory (oom_kill_allocating_task)`: kept as the raw `cause` and as [`OomScope`].
//! - The summary line is comma-separated `key=value` with a bare `global_oom` flag inside, and
//!   `mems_allowed`/`nodemask` are lists that may hold commas (`0,2-3`): values are cut at the
//!   next known key, not at every comma.
//! - Old `invoked oom-killer` lines have a bare `gfp_mask=0x201da` with no flag names and may
//!   carry `oom_adj=` as well.
//! - The printk time `[  518.050606] ` is right-aligned with spaces; it is seconds since boot,
//!   not a wall clock, so it is exposed as `printk_us` and never as a record time. `dmesg -T`
//!   prints `[Mon May 15 23:09:30 2023] ` instead: stripped and exposed raw (it is local time
//!   and wrong after a suspend).
//! - Only `[seconds.micros]` is a printk time: the OOM task table rows journald carries
//!   without one (`[  15784]  1000 15784 …`), `[  pid  ]` and `[drm]` tags are message text.
//! - The memcg dump's `memory: usage N kB, limit N kB, failcnt N` is
//!   [`KernelKind::MemcgUsage`]; `memory+swap:` and `kmem:` lines are not.
//! - ENOSPC in kernel wording (`No space left on device` in any case, `ENOSPC`, and
//!   filesystem lines reporting `error 28` / `error -28` / `errno=-28`) is
//!   [`KernelKind::NoSpace`] with the device when the line names one.
//!
//! ```
//! use coroner_parse::formats::kernel::{parse, KernelKind, OomScope};
//!
//! let rec = parse(b"[  518.061172] Out of memory: Killed process 15925 ((resolved)) total-vm:168424kB, anon-rss:4064kB, file-rss:3584kB, shmem-rss:0kB, UID:0 pgtables:96kB oom_score_adj:0").unwrap();
//! assert_eq!(rec.printk_us, Some(518_061_172));
//! let KernelKind::OomKill(k) = rec.kind else { panic!() };
//! assert_eq!((k.pid, k.name, k.scope), (15925, &b"(resolved)"[..], OomScope::Global));
//! assert_eq!((k.total_vm_kb, k.anon_rss_kb, k.uid), (Some(168_424), Some(4064), Some(0)));
//! ```

use memchr::{memchr, memchr2, memmem};

use crate::error::ParseError;

/// One kernel line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelRecord<'a> {
    /// The `<N>` syslog level prefix of raw `dmesg -r` / `/dev/kmsg` lines (0–7 level, with
    /// the facility in the upper bits when present).
    pub level: Option<u8>,
    /// The printk time: microseconds since boot (`[  518.050606]`).
    pub printk_us: Option<u64>,
    /// The `dmesg -T` bracket text (`Mon May 15 23:09:30 2023`), local time.
    pub printk_wall: Option<&'a [u8]>,
    /// The message after the prefixes.
    pub message: &'a [u8],
    /// The whole input.
    pub raw: &'a [u8],
    pub kind: KernelKind<'a>,
}

/// What a kernel line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelKind<'a> {
    /// `<comm> invoked oom-killer: …`: the first line of an OOM event.
    OomInvoked(OomInvoked<'a>),
    /// `oom-kill:constraint=…` (4.19+): which task and cgroup were chosen.
    OomSummary(OomSummary<'a>),
    /// `Killed process <pid> (<comm>) total-vm:…`: the kill itself.
    OomKill(OomKill<'a>),
    /// Pre-5.0 `… Kill process <pid> (<comm>) score <n> or sacrifice child`.
    OomSelect(OomSelect<'a>),
    /// `oom_reaper: reaped process <pid> (<comm>), now anon-rss:…`.
    OomReaped(OomReaped<'a>),
    /// `Out of memory and no killable processes...`.
    OomNoKillable,
    /// `memory: usage 1048576kB, limit 1048576kB, failcnt 141`: a memcg at its limit.
    MemcgUsage(MemcgUsage),
    /// A filesystem or block layer reports that a device is full.
    NoSpace(NoSpace<'a>),
    Other,
}

/// Whether the OOM was system-wide or inside a memory cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomScope {
    /// `Out of memory` (also `Out of memory (oom_kill_allocating_task)`).
    Global,
    /// `Memory cgroup out of memory`.
    Memcg,
    /// The pre-5.0 second line `Killed process …` says neither.
    Unstated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomInvoked<'a> {
    /// The task whose allocation failed (not the one killed).
    pub name: &'a [u8],
    pub gfp_mask: Option<u64>,
    /// `GFP_KERNEL_ACCOUNT|__GFP_ZERO`: absent on old kernels.
    pub gfp_flags: Option<&'a [u8]>,
    pub order: Option<u32>,
    pub oom_score_adj: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomSummary<'a> {
    /// `CONSTRAINT_NONE`, `CONSTRAINT_CPUSET`, `CONSTRAINT_MEMORY_POLICY`, `CONSTRAINT_MEMCG`.
    pub constraint: Option<&'a [u8]>,
    pub nodemask: Option<&'a [u8]>,
    pub cpuset: Option<&'a [u8]>,
    pub mems_allowed: Option<&'a [u8]>,
    /// The bare `global_oom` token.
    pub global_oom: bool,
    pub oom_memcg: Option<&'a [u8]>,
    pub task_memcg: Option<&'a [u8]>,
    pub task: Option<&'a [u8]>,
    pub pid: Option<u32>,
    pub uid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomKill<'a> {
    pub scope: OomScope,
    /// The text before `: Killed process` (`Out of memory`, `Memory cgroup out of memory`).
    pub cause: Option<&'a [u8]>,
    pub pid: u32,
    pub name: &'a [u8],
    pub total_vm_kb: Option<u64>,
    pub anon_rss_kb: Option<u64>,
    pub file_rss_kb: Option<u64>,
    pub shmem_rss_kb: Option<u64>,
    pub uid: Option<u32>,
    pub pgtables_kb: Option<u64>,
    pub oom_score_adj: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomSelect<'a> {
    pub scope: OomScope,
    pub pid: u32,
    pub name: &'a [u8],
    pub score: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomReaped<'a> {
    pub pid: u32,
    pub name: &'a [u8],
    pub anon_rss_kb: Option<u64>,
    pub file_rss_kb: Option<u64>,
    pub shmem_rss_kb: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemcgUsage {
    pub usage_kb: Option<u64>,
    pub limit_kb: Option<u64>,
    pub failcnt: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSpace<'a> {
    /// `sda1` from `(device sda1)` or `EXT4-fs (sda1):`.
    pub device: Option<&'a [u8]>,
}

/// Parse one kernel line (the message of a journald kernel entry, or a kern.log/dmesg line
/// after its syslog prefix). Unrecognised text is [`KernelKind::Other`], and so is an OOM
/// wording whose pid or name cannot be read; the only error is a printk time cut short
/// (`[  518.05` at the end of the input).
pub fn parse(input: &[u8]) -> Result<KernelRecord<'_>, ParseError> {
    let mut at = 0;
    let mut level = None;
    // `<6>`: anything else starting with `<` is message text.
    if input.first() == Some(&b'<')
        && let Some((n, len)) = dec_prefix(&input[1..])
        && input.get(1 + len) == Some(&b'>')
    {
        level = u8::try_from(n).ok();
        at = 2 + len;
    }
    let mut printk_us = None;
    let mut printk_wall = None;
    if input.get(at) == Some(&b'[') {
        let open = at;
        let inner = &input[open + 1..];
        let inner = &inner[..memchr(b']', inner).unwrap_or(inner.len())];
        let close = open + 1 + inner.len();
        let trimmed = trim_start(inner);
        if let Some(us) = printk_time(trimmed) {
            if close == input.len() {
                // `[  518.05` and nothing more: a printk prefix cut short.
                return Err(ParseError::new("']' after the printk time", close));
            }
            printk_us = Some(us);
        } else if close < input.len() && is_dmesg_wall(inner) {
            printk_wall = Some(inner);
        } else {
            // A bracket that is message text: `[drm] …`, the OOM task table's
            // `[  pid  ]` header and `[  15784]  1000 …` rows (no `.` in the number).
            return Ok(classify(input, level, None, None, at));
        }
        at = close + 1;
        if input.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    Ok(classify(input, level, printk_us, printk_wall, at))
}

fn classify<'a>(
    input: &'a [u8],
    level: Option<u8>,
    printk_us: Option<u64>,
    printk_wall: Option<&'a [u8]>,
    at: usize,
) -> KernelRecord<'a> {
    let message = input.get(at..).unwrap_or_default();
    KernelRecord {
        level,
        printk_us,
        printk_wall,
        message,
        raw: input,
        kind: kind(message),
    }
}

fn kind(m: &[u8]) -> KernelKind<'_> {
    if let Some(rest) = m.strip_prefix(b"oom-kill:") {
        return KernelKind::OomSummary(summary(rest));
    }
    if let Some(rest) = m.strip_prefix(b"oom_reaper: reaped process ") {
        return match proc_and_name(rest) {
            Some((pid, name, tail)) => KernelKind::OomReaped(OomReaped {
                pid,
                name,
                anon_rss_kb: kv_u64(tail, b"anon-rss:"),
                file_rss_kb: kv_u64(tail, b"file-rss:"),
                shmem_rss_kb: kv_u64(tail, b"shmem-rss:"),
            }),
            None => KernelKind::Other,
        };
    }
    if let Some(rest) = m.strip_prefix(b"Killed process ") {
        return kill(OomScope::Unstated, None, rest);
    }
    if m.starts_with(b"Out of memory and no killable") {
        return KernelKind::OomNoKillable;
    }
    if let Some(rest) = m.strip_prefix(b"memory: usage ") {
        return KernelKind::MemcgUsage(MemcgUsage {
            usage_kb: dec_prefix(rest).map(|(n, _)| n),
            limit_kb: kv_u64(rest, b"limit "),
            failcnt: kv_u64(rest, b"failcnt "),
        });
    }
    if let Some(i) = memmem::find(m, b": Killed process ") {
        let cause = &m[..i];
        return kill(scope_of(cause), Some(cause), &m[i + 17..]);
    }
    if let Some(i) = memmem::find(m, b": Kill process ") {
        return match proc_and_name(&m[i + 15..]) {
            Some((pid, name, tail)) => KernelKind::OomSelect(OomSelect {
                scope: scope_of(&m[..i]),
                pid,
                name,
                score: kv_u64(tail, b"score "),
            }),
            None => KernelKind::Other,
        };
    }
    if let Some(i) = memmem::find(m, b" invoked oom-killer: ") {
        return KernelKind::OomInvoked(invoked(&m[..i], &m[i + 21..]));
    }
    match no_space(m) {
        Some(ns) => KernelKind::NoSpace(ns),
        None => KernelKind::Other,
    }
}

fn scope_of(cause: &[u8]) -> OomScope {
    if cause.starts_with(b"Memory cgroup") {
        OomScope::Memcg
    } else {
        OomScope::Global
    }
}

fn kill<'a>(scope: OomScope, cause: Option<&'a [u8]>, rest: &'a [u8]) -> KernelKind<'a> {
    let Some((pid, name, tail)) = proc_and_name(rest) else {
        return KernelKind::Other;
    };
    KernelKind::OomKill(OomKill {
        scope,
        cause,
        pid,
        name,
        total_vm_kb: kv_u64(tail, b"total-vm:"),
        anon_rss_kb: kv_u64(tail, b"anon-rss:"),
        file_rss_kb: kv_u64(tail, b"file-rss:"),
        shmem_rss_kb: kv_u64(tail, b"shmem-rss:"),
        // ≥ 5.0 `UID:0`, RHEL 7 `, UID 0,`.
        uid: kv_u64(tail, b"UID:")
            .or_else(|| kv_u64(tail, b"UID "))
            .and_then(|n| u32::try_from(n).ok()),
        pgtables_kb: kv_u64(tail, b"pgtables:"),
        oom_score_adj: kv_i32(tail, b"oom_score_adj:"),
    })
}

/// What the kernel prints right after a `(comm)`: the `)` that ends the name is the one
/// followed by one of these (or by the end of the line).
const AFTER_NAME: [&[u8]; 5] = [b" total-vm:", b" score ", b", UID ", b", now ", b" vsz:"];

/// `1234 (comm) rest` → (pid, comm, rest after the `)`).
fn proc_and_name(s: &[u8]) -> Option<(u32, &[u8], &[u8])> {
    let (pid, n) = dec_prefix(s)?;
    let pid = u32::try_from(pid).ok()?;
    let rest = s.get(n..)?.strip_prefix(b" (")?;
    let mut close = None;
    for i in memchr::memchr_iter(b')', rest) {
        let after = &rest[i + 1..];
        if after.is_empty() || AFTER_NAME.iter().any(|t| after.starts_with(t)) {
            close = Some(i);
            break;
        }
    }
    // Unknown continuation (a future kernel's wording): the first `)` is the best guess.
    let close = close.or_else(|| memchr(b')', rest))?;
    Some((pid, &rest[..close], &rest[close + 1..]))
}

fn invoked<'a>(name: &'a [u8], rest: &'a [u8]) -> OomInvoked<'a> {
    let mut gfp_mask = None;
    let mut gfp_flags = None;
    if let Some(hex) = after(rest, b"gfp_mask=0x") {
        let digits = hex.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        gfp_mask = hex_u64(&hex[..digits]);
        if let Some(flags) = hex[digits..].strip_prefix(b"(") {
            gfp_flags = memchr(b')', flags).map(|e| &flags[..e]);
        }
    }
    OomInvoked {
        name,
        gfp_mask,
        gfp_flags,
        order: kv_u64(rest, b"order=").and_then(|n| u32::try_from(n).ok()),
        oom_score_adj: kv_i32(rest, b"oom_score_adj="),
    }
}

/// `constraint=…,nodemask=…,cpuset=…,mems_allowed=…[,global_oom][,oom_memcg=…],task_memcg=…,task=…,pid=…,uid=…`
fn summary(s: &[u8]) -> OomSummary<'_> {
    let mut out = OomSummary {
        constraint: None,
        nodemask: None,
        cpuset: None,
        mems_allowed: None,
        global_oom: false,
        oom_memcg: None,
        task_memcg: None,
        task: None,
        pid: None,
        uid: None,
    };
    let mut head = s;
    // The tail keys come last and the comm may hold commas: cut them from the right.
    if let Some((h, v)) = split_last(head, b",uid=") {
        out.uid = dec_all(v).and_then(|n| u32::try_from(n).ok());
        head = h;
    }
    if let Some((h, v)) = split_last(head, b",pid=") {
        out.pid = dec_all(v).and_then(|n| u32::try_from(n).ok());
        head = h;
    }
    if let Some((h, v)) = split_last(head, b",task=") {
        out.task = Some(v);
        head = h;
    }
    // The rest from the left: each value runs up to the next known key, so list values
    // (`mems_allowed=0,2-3`) keep their commas.
    if let Some((h, v)) = split_first(head, b",task_memcg=") {
        out.task_memcg = Some(v);
        head = h;
    }
    if let Some((h, v)) = split_first(head, b",oom_memcg=") {
        out.oom_memcg = Some(v);
        head = h;
    }
    if let Some(i) = memmem::find(head, b",global_oom") {
        out.global_oom = true;
        head = &head[..i];
    }
    if let Some((h, v)) = split_first(head, b",mems_allowed=") {
        out.mems_allowed = Some(v);
        head = h;
    }
    if let Some((h, v)) = split_first(head, b",cpuset=") {
        out.cpuset = Some(v);
        head = h;
    }
    if let Some((h, v)) = split_first(head, b",nodemask=") {
        out.nodemask = Some(v);
        head = h;
    }
    out.constraint = head.strip_prefix(b"constraint=");
    out
}

/// `No space left on device` (any case), `ENOSPC`, or a filesystem line with errno 28.
fn no_space(m: &[u8]) -> Option<NoSpace<'_>> {
    let hit = find_ascii_nocase(m, b"no space left on device")
        || memmem::find(m, b"ENOSPC").is_some()
        || (is_fs_line(m)
            && [
                &b"error -28"[..],
                b"error 28",
                b"errno=-28",
                b"err=-28",
                b"error=-28",
            ]
            .iter()
            .any(|p| {
                memmem::find_iter(m, p).any(|i| !m.get(i + p.len()).is_some_and(u8::is_ascii_digit))
            }));
    hit.then(|| NoSpace { device: device(m) })
}

fn is_fs_line(m: &[u8]) -> bool {
    [
        &b"EXT4-fs"[..],
        b"EXT3-fs",
        b"EXT2-fs",
        b"XFS",
        b"BTRFS",
        b"F2FS-fs",
        b"JBD2",
    ]
    .iter()
    .any(|p| m.starts_with(p))
}

/// `(device sda1)`, else the `(sda1)` right after the first word (`EXT4-fs (sda1): …`).
fn device(m: &[u8]) -> Option<&[u8]> {
    if let Some(rest) = after(m, b"(device ") {
        return memchr(b')', rest).map(|e| &rest[..e]);
    }
    let sp = memchr(b' ', m)?;
    let rest = m.get(sp + 1..)?.strip_prefix(b"(")?;
    let e = memchr2(b')', b' ', rest)?;
    (rest[e] == b')' && e > 0).then(|| &rest[..e])
}

fn find_ascii_nocase(hay: &[u8], needle: &[u8]) -> bool {
    // Needles here are lower-case ASCII; try only where the first byte matches in either case.
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), hay).any(|i| {
        hay.get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// `dmesg -T`: `Mon May 15 23:09:30 2023`.
fn is_dmesg_wall(b: &[u8]) -> bool {
    b.len() == 24
        && b[3] == b' '
        && b[7] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[20..].iter().all(u8::is_ascii_digit)
}

/// `518.050606` → 518_050_606 µs. Fewer than 6 fraction digits are scaled, more are cut.
fn printk_time(b: &[u8]) -> Option<u64> {
    let (secs, n) = dec_prefix(b)?;
    let frac = b.get(n..)?.strip_prefix(b".")?;
    if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut us = 0u64;
    for i in 0..6 {
        us = us * 10 + frac.get(i).map_or(0, |&c| u64::from(c - b'0'));
    }
    secs.checked_mul(1_000_000)?.checked_add(us)
}

fn trim_start(mut b: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = b {
        b = rest;
    }
    b
}

fn after<'a>(hay: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    memmem::find(hay, key).map(|i| &hay[i + key.len()..])
}

fn split_last<'a>(hay: &'a [u8], key: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    memmem::rfind(hay, key).map(|i| (&hay[..i], &hay[i + key.len()..]))
}

fn split_first<'a>(hay: &'a [u8], key: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    memmem::find(hay, key).map(|i| (&hay[..i], &hay[i + key.len()..]))
}

fn kv_u64(hay: &[u8], key: &[u8]) -> Option<u64> {
    dec_prefix(after(hay, key)?).map(|(n, _)| n)
}

fn kv_i32(hay: &[u8], key: &[u8]) -> Option<i32> {
    let v = after(hay, key)?;
    let (neg, digits) = match v.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, v),
    };
    let n = i64::try_from(dec_prefix(digits)?.0).ok()?;
    i32::try_from(if neg { -n } else { n }).ok()
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

fn dec_all(b: &[u8]) -> Option<u64> {
    dec_prefix(b).and_then(|(n, len)| (len == b.len()).then_some(n))
}

fn hex_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut n = 0u64;
    for &c in b {
        n = (n << 4) | u64::from((c as char).to_digit(16)?);
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oom_kill(line: &[u8]) -> OomKill<'_> {
        match parse(line).unwrap().kind {
            KernelKind::OomKill(k) => k,
            other => panic!("{other:?}"),
        }
    }

    const KILL_5X: &[u8] = b"[  518.061172] Out of memory: Killed process 15925 ((resolved)) total-vm:168424kB, anon-rss:4064kB, file-rss:3584kB, shmem-rss:0kB, UID:0 pgtables:96kB oom_score_adj:0";
    const KILL_MEMCG: &[u8] = b"Memory cgroup out of memory: Killed process 51947 (tail) total-vm:459896kB, anon-rss:458176kB, file-rss:772kB, shmem-rss:0kB, UID:0 pgtables:948kB oom_score_adj:-998";
    const KILL_RHEL7: &[u8] = b"Killed process 42453 (memcg_test_1), UID 0, total-vm:7296kB, anon-rss:96kB, file-rss:164kB, shmem-rss:0kB";
    const SELECT_4X: &[u8] =
        b"[259563.476003] Out of memory: Kill process 31490 (corerun) score 897 or sacrifice child";
    const SUMMARY_GLOBAL: &[u8] = b"[159805.364253] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=3f6d1b5ad292,mems_allowed=0,global_oom,task_memcg=/docker/3f6d1b5ad292,task=gunicorn,pid=1026306,uid=32767";
    const SUMMARY_MEMCG: &[u8] = b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-ec9e.scope,mems_allowed=0-1,oom_memcg=/kubepods.slice/kubepods-burstable.slice,task_memcg=/kubepods.slice/kubepods-burstable.slice/cri-containerd-ec9e.scope,task=pt_main_thread,pid=461754,uid=0";
    const INVOKED: &[u8] = b"[1310061.327439] CPU 0/KVM invoked oom-killer: gfp_mask=0x15000c0(GFP_KERNEL_ACCOUNT), nodemask=(null), order=0, oom_score_adj=0";
    const REAPED: &[u8] = b"[  518.053407] oom_reaper: reaped process 15784 (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB";

    #[test]
    fn post_5_0_kill_with_parenthesised_name() {
        let rec = parse(KILL_5X).unwrap();
        assert_eq!(rec.printk_us, Some(518_061_172));
        assert!(rec.message.starts_with(b"Out of memory: Killed"));
        let k = oom_kill(KILL_5X);
        assert_eq!(k.scope, OomScope::Global);
        assert_eq!(k.cause, Some(&b"Out of memory"[..]));
        assert_eq!((k.pid, k.name), (15925, &b"(resolved)"[..]));
        assert_eq!(k.total_vm_kb, Some(168_424));
        assert_eq!(k.anon_rss_kb, Some(4064));
        assert_eq!(k.file_rss_kb, Some(3584));
        assert_eq!(k.shmem_rss_kb, Some(0));
        assert_eq!(k.uid, Some(0));
        assert_eq!(k.pgtables_kb, Some(96));
        assert_eq!(k.oom_score_adj, Some(0));
    }

    #[test]
    fn name_with_space_and_parentheses() {
        let k = oom_kill(b"Out of memory: Killed process 7 (a) b (c) total-vm:10kB, anon-rss:1kB, file-rss:2kB, shmem-rss:3kB, UID:1000 pgtables:4kB oom_score_adj:5");
        assert_eq!((k.pid, k.name), (7, &b"a) b (c"[..]));
        assert_eq!((k.uid, k.oom_score_adj), (Some(1000), Some(5)));
    }

    #[test]
    fn memcg_kill_with_negative_score_adj() {
        let k = oom_kill(KILL_MEMCG);
        assert_eq!(k.scope, OomScope::Memcg);
        assert_eq!((k.pid, k.name), (51947, &b"tail"[..]));
        assert_eq!((k.anon_rss_kb, k.pgtables_kb), (Some(458_176), Some(948)));
        assert_eq!(k.oom_score_adj, Some(-998));
    }

    #[test]
    fn legacy_two_line_form_and_rhel7_uid() {
        let rec = parse(SELECT_4X).unwrap();
        assert_eq!(rec.printk_us, Some(259_563_476_003));
        assert_eq!(
            rec.kind,
            KernelKind::OomSelect(OomSelect {
                scope: OomScope::Global,
                pid: 31490,
                name: b"corerun",
                score: Some(897)
            })
        );
        let k = oom_kill(KILL_RHEL7);
        assert_eq!(k.scope, OomScope::Unstated);
        assert_eq!(k.cause, None);
        assert_eq!(
            (k.pid, k.name, k.uid),
            (42453, &b"memcg_test_1"[..], Some(0))
        );
        assert_eq!((k.total_vm_kb, k.shmem_rss_kb), (Some(7296), Some(0)));
        assert_eq!((k.pgtables_kb, k.oom_score_adj), (None, None));
        // 4.x second line: no UID, no pgtables; pre-4.5 also no shmem-rss.
        let k =
            oom_kill(b"Killed process 31490 (corerun) total-vm:100kB, anon-rss:50kB, file-rss:0kB");
        assert_eq!(
            (k.name, k.uid, k.shmem_rss_kb),
            (&b"corerun"[..], None, None)
        );
        let rec = parse(b"Memory cgroup out of memory: Kill process 42453 (memcg_test_1) score 0 or sacrifice child").unwrap();
        assert!(
            matches!(rec.kind, KernelKind::OomSelect(s) if s.scope == OomScope::Memcg && s.score == Some(0))
        );
    }

    #[test]
    fn summary_with_bare_global_oom_flag() {
        let KernelKind::OomSummary(s) = parse(SUMMARY_GLOBAL).unwrap().kind else {
            panic!()
        };
        assert_eq!(s.constraint, Some(&b"CONSTRAINT_NONE"[..]));
        assert_eq!(s.nodemask, Some(&b"(null)"[..]));
        assert_eq!(s.cpuset, Some(&b"3f6d1b5ad292"[..]));
        assert_eq!(s.mems_allowed, Some(&b"0"[..]));
        assert!(s.global_oom);
        assert_eq!(s.oom_memcg, None);
        assert_eq!(s.task_memcg, Some(&b"/docker/3f6d1b5ad292"[..]));
        assert_eq!(s.task, Some(&b"gunicorn"[..]));
        assert_eq!((s.pid, s.uid), (Some(1_026_306), Some(32767)));
    }

    #[test]
    fn summary_memcg_and_list_values_with_commas() {
        let KernelKind::OomSummary(s) = parse(SUMMARY_MEMCG).unwrap().kind else {
            panic!()
        };
        assert_eq!(s.constraint, Some(&b"CONSTRAINT_MEMCG"[..]));
        assert!(!s.global_oom);
        assert_eq!(s.mems_allowed, Some(&b"0-1"[..]));
        assert_eq!(
            s.oom_memcg,
            Some(&b"/kubepods.slice/kubepods-burstable.slice"[..])
        );
        assert_eq!(
            (s.task, s.pid, s.uid),
            (Some(&b"pt_main_thread"[..]), Some(461_754), Some(0))
        );
        let line = b"oom-kill:constraint=CONSTRAINT_CPUSET,nodemask=0,2-3,cpuset=/,mems_allowed=0,2-3,task_memcg=/,task=a,b c,pid=5,uid=6";
        let KernelKind::OomSummary(s) = parse(line).unwrap().kind else {
            panic!()
        };
        assert_eq!(s.nodemask, Some(&b"0,2-3"[..]));
        assert_eq!(s.mems_allowed, Some(&b"0,2-3"[..]));
        assert_eq!((s.task, s.pid), (Some(&b"a,b c"[..]), Some(5)));
    }

    #[test]
    fn invoked_new_and_old_forms() {
        let KernelKind::OomInvoked(i) = parse(INVOKED).unwrap().kind else {
            panic!()
        };
        assert_eq!(i.name, b"CPU 0/KVM");
        assert_eq!(i.gfp_mask, Some(0x15000c0));
        assert_eq!(i.gfp_flags, Some(&b"GFP_KERNEL_ACCOUNT"[..]));
        assert_eq!((i.order, i.oom_score_adj), (Some(0), Some(0)));
        let old =
            b"java invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0, oom_score_adj=-17";
        let KernelKind::OomInvoked(i) = parse(old).unwrap().kind else {
            panic!()
        };
        assert_eq!(
            (i.name, i.gfp_mask, i.gfp_flags),
            (&b"java"[..], Some(0x201da), None)
        );
        assert_eq!(i.oom_score_adj, Some(-17));
    }

    #[test]
    fn reaper_line() {
        let KernelKind::OomReaped(r) = parse(REAPED).unwrap().kind else {
            panic!()
        };
        assert_eq!((r.pid, r.name), (15784, &b"python3"[..]));
        assert_eq!(
            (r.anon_rss_kb, r.file_rss_kb, r.shmem_rss_kb),
            (Some(0), Some(0), Some(0))
        );
        let KernelKind::OomReaped(r) = parse(b"oom_reaper: reaped process 9 ((sd-pam)), now anon-rss:12kB, file-rss:0kB, shmem-rss:0kB").unwrap().kind else { panic!() };
        assert_eq!((r.name, r.anon_rss_kb), (&b"(sd-pam)"[..], Some(12)));
    }

    #[test]
    fn printk_prefixes() {
        let rec = parse(b"<6>[    0.000000] Booting Linux on physical CPU 0x0").unwrap();
        assert_eq!((rec.level, rec.printk_us), (Some(6), Some(0)));
        assert_eq!(rec.message, b"Booting Linux on physical CPU 0x0");
        assert_eq!(rec.kind, KernelKind::Other);
        let rec = parse(b"[Mon May 15 23:09:30 2023] Out of memory and no killable processes...")
            .unwrap();
        assert_eq!(rec.printk_wall, Some(&b"Mon May 15 23:09:30 2023"[..]));
        assert_eq!(rec.kind, KernelKind::OomNoKillable);
        // No prefix (journald kernel transport) and a bracket that is message text.
        let rec = parse(b"[drm] Initialized vc4 0.0.0").unwrap();
        assert_eq!(
            (rec.printk_us, rec.message),
            (None, &b"[drm] Initialized vc4 0.0.0"[..])
        );
        let rec = parse(b"[  492.674226] [  pid  ]   uid  tgid total_vm      rss name").unwrap();
        assert_eq!(rec.printk_us, Some(492_674_226));
        assert!(rec.message.starts_with(b"[  pid  ]"));
        assert_eq!(rec.raw.len(), 59);
        assert_eq!(
            parse(b"[  518.05"),
            Err(ParseError::new("']' after the printk time", 9))
        );
        let rec = parse(b"[  518x] x").unwrap();
        assert_eq!((rec.printk_us, rec.message), (None, &b"[  518x] x"[..]));
        let rec = parse(b"<3 is not a level").unwrap();
        assert_eq!((rec.level, rec.message), (None, &b"<3 is not a level"[..]));
    }

    #[test]
    fn task_table_rows_without_printk_time_are_text() {
        // journald's kernel transport carries no printk time: the row's `[  15784]` is not one.
        let row =
            b"[  15784]  1000 15784     2991     1072    65536        0             0 python3";
        let rec = parse(row).unwrap();
        assert_eq!(
            (rec.printk_us, rec.message, rec.kind),
            (None, &row[..], KernelKind::Other)
        );
    }

    #[test]
    fn memcg_usage_line() {
        let rec = parse(b"memory: usage 1048576kB, limit 1048576kB, failcnt 141").unwrap();
        assert_eq!(
            rec.kind,
            KernelKind::MemcgUsage(MemcgUsage {
                usage_kb: Some(1_048_576),
                limit_kb: Some(1_048_576),
                failcnt: Some(141)
            })
        );
        // `memory+swap:` and `kmem:` lines of the same dump are not the memory line.
        let rec =
            parse(b"memory+swap: usage 1048576kB, limit 9007199254740988kB, failcnt 0").unwrap();
        assert_eq!(rec.kind, KernelKind::Other);
    }

    #[test]
    fn allocating_task_cause_is_global() {
        let k = oom_kill(b"Out of memory (oom_kill_allocating_task): Killed process 300 (stress) total-vm:8kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:1000");
        assert_eq!(k.scope, OomScope::Global);
        assert_eq!(
            k.cause,
            Some(&b"Out of memory (oom_kill_allocating_task)"[..])
        );
        assert_eq!(
            (k.pid, k.name, k.oom_score_adj),
            (300, &b"stress"[..], Some(1000))
        );
    }

    #[test]
    fn enospc_wordings() {
        let rec = parse(b"[ 1234.5] EXT4-fs (dm-0): Delayed block allocation failed for inode 131 at logical offset 0 with max blocks 1 with error 28").unwrap();
        assert_eq!(
            rec.kind,
            KernelKind::NoSpace(NoSpace {
                device: Some(b"dm-0")
            })
        );
        let rec =
            parse(b"EXT4-fs error (device sda1): ext4_mb_new_blocks: No space left on device")
                .unwrap();
        assert_eq!(
            rec.kind,
            KernelKind::NoSpace(NoSpace {
                device: Some(b"sda1")
            })
        );
        let rec = parse(b"XFS (vdb): ENOSPC reserving per-AG metadata pool").unwrap();
        assert_eq!(
            rec.kind,
            KernelKind::NoSpace(NoSpace {
                device: Some(b"vdb")
            })
        );
        let rec = parse(b"overlayfs: write failed: NO SPACE LEFT ON DEVICE").unwrap();
        assert_eq!(rec.kind, KernelKind::NoSpace(NoSpace { device: None }));
        // errno 28 counts only on filesystem lines and not as a prefix of 280.
        assert_eq!(parse(b"usb 1-1: error 28").unwrap().kind, KernelKind::Other);
        assert_eq!(
            parse(b"EXT4-fs (sda1): error 280").unwrap().kind,
            KernelKind::Other
        );
    }

    #[test]
    fn rpi4_kernel_messages() {
        // A healthy boot: every kernel message parses, none is an OOM or ENOSPC event, and
        // journald's kernel transport carries no printk time.
        use crate::formats::journald_export::{Entries, Transport};
        let buf = include_bytes!("../../../../tests/fixtures/kjournald/rpi4-journal.export");
        let mut n = 0;
        for e in Entries::new(buf, true, 1 << 20) {
            let (_, Some(Ok(r))) = e.unwrap() else {
                continue;
            };
            if r.transport == Some(Transport::Kernel) {
                let k = parse(r.message).unwrap();
                assert_eq!(
                    k.kind,
                    KernelKind::Other,
                    "{:?}",
                    std::str::from_utf8(r.message)
                );
                assert_eq!(k.printk_us, None);
                n += 1;
            }
        }
        assert_eq!(n, 137);
    }

    #[test]
    fn never_panics() {
        let fixtures: [&[u8]; 10] = [
            KILL_5X,
            KILL_MEMCG,
            KILL_RHEL7,
            SELECT_4X,
            SUMMARY_GLOBAL,
            SUMMARY_MEMCG,
            INVOKED,
            REAPED,
            b"<6>[Mon May 15 23:09:30 2023] EXT4-fs error (device sda1): No space left on device",
            b"[99999999999999999999.1] x",
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
