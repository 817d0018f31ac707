//! `/proc/net/tcp` and `/proc/net/tcp6`: one [`SocketRow`] per line ([`parse`]), or the whole
//! row with the kernel's extra columns ([`parse_row`]).
//!
//! ```text
//! header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
//! row    = sl ":" local remote st tx ":" rx tr ":" when retrnsmt uid timeout inode [ref ptr [rto ato qack cwnd ssthresh]]
//! local  = ADDR ":" PORT      ; ADDR 8 hex (IPv4) or 32 hex (IPv6: four 32-bit words), PORT 4 hex
//! ```
//! (`%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK ...`, kernel
//! `tcp4_seq_show` / `tcp6_seq_show`.)
//!
//! Traps handled:
//! - Addresses are 32-bit words printed in **host byte order**: `127.0.0.1` is `0100007F` on
//!   the little-endian hosts (x86, ARM) this decoder assumes; IPv6 is four such words
//!   (`::1` = `00000000000000000000000001000000`). A big-endian host's capture would decode
//!   byte-swapped.
//! - v4-mapped `tcp6` sockets (`0000000000000000FFFF00000100007F`) are kept as the IPv6
//!   address; [`Endpoint::key`] normalises them to the IPv4 address netstat prints.
//! - Ports are plain hex numbers (`18EB` = 6379); port 0 (unconnected peer, unbound) is
//!   `None`, as netstat's `*`.
//! - `st` is hex (`0A` = LISTEN, `06` = TIME_WAIT); a number the kernel does not define is
//!   [`TcpState::Unknown`], as netstat prints it.
//! - TIME_WAIT rows are shorter (they end after the socket pointer): everything after
//!   `inode` is optional. The row's trailing padding (IPv4 rows to 149 chars) is ignored.
//! - `tr` 03 is the TIME_WAIT timer but also the orphaned FIN_WAIT2 one: the state comes
//!   from `st` only, never from the timer.
//! - Queues: [`SocketRow::recv_q`] is `rx_queue`, [`SocketRow::send_q`] is `tx_queue`. For
//!   LISTEN sockets ss's Send-Q is the backlog limit, which /proc does not show.
//!
//! ```
//! use coroner_parse::formats::proc_net_tcp;
//! use coroner_parse::formats::sockets::TcpState;
//! let r = proc_net_tcp::parse_row(b"   6: 0100007F:C7B0 0100007F:18EB 06 00000000:00000000 03:000016F0 00000000     0        0 0 3 00000000a3d045f8").unwrap();
//! assert_eq!(r.socket.state, TcpState::TimeWait);
//! assert_eq!(r.socket.local.key(), Some(("127.0.0.1".parse().unwrap(), Some(51120))));
//! assert_eq!(r.socket.remote.port, Some(6379));
//! assert_eq!((r.timer_kind, r.timer_jiffies, r.inode), (3, 0x16F0, 0));
//! ```

use std::net::{IpAddr, Ipv6Addr};

use memchr::memchr;

use super::sockets::{
    Addr, Endpoint, Header, Line, Proto, SocketRow, TcpState, ipv4_from_word, next_token,
    parse_hex, parse_u32, parse_u64,
};
use crate::error::ParseError;

/// A `/proc/net/tcp[6]` row with the columns a [`SocketRow`] has no place for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    /// Decoded addresses ([`Addr::Ip`]), `timer` = the `tr:tm->when` text.
    pub socket: SocketRow<'a>,
    /// `sl`: the slot number (a position in the dump, not stable between captures).
    pub slot: u32,
    /// `tr`: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT / FIN_WAIT2 orphan, 4 probe.
    pub timer_kind: u8,
    /// `tm->when`: jiffies until the timer fires.
    pub timer_jiffies: u64,
    /// `retrnsmt`: unrecovered retransmits (hex).
    pub retransmits: u64,
    pub uid: u32,
    /// `timeout`: unanswered probes (a signed `%d`).
    pub timeout: i64,
    /// 0 for TIME_WAIT minisockets.
    pub inode: u64,
}

/// One line of `/proc/net/tcp[6]`: the header, a socket, or [`Line::Other`] (blank).
pub fn parse(line: &[u8]) -> Result<Line<'_>, ParseError> {
    let mut pos = 0;
    match next_token(line, &mut pos) {
        None => Ok(Line::Other),
        Some((_, b"sl")) => Ok(Line::Header(Header::ProcNetTcp)),
        Some(_) => parse_row(line).map(|r| Line::Socket(r.socket)),
    }
}

/// One socket row of `/proc/net/tcp[6]` with every column up to `inode` (the header is an
/// error here). Never allocates; `timer` borrows from `line`.
pub fn parse_row(line: &[u8]) -> Result<Row<'_>, ParseError> {
    let mut pos = 0;
    let (at, sl) = next_token(line, &mut pos).ok_or(ParseError::new(SLOT, 0))?;
    let slot = sl
        .strip_suffix(b":")
        .and_then(parse_u32)
        .ok_or(ParseError::new(SLOT, at))?;
    let (local, v6) = endpoint(line, &mut pos, "the local HEXADDR:PORT")?;
    let (remote, _) = endpoint(line, &mut pos, "the remote HEXADDR:PORT")?;
    let (at, st) = next_token(line, &mut pos).ok_or(ParseError::new(ST, pos))?;
    let st = match st {
        [_, _] => parse_hex(st).ok_or(ParseError::new(ST, at))?,
        _ => return Err(ParseError::new(ST, at)),
    };
    let state = u8::try_from(st)
        .ok()
        .and_then(TcpState::from_proc_hex)
        .unwrap_or(TcpState::Unknown);
    let (_, _, (tx, rx)) = pair(line, &mut pos, "tx_queue:rx_queue (hex)")?;
    let (at, timer, (tr, when)) = pair(line, &mut pos, TIMER)?;
    let timer_kind = u8::try_from(tr).map_err(|_| ParseError::new(TIMER, at))?;
    let (at, retr) = next_token(line, &mut pos).ok_or(ParseError::new(RETR, pos))?;
    let retransmits = parse_hex(retr).ok_or(ParseError::new(RETR, at))?;
    let (at, uid) = next_token(line, &mut pos).ok_or(ParseError::new(UID, pos))?;
    let uid = parse_u32(uid).ok_or(ParseError::new(UID, at))?;
    let (at, t) = next_token(line, &mut pos).ok_or(ParseError::new(TIMEOUT, pos))?;
    let timeout = match t.strip_prefix(b"-") {
        Some(d) => parse_u64(d).and_then(|n| i64::try_from(n).ok()).map(|n| -n),
        None => parse_u64(t).and_then(|n| i64::try_from(n).ok()),
    }
    .ok_or(ParseError::new(TIMEOUT, at))?;
    let (at, ino) = next_token(line, &mut pos).ok_or(ParseError::new(INODE, pos))?;
    let inode = parse_u64(ino).ok_or(ParseError::new(INODE, at))?;
    // refcount, socket pointer and the full socket's rto/ato/... are not needed.
    Ok(Row {
        socket: SocketRow {
            proto: if v6 { Proto::Tcp6 } else { Proto::Tcp },
            state,
            local,
            remote,
            recv_q: Some(rx),
            send_q: Some(tx),
            process: None,
            pid: None,
            users: None,
            timer: Some(timer),
        },
        slot,
        timer_kind,
        timer_jiffies: when,
        retransmits,
        uid,
        timeout,
        inode,
    })
}

const SLOT: &str = "the slot number and ':'";
const ST: &str = "a 2-digit hex state";
const TIMER: &str = "tr:tm->when (hex)";
const RETR: &str = "retrnsmt (hex)";
const UID: &str = "a uid";
const TIMEOUT: &str = "a timeout";
const INODE: &str = "an inode";

/// (offset, token, both numbers) of a `HEX:HEX` column.
type Pair<'a> = (usize, &'a [u8], (u64, u64));

/// `HEX:HEX` (the queues, the timer): (its offset, the token, both numbers).
fn pair<'a>(
    line: &'a [u8],
    pos: &mut usize,
    expected: &'static str,
) -> Result<Pair<'a>, ParseError> {
    let at = *pos;
    let (start, tok) = next_token(line, pos).ok_or(ParseError::new(expected, at))?;
    let colon = memchr(b':', tok).ok_or(ParseError::new(expected, start))?;
    let a = tok.get(..colon).and_then(parse_hex);
    let b = tok.get(colon + 1..).and_then(parse_hex);
    match (a, b) {
        (Some(a), Some(b)) => Ok((start, tok, (a, b))),
        _ => Err(ParseError::new(expected, start)),
    }
}

/// `0100007F:18EB` or 32 hex digits `:` port: (endpoint, is IPv6).
fn endpoint<'a>(
    line: &'a [u8],
    pos: &mut usize,
    expected: &'static str,
) -> Result<(Endpoint<'a>, bool), ParseError> {
    let at = *pos;
    let (start, tok) = next_token(line, pos).ok_or(ParseError::new(expected, at))?;
    let err = ParseError::new(expected, start);
    let colon = memchr(b':', tok).ok_or(err)?;
    let (hex, port) = (
        tok.get(..colon).ok_or(err)?,
        tok.get(colon + 1..).ok_or(err)?,
    );
    if port.len() != 4 {
        return Err(err);
    }
    let port = parse_hex(port)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(err)?;
    let word = |i: usize| -> Option<u32> {
        let w = parse_hex(hex.get(i * 8..i * 8 + 8)?)?;
        u32::try_from(w).ok()
    };
    let (ip, v6) = match hex.len() {
        8 => (IpAddr::V4(ipv4_from_word(word(0).ok_or(err)?)), false),
        32 => {
            // Each word is host order (little-endian): its bytes, low first, are the
            // address bytes in network order.
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(i).ok_or(err)?.to_le_bytes());
            }
            (IpAddr::V6(Ipv6Addr::from(bytes)), true)
        }
        _ => return Err(err),
    };
    let endpoint = Endpoint {
        addr: Addr::Ip(ip),
        port: (port != 0).then_some(port),
        service: None,
    };
    Ok((endpoint, v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_and_blank_lines() {
        assert_eq!(
            parse(b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     "),
            Ok(Line::Header(Header::ProcNetTcp))
        );
        assert_eq!(
            parse(b"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"),
            Ok(Line::Header(Header::ProcNetTcp))
        );
        assert_eq!(parse(b"   "), Ok(Line::Other));
        assert_eq!(parse_row(b"  sl  local_address").unwrap_err().at, 2);
    }

    #[test]
    fn ipv4_host_order_hex() {
        let r = parse_row(b"   1: 020200C0:98EE 507100CB:0050 01 00000010:00000020 02:00000BC0 00000003  1000        0 27979 1 00000000a2d8f21d 20 4 30 10 -1                     ").unwrap();
        let s = r.socket;
        assert_eq!(s.proto, Proto::Tcp);
        assert_eq!(s.local.key(), Some((ip("192.0.2.2"), Some(39150))));
        assert_eq!(s.remote.key(), Some((ip("203.0.113.80"), Some(80))));
        assert_eq!(s.state, TcpState::Established);
        assert_eq!((s.send_q, s.recv_q), (Some(0x10), Some(0x20)));
        assert_eq!(s.timer, Some(&b"02:00000BC0"[..]));
        assert_eq!(r.slot, 1);
        assert_eq!((r.timer_kind, r.timer_jiffies), (2, 0xBC0));
        assert_eq!(
            (r.retransmits, r.uid, r.timeout, r.inode),
            (3, 1000, 0, 27979)
        );
        // LISTEN with port-0 peer: netstat's `0.0.0.0:*`.
        let r = parse_row(b"   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1061 1 000000002ba2555b 100 0 0 10 0").unwrap();
        assert_eq!(r.socket.state, TcpState::Listen);
        assert_eq!(r.socket.local.key(), Some((ip("0.0.0.0"), Some(2024))));
        assert_eq!(r.socket.remote.port, None);
    }

    #[test]
    fn ipv6_words_and_v4_mapped() {
        let r = parse_row(b"   1: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 27981 1 00000000ad603ae2 100 0 0 10 0").unwrap();
        assert_eq!(r.socket.proto, Proto::Tcp6);
        assert_eq!(r.socket.local.key(), Some((ip("::1"), Some(3000))));
        assert_eq!(r.socket.remote.key(), Some((ip("::"), None)));
        // 2001:db8::5 is bytes 20 01 0d b8 .. 00 05: words B80D0120 0 0 05000000.
        let r = parse_row(b"   2: B80D0120000000000000000005000000:01BB B80D01200000000000000000FF000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0").unwrap();
        assert_eq!(r.socket.local.key(), Some((ip("2001:db8::5"), Some(443))));
        assert_eq!(
            r.socket.remote.key(),
            Some((ip("2001:db8::ff"), Some(50000)))
        );
        let r = parse_row(b"  10: 0000000000000000FFFF0000070200C0:0FA0 0000000000000000FFFF0000080200C0:EC0C 01 00000000:00000000 00:00000000 00000000     0        0 27992 1 00000000591f1247 20 0 0 10 -1").unwrap();
        assert_eq!(r.socket.local.addr, Addr::Ip(ip("::ffff:192.0.2.7")));
        assert_eq!(r.socket.local.key(), Some((ip("192.0.2.7"), Some(4000))));
        let netstat = Endpoint::parse(b"192.0.2.8:60428").unwrap();
        assert!(r.socket.remote.same_as(&netstat));
    }

    #[test]
    fn short_time_wait_rows_and_tr_03_is_not_a_state() {
        let tw = parse_row(b"   6: 0100007F:C7B0 0100007F:18EB 06 00000000:00000000 03:000016F0 00000000     0        0 0 3 00000000a3d045f8                                      ").unwrap();
        assert_eq!(
            (tw.socket.state, tw.timer_kind, tw.inode),
            (TcpState::TimeWait, 3, 0)
        );
        // FIN_WAIT2 orphan: runs the 03 timer, still FIN_WAIT2.
        let fw = parse_row(b"  13: 00000000000000000000000001000000:AC06 00000000000000000000000001000000:0FA0 05 00000000:00000000 03:000016F8 00000000     0        0 0 3 00000000f369ae06").unwrap();
        assert_eq!((fw.socket.state, fw.timer_kind), (TcpState::FinWait2, 3));
        // CLOSE_WAIT: rx_queue 1 (the FIN), as netstat's Recv-Q.
        let cw = parse_row(b"  15: 00000000000000000000000001000000:0FA0 00000000000000000000000001000000:AC06 08 00000000:00000001 00:00000000 00000000     0        0 27994 1 00000000a2ad9a59 20 4 0 10 -1").unwrap();
        assert_eq!(
            (cw.socket.state, cw.socket.recv_q),
            (TcpState::CloseWait, Some(1))
        );
        // Even the pointer may be missing (cut capture): inode ends the required part.
        let r = parse_row(b"   6: 0100007F:C7B0 0100007F:18EB 06 00000000:00000000 03:000016F0 00000000     0        0 0").unwrap();
        assert_eq!(r.inode, 0);
    }

    #[test]
    fn every_state_number() {
        for (hex, st) in [
            ("01", TcpState::Established),
            ("02", TcpState::SynSent),
            ("03", TcpState::SynRecv),
            ("04", TcpState::FinWait1),
            ("05", TcpState::FinWait2),
            ("06", TcpState::TimeWait),
            ("07", TcpState::Close),
            ("08", TcpState::CloseWait),
            ("09", TcpState::LastAck),
            ("0A", TcpState::Listen),
            ("0b", TcpState::Closing),
            ("0C", TcpState::NewSynRecv),
            ("0D", TcpState::Unknown),
            ("FF", TcpState::Unknown),
        ] {
            let line = format!("0: 0100007F:0001 0100007F:0002 {hex} 0:0 00:0 0 0 0 5");
            assert_eq!(
                parse_row(line.as_bytes()).unwrap().socket.state,
                st,
                "{hex}"
            );
        }
    }

    #[test]
    fn malformed_rows_are_errors() {
        for (line, at) in [
            (
                &b"x: 0100007F:0001 0100007F:0002 01 0:0 00:0 0 0 0 5"[..],
                0,
            ),
            (b"0 0100007F:0001 0100007F:0002 01 0:0 00:0 0 0 0 5", 0),
            (b"0: 0100007:0001 0100007F:0002 01 0:0 00:0 0 0 0 5", 3),
            (b"0: 0100007F:00001 0100007F:0002 01 0:0 00:0 0 0 0 5", 3),
            (b"0: 0100007F0001 0100007F:0002 01 0:0 00:0 0 0 0 5", 3),
            (b"0: 0100007F:0001 0100007G:0002 01 0:0 00:0 0 0 0 5", 17),
            (b"0: 0100007F:0001 0100007F:0002 1 0:0 00:0 0 0 0 5", 31),
            (b"0: 0100007F:0001 0100007F:0002 01 00 00:0 0 0 0 5", 34),
            (b"0: 0100007F:0001 0100007F:0002 01 0:0 100:0 0 0 0 5", 38),
            (b"0: 0100007F:0001 0100007F:0002 01 0:0 00:0 0 x 0 5", 45),
            (b"0: 0100007F:0001 0100007F:0002 01 0:0 00:0 0 0 -x 5", 47),
            (b"0: 0100007F:0001 0100007F:0002 01 0:0 00:0 0 0 0", 48),
        ] {
            let e = parse_row(line).unwrap_err();
            assert_eq!(e.at, at, "{e} for {}", String::from_utf8_lossy(line));
        }
        assert_eq!(
            parse_row(b"0: 0100007F:0001 0100007F:0002 01 0:0 00:0 0 0 -3 5")
                .unwrap()
                .timeout,
            -3
        );
    }

    #[test]
    fn never_panics() {
        use proptest::prelude::*;
        let fixtures: [&[u8]; 3] = [
            b"   6: 0100007F:C7B0 0100007F:18EB 06 00000000:00000000 03:000016F0 00000000     0        0 0 3 00000000a3d045f8                                      ",
            b"  10: 0000000000000000FFFF0000070200C0:0FA0 0000000000000000FFFF0000080200C0:EC0C 01 00000000:00000000 00:00000000 00000000     0        0 27992 1 00000000591f1247 20 0 0 10 -1",
            b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        ];
        let all = |b: &[u8]| {
            if let Ok(Line::Socket(r)) = parse(b) {
                let _ = (r.local.key(), r.remote.key());
            }
            let _ = parse_row(b);
        };
        for f in fixtures {
            for i in 0..=f.len() {
                all(&f[..i]);
                all(&f[i..]);
            }
            let mut m = f.to_vec();
            for i in 0..m.len() {
                for b in [0u8, b' ', b':', b'-', b'F', b'g', 0xff] {
                    m[i] = b;
                    all(&m);
                }
                m[i] = f[i];
            }
        }
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..200))| {
            all(&bytes);
        });
        proptest!(|(s in " *[0-9]{1,4}: [0-9A-F]{0,33}:[0-9A-F]{0,5} [0-9A-F]{0,33}:[0-9A-F]{0,5} [0-9A-F]{1,3} [0-9A-F:]{1,18} [0-9A-F:]{1,12} [0-9A-F]{1,9} +-?[0-9]{1,21} +-?[0-9]{1,21} [0-9]{1,21}")| {
            all(s.as_bytes());
        });
    }
}
