//! The full parsers: one module per format, each turning one record's bytes into a record
//! type that borrows from them (fields are slices, times are UTC microseconds, numbers are
//! parsed), or into a [`ParseError`](crate::error::ParseError) that says what was expected
//! where. None allocates per record; none panics on any input (`tests/never_panic.rs`
//! feeds them random and mutated bytes, `fuzz/` runs them under libFuzzer).
//!
//! Envelopes wrap records, payloads are what the records say; [`crate::detect`] decides
//! which parser a record goes to.
//!
//! | module | format id | what it reads |
//! |---|---|---|
//! | [`journald_export`] | `journald-export` | `journalctl -o export` entries, text and binary fields |
//! | [`json`] | (base) | zero-copy JSON object scanner shared by the JSON formats |
//! | [`journald_json`] | `journald-json` | `journalctl -o json` / `json-seq`: MESSAGE as string, bytes, array or null |
//! | [`docker_json`] | `docker-json` | docker `json-file` lines: log, stream, time |
//! | [`traefik_json`] | `traefik-json` | Traefik JSON access log: ns durations, statuses, start times, headers |
//! | [`cloudflared_json`] | `cloudflared-json` | cloudflared `--logfile` / `--output json` (zerolog JSON), kinds as [`cloudflared`] |
//! | [`pino`] | `mastodon-streaming-json` | Mastodon streaming (>= 4.3) and other pino NDJSON, kinds as [`npmlog`] |
//! | [`clf`] | `traefik-clf`, `nginx-access` | CLF family: common, combined, nginx `main`, Traefik CLF |
//! | [`nginx_format`] | `nginx-access` (`--nginx-format`) | any nginx `log_format`, compiled once into a field plan |
//! | [`nginx_error`] | `nginx-error` | nginx error log, FastCGI continuations |
//! | [`kernel`] | `kernel` | kernel lines: OOM killer (all forms), ENOSPC, printk prefixes |
//! | [`systemd`] | `systemd` | PID 1 unit lifecycle: exits, restarts, failures, OOM kills |
//! | [`logfmt`] | `logfmt` | `key=value key="quoted value"` pairs, shared by the text formats below |
//! | [`cloudflared`] | `cloudflared` | cloudflared (zerolog) console lines |
//! | [`npmlog`] | `mastodon-streaming` | Mastodon streaming (<= 4.2) npmlog lines |
//! | [`lograge`] | `rails-lograge` | Rails lograge requests, Rack::Attack lines |
//! | [`gunicorn`] | `gunicorn` | gunicorn error log |
//! | [`golog`] | `go-log` | Go's standard `log` prefix |
//! | [`sockets`] | (base) | shared socket model: [`sockets::SocketRow`], states, endpoint normalisation |
//! | [`netstat`] | `netstat` | net-tools `netstat -tan`/`-nat`/`-tanp`/`-tanW`/`-tano`, BSD/macOS rows |
//! | [`ss`] | `ss`, `ss-summary` | iproute2 `ss -tan[po]`, `-Htan`, `state <name>` rows; `ss -s` |
//! | [`proc_net_tcp`] | `proc-net-tcp` | `/proc/net/tcp` and `tcp6`: host-order hex addresses, states, timers |
//! | [`port_range`] | `port-range` | `/proc/sys/net/ipv4/ip_local_port_range` |

pub mod clf;
pub mod cloudflared;
pub mod cloudflared_json;
pub mod docker_json;
pub mod golog;
pub mod gunicorn;
pub mod journald_export;
pub mod journald_json;
pub mod json;
pub mod kernel;
pub mod logfmt;
pub mod lograge;
pub mod netstat;
pub mod nginx_error;
pub mod nginx_format;
pub mod npmlog;
pub mod pino;
pub mod port_range;
pub mod proc_net_tcp;
pub mod sockets;
pub mod ss;
pub mod systemd;
pub mod traefik_json;
