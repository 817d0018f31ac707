//! # coroner-analyze: records to tables
//!
//! The engine of one `coroner analyze` run: [`pipeline::run`] reads every input once,
//! cutting it into record-aligned chunks that rayon workers fold into mergeable
//! accumulators ([`stats::SourceStats`] per source); [`report`] turns the merged result
//! into the Parquet tables and `summary.json` of the public contract (`docs/reports.md`).
//!
//! ```
//! use coroner_analyze::{config::RunConfig, pipeline};
//! let dir = tempfile::tempdir().unwrap(); // removed when dropped
//! let log = dir.path().join("access.log");
//! std::fs::write(&log, "203.0.113.9 - - [02/Jul/2026:15:42:01 +0000] \"GET / HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n").unwrap();
//! let result = pipeline::run(&[log], &RunConfig::default(), &|_| {});
//! assert_eq!(result.sources[0].stats.records, 1);
//! assert!(!result.had_errors());
//! ```

pub mod analyses;
pub mod bursts;
pub mod captures;
pub mod config;
mod digits;
pub mod drop_window;
pub mod drops;
pub mod event;
pub mod findings;
pub mod html;
pub mod incident;
mod message_mask;
pub mod needles;
pub mod path_classes;
pub mod pattern_share;
pub mod pipeline;
pub mod report;
pub mod request_cache;
pub mod second_set;
pub mod sketch;
pub mod sockets;
pub mod spill;
pub mod stats;
pub mod table;
pub mod templates;
pub mod timeline;
