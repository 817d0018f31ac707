//! iproute2 `ss -tan`, `-tanp`, `-tano`, `-Htan`, `ss -tn state <name>` rows, one
//! [`SocketRow`] per line, and the `ss -s` summary ([`parse_summary`]).
//!
//! ```text
//! columns = ["Netid"] ["State"] "Recv-Q Send-Q Local Address:Port Peer Address:Port" ["Process"]
//! row     = [netid] [state] recv-q send-q local peer [process]
//! local   = addr ":" port     ; addr: 192.0.2.1 | [2001:db8::1] | [fe80::1]%eth0 | * | [::ffff:192.0.2.1]
//! process = ["users:(" ("(" '"' name '"' ",pid=" N ",fd=" N ")")+ ")"] ["timer:(" name "," time "," n ")"] ...
//! ```
//! Example row: `TIME-WAIT  0      0               127.0.0.1:51120          127.0.0.1:6379`.
//!
//! Traps handled:
//! - ss states are hyphenated and abbreviated (`ESTAB`, `TIME-WAIT`, `UNCONN`), unlike
//!   netstat: both map to one [`TcpState`].
//! - `ss ... state <name>` (`ss -tn state time-wait`) prints **no State column**: the state
//!   is implied by the filter. Its header starts with `Recv-Q` ([`Header::SsColumns`] with
//!   `state: false`), which is how a reader of the file tells; pass the state to
//!   [`parse_with_state`] (`Some(TcpState::TimeWait)`). A row that does carry a state keeps
//!   its own; a stateless row without an implied state is an error, never a guess.
//! - `-H` drops the header: rows parse the same.
//! - Column widths adapt to content, so rows are split on whitespace; header words can run
//!   together (`Peer Address:PortProcess`), so headers are recognised by their first word,
//!   never tokenized. A peer address that runs into `users:(` / `timer:(` is cut there.
//! - Addresses: IPv6 in brackets, `%scope` after the bracket (`[fe80::1]%eth0:546`),
//!   `*` (dual-stack wildcard = `::`), v4-mapped `[::ffff:192.0.2.1]`, service names without
//!   `-n` (`0.0.0.0:ntp`), old ss's bare `:::22`: all through [`Endpoint::parse`], which
//!   splits on the last colon.
//! - `-p`: `users:(("nginx",pid=2,fd=6),("nginx",pid=1,fd=6))`, or pre-2015
//!   `users:(("sshd",1234,3))`; the row holds the first process and the whole list
//!   ([`users`] walks it). Program names are quoted and may hold spaces, commas, `)`.
//! - `-o`: `timer:(timewait,58sec,0)`; the row's timer is the text inside the parentheses.
//!   Other extras (`uid:`, `ino:`, `sk:`, `cgroup:`, `-e`/`-i` tails) are skipped, and the
//!   tab-indented detail lines of `-i`/`-m` are [`Line::Other`].
//! - Without a Netid column the protocol is [`Proto::Tcp`] (`ss -t`): `ss -u` output without
//!   a Netid column is the caller's to relabel.
//!
//! ```
//! use coroner_parse::formats::ss;
//! use coroner_parse::formats::sockets::{Line, TcpState};
//! let Line::Socket(r) = ss::parse(br#"ESTAB 0 0 [::ffff:192.0.2.1]:4000 [::ffff:192.0.2.9]:60428 users:(("python3",pid=14157,fd=17))"#).unwrap() else { panic!() };
//! assert_eq!(r.state, TcpState::Established);
//! assert_eq!(r.local.key(), Some(("192.0.2.1".parse().unwrap(), Some(4000))));
//! assert_eq!((r.process, r.pid), (Some(&b"python3"[..]), Some(14157)));
//! // `ss -tn state time-wait`: no State column.
//! let Line::Socket(r) = ss::parse_with_state(b"0      0      192.0.2.1:51120    192.0.2.9:6379", Some(TcpState::TimeWait)).unwrap() else { panic!() };
//! assert_eq!(r.state, TcpState::TimeWait);
//! assert!(ss::parse(b"0      0      192.0.2.1:51120    192.0.2.9:6379").is_err());
//! ```

use memchr::{memchr, memmem};

use super::sockets::{
    Endpoint, Header, Line, Proto, SocketRow, TcpState, endpoint, next_token, number, parse_u32,
    parse_u64,
};
use crate::error::ParseError;

/// One line of `ss` output with a State column (or a header): [`parse_with_state`] with no
/// implied state.
pub fn parse(line: &[u8]) -> Result<Line<'_>, ParseError> {
    parse_with_state(line, None)
}

/// One line of `ss` output. `implied` is the state of a `state <name>` filter, whose rows
/// have no State column (their header starts with `Recv-Q`); it is used only for rows that
/// carry no state of their own. Never allocates; borrows every text field from `line`.
pub fn parse_with_state(line: &[u8], implied: Option<TcpState>) -> Result<Line<'_>, ParseError> {
    // `-i` / `-m` / `-e` detail lines are tab-indented continuations of the row above.
    if line.first() == Some(&b'\t') {
        return Ok(Line::Other);
    }
    let mut pos = 0;
    let Some((start, first)) = next_token(line, &mut pos) else {
        return Ok(Line::Other);
    };
    // By the first word only: the header words can run together.
    if first.starts_with(b"State") || first.starts_with(b"Netid") || first.starts_with(b"Recv-Q") {
        return Ok(Line::Header(Header::SsColumns {
            netid: first.starts_with(b"Netid"),
            state: memmem::find(line, b"State").is_some(),
        }));
    }
    let (proto, (start, word)) = match Proto::from_bytes(first) {
        Some(p) => {
            let at = pos;
            (
                p,
                next_token(line, &mut pos).ok_or(ParseError::new(STATE, at))?,
            )
        }
        None => (Proto::Tcp, (start, first)),
    };
    let state = match (TcpState::from_ss(word), implied) {
        (Some(s), _) => s,
        (None, Some(s)) if word.first().is_some_and(u8::is_ascii_digit) => {
            pos = start; // no State column: this token is Recv-Q
            s
        }
        _ => return Err(ParseError::new(STATE, start)),
    };
    let recv_q = number(line, &mut pos, "a Recv-Q number")?;
    let send_q = number(line, &mut pos, "a Send-Q number")?;
    let local = endpoint(line, &mut pos, "the local address:port")?;
    let at = pos;
    let (peer_at, mut peer) = next_token(line, &mut pos).ok_or(ParseError::new(PEER, at))?;
    // A full peer column can run into the process column.
    if let Some(cut) = [&b"users:("[..], b"timer:("]
        .iter()
        .filter_map(|n| memmem::find(peer, n))
        .min()
    {
        peer = peer.get(..cut).unwrap_or_default();
        pos = peer_at + cut;
    }
    let remote = Endpoint::parse(peer).ok_or(ParseError::new(PEER, peer_at))?;

    let rest = line.get(pos..).unwrap_or_default();
    let users_list = memmem::find(rest, b"users:(").and_then(|at| {
        let list = rest.get(at..)?;
        list.get(..balanced_end(list, 6))
    });
    let first_user = users_list.and_then(|l| users(l).next());
    let timer = memmem::find(rest, b"timer:(").and_then(|at| {
        let inner = rest.get(at + 7..)?;
        let end = memchr(b')', inner)
            .or_else(|| inner.iter().position(u8::is_ascii_whitespace))
            .unwrap_or(inner.len());
        inner.get(..end)
    });
    Ok(Line::Socket(SocketRow {
        proto,
        state,
        local,
        remote,
        recv_q: Some(recv_q),
        send_q: Some(send_q),
        process: first_user.map(|u| u.name),
        pid: first_user.and_then(|u| u.pid),
        users: users_list,
        timer,
    }))
}

const STATE: &str = "an ss state (ESTAB, TIME-WAIT, ...), or Recv-Q with an implied state";
const PEER: &str = "the peer address:port";

/// The end (exclusive) of the parenthesised group opening at `open` in `s`, skipping quoted
/// names; `s.len()` when it is cut off.
fn balanced_end(s: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, &b) in s.iter().enumerate().skip(open) {
        match b {
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// One process of an ss `users:(...)` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User<'a> {
    /// The command name, without quotes.
    pub name: &'a [u8],
    pub pid: Option<u32>,
    pub fd: Option<u32>,
}

/// The processes of a `users:((...),(...))` list ([`SocketRow::users`]), in ss's order.
/// Reads the current `("name",pid=N,fd=N)` and the pre-2015 `("name",N,N)` forms; stops at
/// the first damaged entry.
pub fn users(list: &[u8]) -> Users<'_> {
    Users { rest: list }
}

/// Iterator of [`users`].
#[derive(Debug, Clone)]
pub struct Users<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Users<'a> {
    type Item = User<'a>;

    fn next(&mut self) -> Option<User<'a>> {
        let start = memmem::find(self.rest, b"(\"")? + 2;
        let body = self.rest.get(start..)?;
        // The closing quote is the one followed by `,` or `)`: names may hold quotes.
        let mut q = 0;
        let name_end = loop {
            let at = q + memchr(b'"', body.get(q..)?)?;
            if matches!(body.get(at + 1), Some(b',' | b')') | None) {
                break at;
            }
            q = at + 1;
        };
        let name = body.get(..name_end)?;
        let fields_from = name_end + 1;
        let fields = body.get(fields_from..)?;
        let close = memchr(b')', fields).unwrap_or(fields.len());
        let mut user = User {
            name,
            pid: None,
            fd: None,
        };
        let mut bare = 0;
        for f in fields.get(..close)?.split(|&b| b == b',') {
            if let Some(n) = f.strip_prefix(b"pid=") {
                user.pid = parse_u32(n);
            } else if let Some(n) = f.strip_prefix(b"fd=") {
                user.fd = parse_u32(n);
            } else if let Some(n) = parse_u32(f) {
                // Old form: pid, then fd.
                match bare {
                    0 => user.pid = Some(n),
                    1 => user.fd = Some(n),
                    _ => {}
                }
                bare += 1;
            }
        }
        self.rest = body.get(fields_from + close..).unwrap_or_default();
        Some(user)
    }
}

/// One line of `ss -s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryLine<'a> {
    /// `Total: 43` (old: `Total: 43 (kernel 0)`): all sockets of all kinds.
    Total(u64),
    /// `TCP:   47 (estab 18, closed 25, orphaned 0, timewait 25)`.
    Tcp(TcpSummary),
    /// `Transport Total     IP        IPv6`.
    TransportHeader,
    /// `TCP\t  22        14        8` (`-` where old ss had no number).
    Transport {
        name: &'a [u8],
        total: Option<u64>,
        ip: Option<u64>,
        ipv6: Option<u64>,
    },
    Blank,
}

/// The `TCP:` line of `ss -s`. Its numbers are the kernel's counters, not a socket listing:
/// `total` = sockets in use + TIME-WAIT minisockets (which include orphaned FIN-WAIT-2
/// sockets); `estab` = the SNMP `CurrEstab` (ESTABLISHED + CLOSE-WAIT); `closed` = `total` -
/// sockets in use; `timewait` = the minisockets. So they never equal a netstat state count
/// directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpSummary {
    pub total: u64,
    pub estab: Option<u64>,
    pub closed: Option<u64>,
    pub orphaned: Option<u64>,
    /// Old iproute2 only.
    pub synrecv: Option<u64>,
    /// Old iproute2 printed `timewait 25/0`: the first number.
    pub timewait: Option<u64>,
}

/// One line of `ss -s` output.
pub fn parse_summary(line: &[u8]) -> Result<SummaryLine<'_>, ParseError> {
    let mut pos = 0;
    let Some((_, first)) = next_token(line, &mut pos) else {
        return Ok(SummaryLine::Blank);
    };
    match first {
        b"Total:" => Ok(SummaryLine::Total(number(
            line,
            &mut pos,
            "the socket total",
        )?)),
        b"TCP:" => {
            let mut s = TcpSummary {
                total: number(line, &mut pos, "the TCP total")?,
                ..TcpSummary::default()
            };
            let rest = line.get(pos..).unwrap_or_default();
            let open = memchr(b'(', rest).ok_or(ParseError::new("'(' after the total", pos))?;
            let inner = rest.get(open + 1..).unwrap_or_default();
            let inner = inner
                .get(..memchr(b')', inner).unwrap_or(inner.len()))
                .unwrap_or_default();
            for item in inner.split(|&b| b == b',') {
                let mut p = 0;
                let (Some((_, key)), Some((_, val))) =
                    (next_token(item, &mut p), next_token(item, &mut p))
                else {
                    continue;
                };
                // `timewait 25/0` in old iproute2.
                let val = val
                    .get(..memchr(b'/', val).unwrap_or(val.len()))
                    .unwrap_or_default();
                let val = parse_u64(val);
                match key {
                    b"estab" => s.estab = val,
                    b"closed" => s.closed = val,
                    b"orphaned" => s.orphaned = val,
                    b"synrecv" => s.synrecv = val,
                    b"timewait" => s.timewait = val,
                    _ => {}
                }
            }
            Ok(SummaryLine::Tcp(s))
        }
        b"Transport" => Ok(SummaryLine::TransportHeader),
        name => {
            let cell = |pos: &mut usize| -> Result<Option<u64>, ParseError> {
                let at = *pos;
                match next_token(line, pos) {
                    Some((_, b"-")) => Ok(None),
                    Some((s, t)) => parse_u64(t)
                        .map(Some)
                        .ok_or(ParseError::new("a count or '-'", s)),
                    None => Err(ParseError::new("a count or '-'", at)),
                }
            };
            let total = cell(&mut pos)?;
            let ip = cell(&mut pos)?;
            let ipv6 = cell(&mut pos)?;
            if let Some((at, _)) = next_token(line, &mut pos) {
                return Err(ParseError::new(
                    "the end of the line after three counts",
                    at,
                ));
            }
            Ok(SummaryLine::Transport {
                name,
                total,
                ip,
                ipv6,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::sockets::Addr;
    use std::net::IpAddr;

    fn row(line: &[u8]) -> SocketRow<'_> {
        row_with(line, None)
    }

    fn row_with(line: &[u8], implied: Option<TcpState>) -> SocketRow<'_> {
        match parse_with_state(line, implied) {
            Ok(Line::Socket(r)) => r,
            other => panic!("{other:?} for {}", String::from_utf8_lossy(line)),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_by_first_word() {
        let h = |netid, state| Ok(Line::Header(Header::SsColumns { netid, state }));
        assert_eq!(
            parse(b"State      Recv-Q Send-Q      Local Address:Port        Peer Address:Port Process"),
            h(false, true)
        );
        // Words run together when a column is full.
        assert_eq!(
            parse(b"State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"),
            h(false, true)
        );
        assert_eq!(
            parse(b"Recv-Q Send-Q Local Address:Port  Peer Address:Port Process"),
            h(false, false)
        );
        assert_eq!(
            parse(b"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port"),
            h(true, true)
        );
        assert_eq!(parse(b""), Ok(Line::Other));
        assert_eq!(parse(b"\t cubic wscale:7,7 rto:204"), Ok(Line::Other));
    }

    #[test]
    fn hyphenated_states() {
        for (name, st) in [
            ("ESTAB", TcpState::Established),
            ("SYN-SENT", TcpState::SynSent),
            ("SYN-RECV", TcpState::SynRecv),
            ("FIN-WAIT-1", TcpState::FinWait1),
            ("FIN-WAIT-2", TcpState::FinWait2),
            ("TIME-WAIT", TcpState::TimeWait),
            ("UNCONN", TcpState::Close),
            ("CLOSE-WAIT", TcpState::CloseWait),
            ("LAST-ACK", TcpState::LastAck),
            ("LISTEN", TcpState::Listen),
            ("CLOSING", TcpState::Closing),
        ] {
            let line = format!("{name:<10} 0      0      192.0.2.1:22      192.0.2.9:5000");
            assert_eq!(row(line.as_bytes()).state, st);
        }
        // netstat spelling is not ss's.
        assert_eq!(
            parse(b"TIME_WAIT 0 0 192.0.2.1:1 192.0.2.9:2")
                .unwrap_err()
                .at,
            0
        );
    }

    #[test]
    fn state_filter_rows_have_no_state_column() {
        let line = b"0      0          192.0.2.2:39150 203.0.113.80:80          ";
        let r = row_with(line, Some(TcpState::TimeWait));
        assert_eq!(r.state, TcpState::TimeWait);
        assert_eq!((r.recv_q, r.send_q), (Some(0), Some(0)));
        assert_eq!(r.local.key(), Some((ip("192.0.2.2"), Some(39150))));
        assert_eq!(r.remote.key(), Some((ip("203.0.113.80"), Some(80))));
        // Never guessed.
        let e = parse(line).unwrap_err();
        assert_eq!(e.at, 0);
        // A row with its own state keeps it.
        let r = row_with(
            b"ESTAB 0 0 192.0.2.1:1 192.0.2.9:2",
            Some(TcpState::TimeWait),
        );
        assert_eq!(r.state, TcpState::Established);
    }

    #[test]
    fn brackets_scopes_wildcards_v4_mapped() {
        let r = row(b"LISTEN     0      128                     *:4000                   *:*     ");
        assert_eq!(r.local.key(), Some((ip("::"), Some(4000))));
        assert_eq!(r.remote.port, None);
        let r = row(b"LISTEN     0      16                  [::1]:3000                [::]:*     ");
        assert_eq!(r.local.key(), Some((ip("::1"), Some(3000))));
        assert_eq!(r.remote.key(), Some((ip("::"), None)));
        let r = row(b"ESTAB      0      0      [::ffff:192.0.2.1]:4000  [::ffff:192.0.2.1]:60428");
        assert_eq!(r.local.key(), Some((ip("192.0.2.1"), Some(4000))));
        assert_eq!(r.remote.key(), Some((ip("192.0.2.1"), Some(60428))));
        let r = row(b"UNCONN     0      0      192.0.2.53%lo:53             0.0.0.0:*");
        assert_eq!(r.local.addr.scope(), Some(&b"lo"[..]));
        assert_eq!(r.local.key(), Some((ip("192.0.2.53"), Some(53))));
        let r = row(b"LISTEN 0 128 [2001:db8::1]:443 [::]:*");
        assert_eq!(r.local.key(), Some((ip("2001:db8::1"), Some(443))));
        // Old ss: bare IPv6.
        let r = row(b"LISTEN     0      128                    :::22                      :::*");
        assert_eq!(r.local.key(), Some((ip("::"), Some(22))));
        // Without -n.
        let r = row(b"UNCONN     0          0              [fe80::215:5dff:fe01:1401]%eth0:ntp                      [::]:*");
        assert_eq!(r.local.service, Some(&b"ntp"[..]));
        assert_eq!(r.local.addr.scope(), Some(&b"eth0"[..]));
        assert_eq!(r.local.addr.host(), Some(&b"fe80::215:5dff:fe01:1401"[..]));
    }

    #[test]
    fn netid_column() {
        let r = row(br#"udp   UNCONN 0      0      [fe80::3cd0:53ff:fed7:597b]%eth0:546            [::]:*                                                                                users:(("systemd-network",pid=649,fd=19))"#);
        assert_eq!((r.proto, r.state), (Proto::Udp, TcpState::Close));
        assert_eq!(r.local.port, Some(546));
        assert_eq!(
            (r.process, r.pid),
            (Some(&b"systemd-network"[..]), Some(649))
        );
        let r = row(b"tcp   ESTAB  0      0      192.0.2.1:22 192.0.2.9:5000");
        assert_eq!((r.proto, r.state), (Proto::Tcp, TcpState::Established));
        assert_eq!(parse(b"tcp").unwrap_err().at, 3);
    }

    #[test]
    fn process_column() {
        let r = row(br#"LISTEN     0      128             127.0.0.1:6379             0.0.0.0:*     users:(("python3",pid=14157,fd=3)) "#);
        assert_eq!((r.process, r.pid), (Some(&b"python3"[..]), Some(14157)));
        assert_eq!(r.users, Some(&br#"users:(("python3",pid=14157,fd=3))"#[..]));
        // TIME-WAIT rows have none.
        let r = row(b"TIME-WAIT  0      0               192.0.2.2:39150       203.0.113.80:80                                       ");
        assert_eq!((r.process, r.pid, r.users), (None, None, None));
        // Several processes, names with spaces and punctuation.
        let r = row(br#"LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=2,fd=6),("web (x), y",pid=1,fd=7))"#);
        let all: Vec<_> = users(r.users.unwrap()).collect();
        assert_eq!(
            all,
            [
                User {
                    name: b"nginx",
                    pid: Some(2),
                    fd: Some(6)
                },
                User {
                    name: b"web (x), y",
                    pid: Some(1),
                    fd: Some(7)
                },
            ]
        );
        // Old iproute2.
        let r = row(br#"LISTEN     0      128                    :::22                      :::*      users:(("sshd",1234,3))"#);
        assert_eq!((r.process, r.pid), (Some(&b"sshd"[..]), Some(1234)));
        assert_eq!(users(r.users.unwrap()).next().unwrap().fd, Some(3));
        // Header gap missing: peer runs into the process.
        let r = row(br#"LISTEN 0      1000         0.0.0.0:22        0.0.0.0:*users:(("dropbear",pid=426,fd=3))"#);
        assert_eq!(
            (r.remote.addr, r.remote.port),
            (Addr::Text(b"0.0.0.0"), None)
        );
        assert_eq!(r.pid, Some(426));
        // Cut off: the list runs to the end, the first process still reads.
        let r = row(br#"ESTAB 0 0 192.0.2.1:1 192.0.2.9:2 users:(("node",pid=9"#);
        assert_eq!((r.process, r.pid), (Some(&b"node"[..]), Some(9)));
    }

    #[test]
    fn timers_and_extras() {
        let r = row(b"TIME-WAIT  0      0               127.0.0.1:51120          127.0.0.1:6379  timer:(timewait,58sec,0)");
        assert_eq!(r.timer, Some(&b"timewait,58sec,0"[..]));
        let r = row(br#"ESTAB 0 0 192.0.2.1:22 192.0.2.9:5 users:(("sshd",pid=7,fd=4)) timer:(keepalive,119min,0) uid:0 ino:1234 sk:5 cgroup:/system.slice <->"#);
        assert_eq!(r.timer, Some(&b"keepalive,119min,0"[..]));
        assert_eq!(r.pid, Some(7));
        let r = row(b"ESTAB 0 36 192.0.2.1:22 192.0.2.9:5 timer:(on,200ms,0)");
        assert_eq!((r.timer, r.send_q), (Some(&b"on,200ms,0"[..]), Some(36)));
    }

    #[test]
    fn malformed_rows_are_errors() {
        for (line, at) in [
            (&b"BOGUS 0 0 192.0.2.1:1 192.0.2.2:2"[..], 0),
            (b"ESTAB x 0 192.0.2.1:1 192.0.2.2:2", 6),
            (b"ESTAB 0 0 nocolon 192.0.2.2:2", 10),
            (b"ESTAB 0 0 192.0.2.1:1", 21),
            (b"ESTAB 0 0 192.0.2.1:1 :2", 22),
        ] {
            let e = parse(line).unwrap_err();
            assert_eq!(e.at, at, "{e} for {}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn summary_lines() {
        assert_eq!(parse_summary(b"Total: 43"), Ok(SummaryLine::Total(43)));
        assert_eq!(
            parse_summary(b"Total: 1234 (kernel 0)"),
            Ok(SummaryLine::Total(1234))
        );
        assert_eq!(
            parse_summary(b"TCP:   47 (estab 18, closed 25, orphaned 0, timewait 25)"),
            Ok(SummaryLine::Tcp(TcpSummary {
                total: 47,
                estab: Some(18),
                closed: Some(25),
                orphaned: Some(0),
                synrecv: None,
                timewait: Some(25),
            }))
        );
        let Ok(SummaryLine::Tcp(old)) = parse_summary(
            b"TCP:   9 (estab 2, closed 1, orphaned 0, synrecv 0, timewait 1/0), ports 0",
        ) else {
            panic!()
        };
        assert_eq!((old.synrecv, old.timewait), (Some(0), Some(1)));
        assert_eq!(
            parse_summary(b"Transport Total     IP        IPv6"),
            Ok(SummaryLine::TransportHeader)
        );
        assert_eq!(
            parse_summary(b"TCP\t  22        14        8        "),
            Ok(SummaryLine::Transport {
                name: b"TCP",
                total: Some(22),
                ip: Some(14),
                ipv6: Some(8)
            })
        );
        assert_eq!(
            parse_summary(b"*\t  0         -         -"),
            Ok(SummaryLine::Transport {
                name: b"*",
                total: Some(0),
                ip: None,
                ipv6: None
            })
        );
        assert_eq!(parse_summary(b""), Ok(SummaryLine::Blank));
        assert_eq!(parse_summary(b"TCP: x").unwrap_err().at, 5);
        assert_eq!(parse_summary(b"RAW 0 0").unwrap_err().at, 7);
        assert_eq!(parse_summary(b"RAW 0 0 0 0").unwrap_err().at, 10);
    }

    #[test]
    fn never_panics() {
        use proptest::prelude::*;
        let fixtures: [&[u8]; 6] = [
            br#"ESTAB      0      0      [::ffff:192.0.2.1]:4000  [::ffff:192.0.2.1]:60428 users:(("python3",pid=14157,fd=17))"#,
            br#"udp   UNCONN 0      0      [fe80::3cd0:53ff:fed7:597b]%eth0:546            [::]:*   users:(("a b",pid=649,fd=19),("c",1,2))"#,
            b"TIME-WAIT  0      0               127.0.0.1:51120          127.0.0.1:6379  timer:(timewait,58sec,0)",
            b"0      0          192.0.2.2:39150 203.0.113.80:80          ",
            b"State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
            b"TCP:   9 (estab 2, closed 1, orphaned 0, synrecv 0, timewait 1/0), ports 0",
        ];
        let all = |b: &[u8]| {
            for implied in [None, Some(TcpState::TimeWait)] {
                if let Ok(Line::Socket(r)) = parse_with_state(b, implied) {
                    let _ = (r.local.key(), r.remote.key());
                    if let Some(u) = r.users {
                        users(u).for_each(drop);
                    }
                }
            }
            let _ = parse_summary(b);
            users(b).for_each(drop);
        };
        for f in fixtures {
            for i in 0..=f.len() {
                all(&f[..i]);
                all(&f[i..]);
            }
            let mut m = f.to_vec();
            for i in 0..m.len() {
                for b in [0u8, b'\t', b' ', b'"', b'(', b')', b',', b':', b']', 0xff] {
                    m[i] = b;
                    all(&m);
                }
                m[i] = f[i];
            }
        }
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..200))| {
            all(&bytes);
        });
        proptest!(|(s in "[A-Z-]{0,10} +[0-9]{1,3} +[0-9]{1,3} +[0-9a-f:.*\\[\\]%]{1,30} +[0-9a-f:.*\\[\\]]{1,30} *(users|timer):?[(\"a-z,=0-9)]{0,40}")| {
            all(s.as_bytes());
        });
    }
}
