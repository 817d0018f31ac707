//! Format identifiers: the envelope a source's records are stored in, and the payload a
//! record's message carries. The ids are the public names of `sources.parquet` (see
//! `docs/reports.md`, "Format ids"); never rename one without the contract.

/// How records are stored in a source (decided once per source from its first KiBs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Envelope {
    /// `journalctl -o export`: entries of `NAME=value` / binary fields, blank-line separated.
    JournaldExport,
    /// `journalctl -o json`: one JSON object per line, all values strings.
    JournaldJson,
    /// `journalctl -o short*` text and rsyslog files: `<time> <host> <ident>[pid]: <msg>`.
    Syslog,
    /// Docker's json-file driver: `{"log":"...","stream":"stdout","time":"..."}` per line.
    DockerJson,
    /// One record per line, no wrapper: the payload starts at the first byte.
    Plain,
    /// `netstat -nat` / `-tan[pW]` capture.
    Netstat,
    /// `ss -tan[po]` / `-Htan` / `-tn state ...` capture.
    Ss,
    /// `ss -s` summary (totals only, no sockets).
    SsSummary,
    /// `/proc/net/tcp` or `/proc/net/tcp6`.
    ProcNetTcp,
    /// `/proc/sys/net/ipv4/ip_local_port_range`.
    PortRange,
    /// A binary journal file (`*.journal`, magic `LPKSHHRH`): not a text rendering; read
    /// it with `journalctl --file F -o export` first. Counted, never parsed.
    JournaldFile,
    /// Other binary data (NUL bytes in the head): counted, never parsed.
    Binary,
}

impl Envelope {
    /// Every envelope, in id order of the docs.
    pub const ALL: [Envelope; 12] = [
        Envelope::JournaldExport,
        Envelope::JournaldJson,
        Envelope::Syslog,
        Envelope::DockerJson,
        Envelope::Plain,
        Envelope::Netstat,
        Envelope::Ss,
        Envelope::SsSummary,
        Envelope::ProcNetTcp,
        Envelope::PortRange,
        Envelope::JournaldFile,
        Envelope::Binary,
    ];

    /// The public id used in `sources.parquet`.
    pub fn id(self) -> &'static str {
        match self {
            Envelope::JournaldExport => "journald-export",
            Envelope::JournaldJson => "journald-json",
            Envelope::Syslog => "syslog",
            Envelope::DockerJson => "docker-json",
            Envelope::Plain => "plain",
            Envelope::Netstat => "netstat",
            Envelope::Ss => "ss",
            Envelope::SsSummary => "ss-summary",
            Envelope::ProcNetTcp => "proc-net-tcp",
            Envelope::PortRange => "port-range",
            Envelope::JournaldFile => "journald-file",
            Envelope::Binary => "binary",
        }
    }

    /// Socket-state captures: their rows are sockets, not log records with payloads.
    pub fn is_capture(self) -> bool {
        matches!(
            self,
            Envelope::Netstat
                | Envelope::Ss
                | Envelope::SsSummary
                | Envelope::ProcNetTcp
                | Envelope::PortRange
        )
    }

    /// Envelopes whose records carry a payload worth detecting.
    pub fn has_payload(self) -> bool {
        matches!(
            self,
            Envelope::JournaldExport
                | Envelope::JournaldJson
                | Envelope::Syslog
                | Envelope::DockerJson
                | Envelope::Plain
        )
    }
}

/// What a record's message says, detected per record inside any envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Payload {
    TraefikClf,
    TraefikJson,
    Cloudflared,
    CloudflaredJson,
    NginxAccess,
    NginxError,
    MastodonStreaming,
    MastodonStreamingJson,
    RailsLograge,
    Gunicorn,
    Kernel,
    Systemd,
    Logfmt,
    GoLog,
    /// Anything else: free text. Always the last variant.
    Text,
}

impl Payload {
    /// Number of payload kinds; `Payload as usize` is below it (for counting arrays).
    pub const COUNT: usize = 15;

    /// Every payload, in declaration order (`ALL[p as usize] == p`).
    pub const ALL: [Payload; Payload::COUNT] = [
        Payload::TraefikClf,
        Payload::TraefikJson,
        Payload::Cloudflared,
        Payload::CloudflaredJson,
        Payload::NginxAccess,
        Payload::NginxError,
        Payload::MastodonStreaming,
        Payload::MastodonStreamingJson,
        Payload::RailsLograge,
        Payload::Gunicorn,
        Payload::Kernel,
        Payload::Systemd,
        Payload::Logfmt,
        Payload::GoLog,
        Payload::Text,
    ];

    /// The public id used in `sources.parquet`.
    pub fn id(self) -> &'static str {
        match self {
            Payload::TraefikClf => "traefik-clf",
            Payload::TraefikJson => "traefik-json",
            Payload::Cloudflared => "cloudflared",
            Payload::CloudflaredJson => "cloudflared-json",
            Payload::NginxAccess => "nginx-access",
            Payload::NginxError => "nginx-error",
            Payload::MastodonStreaming => "mastodon-streaming",
            Payload::MastodonStreamingJson => "mastodon-streaming-json",
            Payload::RailsLograge => "rails-lograge",
            Payload::Gunicorn => "gunicorn",
            Payload::Kernel => "kernel",
            Payload::Systemd => "systemd",
            Payload::Logfmt => "logfmt",
            Payload::GoLog => "go-log",
            Payload::Text => "text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_all_is_indexed_by_discriminant() {
        for (i, p) in Payload::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
        }
        assert_eq!(Payload::ALL[Payload::COUNT - 1], Payload::Text);
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = Envelope::ALL.iter().map(|e| e.id()).collect();
        ids.extend(Payload::ALL.iter().map(|p| p.id()));
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
