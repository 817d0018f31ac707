//! # coroner-parse: bytes to records
//!
//! The input half of coroner, with no threads and no Arrow: everything here works on
//! `&[u8]` and can be driven by any scheduler.
//!
//! - [`input`]: expand paths (files, directories, tar archives) and open each stream by its
//!   magic bytes ([`decode`]: plain, gzip with all members, zstd with all frames).
//! - [`detect`]: the envelope of a source from its first KiBs, the payload of each record.
//! - [`frame`]: where records begin and end for each envelope, and where a stream may be cut
//!   into chunks without changing the records.
//! - [`envelope`]: the time and message of one record inside its wrapper.
//! - [`timestamp`]: hand-written parsers for the fixed timestamp formats, to UTC µs.
//! - [`formats`]: the full zero-copy parsers, one module per envelope and payload format;
//!   [`payload`]: a record's message to its parsed payload (detection confirmed by a parser).
//! - [`format`](mod@format): the public format ids; [`error`]: the one error type;
//!   [`literal`]: fixed needles whose memmem searcher is built once.
//!
//! ```
//! use coroner_parse::detect::{detect_envelope, detect_payload};
//! use coroner_parse::format::{Envelope, Payload};
//! let line = b"2024-07-10T17:08:33Z ERR Request failed error=\"x\" connIndex=0 type=ws\n";
//! assert_eq!(detect_envelope(line), Envelope::Plain);
//! assert_eq!(detect_payload(&line[..line.len() - 1]), Payload::Cloudflared);
//! ```

pub mod decode;
pub mod detect;
pub mod envelope;
pub mod error;
mod export_scan;
pub mod format;
pub mod formats;
pub mod frame;
pub mod input;
mod line_marks;
pub mod literal;
pub mod payload;
pub mod timestamp;

pub use error::{Error, ErrorKind};
