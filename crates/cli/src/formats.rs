//! `coroner formats`: every format coroner reads, with one example of it.
//!
//! The examples are not decoration: a test feeds each one to the same detection and
//! parsers a run uses and demands the format it is listed under, so this list cannot
//! drift from what the code reads.

use coroner_parse::format::{Envelope, Payload};

/// One listed format.
pub struct Example {
    pub id: &'static str,
    /// `envelope` (how records are stored), `payload` (what a message says), `capture`.
    pub kind: &'static str,
    pub what: &'static str,
    pub example: &'static str,
}

pub const EXAMPLES: &[Example] = &[
    Example {
        id: "journald-export",
        kind: "envelope",
        what: "journalctl -o export (text and binary fields)",
        example: "__CURSOR=s=6b2e;i=1\n__REALTIME_TIMESTAMP=1783006937413882\n_HOSTNAME=devvm\nSYSLOG_IDENTIFIER=t3-dispatch\nMESSAGE=2026/07/02 15:42:17 http: proxy error: context canceled\n",
    },
    Example {
        id: "journald-json",
        kind: "envelope",
        what: "journalctl -o json",
        example: r#"{"__REALTIME_TIMESTAMP":"1783006937413882","PRIORITY":"3","SYSLOG_IDENTIFIER":"t3-dispatch","MESSAGE":"http: proxy error: context canceled"}"#,
    },
    Example {
        id: "syslog",
        kind: "envelope",
        what: "journalctl -o short/short-iso/short-precise/short-full, rsyslog",
        example: "2018-08-11T01:54:07+0000 chitter kernel: Out of memory: Kill process 1187 (netdata) score 1015 or sacrifice child",
    },
    Example {
        id: "docker-json",
        kind: "envelope",
        what: "docker json-file driver",
        example: r#"{"log":"[2023-11-30 14:02:11 +0000] [8] [CRITICAL] WORKER TIMEOUT (pid:23)\n","stream":"stderr","time":"2023-11-30T14:02:11.123456789Z"}"#,
    },
    Example {
        id: "plain",
        kind: "envelope",
        what: "one record per line (any payload below, or free text)",
        example: "[11-Mar-2021 10:09:27 UTC] PHP Warning:  Redis::connect(): connect() failed: Cannot assign requested address in /var/www/app/Redis.php on line 112",
    },
    Example {
        id: "netstat",
        kind: "capture",
        what: "netstat -nat / -tan / -tanp / -tanW",
        example: "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp        0      0 10.0.4.21:51120         10.0.4.30:6379          TIME_WAIT\n",
    },
    Example {
        id: "ss",
        kind: "capture",
        what: "ss -tan / -tanp / -tano / -Htan",
        example: "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port\nTIME-WAIT  0      0      10.0.4.21:51120     10.0.4.30:6379\n",
    },
    Example {
        id: "proc-net-tcp",
        kind: "capture",
        what: "/proc/net/tcp and /proc/net/tcp6",
        example: "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:18EB 0100007F:C7D0 06 00000000:00000000 03:000016F0 00000000     0        0 0 3 0000000000000000\n",
    },
    Example {
        id: "port-range",
        kind: "capture",
        what: "/proc/sys/net/ipv4/ip_local_port_range",
        example: "32768\t60999\n",
    },
    Example {
        id: "traefik-clf",
        kind: "payload",
        what: "Traefik access log, CLF (v1-v3)",
        example: r#"10.42.3.17 - - [02/Jul/2026:15:42:00 +0000] "GET /ws HTTP/1.1" 101 0 "-" "-" 1211589 "t3code-t3@kubernetescrd" "http://10.0.20.31:8080" 17000ms"#,
    },
    Example {
        id: "traefik-json",
        kind: "payload",
        what: "Traefik access log, JSON",
        example: r#"{"ClientHost":"192.0.2.7","DownstreamStatus":101,"Duration":17000000000,"RequestMethod":"GET","RequestPath":"/ws","StartUTC":"2026-07-02T15:42:00.123456789Z","level":"info","msg":"","time":"2026-07-02T15:42:17Z"}"#,
    },
    Example {
        id: "cloudflared",
        kind: "payload",
        what: "cloudflared console log (zerolog)",
        example: r#"2026-07-02T15:42:17Z ERR Request failed error="Incoming request ended abruptly: context canceled" connIndex=0 dest=https://t3.example.net/ws event=0 ip=198.51.100.63 type=ws"#,
    },
    Example {
        id: "cloudflared-json",
        kind: "payload",
        what: "cloudflared --logfile JSON",
        example: r#"{"level":"error","error":"Incoming request ended abruptly: context canceled","connIndex":0,"dest":"https://t3.example.net/ws","type":"ws","time":"2026-07-02T15:42:17Z","message":"Request failed"}"#,
    },
    Example {
        id: "nginx-access",
        kind: "payload",
        what: "nginx/apache combined, nginx main, any --nginx-format",
        example: r#"198.51.100.162 - - [13/Dec/2022:18:58:03 +0000] "GET /api/v1/timelines/home HTTP/1.1" 504 562 "-" "Mastodon/4.0.2" rt=60.001 urt="60.000""#,
    },
    Example {
        id: "nginx-error",
        kind: "payload",
        what: "nginx error log",
        example: "2022/12/13 18:58:03 [error] 1234#1234: *5678 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 198.51.100.162, server: example.net, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:3000/\"",
    },
    Example {
        id: "mastodon-streaming",
        kind: "payload",
        what: "Mastodon streaming, npmlog era (time from the envelope)",
        example: "ERR! 6d2c6a2b-0e06-4afe-a449-a42f861855b2 Tried writing to closed socket",
    },
    Example {
        id: "mastodon-streaming-json",
        kind: "payload",
        what: "Mastodon streaming, pino JSON",
        example: r#"{"level":50,"time":1670957881000,"pid":123,"hostname":"fritz","name":"streaming","req":{"id":"6d2c6a2b-0e06-4afe-a449-a42f861855b2"},"msg":"Tried writing to closed socket"}"#,
    },
    Example {
        id: "rails-lograge",
        kind: "payload",
        what: "Rails (Mastodon web) lograge and Rack::Attack lines",
        example: "I, [2023-10-18T03:38:59.908772 #143606]  INFO -- : [5aa3be68-f1fa-4808-b451-13df3fd5390b] method=GET path=/api/v1/timelines/home format=json controller=Api::V1::Timelines::HomeController action=show status=200 duration=83.12 view=20.01 db=40.33",
    },
    Example {
        id: "gunicorn",
        kind: "payload",
        what: "gunicorn error log",
        example: "[2023-11-30 14:02:11 +0000] [8] [CRITICAL] WORKER TIMEOUT (pid:23)",
    },
    Example {
        id: "kernel",
        kind: "payload",
        what: "kernel OOM killer (pre- and post-5.0, cgroup), device full",
        example: "Out of memory: Killed process 15784 (python3) total-vm:11964kB, anon-rss:4288kB, file-rss:3028kB, shmem-rss:0kB",
    },
    Example {
        id: "systemd",
        kind: "payload",
        what: "systemd unit lifecycle",
        example: "tecken-web.service: Scheduled restart job, restart counter is at 3.",
    },
    Example {
        id: "logfmt",
        kind: "payload",
        what: "logfmt key=value lines",
        example: "time=2026-07-02T15:42:01Z level=warn msg=\"ws close\" dur_ms=1200 cause=downstream_closed",
    },
    Example {
        id: "go-log",
        kind: "payload",
        what: "Go log package prefix",
        example: "2026/07/02 15:42:01 http: proxy error: dial tcp 127.0.0.1:3773: connect: connection refused",
    },
];

/// The `coroner formats` listing.
pub fn listing() -> String {
    let mut out = String::new();
    for kind in ["envelope", "payload", "capture"] {
        out += match kind {
            "envelope" => "Envelopes: how a source stores its records (one per source)\n",
            "payload" => {
                "\nPayloads: what a record's message says (detected per record, in any envelope)\n"
            }
            _ => "\nCaptures: socket-state snapshots\n",
        };
        for e in EXAMPLES.iter().filter(|e| e.kind == kind) {
            out += &format!("  {:<24} {}\n", e.id, e.what);
            for line in e.example.lines().take(3) {
                out += &format!("      {line}\n");
            }
        }
    }
    out += "\nA record no payload parser accepts is `text`: counted, templated, never dropped.\n";
    out
}

/// The envelope and payload ids the listing must cover (everything a run can report but
/// the two that are not log formats: binary journal files and binary data).
pub fn covered() -> Vec<&'static str> {
    Envelope::ALL
        .iter()
        .filter(|e| {
            !matches!(
                e,
                Envelope::JournaldFile | Envelope::Binary | Envelope::SsSummary
            )
        })
        .map(|e| e.id())
        .chain(
            Payload::ALL
                .iter()
                .filter(|p| **p != Payload::Text)
                .map(|p| p.id()),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coroner_parse::detect::detect_envelope;
    use coroner_parse::payload::PayloadParser;

    #[test]
    fn every_format_is_listed_once() {
        let listed: Vec<&str> = EXAMPLES.iter().map(|e| e.id).collect();
        for id in covered() {
            assert_eq!(listed.iter().filter(|l| **l == id).count(), 1, "{id}");
        }
        assert_eq!(listed.len(), covered().len());
    }

    #[test]
    fn every_example_is_read_as_the_format_it_illustrates() {
        for e in EXAMPLES {
            match e.kind {
                "payload" => {
                    let mut p = PayloadParser::new(0, None);
                    let (payload, _) = p.parse(e.example.as_bytes());
                    assert_eq!(payload.id(), e.id, "{}", e.example);
                }
                _ => {
                    let env = detect_envelope(e.example.as_bytes());
                    assert_eq!(env.id(), e.id, "{}", e.example);
                }
            }
        }
        assert!(listing().contains("WORKER TIMEOUT"));
    }
}
