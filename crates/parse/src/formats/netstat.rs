//! net-tools `netstat -tan` (= `-nat`), `-tanp`, `-tanW`, `-tano`, and the BSD/macOS
//! `netstat -an -p tcp` rows: one [`SocketRow`] per line.
//!
//! ```text
//! title   = "Active Internet connections (" ... ")"         ; also "Active UNIX domain sockets"
//! columns = "Proto Recv-Q Send-Q Local Address" ... "State" ["PID/Program name"] ["Timer"]
//! row     = proto recv-q send-q local foreign [state] [pid "/" program | "-"] [timer]
//! local   = addr ":" port          ; split on the LAST colon: "::1:3000", ":::*"
//! timer   = ("off" | "on" | "keepalive" | "timewait" | "unkn-N") " (" secs "/" retr "/" probes ")"
//! ```
//! Example row: `tcp6       0      0 ::1:44038               ::1:4000                FIN_WAIT2`.
//!
//! Traps handled:
//! - Columns are padded to content (`%-23s`, `-W` widens them): rows are split on
//!   whitespace, never by column position; the header's trailing spaces are ignored.
//! - IPv6 is unbracketed (`::1:3000`, `:::*`): [`Endpoint::parse`] splits on the last colon.
//!   Under `tcp6`, v4-mapped peers print as plain IPv4 (`127.0.0.1:4000`);
//!   [`Endpoint::key`] makes them equal to ss's `[::ffff:127.0.0.1]:4000`.
//! - Without `-W`, net-tools cuts the address so that `addr:port` fits 23 characters, and the
//!   cut can look valid (`2001:db8:1234:5678::443`): [`may_be_truncated`] flags every
//!   endpoint that exactly fills the column. Only the caller knows whether `-W` was given.
//! - Without `-n`, host and service names (`localhost:redis`, `*:http`): the service is kept
//!   in [`Endpoint::service`], the port is `None`.
//! - States use underscores (`TIME_WAIT`), unlike ss: both map to one [`TcpState`]. UDP rows
//!   have an empty state (or `ESTABLISHED` when connected): [`TcpState::Close`], what the
//!   kernel holds. `raw` rows print the state number.
//! - `-p`: `14157/python3`, `-` (TIME_WAIT, other users' sockets), or a truncated program
//!   name with spaces (`9420/Passenger Ruby`): everything after the `/` up to a timer.
//! - `-o`: the timer (`keepalive (6580.48/0/0)`) is recognised by its name before `(`, so a
//!   program name with spaces before it is not mistaken for it.
//! - `-e` (user, inode) and the BSD/macOS tail (`rhiwat shiwat pid epid state options`) are
//!   skipped; BSD's dotted ports (`192.0.2.1.443`, `*.*`) are split by [`Endpoint::parse`].
//! - The UNIX-socket section (`netstat -a` without `-t`) is [`Line::Other`].
//!
//! ```
//! use coroner_parse::formats::netstat;
//! use coroner_parse::formats::sockets::{Line, TcpState};
//! let line = b"tcp6       1      0 ::1:4000                ::1:44038               CLOSE_WAIT  14157/python3       ";
//! let Line::Socket(row) = netstat::parse(line).unwrap() else { panic!() };
//! assert_eq!(row.state, TcpState::CloseWait);
//! assert_eq!((row.recv_q, row.local.port, row.remote.port), (Some(1), Some(4000), Some(44038)));
//! assert_eq!((row.pid, row.process), (Some(14157), Some(&b"python3"[..])));
//! assert!(matches!(netstat::parse(b"Proto Recv-Q Send-Q Local Address").unwrap(), Line::Header(_)));
//! ```

use memchr::{memchr, memmem, memrchr};

use super::sockets::{
    Addr, Endpoint, Header, Line, Proto, SocketRow, TcpState, endpoint, next_token, number,
    parse_u32, trim_from,
};
use crate::error::ParseError;

/// One line of netstat output: a header, a socket row, or [`Line::Other`] (blank, UNIX
/// section). Never allocates; borrows every text field from `line`.
pub fn parse(line: &[u8]) -> Result<Line<'_>, ParseError> {
    let mut pos = 0;
    let Some((start, first)) = next_token(line, &mut pos) else {
        return Ok(Line::Other);
    };
    match first {
        b"Active" => return Ok(Line::Header(Header::NetstatTitle)),
        // The header has trailing spaces and its names hold spaces: look for the optional
        // column names anywhere in it rather than tokenizing it.
        b"Proto" => {
            return Ok(Line::Header(Header::NetstatColumns {
                program: memmem::find(line, b"PID/Program").is_some(),
                timer: memmem::find(line, b"Timer").is_some(),
            }));
        }
        b"unix" => return Ok(Line::Other),
        _ => {}
    }
    let proto = Proto::from_bytes(first)
        .ok_or(ParseError::new("a protocol (tcp, tcp6, udp, ...)", start))?;
    let recv_q = number(line, &mut pos, "a Recv-Q number")?;
    let send_q = number(line, &mut pos, "a Send-Q number")?;
    let local = endpoint(line, &mut pos, "the local address:port")?;
    let remote = endpoint(line, &mut pos, "the foreign address:port")?;

    // The state column is empty for unconnected UDP, so peek before consuming it.
    let mut after = pos;
    let state = match next_token(line, &mut after) {
        Some((_, w)) if TcpState::from_netstat(w).is_some() => {
            pos = after;
            TcpState::from_netstat(w).unwrap_or(TcpState::Unknown)
        }
        // raw sockets print the kernel's state number.
        Some((_, w)) if proto == Proto::Other && w.iter().all(u8::is_ascii_digit) => {
            pos = after;
            parse_u32(w)
                .and_then(|n| u8::try_from(n).ok())
                .and_then(TcpState::from_proc_hex)
                .unwrap_or(TcpState::Unknown)
        }
        Some((at, _)) if proto.is_tcp() => {
            return Err(ParseError::new(
                "a TCP state (ESTABLISHED, TIME_WAIT, ...)",
                at,
            ));
        }
        None if proto.is_tcp() => {
            return Err(ParseError::new(
                "a TCP state (ESTABLISHED, TIME_WAIT, ...)",
                pos,
            ));
        }
        _ => TcpState::Close,
    };

    let (rest_at, rest) = trim_from(line, pos);
    let (timer, before_timer) = split_timer(rest);
    let (pid, process) = program(before_timer, rest_at)?;
    Ok(Line::Socket(SocketRow {
        proto,
        state,
        local,
        remote,
        recv_q: Some(recv_q),
        send_q: Some(send_q),
        process,
        pid,
        users: None,
        timer,
    }))
}

/// Whether net-tools may have cut this endpoint's address (netstat without `-W`): the cut
/// leaves `addr` + `port` exactly 22 characters long, so an endpoint that exactly fills the
/// 23-wide column may be cut, or may just fit. IPv4 endpoints (at most 21 characters) never
/// are. Meaningless for `-W` output, which is never cut.
pub fn may_be_truncated(e: &Endpoint<'_>) -> bool {
    let Addr::Text(addr) = e.addr else {
        return false;
    };
    let port_len = match (e.port, e.service) {
        (_, Some(name)) => name.len(),
        (Some(p), None) => match p {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            1000..=9999 => 4,
            _ => 5,
        },
        (None, None) => 1, // "*"
    };
    addr.len() + port_len == 22
}

/// `-o`'s timer at the end of the row: (timer text, what precedes it).
fn split_timer(rest: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if !rest.ends_with(b")") {
        return (None, rest);
    }
    let Some(open) = memrchr(b'(', rest) else {
        return (None, rest);
    };
    let head = rest.get(..open).unwrap_or_default();
    let head_end = head.len() - head.iter().rev().take_while(|b| **b == b' ').count();
    let head = head.get(..head_end).unwrap_or_default();
    let name_at = head
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .map_or(0, |i| i + 1);
    let name = head.get(name_at..).unwrap_or_default();
    let is_timer = matches!(name, b"off" | b"on" | b"keepalive" | b"timewait")
        || name
            .strip_prefix(b"unkn-")
            .is_some_and(|n| parse_u32(n).is_some());
    if is_timer {
        (rest.get(name_at..), head.get(..name_at).unwrap_or_default())
    } else {
        (None, rest)
    }
}

/// The `PID/Program name` column (after `-e`'s user and inode, if any): (pid, program).
/// `at` is the offset of `text` in the line, for errors.
fn program(text: &[u8], at: usize) -> Result<(Option<u32>, Option<&[u8]>), ParseError> {
    let Some(slash) = memchr(b'/', text) else {
        // `-` (no access, TIME_WAIT), nothing, or columns we skip (BSD tail, -e alone).
        return Ok((None, None));
    };
    let head = text.get(..slash).unwrap_or_default();
    let pid_at = head
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .map_or(0, |i| i + 1);
    let pid = parse_u32(head.get(pid_at..).unwrap_or_default()).ok_or(ParseError::new(
        "a PID before '/' (PID/Program name)",
        at + pid_at,
    ))?;
    // The name may hold spaces (`Passenger Ruby`); the column's padding is trailing.
    let (_, name) = trim_from(text, slash + 1);
    Ok((Some(pid), (!name.is_empty()).then_some(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn row(line: &[u8]) -> SocketRow<'_> {
        match parse(line) {
            Ok(Line::Socket(r)) => r,
            other => panic!("{other:?} for {}", String::from_utf8_lossy(line)),
        }
    }

    #[test]
    fn headers_and_blank_lines() {
        for (line, want) in [
            (
                &b"Active Internet connections (servers and established)"[..],
                Line::Header(Header::NetstatTitle),
            ),
            (
                b"Active Internet connections (w/o servers)",
                Line::Header(Header::NetstatTitle),
            ),
            (
                b"Proto Recv-Q Send-Q Local Address           Foreign Address         State      ",
                Line::Header(Header::NetstatColumns {
                    program: false,
                    timer: false,
                }),
            ),
            (
                b"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer",
                Line::Header(Header::NetstatColumns {
                    program: true,
                    timer: true,
                }),
            ),
            (
                b"Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)",
                Line::Header(Header::NetstatColumns {
                    program: false,
                    timer: false,
                }),
            ),
            (b"", Line::Other),
            (b"   \r", Line::Other),
            (
                b"unix  2      [ ACC ]     STREAM     LISTENING     12345    /run/x.sock",
                Line::Other,
            ),
        ] {
            assert_eq!(parse(line), Ok(want), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn tan_rows_and_states_with_underscores() {
        let r =
            row(b"tcp        0      0 192.0.2.2:39150         203.0.113.80:80         TIME_WAIT  ");
        assert_eq!(r.proto, Proto::Tcp);
        assert_eq!(r.state, TcpState::TimeWait);
        assert_eq!(
            r.local.key(),
            Some(("192.0.2.2".parse().unwrap(), Some(39150)))
        );
        assert_eq!(
            r.remote.key(),
            Some(("203.0.113.80".parse().unwrap(), Some(80)))
        );
        assert_eq!((r.recv_q, r.send_q), (Some(0), Some(0)));
        assert_eq!((r.pid, r.process, r.timer), (None, None, None));
        let r =
            row(b"tcp        0      0 0.0.0.0:2024            0.0.0.0:*               LISTEN     ");
        assert_eq!((r.state, r.remote.port), (TcpState::Listen, None));
        // CLOSE_WAIT: Recv-Q 1, the FIN counts.
        let r =
            row(b"tcp6       1      0 ::1:4000                ::1:44038               CLOSE_WAIT ");
        assert_eq!((r.state, r.recv_q), (TcpState::CloseWait, Some(1)));
        // Every net-tools state name.
        for (name, st) in [
            ("ESTABLISHED", TcpState::Established),
            ("SYN_SENT", TcpState::SynSent),
            ("SYN_RECV", TcpState::SynRecv),
            ("FIN_WAIT1", TcpState::FinWait1),
            ("FIN_WAIT2", TcpState::FinWait2),
            ("CLOSE", TcpState::Close),
            ("LAST_ACK", TcpState::LastAck),
            ("CLOSING", TcpState::Closing),
            ("UNKNOWN", TcpState::Unknown),
        ] {
            let line = format!("tcp 0 0 192.0.2.1:1 192.0.2.9:2 {name}");
            assert_eq!(row(line.as_bytes()).state, st);
        }
        // ss spelling is not netstat's.
        let e = parse(b"tcp 0 0 192.0.2.1:1 192.0.2.9:2 TIME-WAIT").unwrap_err();
        assert_eq!(e.at, 32);
    }

    #[test]
    fn ipv6_unbracketed_split_on_last_colon() {
        let r =
            row(b"tcp6       0      0 :::4000                 :::*                    LISTEN     ");
        assert_eq!(r.proto, Proto::Tcp6);
        assert_eq!(r.local.addr, Addr::Text(b"::"));
        assert_eq!(r.local.port, Some(4000));
        assert_eq!((r.remote.addr, r.remote.port), (Addr::Text(b"::"), None));
        let r =
            row(b"tcp6       0      0 ::1:3000                ::1:50056               ESTABLISHED");
        assert_eq!(r.local.key(), Some(("::1".parse().unwrap(), Some(3000))));
        let r =
            row(b"tcp6       0      0 2001:db8::10:443        2001:db8::77:51000      ESTABLISHED");
        assert_eq!(
            r.remote.key(),
            Some(("2001:db8::77".parse().unwrap(), Some(51000)))
        );
    }

    #[test]
    fn v4_mapped_peer_under_tcp6_matches_ss_rendering() {
        let r =
            row(b"tcp6       0      0 192.0.2.7:4000          192.0.2.8:60428         ESTABLISHED");
        let ss = Endpoint::parse(b"[::ffff:192.0.2.7]:4000").unwrap();
        assert!(r.local.same_as(&ss));
        assert_eq!(
            r.local.key().unwrap().0,
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn truncation_without_wide_is_flagged() {
        // 2001:db8:1234:5678:9abc:def0::1 + :443, cut by net-tools to 22 + ':' characters.
        let r =
            row(b"tcp6       0      0 2001:db8:1234:5678::443 2001:db8::1:52000       ESTABLISHED");
        assert_eq!(r.local.port, Some(443));
        assert!(may_be_truncated(&r.local));
        assert!(!may_be_truncated(&r.remote));
        // The -W rendering of the same socket: longer than the column, never cut.
        let r = row(b"tcp6       0      0 2001:db8:1234:5678:9abc:def0::1:443 2001:db8::1:52000       ESTABLISHED");
        assert!(!may_be_truncated(&r.local));
        assert_eq!(
            r.local.key(),
            Some((
                "2001:db8:1234:5678:9abc:def0::1".parse().unwrap(),
                Some(443)
            ))
        );
        let r = row(b"tcp 0 0 198.51.100.255:65535 203.0.113.255:65535 ESTABLISHED");
        assert!(!may_be_truncated(&r.local));
    }

    #[test]
    fn names_without_n() {
        let r =
            row(b"tcp        0      0 localhost:redis         localhost:53860         ESTABLISHED");
        assert_eq!((r.local.port, r.local.service), (None, Some(&b"redis"[..])));
        assert_eq!(r.local.addr.ip(), None);
        assert_eq!(r.remote.port, Some(53860));
        let r = row(b"tcp        0      0 *:http                  *:*                     LISTEN");
        assert_eq!(r.local.service, Some(&b"http"[..]));
    }

    #[test]
    fn program_column() {
        let r = row(b"tcp        0      0 127.0.0.1:6379          0.0.0.0:*               LISTEN      14157/python3       ");
        assert_eq!((r.pid, r.process), (Some(14157), Some(&b"python3"[..])));
        let r = row(b"tcp        0      0 127.0.0.1:51120         127.0.0.1:6379          TIME_WAIT   -                   ");
        assert_eq!((r.pid, r.process), (None, None));
        let r = row(b"tcp        0      0 192.0.2.5:3000          0.0.0.0:*               LISTEN      9420/Passenger Ruby ");
        assert_eq!(
            (r.pid, r.process),
            (Some(9420), Some(&b"Passenger Ruby"[..]))
        );
        let r = row(b"tcp6       0      0 :::5252                 :::*                    LISTEN      423/dietpi-dashboar");
        assert_eq!(r.process, Some(&b"dietpi-dashboar"[..]));
        // -e: user and inode before it.
        let r = row(b"tcp        0      0 127.0.0.1:6379          0.0.0.0:*               LISTEN      0          27979      14157/python3");
        assert_eq!(r.pid, Some(14157));
        let e = parse(b"tcp 0 0 192.0.2.1:1 192.0.2.9:2 LISTEN x1/python3").unwrap_err();
        assert_eq!(e.at, 39);
    }

    #[test]
    fn timers_after_program_names_with_spaces() {
        let r = row(b"tcp        0      0 192.0.2.5:22            192.0.2.9:50000         ESTABLISHED 9420/Passenger Ruby  keepalive (6580.48/0/0)");
        assert_eq!(r.process, Some(&b"Passenger Ruby"[..]));
        assert_eq!(r.timer, Some(&b"keepalive (6580.48/0/0)"[..]));
        let r = row(b"tcp        0      0 192.0.2.5:22            0.0.0.0:*               LISTEN      off (0.00/0/0)");
        assert_eq!((r.pid, r.timer), (None, Some(&b"off (0.00/0/0)"[..])));
        let r = row(b"tcp 0 0 192.0.2.5:22 192.0.2.9:5 TIME_WAIT - timewait (41.12/0/0)");
        assert_eq!(r.timer, Some(&b"timewait (41.12/0/0)"[..]));
        let r = row(b"tcp 0 0 192.0.2.5:22 192.0.2.9:5 SYN_SENT - unkn-7 (1.00/2/0)");
        assert_eq!(r.timer, Some(&b"unkn-7 (1.00/2/0)"[..]));
        // A program name ending in parentheses is not a timer.
        let r = row(b"tcp 0 0 192.0.2.5:22 192.0.2.9:5 ESTABLISHED 77/app (x)");
        assert_eq!((r.process, r.timer), (Some(&b"app (x)"[..]), None));
    }

    #[test]
    fn udp_and_raw_rows() {
        let r = row(
            b"udp        0      0 0.0.0.0:68              0.0.0.0:*                           ",
        );
        assert_eq!((r.proto, r.state), (Proto::Udp, TcpState::Close));
        let r = row(b"udp        0      0 0.0.0.0:68              0.0.0.0:*                           611/dhclient");
        assert_eq!((r.state, r.pid), (TcpState::Close, Some(611)));
        let r = row(b"udp        0      0 192.0.2.5:41000         192.0.2.53:53           ESTABLISHED 700/resolver");
        assert_eq!(r.state, TcpState::Established);
        let r = row(b"raw6       0      0 :::58                   :::*                    7");
        assert_eq!((r.proto, r.state), (Proto::Other, TcpState::Close));
    }

    #[test]
    fn bsd_macos_rows() {
        let r = row(b"tcp4       0      0  192.0.2.191.52044      198.51.100.35.443      ESTABLISHED 131072 131860   9811      0 0x0102 0x00000008");
        assert_eq!((r.proto, r.state), (Proto::Tcp4, TcpState::Established));
        assert_eq!(
            r.remote.key(),
            Some(("198.51.100.35".parse().unwrap(), Some(443)))
        );
        assert_eq!(r.pid, None);
        let r =
            row(b"tcp46      0      0  *.8809                 *.*                    LISTEN     ");
        assert_eq!(
            (r.proto, r.local.port, r.remote.port),
            (Proto::Tcp46, Some(8809), None)
        );
        let r = row(b"tcp6       0      0  ::1.6379               *.*                    LISTEN");
        assert_eq!(r.local.key(), Some(("::1".parse().unwrap(), Some(6379))));
    }

    #[test]
    fn malformed_rows_are_errors() {
        for (line, at) in [
            (&b"xyz 0 0 192.0.2.1:1 192.0.2.2:2 LISTEN"[..], 0),
            (b"tcp a 0 192.0.2.1:1 192.0.2.2:2 LISTEN", 4),
            (b"tcp 0", 5),
            (b"tcp 0 0 nocolon 192.0.2.2:2 LISTEN", 8),
            (b"tcp 0 0 192.0.2.1:1 :2 LISTEN", 20),
            (b"tcp 0 0 192.0.2.1:1 192.0.2.2:2", 31),
            (
                b"tcp 99999999999999999999 0 192.0.2.1:1 192.0.2.2:2 LISTEN",
                4,
            ),
        ] {
            let e = parse(line).unwrap_err();
            assert_eq!(e.at, at, "{e} for {}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn never_panics() {
        use proptest::prelude::*;
        let fixtures: [&[u8]; 6] = [
            b"tcp6       1      0 ::1:4000                ::1:44038               CLOSE_WAIT  14157/python3       ",
            b"tcp        0      0 192.0.2.5:22            192.0.2.9:50000         ESTABLISHED 9420/Passenger Ruby  keepalive (6580.48/0/0)",
            b"tcp4       0      0  192.0.2.191.52044      198.51.100.35.443      ESTABLISHED 131072 131860   9811      0 0x0102 0x00000008",
            b"udp        0      0 0.0.0.0:68              0.0.0.0:*                           611/dhclient",
            b"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name",
            b"tcp 0 0 [fe80::1]%eth0:22 *:* LISTEN unkn-7 (1.00/2/0)",
        ];
        for f in fixtures {
            for i in 0..=f.len() {
                let _ = parse(&f[..i]);
                let _ = parse(&f[i..]);
            }
            let mut m = f.to_vec();
            for i in 0..m.len() {
                for b in [0u8, b'\n', b' ', b'/', b'(', b')', b':', b'%', 0xff] {
                    m[i] = b;
                    if let Ok(Line::Socket(r)) = parse(&m) {
                        let _ = (r.local.key(), may_be_truncated(&r.local));
                    }
                }
                m[i] = f[i];
            }
        }
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..200))| {
            let _ = parse(&bytes);
        });
        proptest!(|(s in "(tcp6?|udp|raw) +[0-9]{1,3} +[0-9]{1,3} +[0-9a-f:.*\\[\\]%]{1,30} +[0-9a-f:.*]{1,30} +[A-Z_]{0,12} *[-0-9/a-z ()]{0,30}")| {
            if let Ok(Line::Socket(r)) = parse(s.as_bytes()) {
                let _ = (r.local.key(), r.remote.key(), may_be_truncated(&r.remote));
            }
        });
    }
}
