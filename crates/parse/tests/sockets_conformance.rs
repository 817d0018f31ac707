//! Conformance of the socket-capture parsers on real captures
//! (`tests/fixtures/socket-captures/`, see its SOURCE.md): one moment of one Debian 12 machine
//! rendered by `netstat -nat/-tan/-tanW/-tanp`, `ss -tan/-tanp/-tano/-Htan`,
//! `ss -tn state time-wait`, `ss -s` and `/proc/net/tcp[6]`, all taken within ~1 s.
//!
//! The independent truths: the renderings must agree with each other socket by socket
//! (different tools, different code paths: netstat reads /proc, ss asks netlink), and with
//! awk over the netstat text.
//!
//! The captures were not taken at the very same instant, so the check first had to find
//! out whether they truly differ: they do not. Every rendering lists the same 47 sockets
//! (same states, same normalised endpoints), so the tests below compare whole socket sets,
//! not only counts; a recapture that loses that property must say so here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use coroner_parse::error::ParseError;
use coroner_parse::formats::sockets::{Header, Line, SocketRow, TcpState};
use coroner_parse::formats::ss::SummaryLine;
use coroner_parse::formats::{netstat, port_range, proc_net_tcp, ss};

const DIR: &str = "socket-captures";

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(DIR)
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of a file, without the empty piece after the final newline.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.strip_suffix(b"\n")
        .unwrap_or(data)
        .split(|&b| b == b'\n')
}

type Parser = fn(&[u8]) -> Result<Line<'_>, ParseError>;

/// Every line must be a header or a socket: (headers, sockets).
fn parse_all<'a>(
    name: &str,
    data: &'a [u8],
    parse: impl Fn(&'a [u8]) -> Result<Line<'a>, ParseError>,
) -> (Vec<Header>, Vec<SocketRow<'a>>) {
    let (mut headers, mut rows) = (Vec::new(), Vec::new());
    for (n, line) in lines(data).enumerate() {
        match parse(line) {
            Ok(Line::Header(h)) => headers.push(h),
            Ok(Line::Socket(r)) => rows.push(r),
            other => panic!(
                "{name}:{}: {other:?}: {}",
                n + 1,
                String::from_utf8_lossy(line)
            ),
        }
    }
    (headers, rows)
}

fn file_rows<'a>(name: &str, data: &'a [u8], parse: Parser) -> Vec<SocketRow<'a>> {
    parse_all(name, data, parse).1
}

/// An ss capture, as a reader who does not know the command line reads it: the header's
/// shape tells whether rows carry a State column; when it does not (`ss ... state <name>`),
/// the state named by the filter (`filter_state`, from the file's name here) is implied.
fn ss_rows<'a>(name: &str, data: &'a [u8], filter_state: TcpState) -> Vec<SocketRow<'a>> {
    let mut implied = None;
    let mut rows = Vec::new();
    for (n, line) in lines(data).enumerate() {
        match ss::parse_with_state(line, implied) {
            Ok(Line::Header(Header::SsColumns { state, .. })) => {
                implied = (!state).then_some(filter_state);
            }
            Ok(Line::Socket(r)) => rows.push(r),
            other => panic!(
                "{name}:{}: {other:?}: {}",
                n + 1,
                String::from_utf8_lossy(line)
            ),
        }
    }
    rows
}

fn proc_rows(data: &[u8]) -> Vec<proc_net_tcp::Row<'_>> {
    lines(data)
        .filter(|l| !matches!(proc_net_tcp::parse(l), Ok(Line::Header(_))))
        .map(|l| proc_net_tcp::parse_row(l).unwrap())
        .collect()
}

fn counts(rows: &[SocketRow<'_>]) -> BTreeMap<&'static str, u64> {
    let mut c = BTreeMap::new();
    for r in rows {
        *c.entry(r.state.name()).or_insert(0) += 1;
    }
    c
}

type Key = (TcpState, IpAddr, Option<u16>, IpAddr, Option<u16>);

/// A socket as all tools must agree on it: state and normalised endpoints (v4-mapped as
/// IPv4, brackets and `*` resolved, port 0 / `*` as None).
fn key(r: &SocketRow<'_>) -> Key {
    let (l, lp) = r.local.key().unwrap_or_else(|| panic!("local of {r:?}"));
    let (p, pp) = r.remote.key().unwrap_or_else(|| panic!("remote of {r:?}"));
    (r.state, l, lp, p, pp)
}

fn key_set(rows: &[SocketRow<'_>]) -> BTreeSet<Key> {
    let set: BTreeSet<Key> = rows.iter().map(key).collect();
    assert_eq!(set.len(), rows.len(), "a socket listed twice");
    set
}

const NETSTAT: [&str; 4] = [
    "netstat-nat.txt",
    "netstat-tan.txt",
    "netstat-tanW.txt",
    "netstat-tanp.txt",
];
const SS: [&str; 4] = ["ss-tan.txt", "ss-tanp.txt", "ss-tano.txt", "ss-Htan.txt"];

#[test]
fn every_line_of_every_capture_parses() {
    for name in NETSTAT {
        let data = fixture(name);
        let (headers, rows) = parse_all(name, &data, netstat::parse);
        assert_eq!(headers.len(), 2, "{name}");
        assert_eq!(headers[0], Header::NetstatTitle);
        assert_eq!(
            headers[1],
            Header::NetstatColumns {
                program: name == "netstat-tanp.txt",
                timer: false
            }
        );
        assert_eq!(rows.len(), 47, "{name}");
    }
    for name in SS {
        let data = fixture(name);
        let (headers, rows) = parse_all(name, &data, ss::parse);
        let want: &[Header] = if name == "ss-Htan.txt" {
            &[]
        } else {
            &[Header::SsColumns {
                netid: false,
                state: true,
            }]
        };
        assert_eq!(headers, want, "{name}");
        assert_eq!(rows.len(), 47, "{name}");
    }
    let data = fixture("ss-tn-state-time-wait.txt");
    let (headers, rows) = parse_all("ss-tn-state-time-wait.txt", &data, |l| {
        ss::parse_with_state(l, Some(TcpState::TimeWait))
    });
    assert_eq!(
        headers,
        [Header::SsColumns {
            netid: false,
            state: false
        }]
    );
    assert_eq!(rows.len(), 24);
    for (name, n) in [("proc-net-tcp.txt", 31), ("proc-net-tcp6.txt", 16)] {
        let data = fixture(name);
        let (headers, rows) = parse_all(name, &data, proc_net_tcp::parse);
        assert_eq!(headers, [Header::ProcNetTcp], "{name}");
        assert_eq!(rows.len(), n, "{name}");
    }
    let data = fixture("ss-s.txt");
    for (n, line) in lines(&data).enumerate() {
        ss::parse_summary(line).unwrap_or_else(|e| panic!("ss-s.txt:{}: {e}: {line:?}", n + 1));
    }
    port_range::parse(&fixture("ip_local_port_range.txt")).unwrap();
}

#[test]
fn state_counts_and_sockets_agree_across_all_renderings() {
    let datas: Vec<(&str, Vec<u8>)> = NETSTAT
        .iter()
        .chain(SS.iter())
        .map(|n| (*n, fixture(n)))
        .collect();
    let tcp = fixture("proc-net-tcp.txt");
    let tcp6 = fixture("proc-net-tcp6.txt");
    let mut proc: Vec<SocketRow<'_>> = file_rows("proc-net-tcp.txt", &tcp, proc_net_tcp::parse);
    proc.extend(file_rows("proc-net-tcp6.txt", &tcp6, proc_net_tcp::parse));

    let want_counts = counts(&proc);
    let want_keys = key_set(&proc);
    for (name, data) in &datas {
        let rows = if name.starts_with("netstat") {
            file_rows(name, data, netstat::parse)
        } else {
            file_rows(name, data, ss::parse)
        };
        assert_eq!(counts(&rows), want_counts, "{name} vs /proc/net/tcp+tcp6");
        // Stronger than counts: the same sockets, endpoint by endpoint.
        assert_eq!(key_set(&rows), want_keys, "{name} vs /proc/net/tcp+tcp6");
    }
    assert_eq!(
        want_counts,
        BTreeMap::from([
            ("CLOSE_WAIT", 1),
            ("ESTABLISHED", 17),
            ("FIN_WAIT2", 1),
            ("LISTEN", 4),
            ("TIME_WAIT", 24),
        ])
    );
}

#[test]
fn queues_and_pids_agree() {
    let nt = fixture("netstat-tanp.txt");
    let netstat_rows = file_rows("netstat-tanp.txt", &nt, netstat::parse);
    let sp = fixture("ss-tanp.txt");
    let ss_rows = file_rows("ss-tanp.txt", &sp, ss::parse);
    let tcp = fixture("proc-net-tcp.txt");
    let tcp6 = fixture("proc-net-tcp6.txt");
    let mut proc = proc_rows(&tcp);
    proc.extend(proc_rows(&tcp6));

    // netstat prints /proc's rx_queue:tx_queue as Recv-Q/Send-Q, row for row.
    let by_key = |rows: &[SocketRow<'_>]| -> BTreeMap<Key, (Option<u64>, Option<u64>)> {
        rows.iter()
            .map(|r| (key(r), (r.recv_q, r.send_q)))
            .collect()
    };
    let proc_sockets: Vec<SocketRow<'_>> = proc.iter().map(|r| r.socket).collect();
    assert_eq!(by_key(&netstat_rows), by_key(&proc_sockets));
    // ss (netlink) agrees except on LISTEN rows, where its Send-Q is the backlog limit.
    let not_listen = |rows: &[SocketRow<'_>]| {
        let mut m = by_key(rows);
        m.retain(|k, _| k.0 != TcpState::Listen);
        m
    };
    assert_eq!(not_listen(&ss_rows), not_listen(&netstat_rows));
    assert_eq!(
        by_key(&netstat_rows)
            .iter()
            .filter(|(k, _)| k.0 == TcpState::CloseWait)
            .map(|(_, q)| *q)
            .collect::<Vec<_>>(),
        [(Some(1), Some(0))],
        "CLOSE_WAIT holds the FIN in Recv-Q"
    );
    // The owning process: netstat `-p` and ss `users:` name the same pid and program.
    let owners = |rows: &[SocketRow<'_>]| -> BTreeMap<Key, (u32, Vec<u8>)> {
        rows.iter()
            .filter_map(|r| Some((key(r), (r.pid?, r.process?.to_vec()))))
            .collect()
    };
    let netstat_owners = owners(&netstat_rows);
    assert_eq!(netstat_owners, owners(&ss_rows));
    // 47 sockets - 24 TIME_WAIT - the orphaned FIN_WAIT2 - the other user's :2024 listener.
    assert_eq!(netstat_owners.len(), 21);
    // TIME_WAIT minisockets have no inode and no process in either tool.
    for r in &proc {
        if r.socket.state == TcpState::TimeWait {
            assert_eq!(r.inode, 0);
            assert_eq!(r.timer_kind, 3);
        }
    }
    assert!(
        netstat_rows
            .iter()
            .chain(&ss_rows)
            .filter(|r| r.state == TcpState::TimeWait)
            .all(|r| r.pid.is_none())
    );
}

/// `awk 'NR>2 {print $6}' FILE | sort | uniq -c` as a map, or None without awk.
fn awk_state_counts(name: &str) -> Option<BTreeMap<String, u64>> {
    let out = Command::new("awk")
        .arg("NR>2 {print $6}")
        .arg(fixture_path(name))
        .output()
        .ok()?;
    assert!(out.status.success(), "awk failed on {name}");
    let mut counts = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        *counts.entry(line.to_string()).or_insert(0) += 1;
    }
    Some(counts)
}

#[test]
fn netstat_nat_state_counts_equal_awk() {
    let data = fixture("netstat-nat.txt");
    let ours: BTreeMap<String, u64> = counts(&file_rows("netstat-nat.txt", &data, netstat::parse))
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    match awk_state_counts("netstat-nat.txt") {
        Some(awk) => assert_eq!(ours, awk),
        None => eprintln!("awk not installed: netstat-nat.txt state counts not compared to awk"),
    }
    // From the awk run:
    // $ awk 'NR>2 {print $6}' tests/fixtures/socket-captures/netstat-nat.txt | sort | uniq -c
    //       1 CLOSE_WAIT
    //      17 ESTABLISHED
    //       1 FIN_WAIT2
    //       4 LISTEN
    //      24 TIME_WAIT
    let pinned = BTreeMap::from([
        ("CLOSE_WAIT".to_string(), 1),
        ("ESTABLISHED".to_string(), 17),
        ("FIN_WAIT2".to_string(), 1),
        ("LISTEN".to_string(), 4),
        ("TIME_WAIT".to_string(), 24),
    ]);
    assert_eq!(ours, pinned);
}

#[test]
fn ss_state_filter_time_wait_equals_ss_tan_time_wait_rows() {
    let f = fixture("ss-tn-state-time-wait.txt");
    let filtered = ss_rows("ss-tn-state-time-wait.txt", &f, TcpState::TimeWait);
    assert!(filtered.iter().all(|r| r.state == TcpState::TimeWait));
    let t = fixture("ss-tan.txt");
    // ss-tan has a State column: the implied state must not be used there.
    let all = ss_rows("ss-tan.txt", &t, TcpState::TimeWait);
    assert_eq!(counts(&all).get("ESTABLISHED"), Some(&17));
    let tw: Vec<SocketRow<'_>> = all
        .into_iter()
        .filter(|r| r.state == TcpState::TimeWait)
        .collect();
    assert_eq!(filtered.len(), 24);
    assert_eq!(key_set(&filtered), key_set(&tw));
}

#[test]
fn port_range_gives_the_file_numbers() {
    let r = port_range::parse(&fixture("ip_local_port_range.txt")).unwrap();
    assert_eq!((r.low, r.high, r.count()), (32768, 60999, 28_232));
}

/// `ss -s` counts kernel counters, not listed sockets, so they differ from every listing;
/// here is how they follow from the listing of the same moment.
#[test]
fn ss_summary_follows_from_the_listing() {
    let data = fixture("ss-s.txt");
    let mut tcp = None;
    let mut transport = BTreeMap::new();
    for line in lines(&data) {
        match ss::parse_summary(line).unwrap() {
            SummaryLine::Tcp(t) => tcp = Some(t),
            SummaryLine::Transport {
                name,
                total,
                ip,
                ipv6,
            } => {
                transport.insert(name.to_vec(), (total, ip, ipv6));
            }
            _ => {}
        }
    }
    let tcp = tcp.expect("a TCP: line");
    let t4 = fixture("proc-net-tcp.txt");
    let t6 = fixture("proc-net-tcp6.txt");
    let (v4, v6) = (proc_rows(&t4), proc_rows(&t6));
    let n = |rows: &[proc_net_tcp::Row<'_>], st: TcpState| {
        rows.iter().filter(|r| r.socket.state == st).count() as u64
    };
    let both = |st| n(&v4, st) + n(&v6, st);
    // TIME-WAIT minisockets: TIME_WAIT rows plus orphaned FIN_WAIT2 ones (no inode).
    let mini = |rows: &[proc_net_tcp::Row<'_>]| {
        rows.iter()
            .filter(|r| {
                r.socket.state == TcpState::TimeWait
                    || (r.socket.state == TcpState::FinWait2 && r.inode == 0)
            })
            .count() as u64
    };
    let listed = (v4.len() + v6.len()) as u64;
    let in_use4 = v4.len() as u64 - mini(&v4);
    let in_use6 = v6.len() as u64 - mini(&v6);
    assert_eq!(tcp.total, listed); // 47
    assert_eq!(tcp.timewait, Some(mini(&v4) + mini(&v6))); // 24 TIME_WAIT + 1 FIN_WAIT2
    // CurrEstab counts ESTABLISHED and CLOSE_WAIT.
    assert_eq!(
        tcp.estab,
        Some(both(TcpState::Established) + both(TcpState::CloseWait))
    );
    assert_eq!(tcp.closed, Some(listed - in_use4 - in_use6));
    assert_eq!(tcp.orphaned, Some(0));
    assert_eq!(
        transport.get(&b"TCP"[..]),
        Some(&(Some(in_use4 + in_use6), Some(in_use4), Some(in_use6)))
    );
    assert_eq!((in_use4, in_use6), (14, 8));
}

#[test]
fn timers_and_truncation_in_the_captures() {
    // -tano: every TIME-WAIT row, and the orphaned FIN-WAIT-2 one (its /proc row runs the
    // same `03` timer), shows a `timewait` timer; the others none.
    let data = fixture("ss-tano.txt");
    for r in file_rows("ss-tano.txt", &data, ss::parse) {
        let tw = matches!(r.state, TcpState::TimeWait | TcpState::FinWait2);
        assert_eq!(
            r.timer.is_some_and(|t| t.starts_with(b"timewait,")),
            tw,
            "{r:?}"
        );
    }
    // No address here is long enough for net-tools to cut, so -tan and -tanW agree and no
    // endpoint fills the 23-wide column.
    for name in NETSTAT {
        let data = fixture(name);
        for r in file_rows(name, &data, netstat::parse) {
            assert!(!netstat::may_be_truncated(&r.local), "{name}: {r:?}");
            assert!(!netstat::may_be_truncated(&r.remote), "{name}: {r:?}");
        }
    }
}
