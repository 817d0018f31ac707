//! TEMPORARY STUB (replaced by the real module).
use crate::format::{Envelope, Payload};
use crate::timestamp::{Micros, TimeContext};
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogLine<'a> { pub ts: Option<Micros>, pub host: &'a [u8], pub ident: &'a [u8], pub pid: Option<u32>, pub message: &'a [u8] }
pub fn parse_syslog_line<'a>(_l: &'a [u8], _c: &TimeContext) -> Option<SyslogLine<'a>> { None }
pub fn detect_envelope(head: &[u8]) -> Envelope { if head.starts_with(b"__CURSOR=") { Envelope::JournaldExport } else { Envelope::Plain } }
pub fn detect_payload(_m: &[u8]) -> Payload { Payload::Text }
