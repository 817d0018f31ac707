//! Deterministic generators of realistic log bundles for `coroner`.
//!
//! coroner answers post-mortem questions over bundles of captured logs. To show it
//! working, and to test it against known answers, this crate writes small sample
//! bundles that reproduce real incidents: the same log formats, wordings and
//! layering as the real captures, with made-up hosts and documentation/cluster
//! addresses. Each sample directory holds the log files, a `README.md` telling the
//! story, and an `expected.json` with the numbers a correct analysis must find.
//! Those numbers are counted by the generator from the files it just wrote, so they
//! are always true of the bytes on disk.
//!
//! Everything is deterministic: a sample is a pure function of its seed (a
//! SplitMix64 stream, integer arithmetic only), gzip headers carry no time, and
//! zstd runs single-threaded, so regenerating gives byte-identical files and the
//! samples can live in git.
//!
//! Samples (see [`SAMPLES`]):
//! - [`t3_drop`]: t3 WebSocket drops: a serve stall with same-second cancel bursts,
//!   against scattered last-mile drops (journald export + Traefik + cloudflared).
//!
//! Adding a sample: write a module with `NAME`, `SUMMARY` and
//! `write(dir: &Path) -> io::Result<Vec<Written>>`, and list it in [`SAMPLES`];
//! `coroner-gen samples` picks it up. Larger generated inputs (benchmark bundles)
//! belong in their own module behind their own `coroner-gen` subcommand.
//!
//! ```
//! let root = std::env::temp_dir().join(format!("coroner-gen-doc-{}", std::process::id()));
//! let written = coroner_gen::sample("t3-drop").unwrap().write_into(&root)?;
//! assert!(written.iter().any(|w| w.path.ends_with("t3-dispatch.export")));
//! let expected = std::fs::read_to_string(root.join("t3-drop/expected.json"))?;
//! assert!(expected.contains("\"burst_threshold\": 5"));
//! std::fs::remove_dir_all(&root)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::path::Path;

pub mod journald;
pub mod out;
pub mod rng;
pub mod t3_drop;
pub mod time;

pub use out::Written;

/// A sample bundle the generator can write.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Directory name under the samples root.
    pub name: &'static str,
    /// One line for listings.
    pub summary: &'static str,
    write: fn(&Path) -> io::Result<Vec<Written>>,
}

impl Sample {
    /// Writes the sample into `root/<name>/`, creating it; existing files of the
    /// same names are replaced, others are left alone.
    pub fn write_into(&self, root: &Path) -> io::Result<Vec<Written>> {
        let dir = root.join(self.name);
        std::fs::create_dir_all(&dir)?;
        (self.write)(&dir)
    }
}

/// Every sample, in the order `coroner-gen samples` writes them.
pub const SAMPLES: &[Sample] = &[Sample {
    name: t3_drop::NAME,
    summary: t3_drop::SUMMARY,
    write: t3_drop::write,
}];

/// The sample called `name`.
pub fn sample(name: &str) -> Option<&'static Sample> {
    SAMPLES.iter().find(|s| s.name == name)
}

/// Writes every sample under `root`.
pub fn write_samples(root: &Path) -> io::Result<Vec<Written>> {
    let mut all = Vec::new();
    for s in SAMPLES {
        all.extend(s.write_into(root)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("coroner-gen-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn regenerating_gives_identical_bytes() {
        let (a, b) = (scratch("det-a"), scratch("det-b"));
        let wa = write_samples(&a).unwrap();
        let wb = write_samples(&b).unwrap();
        assert_eq!(wa.len(), wb.len());
        assert!(wa.len() >= 5);
        for (x, y) in wa.iter().zip(&wb) {
            assert_eq!(
                x.path.strip_prefix(&a).unwrap(),
                y.path.strip_prefix(&b).unwrap()
            );
            let (bx, by) = (
                std::fs::read(&x.path).unwrap(),
                std::fs::read(&y.path).unwrap(),
            );
            assert_eq!(bx.len() as u64, x.bytes);
            assert!(bx == by, "{} differs between runs", x.path.display());
        }
        // Well under 1 MiB for the whole sample.
        let total: u64 = wa.iter().map(|w| w.bytes).sum();
        assert!(total < 1 << 20, "sample is {total} bytes");
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }

    #[test]
    fn samples_are_named_uniquely() {
        for (i, s) in SAMPLES.iter().enumerate() {
            assert!(SAMPLES[i + 1..].iter().all(|t| t.name != s.name));
            assert!(sample(s.name).is_some());
        }
        assert!(sample("no-such-sample").is_none());
    }
}
