//! The shared model of the socket-state captures: one [`SocketRow`] per socket, whether it
//! came from `netstat -tan` ([`super::netstat`]), `ss -tan` ([`super::ss`]) or
//! `/proc/net/tcp[6]` ([`super::proc_net_tcp`]).
//!
//! # Model in brief
//! ```text
//! SocketRow = proto state local:Endpoint remote:Endpoint [recv_q] [send_q] [process pid] [timer]
//! Endpoint  = Addr [port]      Addr = text as written ("[::1]", "fe80::1%eth0", "localhost")
//!                                   | decoded IpAddr (from /proc)
//! ```
//! ```text
//! tcp        0      0 127.0.0.1:51120         127.0.0.1:6379          TIME_WAIT
//! ```
//!
//! # Traps handled
//! - The three tools spell states differently (`TIME_WAIT`, `TIME-WAIT`, `06`): every row
//!   carries a [`TcpState`], whose [`TcpState::name`] is the kernel/netstat spelling with
//!   underscores (`TIME_WAIT`, `FIN_WAIT2`, `ESTABLISHED`), the one our tables use.
//! - The same socket is written `::ffff:127.0.0.1` (ss, /proc tcp6), `127.0.0.1` (netstat
//!   under `tcp6`), `[::1]` (ss), `::1` (netstat), `fe80::1%eth0` / `[fe80::1]%eth0` (ss).
//!   [`Addr::ip`] normalises: brackets and `%scope` are stripped and a v4-mapped IPv6 address
//!   becomes the IPv4 address, because dual-stack listeners count per peer with IPv4 clients.
//!   The ss dual-stack wildcard `*` becomes `::` (what /proc tcp6 and netstat `:::` show).
//! - A port of `*` (and /proc's port 0, which netstat prints as `*`) is `None`; a service name
//!   (netstat or ss without `-n`: `localhost:http`) is `None` with the name in
//!   [`Endpoint::service`].
//! - Host names (no `-n`) cannot be decoded: [`Endpoint::same_as`] then compares the text.
//!
//! ```
//! use coroner_parse::formats::sockets::{Addr, Endpoint, TcpState};
//! let ss = Endpoint::parse(b"[::ffff:192.0.2.1]:6379").unwrap();
//! let netstat = Endpoint::parse(b"192.0.2.1:6379").unwrap();
//! assert!(ss.same_as(&netstat));
//! assert_eq!(ss.port, Some(6379));
//! assert_eq!(TcpState::from_ss(b"TIME-WAIT"), TcpState::from_netstat(b"TIME_WAIT"));
//! assert_eq!(TcpState::from_proc_hex(0x06).map(TcpState::name), Some("TIME_WAIT"));
//! assert!(matches!(Endpoint::parse(b"*:*").unwrap().addr, Addr::Text(b"*")));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ParseError;

/// A TCP state, as the kernel numbers them (`include/net/tcp_states.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    /// Also what an unconnected UDP socket is in (ss `UNCONN`, netstat's empty udp state).
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
    /// netstat's `UNKNOWN`: a state number net-tools has no name for.
    Unknown,
}

impl TcpState {
    /// Every state, in kernel order (then `Unknown`): handy for count tables.
    pub const ALL: [TcpState; 13] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
        TcpState::Unknown,
    ];

    /// The kernel/netstat name with underscores (`TIME_WAIT`, `FIN_WAIT2`): the spelling of
    /// the `state` column of `socket_states.parquet`.
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::NewSynRecv => "NEW_SYN_RECV",
            TcpState::Unknown => "UNKNOWN",
        }
    }

    /// A net-tools netstat state (Linux and the BSD/macOS netstat share these names).
    pub fn from_netstat(word: &[u8]) -> Option<TcpState> {
        Some(match word {
            b"ESTABLISHED" => TcpState::Established,
            b"SYN_SENT" => TcpState::SynSent,
            b"SYN_RECV" | b"SYN_RCVD" => TcpState::SynRecv,
            b"FIN_WAIT1" | b"FIN_WAIT_1" => TcpState::FinWait1,
            b"FIN_WAIT2" | b"FIN_WAIT_2" => TcpState::FinWait2,
            b"TIME_WAIT" => TcpState::TimeWait,
            b"CLOSE" | b"CLOSED" => TcpState::Close,
            b"CLOSE_WAIT" => TcpState::CloseWait,
            b"LAST_ACK" => TcpState::LastAck,
            b"LISTEN" => TcpState::Listen,
            b"CLOSING" => TcpState::Closing,
            b"UNKNOWN" => TcpState::Unknown,
            _ => return None,
        })
    }

    /// An iproute2 ss state (`ESTAB`, `TIME-WAIT`, `UNCONN` = the kernel's TCP_CLOSE).
    pub fn from_ss(word: &[u8]) -> Option<TcpState> {
        Some(match word {
            b"ESTAB" => TcpState::Established,
            b"SYN-SENT" => TcpState::SynSent,
            b"SYN-RECV" => TcpState::SynRecv,
            b"FIN-WAIT-1" => TcpState::FinWait1,
            b"FIN-WAIT-2" => TcpState::FinWait2,
            b"TIME-WAIT" => TcpState::TimeWait,
            b"UNCONN" | b"CLOSED" | b"CLOSE" => TcpState::Close,
            b"CLOSE-WAIT" => TcpState::CloseWait,
            b"LAST-ACK" => TcpState::LastAck,
            b"LISTEN" => TcpState::Listen,
            b"CLOSING" => TcpState::Closing,
            b"NEW-SYN-RECV" => TcpState::NewSynRecv,
            b"UNKNOWN" => TcpState::Unknown,
            _ => return None,
        })
    }

    /// The `st` column of `/proc/net/tcp[6]` (`01`..`0C`).
    pub const fn from_proc_hex(st: u8) -> Option<TcpState> {
        Some(match st {
            0x01 => TcpState::Established,
            0x02 => TcpState::SynSent,
            0x03 => TcpState::SynRecv,
            0x04 => TcpState::FinWait1,
            0x05 => TcpState::FinWait2,
            0x06 => TcpState::TimeWait,
            0x07 => TcpState::Close,
            0x08 => TcpState::CloseWait,
            0x09 => TcpState::LastAck,
            0x0A => TcpState::Listen,
            0x0B => TcpState::Closing,
            0x0C => TcpState::NewSynRecv,
            _ => return None,
        })
    }
}

/// The protocol column (netstat `Proto`, ss `Netid`, or implied by the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// `tcp`: on Linux netstat and /proc/net/tcp, IPv4; in ss (no family column), either.
    Tcp,
    Tcp6,
    /// macOS `tcp4`.
    Tcp4,
    /// macOS `tcp46` (dual-stack).
    Tcp46,
    Udp,
    Udp6,
    Udp4,
    Udp46,
    /// Anything else (`raw`, `u_str`, `mptcp`, ...).
    Other,
}

impl Proto {
    pub fn from_bytes(word: &[u8]) -> Option<Proto> {
        Some(match word {
            b"tcp" => Proto::Tcp,
            b"tcp6" => Proto::Tcp6,
            b"tcp4" => Proto::Tcp4,
            b"tcp46" => Proto::Tcp46,
            b"udp" => Proto::Udp,
            b"udp6" => Proto::Udp6,
            b"udp4" => Proto::Udp4,
            b"udp46" => Proto::Udp46,
            b"raw" | b"raw6" | b"u_str" | b"u_dgr" | b"u_seq" | b"p_raw" | b"p_dgr" | b"nl"
            | b"mptcp" | b"sctp" | b"tipc" | b"v_str" | b"v_dgr" | b"xdp" | b"icmp6"
            | b"udplite" | b"udpl6" => Proto::Other,
            _ => return None,
        })
    }

    pub const fn is_tcp(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Tcp6 | Proto::Tcp4 | Proto::Tcp46)
    }
}

/// An address as the tool wrote it, or decoded (from /proc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr<'a> {
    /// As written: `192.0.2.1`, `::1`, `[::ffff:192.0.2.1]`, `fe80::1%eth0`, `*`,
    /// `localhost`. netstat without `-W` may have cut it (see `netstat::may_be_truncated`).
    Text(&'a [u8]),
    Ip(IpAddr),
}

impl Addr<'_> {
    /// The address without brackets and `%scope` (`[fe80::1]%eth0` gives `fe80::1`); a
    /// decoded address has none.
    pub fn host(&self) -> Option<&[u8]> {
        match self {
            Addr::Text(t) => Some(strip_host(t)),
            Addr::Ip(_) => None,
        }
    }

    /// The `%scope` suffix (`eth0` of `fe80::1%eth0` or `[fe80::1]%eth0`), if any.
    pub fn scope(&self) -> Option<&[u8]> {
        match self {
            Addr::Text(t) => {
                let at = memchr::memchr(b'%', t)?;
                let s = t.get(at + 1..)?;
                Some(s.strip_suffix(b"]").unwrap_or(s))
            }
            Addr::Ip(_) => None,
        }
    }

    /// The normalised address: brackets and scope stripped, v4-mapped IPv6 as IPv4, ss's
    /// wildcard `*` as `::`. `None` for host names and cut or damaged text.
    pub fn ip(&self) -> Option<IpAddr> {
        let ip = match self {
            Addr::Ip(ip) => *ip,
            Addr::Text(t) => {
                let h = strip_host(t);
                if h == b"*" {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                } else if let Some(v4) = dotted_quad(h) {
                    IpAddr::V4(v4)
                } else {
                    // Only the short address slice is checked, never the whole line.
                    std::str::from_utf8(h).ok()?.parse::<IpAddr>().ok()?
                }
            }
        };
        Some(ip.to_canonical())
    }
}

/// An IPv4 address in the spelling every capture tool prints (four decimal octets, none
/// with a leading zero), read without the general parser, which was most of the time spent
/// on a netstat row's two addresses; `None` for anything else, which goes to `std`'s
/// parser. What this accepts, `std` reads as the same address (a test holds the two
/// together).
fn dotted_quad(h: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = h.split(|&b| b == b'.');
    for octet in &mut octets {
        let digits = parts.next()?;
        // One to three digits, no leading zero: `std` reads nothing else.
        if digits.len() > 3 || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        *octet = u8::try_from(parse_u64(digits)?).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// `[fe80::1]%eth0` / `fe80::1%eth0` / `[::1]` to the bare address text.
fn strip_host(t: &[u8]) -> &[u8] {
    let t = match memchr::memchr(b'%', t) {
        Some(at) => t.get(..at).unwrap_or(t),
        None => t,
    };
    let t = t.strip_prefix(b"[").unwrap_or(t);
    t.strip_suffix(b"]").unwrap_or(t)
}

/// One end of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    pub addr: Addr<'a>,
    /// `None` for `*`, /proc's port 0, and service names.
    pub port: Option<u16>,
    /// The service name when the tool resolved the port (`http` of `localhost:http`).
    pub service: Option<&'a [u8]>,
}

impl<'a> Endpoint<'a> {
    /// `addr:port` split on the **last** colon (`::1:3000`, `[::]:*`, `fe80::1%eth0:22`,
    /// `*:4000`); with no colon, or a dot after the last colon, on the last dot (BSD/macOS
    /// `192.0.2.1.443`, `*.*`, `::1.6379`). `None` if there is no separator or no address.
    pub fn parse(text: &'a [u8]) -> Option<Endpoint<'a>> {
        let colon = memchr::memrchr(b':', text);
        let split = match colon {
            Some(c) if !text.get(c + 1..)?.contains(&b'.') => c,
            _ => memchr::memrchr(b'.', text)?,
        };
        let addr = text.get(..split)?;
        let port = text.get(split + 1..)?;
        if addr.is_empty() || port.is_empty() {
            return None;
        }
        let (port, service) = if port == b"*" {
            (None, None)
        } else if port.iter().all(u8::is_ascii_digit) {
            (Some(parse_u16(port)?), None)
        } else {
            (None, Some(port))
        };
        Some(Endpoint {
            addr: Addr::Text(addr),
            port,
            service,
        })
    }

    /// The normalised (address, port) pair used to match sockets across tools.
    pub fn key(&self) -> Option<(IpAddr, Option<u16>)> {
        Some((self.addr.ip()?, self.port))
    }

    /// Whether two renderings name the same endpoint: by normalised address when both
    /// decode, else by the address text without brackets or scope (host names).
    pub fn same_as(&self, other: &Endpoint<'_>) -> bool {
        if self.port != other.port || self.service != other.service {
            return false;
        }
        match (self.addr.ip(), other.addr.ip()) {
            (Some(a), Some(b)) => a == b,
            _ => match (self.addr.host(), other.addr.host()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// One socket, whatever tool printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketRow<'a> {
    pub proto: Proto,
    /// For UDP rows without a state, [`TcpState::Close`] (what the kernel holds; ss prints
    /// it as `UNCONN`).
    pub state: TcpState,
    pub local: Endpoint<'a>,
    pub remote: Endpoint<'a>,
    pub recv_q: Option<u64>,
    pub send_q: Option<u64>,
    /// Program name (netstat `-p` after the `/`, ss first `users:` name). netstat cuts it
    /// and it may hold spaces.
    pub process: Option<&'a [u8]>,
    pub pid: Option<u32>,
    /// ss `-p`: the whole `users:(...)` list, for [`super::ss::users`] when several
    /// processes share the socket.
    pub users: Option<&'a [u8]>,
    /// Timer as printed: netstat `-o` `keepalive (6580.48/0/0)`, ss `-o` `timewait,58sec,0`
    /// (inside `timer:(...)`), /proc `03:000016F0` (`tr:tm->when`).
    pub timer: Option<&'a [u8]>,
}

/// What one line of a capture is. Every tool module's `parse` returns this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A recognised title or column-header line (not an error, no socket).
    Header(Header),
    Socket(SocketRow<'a>),
    /// A blank line, or a recognised line that holds no socket (netstat's UNIX-socket
    /// section, ss `-i`/`-m` detail lines).
    Other,
}

/// The header lines the tools print, with what their shape says about the rows below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    /// netstat `Active Internet connections (servers and established)` (`(w/o servers)`,
    /// `(only servers)`) or `Active UNIX domain sockets ...`.
    NetstatTitle,
    /// netstat `Proto Recv-Q Send-Q Local Address Foreign Address State ...`: `program` when a
    /// `PID/Program name` column follows (`-p`), `timer` when a `Timer` column does (`-o`).
    NetstatColumns { program: bool, timer: bool },
    /// ss `[Netid] [State] Recv-Q Send-Q Local Address:Port Peer Address:Port [Process]`.
    /// `state` is false under a `state <name>` filter (`ss -tn state time-wait`): the rows
    /// then carry no state, and the caller must pass the filter's state to
    /// [`super::ss::parse_with_state`]. `netid` when a `Netid` column leads (several
    /// socket kinds asked for, `ss -tua`).
    SsColumns { netid: bool, state: bool },
    /// `/proc/net/tcp[6]` `  sl  local_address rem_address   st ...`.
    ProcNetTcp,
}

/// The next token as a number; `expected` names it in the error (at the token, or where
/// one was missing).
pub(crate) fn number(
    line: &[u8],
    pos: &mut usize,
    expected: &'static str,
) -> Result<u64, ParseError> {
    let at = *pos;
    let (start, tok) = next_token(line, pos).ok_or(ParseError::new(expected, at))?;
    parse_u64(tok).ok_or(ParseError::new(expected, start))
}

/// The next token as an [`Endpoint`], errors as in [`number`].
pub(crate) fn endpoint<'a>(
    line: &'a [u8],
    pos: &mut usize,
    expected: &'static str,
) -> Result<Endpoint<'a>, ParseError> {
    let at = *pos;
    let (start, tok) = next_token(line, pos).ok_or(ParseError::new(expected, at))?;
    Endpoint::parse(tok).ok_or(ParseError::new(expected, start))
}

/// The next whitespace-separated token at or after `*pos`: (start offset, token).
pub(crate) fn next_token<'a>(line: &'a [u8], pos: &mut usize) -> Option<(usize, &'a [u8])> {
    let mut i = *pos;
    while line.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    let start = i;
    while line.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
        i += 1;
    }
    *pos = i;
    if i == start {
        None
    } else {
        Some((start, line.get(start..i)?))
    }
}

/// `line[from..]` without surrounding whitespace, with its start offset.
pub(crate) fn trim_from(line: &[u8], from: usize) -> (usize, &[u8]) {
    let rest = line.get(from..).unwrap_or_default();
    let lead = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let rest = rest.get(lead..).unwrap_or_default();
    let trail = rest
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    (
        from + lead,
        rest.get(..rest.len() - trail).unwrap_or_default(),
    )
}

/// Decimal digits to u64 with overflow checks; `None` on anything else or empty.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

pub(crate) fn parse_u32(digits: &[u8]) -> Option<u32> {
    u32::try_from(parse_u64(digits)?).ok()
}

pub(crate) fn parse_u16(digits: &[u8]) -> Option<u16> {
    u16::try_from(parse_u64(digits)?).ok()
}

/// Hex digits (either case) to u64 with overflow checks.
pub(crate) fn parse_hex(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        n = n.checked_mul(16)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// An IPv4 address from a little-endian host's /proc word.
pub(crate) fn ipv4_from_word(word: u32) -> Ipv4Addr {
    Ipv4Addr::from(word.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_agree_across_tools() {
        for (netstat, ss, hex) in [
            (&b"ESTABLISHED"[..], &b"ESTAB"[..], 0x01),
            (b"SYN_SENT", b"SYN-SENT", 0x02),
            (b"SYN_RECV", b"SYN-RECV", 0x03),
            (b"FIN_WAIT1", b"FIN-WAIT-1", 0x04),
            (b"FIN_WAIT2", b"FIN-WAIT-2", 0x05),
            (b"TIME_WAIT", b"TIME-WAIT", 0x06),
            (b"CLOSE", b"UNCONN", 0x07),
            (b"CLOSE_WAIT", b"CLOSE-WAIT", 0x08),
            (b"LAST_ACK", b"LAST-ACK", 0x09),
            (b"LISTEN", b"LISTEN", 0x0A),
            (b"CLOSING", b"CLOSING", 0x0B),
        ] {
            let n = TcpState::from_netstat(netstat).unwrap();
            assert_eq!(TcpState::from_ss(ss), Some(n));
            assert_eq!(TcpState::from_proc_hex(hex), Some(n));
            assert_eq!(n.name().as_bytes(), netstat);
        }
        assert_eq!(
            TcpState::from_proc_hex(0x0C).map(TcpState::name),
            Some("NEW_SYN_RECV")
        );
        assert_eq!(TcpState::from_proc_hex(0x0D), None);
        assert_eq!(TcpState::from_ss(b"TIME_WAIT"), None);
        assert_eq!(TcpState::from_netstat(b"TIME-WAIT"), None);
    }

    #[test]
    fn endpoints_split_on_the_last_colon() {
        let e = Endpoint::parse(b"::1:3000").unwrap();
        assert_eq!(e.addr, Addr::Text(b"::1"));
        assert_eq!(e.port, Some(3000));
        let e = Endpoint::parse(b":::*").unwrap();
        assert_eq!(e.addr, Addr::Text(b"::"));
        assert_eq!(e.port, None);
        let e = Endpoint::parse(b"[fe80::1]%eth0:546").unwrap();
        assert_eq!(e.addr.host(), Some(&b"fe80::1"[..]));
        assert_eq!(e.addr.scope(), Some(&b"eth0"[..]));
        let e = Endpoint::parse(b"0.0.0.0%lo:53").unwrap();
        assert_eq!(e.key(), Some((IpAddr::V4(Ipv4Addr::UNSPECIFIED), Some(53))));
        let e = Endpoint::parse(b"localhost:http").unwrap();
        assert_eq!(e.port, None);
        assert_eq!(e.service, Some(&b"http"[..]));
        assert_eq!(e.addr.ip(), None);
        assert_eq!(Endpoint::parse(b"6379"), None);
        assert_eq!(Endpoint::parse(b":80"), None);
        assert_eq!(Endpoint::parse(b"192.0.2.1:99999"), None);
    }

    #[test]
    fn bsd_dotted_ports() {
        let e = Endpoint::parse(b"192.0.2.191.52044").unwrap();
        assert_eq!(e.addr, Addr::Text(b"192.0.2.191"));
        assert_eq!(e.port, Some(52044));
        let e = Endpoint::parse(b"*.*").unwrap();
        assert_eq!((e.addr, e.port), (Addr::Text(b"*"), None));
        let e = Endpoint::parse(b"::1.6379").unwrap();
        assert_eq!(e.key(), Some(("::1".parse().unwrap(), Some(6379))));
    }

    #[test]
    fn v4_mapped_brackets_and_wildcards_normalise() {
        let ss = Endpoint::parse(b"[::ffff:198.51.100.7]:4000").unwrap();
        let netstat = Endpoint::parse(b"198.51.100.7:4000").unwrap();
        let proc = Endpoint {
            addr: Addr::Ip("::ffff:198.51.100.7".parse().unwrap()),
            port: Some(4000),
            service: None,
        };
        assert!(ss.same_as(&netstat) && netstat.same_as(&proc) && proc.same_as(&ss));
        let ss_any = Endpoint::parse(b"*:4000").unwrap();
        let netstat_any = Endpoint::parse(b":::4000").unwrap();
        let ss_bracket = Endpoint::parse(b"[::]:4000").unwrap();
        assert!(ss_any.same_as(&netstat_any) && ss_bracket.same_as(&netstat_any));
        assert!(!Endpoint::parse(b"0.0.0.0:4000").unwrap().same_as(&ss_any));
        let a = Endpoint::parse(b"localhost:6379").unwrap();
        let b = Endpoint::parse(b"localhost:6379").unwrap();
        assert!(a.same_as(&b));
        assert!(!a.same_as(&Endpoint::parse(b"127.0.0.1:6379").unwrap()));
    }

    #[test]
    fn numbers_check_overflow() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"1a"), None);
        assert_eq!(parse_hex(b"0100007F"), Some(0x0100_007F));
        assert_eq!(parse_hex(b"11112222333344445"), None);
        assert_eq!(ipv4_from_word(0x0100_007F), Ipv4Addr::LOCALHOST);
    }

    /// The hand reading of an IPv4 address never disagrees with `std`'s: whatever it
    /// accepts, `std` reads as the same address (what it declines goes to `std` anyway).
    #[test]
    fn dotted_quad_agrees_with_std() {
        let std_v4 = |t: &[u8]| std::str::from_utf8(t).ok()?.parse::<Ipv4Addr>().ok();
        for t in [
            &b"10.0.4.21"[..],
            b"0.0.0.0",
            b"255.255.255.255",
            b"192.0.2.1",
        ] {
            assert_eq!(dotted_quad(t), std_v4(t), "{t:?}");
            assert!(dotted_quad(t).is_some());
        }
        for t in [
            &b"256.0.0.1"[..],
            b"01.2.3.4",
            b"1.2.3",
            b"1.2.3.4.5",
            b"1..2.3",
            b"1.2.3.4 ",
            b"",
            b"1000.1.1.1",
            b"::1",
            b"1.2.3.-4",
        ] {
            assert_eq!(dotted_quad(t), None, "{t:?}");
        }
        // Every octet value, each spelling with leading zeros among them.
        for v in 0..1000u32 {
            for t in [
                format!("{v}.1.2.3"),
                format!("1.2.3.{v:03}"),
                format!("{v:02}.0.0.0"),
            ] {
                if let Some(ip) = dotted_quad(t.as_bytes()) {
                    assert_eq!(Some(ip), std_v4(t.as_bytes()), "{t}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn dotted_quad_accepts_only_what_std_reads_alike(t in "[0-9.:a ]{0,17}") {
            if let Some(ip) = dotted_quad(t.as_bytes()) {
                proptest::prop_assert_eq!(Some(ip), t.parse::<Ipv4Addr>().ok());
            }
        }

        #[test]
        fn dotted_quad_reads_every_canonical_address(bits in proptest::prelude::any::<u32>()) {
            let ip = Ipv4Addr::from_bits(bits);
            proptest::prop_assert_eq!(dotted_quad(ip.to_string().as_bytes()), Some(ip));
        }
    }
}
