//! Deterministic generators of realistic log bundles for `coroner`.
//!
//! coroner answers post-mortem questions over bundles of captured logs. To show it
//! working, and to test it against known answers, this crate writes small sample
//! bundles that reproduce real incidents: the same log formats, wordings and
//! layering as the real captures, with made-up hosts and documentation/cluster
//! addresses. A sample `<name>` is three things under the samples root:
//! `<name>/` holds only the bundle's log files (what a user would point
//! `coroner analyze` at), `<name>.md` tells the story, and `<name>.expected.json`
//! holds the numbers a correct analysis must find. Those numbers are counted by the
//! generator from the files it just wrote, so they are always true of the bytes on
//! disk.
//!
//! Everything is deterministic: a sample is a pure function of its seed (a
//! SplitMix64 stream, integer arithmetic only), gzip headers carry no time, and
//! zstd runs single-threaded, so regenerating gives byte-identical files and the
//! samples can live in git.
//!
//! Samples (see [`SAMPLES`]):
//! - [`t3_drop`]: t3 WebSocket drops: a serve stall with same-second cancel bursts,
//!   against scattered last-mile drops (journald export + Traefik + cloudflared).
//! - [`chitter_oom`]: chitter.xyz 2018-08-11: the OOM killer shoots netdata again and
//!   again, then `convert`; caddy stops answering at 01:51 (journal + caddy access log).
//! - [`hachyderm`]: hachyderm 2022-12-13: a full root filesystem on the database
//!   server, Redis unable to persist, 504/502 at the edge (journal + nginx).
//! - [`tecken_disk`]: tecken 2023-11-30: upload workers time out, orphaned files fill
//!   the disk, the disk manager's container restart-loops (gunicorn + journal + nginx).
//! - [`redis_timewait`]: ephemeral ports to Redis exhausted by TIME_WAIT, `Cannot
//!   assign requested address` filling the PHP log (PHP log + netstat capture).
//!
//! Adding a sample: write a module with `NAME`, `SUMMARY` and
//! `build() -> io::Result<common::Bundle>` (log files, story, expected numbers), and
//! list it in [`SAMPLES`]; `coroner-gen samples` picks it up. Larger generated inputs
//! (benchmark bundles) belong in their own module behind their own `coroner-gen`
//! subcommand.
//!
//! ```
//! let root = std::env::temp_dir().join(format!("coroner-gen-doc-{}", std::process::id()));
//! let written = coroner_gen::sample("t3-drop").unwrap().write_into(&root)?;
//! assert!(written.iter().any(|w| w.path.ends_with("t3-dispatch.export")));
//! // The story and the numbers sit next to the bundle directory, not in it.
//! assert!(!root.join("t3-drop/expected.json").exists());
//! let expected = std::fs::read_to_string(root.join("t3-drop.expected.json"))?;
//! assert!(expected.contains("\"burst_threshold\": 5"));
//! assert!(root.join("t3-drop.md").is_file());
//! std::fs::remove_dir_all(&root)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::path::Path;

pub mod bundle;
pub mod chitter_oom;
pub mod common;
pub mod hachyderm;
pub mod journald;
pub mod out;
pub mod redis_timewait;
pub mod rng;
pub mod t3_drop;
pub mod tecken_disk;
pub mod time;

pub use common::Bundle;
pub use out::Written;

/// A sample bundle the generator can write.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Directory name under the samples root (and stem of `<name>.md`,
    /// `<name>.expected.json`).
    pub name: &'static str,
    /// One line for listings.
    pub summary: &'static str,
    build: fn() -> io::Result<Bundle>,
}

impl Sample {
    /// Builds the sample in memory.
    pub fn build(&self) -> io::Result<Bundle> {
        (self.build)()
    }

    /// Writes the sample under `root`: its log files into `root/<name>/` (created;
    /// files of the same names are replaced, others are left alone), the story to
    /// `root/<name>.md` and the numbers to `root/<name>.expected.json`.
    pub fn write_into(&self, root: &Path) -> io::Result<Vec<Written>> {
        let bundle = self.build()?;
        let dir = root.join(self.name);
        std::fs::create_dir_all(&dir)?;
        let mut written = Vec::with_capacity(bundle.files.len() + 2);
        for (name, data) in &bundle.files {
            written.push(out::write_file(&dir.join(name), data)?);
        }
        written.push(out::write_file(
            &root.join(format!("{}.md", self.name)),
            bundle.story.as_bytes(),
        )?);
        written.push(out::write_file(
            &root.join(format!("{}.expected.json", self.name)),
            bundle.expected.as_bytes(),
        )?);
        Ok(written)
    }
}

macro_rules! sample {
    ($m:ident) => {
        Sample {
            name: $m::NAME,
            summary: $m::SUMMARY,
            build: $m::build,
        }
    };
}

/// Every sample, in the order `coroner-gen samples` writes them.
pub const SAMPLES: &[Sample] = &[
    sample!(t3_drop),
    sample!(chitter_oom),
    sample!(hachyderm),
    sample!(tecken_disk),
    sample!(redis_timewait),
];

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
        // Every file under the root is one we reported, so the comparison covers all.
        assert_eq!(walk(&a).len(), wa.len());
        assert!(wa.len() >= 5 * SAMPLES.len().min(3));
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
        // Each sample (its directory, story and numbers) stays under 1 MiB on disk.
        for s in SAMPLES {
            let total: u64 = wa
                .iter()
                .filter(|w| {
                    let rel = w.path.strip_prefix(&a).unwrap();
                    rel.starts_with(s.name)
                        || rel == Path::new(&format!("{}.md", s.name))
                        || rel == Path::new(&format!("{}.expected.json", s.name))
                })
                .map(|w| w.bytes)
                .sum();
            assert!(total < 1 << 20, "sample {} is {total} bytes", s.name);
        }
        // The bundle directories hold log files only.
        for s in SAMPLES {
            for f in walk(&a.join(s.name)) {
                let n = f.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    !n.ends_with(".md") && !n.ends_with(".json"),
                    "{}",
                    f.display()
                );
            }
        }
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
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
