//! `socket_states.parquet` and `timewait.parquet`: what the socket-state captures of a
//! bundle (`netstat -nat`/`-tan[pW]`, `ss -tan[po]`/`-Htan`/`-tn state ...`,
//! `/proc/net/tcp[6]`) say about TCP states and ephemeral-port pressure.
//!
//! The runbook's `awk '{print $6}' | sort | uniq -c` over a netstat capture, done for every
//! tool's rendering at once: [`CaptureCounts`] counts the sockets of **one capture** per
//! [`TcpState`] (the kernel names of [`TcpState::name`], so ss's `TIME-WAIT` and `ESTAB` count
//! with netstat's `TIME_WAIT` and `ESTABLISHED`), and its TIME_WAIT sockets per
//! (local address, remote ip:port): the 4-tuple space a new outgoing `connect()` to that
//! remote draws its source port from. When one group holds about as many TIME_WAIT sockets
//! as the ephemeral range has ports, `connect()` fails with `Cannot assign requested address`
//! (EADDRNOTAVAIL): [`TimewaitRow::utilization`] near or above 1.
//!
//! The accumulator is fed line by line ([`CaptureCounts::observe_line`]); counts add and the
//! TIME_WAIT groups are kept by a rule that depends only on the keys seen (below), so chunk
//! accumulators [`merge`](CaptureCounts::merge) exactly and in any order. After the pass,
//! [`state_rows`] and [`timewait_rows`] make the table rows and [`states_batch`] /
//! [`timewait_batch`] the Arrow batches of the contract.
//!
//! The port budget is the caller's choice: [`port_range`] reads an `ip_local_port_range`
//! file of the bundle, and [`timewait_rows`] takes the result, or `None` for the kernel
//! default 32768-60999 ([`DEFAULT_PORTS`] = 28,232). This module never looks for the file.
//!
//! # Normalisation
//! - Only TCP rows count (netstat `tcp`/`tcp6`, ss `tcp` or no Netid column, every /proc
//!   row). `udp`, `raw`, ... rows are counted in [`CaptureCounts::other_rows`] only; netstat's
//!   UNIX section, blank lines and ss detail lines in [`CaptureCounts::other_lines`]. So the
//!   counts equal awk's over a `-t` capture; over `netstat -a` they differ from awk's by the
//!   udp rows, which awk counts by their sixth field.
//! - `local_addr` is the normalised address ([`Addr::ip`]: brackets and `%scope` stripped,
//!   v4-mapped IPv6 as IPv4), the local port is not part of the group. `remote` is
//!   `ip:port`, IPv6 as `[ip]:port`. An address that does not decode (a host name without
//!   `-n`, an address netstat cut without `-W`) is kept as written, brackets and scope
//!   stripped; a service name stands for the port (`localhost:redis`), `*` for none.
//!
//! # Limits
//! - **`ss ... state <name>` captures** print no State column, and the filter's state is not
//!   written in the file (only the header shows that the column is missing:
//!   [`CaptureCounts::saw_stateless_header`]). Their rows count as
//!   [`unparsed_lines`](CaptureCounts::unparsed_lines) unless the caller passes the state
//!   with [`CaptureCounts::set_implied_state`] (from the command line or file name it knows).
//!   The implied state applies to every row without a state of its own, wherever it is in
//!   the file, so a chunk that starts after the header counts the same; rows that carry a
//!   state keep it.
//! - **At most [`MAX_GROUPS`] (100,000) distinct TIME_WAIT groups per capture** are kept in
//!   memory. Beyond that, the groups kept are the smallest by (remote port, remote address,
//!   local address), and the TIME_WAIT sockets of every other group are counted together
//!   ([`CaptureCounts::folded_time_wait`], the `<other>` row). Keeping by key rather than by
//!   arrival makes the kept set depend only on which keys were seen, never on chunking or
//!   merge order, and every kept group's count is exact. Remote port first means the groups
//!   towards service ports (6379, 5432, 443: the outgoing-connection pressure this table is
//!   for) are kept before the per-client groups of a busy server's own TIME_WAIT sockets,
//!   whose remote ports are the clients' ephemeral ones.
//! - **At most [`MAX_ROWS`] (1,000) `timewait` rows per capture**: the 999 largest groups,
//!   then one `<other>` row (local and remote `<other>`, utilization null because it sums
//!   many 4-tuple spaces) with every TIME_WAIT socket of the groups not listed, folded ones
//!   included. The `time_wait` column of a capture therefore always sums to its TIME_WAIT
//!   count.
//! - A capture is one file (or one rendering). Pass the two halves of `/proc/net/tcp` and
//!   `/proc/net/tcp6` through one accumulator to count the machine's sockets once.
//!
//! ```
//! use coroner_analyze::captures::{self, CaptureCounts};
//! use coroner_parse::format::Envelope;
//! let mut c = CaptureCounts::default();
//! for line in [
//!     &b"Active Internet connections (servers and established)"[..],
//!     b"Proto Recv-Q Send-Q Local Address           Foreign Address         State      ",
//!     b"tcp        0      0 10.0.4.21:40001         10.0.4.30:6379          TIME_WAIT  ",
//!     b"tcp        0      0 10.0.4.21:40002         10.0.4.30:6379          TIME_WAIT  ",
//!     b"tcp        0      0 10.0.4.21:40003         10.0.4.30:6379          ESTABLISHED",
//! ] {
//!     c.observe_line(Envelope::Netstat, line);
//! }
//! let states = captures::state_rows(&[("netstat-tan.txt", None, &c)]);
//! assert_eq!((states[0].state.name(), states[0].count), ("TIME_WAIT", 2));
//! let tw = captures::timewait_rows(&[("netstat-tan.txt", None, &c)], captures::port_range(b"40000 40999"));
//! assert_eq!((tw[0].local_addr.as_str(), tw[0].remote.as_str()), ("10.0.4.21", "10.0.4.30:6379"));
//! assert_eq!((tw[0].ports_available, tw[0].utilization), (1000, Some(0.002)));
//! ```

use std::collections::HashMap;
use std::net::IpAddr;

use coroner_parse::format::Envelope;
use coroner_parse::formats::sockets::{Addr, Endpoint, Header, Line, SocketRow, TcpState};
use coroner_parse::formats::{netstat, port_range as port_range_fmt, proc_net_tcp, ss};
use coroner_parse::timestamp::Micros;

use crate::digits::{push_decimal, push_ipv4};
use crate::table::{self, Column};

/// Ports of the kernel's default `ip_local_port_range` (32768-60999), used when the bundle
/// has no `ip_local_port_range` file.
pub const DEFAULT_PORTS: u64 = 28_232;

/// Distinct TIME_WAIT groups kept per capture; see the module's Limits.
pub const MAX_GROUPS: usize = 100_000;

/// `timewait` rows per capture, the `<other>` row included.
pub const MAX_ROWS: usize = 1_000;

/// `local_addr` and `remote` of the row that sums the groups not listed.
pub const OTHER: &str = "<other>";

/// An address: decoded and normalised, or the text as written when it does not decode.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Host {
    Ip(IpAddr),
    Text(Box<str>),
}

impl Host {
    fn of(addr: &Addr<'_>) -> Host {
        match addr.ip() {
            Some(ip) => Host::Ip(ip),
            None => Host::Text(String::from_utf8_lossy(addr.host().unwrap_or_default()).into()),
        }
    }
}

/// A remote port: numbers first (the order the groups are kept in), then service names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Port {
    Num(u16),
    Name(Box<str>),
    Any,
}

impl Port {
    fn of(e: &Endpoint<'_>) -> Port {
        match (e.port, e.service) {
            (Some(p), _) => Port::Num(p),
            (None, Some(s)) => Port::Name(String::from_utf8_lossy(s).into()),
            (None, None) => Port::Any,
        }
    }
}

/// What a TIME_WAIT group is: the field order is the keep order of the group cap.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Parts {
    remote_port: Port,
    remote: Host,
    local: Host,
}

impl Parts {
    /// Whether no other key can render as this one: decoded addresses and numeric ports
    /// have one spelling each; an address or port kept as written might share it.
    fn renders_uniquely(&self) -> bool {
        matches!(self.local, Host::Ip(_))
            && matches!(self.remote, Host::Ip(_))
            && matches!(self.remote_port, Port::Num(_) | Port::Any)
    }
}

/// A TIME_WAIT group as the group map holds it, ordered as its [`Parts`].
///
/// Nearly every group is an IPv4 address towards an IPv4 `ip:port`: such a group is one
/// integer, `port << 64 | remote << 32 | local`, whose order is the parts' order (port,
/// then remote, then local; an IPv4 address orders as its number). Hashing and comparing
/// the parts, two addresses and a port as enums, had been a third of a netstat line's
/// cost. Every other group is [`Parts`]; a key that fits the integer is always written as
/// one, so the derived equality and hash agree with the order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum GroupKey {
    V4(u128),
    Other(Box<Parts>),
}

impl GroupKey {
    fn new(parts: Parts) -> GroupKey {
        match parts {
            Parts {
                remote_port: Port::Num(port),
                remote: Host::Ip(IpAddr::V4(remote)),
                local: Host::Ip(IpAddr::V4(local)),
            } => GroupKey::V4(
                u128::from(port) << 64
                    | u128::from(remote.to_bits()) << 32
                    | u128::from(local.to_bits()),
            ),
            parts => GroupKey::Other(Box::new(parts)),
        }
    }

    fn of(row: &SocketRow<'_>) -> GroupKey {
        GroupKey::new(Parts {
            remote_port: Port::of(&row.remote),
            remote: Host::of(&row.remote.addr),
            local: Host::of(&row.local.addr),
        })
    }

    fn parts(&self) -> std::borrow::Cow<'_, Parts> {
        use std::borrow::Cow;
        match self {
            GroupKey::V4(k) => {
                let (port, remote, local) = unpack_v4(*k);
                Cow::Owned(Parts {
                    remote_port: Port::Num(port),
                    remote: Host::Ip(IpAddr::V4(remote)),
                    local: Host::Ip(IpAddr::V4(local)),
                })
            }
            GroupKey::Other(p) => Cow::Borrowed(p),
        }
    }
}

/// The (remote port, remote address, local address) of a [`GroupKey::V4`]'s integer.
fn unpack_v4(k: u128) -> (u16, std::net::Ipv4Addr, std::net::Ipv4Addr) {
    (
        (k >> 64) as u16,
        std::net::Ipv4Addr::from_bits((k >> 32) as u32),
        std::net::Ipv4Addr::from_bits(k as u32),
    )
}

impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (GroupKey::V4(a), GroupKey::V4(b)) => a.cmp(b),
            _ => self.parts().cmp(&other.parts()),
        }
    }
}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

type GroupMap = HashMap<GroupKey, u64, foldhash::fast::FixedState>;

/// The sockets of one capture source, per state and (for TIME_WAIT) per group.
///
/// Equality is of what the accumulator says (counts, kept groups, folded sockets), not of
/// how far its group map was pruned.
#[derive(Clone, Debug)]
pub struct CaptureCounts {
    /// TCP sockets per state, indexed in [`TcpState::ALL`] order.
    states: [u64; TcpState::ALL.len()],
    other_rows: u64,
    header_lines: u64,
    other_lines: u64,
    unparsed_lines: u64,
    stateless_header: bool,
    implied: Option<TcpState>,
    /// TIME_WAIT groups with their counts: every key seen that is not above `bound`, with
    /// its exact count, and perhaps some above it (not yet pruned). Held to fewer than
    /// `2 * cap` keys; the `cap` smallest are the kept groups ([`Self::kept`]).
    groups: GroupMap,
    /// Set once `cap` keys were seen at or below it: a key above it can never be among the
    /// `cap` smallest, so its sockets are folded on sight. It only ever decreases.
    bound: Option<GroupKey>,
    /// TIME_WAIT sockets of the groups folded so far (pruned, or above `bound`).
    folded: u64,
    cap: usize,
}

impl PartialEq for CaptureCounts {
    fn eq(&self, other: &Self) -> bool {
        fn sorted(c: &CaptureCounts) -> (Vec<(&GroupKey, u64)>, u64) {
            let (mut kept, folded) = c.kept();
            kept.sort_unstable();
            (kept, folded)
        }
        self.states == other.states
            && self.other_rows == other.other_rows
            && self.header_lines == other.header_lines
            && self.other_lines == other.other_lines
            && self.unparsed_lines == other.unparsed_lines
            && self.stateless_header == other.stateless_header
            && self.implied == other.implied
            && self.cap == other.cap
            && sorted(self) == sorted(other)
    }
}

impl Eq for CaptureCounts {}

impl Default for CaptureCounts {
    fn default() -> Self {
        CaptureCounts::with_group_cap(MAX_GROUPS)
    }
}

impl CaptureCounts {
    /// An accumulator keeping at most `cap` TIME_WAIT groups ([`MAX_GROUPS`] by default;
    /// at least 1). Accumulators that are merged should share one cap; the smaller applies.
    pub fn with_group_cap(cap: usize) -> Self {
        CaptureCounts {
            states: [0; TcpState::ALL.len()],
            other_rows: 0,
            header_lines: 0,
            other_lines: 0,
            unparsed_lines: 0,
            stateless_header: false,
            implied: None,
            groups: GroupMap::default(),
            bound: None,
            folded: 0,
            cap: cap.max(1),
        }
    }

    /// The state of an `ss ... state <name>` filter, for the rows that carry none (see the
    /// module's Limits). Set it on every chunk's accumulator of that capture. `None` (the
    /// default) counts such rows as unparsed: the file does not say the state.
    pub fn set_implied_state(&mut self, state: Option<TcpState>) {
        self.implied = state;
    }

    pub fn implied_state(&self) -> Option<TcpState> {
        self.implied
    }

    /// One line of a capture in `envelope` ([`Envelope::Netstat`], [`Envelope::Ss`],
    /// [`Envelope::ProcNetTcp`]), without its newline (a trailing `\r` is whitespace to the
    /// parsers). Lines of any other envelope count in [`Self::other_lines`].
    pub fn observe_line(&mut self, envelope: Envelope, line: &[u8]) {
        let parsed = match envelope {
            Envelope::Netstat => netstat::parse(line),
            Envelope::Ss => ss::parse_with_state(line, self.implied),
            Envelope::ProcNetTcp => proc_net_tcp::parse(line),
            _ => {
                self.other_lines += 1;
                return;
            }
        };
        match parsed {
            Ok(Line::Socket(row)) => self.observe_row(&row),
            Ok(Line::Header(h)) => {
                self.header_lines += 1;
                if matches!(h, Header::SsColumns { state: false, .. }) {
                    self.stateless_header = true;
                }
            }
            Ok(Line::Other) => self.other_lines += 1,
            Err(_) => self.unparsed_lines += 1,
        }
    }

    /// One parsed socket row (what [`Self::observe_line`] does with a row).
    pub fn observe_row(&mut self, row: &SocketRow<'_>) {
        if !row.proto.is_tcp() {
            self.other_rows += 1;
            return;
        }
        if let Some(n) = self.states.get_mut(row.state as usize) {
            *n += 1;
        }
        if row.state == TcpState::TimeWait {
            self.add_group(GroupKey::of(row), 1);
        }
    }

    /// Count `n` TIME_WAIT sockets into `key`, keeping the `cap` smallest keys.
    ///
    /// A hash map and a bound rather than an ordered map: the bench's captures have a
    /// hundred thousand groups or more each, and an ordered map's search per TIME_WAIT line
    /// cost more than parsing the line. The map is pruned to the `cap` smallest keys when
    /// it reaches twice that (one selection, linear), which sets the bound.
    fn add_group(&mut self, key: GroupKey, n: u64) {
        if self.bound.as_ref().is_some_and(|b| key > *b) {
            self.folded += n;
            return;
        }
        *self.groups.entry(key).or_insert(0) += n;
        if self.groups.len() >= 2 * self.cap {
            self.prune();
        }
    }

    /// [`Self::add_group`] for a key owned elsewhere: cloned only when it is new here.
    fn add_group_ref(&mut self, key: &GroupKey, n: u64) {
        if self.bound.as_ref().is_some_and(|b| key > b) {
            self.folded += n;
        } else if let Some(c) = self.groups.get_mut(key) {
            *c += n;
        } else {
            self.add_group(key.clone(), n);
        }
    }

    /// Keep the `cap` smallest keys, fold the others, and bound new keys by the largest
    /// kept. Every key at or below the bound keeps its exact count: it was never above an
    /// earlier (larger or equal) bound.
    fn prune(&mut self) {
        if self.groups.len() <= self.cap {
            return;
        }
        let mut keys: Vec<&GroupKey> = self.groups.keys().collect();
        let (_, largest, _) = keys.select_nth_unstable(self.cap - 1);
        let bound = (*largest).clone();
        self.fold_above(bound);
    }

    /// Fold every group above `bound` and make it the bound.
    fn fold_above(&mut self, bound: GroupKey) {
        let mut folded = 0;
        self.groups.retain(|k, n| {
            let keep = *k <= bound;
            if !keep {
                folded += *n;
            }
            keep
        });
        self.folded += folded;
        self.bound = Some(bound);
    }

    /// The kept TIME_WAIT groups (the `cap` smallest keys seen, each with its exact count,
    /// in no particular order) and the TIME_WAIT sockets of all the others.
    fn kept(&self) -> (Vec<(&GroupKey, u64)>, u64) {
        let mut kept: Vec<(&GroupKey, u64)> = self.groups.iter().map(|(k, &n)| (k, n)).collect();
        let mut folded = self.folded;
        if kept.len() > self.cap {
            kept.select_nth_unstable_by(self.cap - 1, |a, b| a.0.cmp(b.0));
            folded += kept.drain(self.cap..).map(|(_, n)| n).sum::<u64>();
        }
        (kept, folded)
    }

    /// Add another chunk's counts of the same capture. Exact and order-free: the kept groups
    /// are the smallest keys seen by either side, each seen in full by the side that saw it.
    /// The implied state of `self` stays.
    pub fn merge(&mut self, other: &CaptureCounts) {
        for (a, b) in self.states.iter_mut().zip(other.states) {
            *a += b;
        }
        self.other_rows += other.other_rows;
        self.header_lines += other.header_lines;
        self.other_lines += other.other_lines;
        self.unparsed_lines += other.unparsed_lines;
        self.stateless_header |= other.stateless_header;
        self.folded += other.folded;
        self.cap = self.cap.min(other.cap);
        // The other side folded the keys above its bound: so does the merged one, which
        // keeps every count at or below the bound exact (both sides kept those in full).
        if let Some(theirs) = &other.bound
            && self.bound.as_ref().is_none_or(|ours| theirs < ours)
        {
            self.fold_above(theirs.clone());
        }
        for (k, &n) in &other.groups {
            self.add_group_ref(k, n);
        }
        if self.groups.len() >= 2 * self.cap {
            self.prune();
        }
    }

    /// TCP sockets in `state`.
    pub fn count(&self, state: TcpState) -> u64 {
        self.states.get(state as usize).copied().unwrap_or(0)
    }

    /// The states with at least one socket, with their counts, in kernel order.
    pub fn states(&self) -> impl Iterator<Item = (TcpState, u64)> + '_ {
        TcpState::ALL
            .into_iter()
            .zip(self.states)
            .filter(|(_, n)| *n > 0)
    }

    /// All TCP sockets.
    pub fn sockets(&self) -> u64 {
        self.states.iter().sum()
    }

    /// Socket rows of other protocols (udp, raw, ...), not counted in any state.
    pub fn other_rows(&self) -> u64 {
        self.other_rows
    }

    /// Title and column-header lines.
    pub fn header_lines(&self) -> u64 {
        self.header_lines
    }

    /// Blank lines, netstat's UNIX section, ss detail lines, lines of non-socket envelopes.
    pub fn other_lines(&self) -> u64 {
        self.other_lines
    }

    /// Lines that are neither a header nor a socket row, including the stateless rows of an
    /// `ss ... state <name>` capture without an implied state.
    pub fn unparsed_lines(&self) -> u64 {
        self.unparsed_lines
    }

    /// Whether an ss header without a State column was seen (`ss ... state <name>`): its
    /// rows need [`Self::set_implied_state`].
    pub fn saw_stateless_header(&self) -> bool {
        self.stateless_header
    }

    /// Distinct TIME_WAIT groups kept (at most the cap).
    pub fn time_wait_groups(&self) -> usize {
        self.groups.len().min(self.cap)
    }

    /// TIME_WAIT sockets of the groups beyond the cap (the `<other>` group).
    pub fn folded_time_wait(&self) -> u64 {
        self.kept().1
    }
}

/// The number of ports in an `ip_local_port_range` file (`32768\t60999\n` gives 28,232);
/// `None` if it does not hold a valid range.
pub fn port_range(content: &[u8]) -> Option<u64> {
    port_range_fmt::parse(content)
        .ok()
        .map(|r| u64::from(r.count()))
}

/// One row of `socket_states.parquet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRow {
    pub capture: String,
    pub captured_at: Option<Micros>,
    pub state: TcpState,
    pub count: u64,
}

/// The state counts of every capture, in the order given; within a capture by count
/// (largest first), then state name. States without sockets have no row.
pub fn state_rows(captures: &[(&str, Option<Micros>, &CaptureCounts)]) -> Vec<StateRow> {
    let mut rows = Vec::new();
    for &(name, captured_at, counts) in captures {
        let mut states: Vec<(TcpState, u64)> = counts.states().collect();
        states.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name().cmp(b.0.name())));
        rows.extend(states.into_iter().map(|(state, count)| StateRow {
            capture: name.to_string(),
            captured_at,
            state,
            count,
        }));
    }
    rows
}

/// One row of `timewait.parquet`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimewaitRow {
    pub capture: String,
    /// The local address, or [`OTHER`].
    pub local_addr: String,
    /// `ip:port` (`[ip]:port` for IPv6), or [`OTHER`].
    pub remote: String,
    pub time_wait: u64,
    pub ports_available: u64,
    /// `time_wait / ports_available`; `None` for the `<other>` row and a range of 0 ports.
    pub utilization: Option<f64>,
}

/// One kept group as table text: `local` is `text[start..mid]`, `remote` `text[mid..end]`
/// of its [`RenderedText`].
#[derive(Clone, Copy)]
struct RenderedRow {
    start: usize,
    mid: usize,
    end: usize,
    n: u64,
}

/// The text the [`RenderedRow`]s of one capture point into: one buffer, no string per group.
struct RenderedText(Vec<u8>);

impl RenderedText {
    fn local(&self, r: &RenderedRow) -> &[u8] {
        &self.0[r.start..r.mid]
    }

    fn remote(&self, r: &RenderedRow) -> &[u8] {
        &self.0[r.mid..r.end]
    }

    /// Both parts, the table's key.
    fn key(&self, r: &RenderedRow) -> (&[u8], &[u8]) {
        (self.local(r), self.remote(r))
    }
}

/// The kept groups of one capture rendered, groups that render alike added up: the
/// table's key is the text.
fn render_groups(kept: &[(&GroupKey, u64)]) -> (RenderedText, Vec<RenderedRow>) {
    use std::io::Write;
    let mut text = Vec::with_capacity(kept.len() * 32);
    let mut rows = Vec::with_capacity(kept.len());
    let mut alike_possible = false;
    for &(key, n) in kept {
        let key = key.parts();
        let start = text.len();
        // IPv4 addresses and port numbers, nearly every group, are written by hand: through
        // the formatting machinery they had been most of a TIME_WAIT table's time. (Writing
        // to a Vec cannot fail: the results of `write!` are dropped.)
        match &key.local {
            Host::Ip(IpAddr::V4(ip)) => push_ipv4(*ip, &mut text),
            Host::Ip(ip) => drop(write!(text, "{ip}")),
            Host::Text(t) => text.extend_from_slice(t.as_bytes()),
        }
        let mid = text.len();
        match &key.remote {
            Host::Ip(IpAddr::V6(ip)) => drop(write!(text, "[{ip}]")),
            Host::Ip(IpAddr::V4(ip)) => push_ipv4(*ip, &mut text),
            Host::Text(t) if t.contains(':') => drop(write!(text, "[{t}]")),
            Host::Text(t) => text.extend_from_slice(t.as_bytes()),
        }
        text.push(b':');
        match &key.remote_port {
            Port::Num(p) => push_decimal(u64::from(*p), &mut text),
            Port::Name(name) => text.extend_from_slice(name.as_bytes()),
            Port::Any => text.push(b'*'),
        }
        alike_possible |= !key.renders_uniquely();
        rows.push(RenderedRow {
            start,
            mid,
            end: text.len(),
            n,
        });
    }
    let text = RenderedText(text);
    if alike_possible {
        rows.sort_unstable_by(|a, b| text.key(a).cmp(&text.key(b)));
        rows.dedup_by(|later, kept| {
            let alike = text.key(later) == text.key(kept);
            if alike {
                kept.n += later.n;
            }
            alike
        });
    }
    (text, rows)
}

/// The TIME_WAIT groups of every capture, in the order given; within a capture by
/// `time_wait` (largest first), then local address, then remote, at most [`MAX_ROWS`] of
/// them with the `<other>` row last (see the module's Limits). `ports_available` is the
/// count of [`port_range`], `None` for [`DEFAULT_PORTS`].
pub fn timewait_rows(
    captures: &[(&str, Option<Micros>, &CaptureCounts)],
    ports_available: Option<u64>,
) -> Vec<TimewaitRow> {
    let ports = ports_available.unwrap_or(DEFAULT_PORTS);
    let utilization = |n: u64| (ports > 0).then(|| n as f64 / ports as f64);
    let mut rows = Vec::new();
    for &(name, _, counts) in captures {
        let (kept, mut folded) = counts.kept();
        let room = |listed: usize, folded: u64| {
            if folded > 0 || listed > MAX_ROWS {
                MAX_ROWS - 1
            } else {
                MAX_ROWS
            }
        };
        // The rows that make the table, in its order; the sockets of the others folded.
        let (text, listed) = match ipv4_groups(&kept) {
            // Nearly every capture: ordered by numbers, and only the rows kept rendered (a
            // capture can keep 100,000 groups, most of them tied at one socket each).
            Some(mut groups) => {
                let room = room(groups.len(), folded);
                folded += keep_first(
                    &mut groups,
                    room,
                    |g| g.n,
                    |a, b| b.n.cmp(&a.n).then(a.text_order.cmp(&b.text_order)),
                );
                let kept: Vec<(&GroupKey, u64)> = groups.iter().map(|g| (g.key, g.n)).collect();
                render_groups(&kept)
            }
            None => {
                let (text, mut listed) = render_groups(&kept);
                let room = room(listed.len(), folded);
                folded += keep_first(
                    &mut listed,
                    room,
                    |r| r.n,
                    |a, b| b.n.cmp(&a.n).then_with(|| text.key(a).cmp(&text.key(b))),
                );
                (text, listed)
            }
        };
        rows.extend(listed.iter().map(|r| TimewaitRow {
            capture: name.to_string(),
            local_addr: String::from_utf8_lossy(text.local(r)).into_owned(),
            remote: String::from_utf8_lossy(text.remote(r)).into_owned(),
            time_wait: r.n,
            ports_available: ports,
            utilization: utilization(r.n),
        }));
        if folded > 0 {
            rows.push(TimewaitRow {
                capture: name.to_string(),
                local_addr: OTHER.to_string(),
                remote: OTHER.to_string(),
                time_wait: folded,
                ports_available: ports,
                utilization: None,
            });
        }
    }
    rows
}

/// Keep the first `room` of `rows` by `order`, sorted; the rest are dropped and their
/// counts (`n`) returned. Only the rows kept are sorted.
fn keep_first<T>(
    rows: &mut Vec<T>,
    room: usize,
    n: impl Fn(&T) -> u64,
    mut order: impl FnMut(&T, &T) -> std::cmp::Ordering,
) -> u64 {
    let mut folded = 0;
    if rows.len() > room {
        rows.select_nth_unstable_by(room, &mut order);
        folded = rows.drain(room..).map(|r| n(&r)).sum();
    }
    rows.sort_unstable_by(order);
    folded
}

/// A kept IPv4 group with the order of its rendered text.
struct Ipv4Group<'k> {
    key: &'k GroupKey,
    n: u64,
    text_order: u128,
}

/// The kept groups with [`text_order`] each when every one is a [`GroupKey::V4`] (each
/// renders uniquely then, so no two add up); `None` otherwise.
fn ipv4_groups<'k>(kept: &[(&'k GroupKey, u64)]) -> Option<Vec<Ipv4Group<'k>>> {
    kept.iter()
        .map(|&(key, n)| match key {
            GroupKey::V4(bits) => Some(Ipv4Group {
                key,
                n,
                text_order: text_order(*bits),
            }),
            GroupKey::Other(_) => None,
        })
        .collect()
}

/// A number whose order is the order of a [`GroupKey::V4`]'s table text (`local`, then
/// `remote` as `a.b.c.d:port`), compared as bytes: `10.0.4.21` before `10.0.4.3`, and
/// `10.0.4.30:6379` before `10.0.4.3:6379`.
///
/// Each decimal digit is a symbol of 4 bits (`1 + digit`), every octet and the port padded
/// to a fixed width, so that the texts compare position by position. The pad stands for
/// what follows a number that ends early: a `.` (or the end of `local`), which is below
/// every digit (pad 0); after the remote's last octet a `:`, above every digit (pad 11);
/// after the port the end of the text (pad 0). Twelve symbols for `local`, twelve for the
/// remote address and five for the port: 116 bits.
fn text_order(bits: u128) -> u128 {
    fn number(mut acc: u128, n: u32, width: u32, pad: u128) -> u128 {
        let len = match n {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            1000..=9999 => 4,
            _ => 5,
        };
        let mut div = 10u32.pow(len - 1);
        for _ in 0..len {
            acc = acc << 4 | u128::from(1 + n / div % 10);
            div /= 10;
        }
        for _ in len..width {
            acc = acc << 4 | pad;
        }
        acc
    }
    let (port, remote, local) = unpack_v4(bits);
    let mut acc = 0u128;
    for octet in local.octets() {
        acc = number(acc, u32::from(octet), 3, 0);
    }
    for (i, octet) in remote.octets().into_iter().enumerate() {
        acc = number(acc, u32::from(octet), 3, if i == 3 { 11 } else { 0 });
    }
    number(acc, u32::from(port), 5, 0)
}

/// `capture, captured_at, state, count`.
pub fn states_batch(rows: &[StateRow]) -> Result<arrow_array::RecordBatch, String> {
    table::batch(vec![
        Column::utf8("capture", rows.iter().map(|r| Some(r.capture.as_str()))),
        Column::timestamp("captured_at", rows.iter().map(|r| r.captured_at)),
        Column::utf8("state", rows.iter().map(|r| Some(r.state.name()))),
        Column::u64("count", rows.iter().map(|r| Some(r.count))),
    ])
}

/// `capture, local_addr, remote, time_wait, ports_available, utilization`.
pub fn timewait_batch(rows: &[TimewaitRow]) -> Result<arrow_array::RecordBatch, String> {
    table::batch(vec![
        Column::utf8("capture", rows.iter().map(|r| Some(r.capture.as_str()))),
        Column::utf8(
            "local_addr",
            rows.iter().map(|r| Some(r.local_addr.as_str())),
        ),
        Column::utf8("remote", rows.iter().map(|r| Some(r.remote.as_str()))),
        Column::u64("time_wait", rows.iter().map(|r| Some(r.time_wait))),
        Column::u64(
            "ports_available",
            rows.iter().map(|r| Some(r.ports_available)),
        ),
        Column::f64("utilization", rows.iter().map(|r| r.utilization)),
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use arrow_schema::{DataType, TimeUnit};

    use super::*;

    const DIR: &str = "tests/fixtures/socket-captures";
    const NETSTAT_NAT: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/netstat-nat.txt");
    const NETSTAT_TAN: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/netstat-tan.txt");
    const NETSTAT_TANW: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/netstat-tanW.txt");
    const NETSTAT_TANP: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/netstat-tanp.txt");
    const SS_TAN: &[u8] = include_bytes!("../../../tests/fixtures/socket-captures/ss-tan.txt");
    const SS_TANP: &[u8] = include_bytes!("../../../tests/fixtures/socket-captures/ss-tanp.txt");
    const SS_TANO: &[u8] = include_bytes!("../../../tests/fixtures/socket-captures/ss-tano.txt");
    const SS_HTAN: &[u8] = include_bytes!("../../../tests/fixtures/socket-captures/ss-Htan.txt");
    const SS_STATE_TW: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/ss-tn-state-time-wait.txt");
    const PROC_TCP: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/proc-net-tcp.txt");
    const PROC_TCP6: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/proc-net-tcp6.txt");
    const PORT_RANGE: &[u8] =
        include_bytes!("../../../tests/fixtures/socket-captures/ip_local_port_range.txt");

    /// Every socket-listing capture of the one moment (see `sockets_conformance.rs`: all
    /// renderings list the same 47 sockets). The two /proc files are one capture.
    fn renderings() -> Vec<(&'static str, Envelope, Vec<&'static [u8]>)> {
        vec![
            ("netstat-nat.txt", Envelope::Netstat, vec![NETSTAT_NAT]),
            ("netstat-tan.txt", Envelope::Netstat, vec![NETSTAT_TAN]),
            ("netstat-tanW.txt", Envelope::Netstat, vec![NETSTAT_TANW]),
            ("netstat-tanp.txt", Envelope::Netstat, vec![NETSTAT_TANP]),
            ("ss-tan.txt", Envelope::Ss, vec![SS_TAN]),
            ("ss-tanp.txt", Envelope::Ss, vec![SS_TANP]),
            ("ss-tano.txt", Envelope::Ss, vec![SS_TANO]),
            ("ss-Htan.txt", Envelope::Ss, vec![SS_HTAN]),
            (
                "proc-net-tcp+tcp6",
                Envelope::ProcNetTcp,
                vec![PROC_TCP, PROC_TCP6],
            ),
        ]
    }

    /// The lines of a file, without the empty piece after the final newline.
    fn lines(data: &[u8]) -> Vec<&[u8]> {
        data.strip_suffix(b"\n")
            .unwrap_or(data)
            .split(|&b| b == b'\n')
            .collect()
    }

    fn feed(c: &mut CaptureCounts, envelope: Envelope, lines: &[&[u8]]) {
        for l in lines {
            c.observe_line(envelope, l);
        }
    }

    fn whole(envelope: Envelope, files: &[&[u8]]) -> CaptureCounts {
        let mut c = CaptureCounts::default();
        for f in files {
            feed(&mut c, envelope, &lines(f));
        }
        c
    }

    fn state_map(c: &CaptureCounts) -> BTreeMap<String, u64> {
        state_rows(&[("x", None, c)])
            .into_iter()
            .map(|r| (r.state.name().to_string(), r.count))
            .collect()
    }

    /// (local, remote, time_wait) of every row.
    fn tw_groups(c: &CaptureCounts) -> Vec<(String, String, u64)> {
        timewait_rows(&[("x", None, c)], None)
            .into_iter()
            .map(|r| (r.local_addr, r.remote, r.time_wait))
            .collect()
    }

    /// `awk 'NR>2 {print $6}' | sort | uniq -c`, computed here without our parsers.
    fn awk_counts(data: &[u8]) -> BTreeMap<String, u64> {
        let text = std::str::from_utf8(data).unwrap();
        let mut counts = BTreeMap::new();
        for line in text.lines().skip(2) {
            let sixth = line.split_whitespace().nth(5).unwrap_or("");
            *counts.entry(sixth.to_string()).or_insert(0) += 1;
        }
        counts
    }

    fn pinned_states() -> BTreeMap<String, u64> {
        [
            ("CLOSE_WAIT", 1),
            ("ESTABLISHED", 17),
            ("FIN_WAIT2", 1),
            ("LISTEN", 4),
            ("TIME_WAIT", 24),
        ]
        .into_iter()
        .map(|(s, n)| (s.to_string(), n))
        .collect()
    }

    #[test]
    fn captures_netstat_counts_equal_awk() {
        for (name, data) in [
            ("netstat-nat.txt", NETSTAT_NAT),
            ("netstat-tan.txt", NETSTAT_TAN),
        ] {
            let c = whole(Envelope::Netstat, &[data]);
            let awk = awk_counts(data);
            assert_eq!(state_map(&c), awk, "{DIR}/{name}");
            assert_eq!(awk, pinned_states(), "{name}");
            assert_eq!(c.sockets(), 47, "{name}");
            assert_eq!(
                (c.header_lines(), c.unparsed_lines(), c.other_rows()),
                (2, 0, 0),
                "{name}"
            );
            // Largest count first, ties by name.
            let order: Vec<&str> = state_rows(&[(name, Some(7), &c)])
                .iter()
                .map(|r| r.state.name())
                .collect();
            assert_eq!(
                order,
                [
                    "TIME_WAIT",
                    "ESTABLISHED",
                    "LISTEN",
                    "CLOSE_WAIT",
                    "FIN_WAIT2"
                ]
            );
        }
    }

    #[test]
    fn captures_every_rendering_of_the_moment_agrees() {
        let netstat = whole(Envelope::Netstat, &[NETSTAT_NAT]);
        let want_states = state_map(&netstat);
        let want_tw = tw_groups(&netstat);
        for (name, envelope, files) in renderings() {
            let c = whole(envelope, &files);
            assert_eq!(state_map(&c), want_states, "{name} vs netstat-nat.txt");
            assert_eq!(tw_groups(&c), want_tw, "{name} vs netstat-nat.txt");
            assert_eq!(c.unparsed_lines(), 0, "{name}");
            assert!(!c.saw_stateless_header(), "{name}");
        }
        let s = |a: &str, b: &str, n| (a.to_string(), b.to_string(), n);
        assert_eq!(
            want_tw,
            [
                s("127.0.0.1", "127.0.0.1:6379", 12),
                s("::1", "[::1]:3000", 6),
                s("192.0.2.2", "203.0.113.80:80", 2),
                s("127.0.0.1", "127.0.0.1:4000", 1),
                s("127.0.0.1", "127.0.0.1:56718", 1),
                s("127.0.0.1", "127.0.0.1:56724", 1),
                s("::1", "[::1]:4000", 1),
            ]
        );
    }

    #[test]
    fn captures_chunk_split_invariance() {
        for (name, envelope, files) in renderings() {
            let all: Vec<&[u8]> = files.iter().flat_map(|f| lines(f)).collect();
            let want = whole(envelope, &files);
            // Two chunks cut at every line boundary, merged either way round.
            for k in 0..=all.len() {
                let (mut a, mut b) = (CaptureCounts::default(), CaptureCounts::default());
                feed(&mut a, envelope, &all[..k]);
                feed(&mut b, envelope, &all[k..]);
                let mut ab = a.clone();
                ab.merge(&b);
                b.merge(&a);
                assert_eq!(ab, want, "{name} cut at {k}");
                assert_eq!(b, want, "{name} cut at {k}, merged the other way");
            }
            // Every k-th line to the second accumulator.
            for k in 1..=all.len() {
                let (mut a, mut b) = (CaptureCounts::default(), CaptureCounts::default());
                for (i, l) in all.iter().enumerate() {
                    let to = if i % k == k - 1 { &mut b } else { &mut a };
                    to.observe_line(envelope, l);
                }
                a.merge(&b);
                assert_eq!(a, want, "{name} every {k}th line");
            }
        }
    }

    fn netstat_tw(local: &str, port: u32, remote: &str) -> String {
        format!("tcp        0      0 {local}:{port}         {remote}          TIME_WAIT  ")
    }

    #[test]
    fn captures_exhaustion_utilization() {
        let mut c = CaptureCounts::default();
        c.observe_line(
            Envelope::Netstat,
            b"Active Internet connections (servers and established)",
        );
        c.observe_line(
            Envelope::Netstat,
            b"Proto Recv-Q Send-Q Local Address           Foreign Address         State      ",
        );
        for i in 0..30_400u32 {
            let line = netstat_tw("10.0.4.21", 1024 + i, "10.0.4.30:6379");
            c.observe_line(Envelope::Netstat, line.as_bytes());
        }
        c.observe_line(
            Envelope::Netstat,
            netstat_tw("10.0.4.21", 50000, "10.0.4.31:5432").as_bytes(),
        );
        assert_eq!(c.count(TcpState::TimeWait), 30_401);
        let caps = [("netstat-tan.txt", Some(1_700_000_000_000_000), &c)];
        let rows = timewait_rows(&caps, None);
        assert_eq!(rows.len(), 2);
        let top = &rows[0];
        assert_eq!(
            (
                top.local_addr.as_str(),
                top.remote.as_str(),
                top.time_wait,
                top.ports_available
            ),
            ("10.0.4.21", "10.0.4.30:6379", 30_400, 28_232)
        );
        let u = top.utilization.unwrap();
        assert_eq!(u, 30_400.0 / 28_232.0);
        assert!(u > 1.0);
        assert_eq!(rows[1].time_wait, 1);

        let ports = port_range(b"40000\t41000\n");
        assert_eq!(ports, Some(1001));
        let rows = timewait_rows(&caps, ports);
        assert_eq!(rows[0].ports_available, 1001);
        assert_eq!(rows[0].utilization, Some(30_400.0 / 1001.0));
        assert_eq!(rows[1].utilization, Some(1.0 / 1001.0));
    }

    #[test]
    fn captures_port_range_file() {
        assert_eq!(port_range(PORT_RANGE), Some(DEFAULT_PORTS));
        assert_eq!(port_range(b"1024 65535"), Some(64_512));
        assert_eq!(port_range(b"60999 32768"), None);
        assert_eq!(port_range(b""), None);
    }

    #[test]
    fn captures_ss_state_filter_needs_implied_state() {
        let plain = whole(Envelope::Ss, &[SS_STATE_TW]);
        assert!(plain.saw_stateless_header());
        assert_eq!(
            (
                plain.unparsed_lines(),
                plain.sockets(),
                plain.header_lines()
            ),
            (24, 0, 1)
        );
        assert!(state_rows(&[("f", None, &plain)]).is_empty());
        assert!(timewait_rows(&[("f", None, &plain)], None).is_empty());

        let mut c = CaptureCounts::default();
        c.set_implied_state(Some(TcpState::TimeWait));
        assert_eq!(c.implied_state(), Some(TcpState::TimeWait));
        feed(&mut c, Envelope::Ss, &lines(SS_STATE_TW));
        assert_eq!((c.unparsed_lines(), c.count(TcpState::TimeWait)), (0, 24));
        assert_eq!(c.sockets(), 24);
        let netstat = whole(Envelope::Netstat, &[NETSTAT_NAT]);
        assert_eq!(tw_groups(&c), tw_groups(&netstat));
        // A chunk that starts after the header counts the same.
        let all = lines(SS_STATE_TW);
        let mut tail = CaptureCounts::default();
        tail.set_implied_state(Some(TcpState::TimeWait));
        feed(&mut tail, Envelope::Ss, &all[5..]);
        let mut head = CaptureCounts::default();
        head.set_implied_state(Some(TcpState::TimeWait));
        feed(&mut head, Envelope::Ss, &all[..5]);
        head.merge(&tail);
        assert_eq!(head, c);
        // Rows with a state keep theirs.
        let mut s = CaptureCounts::default();
        s.set_implied_state(Some(TcpState::TimeWait));
        feed(&mut s, Envelope::Ss, &lines(SS_TAN));
        assert_eq!(state_map(&s), pinned_states());
    }

    #[test]
    fn captures_other_protocols_and_garbage() {
        let mut c = CaptureCounts::default();
        for l in [
            &b"Active Internet connections (servers and established)"[..],
            b"Proto Recv-Q Send-Q Local Address           Foreign Address         State      ",
            b"tcp        0      0 127.0.0.1:6379          0.0.0.0:*               LISTEN     ",
            b"udp        0      0 0.0.0.0:68              0.0.0.0:*                          ",
            b"udp6       0      0 ::1:323                 :::*                               ",
            b"",
            b"Active UNIX domain sockets (servers and established)",
            b"unix  2      [ ACC ]     STREAM     LISTENING     20970    /run/systemd/private",
            b"tcp        0      0 127.0.0.1:6379          0.0.0.0:*               BOGUS      ",
            b"\xff\xfe garbage",
        ] {
            c.observe_line(Envelope::Netstat, l);
        }
        assert_eq!(c.sockets(), 1);
        assert_eq!(c.count(TcpState::Listen), 1);
        assert_eq!(c.other_rows(), 2);
        assert_eq!(c.header_lines(), 3);
        assert_eq!(c.other_lines(), 2);
        assert_eq!(c.unparsed_lines(), 2);

        let mut s = CaptureCounts::default();
        for l in [
            &b"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process"[..],
            b"udp   UNCONN 0      0            0.0.0.0:68        0.0.0.0:*",
            b"tcp   TIME-WAIT 0   0      [::ffff:192.0.2.1]:40000 [2001:db8::9]:443",
            b"tcp   TIME-WAIT 0   0      localhost:40001 db.internal:postgresql",
        ] {
            s.observe_line(Envelope::Ss, l);
        }
        assert_eq!((s.other_rows(), s.count(TcpState::TimeWait)), (1, 2));
        let tw = tw_groups(&s);
        assert!(tw.contains(&("192.0.2.1".into(), "[2001:db8::9]:443".into(), 1)));
        assert!(tw.contains(&("localhost".into(), "db.internal:postgresql".into(), 1)));

        // Lines of other envelopes are not sockets.
        let mut o = CaptureCounts::default();
        o.observe_line(Envelope::SsSummary, b"Total: 181");
        o.observe_line(Envelope::PortRange, b"32768\t60999");
        assert_eq!(
            (o.other_lines(), o.sockets(), o.unparsed_lines()),
            (2, 0, 0)
        );
    }

    /// `n` TIME_WAIT rows spread over `groups` remotes, group `g` on remote port `1000 + g`.
    fn many_groups(groups: u32, n: u32) -> Vec<String> {
        (0..n)
            .map(|i| {
                let g = i % groups;
                let remote = format!("10.9.{}.{}:{}", g % 7, g % 3, 1000 + g);
                netstat_tw("10.0.0.1", 40000 + i % 20000, &remote)
            })
            .collect()
    }

    #[test]
    fn captures_group_cap_is_exact_and_order_free() {
        let text = many_groups(50, 400);
        let lines: Vec<&[u8]> = text.iter().map(|l| l.as_bytes()).collect();
        let mut full = CaptureCounts::with_group_cap(1_000);
        feed(&mut full, Envelope::Netstat, &lines);
        assert_eq!((full.time_wait_groups(), full.folded_time_wait()), (50, 0));

        let cap = 8;
        let mut capped = CaptureCounts::with_group_cap(cap);
        feed(&mut capped, Envelope::Netstat, &lines);
        assert_eq!(capped.time_wait_groups(), cap);
        assert_eq!(capped.count(TcpState::TimeWait), 400);
        // The kept groups are the smallest keys (remote port first), with exact counts.
        let full_rows = tw_groups(&full);
        let capped_rows = tw_groups(&capped);
        let (other, kept) = capped_rows.split_last().unwrap();
        assert_eq!(other.0, OTHER);
        assert_eq!(
            kept.iter().map(|r| r.2).sum::<u64>() + other.2,
            400,
            "the <other> row keeps the total"
        );
        for r in kept {
            assert!(full_rows.contains(r), "{r:?} not exact");
            let port: u32 = r.1.rsplit(':').next().unwrap().parse().unwrap();
            assert!(
                port < 1000 + cap as u32,
                "{r:?} is not among the smallest keys"
            );
        }
        // Reversed input, chunk cuts and merge order give the same result.
        let mut rev = CaptureCounts::with_group_cap(cap);
        for l in lines.iter().rev() {
            rev.observe_line(Envelope::Netstat, l);
        }
        assert_eq!(rev, capped);
        for k in (0..=lines.len()).step_by(7) {
            let mut a = CaptureCounts::with_group_cap(cap);
            let mut b = CaptureCounts::with_group_cap(cap);
            feed(&mut a, Envelope::Netstat, &lines[..k]);
            feed(&mut b, Envelope::Netstat, &lines[k..]);
            let mut ab = a.clone();
            ab.merge(&b);
            b.merge(&a);
            assert_eq!(ab, capped, "cut at {k}");
            assert_eq!(b, capped, "cut at {k}, other way");
        }
    }

    /// The group cap as first written: every group counted exactly, then the `cap`
    /// smallest keys kept and the others folded; the rows rendered and sorted in full.
    fn naive_rows(lines: &[String], cap: usize) -> Vec<(String, String, u64)> {
        let mut all: BTreeMap<Parts, u64> = BTreeMap::new();
        for l in lines {
            if let Ok(Line::Socket(row)) = netstat::parse(l.as_bytes())
                && row.proto.is_tcp()
                && row.state == TcpState::TimeWait
            {
                let key = Parts {
                    remote_port: Port::of(&row.remote),
                    remote: Host::of(&row.remote.addr),
                    local: Host::of(&row.local.addr),
                };
                *all.entry(key).or_insert(0) += 1;
            }
        }
        let mut folded: u64 = all.values().skip(cap).sum();
        let mut text: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (k, n) in all.iter().take(cap) {
            let local = match &k.local {
                Host::Ip(ip) => ip.to_string(),
                Host::Text(t) => t.to_string(),
            };
            let host = match &k.remote {
                Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
                Host::Ip(ip) => ip.to_string(),
                Host::Text(t) if t.contains(':') => format!("[{t}]"),
                Host::Text(t) => t.to_string(),
            };
            let remote = match &k.remote_port {
                Port::Num(p) => format!("{host}:{p}"),
                Port::Name(name) => format!("{host}:{name}"),
                Port::Any => format!("{host}:*"),
            };
            *text.entry((local, remote)).or_insert(0) += n;
        }
        let mut groups: Vec<((String, String), u64)> = text.into_iter().collect();
        groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let room = if folded > 0 || groups.len() > MAX_ROWS {
            MAX_ROWS - 1
        } else {
            MAX_ROWS
        };
        if groups.len() > room {
            folded += groups.drain(room..).map(|(_, n)| n).sum::<u64>();
        }
        let mut rows: Vec<(String, String, u64)> =
            groups.into_iter().map(|((l, r), n)| (l, r, n)).collect();
        if folded > 0 {
            rows.push((OTHER.to_string(), OTHER.to_string(), folded));
        }
        rows
    }

    /// The rendered text of an IPv4 group, as the table writes it.
    fn v4_text(bits: u128) -> (String, String) {
        let (text, rows) = render_groups(&[(&GroupKey::V4(bits), 1)]);
        let r = rows[0];
        (
            String::from_utf8(text.local(&r).to_vec()).unwrap(),
            String::from_utf8(text.remote(&r).to_vec()).unwrap(),
        )
    }

    fn v4_bits(local: [u8; 4], remote: [u8; 4], port: u16) -> u128 {
        match GroupKey::new(Parts {
            remote_port: Port::Num(port),
            remote: Host::Ip(IpAddr::V4(remote.into())),
            local: Host::Ip(IpAddr::V4(local.into())),
        }) {
            GroupKey::V4(bits) => bits,
            GroupKey::Other(_) => unreachable!("an IPv4 group"),
        }
    }

    #[test]
    fn text_order_known_pairs() {
        let a = v4_bits([10, 0, 4, 21], [10, 0, 4, 3], 6379);
        let b = v4_bits([10, 0, 4, 21], [10, 0, 4, 30], 6379);
        let c = v4_bits([10, 0, 4, 3], [10, 0, 4, 3], 6379);
        let d = v4_bits([10, 0, 4, 21], [10, 0, 4, 3], 443);
        // 10.0.4.30:6379 < 10.0.4.3:6379 (':' sorts after digits); 10.0.4.21 < 10.0.4.3;
        // port 443 < 6379 by its first digit.
        assert!(text_order(b) < text_order(a));
        assert!(text_order(a) < text_order(c));
        assert!(text_order(d) < text_order(a));
        assert_eq!(v4_text(b).1, "10.0.4.30:6379");
        // Every pair of a set whose texts share long prefixes and differ in widths.
        let locals = [[10, 0, 4, 3], [10, 0, 4, 30], [10, 0, 4, 21], [1, 0, 4, 3]];
        let remotes = [
            [10, 0, 4, 3],
            [10, 0, 4, 30],
            [1, 0, 4, 3],
            [10, 0, 40, 3],
            [100, 0, 4, 3],
        ];
        let mut keys = Vec::new();
        for l in locals {
            for r in remotes {
                for p in [6379, 63, 637, 443, 8, 65535, 0] {
                    keys.push(v4_bits(l, r, p));
                }
            }
        }
        for &a in &keys {
            for &b in &keys {
                assert_eq!(
                    text_order(a).cmp(&text_order(b)),
                    v4_text(a).cmp(&v4_text(b)),
                    "{:?} {:?}",
                    v4_text(a),
                    v4_text(b)
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// The number that orders IPv4 groups orders them as their text: octets and ports
        /// of every width (1, 2, 3 digits; 1 to 5) and many ties on a common prefix.
        #[test]
        fn text_order_is_the_text_order(
            a in (proptest::array::uniform4(0usize..8), proptest::array::uniform4(0usize..8), 0usize..8),
            b in (proptest::array::uniform4(0usize..8), proptest::array::uniform4(0usize..8), 0usize..8),
        ) {
            const OCTET: [u8; 8] = [0, 1, 3, 10, 21, 30, 200, 255];
            const PORT: [u16; 8] = [0, 8, 80, 443, 6379, 8080, 40000, 65535];
            let bits = |(l, r, p): ([usize; 4], [usize; 4], usize)| {
                v4_bits(l.map(|i| OCTET[i]), r.map(|i| OCTET[i]), PORT[p])
            };
            let (a, b) = (bits(a), bits(b));
            proptest::prop_assert_eq!(text_order(a).cmp(&text_order(b)), v4_text(a).cmp(&v4_text(b)));
        }

        /// IPv4 captures (the ordering by numbers) make the plain rule's rows, ties at the
        /// cut included: many groups of one socket, a few larger.
        #[test]
        fn ipv4_captures_equal_the_plain_rule(
            rows in proptest::collection::vec((0usize..4, 0usize..8, 0usize..8, 0usize..5), 0..3_000),
            cap in 1usize..3_000,
        ) {
            // Up to 1,280 groups: more than a table's rows, so the cut falls among ties.
            const LOCAL: [&str; 4] = ["10.0.4.3", "10.0.4.30", "10.0.4.21", "192.0.2.7"];
            const OCTET: [u8; 8] = [0, 1, 3, 10, 21, 30, 200, 255];
            const PORT: [&str; 5] = ["6379", "443", "3", "8", "40000"];
            let lines: Vec<String> = rows
                .iter()
                .map(|&(l, x, y, p)| {
                    format!(
                        "tcp        0      0 {}:40000         10.0.{}.{}:{}          TIME_WAIT  ",
                        LOCAL[l], OCTET[x], OCTET[y], PORT[p]
                    )
                })
                .collect();
            let mut c = CaptureCounts::with_group_cap(cap);
            for l in &lines {
                c.observe_line(Envelope::Netstat, l.as_bytes());
            }
            let got: Vec<(String, String, u64)> = timewait_rows(&[("x", None, &c)], None)
                .into_iter()
                .map(|r| (r.local_addr, r.remote, r.time_wait))
                .collect();
            proptest::prop_assert_eq!(got, naive_rows(&lines, cap));
        }

        /// Any cap, any cutting into chunks, any merge order: the kept groups, their counts
        /// and the rows are the plain rule's. Addresses and ports come from small sets so
        /// keys repeat, with host and service names among them (kept as written, and so
        /// rendered alike sometimes: `redis` the name and `6379` the number do not, but
        /// `db` and `[db]` hosts do not either; the rows must still add up).
        #[test]
        fn captures_groups_equal_the_plain_rule(
            rows in proptest::collection::vec((0usize..4, 0usize..6, 0usize..5, 0u32..3), 0..400),
            cap in 1usize..12,
            cuts in proptest::collection::vec(0usize..400, 0..6),
            reversed in proptest::bool::ANY,
        ) {
            const LOCAL: [&str; 4] = ["10.0.0.1", "10.0.0.2", "app-host", "::1"];
            const REMOTE: [&str; 6] =
                ["10.0.4.30", "10.0.4.4", "192.0.2.7", "db", "fe80::1", "::ffff:10.0.4.30"];
            const PORT: [&str; 5] = ["6379", "443", "redis", "*", "40000"];
            let lines: Vec<String> = rows
                .iter()
                .map(|&(l, r, p, state)| {
                    let host = REMOTE[r];
                    let remote = if host.contains(':') && !host.starts_with("::ffff") {
                        format!("[{host}]:{}", PORT[p])
                    } else {
                        format!("{host}:{}", PORT[p])
                    };
                    let local = if LOCAL[l].contains(':') {
                        format!("[{}]", LOCAL[l])
                    } else {
                        LOCAL[l].to_string()
                    };
                    let state = ["TIME_WAIT", "TIME_WAIT", "ESTABLISHED"][state as usize];
                    format!("tcp        0      0 {local}:40001         {remote}          {state}  ")
                })
                .collect();
            let want = naive_rows(&lines, cap);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(lines.len())).collect();
            cuts.push(0);
            cuts.push(lines.len());
            cuts.sort_unstable();
            let mut parts: Vec<CaptureCounts> = cuts
                .windows(2)
                .map(|w| {
                    let mut c = CaptureCounts::with_group_cap(cap);
                    for l in &lines[w[0]..w[1]] {
                        c.observe_line(Envelope::Netstat, l.as_bytes());
                    }
                    c
                })
                .collect();
            if reversed {
                parts.reverse();
            }
            let mut merged = CaptureCounts::with_group_cap(cap);
            for p in &parts {
                merged.merge(p);
            }
            let got: Vec<(String, String, u64)> = timewait_rows(&[("x", None, &merged)], None)
                .into_iter()
                .map(|r| (r.local_addr, r.remote, r.time_wait))
                .collect();
            proptest::prop_assert_eq!(&got, &want);
            let tw = lines.iter().filter(|l| l.contains("TIME_WAIT")).count() as u64;
            proptest::prop_assert_eq!(merged.count(TcpState::TimeWait), tw);
            let kept: u64 = merged.kept().0.iter().map(|(_, n)| n).sum();
            proptest::prop_assert_eq!(kept + merged.folded_time_wait(), tw);
            let mut whole = CaptureCounts::with_group_cap(cap);
            for l in &lines {
                whole.observe_line(Envelope::Netstat, l.as_bytes());
            }
            proptest::prop_assert_eq!(&merged, &whole);
        }
    }

    #[test]
    fn captures_rows_per_capture_are_capped() {
        let text = many_groups(1_500, 3_000);
        let mut c = CaptureCounts::default();
        for l in &text {
            c.observe_line(Envelope::Netstat, l.as_bytes());
        }
        let mut small = CaptureCounts::default();
        small.observe_line(Envelope::Netstat, text[0].as_bytes());
        let rows = timewait_rows(&[("big", None, &c), ("small", None, &small)], None);
        let big: Vec<&TimewaitRow> = rows.iter().filter(|r| r.capture == "big").collect();
        assert_eq!(big.len(), MAX_ROWS);
        assert_eq!(big.iter().map(|r| r.time_wait).sum::<u64>(), 3_000);
        let last = big.last().unwrap();
        assert_eq!(
            (last.local_addr.as_str(), last.remote.as_str()),
            (OTHER, OTHER)
        );
        assert_eq!(last.time_wait, 3_000 - 999 * 2);
        assert_eq!(last.utilization, None);
        assert!(big[..999].iter().all(|r| r.time_wait == 2));
        // Sorted by count, then local, then remote.
        assert!(big[..999].windows(2).all(|w| w[0].remote < w[1].remote));
        assert_eq!(rows.iter().filter(|r| r.capture == "small").count(), 1);
        assert_eq!(rows.last().unwrap().capture, "small");
    }

    #[test]
    fn captures_batches_follow_the_contract() {
        let c = whole(Envelope::Netstat, &[NETSTAT_NAT]);
        let caps = [("netstat-nat.txt", Some(1_751_470_921_000_000), &c)];
        let b = states_batch(&state_rows(&caps)).unwrap();
        let schema = b.schema();
        let cols: Vec<(&str, &DataType)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type()))
            .collect();
        assert_eq!(
            cols,
            [
                ("capture", &DataType::Utf8),
                (
                    "captured_at",
                    &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
                ),
                ("state", &DataType::Utf8),
                ("count", &DataType::UInt64),
            ]
        );
        assert_eq!(b.num_rows(), 5);

        let b = timewait_batch(&timewait_rows(&caps, port_range(PORT_RANGE))).unwrap();
        let schema = b.schema();
        let cols: Vec<(&str, &DataType)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type()))
            .collect();
        assert_eq!(
            cols,
            [
                ("capture", &DataType::Utf8),
                ("local_addr", &DataType::Utf8),
                ("remote", &DataType::Utf8),
                ("time_wait", &DataType::UInt64),
                ("ports_available", &DataType::UInt64),
                ("utilization", &DataType::Float64),
            ]
        );
        assert_eq!(b.num_rows(), 7);
    }
}
